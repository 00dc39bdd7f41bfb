// Symmetric eigendecomposition, float64, row-major.
//
// 1. Scale A by a power of two (exact) so its largest entry lies in [1, 2).
// 2. Householder reduction of the scaled copy to tridiagonal T = Qᵀ·A·Q. The copy is kept as
//    a full symmetric matrix so the matrix-vector product and the rank-2 update run along rows.
//    Qᵀ is then formed in an internal buffer, again row by row.
// 3. Implicit QL with Wilkinson shifts on T. The scalar recurrence never reads the vectors, so
//    its plane rotations are logged and applied later to the rows of that buffer (which thus
//    accumulates Vᵀ) in strips of 8 columns: a strip of all n rows stays in L1 while a whole
//    batch of sweeps runs over it, and the row carried from one rotation to the next stays in
//    registers.
// 4. Sort ascending (a permutation), then transpose Vᵀ into V with the columns permuted, and
//    scale w back.

import { allocBytes } from "./memory";

/** Relative spacing of doubles (2⁻⁵²): the deflation threshold relative to the neighbouring diagonal. */
const EPS: f64 = 2.220446049250313e-16;
/** Smallest normal double: an off-diagonal below it deflates even next to zero diagonals. */
const SAFMIN: f64 = 2.2250738585072014e-308;
/** QL iterations allowed per eigenvalue on average (LAPACK's dsteqr uses the same budget). */
const MAX_ITER_PER_EIGENVALUE: i32 = 30;
/** Rotations buffered before they are applied to V (16 bytes each). */
const LOG_ROTATIONS: i32 = 16384;

// Scratch kept between calls, grown on demand: work n×n (ld n), vt n×ldt (64-byte aligned),
// then d, e, tau, p, p2 (n doubles each), the rotation log (c, s pairs), the sweep log (top row,
// rotation count as i32 pairs) and the sort permutation (n i32).
let scratch: usize = 0;
let scratchBytes: usize = 0;
let work: usize = 0;
let vt: usize = 0;
let ldt: i32 = 0;
let diag: usize = 0;
let off: usize = 0;
let tau: usize = 0;
let pvec: usize = 0;
let pvec2: usize = 0;
let rotLog: usize = 0;
let sweepLog: usize = 0;
let perm: usize = 0;
let logCap: i32 = 0;
let rotCount: i32 = 0;
let sweepCount: i32 = 0;

function reserve(n: i32): void {
  const nn = <usize>n;
  const cap = max(LOG_ROTATIONS, n);
  // Vᵀ's row stride is an odd number of 64-byte lines, so a strip of 8 columns maps its rows
  // to all L1 sets (a power-of-two stride would put every row in the same few sets).
  ldt = (n + 7) & ~7;
  if (((ldt >> 3) & 1) == 0) ldt += 8;
  const bytes = ((nn * nn + nn * <usize>ldt + 5 * nn + 2 * <usize>cap) << 3) + (<usize>cap << 3) + (nn << 2) + 64;
  if (bytes > scratchBytes) {
    // Forget the old buffer before allocating: if growth traps, the next call starts clean.
    if (scratch != 0) heap.free(scratch);
    scratch = 0;
    scratchBytes = 0;
    scratch = allocBytes(bytes);
    scratchBytes = bytes;
  }
  vt = (scratch + 63) & ~(<usize>63);
  work = vt + (nn * <usize>ldt << 3);
  diag = work + (nn * nn << 3);
  off = diag + (nn << 3);
  tau = off + (nn << 3);
  pvec = tau + (nn << 3);
  pvec2 = pvec + (nn << 3);
  rotLog = pvec2 + (nn << 3);
  sweepLog = rotLog + (<usize>cap << 4);
  perm = sweepLog + (<usize>cap << 3);
  logCap = cap;
  rotCount = 0;
  sweepCount = 0;
}

