// Glass-to-glass latency of a live HLS stream in Debian's Chromium (headless), played by hls.js.
// Usage: node g2g.mjs PLAYLIST-URL hls|sync1|ll [seconds] [warmup-seconds] [joins]
//   hls    hls.js defaults for plain HLS (lowLatencyMode off: it only matters for playlists with parts)
//   sync1  the same with liveSyncDurationCount: 1 (start and stay one segment behind the live edge)
//   ll     lowLatencyMode: true (LL-HLS parts and blocking reloads when the playlist offers them)
// The publisher burns the wall clock into the picture (clock.js says how); every 100 ms the page draws the shown
// frame's top rows to a canvas, reads the clock back and records Date.now() minus it. One JSON line: median and
// spread over the samples after the warm-up, unreadable frames, stalls (<video> 'waiting' events), hls.js errors.
// Where a player joins within the segment being written moves its latency by up to a segment for as long as it
// plays (hls.js does not catch up by default), so the page is loaded afresh `joins` times (default 4), each join
// warmed up and then sampled for seconds/joins; the figures are over all samples, and each join's median is listed.
// The page is served at the playlist's own origin (Playwright answers /__g2g.html itself): Chromium refuses media
// from another origin to a page on about:blank.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [url, mode, secondsArg, warmupArg, joinsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 20);
const warmup = Number(warmupArg ?? 5);
const joins = Number(joinsArg ?? 4);
const configs = {
  hls: { lowLatencyMode: false },
  sync1: { lowLatencyMode: false, liveSyncDurationCount: 1 },
  ll: { lowLatencyMode: true },
};
if (!url || !(mode in configs) || !(seconds > 0) || !(warmup >= 0) || !(Number.isInteger(joins) && joins > 0)) {
  console.error('usage: node g2g.mjs PLAYLIST-URL hls|sync1|ll [seconds] [warmup-seconds] [joins]');
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const origin = new URL(url).origin;
const page_html = `<!DOCTYPE html><html><body>
<video id="v" muted autoplay playsinline></video>
<script src="/__clock.js"></script><script src="/__hls.js"></script><script>
window.__errors = []; window.__samples = []; window.__unreadable = 0; window.__waiting = 0; window.__sampling = false;
const v = document.getElementById('v');
v.addEventListener('waiting', () => { if (window.__sampling) window.__waiting++; });
const hls = new Hls(${JSON.stringify(configs[mode])});
hls.on(Hls.Events.ERROR, (e, d) => window.__errors.push((d.fatal ? 'fatal ' : '') + d.type + ' ' + d.details));
hls.loadSource(${JSON.stringify(url)});
hls.attachMedia(v);
hls.on(Hls.Events.MANIFEST_PARSED, () => v.play().catch(e => window.__errors.push(String(e))));
window.__hlsVersion = Hls.version;
const canvas = document.createElement('canvas');
canvas.width = 1280; canvas.height = CLOCK_ROWS;
const ctx = canvas.getContext('2d', { willReadFrequently: true });
setInterval(() => {
  if (!window.__sampling || v.readyState < 2 || !v.videoWidth) return;
  const rows = CLOCK_ROWS * v.videoHeight / 720;
  ctx.drawImage(v, 0, 0, v.videoWidth, rows, 0, 0, 1280, CLOCK_ROWS);
  const now = Date.now();
  const value = decodeClock(clockLumaReader(ctx.getImageData(0, 0, 1280, CLOCK_ROWS).data, 1280, 4));
  if (value === null) { window.__unreadable++; return; }
  window.__samples.push(clockAge(value, now));
}, 100);
</script></body></html>`;

const userDataDir = mkdtempSync(join(tmpdir(), 'sluice-g2g-'));
const result = { url, mode, errors: [] };
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', e => result.errors.push(String(e)));
  await page.route(`${origin}/__g2g.html`, route => route.fulfill({ contentType: 'text/html', body: page_html }));
  await page.route(`${origin}/__clock.js`, route => route.fulfill({
    contentType: 'text/javascript', body: readFileSync(join(here, 'clock.js')) }));
  await page.route(`${origin}/__hls.js`, route => route.fulfill({
    contentType: 'text/javascript', body: readFileSync(join(here, 'node_modules', 'hls.js', 'dist', 'hls.min.js')) }));
  const all = { samples: [], unreadable: 0, waiting: 0, errors: [], startups: [], joinMedians: [] };
  for (let j = 0; j < joins; j++) {
    const started = Date.now();
    await page.goto(`${origin}/__g2g.html`, { timeout: 15000 });
    await page.waitForFunction(() => { const v = document.getElementById('v'); return !v.paused && v.readyState >= 3 && v.currentTime > 0; },
      null, { timeout: 30000, polling: 50 });
    all.startups.push(Date.now() - started);
    await page.waitForTimeout(warmup * 1000);
    await page.evaluate(() => { window.__sampling = true; });
    await page.waitForTimeout(seconds * 1000 / joins);
    const seen = await page.evaluate(() => ({
      samples: window.__samples, unreadable: window.__unreadable, waiting: window.__waiting,
      errors: window.__errors, hlsVersion: window.__hlsVersion,
    }));
    const sorted = seen.samples.slice().sort((a, b) => a - b);
    all.joinMedians.push(sorted.length ? sorted[Math.ceil(sorted.length / 2) - 1] : null);
    all.samples.push(...seen.samples);
    all.unreadable += seen.unreadable;
    all.waiting += seen.waiting;
    all.errors.push(...seen.errors);
    all.hlsVersion = seen.hlsVersion;
  }
  const seen = all;
  result.startupMs = Math.max(...all.startups);
  result.joinMedianMs = all.joinMedians;
  const s = seen.samples.slice().sort((a, b) => a - b);
  const at = p => s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] : null;
  Object.assign(result, {
    hlsVersion: seen.hlsVersion, samples: s.length, unreadable: seen.unreadable, waiting: seen.waiting,
    medianMs: at(0.5), p10Ms: at(0.1), p90Ms: at(0.9), minMs: s[0] ?? null, maxMs: s[s.length - 1] ?? null,
  });
  result.errors.push(...seen.errors);
  if (s.length === 0) result.errors.push('no frame with a readable clock');
} catch (e) {
  result.errors.push(String(e));
} finally {
  await context?.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.samples > 0 ? 0 : 1);
