// Damped Cholesky factorisation and the solves built on it, float64, row-major.
//
// The O(n³) work is recursive so that almost all flops go through the GEMM driver
// (gemmAcc) with a large inner dimension: the factorisation splits its columns in
// halves (left half, its lower-only rank-k update of the right half, right half), the
// solves with many right-hand sides split their rows the same way, and the inverse is
// L⁻¹ by column blocks followed by the lower half of L⁻ᵀ·L⁻¹ by block rows.
// What is left outside GEMM (16-wide leaves, one-vector solves) reads L along rows with
// f64x2 dot products or axpys, or across rows in registers; it never walks long columns.
import { gemmAcc } from "./gemm";
import { allocBytes } from "./memory";

/** Width of the recursions' leaves, which are done by substitution instead of GEMM. */
const LEAF: i32 = 16;

/** Row count up to which the many-right-hand-side solves stop recursing and substitute in registers. */
const SOLVE_LEAF: i32 = 64;

/** Column-block width of potri's two passes. */
const NB: i32 = 32;

/**
 * Below this many right-hand sides the solves go one column at a time (vector kernels):
 * measured, re-reading L per column beat GEMM calls with such a narrow B.
 */
const RHS_BLOCKED: i32 = 16;

// Per-column solves of a strided B gather the column into this module-level buffer,
// grown on demand and kept; potri keeps L⁻¹ in the second one.
let colBuf: usize = 0;
let colCap: usize = 0;
let invBuf: usize = 0;
let invCap: usize = 0;

function columnScratch(bytes: usize): usize {
  if (bytes > colCap) {
    // Forget the old buffer before allocating: if growth traps, the next call starts clean.
    if (colBuf != 0) heap.free(colBuf);
    colBuf = 0;
    colCap = 0;
    colBuf = allocBytes(bytes);
    colCap = bytes;
  }
  return colBuf;
}

