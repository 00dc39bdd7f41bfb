// Plain-TypeScript reference for assembly/eigh.ts: same contract, same algorithm, offsets in elements.
//
// 1. Scale A by a power of two (exact) so its largest entry lies in [1, 2).
// 2. Householder reduction of the scaled copy (kept as a full symmetric matrix so every
//    loop runs along rows) to tridiagonal T = Qᵀ·A·Q, then Qᵀ formed in V's storage.
// 3. Implicit QL with Wilkinson shifts on T; each plane rotation is applied to two rows
//    of the matrix held in V, which therefore accumulates Vᵀ = Zᵀ·Qᵀ.
// 4. Selection sort ascending (swapping rows of Vᵀ), transpose V in place, scale w back.
// The WASM kernel computes the same quantities, reorganised for speed (fused passes, paired
// reflectors, rotations logged and applied in column strips); the results agree to rounding.

/** Relative spacing of doubles (2⁻⁵²): the deflation threshold relative to the neighbouring diagonal. */
const EPS = 2.220446049250313e-16;
/** Smallest normal double: an off-diagonal below it deflates even next to zero diagonals. */
const SAFMIN = 2.2250738585072014e-308;
/** QL iterations allowed per eigenvalue on average (LAPACK's dsteqr uses the same budget). */
const MAX_ITER_PER_EIGENVALUE = 30;

// Scratch kept between calls, grown on demand.
let work = new Float64Array(0);
let diag = new Float64Array(0);
let off = new Float64Array(0);
let tau = new Float64Array(0);
let pvec = new Float64Array(0);

function grow(n: number): void {
  if (work.length < n * n) work = new Float64Array(n * n);
  if (diag.length < n) {
    diag = new Float64Array(n);
    off = new Float64Array(n);
    tau = new Float64Array(n);
    pvec = new Float64Array(n);
  }
}

/** √(a² + b²) without overflow or destructive underflow. */
function pythag(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  if (a < b) { const t = a; a = b; b = t; }
  if (a === 0) return 0;
  const r = b / a;
  return a * Math.sqrt(1 + r * r);
}

/**
 * Symmetric eigendecomposition; see Kernels.syev and assembly/eigh.ts for the contract.
 * Returns 0 on success, l + 1 (1 ≤ l + 1 ≤ n) when the QL iteration exhausted its budget
 * while resolving eigenvalue l, or n + 1 when A has a non-finite entry in its lower triangle.
 */
export function syev(h: Float64Array, n: number, a: number, lda: number, w: number, v: number, ldv: number): number {
  if (n <= 0) return 0;

  // Largest magnitude of the lower triangle, and a finiteness check.
  let amax = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = Math.abs(h[a + i * lda + j]);
      if (!(x <= Number.MAX_VALUE)) return n + 1;
      if (x > amax) amax = x;
    }
  }
  if (amax === 0) {
    for (let i = 0; i < n; i++) {
      h[w + i] = 0;
      for (let j = 0; j < n; j++) h[v + i * ldv + j] = i === j ? 1 : 0;
    }
    return 0;
  }
  // Power-of-two scale, so scaling and unscaling are exact; clamped so 2^(−exp) stays finite for subnormal amax.
  const exp = Math.max(-1022, Math.floor(Math.log2(amax)));
  const scale = Math.pow(2, -exp);

  grow(n);
  const t = work, d = diag, e = off;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) t[i * n + j] = t[j * n + i] = h[a + i * lda + j] * scale;
  }

  tridiagonalize(n, t, d, e);
  formQt(n, t, h, v, ldv);
  const info = tridiagonalQL(n, d, e, h, v, ldv);
  if (info !== 0) return info;

  // Selection sort: at most n − 1 row swaps of Vᵀ.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    for (let j = i + 1; j < n; j++) if (d[j] < d[k]) k = j;
    if (k !== i) {
      const dt = d[i]; d[i] = d[k]; d[k] = dt;
      for (let c = 0; c < n; c++) {
        const x = h[v + i * ldv + c];
        h[v + i * ldv + c] = h[v + k * ldv + c];
        h[v + k * ldv + c] = x;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = h[v + i * ldv + j];
      h[v + i * ldv + j] = h[v + j * ldv + i];
      h[v + j * ldv + i] = x;
    }
  }
  const unscale = Math.pow(2, exp);
  for (let i = 0; i < n; i++) h[w + i] = d[i] * unscale;
  return 0;
}

/**
 * Reduces the full symmetric n×n matrix t (ld n) to tridiagonal form by Householder
 * reflections H_k = I − τ_k·v_k·v_kᵀ, k = 0..n−3, with v_k zero in 0..k and v_k[k+1] = 1.
 * d receives the diagonal, e[i] the (i, i+1) off-diagonal (e[n−1] = 0); v_k[k+2..] is left
 * in row k of t at columns k+2..n−1 and τ_k in `tau`.
 */