@inline function ld(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

@inline function st(p: usize, i: i32, x: f64): void {
  store<f64>(p + (<usize>i << 3), x);
}

/**
 * Eigen-decomposition of the symmetric n×n matrix A (lda ≥ n; only the lower
 * triangle is read, A is not modified): A = V·diag(w)·Vᵀ.
 * w (n values) receives the eigenvalues in ascending order; V (ldv ≥ n) receives
 * orthonormal eigenvectors, eigenvector j in column j. w and V must not overlap A or each other.
 * Returns 0 on success; l + 1 (1 ≤ l + 1 ≤ n) when the QL iteration exhausted its budget
 * (30·n sweeps) while resolving eigenvalue l; n + 1 when the lower triangle of A has a
 * non-finite entry. On a non-zero return w and V hold no meaningful values.
 * Uses about 16·n² bytes + 400 KB of internal scratch, allocated on first need and kept (memory may grow).
 */
export function syev(n: i32, a: usize, lda: i32, w: usize, v: usize, ldv: i32): i32 {
  if (n <= 0) return 0;

  // Largest magnitude of the lower triangle, and a finiteness check.
  let amax: f64 = 0.0;
  for (let i = 0; i < n; i++) {
    const row = a + (<usize>(i * lda) << 3);
    for (let j = 0; j <= i; j++) {
      const x = Math.abs(ld(row, j));
      if (!(x <= f64.MAX_VALUE)) return n + 1;
      if (x > amax) amax = x;
    }
  }
  if (amax == 0.0) {
    for (let i = 0; i < n; i++) {
      st(w, i, 0.0);
      const row = v + (<usize>(i * ldv) << 3);
      for (let j = 0; j < n; j++) st(row, j, i == j ? 1.0 : 0.0);
    }
    return 0;
  }
  // Power-of-two scale 2^se from the exponent bits, so scaling and unscaling are exact. se is
  // clamped so both 2^se and 2^−se are normal (a subnormal amax is not lifted all the way to 1).
  const biased = <i32>((reinterpret<u64>(amax) >> 52) & 0x7ff);
  const se = min(max(1023 - biased, -1022), 1022);
  const scale = reinterpret<f64>(<u64>(1023 + se) << 52);
  const unscale = reinterpret<f64>(<u64>(1023 - se) << 52);

  reserve(n);
  const t = work;
  for (let i = 0; i < n; i++) {
    const row = a + (<usize>(i * lda) << 3);
    for (let j = 0; j <= i; j++) {
      const x = ld(row, j) * scale;
      st(t, i * n + j, x);
      st(t, j * n + i, x);
    }
  }

  tridiagonalize(n);
  formQt(n);
  const info = tridiagonalQL(n);
  if (info != 0) return info;

  // Selection sort of an index permutation; V's column j is then row perm[j] of Vᵀ.
  const d = diag;
  for (let i = 0; i < n; i++) store<i32>(perm + (<usize>i << 2), i);
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    for (let j = i + 1; j < n; j++) if (ld(d, j) < ld(d, k)) k = j;
    if (k != i) {
      const x = ld(d, i);
      st(d, i, ld(d, k));
      st(d, k, x);
      const pi = load<i32>(perm + (<usize>i << 2));
      store<i32>(perm + (<usize>i << 2), load<i32>(perm + (<usize>k << 2)));
      store<i32>(perm + (<usize>k << 2), pi);
    }
  }
  for (let i = 0; i < n; i++) st(w, i, ld(d, i) * unscale);
  transposeOut(n, v, ldv);
  return 0;
}

/** c + a·b lane-wise (fused in the relaxed-SIMD build). */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

/** c − a·b lane-wise (fused in the relaxed-SIMD build). */
@inline function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_nmadd(a, b, c);
  return f64x2.sub(c, f64x2.mul(a, b));
}

/** Σ x[j]·y[j] over len contiguous doubles, four f64x2 accumulators. */
@inline function dot(x: usize, y: usize, len: i32): f64 {
  let a0 = f64x2.splat(0.0), a1 = f64x2.splat(0.0), a2 = f64x2.splat(0.0), a3 = f64x2.splat(0.0);
  const end = x + (<usize>len << 3);
  let px = x, py = y;
  while (px + 64 <= end) {
    a0 = madd(v128.load(px), v128.load(py), a0);
    a1 = madd(v128.load(px, 16), v128.load(py, 16), a1);
    a2 = madd(v128.load(px, 32), v128.load(py, 32), a2);
    a3 = madd(v128.load(px, 48), v128.load(py, 48), a3);
    px += 64;
    py += 64;
  }
  while (px + 16 <= end) {
    a0 = madd(v128.load(px), v128.load(py), a0);
    px += 16;
    py += 16;
  }
  const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  if (px < end) r += load<f64>(px) * load<f64>(py);
  return r;
}

