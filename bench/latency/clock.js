// The wall clock burnt into the picture by bench/hls.sh's publisher, read back.
// The top 64 rows of the 1280x720 picture hold 40 blocks of 32x32 pixels: row one is the wall-clock time in
// milliseconds modulo 2^40 (white = 1, most significant bit first), row two the same bits inverted, so a frame that
// was not read cleanly (a block neither black nor white, a smeared frame) is refused instead of misread.
// Works in a page (a plain script, defines globalThis.decodeClock) and in Node (import for its side effect).
(function (root) {
  const BITS = 40;
  const BLOCK = 32;
  const MODULUS = 2 ** BITS;

  // lumaAt(x, y): mean luma 0..255 of the 8x8 patch centred on (x, y), in 1280x720 picture coordinates.
  function decodeClock(lumaAt) {
    let value = 0;
    for (let i = 0; i < BITS; i++) {
      const x = i * BLOCK + BLOCK / 2;
      const bit = lumaAt(x, BLOCK / 2);
      const inverse = lumaAt(x, BLOCK + BLOCK / 2);
      const one = bit > 160 && inverse < 96;
      const zero = bit < 96 && inverse > 160;
      if (!one && !zero) {
        return null;
      }
      value = value * 2 + (one ? 1 : 0);
    }
    return value;
  }

  // How long ago (ms) a decoded clock value was, given the wall clock now (ms since the epoch).
  function clockAge(value, nowMs) {
    return ((nowMs % MODULUS) - value + MODULUS) % MODULUS;
  }

  // A lumaAt over an RGBA (canvas) or one-byte-a-pixel (gray) buffer covering the picture's top rows,
  // scaled from 1280-wide picture coordinates to the buffer's width.
  function lumaReader(data, width, channels) {
    const scale = width / 1280;
    return (x, y) => {
      let sum = 0;
      let n = 0;
      for (let dy = -4; dy < 4; dy++) {
        for (let dx = -4; dx < 4; dx++) {
          const px = Math.round((x + dx) * scale);
          const py = Math.round((y + dy) * scale);
          const o = (py * width + px) * channels;
          sum += channels === 1 ? data[o] : 0.299 * data[o] + 0.587 * data[o + 1] + 0.114 * data[o + 2];
          n++;
        }
      }
      return sum / n;
    };
  }

  root.decodeClock = decodeClock;
  root.clockAge = clockAge;
  root.clockLumaReader = lumaReader;
  root.CLOCK_ROWS = 2 * BLOCK;
})(globalThis);
