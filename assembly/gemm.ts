// General matrix multiply, float64, row-major: a GotoBLAS-style blocked driver
// around a 4×4 f64x2 register micro-kernel.
//
// Loop nest of the driver (gemmRows):
//   jc over columns of C in blocks of NC
//     pc over the inner dimension in blocks of KC     → pack B[pc.., jc..] into NR-wide panels
//       ic over rows of C in blocks of MC             → pack A[ic.., pc..] into MR-high panels
//         jr over NR-wide panels, ir over MR-high panels → micro-kernel on one MR×NR tile of C
// Packing absorbs every stride, so transposes, Gram products (B = Aᵀ by swapped
// strides) and the lower-triangle-only mode all run through the same code.

import { allocBytes } from "./memory";

/** Rows (of A) and columns (of B) of one register tile of C. */
const MR = 4;
const NR = 4;
/**
 * Cache blocking: an MC×KC block of packed A (256 KiB) stays in L2 while the KC×NR
 * panel of packed B (8 KiB) stays in L1; the KC×NC block of packed B (2 MiB) lives
 * in L2/L3. MC 64–192 and KC 256–512 measured within noise of each other at
 * n = 128…1024; the smaller KC halves the B pack buffer.
 */
const MC = 128;
const KC = 256;
const NC = 1024;

// Pack buffers, grown on demand (never beyond MC×KC and KC×NC) and kept, so a
// steady-state call allocates nothing. They are globals, so each instance on a shared
// memory (one per thread) has its own; a worker's instance gets a fixed block from
// useThreadScratch instead, because only the main instance may run the allocator.
let packA: usize = 0;
let packACap: usize = 0;
let packB: usize = 0;
let packBCap: usize = 0;
/** A 4×4 scratch tile for edge and diagonal tiles, which are stored element by element. */
let edgeTile: usize = memory.data(MR * NR * 8, 16);

const PACK_A_MAX: usize = <usize>(MC * KC) << 3;
const PACK_B_MAX: usize = <usize>(KC * NC) << 3;
const EDGE_BYTES: usize = <usize>(MR * NR) << 3;

/** Bytes of scratch one worker thread needs (16-byte aligned block): both pack buffers at their largest and an edge tile. */
export function gemmScratchBytes(): usize {
  return PACK_A_MAX + PACK_B_MAX + EDGE_BYTES;
}

/**
 * Makes this instance use the block at ptr (gemmScratchBytes() bytes, allocated by the main
 * instance) for its pack buffers and edge tile, so it never calls the allocator: for the
 * instances of worker threads, whose allocator state would be their own, not the heap's.
 */
export function useGemmScratch(ptr: usize): void {
  packA = ptr;
  packACap = PACK_A_MAX;
  packB = ptr + PACK_A_MAX;
  packBCap = PACK_B_MAX;
  edgeTile = ptr + PACK_A_MAX + PACK_B_MAX;
}

/** c + a·b on f64x2 lanes: fused in the relaxed-SIMD build, separate mul and add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}

/**
 * Accumulating driver shared by gemm, syrk and the blocked Cholesky update:
 *   C[i, j] += alpha * Σ_p A[i, p] · B[p, j]   for 0 ≤ i < m, 0 ≤ j < n
 * where A[i, p] is at a + 8·(i·rsa + p·csa) and B[p, j] at b + 8·(p·rsb + j·csb)
 * (strides in elements, so a transpose is a swap of strides), and C is row-major
 * with leading dimension ldc. With `lowerOnly`, only entries with j ≤ i are
 * written (the rest of C is neither read nor written): the SYRK mode.
 * C must not overlap A or B.
 */
export function gemmAcc(
  m: i32, n: i32, k: i32, alpha: f64,
  a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32,
  c: usize, ldc: i32, lowerOnly: bool,
): void {
  // Every update (the Cholesky trailing update, blocked triangular solves, the inverse) is
  // offered to the host's thread pool, which splits it into row panels of gemmPanel; the host
  // alone decides what is worth splitting (it returns 0 without a pool, or for a small product),
  // and then this instance does it all.
  if (parallelGemm(m, n, k, alpha, a, rsa, csa, b, rsb, csb, c, ldc, lowerOnly ? 1 : 0) != 0) return;
  gemmRows(0, m, n, k, alpha, a, rsa, csa, b, rsb, csb, 1.0, c, ldc, lowerOnly);
}

/**
 * The host's thread pool: runs C += alpha·A·B (as gemmAcc, beta 1) as row panels of gemmPanel on
 * several threads, the calling one included, and returns 1; or returns 0 without touching C.
 */
