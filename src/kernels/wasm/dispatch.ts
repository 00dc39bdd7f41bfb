/**
 * The thread dispatch of the WASM backend: which calls are worth splitting over the worker pool
 * (threads.ts), and how a call becomes row panels, each the same export on offset pointers, so
 * that every value is computed exactly as on one thread. {@link WasmKernels} (index.ts) installs
 * {@link ThreadDispatch.wrap}'s kernels when a pool starts and routes the module's own offers
 * (env.parallelGemm, env.parallelLeaf) here.
 */
import type { Kernels, Ptr } from '../types.js';
import { opCode, type ThreadPool, type WorkerOp } from './threads.js';

/**
 * Below this many flops a GEMM or SYRK stays on the calling thread. Measured (bench kernels suite,
 * "thread threshold"; Node 24, AMD EPYC family 26, 2 threads, workers spinning between calls):
 * a 32³ product (2¹⁶ flops) runs 0.8× on two threads, a 48³ one (2¹⁷·⁸) 1.4×.
 */
export const THREAD_MIN_FLOPS = 2 ** 17;
/**
 * The same threshold for the updates a kernel offers from inside its own recursion (Cholesky's
 * trailing updates and leaf rows, the blocked solves and inverse): between them the calling
 * thread does serial work on the same panel, so a split pays only from larger sizes. Measured
 * (Node 24, AMD EPYC family 26, 2 threads): potrf n = 512 took 2.4–3.3 ms at 2¹⁷ against 2.3 ms
 * on one thread, 2.2–2.4 ms at 2¹⁹; n = 1024 11.5–12.2 ms at 2¹⁷, 11.8–11.9 at 2¹⁹ (17.3 on one).
 * Keeping the workers spinning through a factorisation (no sleep between its panels) with
 * updates from 2¹⁶ flops split took n = 512 to 1.41 ms and n = 1024 to 9.6 ms on a quiet
 * machine (1.75 and 10.5 ms here), but to 6.3 and 28.6 ms with one busy process beside it
 * (3.0 and 19.7 here): a spinning worker is descheduled holding a panel. Not adopted.
 */
export const THREAD_MIN_INNER_FLOPS = 2 ** 19;
/** Fewest rows of C per thread panel. */
export const THREAD_MIN_ROWS = 16;
/** Fewest 8-row groups per panel of a Cholesky leaf's rows. */
export const LEAF_MIN_GROUPS = 4;
/**
 * Below this many values an element-wise kernel (relu, reluMask, packMask, hadamard) stays on the
 * calling thread: they stream about two values per nanosecond, so 2¹⁵ values take ~16 µs, several
 * times what handing a panel to a spinning worker costs (~1 µs; ~25 µs to wake a sleeping one).
 */
export const THREAD_MIN_VALUES = 2 ** 15;
/** Below this many 64-bit AND + popcount steps (~0.4 ns each) the mask Gram stays on the calling thread. */
export const THREAD_MIN_MASK_WORDS = 2 ** 15;

/** The kernels the dispatch splits over the pool. */
export type ThreadedKernels = Pick<Kernels, 'gemm' | 'syrk' | 'relu' | 'reluMask' | 'reluOuter' | 'packMask' | 'hadamard' | 'maskGram' | 'maskGramLower' | 'reluPack' | 'mirrorLower'>;

/** What the dispatch calls in the module: the exports a worker runs, and mirrorLower. */
export type PanelExports = { readonly [name in WorkerOp]: unknown } & { mirrorLower: Kernels['mirrorLower'] };

/**
 * The thresholds, read at every call from the object that holds them (the kernels: the bench
 * and the tests lower them there).
 */
export interface ThreadThresholds {
  /** GEMM/SYRK flops from which a call is split ({@link THREAD_MIN_FLOPS}). */
  readonly threadMinFlops: number;
  /** The same for updates offered from inside a kernel ({@link THREAD_MIN_INNER_FLOPS}). */
  readonly threadMinInnerFlops: number;
}

