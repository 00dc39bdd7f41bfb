// Damped Cholesky factorisation and the solves built on it, float64, row-major.
//
// The O(n³) parts are blocked so that almost all flops go through the GEMM driver
// (gemmAcc): right-looking Cholesky whose trailing update is a lower-only rank-nb
// update, right-looking triangular solves for many right-hand sides, and the
// inverse as L⁻¹ (column-block solves) followed by the lower half of L⁻ᵀ·L⁻¹.
// What is left outside GEMM (diagonal blocks, panels, one-vector solves) reads
// rows of L contiguously with f64x2 dot products or axpys, never columns.
import { gemmAcc } from "./gemm";

/** Block size of the blocked algorithms. */
const NB: i32 = 64;

/** Below this many right-hand sides the solves go one column at a time (vector kernels). */
const RHS_BLOCKED: i32 = 4;

// Per-column solves of a strided B gather the column into this module-level buffer,
// grown on demand and kept; potri keeps L⁻¹ in the second one.
let colBuf: usize = 0;
let colCap: usize = 0;
let invBuf: usize = 0;
let invCap: usize = 0;

function columnScratch(bytes: usize): usize {
  if (bytes > colCap) {
    if (colBuf != 0) heap.free(colBuf);
    colBuf = heap.alloc(bytes);
    colCap = bytes;
  }
  return colBuf;
}

function inverseScratch(bytes: usize): usize {
  if (bytes > invCap) {
    if (invBuf != 0) heap.free(invBuf);
    invBuf = heap.alloc(bytes);
    invCap = bytes;
  }
  return invBuf;
}

/** Address of element (i, j) of the row-major matrix at p with leading dimension ld. */
// @ts-ignore: decorator
@inline function at(p: usize, ld: i32, i: i32, j: i32): usize {
  return p + ((<usize>i * <usize>ld + <usize>j) << 3);
}

/** c − a·b lane-wise (fused in the relaxed-SIMD build). */
// @ts-ignore: decorator
@inline function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_nmadd(a, b, c);
  return f64x2.sub(c, f64x2.mul(a, b));
}

/** c + a·b lane-wise (fused in the relaxed-SIMD build). */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Σ_{q<len} x[q]·y[q] over contiguous vectors (two accumulators hide the add latency). */
function dot(x: usize, y: usize, len: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let q = 0;
  for (; q + 4 <= len; q += 4) {
    const o = <usize>q << 3;
    s0 = madd(v128.load(x + o), v128.load(y + o), s0);
    s1 = madd(v128.load(x + o, 16), v128.load(y + o, 16), s1);
  }
  if (q + 2 <= len) {
    const o = <usize>q << 3;
    s0 = madd(v128.load(x + o), v128.load(y + o), s0);
    q += 2;
  }
  let s = hsum(f64x2.add(s0, s1));
  if (q < len) s += load<f64>(x + (<usize>q << 3)) * load<f64>(y + (<usize>q << 3));
  return s;
}

// The two results of dot2.
let dotA: f64 = 0;
let dotB: f64 = 0;

/** dotA ← x0·y, dotB ← x1·y over `len` contiguous elements: two rows against one, sharing y's loads. */
function dot2(x0: usize, x1: usize, y: usize, len: i32): void {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), b0 = f64x2.splat(0), b1 = f64x2.splat(0);
  let q = 0;
  for (; q + 4 <= len; q += 4) {
    const o = <usize>q << 3;
    const y0 = v128.load(y + o), y1 = v128.load(y + o, 16);
    a0 = madd(v128.load(x0 + o), y0, a0);
    a1 = madd(v128.load(x0 + o, 16), y1, a1);
    b0 = madd(v128.load(x1 + o), y0, b0);
    b1 = madd(v128.load(x1 + o, 16), y1, b1);
  }
  if (q + 2 <= len) {
    const o = <usize>q << 3;
    const y0 = v128.load(y + o);
    a0 = madd(v128.load(x0 + o), y0, a0);
    b0 = madd(v128.load(x1 + o), y0, b0);
    q += 2;
  }
  let sa = hsum(f64x2.add(a0, a1)), sb = hsum(f64x2.add(b0, b1));
  if (q < len) {
    const o = <usize>q << 3;
    const yq = load<f64>(y + o);
    sa += load<f64>(x0 + o) * yq;
    sb += load<f64>(x1 + o) * yq;
  }
  dotA = sa;
  dotB = sb;
}