// @ts-ignore: decorator
@external("env", "parallelGemm")
declare function parallelGemm(
  m: i32, n: i32, k: i32, alpha: f64, a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32, c: usize, ldc: i32, lowerOnly: i32,
): i32;

/**
 * The driver on the row range i0 ≤ i < i1 of C (for splitting the work across
 * threads by rows); A, B and C are addressed exactly as in gemmAcc, with global
 * indices, so lowerOnly keeps its meaning (j ≤ i):
 *   C[i, j] ← beta·C[i, j] + alpha · Σ_p A[i, p] · B[p, j]   for i0 ≤ i < i1, 0 ≤ j < n
 * (only j ≤ i with lowerOnly). beta = 0 writes without reading C, so NaN or
 * garbage there is overwritten; beta = 1 is a pure accumulate. Entries outside the
 * written set are neither read nor written. C must not overlap A or B.
 */
export function gemmRows(
  i0: i32, i1: i32, n: i32, k: i32, alpha: f64,
  a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32,
  beta: f64, c: usize, ldc: i32, lowerOnly: bool,
): void {
  if (i1 <= i0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0) {
    scaleRows(i0, i1, n, beta, c, ldc, lowerOnly);
    return;
  }
  // Matrix-vector and outer products skip the packing, which would dominate them; both do each
  // entry's arithmetic exactly as the blocked path does, so results do not depend on the path.
  if (n == 1 && !lowerOnly) {
    gemvRows(i0, i1, k, alpha, a, rsa, csa, b, rsb, beta, c, ldc);
    return;
  }
  if (k == 1 && !lowerOnly) {
    outerRows(i0, i1, n, alpha, a, rsa, b, csb, beta, c, ldc);
    return;
  }
  reservePacks(min(MC, i1 - i0), min(NC, n), min(KC, k));
  for (let jc = 0; jc < n; jc += NC) {
    let nc = min(NC, n - jc);
    if (lowerOnly) {
      if (jc >= i1) break;
      nc = min(nc, i1 - jc);
    }
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      // beta applies once, in the first pass over the inner dimension.
      const betaHere = pc == 0 ? beta : 1.0;
      packPanels(packB, nc, kc, b + (<usize>(pc * rsb + jc * csb) << 3), csb, rsb);
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        // With lowerOnly, a row block wholly above this column block has nothing to do.
        if (lowerOnly && ic + mc <= jc) continue;
        packPanels(packA, mc, kc, a + (<usize>(ic * rsa + pc * csa) << 3), rsa, csa);
        macroKernel(ic, jc, mc, nc, kc, alpha, betaHere, c, ldc, lowerOnly);
      }
    }
  }
}

/**
 * gemmRows for the host's thread pool: one row panel [i0, i1) of a GEMM (lowerOnly 0) or of a
 * SYRK's lower triangle (lowerOnly 1, then mirrored by the caller). Every entry of C is computed
 * by the same arithmetic in the same order whichever panel holds it, so any split of the rows
 * gives the same bits as one call over all of them.
 */
export function gemmPanel(
  i0: i32, i1: i32, n: i32, k: i32, alpha: f64,
  a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, csb: i32,
  beta: f64, c: usize, ldc: i32, lowerOnly: i32,
): void {
  gemmRows(i0, i1, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc, lowerOnly != 0);
}

/**
 * C[i, 0] for i0 ≤ i < i1 of a product with one column (n = 1): two rows per f64x2, lanes
 * accumulating Σ_p A[i, p]·B[p, 0] in the same order, the same KC blocks and with the same
 * alpha and beta steps as the micro-kernel, so the bits equal the blocked path's.
 */
