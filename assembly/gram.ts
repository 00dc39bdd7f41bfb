// Symmetric rank-k update (Gram matrices) and the elementwise (Hadamard) product.
import { gemmRows } from "./gemm";

/**
 * C ← alpha·A·Aᵀ + beta·C (trans = 0; A is n×k, lda ≥ k) or
 * C ← alpha·Aᵀ·A + beta·C (trans = 1; A is k×n, lda ≥ n). C is n×n, ldc ≥ n.
 * Only the lower triangle is computed (through the GEMM driver in lower-only mode,
 * about half the flops of a full product); it is then mirrored so all of C is
 * written and C is exactly symmetric. The strict upper triangle of C is never
 * read: with beta ≠ 0 the old lower triangle stands for the whole old C.
 * beta = 0 does not read C. C must not overlap A.
 */
export function syrk(trans: i32, n: i32, k: i32, alpha: f64, a: usize, lda: i32, beta: f64, c: usize, ldc: i32): void {
  if (n <= 0) return;
  // B = op(A)ᵀ is A read with swapped strides.
  if (trans) gemmRows(0, n, n, k, alpha, a, 1, lda, a, lda, 1, beta, c, ldc, true);
  else gemmRows(0, n, n, k, alpha, a, lda, 1, a, 1, lda, beta, c, ldc, true);
  mirrorLower(n, c, ldc);
}

/**
 * Side of the square blocks the mirror copies through, so both the rows read and the columns written
 * stay in cache. Small on purpose: with a power-of-two leading dimension (n = 512: 4 KiB rows) every
 * column written maps to one L1 set, and a 32-row block overflowed its ways (0.95 ms at n = 512 against
 * 0.05 ms at n = 500; 8 gives 0.36 ms, measured on Node 24, AMD EPYC family 26).
 */
const MIRROR_BLOCK = 8;

/** Copies the strict lower triangle of the n×n matrix at c (leading dimension ldc) onto its upper triangle. */
export function mirrorLower(n: i32, c: usize, ldc: i32): void {
  mirrorLowerRows(0, n, c, ldc);
}

/**
 * The rows i0 ≤ i < i1 of {@link mirrorLower}: C[j, i] ← C[i, j] for every j < i. Row panels
 * write disjoint columns of the upper triangle and read only the lower one, so threads can run
 * them side by side; the panels [0, n) cover mirrorLower(n).
 */
export function mirrorLowerRows(i0: i32, i1: i32, c: usize, ldc: i32): void {
  const ld = <usize>ldc << 3;
  for (let ib = i0; ib < i1; ib += MIRROR_BLOCK) {
    const iEnd = min(i1, ib + MIRROR_BLOCK);
    for (let jb = 0; jb < iEnd - 1; jb += MIRROR_BLOCK) {
      for (let i = max(ib, jb + 1); i < iEnd; i++) {
        const jEnd = min(i, jb + MIRROR_BLOCK);
        const src = c + <usize>i * ld;
        let dst = c + (<usize>i << 3) + <usize>jb * ld;
        for (let j = jb; j < jEnd; j++) {
          store<f64>(dst, load<f64>(src + (<usize>j << 3)));
          dst += ld;
        }
      }
    }
  }
}

/**
 * out[i] = a[i]·b[i] for 0 ≤ i < len (contiguous). out may be the same pointer as
 * a and/or b; partial overlaps are not allowed.
 */
export function hadamard(len: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 3;
    const x0 = f64x2.mul(v128.load(a + o), v128.load(b + o));
    const x1 = f64x2.mul(v128.load(a + o, 16), v128.load(b + o, 16));
    v128.store(out + o, x0);
    v128.store(out + o, x1, 16);
  }
  for (; i < len; i++) {
    const o = <usize>i << 3;
    store<f64>(out + o, load<f64>(a + o) * load<f64>(b + o));
  }
}