/** y[j] −= alpha·x[j] over len contiguous doubles. */
@inline function axpyNeg(alpha: f64, x: usize, y: usize, len: i32): void {
  const al = f64x2.splat(alpha);
  const end = y + (<usize>len << 3);
  let px = x, py = y;
  while (py + 32 <= end) {
    v128.store(py, nmadd(al, v128.load(px), v128.load(py)));
    v128.store(py, nmadd(al, v128.load(px, 16), v128.load(py, 16)), 16);
    px += 32;
    py += 32;
  }
  if (py + 16 <= end) {
    v128.store(py, nmadd(al, v128.load(px), v128.load(py)));
    px += 16;
    py += 16;
  }
  if (py < end) store<f64>(py, load<f64>(py) - alpha * load<f64>(px));
}

/** y[j] −= a·x[j] + b·z[j] over len contiguous doubles (the rank-2 update of one row). */
@inline function rank2Row(a: f64, x: usize, b: f64, z: usize, y: usize, len: i32): void {
  const av = f64x2.splat(a), bv = f64x2.splat(b);
  const end = y + (<usize>len << 3);
  let px = x, pz = z, py = y;
  while (py + 32 <= end) {
    v128.store(py, nmadd(bv, v128.load(pz), nmadd(av, v128.load(px), v128.load(py))));
    v128.store(py, nmadd(bv, v128.load(pz, 16), nmadd(av, v128.load(px, 16), v128.load(py, 16))), 16);
    px += 32;
    pz += 32;
    py += 32;
  }
  if (py + 16 <= end) {
    v128.store(py, nmadd(bv, v128.load(pz), nmadd(av, v128.load(px), v128.load(py))));
    px += 16;
    pz += 16;
    py += 16;
  }
  if (py < end) store<f64>(py, load<f64>(py) - (a * load<f64>(px) + b * load<f64>(pz)));
}

/**
 * y[j] −= a·x[j] + b·z[j] over len contiguous doubles and returns Σ y[j]·u[j] of the updated
 * row, so the update and the next matrix-vector product share one pass over y.
 */
@inline function rank2RowDot(a: f64, x: usize, b: f64, z: usize, y: usize, len: i32, u: usize): f64 {
  const av = f64x2.splat(a), bv = f64x2.splat(b);
  let s0 = f64x2.splat(0.0), s1 = f64x2.splat(0.0);
  const end = y + (<usize>len << 3);
  let px = x, pz = z, py = y, pu = u;
  while (py + 32 <= end) {
    const y0 = nmadd(bv, v128.load(pz), nmadd(av, v128.load(px), v128.load(py)));
    const y1 = nmadd(bv, v128.load(pz, 16), nmadd(av, v128.load(px, 16), v128.load(py, 16)));
    v128.store(py, y0);
    v128.store(py, y1, 16);
    s0 = madd(y0, v128.load(pu), s0);
    s1 = madd(y1, v128.load(pu, 16), s1);
    px += 32;
    pz += 32;
    py += 32;
    pu += 32;
  }
  if (py + 16 <= end) {
    const y0 = nmadd(bv, v128.load(pz), nmadd(av, v128.load(px), v128.load(py)));
    v128.store(py, y0);
    s0 = madd(y0, v128.load(pu), s0);
    px += 16;
    pz += 16;
    py += 16;
    pu += 16;
  }
  const s = f64x2.add(s0, s1);
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  if (py < end) {
    const yl = load<f64>(py) - (a * load<f64>(px) + b * load<f64>(pz));
    store<f64>(py, yl);
    r += yl * load<f64>(pu);
  }
  return r;
}

/**
 * Householder reflector H_k = I − τ_k·v_k·v_kᵀ that maps x = work[k, k+1..n−1] onto a multiple
 * of e₁: sets diag[k] and off[k] (= that multiple), stores v_k (v_k[k+1] = 1) over x in row k of
 * work and returns τ_k; returns 0 (H_k = I, x left in place) when x is already a multiple of e₁.
 */