function gemvRows(
  i0: i32, i1: i32, k: i32, alpha: f64, a: usize, rsa: i32, csa: i32,
  b: usize, rsb: i32, beta: f64, c: usize, ldc: i32,
): void {
  const va = f64x2.splat(alpha), zero = f64x2.splat(0.0);
  const stepA = <usize>csa << 3, stepB = <usize>rsb << 3;
  const ra = <usize>rsa << 3, rc = <usize>ldc << 3;
  let i = i0;
  // Eight rows at a time: four independent accumulator chains instead of one (each row's sum is
  // still the same sequence of multiply-adds, so the bits are those of the two-row loop below).
  for (; i + 8 <= i1; i += 8) {
    const r0 = a + (<usize>(i * rsa) << 3);
    const c0 = c + (<usize>(i * ldc) << 3);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const betaHere = pc == 0 ? beta : 1.0;
      let acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
      let pa = r0 + <usize>pc * stepA, pb = b + <usize>pc * stepB;
      for (let p = 0; p < kc; p++) {
        const bv = v128.load64_splat(pb);
        acc0 = madd(f64x2.replace_lane(f64x2.splat(load<f64>(pa)), 1, load<f64>(pa + ra)), bv, acc0);
        acc1 = madd(f64x2.replace_lane(f64x2.splat(load<f64>(pa + 2 * ra)), 1, load<f64>(pa + 3 * ra)), bv, acc1);
        acc2 = madd(f64x2.replace_lane(f64x2.splat(load<f64>(pa + 4 * ra)), 1, load<f64>(pa + 5 * ra)), bv, acc2);
        acc3 = madd(f64x2.replace_lane(f64x2.splat(load<f64>(pa + 6 * ra)), 1, load<f64>(pa + 7 * ra)), bv, acc3);
        pa += stepA; pb += stepB;
      }
      const t0 = f64x2.mul(acc0, va), t1 = f64x2.mul(acc1, va), t2 = f64x2.mul(acc2, va), t3 = f64x2.mul(acc3, va);
      storeOne(c0, f64x2.extract_lane(t0, 0), betaHere);
      storeOne(c0 + rc, f64x2.extract_lane(t0, 1), betaHere);
      storeOne(c0 + 2 * rc, f64x2.extract_lane(t1, 0), betaHere);
      storeOne(c0 + 3 * rc, f64x2.extract_lane(t1, 1), betaHere);
      storeOne(c0 + 4 * rc, f64x2.extract_lane(t2, 0), betaHere);
      storeOne(c0 + 5 * rc, f64x2.extract_lane(t2, 1), betaHere);
      storeOne(c0 + 6 * rc, f64x2.extract_lane(t3, 0), betaHere);
      storeOne(c0 + 7 * rc, f64x2.extract_lane(t3, 1), betaHere);
    }
  }
  for (; i < i1; i += 2) {
    const two = i + 1 < i1;
    const r0 = a + (<usize>(i * rsa) << 3), r1 = two ? r0 + (<usize>rsa << 3) : r0;
    const c0 = c + (<usize>(i * ldc) << 3), c1 = c0 + (<usize>ldc << 3);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const betaHere = pc == 0 ? beta : 1.0;
      let acc = zero;
      let pa0 = r0 + <usize>pc * stepA, pa1 = r1 + <usize>pc * stepA, pb = b + <usize>pc * stepB;
      for (let p = 0; p < kc; p++) {
        const av = f64x2.replace_lane(f64x2.splat(load<f64>(pa0)), 1, two ? load<f64>(pa1) : 0.0);
        acc = madd(av, v128.load64_splat(pb), acc);
        pa0 += stepA; pa1 += stepA; pb += stepB;
      }
      const t = f64x2.mul(acc, va);
      storeOne(c0, f64x2.extract_lane(t, 0), betaHere);
      if (two) storeOne(c1, f64x2.extract_lane(t, 1), betaHere);
    }
  }
}

/**
 * Rows i0 ≤ i < i1 of a rank-1 product (k = 1): C[i, j] ← beta·C[i, j] + (0 + A[i, 0]·B[0, j])·alpha,
 * the micro-kernel's arithmetic for one step of p, two columns per f64x2.
 */
function outerRows(
  i0: i32, i1: i32, n: i32, alpha: f64, a: usize, rsa: i32,
  b: usize, csb: i32, beta: f64, c: usize, ldc: i32,
): void {
  const va = f64x2.splat(alpha), zero = f64x2.splat(0.0), vb = f64x2.splat(beta);
  const stepB = <usize>csb << 3;
  for (let i = i0; i < i1; i++) {
    const ai = v128.load64_splat(a + (<usize>(i * rsa) << 3));
    const row = c + (<usize>(i * ldc) << 3);
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const pb = b + <usize>j * stepB;
      const bv = csb == 1 ? v128.load(pb) : f64x2.replace_lane(v128.load64_splat(pb), 1, load<f64>(pb + stepB));
      const t = f64x2.mul(madd(ai, bv, zero), va);
      const p = row + (<usize>j << 3);
      if (beta == 0.0) v128.store(p, t);
      else if (beta == 1.0) v128.store(p, f64x2.add(v128.load(p), t));
      else v128.store(p, f64x2.add(f64x2.mul(v128.load(p), vb), t));
    }
    if (j < n) {
      const t = f64x2.mul(madd(ai, v128.load64_splat(b + <usize>j * stepB), zero), va);
      storeOne(row + (<usize>j << 3), f64x2.extract_lane(t, 0), beta);
    }
  }
}

