// Plain-TypeScript reference for assembly/gemm.ts: same contract, offsets in elements.

/**
 * C ← alpha·op(A)·op(B) + beta·C on h; see Kernels.gemm. Row-major, offsets and
 * leading dimensions in elements. op(A) is m×k (A stored m×k, or k×m when transA),
 * op(B) is k×n (B stored k×n, or n×k when transB), C is m×n. beta = 0 overwrites C
 * without reading it. C must not overlap A or B.
 */
export function gemm(
  h: Float64Array, transA: number, transB: number, m: number, n: number, k: number, alpha: number,
  a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  scale(h, m, n, beta, c, ldc);
  if (k <= 0 || alpha === 0) return;
  // A[i, p] of op(A) is at a + i·rsa + p·csa.
  const rsa = transA ? 1 : lda, csa = transA ? lda : 1;
  if (transB) {
    // Rows of the stored B are the columns of op(B): dot products over contiguous rows.
    for (let i = 0; i < m; i++) {
      const ai = a + i * rsa, ci = c + i * ldc;
      for (let j = 0; j < n; j++) {
        const bj = b + j * ldb;
        let s = 0;
        for (let p = 0; p < k; p++) s += h[ai + p * csa] * h[bj + p];
        h[ci + j] += alpha * s;
      }
    }
    return;
  }
  // i-p-j order: row i of C accumulates multiples of contiguous rows of B, four rows
  // of B per sweep so each pass over the C row does four times the work.
  for (let i = 0; i < m; i++) {
    const ai = a + i * rsa, ci = c + i * ldc, cEnd = ci + n;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const a0 = alpha * h[ai + p * csa], a1 = alpha * h[ai + (p + 1) * csa];
      const a2 = alpha * h[ai + (p + 2) * csa], a3 = alpha * h[ai + (p + 3) * csa];
      const off0 = b + p * ldb - ci, off1 = off0 + ldb, off2 = off1 + ldb, off3 = off2 + ldb;
      for (let x = ci; x < cEnd; x++) {
        h[x] += a0 * h[x + off0] + a1 * h[x + off1] + a2 * h[x + off2] + a3 * h[x + off3];
      }
    }
    for (; p < k; p++) {
      const ap = alpha * h[ai + p * csa], off = b + p * ldb - ci;
      for (let x = ci; x < cEnd; x++) h[x] += ap * h[x + off];
    }
  }
}

/** C ← beta·C on the m×n block at c; beta = 0 writes zeros without reading (NaN in C does not survive). */
function scale(h: Float64Array, m: number, n: number, beta: number, c: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const ci = c + i * ldc;
    if (beta === 0) h.fill(0, ci, ci + n);
    else for (let j = ci; j < ci + n; j++) h[j] *= beta;
  }
}