function tridiagonalize(n: number, t: Float64Array, d: Float64Array, e: Float64Array): void {
  const p = pvec;
  for (let k = 0; k < n - 2; k++) {
    const r = k * n, c0 = k + 1;
    d[k] = t[r + k];
    // Householder vector for x = t[k, k+1..n−1], with the norm computed on x / max|x| against underflow.
    const alpha = t[r + c0];
    let xmax = 0;
    for (let j = c0 + 1; j < n; j++) xmax = Math.max(xmax, Math.abs(t[r + j]));
    if (xmax === 0) {
      // x is already a multiple of e₁: H_k = I.
      tau[k] = 0;
      e[k] = alpha;
      continue;
    }
    xmax = Math.max(xmax, Math.abs(alpha));
    let ss = 0;
    for (let j = c0; j < n; j++) { const y = t[r + j] / xmax; ss += y * y; }
    const norm = xmax * Math.sqrt(ss);
    const beta = alpha >= 0 ? -norm : norm;
    const tk = (beta - alpha) / beta;
    const inv = 1 / (alpha - beta);
    t[r + c0] = 1;
    for (let j = c0 + 1; j < n; j++) t[r + j] *= inv;
    tau[k] = tk;
    e[k] = beta;

    // p = τ·A₂₂·v, then w = p − (τ/2)(pᵀv)·v (stored in p); row k of t holds v at columns c0..n−1.
    let pv = 0;
    for (let i = c0; i < n; i++) {
      let s = 0;
      for (let j = c0; j < n; j++) s += t[i * n + j] * t[r + j];
      p[i] = tk * s;
      pv += p[i] * t[r + i];
    }
    const kk = 0.5 * tk * pv;
    for (let i = c0; i < n; i++) p[i] -= kk * t[r + i];
    // A₂₂ ← A₂₂ − v·wᵀ − w·vᵀ, row by row.
    for (let i = c0; i < n; i++) {
      const vi = t[r + i], wi = p[i];
      for (let j = c0; j < n; j++) t[i * n + j] -= vi * p[j] + wi * t[r + j];
    }
  }
  if (n >= 2) {
    d[n - 2] = t[(n - 2) * n + n - 2];
    e[n - 2] = t[(n - 2) * n + n - 1];
  }
  d[n - 1] = t[(n - 1) * n + n - 1];
  e[n - 1] = 0;
}

/**
 * Writes Qᵀ = H_{n−3}···H_0 into h at v (ld ldv), multiplying from the right from k = n−3
 * down, so each step only touches the trailing rows and columns k+1..n−1 (the rest is identity).
 */
function formQt(n: number, t: Float64Array, h: Float64Array, v: number, ldv: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[v + i * ldv + j] = i === j ? 1 : 0;
  for (let k = n - 3; k >= 0; k--) {
    const tk = tau[k];
    if (tk === 0) continue;
    const r = k * n, c0 = k + 1;
    // v_k[c0] = 1 is stored explicitly in t by tridiagonalize.
    for (let i = c0; i < n; i++) {
      const row = v + i * ldv;
      let s = 0;
      for (let j = c0; j < n; j++) s += h[row + j] * t[r + j];
      s *= tk;
      for (let j = c0; j < n; j++) h[row + j] -= s * t[r + j];
    }
  }
}

/**
 * Implicit QL with Wilkinson shifts on the tridiagonal (d, e), rotating rows of the
 * matrix at h[v] (ld ldv) alongside. On return d holds the eigenvalues (unsorted).
 * Returns 0, or l + 1 when the iteration budget ran out at eigenvalue l.
 */
function tridiagonalQL(n: number, d: Float64Array, e: Float64Array, h: Float64Array, v: number, ldv: number): number {
  let budget = MAX_ITER_PER_EIGENVALUE * n;
  for (let l = 0; l < n; l++) {
    for (;;) {
      // Find the first negligible off-diagonal at or below l; the block l..m is unreduced.
      let m = l;
      for (; m < n - 1; m++) {
        const em = Math.abs(e[m]);
        if (em <= EPS * (Math.abs(d[m]) + Math.abs(d[m + 1])) || em <= SAFMIN) break;
      }
      if (m === l) break;
      if (budget-- === 0) return l + 1;

      // Wilkinson shift from the leading 2×2 of the block.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = pythag(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i], b = c * e[i];
        r = pythag(f, g);
        e[i + 1] = r;
        if (r === 0) break;
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        rotateRows(h, v + i * ldv, v + (i + 1) * ldv, n, c, s);
      }
      if (i >= l) {
        // The chase hit an exact zero: the block split at i, deflate and retry.
        d[i + 1] -= p;
        e[m] = 0;
        continue;
      }
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return 0;
}

/** (x, y) ← (c·x − s·y, s·x + c·y) on two rows of length len. */
function rotateRows(h: Float64Array, x: number, y: number, len: number, c: number, s: number): void {
  for (let j = 0; j < len; j++) {
    const xj = h[x + j], yj = h[y + j];
    h[x + j] = c * xj - s * yj;
    h[y + j] = s * xj + c * yj;
  }
}