/** C ← beta·C + v for one entry, as the micro-kernel's edge path stores it (beta = 0 does not read C). */
// @ts-ignore: decorator
@inline function storeOne(p: usize, v: f64, beta: f64): void {
  store<f64>(p, beta == 0.0 ? v : beta == 1.0 ? load<f64>(p) + v : beta * load<f64>(p) + v);
}

/** Scales the m×n block of C (leading dimension ldc) by beta; beta = 0 writes zeros (so NaN in C is not kept). */
export function scaleC(m: i32, n: i32, beta: f64, c: usize, ldc: i32): void {
  scaleRows(0, m, n, beta, c, ldc, false);
}

/** scaleC on rows i0 ≤ i < i1, and with lowerOnly only on entries j ≤ i. */
function scaleRows(i0: i32, i1: i32, n: i32, beta: f64, c: usize, ldc: i32, lowerOnly: bool): void {
  if (beta == 1.0) return;
  const vb = f64x2.splat(beta);
  const zero = f64x2.splat(0.0);
  for (let i = i0; i < i1; i++) {
    const row = c + (<usize>(i * ldc) << 3);
    const len = lowerOnly ? min(n, i + 1) : n;
    let j = 0;
    if (beta == 0.0) {
      for (; j + 2 <= len; j += 2) v128.store(row + (<usize>j << 3), zero);
      if (j < len) store<f64>(row + (<usize>j << 3), 0.0);
    } else {
      for (; j + 2 <= len; j += 2) {
        const p = row + (<usize>j << 3);
        v128.store(p, f64x2.mul(v128.load(p), vb));
      }
      if (j < len) {
        const p = row + (<usize>j << 3);
        store<f64>(p, beta * load<f64>(p));
      }
    }
  }
}

/**
 * C ← alpha·op(A)·op(B) + beta·C, row-major, op(X) = X or Xᵀ.
 * op(A) is m×k: A is stored m×k (lda ≥ k), or k×m when transA (lda ≥ m).
 * op(B) is k×n: B is stored k×n (ldb ≥ n), or n×k when transB (ldb ≥ k).
 * C is m×n with ldc ≥ n. C must not overlap A or B; A and B may be the same buffer.
 * beta = 0 overwrites C without reading it.
 */
export function gemm(
  transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f64,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f64, c: usize, ldc: i32,
): void {
  if (m <= 0 || n <= 0) return;
  gemmRows(
    0, m, n, k, alpha,
    a, transA ? 1 : lda, transA ? lda : 1,
    b, transB ? 1 : ldb, transB ? ldb : 1,
    beta, c, ldc, false,
  );
}

/** Makes the pack buffers big enough for an mc×kc block of A and a kc×nc block of B (both rounded up to 4). */
function reservePacks(mc: i32, nc: i32, kc: i32): void {
  const needA = <usize>(((mc + MR - 1) & ~(MR - 1)) * kc) << 3;
  if (needA > packACap) {
    // Forget the old buffer before allocating: if growth traps, the next call starts clean.
    if (packA) heap.free(packA);
    packA = 0;
    packACap = 0;
    packA = allocBytes(needA);
    packACap = needA;
  }
  const needB = <usize>(((nc + NR - 1) & ~(NR - 1)) * kc) << 3;
  if (needB > packBCap) {
    if (packB) heap.free(packB);
    packB = 0;
    packBCap = 0;
    packB = allocBytes(needB);
    packBCap = needB;
  }
}

/** Values of p a lane-contiguous pack copies into every panel at a time (see packPanels). */
const PACK_CHUNK: i32 = 8;

/**
 * Packs a block into 4-lane panels for the micro-kernel (MR = NR = 4, so A and B share it).
 * The block has `lanes` × `depth` elements; element (l, p) is at src + 8·(l·laneStride + p·depthStride).
 * Panel t holds, for each p, the 4 values of lanes 4t..4t+3 contiguously, lanes past `lanes`
 * padded with zeros. A is packed with lanes = its rows (laneStride rsa, depthStride csa), B with
 * lanes = its columns (laneStride csb, depthStride rsb).
 */
