import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';

describe.each(KERNEL_VARIANTS)('firstNonFinite on %s', (name) => {
  const sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 33, 64, 65, 255, 256, 257, 520];

  test.each(sizes)('all finite, len %i → -1 (extremes included)', async (len) => {
    const k = await kernelsFor(name);
    const p = k.alloc(len + 4);
    const h = k.f64();
    for (let i = 0; i < len; i++) h[(p >> 3) + i] = [0, -0, 1e308, -1e308, 5e-324, 1.5][i % 6];
    h[(p >> 3) + len] = NaN; // just past the end: must not be read
    expect(k.firstNonFinite(len, p)).toBe(-1);
    k.free(p);
  });

  test.each(sizes.filter((s) => s > 0))('len %i: finds the first bad value at every position', async (len) => {
    const k = await kernelsFor(name);
    const p = k.alloc(len);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (let at = 0; at < len; at++) {
        const h = k.f64();
        h.fill(1, p >> 3, (p >> 3) + len);
        h[(p >> 3) + at] = bad;
        if (at + 2 < len) h[(p >> 3) + at + 2] = NaN; // a later one must not win
        expect(k.firstNonFinite(len, p)).toBe(at);
      }
    }
    k.free(p);
  });
});
