// Plays one stream in Debian's Chromium (headless) with the player a format needs, and reports one JSON line.
// Usage: node watch.mjs STREAM-URL KIND [seconds]
//   KIND: img     an <img> showing the stream (multipart JPEG, or one JPEG)
//         mpegts  a <video> fed by mpegts.js (npm) from an MPEG-TS stream
//         mse     a <video> fed through Media Source Extensions from a fragmented MP4 stream (H.264 + AAC)
// The page is served at the stream's own origin (Playwright answers /__watch.html itself), as browsers refuse
// media from another origin to a page on about:blank.
import { launch } from './chromium.mjs';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [url, kind, secondsArg] = process.argv.slice(2);
const watchSeconds = Number(secondsArg ?? 4);
if (!url || !['img', 'mpegts', 'mse'].includes(kind)) {
  console.error('usage: node watch.mjs URL img|mpegts|mse [seconds]');
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const origin = new URL(url).origin;
const pages = {
  img: `<img id="m" src="${url}">`,
  mpegts: `<video id="m" muted autoplay playsinline></video><script src="/__mpegts.js"></script><script>
    const p = mpegts.createPlayer({ type: 'mpegts', isLive: true, url: ${JSON.stringify(url)} }, { enableWorker: false, liveBufferLatencyChasing: false });
    p.on(mpegts.Events.ERROR, (t, d) => window.__errors.push('mpegts.js: ' + t + ' ' + d));
    p.attachMediaElement(document.getElementById('m')); p.load(); p.play();</script>`,
  mse: `<video id="m" muted autoplay playsinline></video><script>
    const v = document.getElementById('m'); const ms = new MediaSource(); v.src = URL.createObjectURL(ms);
    ms.addEventListener('sourceopen', async () => {
      const sb = ms.addSourceBuffer('video/mp4; codecs="avc1.64001f,mp4a.40.2"'); sb.mode = 'segments';
      const reader = (await fetch(${JSON.stringify(url)})).body.getReader(); const queue = [];
      const pump = () => { if (!sb.updating && queue.length) sb.appendBuffer(queue.shift()); };
      sb.addEventListener('updateend', () => { pump(); if (v.paused && sb.buffered.length) { v.currentTime = Math.max(v.currentTime, sb.buffered.start(0)); v.play().catch(e => window.__errors.push(String(e))); } });
      sb.addEventListener('error', () => window.__errors.push('SourceBuffer error'));
      for (;;) { const { value, done } = await reader.read(); if (done) break; queue.push(value); pump(); }
    });</script>`,
};

const { context, close } = await launch();
const result = { url, kind, errors: [] };
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', e => result.errors.push(String(e)));
  await page.route(`${origin}/__watch.html`, route => route.fulfill({
    contentType: 'text/html', body: `<!DOCTYPE html><html><body><script>window.__errors = [];</script>${pages[kind]}</body></html>`,
  }));
  await page.route(`${origin}/__mpegts.js`, route => route.fulfill({
    contentType: 'text/javascript', body: readFileSync(join(here, 'node_modules', 'mpegts.js', 'dist', 'mpegts.js')),
  }));
  await page.goto(`${origin}/__watch.html`, { timeout: 15000 });
  const read = () => page.evaluate(() => {
    const m = document.getElementById('m');
    const base = { errors: window.__errors };
    if (m.tagName === 'IMG') {
      return { ...base, width: m.naturalWidth, height: m.naturalHeight, complete: m.complete };
    }
    return { ...base, currentTime: m.currentTime, paused: m.paused, readyState: m.readyState, width: m.videoWidth, height: m.videoHeight, error: m.error ? `${m.error.code} ${m.error.message}` : null };
  });
  if (kind === 'img') {
    await page.waitForFunction(() => document.getElementById('m').naturalWidth > 0, null, { timeout: 20000, polling: 50 })
      .catch(() => result.errors.push('the image did not show within 20 s'));
  } else {
    await page.waitForFunction(() => { const v = document.getElementById('m'); return !v.paused && v.readyState >= 3 && v.currentTime > 0; },
      null, { timeout: 20000, polling: 50 }).catch(() => result.errors.push('the video did not start playing within 20 s'));
  }
  result.start = await read();
  await page.waitForTimeout(watchSeconds * 1000);
  result.end = await read();
  result.errors.push(...result.end.errors);
  if (kind !== 'img') {
    result.advanced = result.end.currentTime - result.start.currentTime;
  }
} catch (e) {
  result.errors.push(String(e));
} finally {
  await close();
}
console.log(JSON.stringify(result));