function reflector(n: i32, k: i32): f64 {
  const r = work + (<usize>(k * n) << 3);
  const c0 = k + 1;
  st(diag, k, ld(r, k));
  const alpha = ld(r, c0);
  let xmax: f64 = 0.0;
  for (let j = c0 + 1; j < n; j++) xmax = max(xmax, Math.abs(ld(r, j)));
  if (xmax == 0.0) {
    st(tau, k, 0.0);
    st(off, k, alpha);
    return 0.0;
  }
  // The norm is computed on x / max|x| so tiny entries do not underflow when squared.
  xmax = max(xmax, Math.abs(alpha));
  const inv = 1.0 / xmax;
  let ss: f64 = 0.0;
  for (let j = c0; j < n; j++) {
    const y = ld(r, j) * inv;
    ss += y * y;
  }
  const nrm = xmax * Math.sqrt(ss);
  const beta = alpha >= 0.0 ? -nrm : nrm;
  const tk = (beta - alpha) / beta;
  const vs = 1.0 / (alpha - beta);
  st(r, c0, 1.0);
  for (let j = c0 + 1; j < n; j++) st(r, j, ld(r, j) * vs);
  st(tau, k, tk);
  st(off, k, beta);
  return tk;
}

/**
 * Reduces the full symmetric n×n matrix in `work` (ld n) to tridiagonal form by Householder
 * reflections H_k, k = 0..n−3 (see reflector). diag receives the diagonal, off[i] the (i, i+1)
 * off-diagonal (off[n−1] = 0); v_k stays in row k of work at columns k+1..n−1, τ_k in tau.
 *
 * Step k computes p = τ·A₂₂·v and w = p − (τ/2)(pᵀv)·v, then A₂₂ ← A₂₂ − v·wᵀ − w·vᵀ. The
 * rank-2 update of every row after the first is fused with the next step's product A₃₃·v_{k+1}
 * (v_{k+1} only needs the first row of the updated A₂₂), so each step streams A₂₂ once.
 * Column k+1 of those rows is skipped: it mirrors row k+1, which is consumed by v_{k+1}.
 */
function tridiagonalize(n: i32): void {
  const t = work;
  let p = pvec, pn = pvec2;
  let tk = n > 2 ? reflector(n, 0) : 0.0;
  if (tk != 0.0) {
    const vp = t + 8;
    for (let i = 1; i < n; i++) st(p, i, tk * dot(t + (<usize>(i * n + 1) << 3), vp, n - 1));
  }
  for (let k = 0; k < n - 2; k++) {
    const c0 = k + 1, m = n - c0;
    const vp = t + (<usize>(k * n + c0) << 3);
    const pp = p + (<usize>c0 << 3);
    const row0 = t + (<usize>(c0 * n + c0) << 3);
    if (tk != 0.0) {
      // w = p − (τ/2)(pᵀv)·v in place, then the first row of A₂₂.
      const kk = 0.5 * tk * dot(pp, vp, m);
      axpyNeg(kk, vp, pp, m);
      rank2Row(ld(vp, 0), pp, ld(pp, 0), vp, row0, m);
    }
    const tn = c0 < n - 2 ? reflector(n, c0) : 0.0;
    const vn = row0 + 8;
    const pq = pn + (<usize>c0 << 3);
    if (tk != 0.0) {
      const w1 = pp + 8, v1 = vp + 8;
      for (let i = 1; i < m; i++) {
        const y = row0 + (<usize>(i * n + 1) << 3);
        if (tn != 0.0) st(pq, i, tn * rank2RowDot(ld(vp, i), w1, ld(pp, i), v1, y, m - 1, vn));
        else rank2Row(ld(vp, i), w1, ld(pp, i), v1, y, m - 1);
      }
    } else if (tn != 0.0) {
      for (let i = 1; i < m; i++) st(pq, i, tn * dot(row0 + (<usize>(i * n + 1) << 3), vn, m - 1));
    }
    tk = tn;
    const swap = p;
    p = pn;
    pn = swap;
  }
  if (n >= 2) {
    st(diag, n - 2, ld(t, (n - 2) * n + n - 2));
    st(off, n - 2, ld(t, (n - 2) * n + n - 1));
  }
  st(diag, n - 1, ld(t, (n - 1) * n + n - 1));
  st(off, n - 1, 0.0);
}

/** Second result of dot2. */
let dot2Second: f64 = 0.0;

