// Plain-TypeScript reference for assembly/cholesky.ts: same contract, offsets in elements.

/** Lower factor of A + damping·I into l (may alias a); 0 on success, else 1 + failing pivot. */
export function potrf(h: Float64Array, n: number, a: number, lda: number, damping: number, l: number, ldl: number): number {
  for (let j = 0; j < n; j++) {
    for (let i = j; i < n; i++) {
      let s = h[a + i * lda + j] + (i === j ? damping : 0);
      for (let p = 0; p < j; p++) s -= h[l + i * ldl + p] * h[l + j * ldl + p];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return j + 1;
        h[l + j * ldl + j] = Math.sqrt(s);
      } else {
        h[l + i * ldl + j] = s / h[l + j * ldl + j];
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) h[l + i * ldl + j] = 0;
  return 0;
}

/** In place on B (n×nrhs): L·X = B (trans 0) or Lᵀ·X = B (trans 1). */
export function trsm(h: Float64Array, trans: number, n: number, nrhs: number, l: number, ldl: number, b: number, ldb: number): void {
  if (!trans) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < nrhs; c++) {
        let s = h[b + i * ldb + c];
        for (let p = 0; p < i; p++) s -= h[l + i * ldl + p] * h[b + p * ldb + c];
        h[b + i * ldb + c] = s / h[l + i * ldl + i];
      }
    }
  } else {
    for (let i = n - 1; i >= 0; i--) {
      for (let c = 0; c < nrhs; c++) {
        let s = h[b + i * ldb + c];
        for (let p = i + 1; p < n; p++) s -= h[l + p * ldl + i] * h[b + p * ldb + c];
        h[b + i * ldb + c] = s / h[l + i * ldl + i];
      }
    }
  }
}

/** In place on B: solves L·Lᵀ·X = B. */
export function potrs(h: Float64Array, n: number, nrhs: number, l: number, ldl: number, b: number, ldb: number): void {
  trsm(h, 0, n, nrhs, l, ldl, b, ldb);
  trsm(h, 1, n, nrhs, l, ldl, b, ldb);
}

/** out ← (L·Lᵀ)⁻¹, full symmetric. */
export function potri(h: Float64Array, n: number, l: number, ldl: number, out: number, ldo: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[out + i * ldo + j] = i === j ? 1 : 0;
  potrs(h, n, n, l, ldl, out, ldo);
}