function inverseScratch(bytes: usize): usize {
  if (bytes > invCap) {
    if (invBuf != 0) heap.free(invBuf);
    invBuf = 0;
    invCap = 0;
    invBuf = allocBytes(bytes);
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

// 1 / L[j, j] of the current leaf's diagonal block (LEAF entries of static memory).
const recipDiag: usize = memory.data(LEAF << 3);

// Column j of the diagonal block being factored, below the diagonal (contiguous copy).
const diagColumn: usize = memory.data(LEAF << 3);

/**
 * In-place right-looking factor of the w×w diagonal block at d (ld, w ≤ LEAF), whose
 * lower triangle holds A − (updates from earlier columns); damping is added to each pivot
 * here. Column by column, so that the updates of one column overlap the square root of
 * the next pivot (a row-by-row order would chain every entry through a division).
 * Leaves 1 / L[j, j] in recipDiag. Returns 0, or 1 + the local index of the failing pivot.
 */
function factorDiagonal(w: i32, d: usize, ld: i32, damping: f64): i32 {
  for (let j = 0; j < w; j++) {
    const pjj = at(d, ld, j, j);
    const s = load<f64>(pjj) + damping;
    // Also rejects NaN and +∞: every non-finite entry of row j has reached s by now.
    if (!(s > 0.0 && s < Infinity)) return j + 1;
    const ljj = Math.sqrt(s), r = 1.0 / ljj;
    store<f64>(pjj, ljj);
    store<f64>(recipDiag + (<usize>j << 3), r);
    for (let i = j + 1; i < w; i++) {
      const pij = at(d, ld, i, j);
      const v = load<f64>(pij) * r;
      store<f64>(pij, v);
      store<f64>(diagColumn + (<usize>i << 3), v);
    }
    for (let i = j + 1; i < w; i++) {
      const lij = load<f64>(diagColumn + (<usize>i << 3));
      const ri = at(d, ld, i, 0);
      for (let k = j + 1; k <= i; k++) {
        const o = <usize>k << 3;
        store<f64>(ri + o, load<f64>(ri + o) - lij * load<f64>(diagColumn + o));
      }
    }
  }
  return 0;
}

// Eight panel rows of a leaf, lane-transposed: pair k (rows 2k and 2k + 1) of column j is
// the v128 at leafRows + (k·LEAF + j)·16, so the substitution runs across rows in SIMD.
// A worker thread's instance points it into its own scratch (useLeafScratch): the static
// block sits at the same address of the shared memory in every instance.
let leafRows: usize = memory.data(4 * LEAF * 16);

/** Bytes of the scratch {@link useLeafScratch} takes. */
export const LEAF_SCRATCH_BYTES: usize = 4 * LEAF * 16;

/** Makes this instance transpose leaf rows in the LEAF_SCRATCH_BYTES block at ptr (16-byte aligned). */
export function useLeafScratch(ptr: usize): void {
  leafRows = ptr;
}

// @ts-ignore: decorator
@inline function leafSlot(k: i32, j: i32): usize {
  return leafRows + (<usize>(k * LEAF + j) << 4);
}

/**
 * X·L11ᵀ = P in place for the eight rows starting at x (row stride rowBytes), w ≤ LEAF
 * columns; L11 at d (ld), recipDiag holding 1 / L11[j, j]. The rows are transposed into
 * leafRows in pairs, so each step of the substitution is four independent f64x2
 * multiply-adds sharing one broadcast L11[j, p] (no horizontal sums, four chains in flight).
 */
function solveLeafRows8(x: usize, rowBytes: usize, w: i32, d: usize, ld: i32): void {
  for (let k = 0; k < 4; k++) {
    const ra = x + <usize>(2 * k) * rowBytes, rb = ra + rowBytes;
    let j = 0;
    for (; j + 2 <= w; j += 2) {
      const o = <usize>j << 3;
      const va = v128.load(ra + o), vb = v128.load(rb + o);
      v128.store(leafSlot(k, j), i64x2.shuffle(va, vb, 0, 2));
      v128.store(leafSlot(k, j + 1), i64x2.shuffle(va, vb, 1, 3));
    }
    if (j < w) {
      const o = <usize>j << 3;
      v128.store(leafSlot(k, j), f64x2.replace_lane(f64x2.splat(load<f64>(ra + o)), 1, load<f64>(rb + o)));
    }
  }
  for (let j = 0; j < w; j++) {
    let a0 = v128.load(leafSlot(0, j)), a1 = v128.load(leafSlot(1, j));
    let a2 = v128.load(leafSlot(2, j)), a3 = v128.load(leafSlot(3, j));
    const lj = at(d, ld, j, 0);
    for (let p = 0; p < j; p++) {
      const c = v128.load64_splat(lj + (<usize>p << 3));
      a0 = nmadd(c, v128.load(leafSlot(0, p)), a0);
      a1 = nmadd(c, v128.load(leafSlot(1, p)), a1);
      a2 = nmadd(c, v128.load(leafSlot(2, p)), a2);
      a3 = nmadd(c, v128.load(leafSlot(3, p)), a3);
    }
    const r = v128.load64_splat(recipDiag + (<usize>j << 3));
    v128.store(leafSlot(0, j), f64x2.mul(a0, r));
    v128.store(leafSlot(1, j), f64x2.mul(a1, r));
    v128.store(leafSlot(2, j), f64x2.mul(a2, r));
    v128.store(leafSlot(3, j), f64x2.mul(a3, r));
  }
  for (let k = 0; k < 4; k++) {
    const ra = x + <usize>(2 * k) * rowBytes, rb = ra + rowBytes;
    let j = 0;
    for (; j + 2 <= w; j += 2) {
      const o = <usize>j << 3;
      const c0 = v128.load(leafSlot(k, j)), c1 = v128.load(leafSlot(k, j + 1));
      v128.store(ra + o, i64x2.shuffle(c0, c1, 0, 2));
      v128.store(rb + o, i64x2.shuffle(c0, c1, 1, 3));
    }
    if (j < w) {
      const o = <usize>j << 3;
      const c0 = v128.load(leafSlot(k, j));
      store<f64>(ra + o, f64x2.extract_lane(c0, 0));
      store<f64>(rb + o, f64x2.extract_lane(c0, 1));
    }
  }
}

/**
 * Factors a leaf column panel in place: the w×w diagonal block at p (w ≤ LEAF), then
 * the m − w rows below it as X·L11ᵀ = P, eight rows at a time.
 * Returns 0 or 1 + the local failing pivot.
 */
function factorLeaf(m: i32, w: i32, p: usize, ld: i32, damping: f64): i32 {
  const info = factorDiagonal(w, p, ld, damping);
  if (info != 0) return info;
  // The rows below are independent given the diagonal block: offered to the host's threads (the
  // host decides whether they are worth splitting).
  if (parallelLeaf(m, w, p, ld) == 0) solveLeafPanel(w, m, w, p, ld);
  return 0;
}

/**
 * The host's thread pool: runs rows w ≤ r < m of a leaf (solveLeafPanel) as panels on several
 * threads, each starting w + a multiple of 8 rows in, and returns 1; or returns 0 touching nothing.
 */
// @ts-ignore: decorator
@external("env", "parallelLeaf")
declare function parallelLeaf(m: i32, w: i32, p: usize, ld: i32): i32;

/**
 * Rows r0 ≤ r < r1 of a leaf panel's substitution X·L11ᵀ = P (the w×w factored diagonal
 * block at p, ld; recipDiag holding its reciprocal pivots), eight rows at a time, then one
 * by one. A panel that starts w + 8·g rows in groups its rows exactly as one call over all
 * rows does, so splitting there gives the same bits.
 */
export function solveLeafPanel(r0: i32, r1: i32, w: i32, p: usize, ld: i32): void {
  const rowBytes = <usize>ld << 3;
  let r = r0;
  for (; r + 8 <= r1; r += 8) solveLeafRows8(at(p, ld, r, 0), rowBytes, w, p, ld);
  for (; r < r1; r++) {
    const x = at(p, ld, r, 0);
    for (let j = 0; j < w; j++) {
      const o = <usize>j << 3;
      store<f64>(x + o, (load<f64>(x + o) - dot(x, at(p, ld, j, 0), j)) * load<f64>(recipDiag + o));
    }
  }
}

/** Where a recursion splits w columns or rows: about half, a multiple of 8, at least LEAF. */
// @ts-ignore: decorator
@inline function split(w: i32): i32 {
  return max(LEAF, ((w >> 1) + 7) & ~7);
}

/**
 * Recursive Cholesky of the column panel at p: m rows, w ≤ m columns, its top w×w block
 * on the diagonal. Left half first, then its rank-h update of the right half (lower part
 * only: the block's upper triangle holds the zeros of L) through GEMM, then the right half.
 * Almost all flops land in gemmAcc calls with k = w/2, w/4, …; only LEAF-wide panels are
 * done by substitution. Returns 0 or 1 + the failing pivot (relative to p).
 */
function factorColumns(m: i32, w: i32, p: usize, ld: i32, damping: f64): i32 {
  if (w <= LEAF) return factorLeaf(m, w, p, ld, damping);
  const h = split(w);
  const left = factorColumns(m, h, p, ld, damping);
  if (left != 0) return left;
  const q = at(p, ld, h, 0);
  // P[h:m, h:w] −= L[h:m, 0:h]·L[h:w, 0:h]ᵀ; the two share no element.
  gemmAcc(m - h, w - h, h, -1.0, q, ld, 1, q, 1, ld, at(p, ld, h, h), ld, true);
  const right = factorColumns(m - h, w - h, at(p, ld, h, h), ld, damping);
  return right != 0 ? right + h : 0;
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
  return factorColumns(n, n, l, ldl, damping);
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

/** Columns of B a leaf solve works on at once. */
const SLICE: i32 = 32;

// A SOLVE_LEAF×SLICE slice of B copied with a short row stride: rows of B are often a
// power of two apart, and walking 64 such rows would keep evicting each other from L1.
const leafSlice: usize = memory.data(SOLVE_LEAF * SLICE * 8);

/**
 * Solves op(L)·X = B in place for n ≤ SOLVE_LEAF rows, op(L) = L (trans 0) or Lᵀ (trans 1),
 * SLICE columns at a time: row i of X is (b_i − Σ_q c_q·x_q) / L[i, i] with c_q = L[i, q]
 * for q < i along row i, or L[q, i] for q > i down column i (at most SOLVE_LEAF scalars).
 */
function leafSolve(trans: i32, n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  const stride: usize = SLICE << 3;
  for (let c0 = 0; c0 < nrhs; c0 += SLICE) {
    const bytes = <usize>min(SLICE, nrhs - c0) << 3;
    for (let i = 0; i < n; i++) memory.copy(leafSlice + <usize>i * stride, at(b, ldb, i, c0), bytes);
    const width = min(SLICE, nrhs - c0);
    if (trans) {
      for (let i = n - 1; i >= 0; i--) {
        const x = leafSlice + <usize>i * stride;
        combineRow(width, x, x + stride, stride, at(l, ldl, i + 1, i), <usize>ldl << 3, n - 1 - i, load<f64>(at(l, ldl, i, i)));
      }
    } else {
      for (let i = 0; i < n; i++) {
        combineRow(width, leafSlice + <usize>i * stride, leafSlice, stride, at(l, ldl, i, 0), 8, i, load<f64>(at(l, ldl, i, i)));
      }
    }
    for (let i = 0; i < n; i++) memory.copy(at(b, ldb, i, c0), leafSlice + <usize>i * stride, bytes);
  }
}

/**
 * L·X = B in place, B n×nrhs, recursively: X1 from L11, then B2 −= L21·X1 as one GEMM
 * (k = n/2, n/4, …), then X2 from L22, down to leaves of at most SOLVE_LEAF rows.
 */
function forwardBlocked(n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  if (n <= SOLVE_LEAF) {
    leafSolve(0, n, nrhs, l, ldl, b, ldb);
    return;
  }
  const h = split(n);
  forwardBlocked(h, nrhs, l, ldl, b, ldb);
  gemmAcc(n - h, nrhs, h, -1.0, at(l, ldl, h, 0), ldl, 1, b, ldb, 1, at(b, ldb, h, 0), ldb, false);
  forwardBlocked(n - h, nrhs, at(l, ldl, h, h), ldl, at(b, ldb, h, 0), ldb);
}

/**
 * Lᵀ·X = B in place, B n×nrhs, recursively: X2 from L22ᵀ, then B1 −= L21ᵀ·X2 as one GEMM
 * (L21 read with swapped strides), then X1 from L11ᵀ.
 */
function backwardBlocked(n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  if (n <= SOLVE_LEAF) {
    leafSolve(1, n, nrhs, l, ldl, b, ldb);
    return;
  }
  const h = split(n);
  backwardBlocked(n - h, nrhs, at(l, ldl, h, h), ldl, at(b, ldb, h, 0), ldb);
  gemmAcc(h, nrhs, n - h, -1.0, at(l, ldl, h, 0), 1, ldl, at(b, ldb, h, 0), ldb, 1, b, ldb, false);
  backwardBlocked(h, nrhs, l, ldl, b, ldb);
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
  // Mirror tile by tile, so the column-wise writes stay within a few cache lines.
  for (let i0 = 0; i0 < n; i0 += NB) {
    const i1 = min(i0 + NB, n);
    for (let j0 = 0; j0 <= i0; j0 += NB) {
      for (let i = i0; i < i1; i++) {
        const j1 = min(j0 + NB, i);
        for (let j = j0; j < j1; j++) store<f64>(at(out, ldo, j, i), load<f64>(at(out, ldo, i, j)));
      }
    }
  }
}
