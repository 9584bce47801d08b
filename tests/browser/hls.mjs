// Plays HLS in Debian's Chromium (headless) and samples the video twice a second; reports one JSON line.
// Usage: node hls.mjs URL page|native [seconds]
//   page    URL is a Sluice / page: its first video.hls plays through the hls.js the server embeds (low-latency mode)
//   native  URL is a playlist: a <video src=URL> on a page of the same origin, Chromium's own HLS
import { launch } from './chromium.mjs';

const [url, mode, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 10);
if (!url || !['page', 'native'].includes(mode)) {
  console.error('usage: node hls.mjs URL page|native [seconds]');
  process.exit(2);
}

const origin = new URL(url).origin;
const { context, close } = await launch();
const result = { url, mode, errors: [], samples: [] };
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', e => result.errors.push(String(e)));
  if (mode === 'native') {
    await page.route(`${origin}/__native.html`, route => route.fulfill({
      contentType: 'text/html',
      body: `<!DOCTYPE html><html><body><video class="hls" muted autoplay playsinline src="${url}"></video></body></html>`,
    }));
    await page.goto(`${origin}/__native.html`, { timeout: 15000 });
  } else {
    await page.goto(url, { timeout: 15000 });
  }

  // Waiting events once playback has begun (a stall the player had to wait out), counted on the page.
  await page.evaluate(() => {
    const v = document.querySelector('video.hls');
    window.waitsAfterPlaying = 0;
    v.addEventListener('playing', () => { window.playedOnce = true; });
    window.waitLog = [];
    const t0 = Date.now();
    const ahead = () => { const b = v.buffered; for (let i = 0; i < b.length; i++) { if (b.start(i) <= v.currentTime + 0.05 && v.currentTime <= b.end(i)) return b.end(i) - v.currentTime; } return 0; };
    v.addEventListener('seeking', () => { window.waitLog.push(`seek at ${((Date.now() - t0) / 1000).toFixed(1)} s to ${v.currentTime.toFixed(2)}`); });
    v.addEventListener('waiting', () => {
      if (window.playedOnce) {
        window.waitsAfterPlaying++;
        window.waitLog.push(`wait at ${((Date.now() - t0) / 1000).toFixed(1)} s, ${v.currentTime.toFixed(2)}, ${ahead().toFixed(2)} s buffered ahead${v.seeking ? ', seeking' : ''}`);
      }
    });
  });

  const started = Date.now();
  const sample = () => page.evaluate(() => {
    const v = document.querySelector('video.hls');
    const latency = v.dataset.latency ? Number(v.dataset.latency) : null;
    return { currentTime: v.currentTime, paused: v.paused, readyState: v.readyState, width: v.videoWidth, latency, hlsjs: !!v.hls, hlsErrors: (window.hlsErrors || []).slice(-5),
      error: v.error ? `${v.error.code} ${v.error.message}` : null };
  });
  while (Date.now() - started < seconds * 1000) {
    result.samples.push({ t: (Date.now() - started) / 1000, ...(await sample()) });
    await page.waitForTimeout(500);
  }

  // The whole run: every hls.js error (bufferStalledError, bufferSeekOverHole, bufferNudgeOnStall, ...), the waits,
  // and the frames the compositor dropped.
  result.final = await page.evaluate(() => {
    const v = document.querySelector('video.hls');
    const quality = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    return { hlsErrors: window.hlsErrors || [], waitsAfterPlaying: window.waitsAfterPlaying ?? null, waitLog: window.waitLog || [],
      droppedVideoFrames: quality ? quality.droppedVideoFrames : null, totalVideoFrames: quality ? quality.totalVideoFrames : null };
  });
} catch (e) {
  result.errors.push(String(e));
} finally {
  await close();
}
console.log(JSON.stringify(result));
