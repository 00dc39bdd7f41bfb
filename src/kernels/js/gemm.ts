// Plain-TypeScript reference for assembly/gemm.ts: same contract, offsets in elements.

/** C ← alpha·op(A)·op(B) + beta·C on h; see Kernels.gemm. */
export function gemm(
  h: Float64Array, transA: number, transB: number, m: number, n: number, k: number, alpha: number,
  a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  for (let i = 0; i < m; i++) {
    const ci = c + i * ldc;
    for (let j = 0; j < n; j++) h[ci + j] = beta === 0 ? 0 : beta * h[ci + j];
  }
  if (k <= 0 || alpha === 0) return;
  const rsa = transA ? 1 : lda, csa = transA ? lda : 1;
  const rsb = transB ? 1 : ldb, csb = transB ? ldb : 1;
  for (let i = 0; i < m; i++) {
    const ci = c + i * ldc;
    for (let p = 0; p < k; p++) {
      const aip = alpha * h[a + i * rsa + p * csa];
      const bp = b + p * rsb;
      for (let j = 0; j < n; j++) h[ci + j] += aip * h[bp + j * csb];
    }
  }
}
