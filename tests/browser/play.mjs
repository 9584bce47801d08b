// Opens a page in Debian's Chromium (headless) and reports how its first <video> plays, as one JSON line.
// Usage: node play.mjs URL [seconds-to-watch]
import { launch } from './chromium.mjs';

const url = process.argv[2];
const watchSeconds = Number(process.argv[3] ?? 5);
if (!url) {
  console.error('usage: node play.mjs URL [seconds]');
  process.exit(2);
}

const { context, close } = await launch();
const result = { url, errors: [] };
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', e => result.errors.push(String(e)));
  const loadedAt = Date.now();
  await page.goto(url, { timeout: 15000 });
  await page.waitForSelector('video', { timeout: 10000 });
  // Wait until the video is playing (not paused, with data ahead), then watch currentTime advance.
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && !v.paused && v.readyState >= 3 && v.currentTime > 0;
  }, null, { timeout: 20000, polling: 50 }).catch(() => result.errors.push('the video did not start playing within 20 s'));
  result.secondsToPlay = (Date.now() - loadedAt) / 1000;
  const read = () => page.evaluate(() => {
    const v = document.querySelector('video');
    return {
      currentTime: v.currentTime, readyState: v.readyState, paused: v.paused,
      videoWidth: v.videoWidth, videoHeight: v.videoHeight,
      error: v.error ? `${v.error.code} ${v.error.message}` : null,
    };
  });
  const start = await read();
  const startedAt = Date.now();
  await page.waitForTimeout(watchSeconds * 1000);
  const end = await read();
  result.start = start;
  result.end = end;
  result.wallSeconds = (Date.now() - startedAt) / 1000;
  result.advanced = end.currentTime - start.currentTime;
} catch (e) {
  result.errors.push(String(e));
} finally {
  await close();
}
console.log(JSON.stringify(result));