/** Splits kernel calls into row panels over one worker pool. */
export class ThreadDispatch {
  /**
   * @param pool the running worker pool
   * @param ex the module's exports (the panels a worker runs, mirrorLower)
   * @param limits where the thresholds are read
   * @param translate turns a trap inside a panel into the error the caller throws
   */
  constructor(
    /** The worker pool. */
    readonly pool: ThreadPool,
    private readonly ex: PanelExports,
    private readonly limits: ThreadThresholds,
    private readonly translate: (e: unknown, where: string) => unknown,
  ) {}

  /**
   * The threaded versions of `single`'s kernels: gemm and syrk as row panels of gemmPanel (syrk's
   * lower triangle, then mirrored); the element-wise kernels and the mask Gram as row panels of the
   * same kernels on offset pointers (maskGramRows for the triangle). Each falls back to `single`'s
   * below its threshold or without a running pool.
   */
  wrap(single: ThreadedKernels): ThreadedKernels {
    const { gemm: gemm1, syrk: syrk1, relu, reluMask, reluOuter, packMask, hadamard, maskGram } = single;
    const threaded = { ...single };
    // The mirror of a lower triangle: row panels of mirrorLowerRows write disjoint columns of the
    // upper triangle, with as many entries each (the triangle split).
    const mirror = (n: number, c: Ptr, ldc: number): void => {
      if (!this.worth((n * n) / 2, THREAD_MIN_VALUES) || !this.rows('mirrorLowerRows', n, n, (r0, r1) => [r0, r1, c, ldc])) {
        this.ex.mirrorLower(n, c, ldc);
      }
    };
    threaded.mirrorLower = mirror;
    threaded.gemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      if (n <= 0 || !this.panels(m, n, k, alpha, a, transA ? 1 : lda, transA ? lda : 1, b, transB ? 1 : ldb, transB ? ldb : 1, beta, c, ldc, 0)) {
        gemm1(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      }
    };
    threaded.syrk = (trans, n, k, alpha, a, lda, beta, c, ldc) => {
      // The lower triangle of op(A)·op(A)ᵀ: B is A read with swapped strides; then mirrored.
      const [rsa, csa, rsb, csb] = trans ? [1, lda, lda, 1] : [lda, 1, 1, lda];
      if (this.panels(n, n, k, alpha, a, rsa, csa, a, rsb, csb, beta, c, ldc, 1)) mirror(n, c, ldc);
      else syrk1(trans, n, k, alpha, a, lda, beta, c, ldc);
    };
    // The element-wise kernels and the mask Gram: row panels are the same kernels on offset
    // pointers (maskGramRows for the triangle), so every value is computed exactly as on one thread.
    threaded.relu = (n, m, src, lds, scale, dst, ldd) => {
      if (!this.worth(n * m, THREAD_MIN_VALUES) || !this.rows('relu', n, 0, (r0, r1) => [r1 - r0, m, src + 8 * r0 * lds, lds, scale, dst + 8 * r0 * ldd, ldd])) {
        relu(n, m, src, lds, scale, dst, ldd);
      }
    };
    threaded.reluMask = (n, q, m, z, b) => {
      if (!this.worth(n * q * m, THREAD_MIN_VALUES) || !this.rows('reluMask', n, 0, (r0, r1) => [r1 - r0, q, m, z + 8 * r0 * m, b + 8 * r0 * q * m])) {
        reluMask(n, q, m, z, b);
      }
    };
    threaded.reluOuter = (n, q, m, alpha, u, w, z, out) => {
      if (!this.worth(n * q * m, THREAD_MIN_VALUES) || !this.rows('reluOuter', n, 0, (r0, r1) => [r1 - r0, q, m, alpha, u + 8 * r0 * q, w, z + 8 * r0 * m, out + 8 * r0 * q * m])) {
        reluOuter(n, q, m, alpha, u, w, z, out);
      }
    };
    threaded.packMask = (n, m, z, ldz, masks) => {
      const words = Math.ceil(m / 64);
      if (!this.worth(n * m, THREAD_MIN_VALUES) || !this.rows('packMask', n, 0, (r0, r1) => [r1 - r0, m, z + 8 * r0 * ldz, ldz, masks + 8 * r0 * words])) {
        packMask(n, m, z, ldz, masks);
      }
    };
    threaded.hadamard = (len, a, b, out) => {
      if (!this.worth(len, THREAD_MIN_VALUES) || !this.rows('hadamard', len, 0, (r0, r1) => [r1 - r0, a + 8 * r0, b + 8 * r0, out + 8 * r0])) {
        hadamard(len, a, b, out);
      }
    };
    threaded.maskGram = (n, words, masks, alpha, out, ldo) => {
      if (this.worth((n * n * words) / 2, THREAD_MIN_MASK_WORDS) && this.rows('maskGramRows', n, n, (r0, r1) => [r0, r1, words, masks, alpha, out, ldo])) {
        mirror(n, out, ldo);
      } else {
        maskGram(n, words, masks, alpha, out, ldo);
      }
    };
    const { maskGramLower, reluPack } = single;
    threaded.maskGramLower = (n, words, masks, alpha, out, ldo) => {
      if (!this.worth((n * n * words) / 2, THREAD_MIN_MASK_WORDS) || !this.rows('maskGramRows', n, n, (r0, r1) => [r0, r1, words, masks, alpha, out, ldo])) {
        maskGramLower(n, words, masks, alpha, out, ldo);
      }
    };
    threaded.reluPack = (n, m, src, lds, scale, dst, ldd, masks) => {
      const words = Math.ceil(m / 64);
      if (!this.worth(n * m, THREAD_MIN_VALUES) || !this.rows('reluPack', n, 0, (r0, r1) => [r1 - r0, m, src + 8 * r0 * lds, lds, scale, dst + 8 * r0 * ldd, ldd, masks + 8 * r0 * words])) {
        reluPack(n, m, src, lds, scale, dst, ldd, masks);
      }
    };
    return threaded;
  }

