// Checks the burnt-in clock on one decoded frame: node check-clock.mjs FRAME.gray WIDTH T0_MS T1_MS
// FRAME.gray is the frame as raw 8-bit gray (ffmpeg -i frame.png -f rawvideo -pix_fmt gray), T0..T1 the wall-clock
// interval (ms) in which the frame was made. Prints one JSON line; exits 1 if the clock is unreadable or outside.
import { readFileSync } from 'node:fs';
import './clock.js';

const [file, widthArg, t0Arg, t1Arg] = process.argv.slice(2);
const width = Number(widthArg), t0 = Number(t0Arg), t1 = Number(t1Arg);
if (!file || !(width > 0) || !(t0 > 0) || !(t1 >= t0)) {
  console.error('usage: node check-clock.mjs FRAME.gray WIDTH T0_MS T1_MS');
  process.exit(2);
}
const value = globalThis.decodeClock(globalThis.clockLumaReader(readFileSync(file), width, 1));
const result = { value };
if (value === null) {
  result.error = 'the clock could not be read from the frame';
} else {
  result.msAfterStart = globalThis.clockAge(value, t1) <= t1 - t0 ? t1 - t0 - globalThis.clockAge(value, t1) : null;
  if (result.msAfterStart === null) {
    result.error = `decoded ${value} is not within the ${t1 - t0} ms the frame was made in (${t0 % 2 ** 40}..${t1 % 2 ** 40})`;
  }
}
console.log(JSON.stringify(result));
process.exit(result.error ? 1 : 0);
