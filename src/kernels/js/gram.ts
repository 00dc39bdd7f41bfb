// Plain-TypeScript reference for assembly/gram.ts: same contract, offsets in elements.

/**
 * C ← alpha·A·Aᵀ + beta·C (trans 0, A n×k) or alpha·Aᵀ·A + beta·C (trans 1, A k×n).
 * The lower triangle is computed, then mirrored so all of C is written and C is
 * exactly symmetric; the strict upper triangle of C is never read. beta = 0 does
 * not read C. C must not overlap A.
 */
export function syrk(
  h: Float64Array, trans: number, n: number, k: number, alpha: number,
  a: number, lda: number, beta: number, c: number, ldc: number,
): void {
  if (n <= 0) return;
  for (let i = 0; i < n; i++) {
    const ci = c + i * ldc;
    if (beta === 0) h.fill(0, ci, ci + i + 1);
    else if (beta !== 1) for (let j = ci; j <= ci + i; j++) h[j] *= beta;
  }
  if (k > 0 && alpha !== 0) {
    if (trans) {
      // AᵀA = Σ_p (row p)ᵀ(row p): rank-1 updates of the lower triangle from contiguous rows of A.
      for (let p = 0; p < k; p++) {
        const ap = a + p * lda;
        for (let i = 0; i < n; i++) {
          const x = alpha * h[ap + i], ci = c + i * ldc;
          for (let j = 0; j <= i; j++) h[ci + j] += x * h[ap + j];
        }
      }
    } else {
      // AAᵀ[i, j] is the dot product of rows i and j of A.
      for (let i = 0; i < n; i++) {
        const ai = a + i * lda, ci = c + i * ldc;
        for (let j = 0; j <= i; j++) {
          const aj = a + j * lda;
          let s = 0;
          for (let p = 0; p < k; p++) s += h[ai + p] * h[aj + p];
          h[ci + j] += alpha * s;
        }
      }
    }
  }
  mirrorLower(h, n, c, ldc);
}

/** Copies the strict lower triangle of the n×n matrix at c onto its upper triangle. */
export function mirrorLower(h: Float64Array, n: number, c: number, ldc: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) h[c + j * ldc + i] = h[c + i * ldc + j];
}

/** out[i] = a[i]·b[i]; out may be the same offset as a and/or b (no partial overlap). */
export function hadamard(h: Float64Array, len: number, a: number, b: number, out: number): void {
  for (let i = 0; i < len; i++) h[out + i] = h[a + i] * h[b + i];
}
