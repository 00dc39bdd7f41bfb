// Plain-TypeScript reference for assembly/cholesky.ts: same contract, offsets in elements.
// The algorithms are the unblocked forms of the WASM ones, with every inner loop
// running along a row (contiguous), so the fallback backend is not needlessly slow.

/**
 * Lower Cholesky factor of (A + damping·I) into l (ldl ≥ n), zeros above the diagonal,
 * by rows (Banachiewicz). Reads only A's lower triangle; l may be a itself (lda = ldl),
 * otherwise it must not overlap a. Returns 0, or 1 + the first pivot that is not
 * positive or not finite (L is then incomplete). On success every entry of L is finite.
 */
export function potrf(h: Float64Array, n: number, a: number, lda: number, damping: number, l: number, ldl: number): number {
  for (let i = 0; i < n; i++) {
    const ai = a + i * lda, li = l + i * ldl;
    for (let j = 0; j < i; j++) {
      const lj = l + j * ldl;
      let s = h[ai + j];
      for (let p = 0; p < j; p++) s -= h[li + p] * h[lj + p];
      h[li + j] = s / h[lj + j];
    }
    let s = h[ai + i] + damping;
    for (let p = 0; p < i; p++) s -= h[li + p] * h[li + p];
    // Also rejects NaN and +∞: every non-finite entry of row i reaches s.
    if (!(s > 0 && s < Infinity)) return i + 1;
    h[li + i] = Math.sqrt(s);
    h.fill(0, li + i + 1, li + n);
  }
  return 0;
}

/** In place on B (n×nrhs, ldb ≥ nrhs): L·X = B (trans 0) or Lᵀ·X = B (trans 1). L's upper triangle is not read. */
export function trsm(h: Float64Array, trans: number, n: number, nrhs: number, l: number, ldl: number, b: number, ldb: number): void {
  if (nrhs === 1) {
    if (trans) backwardVector(h, n, l, ldl, b, ldb);
    else forwardVector(h, n, l, ldl, b, ldb);
    return;
  }
  if (!trans) {
    // Row i of X: B[i,:] − Σ_{p<i} L[i,p]·X[p,:], then divided by L[i,i].
    for (let i = 0; i < n; i++) {
      const li = l + i * ldl, bi = b + i * ldb;
      for (let p = 0; p < i; p++) {
        const lip = h[li + p], bp = b + p * ldb;
        for (let c = 0; c < nrhs; c++) h[bi + c] -= lip * h[bp + c];
      }
      const d = h[li + i];
      for (let c = 0; c < nrhs; c++) h[bi + c] /= d;
    }
  } else {
    // Bottom-up: once row i of X is known, subtract L[i,p]·X[i,:] from every row p < i.
    for (let i = n - 1; i >= 0; i--) {
      const li = l + i * ldl, bi = b + i * ldb;
      const d = h[li + i];
      for (let c = 0; c < nrhs; c++) h[bi + c] /= d;
      for (let p = 0; p < i; p++) {
        const lip = h[li + p], bp = b + p * ldb;
        for (let c = 0; c < nrhs; c++) h[bp + c] -= lip * h[bi + c];
      }
    }
  }
}

/** L·x = b for one column x (stride s), as row dot products. */
function forwardVector(h: Float64Array, n: number, l: number, ldl: number, x: number, s: number): void {
  for (let i = 0; i < n; i++) {
    const li = l + i * ldl;
    let t = h[x + i * s];
    for (let p = 0; p < i; p++) t -= h[li + p] * h[x + p * s];
    h[x + i * s] = t / h[li + i];
  }
}

/** Lᵀ·x = b for one column x (stride s), in axpy form along rows of L. */
function backwardVector(h: Float64Array, n: number, l: number, ldl: number, x: number, s: number): void {
  for (let i = n - 1; i >= 0; i--) {
    const li = l + i * ldl;
    const xi = h[x + i * s] / h[li + i];
    h[x + i * s] = xi;
    for (let p = 0; p < i; p++) h[x + p * s] -= h[li + p] * xi;
  }
}

/** In place on B (n×nrhs, ldb ≥ nrhs): solves L·Lᵀ·X = B with L from potrf. B must not overlap L. */
export function potrs(h: Float64Array, n: number, nrhs: number, l: number, ldl: number, b: number, ldb: number): void {
  trsm(h, 0, n, nrhs, l, ldl, b, ldb);
  trsm(h, 1, n, nrhs, l, ldl, b, ldb);
}

/** L⁻¹ is kept here between calls (grown on demand), so repeated inverses allocate nothing. */
let inverseScratch = new Float64Array(0);

/**
 * out ← (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹, full and exactly symmetric (ldo ≥ n); out must not overlap L.
 * W = L⁻¹ is formed row by row (W[i, j] = −Σ_{j≤p<i} L[i,p]·W[p,j] / L[i,i]), then the
 * lower half of Wᵀ·W as a sum of the rank-1 terms W[p,:]ᵀ·W[p,:], then mirrored.
 */
export function potri(h: Float64Array, n: number, l: number, ldl: number, out: number, ldo: number): void {
  if (inverseScratch.length < n * n) inverseScratch = new Float64Array(n * n);
  const w = inverseScratch;
  for (let i = 0; i < n; i++) {
    const li = l + i * ldl, wi = i * n;
    w.fill(0, wi, wi + i);
    for (let p = 0; p < i; p++) {
      const lip = h[li + p], wp = p * n;
      for (let j = 0; j <= p; j++) w[wi + j] -= lip * w[wp + j];
    }
    const d = h[li + i];
    for (let j = 0; j < i; j++) w[wi + j] /= d;
    w[wi + i] = 1 / d;
  }
  for (let i = 0; i < n; i++) h.fill(0, out + i * ldo, out + i * ldo + i + 1);
  for (let p = 0; p < n; p++) {
    const wp = p * n;
    for (let i = 0; i <= p; i++) {
      const wpi = w[wp + i], oi = out + i * ldo;
      for (let j = 0; j <= i; j++) h[oi + j] += wpi * w[wp + j];
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) h[out + j * ldo + i] = h[out + i * ldo + j];
  }
}
