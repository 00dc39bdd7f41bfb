// Bit-packed activation masks and their Gram block: where a layer's back-propagated
// factor is a 0/1 mask times constants of one magnitude c (a ReLU layer under a fixed
// ±c head), (B·Bᵀ)[i, j] = c²·popcount(mask_i AND mask_j), counted exactly in integers
// instead of a float64 product over m columns.
//
// Layout (shared with the TypeScript reference): row i of a packed mask is `words`
// 64-bit little-endian words at masks + 8·words·i; bit b of word w is column 64·w + b.

import { mirrorLower } from "./gram";

/**
 * Packs [z[i, j] ≥ 0] of the n×m block at z (leading dimension ldz) into bits, the
 * mask `reluMask` applies (NaN compares false, so it packs as 0). words = ⌈m/64⌉ per
 * row; bits past column m are 0. masks must not overlap z.
 */
export function packMask(n: i32, m: i32, z: usize, ldz: i32, masks: usize): void {
  const words = (m + 63) >> 6;
  for (let i = 0; i < n; i++) {
    const zr = z + ((<usize>i * <usize>ldz) << 3);
    const mr = masks + ((<usize>i * <usize>words) << 3);
    for (let w = 0; w < words; w++) {
      const j0 = w << 6;
      const end = min(64, m - j0);
      let bits: u64 = 0;
      let b = 0;
      // Two lanes per compare; f64x2.ge gives all-ones lanes, bitmask takes their sign bits.
      for (; b + 2 <= end; b += 2) {
        const v = v128.load(zr + (<usize>(j0 + b) << 3));
        bits |= <u64>i64x2.bitmask(f64x2.ge(v, f64x2.splat(0.0))) << <u64>b;
      }
      if (b < end && load<f64>(zr + (<usize>(j0 + b) << 3)) >= 0.0) bits |= <u64>1 << <u64>b;
      store<u64>(mr + (<usize>w << 3), bits);
    }
  }
}

/**
 * out[i, j] = alpha·popcount(mask_i AND mask_j) for the n packed rows at masks (each
 * `words` 64-bit words), the full symmetric n×n block (leading dimension ldo). The
 * counts are exact integers; each entry is one rounding of alpha·count. out must not
 * overlap masks.
 */
export function maskGram(n: i32, words: i32, masks: usize, alpha: f64, out: usize, ldo: i32): void {
  maskGramRows(0, n, words, masks, alpha, out, ldo);
  mirrorLower(n, out, ldo);
}

/**
 * The lower triangle (j ≤ i) of {@link maskGram}; the strict upper triangle is not written. For a
 * caller that mirrors once after summing several blocks, so the mirror here would be wasted.
 */
export function maskGramLower(n: i32, words: i32, masks: usize, alpha: f64, out: usize, ldo: i32): void {
  maskGramRows(0, n, words, masks, alpha, out, ldo);
}

/**
 * {@link relu} and {@link packMask} of the same n×m block in one pass over z = src[i·lds + j]:
 * dst[i·ldd + j] = (scale·z)·[z > 0] and bit j of row i of masks = [z ≥ 0] (NaN packs as 0), the
 * same bits as the two kernels give. masks: ⌈m/64⌉ 64-bit words per row, contiguous. dst may be
 * exactly src (ldd = lds) but must not otherwise overlap it; masks must overlap neither.
 */
export function reluPack(n: i32, m: i32, src: usize, lds: i32, scale: f64, dst: usize, ldd: i32, masks: usize): void {
  const s = f64x2.splat(scale), zero = f64x2.splat(0.0), one = f64x2.splat(1.0);
  const words = (m + 63) >> 6;
  for (let i = 0; i < n; i++) {
    const zr = src + ((<usize>i * <usize>lds) << 3);
    const dr = dst + ((<usize>i * <usize>ldd) << 3);
    const mr = masks + ((<usize>i * <usize>words) << 3);
    for (let w = 0; w < words; w++) {
      const j0 = w << 6;
      const end = min(64, m - j0);
      const zw = zr + (<usize>j0 << 3), dw = dr + (<usize>j0 << 3);
      let bits: u64 = 0;
      let b = 0;
      for (; b + 4 <= end; b += 4) {
        const o = <usize>b << 3;
        const z0 = v128.load(zw + o), z1 = v128.load(zw + o, 16);
        const p = <u64>(i64x2.bitmask(f64x2.ge(z0, zero)) | (i64x2.bitmask(f64x2.ge(z1, zero)) << 2));
        bits |= p << <u64>b;
        v128.store(dw + o, f64x2.mul(f64x2.mul(s, z0), v128.and(f64x2.gt(z0, zero), one)));
        v128.store(dw + o, f64x2.mul(f64x2.mul(s, z1), v128.and(f64x2.gt(z1, zero), one)), 16);
      }
      for (; b < end; b++) {
        const o = <usize>b << 3;
        const z = load<f64>(zw + o);
        if (z >= 0.0) bits |= <u64>1 << <u64>b;
        store<f64>(dw + o, (scale * z) * (z > 0.0 ? 1.0 : 0.0));
      }
      store<u64>(mr + (<usize>w << 3), bits);
    }
  }
}

