// Level-1 vector kernels, float64, contiguous.

/**
 * Index of the first NaN or ±Infinity among x[0..len), or -1 when all are finite.
 * Used to reject bad inputs at the boundary and to keep NaN out of parameters.
 */
export function firstNonFinite(len: i32, x: usize): i32 {
  let i = 0;
  // x − x is 0 for finite x and NaN otherwise; NaN ≠ NaN flags it. Four lanes per test.
  for (; i + 4 <= len; i += 4) {
    const p = x + (<usize>i << 3);
    const a = v128.load(p), b = v128.load(p, 16);
    const da = f64x2.sub(a, a), db = f64x2.sub(b, b);
    if (v128.any_true(v128.or(f64x2.ne(da, da), f64x2.ne(db, db)))) break;
  }
  for (; i < len; i++) {
    const v = load<f64>(x + (<usize>i << 3));
    if (v - v != 0.0) return i;
  }
  return -1;
}