  /** Whether `work` is enough to split over a running pool (checked before any panel is built). */
  worth(work: number, minWork: number): boolean {
    return work >= minWork && this.pool.running;
  }

  /**
   * Runs the export `name` as row panels over rows 0..rows, panel [r0, r1) with the arguments
   * `args(r0, r1)`, the calling thread taking the first: the one dispatch of every threaded
   * kernel. Panels hold about equal shares of the work (lowerCols: see {@link splitRows}) and at
   * least `minRows` rows. False, touching nothing, when that makes a single panel or there is no
   * running pool.
   */
  rows(
    name: WorkerOp, rows: number, lowerCols: number, args: (r0: number, r1: number) => number[], minRows = THREAD_MIN_ROWS,
  ): boolean {
    const pool = this.pool;
    if (!pool.running) return false;
    const t = Math.min(pool.size, Math.floor(rows / minRows));
    if (t <= 1) return false;
    const bounds = splitRows(rows, t, lowerCols);
    const panels = [];
    for (let p = 0; p < t; p++) panels.push(args(bounds[p], bounds[p + 1]));
    const fn = this.ex[name] as (...a: number[]) => void;
    pool.run(opCode(name), panels, (a) => {
      try {
        fn(...a);
      } catch (e) {
        throw this.translate(e, name);
      }
    });
    return true;
  }

  /**
   * Runs C ← beta·C + alpha·A·B (as gemmPanel; lowerOnly: only j ≤ i) as row panels over the
   * pool; returns false, touching nothing, when the product is too small to be worth the threads
   * or there is no running pool.
   */
  panels(
    m: number, n: number, k: number, alpha: number, a: Ptr, rsa: number, csa: number,
    b: Ptr, rsb: number, csb: number, beta: number, c: Ptr, ldc: number, lowerOnly: number, minFlops = this.limits.threadMinFlops,
  ): boolean {
    if (!this.worth((lowerOnly ? 1 : 2) * m * n * k, minFlops)) return false;
    if (!lowerOnly && byColumns(m, n, k, this.pool.size)) {
      // Column panels: the same driver on B and C offset to the panel's first column.
      return this.rows('gemmPanel', n, 0, (j0, j1) => [0, m, j1 - j0, k, alpha, a, rsa, csa, b + 8 * j0 * csb, rsb, csb, beta, c + 8 * j0, ldc, 0]);
    }
    return this.rows('gemmPanel', m, lowerOnly ? n : 0, (i0, i1) => [i0, i1, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc, lowerOnly]);
  }