/**
 * Rows i0 ≤ i < i1 of the lower triangle of {@link maskGram} (entries j ≤ i only; the upper
 * triangle is not written): a row panel that threads can run side by side. Writing along
 * rows only (and mirroring once afterwards) keeps the stores contiguous: column stores at a
 * power-of-two leading dimension all fall in one cache set.
 */
export function maskGramRows(i0: i32, i1: i32, words: i32, masks: usize, alpha: f64, out: usize, ldo: i32): void {
  const row = <usize>words << 3;
  const ld = <usize>ldo << 3;
  let i = i0;
  // Four rows of the lower triangle at a time, two columns j at a time: each load of a word of
  // mask_i serves two counts and each load of mask_j four.
  for (; i + 4 <= i1; i += 4) {
    const r0 = masks + <usize>i * row, r1 = r0 + row, r2 = r1 + row, r3 = r2 + row;
    const o0 = out + <usize>i * ld, o1 = o0 + ld, o2 = o1 + ld, o3 = o2 + ld;
    let j = 0;
    for (; j + 1 <= i + 3; j += 2) {
      const rj = masks + <usize>j * row, rk = rj + row;
      let s0: u64 = 0, s1: u64 = 0, s2: u64 = 0, s3: u64 = 0;
      let t0: u64 = 0, t1: u64 = 0, t2: u64 = 0, t3: u64 = 0;
      for (let o: usize = 0; o < row; o += 8) {
        const x = load<u64>(rj + o), y = load<u64>(rk + o);
        const a0 = load<u64>(r0 + o), a1 = load<u64>(r1 + o), a2 = load<u64>(r2 + o), a3 = load<u64>(r3 + o);
        s0 += popcnt<u64>(x & a0); t0 += popcnt<u64>(y & a0);
        s1 += popcnt<u64>(x & a1); t1 += popcnt<u64>(y & a1);
        s2 += popcnt<u64>(x & a2); t2 += popcnt<u64>(y & a2);
        s3 += popcnt<u64>(x & a3); t3 += popcnt<u64>(y & a3);
      }
      // Entries above the diagonal (column past the row) are skipped.
      const oj = <usize>j << 3, ok = oj + 8;
      if (j <= i) store<f64>(o0 + oj, alpha * <f64>s0);
      if (j + 1 <= i) store<f64>(o0 + ok, alpha * <f64>t0);
      if (j <= i + 1) store<f64>(o1 + oj, alpha * <f64>s1);
      if (j + 1 <= i + 1) store<f64>(o1 + ok, alpha * <f64>t1);
      if (j <= i + 2) store<f64>(o2 + oj, alpha * <f64>s2);
      if (j + 1 <= i + 2) store<f64>(o2 + ok, alpha * <f64>t2);
      store<f64>(o3 + oj, alpha * <f64>s3);
      store<f64>(o3 + ok, alpha * <f64>t3);
    }
    for (; j <= i + 3; j++) {
      const rj = masks + <usize>j * row;
      let s0: u64 = 0, s1: u64 = 0, s2: u64 = 0, s3: u64 = 0;
      for (let o: usize = 0; o < row; o += 8) {
        const x = load<u64>(rj + o);
        s0 += popcnt<u64>(x & load<u64>(r0 + o));
        s1 += popcnt<u64>(x & load<u64>(r1 + o));
        s2 += popcnt<u64>(x & load<u64>(r2 + o));
        s3 += popcnt<u64>(x & load<u64>(r3 + o));
      }
      // Rows of the block whose index is below j would be upper-triangle entries: skip them.
      const oj = <usize>j << 3;
      if (j <= i) store<f64>(o0 + oj, alpha * <f64>s0);
      if (j <= i + 1) store<f64>(o1 + oj, alpha * <f64>s1);
      if (j <= i + 2) store<f64>(o2 + oj, alpha * <f64>s2);
      store<f64>(o3 + oj, alpha * <f64>s3);
    }
  }
  for (; i < i1; i++) {
    const ri = masks + <usize>i * row, oi = out + <usize>i * ld;
    for (let j = 0; j <= i; j++) {
      const rj = masks + <usize>j * row;
      let s: u64 = 0;
      for (let o: usize = 0; o < row; o += 8) s += popcnt<u64>(load<u64>(rj + o) & load<u64>(ri + o));
      store<f64>(oi + (<usize>j << 3), alpha * <f64>s);
    }
  }
}