/** Returns Σ y[j]·a[j] and leaves Σ y[j]·b[j] in dot2Second, in one pass over len doubles. */
@inline function dot2(y: usize, a: usize, b: usize, len: i32): f64 {
  let s0 = f64x2.splat(0.0), s1 = f64x2.splat(0.0), t0 = f64x2.splat(0.0), t1 = f64x2.splat(0.0);
  const end = y + (<usize>len << 3);
  let py = y, pa = a, pb = b;
  while (py + 32 <= end) {
    const y0 = v128.load(py), y1 = v128.load(py, 16);
    s0 = madd(y0, v128.load(pa), s0);
    t0 = madd(y0, v128.load(pb), t0);
    s1 = madd(y1, v128.load(pa, 16), s1);
    t1 = madd(y1, v128.load(pb, 16), t1);
    py += 32;
    pa += 32;
    pb += 32;
  }
  if (py + 16 <= end) {
    const y0 = v128.load(py);
    s0 = madd(y0, v128.load(pa), s0);
    t0 = madd(y0, v128.load(pb), t0);
    py += 16;
    pa += 16;
    pb += 16;
  }
  const s = f64x2.add(s0, s1), t = f64x2.add(t0, t1);
  let rs = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  let rt = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  if (py < end) {
    const yl = load<f64>(py);
    rs += yl * load<f64>(pa);
    rt += yl * load<f64>(pb);
  }
  dot2Second = rt;
  return rs;
}

/**
 * Writes Qᵀ = H_{n−3}···H_0 into vt by multiplying from the right from k = n−3 down, so each
 * step only touches rows and columns ≥ k+1 (the rest is still identity). Reflectors are applied
 * in pairs, M ← M·H_k·H_{k−1}, with two passes over each row instead of four:
 * s₁ = τ_k·(y·v_k), s₂ = τ_{k−1}·(y·v_{k−1} − s₁·v_kᵀv_{k−1}), y ← y − s₁·v_k − s₂·v_{k−1}.
 */
function formQt(n: i32): void {
  const ldv = ldt;
  for (let i = 0; i < n; i++) {
    const row = vt + (<usize>(i * ldv) << 3);
    for (let j = 0; j < n; j++) st(row, j, i == j ? 1.0 : 0.0);
  }
  let k = n - 3;
  for (; k >= 1; k -= 2) {
    const t1 = ld(tau, k), t2 = ld(tau, k - 1);
    if (t1 == 0.0 && t2 == 0.0) continue;
    // v1 = v_k at columns k+1..; v2 = v_{k−1} at columns k.. (v2[0] = 1).
    const len = n - k - 1;
    const v1 = work + (<usize>(k * n + k + 1) << 3);
    const v2 = work + (<usize>((k - 1) * n + k) << 3);
    // With τ_k = 0, v1 holds x rather than a reflector vector; s₁ = 0 then cancels it.
    const gamma = t1 != 0.0 ? dot(v1, v2 + 8, len) : 0.0;
    // Row k is still e_k before H_{k−1}: it becomes e_k − τ_{k−1}·v_{k−1}ᵀ.
    const rk = vt + (<usize>(k * ldv + k) << 3);
    st(rk, 0, 1.0 - t2);
    for (let j = 1; j <= len; j++) st(rk, j, -t2 * ld(v2, j));
    for (let i = k + 1; i < n; i++) {
      // Column k of row i is 0 before H_{k−1}.
      const y = vt + (<usize>(i * ldv + k) << 3);
      const d1 = dot2(y + 8, v1, v2 + 8, len);
      const s1 = t1 * d1;
      const s2 = t2 * (dot2Second - s1 * gamma);
      st(y, 0, -s2);
      rank2Row(s1, v1, s2, v2 + 8, y + 8, len);
    }
  }
  if (k == 0) {
    const tk = ld(tau, 0);
    if (tk != 0.0) {
      const m = n - 1;
      const vp = work + 8;
      for (let i = 1; i < n; i++) {
        const row = vt + (<usize>(i * ldv + 1) << 3);
        axpyNeg(tk * dot(row, vp, m), vp, row, m);
      }
    }
  }
}

/** √(a² + b²) without overflow or destructive underflow. */
@inline function pythag(a: f64, b: f64): f64 {
  a = Math.abs(a);
  b = Math.abs(b);
  if (a < b) {
    const x = a;
    a = b;
    b = x;
  }
  if (a == 0.0) return 0.0;
  const q = b / a;
  return a * Math.sqrt(1.0 + q * q);
}

/**
 * √(a² + b²): the plain formula when max(|a|, |b|) ∈ [2⁻⁵⁰⁰, 2⁵⁰⁰], where the squares can neither
 * overflow nor lose accuracy to underflow; pythag otherwise. It sits on the QL recurrence's
 * critical path, where pythag's extra division costs time.
 */
