// General matrix multiply, float64, row-major.

/**
 * Accumulating driver shared by gemm, syrk and the blocked Cholesky update:
 *   C[i, j] += alpha * Σ_p A[i, p] · B[p, j]   for 0 ≤ i < m, 0 ≤ j < n
 * where A[i, p] is at a + 8·(i·rsa + p·csa) and B[p, j] at b + 8·(p·rsb + j·csb)
 * (strides in elements, so a transpose is a swap of strides), and C is row-major
 * with leading dimension ldc. With `lowerOnly`, only entries with j ≤ i are
 * written (the rest of C is neither read nor written): the SYRK mode.
 * C must not overlap A or B.
 */
export function gemmAcc(
  m: i32, n: i32, k: i32, alpha: f64,
  a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32,
  c: usize, ldc: i32, lowerOnly: bool,
): void {
  for (let i = 0; i < m; i++) {
    const jEnd = lowerOnly ? min(n, i + 1) : n;
    for (let j = 0; j < jEnd; j++) {
      let s = 0.0;
      for (let p = 0; p < k; p++) {
        s += load<f64>(a + (<usize>(i * rsa + p * csa) << 3)) * load<f64>(b + (<usize>(p * rsb + j * csb) << 3));
      }
      const pc = c + (<usize>(i * ldc + j) << 3);
      store<f64>(pc, load<f64>(pc) + alpha * s);
    }
  }
}

/** Scales the m×n block of C (leading dimension ldc) by beta; beta = 0 writes zeros (so NaN in C is not kept). */
export function scaleC(m: i32, n: i32, beta: f64, c: usize, ldc: i32): void {
  if (beta == 1.0) return;
  for (let i = 0; i < m; i++) {
    const row = c + (<usize>(i * ldc) << 3);
    for (let j = 0; j < n; j++) {
      const p = row + (<usize>j << 3);
      store<f64>(p, beta == 0.0 ? 0.0 : beta * load<f64>(p));
    }
  }
}

/**
 * C ← alpha·op(A)·op(B) + beta·C, row-major, op(X) = X or Xᵀ.
 * op(A) is m×k: A is stored m×k (lda ≥ k), or k×m when transA (lda ≥ m).
 * op(B) is k×n: B is stored k×n (ldb ≥ n), or n×k when transB (ldb ≥ k).
 * C is m×n with ldc ≥ n. C must not overlap A or B; A and B may be the same buffer.
 * beta = 0 overwrites C without reading it.
 */
export function gemm(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f64,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f64, c: usize, ldc: i32,
): void {
  if (m <= 0 || n <= 0) return;
  scaleC(m, n, beta, c, ldc);
  if (k <= 0 || alpha == 0.0) return;
  gemmAcc(
    m, n, k, alpha,
    a, transA ? 1 : lda, transA ? lda : 1,
    b, transB ? 1 : ldb, transB ? ldb : 1,
    c, ldc, false,
  );
}