/**
 * In-place Banachiewicz (row by row) factor of the kb×kb diagonal block at d (ld),
 * whose lower triangle holds A − (updates from earlier blocks); damping is added to
 * each diagonal entry here. Returns 0, or 1 + the local index of the failing pivot.
 */
function factorDiagonal(kb: i32, d: usize, ld: i32, damping: f64): i32 {
  for (let i = 0; i < kb; i++) {
    const ri = at(d, ld, i, 0);
    for (let j = 0; j < i; j++) {
      const rj = at(d, ld, j, 0);
      const pij = ri + (<usize>j << 3);
      store<f64>(pij, (load<f64>(pij) - dot(ri, rj, j)) / load<f64>(rj + (<usize>j << 3)));
    }
    const pii = ri + (<usize>i << 3);
    const s = load<f64>(pii) + damping - dot(ri, ri, i);
    // Also rejects NaN and +∞: every non-finite entry of row i reaches s through the dot.
    if (!(s > 0.0 && s < Infinity)) return i + 1;
    store<f64>(pii, Math.sqrt(s));
  }
  return 0;
}

/**
 * Panel solve X·L11ᵀ = P in place: the m×kb panel at p (ld) is overwritten row by row,
 * L11 is the factored kb×kb diagonal block at d (same ld). Two panel rows at a time
 * share the loads of L11's rows.
 */
function solvePanel(m: i32, kb: i32, p: usize, d: usize, ld: i32): void {
  const rowBytes = <usize>ld << 3;
  let r = 0;
  for (; r + 2 <= m; r += 2) {
    const x0 = at(p, ld, r, 0), x1 = x0 + rowBytes;
    for (let j = 0; j < kb; j++) {
      const lj = at(d, ld, j, 0);
      dot2(x0, x1, lj, j);
      const o = <usize>j << 3;
      const djj = load<f64>(lj + o);
      store<f64>(x0 + o, (load<f64>(x0 + o) - dotA) / djj);
      store<f64>(x1 + o, (load<f64>(x1 + o) - dotB) / djj);
    }
  }
  if (r < m) {
    const x = at(p, ld, r, 0);
    for (let j = 0; j < kb; j++) {
      const lj = at(d, ld, j, 0);
      const o = <usize>j << 3;
      store<f64>(x + o, (load<f64>(x + o) - dot(x, lj, j)) / load<f64>(lj + o));
    }
  }
}

/**
 * Lower Cholesky factor of (A + damping·I): L·Lᵀ = A + damping·I.
 * Only the lower triangle of A (n×n, lda ≥ n) is read. L is written to l (ldl ≥ n)
 * with zeros above the diagonal; l may be the same buffer as a (in place, lda = ldl),
 * otherwise it must not overlap a.
 * Returns 0 on success, or j + 1 when pivot j is not positive or not finite; L is
 * then incomplete and must not be used. On success every entry of L is finite.
 */
export function potrf(n: i32, a: usize, lda: i32, damping: f64, l: usize, ldl: i32): i32 {
  if (n <= 0) return 0;
  // Work in place in L: bring A's lower triangle over (unless l is a) and clear the upper.
  for (let i = 0; i < n; i++) {
    const ri = at(l, ldl, i, 0);
    if (l != a) memory.copy(ri, at(a, lda, i, 0), <usize>(i + 1) << 3);
    memory.fill(ri + (<usize>(i + 1) << 3), 0, <usize>(n - i - 1) << 3);
  }
  for (let k0 = 0; k0 < n; k0 += NB) {
    const kb = min(NB, n - k0);
    const d = at(l, ldl, k0, k0);
    const info = factorDiagonal(kb, d, ldl, damping);
    if (info != 0) return k0 + info;
    const m = n - k0 - kb;
    if (m > 0) {
      const p21 = at(l, ldl, k0 + kb, k0);
      solvePanel(m, kb, p21, d, ldl);
      // A22 −= L21·L21ᵀ, lower triangle only; L21 and A22 share no element.
      gemmAcc(m, m, kb, -1.0, p21, ldl, 1, p21, 1, ldl, at(l, ldl, k0 + kb, k0 + kb), ldl, true);
    }
  }
  return 0;
}