@inline function hypot2(a: f64, b: f64): f64 {
  const big = max(Math.abs(a), Math.abs(b));
  if (big > 3.05e-151 && big < 3.27e150) return Math.sqrt(a * a + b * b);
  return pythag(a, b);
}

/**
 * Implicit QL with Wilkinson shifts on the tridiagonal (diag, off), logging each sweep's
 * rotations and applying the log to the rows of vt whenever it fills and at the end.
 * On return diag holds the eigenvalues (unsorted).
 * Returns 0, or l + 1 when the iteration budget ran out at eigenvalue l.
 */
function tridiagonalQL(n: i32): i32 {
  const d = diag, e = off;
  let budget = MAX_ITER_PER_EIGENVALUE * n;
  for (let l = 0; l < n; l++) {
    for (;;) {
      // Find the first negligible off-diagonal at or below l; the block l..m is unreduced.
      let m = l;
      for (; m < n - 1; m++) {
        const em = Math.abs(ld(e, m));
        if (em <= EPS * (Math.abs(ld(d, m)) + Math.abs(ld(d, m + 1))) || em <= SAFMIN) break;
      }
      if (m == l) break;
      if (budget-- == 0) return l + 1;
      if (rotCount + (m - l) > logCap) flushRotations(n);

      // Wilkinson shift from the leading 2×2 of the block.
      const el = ld(e, l);
      let g = (ld(d, l + 1) - ld(d, l)) / (2.0 * el);
      let r = pythag(g, 1.0);
      g = ld(d, m) - ld(d, l) + el / (g + (g >= 0.0 ? r : -r));
      let s: f64 = 1.0, c: f64 = 1.0, p: f64 = 0.0;
      let rp = rotLog + (<usize>rotCount << 4);
      let i = m - 1;
      for (; i >= l; i--) {
        const ei = ld(e, i);
        const f = s * ei, b = c * ei;
        r = hypot2(f, g);
        st(e, i + 1, r);
        if (r == 0.0) break;
        const rinv = 1.0 / r;
        s = f * rinv;
        c = g * rinv;
        g = ld(d, i + 1) - p;
        r = (ld(d, i) - g) * s + 2.0 * c * b;
        p = s * r;
        st(d, i + 1, g + p);
        g = c * r - b;
        store<f64>(rp, c);
        store<f64>(rp, s, 8);
        rp += 16;
      }
      const count = m - 1 - i;
      if (count > 0) {
        const sp = sweepLog + (<usize>sweepCount << 3);
        store<i32>(sp, m);
        store<i32>(sp, count, 4);
        sweepCount++;
        rotCount += count;
      }
      if (i >= l) {
        // The chase hit an exact zero: the block split at i, deflate and retry.
        st(d, i + 1, ld(d, i + 1) - p);
        st(e, m, 0.0);
        continue;
      }
      st(d, l, ld(d, l) - p);
      st(e, l, g);
      st(e, m, 0.0);
    }
  }
  flushRotations(n);
  return 0;
}

/**
 * Applies the logged sweeps to the rows of vt (n columns) and empties the log.
 * A sweep (m, count) holds rotations for the row pairs (i, i+1), i = m−1 down to m−count, in
 * that order: (row i, row i+1) ← (c·row i − s·row i+1, s·row i + c·row i+1).
 */
function flushRotations(n: i32): void {
  if (sweepCount == 0) return;
  let col = 0;
  for (; col + 8 <= n; col += 8) applyStrip8(vt + (<usize>col << 3), ldt);
  for (; col + 2 <= n; col += 2) applyStrip2(vt + (<usize>col << 3), ldt);
  if (col < n) applyStrip1(vt + (<usize>col << 3), ldt);
  rotCount = 0;
  sweepCount = 0;
}

