// Level-1 vector kernels, float64, contiguous.

/** Values screened per block before the running check; a hit rescans only its block. */
const BLOCK = 256;

/**
 * Index of the first NaN or ±Infinity among x[0..len), or -1 when all are finite.
 * Used to reject bad inputs at the boundary and to keep NaN out of parameters.
 */
export function firstNonFinite(len: i32, x: usize): i32 {
  // x − x is 0 for finite x and NaN otherwise, and NaN survives addition: four
  // independent sums per block flag a bad value with one test per BLOCK values.
  let start = 0;
  for (; start + BLOCK <= len; start += BLOCK) {
    let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
    const end = x + (<usize>(start + BLOCK) << 3);
    for (let p = x + (<usize>start << 3); p < end; p += 64) {
      const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
      s0 = f64x2.add(s0, f64x2.sub(a, a));
      s1 = f64x2.add(s1, f64x2.sub(b, b));
      s2 = f64x2.add(s2, f64x2.sub(c, c));
      s3 = f64x2.add(s3, f64x2.sub(d, d));
    }
    const s = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
    if (v128.any_true(f64x2.ne(s, s))) break;
  }
  for (let i = start; i < len; i++) {
    const v = load<f64>(x + (<usize>i << 3));
    if (v - v != 0.0) return i;
  }
  return -1;
}

/**
 * Index of the first i < len where the 64-bit patterns of a[i] and b[i] differ (so −0 ≠ +0 and
 * NaNs compare by payload), or -1 when the two ranges hold the same bits. a and b may overlap.
 */
export function firstDifference(len: i32, a: usize, b: usize): i32 {
  let i = 0;
  // Eight values per test: one branch per 64 bytes; a hit rescans only its block.
  for (; i + 8 <= len; i += 8) {
    const p = <usize>i << 3;
    const d0 = v128.xor(v128.load(a + p), v128.load(b + p));
    const d1 = v128.xor(v128.load(a + p, 16), v128.load(b + p, 16));
    const d2 = v128.xor(v128.load(a + p, 32), v128.load(b + p, 32));
    const d3 = v128.xor(v128.load(a + p, 48), v128.load(b + p, 48));
    if (v128.any_true(v128.or(v128.or(d0, d1), v128.or(d2, d3)))) break;
  }
  for (; i < len; i++) {
    const p = <usize>i << 3;
    if (load<u64>(a + p) != load<u64>(b + p)) return i;
  }
  return -1;
}

/**
 * Σ (a[i] − b[i])² over i < len, added in index order (the order is part of the contract: the
 * TypeScript reference and the step statistics pinned before this kernel give the same bits).
 * a and b may overlap.
 */
export function sqDistance(len: i32, a: usize, b: usize): f64 {
  let s = 0.0;
  for (let i = 0; i < len; i++) {
    const p = <usize>i << 3;
    const d = load<f64>(a + p) - load<f64>(b + p);
    s += d * d;
  }
  return s;
}
