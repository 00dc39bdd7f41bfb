/**
 * The maths of one Kronecker factor of a K-FAC block (kronecker.ts): its statistics F = α·XᵀX
 * folded into a moving average, held in the primal (dim×dim) or the dual (the batch X and
 * K = XXᵀ) form, damped, factored by Cholesky, and its spectrum's extremes; the block's named
 * buffers; and the small matrix helpers the block shares with it. Internal to curvature/.
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import { ArgumentError, ConvergenceError, NonFiniteError, NotPositiveDefiniteError, StateError } from '../errors.js';

/**
 * A row-major matrix in the backend's memory, by reference: `ptr` to element (0, 0),
 * `rows`×`cols`, leading dimension `ld` (elements between rows; default `cols`).
 * A {@link Mat} satisfies it.
 */
export interface MatRef {
  /** Byte pointer of element (0, 0) in the backend's memory. */
  readonly ptr: Ptr;
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** Leading dimension: elements between the starts of consecutive rows (default cols). */
  readonly ld?: number;
}

/** How a batch's Gram matrix is scaled into a factor: divided by 1 ('sum') or by the number of examples ('mean'). */
export type FactorNormalization = 'sum' | 'mean';
/** How the damped factors are inverted. */
export type KroneckerInversion = 'cholesky' | 'eigen';
/** 'pi': factored Tikhonov with the π split; 'exact': (S ⊗ A + λI)⁻¹ in the eigenbasis (needs inversion 'eigen'). */
export type KroneckerDamping = 'pi' | 'exact';
/** Which form a factor is inverted in: its own d×d ('primal'), or the n×n Woodbury form ('dual'); 'auto' chooses. */
export type FactorForm = 'auto' | 'primal' | 'dual';

/** The form a factor's statistics or its inverse is held in. */
export type Form = 'primal' | 'dual';

/**
 * A block's workspace with two lookups: `get` sizes a buffer (allocating when it is new or
 * too small), `find` returns one that must already exist and throws StateError otherwise,
 * so a misspelt name can never silently allocate a fresh, uninitialised buffer.
 */
export class BlockBuffers {
  private readonly ws: Workspace;
  private readonly known = new Set<string>();

  constructor(kernels: Kernels) {
    this.ws = new Workspace(kernels);
  }

  get(name: string, count: number): Ptr {
    this.known.add(name);
    return this.ws.get(name, count);
  }

  find(name: string): Ptr {
    if (!this.known.has(name)) throw new StateError(`KroneckerBlock: buffer '${name}' read before it was written`);
    return this.ws.get(name, 0);
  }

  /** Copies of every buffer (checkpoints). */
  save(h: Float64Array): { [name: string]: Float64Array } {
    const out: { [name: string]: Float64Array } = {};
    for (const { name, ptr, count } of this.ws.entries()) if (this.known.has(name)) out[name] = h.slice(ptr >> 3, (ptr >> 3) + count);
    return out;
  }

  /** Writes saved buffers back (allocating them). */
  load(kernels: Kernels, buffers: { [name: string]: Float64Array }): void {
    for (const name of Object.keys(buffers)) {
      const p = this.get(name, buffers[name].length);
      kernels.f64().set(buffers[name], p >> 3);
    }
  }

  dispose(): void {
    this.ws.dispose();
    this.known.clear();
  }
}

/**
 * One Kronecker factor F = α·XᵀX (+ EMA history), X rows×dim, held either as the dim×dim
 * matrix ('primal') or as the batch X itself with K = XXᵀ ('dual'). The dual batch is
 * double-buffered (two slots) so that an update does not disturb the inverse cached from
 * the previous slot.
 */
export class Factor {
  /** Form of the current statistics (latest update). */
  form: Form = 'primal';
  /** Dual slots: rows and scale α of the batch each holds; -1 active = none yet. */
  readonly slotRows = [0, 0];
  readonly slotAlpha = [0, 0];
  pending = 0;
  active = -1;
  /** Form, damping μ and (dual) rows/α the cached inverse was built with. */
  invForm: Form = 'primal';
  invMu = 0;
  invRows = 0;
  invAlpha = 0;

