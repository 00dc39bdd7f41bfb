/**
 * Dense float64 linear algebra on plain row-major Float64Arrays, run by the active
 * backend. Inputs are validated (length, dimensions, finiteness) and copied into
 * reused scratch memory; results are copied out into fresh arrays (or `c` for gemm).
 */
import { kernels } from './init.js';
import type { Kernels } from '../kernels/types.js';
import { Workspace } from './matrix.js';
import { ArgumentError, ConvergenceError, NonFiniteError, NotPositiveDefiniteError } from '../errors.js';
import { checkAllocatable, checkArray, checkDim, checkFiniteNumber, checkNonNegative, checkOptions } from '../validate.js';

const workspaces = new WeakMap<Kernels, Workspace>();

function scratch(): { k: Kernels; ws: Workspace } {
  const k = kernels();
  let ws = workspaces.get(k);
  if (!ws) workspaces.set(k, (ws = new Workspace(k)));
  return { k, ws };
}

/** Options for {@link gemm}. */
export interface GemmOptions {
  /** Use Aᵀ: `a` is then stored k×m. */
  transA?: boolean;
  /** Use Bᵀ: `b` is then stored n×k. */
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0; needs `c`. */
  beta?: number;
  /** m×n input for beta and the output: written in place and returned. */
  c?: Float64Array;
}

/**
 * C = alpha·op(A)·op(B) + beta·C for row-major matrices; op(A) is m×k and op(B) k×n.
 * Returns the m×n result (`options.c` itself when given).
 *
 * @param a op(A): m×k row-major (k×m when `transA`)
 * @param b op(B): k×n row-major (n×k when `transB`)
 * @param m rows of op(A) and of C
 * @param k columns of op(A), rows of op(B)
 * @param n columns of op(B) and of C
 * @param options transposes, alpha, beta and an output `c`
 * @example
 * const c = linalg.gemm(a, b, 2, 3, 4);                 // (2×3)·(3×4)
 * linalg.gemm(a, b, m, k, n, { transB: true, beta: 1, c }); // c += a·bᵀ
 */
export function gemm(a: Float64Array, b: Float64Array, m: number, k: number, n: number, options: GemmOptions = {}): Float64Array {
  checkDim('m', m); checkDim('k', k); checkDim('n', n);
  checkOptions('linalg.gemm()', options, { transA: 'boolean', transB: 'boolean', alpha: 'number', beta: 'number', c: 'Float64Array' });
  const { transA = false, transB = false, alpha = 1, beta = 0, c } = options ?? {};
  checkFiniteNumber('alpha', alpha);
  checkFiniteNumber('beta', beta);
  checkArray('a', a, m * k, transA ? `k×m = ${k}×${m}` : `m×k = ${m}×${k}`);
  checkArray('b', b, k * n, transB ? `n×k = ${n}×${k}` : `k×n = ${k}×${n}`);
  checkAllocatable('the m×n result', m * n);
  if (c !== undefined) checkArray('c', c, m * n, `m×n = ${m}×${n}`);
  else if (beta !== 0) throw new ArgumentError('beta', `is ${beta} but no c was given to scale`);
  const { k: kr, ws } = scratch();
  const pa = ws.get('a', m * k), pb = ws.get('b', k * n), pc = ws.get('c', m * n);
  put(kr, 'a', a, pa); put(kr, 'b', b, pb);
  if (c && beta !== 0) put(kr, 'c', c, pc);
  kr.gemm(+transA, +transB, m, n, k, alpha, pa, transA ? m : k, pb, transB ? k : n, beta, pc, n);
  // With `c` the result goes straight into it: a fresh array per call would cost more than the copies
  // (its pages are new memory: about 2 ms per 512 KiB on a host that backs pages lazily).
  return copyOut(kr, pc, m * n, c);
}

/**
 * The Gram matrix A·Aᵀ (rows×rows) of a row-major rows×cols matrix, exactly symmetric.
 *
 * @param a the rows×cols matrix, row-major
 * @param rows its number of rows (the result is rows×rows)
 * @param cols its number of columns
 * @example
 * const g = linalg.gram(j, n, p); // G = J·Jᵀ
 */
export function gram(a: Float64Array, rows: number, cols: number): Float64Array {
  checkDim('rows', rows); checkDim('cols', cols);
  checkArray('a', a, rows * cols, `rows×cols = ${rows}×${cols}`);
  checkAllocatable('the rows×rows result', rows * rows);
  const { k, ws } = scratch();
  const pa = ws.get('a', rows * cols), pc = ws.get('c', rows * rows);
  put(k, 'a', a, pa);
  k.syrk(0, rows, cols, 1, pa, cols, 0, pc, rows);
  return copyOut(k, pc, rows * rows);
}

/** Options of the SPD routines. */
export interface DampingOptions {
  /** λ ≥ 0 added to the diagonal on the fly (A itself is not changed). Default 0. */
  damping?: number;
}

/**
 * The lower Cholesky factor L of A + λI (L·Lᵀ = A + λI), zeros above the diagonal.
 * Only the lower triangle of A is read. Throws NotPositiveDefiniteError with the
 * failing pivot when A + λI is not numerically positive definite.
 *
 * @param a the n×n symmetric matrix A, row-major (lower triangle read)
 * @param n its order
 * @param options `damping` λ ≥ 0 added to the diagonal (default 0)
 * @example
 * const l = linalg.cholesky(new Float64Array([4, 2, 2, 3]), 2); // [2, 0, 1, √2]
 */