/** Forward substitution L·x = b in place on the contiguous vector x. */
function forwardVector(n: i32, l: usize, ldl: i32, x: usize): void {
  const rowBytes = <usize>ldl << 3;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const r0 = at(l, ldl, i, 0), r1 = r0 + rowBytes;
    dot2(r0, r1, x, i);
    const o = <usize>i << 3;
    const xi = (load<f64>(x + o) - dotA) / load<f64>(r0 + o);
    store<f64>(x + o, xi);
    store<f64>(x + o, (load<f64>(x + o, 8) - dotB - load<f64>(r1 + o) * xi) / load<f64>(r1 + o, 8), 8);
  }
  if (i < n) {
    const r = at(l, ldl, i, 0), o = <usize>i << 3;
    store<f64>(x + o, (load<f64>(x + o) - dot(r, x, i)) / load<f64>(r + o));
  }
}

/**
 * Back substitution Lᵀ·x = b in place on the contiguous vector x, in axpy form over
 * rows of L (x[0:i] −= x_i·L[i, 0:i]), two rows per sweep over x.
 */
function backwardVector(n: i32, l: usize, ldl: i32, x: usize): void {
  const rowBytes = <usize>ldl << 3;
  let i = n - 1;
  for (; i >= 1; i -= 2) {
    const r0 = at(l, ldl, i, 0), r1 = r0 - rowBytes;
    const o = <usize>i << 3;
    const xi = load<f64>(x + o) / load<f64>(r0 + o);
    store<f64>(x + o, xi);
    const xh = (load<f64>(x + o - 8) - load<f64>(r0 + o - 8) * xi) / load<f64>(r1 + o - 8);
    store<f64>(x + o - 8, xh);
    // x[0:i−1] −= xi·L[i, 0:i−1] + xh·L[i−1, 0:i−1]
    const vi = f64x2.splat(xi), vh = f64x2.splat(xh);
    const len = i - 1;
    let q = 0;
    for (; q + 4 <= len; q += 4) {
      const p = <usize>q << 3;
      let v0 = v128.load(x + p), v1 = v128.load(x + p, 16);
      v0 = nmadd(vi, v128.load(r0 + p), v0);
      v1 = nmadd(vi, v128.load(r0 + p, 16), v1);
      v0 = nmadd(vh, v128.load(r1 + p), v0);
      v1 = nmadd(vh, v128.load(r1 + p, 16), v1);
      v128.store(x + p, v0);
      v128.store(x + p, v1, 16);
    }
    for (; q < len; q++) {
      const p = <usize>q << 3;
      store<f64>(x + p, load<f64>(x + p) - xi * load<f64>(r0 + p) - xh * load<f64>(r1 + p));
    }
  }
  if (i == 0) store<f64>(x, load<f64>(x) / load<f64>(l));
}

/**
 * One row of a small triangular solve with many right-hand sides, in registers:
 *   dst[c] ← (dst[c] − Σ_{q<count} coef_q·src_q[c]) / diag   for c < width,
 * where src_q = src + q·srcStep and coef_q is the f64 at coef + q·coefStep (byte steps).
 */
