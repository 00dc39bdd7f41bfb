// Element-wise kernels of the network layers: the ReLU and the mask that
// back-propagates through it. Memory-bound loops over n·width values, two f64x2
// vectors per iteration; the arithmetic is written in the same order as the
// plain-TypeScript reference (src/kernels/js/nn.ts), so both give the same bits.

import { madd } from "./gemm";

/**
 * dst[i·ldd + j] = (scale·z)·[z > 0] with z = src[i·lds + j], for 0 ≤ i < n and
 * 0 ≤ j < m: the ReLU of the pre-activations times the next layer's weight scale.
 * The mask is 1 or +0, so z ≤ 0 gives ±0 and NaN or −∞ give NaN (as (scale·z)·0
 * does). dst may be exactly src (with ldd = lds) but must not otherwise overlap it.
 */
export function relu(n: i32, m: i32, src: usize, lds: i32, scale: f64, dst: usize, ldd: i32): void {
  const s = f64x2.splat(scale), zero = f64x2.splat(0.0), one = f64x2.splat(1.0);
  for (let i = 0; i < n; i++) {
    const zr = src + ((<usize>i * <usize>lds) << 3);
    const dr = dst + ((<usize>i * <usize>ldd) << 3);
    let j = 0;
    for (; j + 4 <= m; j += 4) {
      const o = <usize>j << 3;
      const z0 = v128.load(zr + o), z1 = v128.load(zr + o, 16);
      v128.store(dr + o, f64x2.mul(f64x2.mul(s, z0), v128.and(f64x2.gt(z0, zero), one)));
      v128.store(dr + o, f64x2.mul(f64x2.mul(s, z1), v128.and(f64x2.gt(z1, zero), one)), 16);
    }
    for (; j < m; j++) {
      const o = <usize>j << 3;
      const z = load<f64>(zr + o);
      store<f64>(dr + o, (scale * z) * (z > 0.0 ? 1.0 : 0.0));
    }
  }
}

/**
 * Back-propagation through the ReLU for q stacked rows per example: row r of the
 * (n·q)×m block at b (contiguous) is multiplied entrywise by [z ≥ 0] of row ⌊r/q⌋
 * of the n×m block at z (contiguous). The mask is 1 or +0; a NaN in z compares
 * false, so it masks like a negative value. b must not overlap z.
 */
export function reluMask(n: i32, q: i32, m: i32, z: usize, b: usize): void {
  const zero = f64x2.splat(0.0), one = f64x2.splat(1.0);
  const row = <usize>m << 3;
  for (let i = 0; i < n; i++) {
    const zr = z + <usize>i * row;
    for (let c = 0; c < q; c++) {
      const br = b + (<usize>i * <usize>q + <usize>c) * row;
      let j = 0;
      for (; j + 4 <= m; j += 4) {
        const o = <usize>j << 3;
        const m0 = v128.and(f64x2.ge(v128.load(zr + o), zero), one);
        const m1 = v128.and(f64x2.ge(v128.load(zr + o, 16), zero), one);
        v128.store(br + o, f64x2.mul(v128.load(br + o), m0));
        v128.store(br + o, f64x2.mul(v128.load(br + o, 16), m1), 16);
      }
      for (; j < m; j++) {
        const o = <usize>j << 3;
        store<f64>(br + o, load<f64>(br + o) * (load<f64>(zr + o) >= 0.0 ? 1.0 : 0.0));
      }
    }
  }
}

/**
 * The back-propagation of a one-output dense layer into the ReLU below it, in one pass (the rank-1
 * GEMM and reluMask fused): for the (n·q) stacked rows r = i·q + c and 0 ≤ j < m,
 *   out[r·m + j] = ((0 + u[r]·w[j])·alpha)·[z[i·m + j] ≥ 0],
 * u the (n·q) back-propagated values of the layer's output, w its m weights (contiguous), alpha its
 * weight scale, z the n×m pre-activations of the ReLU layer. The product is the GEMM's rank-1 path's
 * arithmetic (fused multiply-add in the relaxed build), so the bits equal gemm then reluMask; NaN in z
 * masks like a negative value. out must not overlap u, w or z. Reads z once and writes out once, where
 * the two kernels wrote out, then read z and read and wrote out again.
 */
export function reluOuter(n: i32, q: i32, m: i32, alpha: f64, u: usize, w: usize, z: usize, out: usize): void {
  const va = f64x2.splat(alpha), zero = f64x2.splat(0.0), one = f64x2.splat(1.0);
  const row = <usize>m << 3;
  for (let i = 0; i < n; i++) {
    const zr = z + <usize>i * row;
    for (let c = 0; c < q; c++) {
      const r = <usize>i * <usize>q + <usize>c;
      const ur = v128.load64_splat(u + (r << 3));
      const orow = out + r * row;
      let j = 0;
      for (; j + 4 <= m; j += 4) {
        const o = <usize>j << 3;
        const m0 = v128.and(f64x2.ge(v128.load(zr + o), zero), one);
        const m1 = v128.and(f64x2.ge(v128.load(zr + o, 16), zero), one);
        v128.store(orow + o, f64x2.mul(f64x2.mul(madd(ur, v128.load(w + o), zero), va), m0));
        v128.store(orow + o, f64x2.mul(f64x2.mul(madd(ur, v128.load(w + o, 16), zero), va), m1), 16);
      }
      for (; j < m; j++) {
        const o = <usize>j << 3;
        const t = f64x2.mul(madd(ur, v128.load64_splat(w + o), zero), va);
        store<f64>(orow + o, f64x2.extract_lane(t, 0) * (load<f64>(zr + o) >= 0.0 ? 1.0 : 0.0));
      }
    }
  }
}