export function cholesky(a: Float64Array, n: number, options: DampingOptions = {}): Float64Array {
  const damping = prepareSPD(a, n, options);
  const { k, ws } = scratch();
  const pl = ws.get('l', n * n);
  put(k, 'a', a, pl);
  factor(k, n, pl, damping);
  return copyOut(k, pl, n * n);
}

/**
 * Solves (A + λI)·X = B for X (n×nrhs) with A symmetric positive definite (lower
 * triangle read), by Cholesky. A and B are not modified.
 *
 * @param a the n×n symmetric positive definite A, row-major (lower triangle read)
 * @param b the right-hand sides B, n×nrhs row-major
 * @param n the order of A
 * @param nrhs the number of right-hand sides (columns of B)
 * @param options `damping` λ ≥ 0 added to A's diagonal (default 0)
 * @example
 * const x = linalg.solveSPD(new Float64Array([4, 2, 2, 3]), new Float64Array([2, 1]), 2, 1); // [0.5, 0]
 * const w = linalg.solveSPD(g, r, n, 1, { damping: 1e-6 });   // (G + 10⁻⁶I)⁻¹ r
 */
export function solveSPD(a: Float64Array, b: Float64Array, n: number, nrhs: number, options: DampingOptions = {}): Float64Array {
  const damping = prepareSPD(a, n, options);
  checkDim('nrhs', nrhs);
  checkArray('b', b, n * nrhs, `n×nrhs = ${n}×${nrhs}`);
  const { k, ws } = scratch();
  const pl = ws.get('l', n * n), pb = ws.get('b', n * nrhs);
  put(k, 'a', a, pl); put(k, 'b', b, pb);
  factor(k, n, pl, damping);
  k.potrs(n, nrhs, pl, n, pb, nrhs);
  return copyOut(k, pb, n * nrhs);
}

/**
 * (A + λI)⁻¹ for A symmetric positive definite (lower triangle read); exactly symmetric.
 *
 * @param a the n×n symmetric positive definite A, row-major (lower triangle read)
 * @param n its order
 * @param options `damping` λ ≥ 0 added to the diagonal (default 0)
 * @example
 * const inv = linalg.inverseSPD(new Float64Array([2, 0, 0, 4]), 2); // [0.5, 0, 0, 0.25]
 */
export function inverseSPD(a: Float64Array, n: number, options: DampingOptions = {}): Float64Array {
  const damping = prepareSPD(a, n, options);
  const { k, ws } = scratch();
  const pl = ws.get('l', n * n), pc = ws.get('c', n * n);
  put(k, 'a', a, pl);
  factor(k, n, pl, damping);
  k.potri(n, pl, n, pc, n);
  return copyOut(k, pc, n * n);
}

/** Result of {@link eigh}. */
export interface Eigh {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** n×n row-major, eigenvector j in column j; orthonormal. */
  vectors: Float64Array;
}

/**
 * Eigen-decomposition A = V·diag(values)·Vᵀ of a symmetric matrix (lower triangle read).
 *
 * @param a the n×n symmetric matrix, row-major (lower triangle read)
 * @param n its order
 * @example
 * const { values, vectors } = linalg.eigh(g, n);
 * const lambdaMin = values[0];
 */
export function eigh(a: Float64Array, n: number): Eigh {
  checkDim('n', n);
  checkArray('a', a, n * n, `n×n = ${n}×${n}`);
  const { k, ws } = scratch();
  const pa = ws.get('a', n * n), pw = ws.get('w', n), pv = ws.get('v', n * n);
  put(k, 'a', a, pa);
  const info = k.syev(n, pa, n, pw, pv, n);
  if (info !== 0) throw new ConvergenceError(`eigh: the symmetric eigensolver did not converge (code ${info})`);
  return { values: copyOut(k, pw, n), vectors: copyOut(k, pv, n * n) };
}

function prepareSPD(a: Float64Array, n: number, options: DampingOptions): number {
  checkDim('n', n);
  checkArray('a', a, n * n, `n×n = ${n}×${n}`);
  checkOptions('linalg (SPD routines)', options, { damping: 'number' });
  const damping = options?.damping ?? 0;
  checkNonNegative('damping', damping);
  return damping;
}

function factor(k: Kernels, n: number, pl: number, damping: number): void {
  const info = k.potrf(n, pl, n, damping, pl, n);
  if (info !== 0) throw new NotPositiveDefiniteError(info - 1, damping > 0 ? `A + ${damping}·I` : 'A');
}

/** Copies `data` into backend memory at `ptr`, then rejects it if it holds NaN or ±Infinity (checked in the kernel, SIMD). */
function put(k: Kernels, name: string, data: Float64Array, ptr: number): void {
  k.f64().set(data, ptr >> 3);
  const bad = k.firstNonFinite(data.length, ptr);
  if (bad >= 0) throw new NonFiniteError(name, bad, data[bad]);
}

/**
 * Copies a result out (into `into` when given, else into a new array), refusing one that overflowed:
 * finite inputs never give a silent ±Infinity or NaN. `into` is untouched when the result is refused.
 */
function copyOut(k: Kernels, ptr: number, count: number, into?: Float64Array): Float64Array {
  const bad = k.firstNonFinite(count, ptr);
  if (bad >= 0) {
    const value = k.f64()[(ptr >> 3) + bad];
    const e = new NonFiniteError('result', bad, value);
    e.message = `result: element ${bad} is ${value}: the inputs are finite but the result overflows double precision (scale the inputs down)`;
    throw e;
  }
  const view = k.f64().subarray(ptr >> 3, (ptr >> 3) + count);
  if (!into) return view.slice();
  into.set(view);
  return into;
}