function packPanels(dst: usize, lanes: i32, depth: i32, src0: usize, laneStride: i32, depthStride: i32): void {
  const step = <usize>depthStride << 3;
  const ls = <usize>laneStride << 3;
  let start = 0;
  if (laneStride == 1) {
    // The 4 values of one p are adjacent (row-major B, transposed A), and successive p are a
    // whole row apart. Panel by panel, each p would be a new cache line at the same power-of-two
    // stride (one L1 set), reloaded for every panel; chunks of PACK_CHUNK values of p are copied
    // into every panel while their rows are in cache.
    start = lanes & ~3;
    for (let p0 = 0; p0 < depth; p0 += PACK_CHUNK) {
      const pe = min(depth, p0 + PACK_CHUNK);
      for (let l0 = 0; l0 < start; l0 += 4) {
        let src = src0 + (<usize>l0 << 3) + <usize>p0 * step;
        let d = dst + ((<usize>l0 * <usize>depth) << 3) + (<usize>p0 << 5);
        for (let p = p0; p < pe; p++) {
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          src += step;
          d += 32;
        }
      }
    }
    dst += (<usize>start * <usize>depth) << 3;
  }
  for (let l0 = start; l0 < lanes; l0 += 4) {
    const count = min(4, lanes - l0);
    let src = src0 + <usize>l0 * ls;
    if (count == 4) {
      let s0 = src, s1 = src + ls, s2 = src + 2 * ls, s3 = src + 3 * ls;
      for (let p = 0; p < depth; p++) {
        store<f64>(dst, load<f64>(s0));
        store<f64>(dst, load<f64>(s1), 8);
        store<f64>(dst, load<f64>(s2), 16);
        store<f64>(dst, load<f64>(s3), 24);
        s0 += step; s1 += step; s2 += step; s3 += step;
        dst += 32;
      }
    } else {
      for (let p = 0; p < depth; p++) {
        for (let q = 0; q < 4; q++) {
          store<f64>(dst + (<usize>q << 3), q < count ? load<f64>(src + <usize>q * ls) : 0.0);
        }
        src += step;
        dst += 32;
      }
    }
  }
}

/**
 * Runs the micro-kernel over every MR×NR tile of the mc×nc block of C whose
 * top-left entry is (ic, jc), from the packed panels. With lowerOnly, tiles wholly
 * above the diagonal are skipped and tiles crossing it are stored with a mask.
 */
function macroKernel(
  ic: i32, jc: i32, mc: i32, nc: i32, kc: i32,
  alpha: f64, beta: f64, c: usize, ldc: i32, lowerOnly: bool,
): void {
  const panelA = <usize>kc * (MR << 3); // bytes of one packed A panel
  const panelB = <usize>kc * (NR << 3);
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const gj = jc + jr;
    const pb = packB + <usize>(jr / NR) * panelB;
    let ir = 0;
    // Start at the first tile whose last row ic + ir + MR − 1 reaches column gj: the
    // tiles before it lie wholly above the diagonal.
    if (lowerOnly && gj > ic) ir = (gj - ic) & ~(MR - 1);
    for (; ir < mc; ir += MR) {
      const rows = min(MR, mc - ir);
      const gi = ic + ir;
      // Entry (r, q) of the tile is written iff q − r ≤ diag; diag ≥ NR − 1 writes all.
      const diag = lowerOnly ? gi - gj : NR - 1;
      microKernel(
        kc, packA + <usize>(ir / MR) * panelA, pb,
        c + (<usize>(gi * ldc + gj) << 3), ldc, alpha, beta, rows, cols, diag,
      );
    }
  }
}

/**
 * One 4×4 tile: T = Σ_p Apanel[p]ᵀ · Bpanel[p] in 8 f64x2 accumulators, then
 * C[r, q] ← beta·C[r, q] + alpha·T[r, q] for r < rows, q < cols, q − r ≤ diag.
 */