  /**
   * The module's env.parallelLeaf import: rows w..m of a Cholesky leaf (solveLeafPanel)
   * offered to the pool; 1 when done there. Panels are runs of the kernel's 8-row groups (the
   * last one also takes the rows past the last whole group), so every row is computed as on one
   * thread.
   */
  parallelLeaf(m: number, w: number, p: Ptr, ld: number): number {
    const groups = Math.floor((m - w) / 8);
    if (!this.worth((m - w) * w * w, this.limits.threadMinInnerFlops)) return 0;
    return this.rows('solveLeafPanel', groups, 0, (g0, g1) => [w + 8 * g0, g1 === groups ? m : w + 8 * g1, w, p, ld], LEAF_MIN_GROUPS) ? 1 : 0;
  }

  /** The module's env.parallelGemm import: gemmAcc (beta 1) offered to the pool; 1 when done there. */
  parallelGemm(
    m: number, n: number, k: number, alpha: number, a: Ptr, rsa: number, csa: number,
    b: Ptr, rsb: number, csb: number, c: Ptr, ldc: number, lowerOnly: number,
  ): number {
    return this.panels(m, n, k, alpha, a, rsa, csa, b, rsb, csb, 1, c, ldc, lowerOnly, this.limits.threadMinInnerFlops) ? 1 : 0;
  }
}

/** Columns of C per block of packed B in the GEMM driver (NC in assembly/gemm.ts). */
const GEMM_NC = 1024;

/**
 * Whether t threads should split the m×n×k product C = A·B by columns of C rather than by rows:
 * each thread packs what its panel reads, and the split that packs fewer values per thread wins.
 * A row panel packs all of B (k·n) and its rows of A once per NC-column block of B; a column
 * panel packs its columns of B and all of A once per block of its columns. Either split gives
 * every entry of C the same arithmetic (each is one micro-kernel lane over the same k blocks), so
 * the choice changes the time only. The forward product X·Wᵀ (512×4096, k 65) packs 200 k values
 * per thread by columns against 333 k by rows; the Jᵀx product (4096×65, k 512) 1.1 M by rows.
 */
export function byColumns(m: number, n: number, k: number, t: number): boolean {
  const rows = k * n + (m / t) * k * Math.ceil(n / GEMM_NC);
  const cols = (k * n) / t + m * k * Math.ceil(n / t / GEMM_NC);
  return cols < rows;
}

/**
 * Row boundaries of t panels over rows 0..n (t + 1 numbers, multiples of 4 inside, so panels
 * hold whole register tiles), each panel with about the same number of entries. lowerCols = 0:
 * every row has the same width. lowerCols = c > 0: row i holds only its min(i + 1, c) entries
 * on or below the diagonal (a SYRK's triangle when c ≥ n; a lower trapezoid, as in Cholesky's
 * trailing updates, when c < n).
 */
export function splitRows(n: number, t: number, lowerCols = 0): number[] {
  // Entries in rows 0..r.
  const c = lowerCols;
  const before = (r: number) => (c === 0 ? r : r <= c ? (r * (r + 1)) / 2 : (c * (c + 1)) / 2 + (r - c) * c);
  const total = before(n);
  const bounds = [0];
  for (let p = 1; p < t; p++) {
    const share = (total * p) / t;
    // The first row count r with before(r) ≥ share, by bisection (before is increasing).
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(mid) < share) lo = mid + 1;
      else hi = mid;
    }
    bounds.push(Math.min(n, Math.max(bounds[p - 1], Math.round(lo / 4) * 4)));
  }
  bounds.push(n);
  return bounds;
}