  constructor(
    private readonly kernels: Kernels,
    private readonly ws: BlockBuffers,
    readonly name: 'A' | 'S',
    readonly dim: number,
    readonly formSetting: FactorForm,
  ) {}

  /** Chooses the form for a batch of `rows` rows. */
  chooseForm(rows: number, dualAllowed: boolean): Form {
    if (this.formSetting === 'dual') return 'dual';
    if (this.formSetting === 'primal' || !dualAllowed) return 'primal';
    return this.dim > rows ? 'dual' : 'primal';
  }

  /**
   * Folds a batch X (copied from `src`, with a column of ones appended when `appendOne`)
   * into the factor: F ← oldScale·F + alpha·XᵀX (primal), or stores X and K = XXᵀ with
   * F = alpha·XᵀX (dual, where oldScale is 0).
   */
  update(src: MatRef, appendOne: boolean, form: Form, alpha: number, oldScale: number): void {
    const { kernels, ws, dim } = this;
    const rows = src.rows;
    this.form = form;
    if (form === 'primal') {
      const f = ws.get(`${this.name}.F`, dim * dim);
      if (appendOne) {
        const stage = ws.get(`${this.name}.stage`, rows * dim);
        stageRows(kernels, src, appendOne, stage, dim);
        kernels.syrk(1, dim, rows, alpha, stage, dim, oldScale, f, dim);
      } else {
        kernels.syrk(1, dim, rows, alpha, src.ptr, src.ld ?? src.cols, oldScale, f, dim);
      }
      return;
    }
    const slot = this.active === 0 ? 1 : 0;
    const x = ws.get(`${this.name}.X${slot}`, rows * dim);
    const g = ws.get(`${this.name}.K${slot}`, rows * rows);
    stageRows(kernels, src, appendOne, x, dim);
    kernels.syrk(0, rows, dim, 1, x, dim, 0, g, rows);
    this.slotRows[slot] = rows;
    this.slotAlpha[slot] = alpha;
    this.pending = slot;
  }

  /** tr F of the current statistics. */
  trace(): number {
    if (this.form === 'primal') return diagSum(this.kernels, this.ws.find(`${this.name}.F`), this.dim, this.dim);
    const s = this.pending, rows = this.slotRows[s];
    return this.slotAlpha[s] * diagSum(this.kernels, this.ws.find(`${this.name}.K${s}`), rows, rows);
  }

  /** Throws NonFiniteError when the current statistics hold NaN/±∞ (a non-finite entry always reaches the diagonal of a Gram). */
  checkFinite(): void {
    const { kernels, ws, dim } = this;
    const [p, n] = this.form === 'primal'
      ? [ws.find(`${this.name}.F`), dim]
      : [ws.find(`${this.name}.K${this.pending}`), this.slotRows[this.pending]];
    const h = kernels.f64(), base = p >> 3;
    for (let i = 0; i < n; i++) {
      const v = h[base + i * n + i];
      if (v - v !== 0) throw new NonFiniteError(`factor ${this.name}`, i * n + i, v);
    }
  }

  /** Makes the current statistics the ones the cache uses (dual: switch slots). */
  commit(): void {
    this.invForm = this.form;
    if (this.form === 'dual') {
      this.active = this.pending;
      this.invRows = this.slotRows[this.active];
      this.invAlpha = this.slotAlpha[this.active];
    }
  }