function combineRow(width: i32, dst: usize, src: usize, srcStep: usize, coef: usize, coefStep: usize, count: i32, diag: f64): void {
  const dv = f64x2.splat(diag);
  let c = 0;
  for (; c + 8 <= width; c += 8) {
    const o = <usize>c << 3;
    let a0 = v128.load(dst + o), a1 = v128.load(dst + o, 16), a2 = v128.load(dst + o, 32), a3 = v128.load(dst + o, 48);
    let s = src + o, k = coef;
    for (let q = 0; q < count; q++) {
      const w = v128.load64_splat(k);
      a0 = nmadd(w, v128.load(s), a0);
      a1 = nmadd(w, v128.load(s, 16), a1);
      a2 = nmadd(w, v128.load(s, 32), a2);
      a3 = nmadd(w, v128.load(s, 48), a3);
      s += srcStep;
      k += coefStep;
    }
    v128.store(dst + o, f64x2.div(a0, dv));
    v128.store(dst + o, f64x2.div(a1, dv), 16);
    v128.store(dst + o, f64x2.div(a2, dv), 32);
    v128.store(dst + o, f64x2.div(a3, dv), 48);
  }
  for (; c + 2 <= width; c += 2) {
    const o = <usize>c << 3;
    let a0 = v128.load(dst + o);
    let s = src + o, k = coef;
    for (let q = 0; q < count; q++) {
      a0 = nmadd(v128.load64_splat(k), v128.load(s), a0);
      s += srcStep;
      k += coefStep;
    }
    v128.store(dst + o, f64x2.div(a0, dv));
  }
  if (c < width) {
    const o = <usize>c << 3;
    let a0 = load<f64>(dst + o);
    let s = src + o, k = coef;
    for (let q = 0; q < count; q++) {
      a0 -= load<f64>(k) * load<f64>(s);
      s += srcStep;
      k += coefStep;
    }
    store<f64>(dst + o, a0 / diag);
  }
}

/** L·X = B in place, B n×nrhs: diagonal blocks in registers, the rest as one GEMM per block (right-looking). */
function forwardBlocked(n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  const sb = <usize>ldb << 3;
  for (let i0 = 0; i0 < n; i0 += NB) {
    const i1 = min(i0 + NB, n);
    const b0 = at(b, ldb, i0, 0);
    for (let i = i0; i < i1; i++) {
      combineRow(nrhs, at(b, ldb, i, 0), b0, sb, at(l, ldl, i, i0), 8, i - i0, load<f64>(at(l, ldl, i, i)));
    }
    if (i1 < n) gemmAcc(n - i1, nrhs, i1 - i0, -1.0, at(l, ldl, i1, i0), ldl, 1, b0, ldb, 1, at(b, ldb, i1, 0), ldb, false);
  }
}

/** Lᵀ·X = B in place, B n×nrhs: blocks bottom-up, the rows above each block updated by one GEMM with Lᵀ. */
function backwardBlocked(n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  const sb = <usize>ldb << 3, sl = <usize>ldl << 3;
  for (let i0 = ((n - 1) / NB) * NB; i0 >= 0; i0 -= NB) {
    const i1 = min(i0 + NB, n);
    for (let p = i1 - 1; p >= i0; p--) {
      // Row p meets column p of Lᵀ's block: L[q, p] for q in (p, i1), a strided walk of at most NB scalars.
      combineRow(nrhs, at(b, ldb, p, 0), at(b, ldb, p + 1, 0), sb, at(l, ldl, p + 1, p), sl, i1 - 1 - p, load<f64>(at(l, ldl, p, p)));
    }
    if (i0 > 0) gemmAcc(i0, nrhs, i1 - i0, -1.0, at(l, ldl, i0, 0), 1, ldl, at(b, ldb, i0, 0), ldb, 1, b, ldb, false);
  }
}

/**
 * Solves L·X = B (trans = 0) or Lᵀ·X = B (trans = 1) in place: B (n×nrhs, ldb ≥ nrhs)
 * is overwritten by X. L is lower triangular n×n (ldl ≥ n); its upper triangle is not read.
 * B must not overlap L.
 */
