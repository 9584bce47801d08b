// Markdown table of glass-to-glass results: node table.mjs LATENCY.jsonl
// Each line is g2g.mjs's JSON with a "label" (the server) added by bench/hls.sh.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node table.mjs LATENCY.jsonl');
  process.exit(2);
}
const rows = readFileSync(file, 'utf8').split('\n').filter(l => l.trim().startsWith('{')).map(l => JSON.parse(l));
const modes = { hls: 'hls.js defaults', sync1: 'hls.js liveSyncDurationCount 1', ll: 'hls.js lowLatencyMode (LL-HLS)' };
const f = v => (v === null || v === undefined ? '–' : (v / 1000).toFixed(2));
console.log('| server | player | median s | p10 s | p90 s | min s | max s | each join\'s median s | samples | unreadable frames | stalls (waiting) | slowest start-up s | errors |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  const errors = [...new Set(r.errors ?? [])].join('; ').replaceAll('|', '/') || 'none';
  console.log(`| ${r.label} | ${modes[r.mode] ?? r.mode} | ${f(r.medianMs)} | ${f(r.p10Ms)} | ${f(r.p90Ms)} | ${f(r.minMs)} | ${f(r.maxMs)} | ${(r.joinMedianMs ?? []).map(f).join(', ') || '–'} | ${r.samples ?? 0} | ${r.unreadable ?? '–'} | ${r.waiting ?? '–'} | ${f(r.startupMs)} | ${errors} |`);
}
console.log();
for (const r of rows.filter(r => r.label === 'sluice' && r.mode === 'll')) {
  const met = r.medianMs !== null && r.medianMs !== undefined && r.medianMs < 1500;
  console.log(`- Target, LL-HLS glass-to-glass under 1.5 s on loopback: ${met ? 'met' : 'NOT met'} (median ${f(r.medianMs)} s).`);
}