  /**
   * Cholesky of the damped factor as committed: L·Lᵀ = F + μI (primal, into `.L`; and
   * for A the explicit inverse into `.inv`, applied from the right by GEMM), or
   * L·Lᵀ = K + (μ/α)I (dual, into `.LK`).
   */
  factorize(damping: number, explicitInverse: boolean): void {
    const { kernels, ws, dim, name } = this;
    this.invMu = damping;
    if (this.invForm === 'primal') {
      const f = ws.find(`${name}.F`), l = ws.get(`${name}.L`, dim * dim);
      const info = kernels.potrf(dim, f, dim, damping, l, dim);
      if (info !== 0) throw new NotPositiveDefiniteError(info - 1, `damped factor ${name} + ${damping}·I`);
      if (explicitInverse) kernels.potri(dim, l, dim, ws.get(`${name}.inv`, dim * dim), dim);
      return;
    }
    if (!(damping > 0)) {
      throw new ArgumentError('damping', `must be > 0 when factor ${name} is inverted in the dual form (its ${dim}×${dim} matrix has rank ≤ ${this.invRows})`);
    }
    const rows = this.invRows;
    const g = ws.find(`${name}.K${this.active}`), l = ws.get(`${name}.LK`, rows * rows);
    const info = kernels.potrf(rows, g, rows, damping / this.invAlpha, l, rows);
    if (info !== 0) throw new NotPositiveDefiniteError(info - 1, `dual Gram of factor ${name}`);
  }

  /** Pointers of the committed dual batch X (rows×dim) and the Cholesky factor of K + (μ/α)I. */
  dualPtrs(): { x: Ptr; l: Ptr } {
    return {
      x: this.ws.find(`${this.name}.X${this.active}`),
      l: this.ws.find(`${this.name}.LK`),
    };
  }

  /** The current statistics as a dense dim×dim array (the dual one is formed on demand). */
  readDense(): Float64Array {
    const { kernels, ws, dim, name } = this;
    if (this.form === 'primal') return copyOut(kernels, ws.find(`${name}.F`), dim * dim);
    const s = this.pending, rows = this.slotRows[s];
    const tmp = ws.get('dense.tmp', dim * dim);
    kernels.syrk(1, dim, rows, this.slotAlpha[s], ws.find(`${name}.X${s}`), dim, 0, tmp, dim);
    return copyOut(kernels, tmp, dim * dim);
  }

  /**
   * Extreme eigenvalues [min, max] of the committed damped factor F + μI, exactly (by syev
   * of L·Lᵀ), or as an inner estimate [lo ≥ λ_min, hi ≤ λ_max] from values known to lie in
   * the spectrum's range (Cholesky pivots; the diagonal), so hi/lo ≤ κ.
   */
  extremes(exact: boolean): [number, number] {
    const { kernels, ws, name } = this;
    const primal = this.invForm === 'primal';
    const n = primal ? this.dim : this.invRows;
    const l = ws.find(primal ? `${name}.L` : `${name}.LK`);
    if (exact) {
      const m = ws.get('cond.m', n * n), w = ws.get('cond.w', n), v = ws.get('cond.v', n * n);
      kernels.gemm(0, 1, n, n, n, 1, l, n, l, n, 0, m, n);
      const info = kernels.syev(n, m, n, w, v, n);
      if (info !== 0) throw new ConvergenceError(`condition number of factor ${name}: the symmetric eigensolver did not converge (code ${info})`);
      const h = kernels.f64(), e = w >> 3;
      if (primal) return [h[e], h[e + n - 1]];
      // Dual: eig(F + μI) = α·(the top min(dim, n) eigenvalues of K + (μ/α)I), plus μ (dim − n times) when dim > n.
      const a = this.invAlpha;
      return [this.dim > n ? this.invMu : a * h[e + n - this.dim], a * h[e + n - 1]];
    }
    // Every Cholesky pivot d_i = L_ii², and every diagonal entry Σ_p L_ip² of the matrix
    // factored, lies in [λ_min, λ_max].
    const h = kernels.f64(), base = l >> 3;
    let lo = Infinity, hi = 0;
    for (let i = 0; i < n; i++) {
      const d = h[base + i * n + i] ** 2;
      let diag = 0;
      for (let p = 0; p <= i; p++) diag += h[base + i * n + p] ** 2;
      lo = Math.min(lo, d, diag);
      hi = Math.max(hi, d, diag);
    }
    if (primal) return [lo, hi];
    // Dual: λ_max ≥ α·max pivot, and the diagonal of F + μI (α·‖column‖² + μ of the stored
    // batch) lies in [λ_min, λ_max] too; λ_min = μ exactly when dim > n (F has rank ≤ n).
    const a = this.invAlpha, damping = this.invMu, dim = this.dim;
    const x = ws.find(`${name}.X${this.active}`) >> 3;
    let dLo = Infinity, dHi = 0;
    for (let j = 0; j < dim; j++) {
      let c = 0;
      for (let r = 0; r < n; r++) c += h[x + r * dim + j] ** 2;
      const dj = a * c + damping;
      if (dj < dLo) dLo = dj;
      if (dj > dHi) dHi = dj;
    }
    return [dim > n ? damping : dLo, Math.max(a * hi, dHi)];
  }
}