export function trsm(trans: i32, n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  if (n <= 0 || nrhs <= 0) return;
  if (nrhs >= RHS_BLOCKED) {
    if (trans) backwardBlocked(n, nrhs, l, ldl, b, ldb);
    else forwardBlocked(n, nrhs, l, ldl, b, ldb);
    return;
  }
  for (let c = 0; c < nrhs; c++) {
    const x = gatherColumn(n, b + (<usize>c << 3), ldb);
    if (trans) backwardVector(n, l, ldl, x);
    else forwardVector(n, l, ldl, x);
    scatterColumn(n, x, b + (<usize>c << 3), ldb);
  }
}

/** Solves L·Lᵀ·X = B in place (B n×nrhs, ldb ≥ nrhs), L from potrf. B must not overlap L. */
export function potrs(n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  if (n <= 0 || nrhs <= 0) return;
  if (nrhs >= RHS_BLOCKED) {
    forwardBlocked(n, nrhs, l, ldl, b, ldb);
    backwardBlocked(n, nrhs, l, ldl, b, ldb);
    return;
  }
  for (let c = 0; c < nrhs; c++) {
    const x = gatherColumn(n, b + (<usize>c << 3), ldb);
    forwardVector(n, l, ldl, x);
    backwardVector(n, l, ldl, x);
    scatterColumn(n, x, b + (<usize>c << 3), ldb);
  }
}

/** A contiguous copy of the column at p with stride ld (p itself when already contiguous). */
function gatherColumn(n: i32, p: usize, ld: i32): usize {
  if (ld == 1) return p;
  const x = columnScratch(<usize>n << 3);
  const step = <usize>ld << 3;
  for (let i = 0; i < n; i++) store<f64>(x + (<usize>i << 3), load<f64>(p + <usize>i * step));
  return x;
}

function scatterColumn(n: i32, x: usize, p: usize, ld: i32): void {
  if (x == p) return;
  const step = <usize>ld << 3;
  for (let i = 0; i < n; i++) store<f64>(p + <usize>i * step, load<f64>(x + (<usize>i << 3)));
}

/**
 * out ← (L·Lᵀ)⁻¹, the full symmetric n×n inverse (ldo ≥ n), L from potrf.
 * out must not overlap L. The result is exactly symmetric (lower half mirrored).
 */
export function potri(n: i32, l: usize, ldl: i32, out: usize, ldo: i32): void {
  if (n <= 0) return;
  // W = L⁻¹ (lower triangular) in scratch, one column block at a time: L[J:, J:]·W[J:, J] = E[J:, J].
  // The strict upper half of each diagonal block of W is left exactly zero (it is read below).
  const w = inverseScratch(<usize>n * <usize>n << 3);
  for (let j0 = 0; j0 < n; j0 += NB) {
    const jb = min(NB, n - j0);
    for (let r = j0; r < n; r++) {
      const row = at(w, n, r, j0);
      memory.fill(row, 0, <usize>jb << 3);
      if (r < j0 + jb) store<f64>(row + (<usize>(r - j0) << 3), 1.0);
    }
    forwardBlocked(n - j0, jb, at(l, ldl, j0, j0), ldl, at(w, n, j0, j0), n);
  }
  // Lower half of Wᵀ·W by block rows: out[I, J] = Σ_{P ≥ I} W[P, I]ᵀ·W[P, J], so k starts at I's first row.
  for (let i0 = 0; i0 < n; i0 += NB) {
    const ib = min(NB, n - i0);
    const k = n - i0;
    for (let r = i0; r < i0 + ib; r++) memory.fill(at(out, ldo, r, 0), 0, <usize>(r + 1) << 3);
    const wi = at(w, n, i0, i0);
    if (i0 > 0) gemmAcc(ib, i0, k, 1.0, wi, 1, n, at(w, n, i0, 0), n, 1, at(out, ldo, i0, 0), ldo, false);
    gemmAcc(ib, ib, k, 1.0, wi, 1, n, wi, n, 1, at(out, ldo, i0, i0), ldo, true);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) store<f64>(at(out, ldo, j, i), load<f64>(at(out, ldo, i, j)));
  }
}
