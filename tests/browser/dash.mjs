// Plays a live DASH manifest with dash.js (npm) in Debian's Chromium (headless); samples the video twice a second and
// reports one JSON line.
// Usage: node dash.mjs MPD-URL [seconds]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './chromium.mjs';

const [url, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 10);
if (!url) {
  console.error('usage: node dash.mjs MPD-URL [seconds]');
  process.exit(2);
}

// The UMD build, read from the package folder (the package does not export its dist files by name).
const dashJs = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'node_modules/dashjs/dist/modern/umd/dash.all.min.js'));
const origin = new URL(url).origin;
const { context, close } = await launch();
const result = { url, errors: [], dashErrors: [], samples: [] };
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', e => result.errors.push(String(e)));
  await page.route(`${origin}/__dash.js`, route => route.fulfill({ contentType: 'text/javascript', body: dashJs }));
  await page.route(`${origin}/__dash.html`, route => route.fulfill({
    contentType: 'text/html',
    body: `<!DOCTYPE html><html><body><video muted autoplay playsinline></video><script src="/__dash.js"></script><script>
      window.dashErrors = [];
      const player = dashjs.MediaPlayer().create();
      player.on(dashjs.MediaPlayer.events.ERROR, e => window.dashErrors.push(JSON.stringify(e.error ?? e).slice(0, 300)));
      player.initialize(document.querySelector('video'), ${JSON.stringify(url)}, true);
    </script></body></html>`,
  }));
  await page.goto(`${origin}/__dash.html`, { timeout: 15000 });
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    result.samples.push({
      t: (Date.now() - started) / 1000,
      ...(await page.evaluate(() => {
        const v = document.querySelector('video');
        return { currentTime: v.currentTime, paused: v.paused, readyState: v.readyState, width: v.videoWidth, error: v.error ? `${v.error.code} ${v.error.message}` : null };
      })),
    });
    await page.waitForTimeout(500);
  }
  result.dashErrors = await page.evaluate(() => window.dashErrors);
} catch (e) {
  result.errors.push(String(e));
} finally {
  await close();
}
console.log(JSON.stringify(result));