/** Copies rows×cols from (src, lds) to (dst, ldd), element pointers given as bytes; overlapping copies are safe row by row only when identical. */
export function copyRows(kernels: Kernels, src: Ptr, lds: number, dst: Ptr, ldd: number, rows: number, cols: number): void {
  if (src === dst && lds === ldd) return;
  const h = kernels.f64(), s = src >> 3, t = dst >> 3;
  if (lds === cols && ldd === cols) {
    h.copyWithin(t, s, s + rows * cols);
    return;
  }
  for (let r = 0; r < rows; r++) h.copyWithin(t + r * ldd, s + r * lds, s + r * lds + cols);
}

/** Copies `src` (rows×src.cols, ld) into dst (rows×dim, contiguous), with 1 in the last column when appendOne. */
export function stageRows(kernels: Kernels, src: MatRef, appendOne: boolean, dst: Ptr, dim: number): void {
  copyRows(kernels, src.ptr, src.ld ?? src.cols, dst, dim, src.rows, src.cols);
  if (appendOne) {
    const h = kernels.f64(), t = dst >> 3;
    for (let r = 0; r < src.rows; r++) h[t + r * dim + dim - 1] = 1;
  }
}

/** Throws NonFiniteError naming the first non-finite element (row-major index) of ref. */
export function checkRefFinite(kernels: Kernels, name: string, ref: MatRef): void {
  const ld = ref.ld ?? ref.cols;
  const contiguous = ld === ref.cols;
  for (let r = 0; r < (contiguous ? 1 : ref.rows); r++) {
    const len = contiguous ? ref.rows * ref.cols : ref.cols;
    const i = kernels.firstNonFinite(len, ref.ptr + r * ld * 8);
    if (i >= 0) {
      const at = r * ref.cols + i;
      throw new NonFiniteError(name, at, kernels.f64()[(ref.ptr >> 3) + r * ld + i]);
    }
  }
}

export function diagSum(kernels: Kernels, p: Ptr, n: number, ld: number): number {
  const h = kernels.f64(), base = p >> 3;
  let s = 0;
  for (let i = 0; i < n; i++) s += h[base + i * ld + i];
  return s;
}

export function trace(a: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i * n + i];
  return s;
}

export function copyOut(kernels: Kernels, p: Ptr, count: number): Float64Array {
  return kernels.f64().slice(p >> 3, (p >> 3) + count);
}

/** [min, max] of n ascending eigenvalues at element offset w, clipped below at 0. */
export function clippedRange(h: Float64Array, w: number, n: number): [number, number] {
  return [Math.max(h[w], 0), Math.max(h[w + n - 1], 0)];
}

/** hi/lo with 0/0 = 1 (a zero factor) and x/0 = Infinity. */
export function ratio(hi: number, lo: number): number {
  if (hi === 0 && lo === 0) return 1;
  return lo > 0 ? hi / lo : Infinity;
}