/** flushRotations on 8 adjacent columns starting at base; the carried row stays in 4 registers. */
function applyStrip8(base: usize, ldv: i32): void {
  const stride = <usize>ldv << 3;
  let rp = rotLog;
  for (let q = 0; q < sweepCount; q++) {
    const sp = sweepLog + (<usize>q << 3);
    const m = load<i32>(sp), count = load<i32>(sp, 4);
    let row = base + <usize>m * stride;
    let y0 = v128.load(row), y1 = v128.load(row, 16), y2 = v128.load(row, 32), y3 = v128.load(row, 48);
    for (let j = 0; j < count; j++) {
      const c = v128.load64_splat(rp), s = v128.load64_splat(rp, 8);
      rp += 16;
      const prev = row - stride;
      const x0 = v128.load(prev), x1 = v128.load(prev, 16), x2 = v128.load(prev, 32), x3 = v128.load(prev, 48);
      v128.store(row, madd(s, x0, f64x2.mul(c, y0)));
      v128.store(row, madd(s, x1, f64x2.mul(c, y1)), 16);
      v128.store(row, madd(s, x2, f64x2.mul(c, y2)), 32);
      v128.store(row, madd(s, x3, f64x2.mul(c, y3)), 48);
      y0 = nmadd(s, y0, f64x2.mul(c, x0));
      y1 = nmadd(s, y1, f64x2.mul(c, x1));
      y2 = nmadd(s, y2, f64x2.mul(c, x2));
      y3 = nmadd(s, y3, f64x2.mul(c, x3));
      row = prev;
    }
    v128.store(row, y0);
    v128.store(row, y1, 16);
    v128.store(row, y2, 32);
    v128.store(row, y3, 48);
  }
}

/** flushRotations on 2 adjacent columns starting at base. */
function applyStrip2(base: usize, ldv: i32): void {
  const stride = <usize>ldv << 3;
  let rp = rotLog;
  for (let q = 0; q < sweepCount; q++) {
    const sp = sweepLog + (<usize>q << 3);
    const m = load<i32>(sp), count = load<i32>(sp, 4);
    let row = base + <usize>m * stride;
    let y = v128.load(row);
    for (let j = 0; j < count; j++) {
      const c = v128.load64_splat(rp), s = v128.load64_splat(rp, 8);
      rp += 16;
      const prev = row - stride;
      const x = v128.load(prev);
      v128.store(row, madd(s, x, f64x2.mul(c, y)));
      y = nmadd(s, y, f64x2.mul(c, x));
      row = prev;
    }
    v128.store(row, y);
  }
}

/** flushRotations on the single column at base. */
function applyStrip1(base: usize, ldv: i32): void {
  const stride = <usize>ldv << 3;
  let rp = rotLog;
  for (let q = 0; q < sweepCount; q++) {
    const sp = sweepLog + (<usize>q << 3);
    const m = load<i32>(sp), count = load<i32>(sp, 4);
    let row = base + <usize>m * stride;
    let y = load<f64>(row);
    for (let j = 0; j < count; j++) {
      const c = load<f64>(rp), s = load<f64>(rp, 8);
      rp += 16;
      const prev = row - stride;
      const x = load<f64>(prev);
      store<f64>(row, s * x + c * y);
      y = c * x - s * y;
      row = prev;
    }
    store<f64>(row, y);
  }
}

/**
 * V[i][j] = Vᵀ[perm[j]][i]: transposes vt into v (ld ldv) with the columns sorted. Eight
 * source rows are read together so each output row gets 8 contiguous values per pass.
 */
function transposeOut(n: i32, v: usize, ldv: i32): void {
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const r0 = rowOf(j), r1 = rowOf(j + 1), r2 = rowOf(j + 2), r3 = rowOf(j + 3);
    const r4 = rowOf(j + 4), r5 = rowOf(j + 5), r6 = rowOf(j + 6), r7 = rowOf(j + 7);
    for (let i = 0; i < n; i++) {
      const o = v + (<usize>(i * ldv + j) << 3), s = <usize>i << 3;
      store<f64>(o, load<f64>(r0 + s));
      store<f64>(o, load<f64>(r1 + s), 8);
      store<f64>(o, load<f64>(r2 + s), 16);
      store<f64>(o, load<f64>(r3 + s), 24);
      store<f64>(o, load<f64>(r4 + s), 32);
      store<f64>(o, load<f64>(r5 + s), 40);
      store<f64>(o, load<f64>(r6 + s), 48);
      store<f64>(o, load<f64>(r7 + s), 56);
    }
  }
  for (; j < n; j++) {
    const r = rowOf(j);
    for (let i = 0; i < n; i++) st(v, i * ldv + j, ld(r, i));
  }
}

/** Address of row perm[j] of vt. */
@inline function rowOf(j: i32): usize {
  return vt + (<usize>(load<i32>(perm + (<usize>j << 2)) * ldt) << 3);
}