function microKernel(
  kc: i32, pa: usize, pb: usize, c: usize, ldc: i32,
  alpha: f64, beta: f64, rows: i32, cols: i32, diag: i32,
): void {
  if (cols <= 2) {
    microKernelNarrow(kc, pa, pb, c, ldc, alpha, beta, rows, cols, diag);
    return;
  }
  let c00 = f64x2.splat(0.0), c01 = f64x2.splat(0.0);
  let c10 = f64x2.splat(0.0), c11 = f64x2.splat(0.0);
  let c20 = f64x2.splat(0.0), c21 = f64x2.splat(0.0);
  let c30 = f64x2.splat(0.0), c31 = f64x2.splat(0.0);
  const end = pb + (<usize>kc << 5);
  while (pb < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load64_splat(pa, 8);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load64_splat(pa, 16);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load64_splat(pa, 24);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 32;
    pb += 32;
  }
  const va = f64x2.splat(alpha);
  c00 = f64x2.mul(c00, va); c01 = f64x2.mul(c01, va);
  c10 = f64x2.mul(c10, va); c11 = f64x2.mul(c11, va);
  c20 = f64x2.mul(c20, va); c21 = f64x2.mul(c21, va);
  c30 = f64x2.mul(c30, va); c31 = f64x2.mul(c31, va);
  const ld = <usize>ldc << 3;
  if (rows == MR && cols == NR && diag >= NR - 1) {
    storeRow(c, c00, c01, beta);
    storeRow(c + ld, c10, c11, beta);
    storeRow(c + 2 * ld, c20, c21, beta);
    storeRow(c + 3 * ld, c30, c31, beta);
    return;
  }
  const t = edgeTile;
  v128.store(t, c00); v128.store(t, c01, 16);
  v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80);
  v128.store(t, c30, 96); v128.store(t, c31, 112);
  storeEdge(t, c, ld, beta, rows, cols, diag);
}

/**
 * C ← beta·C + the rows × cols tile held in edgeTile-layout at t (row r at t + 8·NR·r), entries
 * (r, q) with q ≤ r + diag only; beta = 0 does not read C. ld is C's row stride in bytes.
 */
// @ts-ignore: decorator
@inline function storeEdge(t: usize, c: usize, ld: usize, beta: f64, rows: i32, cols: i32, diag: i32): void {
  for (let r = 0; r < rows; r++) {
    const qEnd = min(cols, r + diag + 1);
    const row = c + <usize>r * ld;
    for (let q = 0; q < qEnd; q++) {
      const p = row + (<usize>q << 3);
      const v = load<f64>(t + (<usize>(r * NR + q) << 3));
      store<f64>(p, beta == 0.0 ? v : beta == 1.0 ? load<f64>(p) + v : beta * load<f64>(p) + v);
    }
  }
}

/** C[0..3] ← beta·C[0..3] + (x0, x1); beta = 0 does not read C. */
// @ts-ignore: decorator
@inline function storeRow(p: usize, x0: v128, x1: v128, beta: f64): void {
  if (beta == 0.0) {
    v128.store(p, x0);
    v128.store(p, x1, 16);
  } else if (beta == 1.0) {
    v128.store(p, f64x2.add(v128.load(p), x0));
    v128.store(p, f64x2.add(v128.load(p, 16), x1), 16);
  } else {
    const vb = f64x2.splat(beta);
    v128.store(p, f64x2.add(f64x2.mul(v128.load(p), vb), x0));
    v128.store(p, f64x2.add(f64x2.mul(v128.load(p, 16), vb), x1), 16);
  }
}

/**
 * {@link microKernel} for a tile of at most two columns (the last panel of B when n mod 4 is 1
 * or 2, as in the step's Jᵀx product with n = 65): only the first f64x2 of each row is
 * accumulated, half the multiply-adds. Each entry is the same lane arithmetic as in the full
 * kernel, so the bits do not change.
 */
function microKernelNarrow(
  kc: i32, pa: usize, pb: usize, c: usize, ldc: i32,
  alpha: f64, beta: f64, rows: i32, cols: i32, diag: i32,
): void {
  let c00 = f64x2.splat(0.0), c10 = f64x2.splat(0.0);
  let c20 = f64x2.splat(0.0), c30 = f64x2.splat(0.0);
  const end = pb + (<usize>kc << 5);
  while (pb < end) {
    const b0 = v128.load(pb);
    c00 = madd(v128.load64_splat(pa), b0, c00);
    c10 = madd(v128.load64_splat(pa, 8), b0, c10);
    c20 = madd(v128.load64_splat(pa, 16), b0, c20);
    c30 = madd(v128.load64_splat(pa, 24), b0, c30);
    pa += 32;
    pb += 32;
  }
  const va = f64x2.splat(alpha);
  const t = edgeTile;
  v128.store(t, f64x2.mul(c00, va));
  v128.store(t, f64x2.mul(c10, va), 32);
  v128.store(t, f64x2.mul(c20, va), 64);
  v128.store(t, f64x2.mul(c30, va), 96);
  const ld = <usize>ldc << 3;
  storeEdge(t, c, ld, beta, rows, cols, diag);
}
