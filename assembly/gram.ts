// Symmetric rank-k update (Gram matrices) and the elementwise (Hadamard) product.
import { gemmAcc, scaleC } from "./gemm";

/**
 * C ← alpha·A·Aᵀ + beta·C (trans = 0; A is n×k, lda ≥ k) or
 * C ← alpha·Aᵀ·A + beta·C (trans = 1; A is k×n, lda ≥ n). C is n×n, ldc ≥ n.
 * Only the lower triangle is computed; it is then mirrored so all of C is written.
 * C must not overlap A.
 */
export function syrk(trans: i32, n: i32, k: i32, alpha: f64, a: usize, lda: i32, beta: f64, c: usize, ldc: i32): void {
  if (n <= 0) return;
  scaleC(n, n, beta, c, ldc);
  if (k > 0 && alpha != 0.0) {
    // B = op(A)ᵀ is A read with swapped strides.
    if (trans) gemmAcc(n, n, k, alpha, a, 1, lda, a, lda, 1, c, ldc, true);
    else gemmAcc(n, n, k, alpha, a, lda, 1, a, 1, lda, c, ldc, true);
  }
  mirrorLower(n, c, ldc);
}

/** Copies the strict lower triangle of the n×n matrix at c onto its upper triangle. */
export function mirrorLower(n: i32, c: usize, ldc: i32): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      store<f64>(c + (<usize>(j * ldc + i) << 3), load<f64>(c + (<usize>(i * ldc + j) << 3)));
    }
  }
}

/** out[i] = a[i]·b[i] for 0 ≤ i < len (contiguous). out may alias a and/or b. */
export function hadamard(len: i32, a: usize, b: usize, out: usize): void {
  for (let i = 0; i < len; i++) {
    const o = <usize>i << 3;
    store<f64>(out + o, load<f64>(a + o) * load<f64>(b + o));
  }
}
