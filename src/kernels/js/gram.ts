// Plain-TypeScript reference for assembly/gram.ts: same contract, offsets in elements.

/** C ← alpha·A·Aᵀ + beta·C (trans 0) or alpha·Aᵀ·A + beta·C (trans 1); lower triangle computed, then mirrored. */
export function syrk(
  h: Float64Array, trans: number, n: number, k: number, alpha: number,
  a: number, lda: number, beta: number, c: number, ldc: number,
): void {
  if (n <= 0) return;
  const rs = trans ? 1 : lda, cs = trans ? lda : 1;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += h[a + i * rs + p * cs] * h[a + j * rs + p * cs];
      const old = beta === 0 ? 0 : beta * h[c + i * ldc + j];
      h[c + i * ldc + j] = old + alpha * s;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) h[c + j * ldc + i] = h[c + i * ldc + j];
}

/** out[i] = a[i]·b[i]; out may alias a or b. */
export function hadamard(h: Float64Array, len: number, a: number, b: number, out: number): void {
  for (let i = 0; i < len; i++) h[out + i] = h[a + i] * h[b + i];
}
