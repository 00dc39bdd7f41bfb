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

describe.each(KERNEL_VARIANTS)('firstDifference and sqDistance on %s', (name) => {
  const sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 65, 257];

  test.each(sizes)('len %i: equal ranges → -1; a difference at every position is found first', async (len) => {
    const k = await kernelsFor(name);
    const a = k.alloc(len + 1), b = k.alloc(len + 1);
    const fill = () => {
      const h = k.f64();
      for (let i = 0; i < len; i++) h[(a >> 3) + i] = h[(b >> 3) + i] = [0.5, -3, 1e-300, NaN, 7][i % 5];
      h[(a >> 3) + len] = 1; // just past the end: must not be read
      h[(b >> 3) + len] = 2;
    };
    fill();
    expect(k.firstDifference(len, a, b)).toBe(-1);
    expect(k.firstDifference(len, a, a)).toBe(-1);
    for (let at = 0; at < len; at++) {
      fill();
      const h = k.f64();
      // The smallest change a value can have, and the one === cannot see: −0 against +0.
      h[(b >> 3) + at] = at % 2 ? -0 : h[(b >> 3) + at] === 0.5 ? 0.5 + 2 ** -53 : 0;
      h[(a >> 3) + at] = at % 2 ? 0 : h[(a >> 3) + at];
      if (at + 1 < len) h[(b >> 3) + at + 1] = 99; // a later difference must not win
      expect(k.firstDifference(len, a, b)).toBe(at);
    }
    k.free(a);
    k.free(b);
  });

  test.each(sizes)('len %i: sqDistance is Σ(a − b)² added in index order, the same bits on both backends', async (len) => {
    const k = await kernelsFor(name);
    const a = k.alloc(len), b = k.alloc(len);
    const h = k.f64();
    const x: number[] = [], y: number[] = [];
    for (let i = 0; i < len; i++) {
      x.push(Math.sin(1.7 * i + 0.3) * 10 ** ((i % 7) - 3));
      y.push(Math.cos(0.9 * i) * 10 ** ((i % 5) - 2));
      h[(a >> 3) + i] = x[i];
      h[(b >> 3) + i] = y[i];
    }
    let want = 0;
    for (let i = 0; i < len; i++) {
      const d = x[i] - y[i];
      want += d * d;
    }
    expect(Object.is(k.sqDistance(len, a, b), want)).toBe(true);
    expect(k.sqDistance(len, a, a)).toBe(0);
    k.free(a);
    k.free(b);
  });
});
