/**
 * The Kronecker-factored curvature block of one dense layer (K-FAC, Martens & Grosse 2015,
 * arXiv:1503.05671): factor statistics, their moving averages, damping, and cached
 * inverses applied to a gradient matrix. It depends only on matrices handed to it, never
 * on a model; the optimizer captures the layer's inputs and back-propagated gradients and
 * passes them in.
 *
 * ## Layout and the vec / Kronecker convention
 * The layer computes y = W·ā with W of shape m×d (m = `outputs`, d = `inputs` + 1 when
 * `bias`, the bias being W's last column), stored row-major: W[o, i] at o·d + i. That
 * flattening is vec_r (row stacking). One example's gradient is g·āᵀ, and
 * vec_r(g·āᵀ) = g ⊗ ā, so the layer's Fisher block E[(g⊗ā)(g⊗ā)ᵀ] = E[ggᵀ ⊗ āāᵀ] is
 * approximated by
 *
 *     F ≈ S ⊗ A   (in vec_r order: entry (o·d + i, p·d + j) = S[o, p]·A[i, j]),
 *
 * with A = E[āāᵀ] (d×d) and S = E[ggᵀ] (m×m). This is the same matrix that Martens &
 * Grosse write A ⊗ S for column-stacked vec. The identities implemented are
 *
 *     (S ⊗ A)·vec_r(V) = vec_r(S·V·A),    (S ⊗ A)⁻¹·vec_r(V) = vec_r(S⁻¹·V·A⁻¹),
 *
 * so the block never forms the (m·d)×(m·d) matrix (except in {@link KroneckerBlock.toDense}).
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import type { StateReader, StateValue } from '../encoding/state.js';
import {
  ArgumentError, ConvergenceError, FormatError, NonFiniteError, NotPositiveDefiniteError, ShapeError, StateError,
} from '../errors.js';
import { checkDim, checkNonNegative } from '../validate.js';
import { piDamping } from './damping.js';
import { checkDecay, emaStep } from './ema.js';

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

/** Options of {@link KroneckerBlock}. */
export interface KroneckerBlockOptions {
  /** Number of layer inputs, without the bias column (≥ 0; ≥ 1 when `bias` is false). */
  inputs: number;
  /** Number of layer outputs m (≥ 1). */
  outputs: number;
  /**
   * The layer has a bias, stored as W's last column. Then the caller passes inputs WITHOUT
   * the homogeneous 1 (n×inputs) and the block appends it itself: ā = [a, 1], d = inputs + 1.
   * Default false.
   */
  bias?: boolean;
  /**
   * How each factor is scaled, one value for both or per factor (`{ a, s }`); c below is the
   * number of examples ({@link KroneckerUpdateOptions.examples}).
   * - 'mean' (default): A = āᵀā / c, S = gᵀg / c. With g the gradients of the per-example
   *   losses, S ⊗ A approximates the Fisher of the MEAN loss, E[(g⊗ā)(g⊗ā)ᵀ].
   * - `{ a: 'sum', s: 'mean' }`: S_mean ⊗ A_sum = n·(S_mean ⊗ A_mean) approximates the Fisher of
   *   the SUM loss, Σ_i (g_i⊗ā_i)(g_i⊗ā_i)ᵀ; for one linear layer under squared error it is
   *   exactly JᵀJ (so exact damping then reproduces exact NGD's parameter-form step).
   * - 'sum': A = āᵀā, S = gᵀg, the convention of the analysis in Zhang, Martens & Grosse 2019
   *   (§4; arXiv:1905.10961), under which K-FAC's output-space step is −η(P_Γ ∘ P_X)r and
   *   matches exact NGD when n ≤ d. It is n times the sum-loss approximation above.
   * Beware the "normalisation trap": when the g rows are back-propagated from a MEAN loss
   * (each carrying 1/n), mean factors make K-FAC's output-space step n times larger than
   * exact NGD's. The optimizer owns the choice and the matching learning rate; the block
   * only applies it.
   */
  normalization?: FactorNormalization | {
    /** The input-side factor A's normalisation. */
    a?: FactorNormalization;
    /** The output-side factor S's normalisation. */
    s?: FactorNormalization;
  };
  /** EMA decay ∈ [0, 1] of the weighted (debiased) moving average; 0 keeps only the last batch. Default 0.95. */
  decay?: number;
  /** Default 'cholesky'. */
  inversion?: KroneckerInversion;
  /** Default 'pi' with 'cholesky', 'exact' with 'eigen'. */
  damping?: KroneckerDamping;
  /**
   * Form of each factor's inversion; one value for both, or per factor. Default 'auto'.
   * The dual (Woodbury) form needs the factor to be ONE batch's Gram matrix X ᵀX/c, because
   * only then is it of rank ≤ n and (XᵀX/c + μI)⁻¹ = (I − Xᵀ(cμI + XXᵀ)⁻¹X)/μ holds with the
   * stored X; an EMA over several batches is a full-rank sum of Grams. So:
   * - 'auto' picks 'dual' exactly when `decay` is 0, the inversion is 'cholesky', and the
   *   factor's dimension exceeds the batch's rows (decided afresh at every update); else 'primal'.
   * - 'dual' forces it (also when dim ≤ rows, where it is correct but slower); it requires
   *   decay 0 and inversion 'cholesky' (ArgumentError otherwise).
   * Keeping a stack of the last T batches would make an EMA-truncated factor dual-invertible
   * too; that changes the statistic's meaning and is not offered.
   */
  form?: FactorForm | {
    /** The form A is inverted in. */
    a?: FactorForm;
    /** The form S is inverted in. */
    s?: FactorForm;
  };
}

/** The options of {@link KroneckerBlockOptions} that do not depend on the layer's shape. */
export type KroneckerBlockSettings = Omit<KroneckerBlockOptions, 'inputs' | 'outputs' | 'bias'>;

/** {@link KroneckerBlockSettings} resolved by {@link KroneckerBlock.resolveSettings}: defaults filled in, per-factor values split. */
export interface ResolvedKroneckerSettings {
  /** Each factor's normalisation. */
  normalization: {
    /** A's. */
    a: FactorNormalization;
    /** S's. */
    s: FactorNormalization;
  };
  /** The moving average's decay ∈ [0, 1]. */
  decay: number;
  /** 'cholesky' or 'eigen'. */
  inversion: KroneckerInversion;
  /** 'pi' or 'exact'. */
  damping: KroneckerDamping;
  /** Each factor's inversion form setting. */
  form: {
    /** A's. */
    a: FactorForm;
    /** S's. */
    s: FactorForm;
  };
}

/** Per-call options of {@link KroneckerBlock.updateFactors}. */
export interface KroneckerUpdateOptions {
  /**
   * Number of examples the batch represents, the divisor under 'mean' normalisation for
   * BOTH factors. Default: the rows of `a`. Pass it when `g` has several rows per example
   * (e.g. the exact Gauss–Newton's one row per output direction, or several Monte-Carlo
   * samples), where S must sum over an example's rows and average over examples.
   */
  examples?: number;
}

/** What the cached inverse was built with; see {@link KroneckerBlock.inverse}. */
export interface KroneckerInverseInfo {
  /** λ given to updateInverse. */
  damping: number;
  /** The π of the split ('pi' damping), else 1. */
  pi: number;
  /** Damping added to A: π·√λ ('pi'), 0 ('exact'). */
  dampingA: number;
  /** Damping added to S: √λ/π ('pi'), 0 ('exact'). */
  dampingS: number;
  /** Form A was inverted in. */
  formA: 'primal' | 'dual';
  /** Form S was inverted in. */
  formS: 'primal' | 'dual';
  /** updateFactors calls the inverse reflects. */
  updates: number;
}

/** Condition numbers of the cached damped inverse; see {@link KroneckerBlock.conditionNumbers}. */
export interface KroneckerConditionNumbers {
  /** κ of A as inverted: A + π√λI ('pi'), A itself ('exact'; Infinity when singular). */
  a: number;
  /** κ of S as inverted, likewise. */
  s: number;
  /** κ of the whole damped block: a·s for 'pi', (s_max·a_max + λ)/(s_min·a_min + λ) for 'exact'. */
  block: number;
  /** False when a and s are cheap estimates from the Cholesky factors (never above the true κ) rather than exact values. */
  exact: boolean;
}

type Form = 'primal' | 'dual';

/**
 * A block's workspace with two lookups: `get` sizes a buffer (allocating when it is new or
 * too small), `find` returns one that must already exist and throws StateError otherwise,
 * so a misspelt name can never silently allocate a fresh, uninitialised buffer.
 */
class BlockBuffers {
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

/** The length a saved buffer must have: exactly (fixed-size statistics), or at least (room for a batch). */
type BufferLength = { exactly: number } | { atLeast: number };

/**
 * One Kronecker factor F = α·XᵀX (+ EMA history), X rows×dim, held either as the dim×dim
 * matrix ('primal') or as the batch X itself with K = XXᵀ ('dual'). The dual batch is
 * double-buffered (two slots) so that an update does not disturb the inverse cached from
 * the previous slot.
 */
class Factor {
  /** Form of the current statistics (latest update). */
  form: Form = 'primal';
  /** Dual slots: rows and scale α of the batch each holds; -1 active = none yet. */
  private readonly slotRows = [0, 0];
  private readonly slotAlpha = [0, 0];
  private pending = 0;
  private active = -1;
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

  /** The factor's bookkeeping (its buffers are saved with the block's). */
  saveState(): { [key: string]: StateValue } {
    return {
      form: this.form, slotRows: [...this.slotRows], slotAlpha: [...this.slotAlpha], pending: this.pending, active: this.active,
      invForm: this.invForm, invMu: this.invMu, invRows: this.invRows, invAlpha: this.invAlpha,
    };
  }

  loadState(r: StateReader): void {
    const forms = ['primal', 'dual'] as const;
    this.form = r.choice('form', forms);
    const rows = r.numbers('slotRows', 2), alpha = r.numbers('slotAlpha', 2);
    if (!rows.every((n) => Number.isSafeInteger(n) && n >= 0)) throw new FormatError(`${r.field}.slotRows`, `must be two row counts (integers ≥ 0), got ${rows.join(', ')}`);
    this.slotRows[0] = rows[0]; this.slotRows[1] = rows[1];
    this.slotAlpha[0] = alpha[0]; this.slotAlpha[1] = alpha[1];
    this.pending = r.integer('pending', 0, 1);
    this.active = r.integer('active', -1, 1);
    this.invForm = r.choice('invForm', forms);
    this.invMu = r.number('invMu', { min: 0 });
    this.invRows = r.integer('invRows');
    this.invAlpha = r.number('invAlpha');
    // The cached dual inverse was built from the active slot's batch: their row counts agree.
    const activeRows = this.active >= 0 ? this.slotRows[this.active] : 0;
    if (this.invRows !== activeRows) throw new FormatError(`${r.field}.invRows`, `must equal the rows of the active slot (${activeRows}), got ${this.invRows}`);
  }

  /**
   * The exact length of each buffer of this factor that a checkpoint may hold (its
   * bookkeeping loaded first), and which of them the state needs: the statistics once
   * updated, the cached inverse's buffers once inverted (`inverse`: how).
   */
  savedBuffers(updated: boolean, inverse: 'cholesky' | 'eigen' | undefined, explicitInverse: boolean): { lengths: Map<string, BufferLength>; required: string[] } {
    const { name, dim } = this, square = { exactly: dim * dim };
    // Dual buffers keep the room of the largest batch they held: at least the saved rows' worth.
    const lengths = new Map<string, BufferLength>([
      [`${name}.F`, square], [`${name}.L`, square], [`${name}.inv`, square], [`${name}.U`, square], [`${name}.w`, { exactly: dim }],
      [`${name}.LK`, { atLeast: this.invRows * this.invRows }],
    ]);
    for (const s of [0, 1]) {
      lengths.set(`${name}.X${s}`, { atLeast: this.slotRows[s] * dim });
      lengths.set(`${name}.K${s}`, { atLeast: this.slotRows[s] * this.slotRows[s] });
    }
    const required: string[] = [];
    const dualSlot = (s: number) => { if (s >= 0) required.push(`${name}.X${s}`, `${name}.K${s}`); };
    if (updated) {
      if (this.form === 'primal') required.push(`${name}.F`);
      else dualSlot(this.pending);
    }
    if (inverse === 'eigen') required.push(`${name}.F`, `${name}.w`, `${name}.U`);
    else if (inverse === 'cholesky' && this.invForm === 'primal') required.push(`${name}.L`, ...(explicitInverse ? [`${name}.inv`] : []));
    else if (inverse === 'cholesky') { dualSlot(this.active); required.push(`${name}.LK`); }
    return { lengths, required };
  }

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
  factorize(mu: number, explicitInverse: boolean): void {
    const { kernels, ws, dim, name } = this;
    this.invMu = mu;
    if (this.invForm === 'primal') {
      const f = ws.find(`${name}.F`), l = ws.get(`${name}.L`, dim * dim);
      const info = kernels.potrf(dim, f, dim, mu, l, dim);
      if (info !== 0) throw new NotPositiveDefiniteError(info - 1, `damped factor ${name} + ${mu}·I`);
      if (explicitInverse) kernels.potri(dim, l, dim, ws.get(`${name}.inv`, dim * dim), dim);
      return;
    }
    if (!(mu > 0)) {
      throw new ArgumentError('damping', `must be > 0 when factor ${name} is inverted in the dual form (its ${dim}×${dim} matrix has rank ≤ ${this.invRows})`);
    }
    const rows = this.invRows;
    const g = ws.find(`${name}.K${this.active}`), l = ws.get(`${name}.LK`, rows * rows);
    const info = kernels.potrf(rows, g, rows, mu / this.invAlpha, l, rows);
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
    const a = this.invAlpha, mu = this.invMu, dim = this.dim;
    const x = ws.find(`${name}.X${this.active}`) >> 3;
    let dLo = Infinity, dHi = 0;
    for (let j = 0; j < dim; j++) {
      let c = 0;
      for (let r = 0; r < n; r++) c += h[x + r * dim + j] ** 2;
      const dj = a * c + mu;
      if (dj < dLo) dLo = dj;
      if (dj > dHi) dHi = dj;
    }
    return [dim > n ? mu : dLo, Math.max(a * hi, dHi)];
  }
}

/**
 * The K-FAC curvature block of one dense layer: F ≈ S ⊗ A in the row-major layout of W
 * (see the module comment for the exact vec convention), with
 *
 * - statistics A = āᵀā/c and S = gᵀg/c from a batch (c = 1 or the number of examples,
 *   {@link KroneckerBlockOptions.normalization}), computed with syrk into backend memory and
 *   folded into weighted moving averages (decay 0.95 by default; the first update gives the
 *   batch factors exactly);
 * - damping λ, either factored with the π split (A + π√λI) ⊗ (S + √λ/πI)
 *   ({@link piDamping}, Martens & Grosse 2015 §6.3) or exact, (S ⊗ A + λI)⁻¹, applied as
 *   1/(s_o·a_i + λ) in the factors' eigenbasis;
 * - inversion by Cholesky (S⁻¹ by potrs on the gradient matrix, A⁻¹ as an explicit inverse
 *   applied by GEMM) or by eigendecomposition (syev of both factors), with the dual
 *   (Woodbury) n×n form for a factor wider than the batch (O(n²·dim) instead of O(dim³));
 * - inverses cached: {@link updateInverse} recomputes them, {@link multiplyInverse} only
 *   applies them, so an optimizer refreshes inverses every k′ steps and applies them every step.
 *
 * Memory: all buffers live in one Workspace sized on first use; repeated calls with the same
 * batch sizes allocate nothing. {@link dispose} frees everything.
 *
 * @example
 * const block = new KroneckerBlock(kernels(), { inputs: 784, outputs: 128, bias: true });
 * block.updateFactors(activations, backpropGrads); // n×784 and n×128 in backend memory
 * block.updateInverse(1e-3);
 * block.multiplyInverse(gradW, precondW);          // 128×785 each
 */
export class KroneckerBlock {
  /** Layer inputs without the bias column. */
  readonly inputs: number;
  /** Layer outputs m: W has m rows, S is m×m. */
  readonly outputs: number;
  /** Whether a homogeneous 1 is appended to each input row. */
  readonly bias: boolean;
  /** d = inputs + (bias ? 1 : 0): W has d columns, A is d×d. */
  readonly inDim: number;
  /** Normalisation of each factor (see {@link KroneckerBlockOptions.normalization}). */
  readonly normalization: {
    /** A's. */
    readonly a: FactorNormalization;
    /** S's. */
    readonly s: FactorNormalization;
  };
  /** The moving average's decay ∈ [0, 1] (0 keeps only the last batch). */
  readonly decay: number;
  /** How the factors are inverted: 'cholesky' or 'eigen'. */
  readonly inversion: KroneckerInversion;
  /** How λ is applied: 'pi' (split between the factors) or 'exact' (through the eigenbases). */
  readonly damping: KroneckerDamping;

  private readonly ws: BlockBuffers;
  private readonly A: Factor;
  private readonly S: Factor;
  private emaWeight = 0;
  private updatesCount = 0;
  private version = 0;
  private eigenVersion = -1;
  private info: KroneckerInverseInfo | undefined;
  private disposed = false;

  /**
   * @param kernels the backend whose memory holds the factors
   * @param options the layer's shape and the block's settings
   */
  constructor(
    /** The backend whose memory holds the factors and inverses. */
    readonly kernels: Kernels,
    options: KroneckerBlockOptions,
  ) {
    const { inputs, outputs, bias = false } = options;
    checkDim('inputs', inputs);
    checkDim('outputs', outputs);
    if (outputs < 1) throw new ShapeError('outputs', 'must be ≥ 1');
    if (inputs + (bias ? 1 : 0) < 1) throw new ShapeError('inputs', 'must be ≥ 1 for a layer without bias');
    const { normalization, decay, inversion, damping, form } = KroneckerBlock.resolveSettings(options);
    this.inputs = inputs;
    this.outputs = outputs;
    this.bias = bias;
    this.inDim = inputs + (bias ? 1 : 0);
    this.normalization = normalization;
    this.decay = decay;
    this.inversion = inversion;
    this.damping = damping;
    this.ws = new BlockBuffers(kernels);
    this.A = new Factor(kernels, this.ws, 'A', this.inDim, form.a);
    this.S = new Factor(kernels, this.ws, 'S', outputs, form.s);
  }

  /**
   * The block's whole state (checkpoints): EMA weight, counters, the cached inverse's
   * description, both factors' bookkeeping and every buffer (statistics, Cholesky factors,
   * inverses, eigenbases), so a restored block continues bit for bit.
   */
  saveState(): { [key: string]: StateValue } {
    this.live();
    return {
      emaWeight: this.emaWeight, updatesCount: this.updatesCount, version: this.version, eigenVersion: this.eigenVersion,
      info: this.info ? { ...this.info } : null, A: this.A.saveState(), S: this.S.saveState(), buffers: this.ws.save(this.kernels.f64()),
    };
  }

  /** Restores {@link KroneckerBlock.saveState}; a bad field throws FormatError naming it. */
  loadState(r: StateReader): void {
    this.live();
    const emaWeight = r.number('emaWeight', { min: 0 });
    const updatesCount = r.integer('updatesCount'), version = r.integer('version'), eigenVersion = r.integer('eigenVersion', -1);
    let info: KroneckerInverseInfo | undefined;
    if (r.has('info')) {
      const i = r.object('info'), forms = ['primal', 'dual'] as const;
      info = {
        damping: i.number('damping', { min: 0 }), pi: i.number('pi'), dampingA: i.number('dampingA'), dampingS: i.number('dampingS'),
        formA: i.choice('formA', forms), formS: i.choice('formS', forms), updates: i.integer('updates'),
      };
    }
    const b = r.object('buffers');
    const buffers: { [name: string]: Float64Array } = {};
    for (const name of b.keys()) {
      if (!/^[A-Za-z][A-Za-z0-9.]*$/.test(name)) throw new FormatError(`${b.field}.${name}`, 'is not a buffer name');
      buffers[name] = b.f64(name, undefined, true);
    }
    this.A.loadState(r.object('A'));
    this.S.loadState(r.object('S'));
    this.checkSavedBuffers(b.field, buffers, updatesCount > 0, info ? this.inversion : undefined);
    this.ws.load(this.kernels, buffers);
    this.emaWeight = emaWeight;
    this.updatesCount = updatesCount;
    this.version = version;
    this.eigenVersion = eigenVersion;
    this.info = info;
  }

  /**
   * Every buffer the restored state reads must be present with its expected length (a short
   * one would be read past): exactly the factor's size for the statistics, inverses and
   * eigenbases, at least the saved rows' worth for dual batches (they keep the room of the
   * largest batch held). FormatError naming `field`.name otherwise. Scratch buffers (resized
   * on use) may have any length.
   */
  private checkSavedBuffers(field: string, buffers: { [name: string]: Float64Array }, updated: boolean, inverse: 'cholesky' | 'eigen' | undefined): void {
    const a = this.A.savedBuffers(updated, inverse, true), s = this.S.savedBuffers(updated, inverse, false);
    const lengths = new Map<string, BufferLength>([...a.lengths, ...s.lengths, ['eig.D', { exactly: this.outputs * this.inDim }]]);
    const required = [...a.required, ...s.required, ...(inverse === 'eigen' ? ['eig.D'] : [])];
    for (const name of required) {
      if (!Object.hasOwn(buffers, name)) throw new FormatError(`${field}.${name}`, 'is missing (the saved state needs it)');
    }
    for (const [name, values] of Object.entries(buffers)) {
      const expected = lengths.get(name);
      if (!expected) continue;
      const ok = 'exactly' in expected ? values.length === expected.exactly : values.length >= expected.atLeast;
      if (!ok) {
        const want = 'exactly' in expected ? `${expected.exactly}` : `at least ${expected.atLeast}`;
        throw new FormatError(`${field}.${name}`, `must hold ${want} values for this ${this.outputs}×${this.inDim} block and its saved row counts, got ${values.length}`);
      }
    }
  }

  /**
   * Resolves and validates the shape-independent options of a block (everything but
   * `inputs`, `outputs`, `bias`): the one validator of these options, also used by the
   * K-FAC estimator to reject bad options when an optimizer is made, before any net exists.
   * `names` renames arguments in the errors when a caller spells an option differently
   * (K-FAC's `dampingForm` is the block's `damping`). A per-factor setting given as one
   * string is named as given (`form`), an object's fields as `form.a` / `form.s`.
   */
  static resolveSettings(options: KroneckerBlockSettings, names: { damping?: string } = {}): ResolvedKroneckerSettings {
    const { normalization = 'mean', decay = 0.95, inversion = 'cholesky' } = options;
    const normA = typeof normalization === 'string' ? normalization : normalization.a ?? 'mean';
    const normS = typeof normalization === 'string' ? normalization : normalization.s ?? 'mean';
    for (const [name, v] of [['normalization.a', normA], ['normalization.s', normS]] as const) {
      if (v !== 'sum' && v !== 'mean') throw new ArgumentError(name, `must be 'sum' or 'mean', got ${String(v)}`);
    }
    checkDecay(decay);
    if (inversion !== 'cholesky' && inversion !== 'eigen') throw new ArgumentError('inversion', `must be 'cholesky' or 'eigen', got ${String(inversion)}`);
    const dampingName = names.damping ?? 'damping';
    const damping = options.damping ?? (inversion === 'eigen' ? 'exact' : 'pi');
    if (damping !== 'pi' && damping !== 'exact') throw new ArgumentError(dampingName, `must be 'pi' or 'exact', got ${String(damping)}`);
    if (damping === 'exact' && inversion !== 'eigen') throw new ArgumentError(dampingName, "'exact' damping needs inversion 'eigen'");
    const form = options.form ?? 'auto';
    const one = typeof form === 'string';
    const formA = one ? form : form.a ?? 'auto';
    const formS = one ? form : form.s ?? 'auto';
    for (const [name, f] of [[one ? 'form' : 'form.a', formA], [one ? 'form' : 'form.s', formS]] as const) {
      if (f !== 'auto' && f !== 'primal' && f !== 'dual') throw new ArgumentError(name, `must be 'auto', 'primal' or 'dual', got ${String(f)}`);
      if (f === 'dual' && decay !== 0) throw new ArgumentError(name, `'dual' needs decay 0 (an EMA over batches is full rank), got decay ${decay}`);
      if (f === 'dual' && inversion !== 'cholesky') throw new ArgumentError(name, "'dual' needs inversion 'cholesky'");
    }
    return { normalization: { a: normA, s: normS }, decay, inversion, damping, form: { a: formA, s: formS } };
  }

  /** Number of updateFactors calls so far. */
  get updates(): number {
    return this.updatesCount;
  }

  /** The moving average's running weight w (Σ of decay powers; 0 before the first update). */
  get weight(): number {
    return this.emaWeight;
  }

  /** What the cached inverse was built with, or undefined before the first updateInverse. */
  get inverse(): KroneckerInverseInfo | undefined {
    return this.info && { ...this.info };
  }

  /**
   * Folds one batch into the factor statistics:
   * A ← weighted average with āᵀā/c, S ← with gᵀg/c (per factor, c = 1 for 'sum', else
   * `options.examples` ?? a.rows), by syrk straight from `a` and `g` (or a staged copy when
   * a bias column must be appended, or when a factor is kept in the dual form, which
   * stores its batch).
   *
   * @param a n×inputs layer inputs (without the homogeneous 1; the block appends it when `bias`).
   * @param g r×outputs back-propagated pre-activation gradients (r = n usually; any r ≥ 1).
   * Both are read, not modified, and must be finite (NonFiniteError otherwise, before any
   * state changes). The cached inverse is not touched: call {@link updateInverse} to refresh it.
   */
  updateFactors(a: MatRef, g: MatRef, options: KroneckerUpdateOptions = {}): void {
    this.live();
    this.checkRef('a', a, -1, this.inputs);
    this.checkRef('g', g, -1, this.outputs);
    if (a.rows < 1) throw new ShapeError('a', 'needs at least one row');
    if (g.rows < 1) throw new ShapeError('g', 'needs at least one row');
    const examples = options.examples ?? a.rows;
    if (!(Number.isFinite(examples) && examples > 0)) throw new ArgumentError('examples', `must be a finite number > 0, got ${examples}`);
    checkRefFinite(this.kernels, 'a', a);
    checkRefFinite(this.kernels, 'g', g);
    const dualAllowed = this.decay === 0 && this.inversion === 'cholesky';
    const step = emaStep(this.decay, this.emaWeight);
    const alphaA = step.newScale / (this.normalization.a === 'sum' ? 1 : examples);
    const alphaS = step.newScale / (this.normalization.s === 'sum' ? 1 : examples);
    this.A.update(a, this.bias, this.A.chooseForm(a.rows, dualAllowed), alphaA, step.oldScale);
    this.S.update(g, false, this.S.chooseForm(g.rows, dualAllowed), alphaS, step.oldScale);
    this.emaWeight = step.weight;
    this.updatesCount++;
    this.version++;
  }

  /**
   * Recomputes the cached inverse from the current statistics and damping λ ≥ 0.
   * - cholesky / 'pi': π from the factors' traces ({@link piDamping}), then Cholesky of
   *   A + π√λI and S + (√λ/π)I (dual factors: of the n×n K + (cμ)I instead).
   * - eigen: syev of A and S (only when the statistics changed since the last call; a new λ
   *   alone reuses the eigenvectors), then the elementwise table 1/(s_o·a_i + λ) ('exact';
   *   eigenvalues clipped at 0) or 1/((s_o + μ_S)(a_i + μ_A)) ('pi').
   *
   * Throws NotPositiveDefiniteError when a damped factor is not numerically positive
   * definite (typically λ = 0 on a rank-deficient factor; raise λ), ArgumentError when λ = 0
   * meets a dual factor or a singular 'exact' block, NonFiniteError for NaN statistics,
   * ConvergenceError when syev fails. On a throw the previous cache may be partly overwritten:
   * call updateInverse again (with more damping) before multiplyInverse.
   */
  updateInverse(damping: number): void {
    this.live();
    checkNonNegative('damping', damping);
    if (this.updatesCount === 0) throw new StateError('updateInverse before any updateFactors');
    this.A.checkFinite();
    this.S.checkFinite();
    this.info = undefined;
    const { A, S } = this;
    const split = this.damping === 'pi'
      ? piDamping(A.trace(), A.dim, S.trace(), S.dim, damping)
      : { pi: 1, dampingA: 0, dampingS: 0 };
    A.commit();
    S.commit();
    if (this.inversion === 'cholesky') {
      A.factorize(split.dampingA, true);
      S.factorize(split.dampingS, false);
    } else {
      this.eigenTable(damping, split.dampingA, split.dampingS);
    }
    this.info = {
      damping, pi: split.pi, dampingA: split.dampingA, dampingS: split.dampingS,
      formA: A.invForm, formS: S.invForm, updates: this.updatesCount,
    };
  }

  /**
   * out ← (damped F)⁻¹·V with the cached inverse, as matrices: out = S̃⁻¹·V·Ã⁻¹ ('pi'), or the
   * eigenbasis form U_S[(U_Sᵀ V U_A) ⊘ (s aᵀ + λ)]U_Aᵀ ('exact').
   *
   * @param v outputs×inDim gradient matrix (same layout as W), read only.
   * @param out outputs×inDim result; may be `v` itself (same pointer and ld), must not
   *   otherwise overlap it.
   */
  multiplyInverse(v: MatRef, out: MatRef): void {
    this.live();
    if (!this.info) throw new StateError('multiplyInverse before updateInverse');
    const m = this.outputs, d = this.inDim, kernels = this.kernels, ws = this.ws;
    this.checkRef('v', v, m, d);
    this.checkRef('out', out, m, d);
    const ldv = v.ld ?? v.cols, ldo = out.ld ?? out.cols;
    if (this.inversion === 'eigen') {
      const us = ws.find('S.U'), ua = ws.find('A.U'), table = ws.find('eig.D');
      const t1 = ws.get('t1', m * d), t2 = ws.get('t2', m * d);
      kernels.gemm(1, 0, m, d, m, 1, us, m, v.ptr, ldv, 0, t1, d);
      kernels.gemm(0, 0, m, d, d, 1, t1, d, ua, d, 0, t2, d);
      kernels.hadamard(m * d, t2, table, t2);
      kernels.gemm(0, 0, m, d, m, 1, us, m, t2, d, 0, t1, d);
      kernels.gemm(0, 1, m, d, d, 1, t1, d, ua, d, 0, out.ptr, ldo);
      return;
    }
    const w = ws.get('w', m * d);
    // Right factor first: W = V·Ã⁻¹.
    if (this.A.invForm === 'primal') {
      kernels.gemm(0, 0, m, d, d, 1, v.ptr, ldv, ws.find('A.inv'), d, 0, w, d);
    } else {
      // V(αXᵀX + μI)⁻¹ = (V − Zᵀ X)/μ with Z = (K + (μ/α)I)⁻¹ X Vᵀ, X the stored n×d batch.
      const n = this.A.invRows, mu = this.A.invMu;
      const z = ws.get('z', n * m);
      copyRows(kernels, v.ptr, ldv, w, d, m, d);
      const { x, l } = this.A.dualPtrs();
      kernels.gemm(0, 1, n, m, d, 1, x, d, w, d, 0, z, m);
      kernels.potrs(n, m, l, n, z, m);
      kernels.gemm(1, 0, m, d, n, -1 / mu, z, m, x, d, 1 / mu, w, d);
    }
    // Then the left factor, in place: W ← S̃⁻¹·W.
    if (this.S.invForm === 'primal') {
      kernels.potrs(m, d, ws.find('S.L'), m, w, d);
    } else {
      // (αXᵀX + μI)⁻¹W = (W − Xᵀ T)/μ with T = (K + (μ/α)I)⁻¹ X W, X the stored n×m batch.
      const n = this.S.invRows, mu = this.S.invMu;
      const t = ws.get('t', n * d);
      const { x, l } = this.S.dualPtrs();
      kernels.gemm(0, 0, n, d, m, 1, x, m, w, d, 0, t, d);
      kernels.potrs(n, d, l, n, t, d);
      kernels.gemm(1, 0, m, d, n, -1 / mu, x, m, t, d, 1 / mu, w, d);
    }
    copyRows(kernels, w, d, out.ptr, ldo, m, d);
  }

  /**
   * Condition numbers of the factors as last inverted (see {@link KroneckerConditionNumbers}).
   * In 'eigen' mode they come exactly and for free from the cached eigenvalues. In
   * 'cholesky' mode the default is a cheap lower bound from the Cholesky pivots
   * (max d_i / min d_i ≤ κ, since every pivot lies in [λ_min, λ_max]); `exact: true`
   * runs syev on L·Lᵀ (O(dim³), or O(n³) for a dual factor, whose spectrum is
   * α·eig(K) + μ on the row space and μ elsewhere).
   */
  conditionNumbers(options: { exact?: boolean } = {}): KroneckerConditionNumbers {
    this.live();
    const info = this.info;
    if (!info) throw new StateError('conditionNumbers before updateInverse');
    if (this.inversion === 'eigen') {
      const h = this.kernels.f64();
      const [sLo, sHi] = clippedRange(h, this.ws.find('S.w') >> 3, this.outputs);
      const [aLo, aHi] = clippedRange(h, this.ws.find('A.w') >> 3, this.inDim);
      if (this.damping === 'exact') {
        const lam = info.damping;
        return { a: ratio(aHi, aLo), s: ratio(sHi, sLo), block: ratio(sHi * aHi + lam, sLo * aLo + lam), exact: true };
      }
      const a = ratio(aHi + info.dampingA, aLo + info.dampingA), s = ratio(sHi + info.dampingS, sLo + info.dampingS);
      return { a, s, block: a * s, exact: true };
    }
    const exact = options.exact ?? false;
    const [aLo, aHi] = this.A.extremes(exact);
    const [sLo, sHi] = this.S.extremes(exact);
    const a = ratio(aHi, aLo), s = ratio(sHi, sLo);
    return { a, s, block: a * s, exact };
  }

  /** Copies of the current factor statistics: A (inDim×inDim) and S (outputs×outputs), row-major. */
  readFactors(): {
    /** A, inDim × inDim. */
    a: Float64Array;
    /** S, outputs × outputs. */
    s: Float64Array;
  } {
    this.live();
    if (this.updatesCount === 0) throw new StateError('readFactors before any updateFactors');
    return { a: this.A.readDense(), s: this.S.readDense() };
  }

  /**
   * For tests and diagnostics: the dense (m·d)×(m·d) matrix, row-major, in the vec_r order
   * of W (index o·d + i), of the current statistics: S ⊗ A (entry (o·d+i, p·d+j) =
   * S[o,p]·A[i,j]); with `damping` = λ, the matrix whose inverse {@link multiplyInverse}
   * applies after updateInverse(λ): (S + √λ/π I) ⊗ (A + π√λ I) for 'pi', S ⊗ A + λI for
   * 'exact'. Refuses (ArgumentError) above 2²⁶ entries.
   */
  toDense(damping?: number): Float64Array {
    this.live();
    const m = this.outputs, d = this.inDim, p = m * d;
    if (p * p > 2 ** 26) throw new ArgumentError('toDense', `(${p})² entries is too large for a dense matrix`);
    const { a, s } = this.readFactors();
    let muA = 0, muS = 0, lam = 0;
    if (damping !== undefined) {
      checkNonNegative('damping', damping);
      if (this.damping === 'pi') {
        ({ dampingA: muA, dampingS: muS } = piDamping(trace(a, d), d, trace(s, m), m, damping));
      } else lam = damping;
    }
    const out = new Float64Array(p * p);
    for (let o = 0; o < m; o++) {
      for (let q = 0; q < m; q++) {
        const so = s[o * m + q] + (o === q ? muS : 0);
        for (let i = 0; i < d; i++) {
          const row = (o * d + i) * p + q * d;
          for (let j = 0; j < d; j++) out[row + j] = so * (a[i * d + j] + (i === j ? muA : 0));
        }
      }
    }
    if (lam !== 0) for (let i = 0; i < p; i++) out[i * p + i] += lam;
    return out;
  }

  /** Frees all backend memory; the block is unusable afterwards (StateError). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.ws.dispose();
    this.disposed = true;
    this.info = undefined;
  }

  /** A one-line summary, e.g. `KroneckerBlock(128×785 with bias, cholesky/pi, mean, decay 0.95, 3 updates)`. */
  toString(): string {
    const inv = this.info ? `, inverse λ=${this.info.damping} (A ${this.info.formA}, S ${this.info.formS})` : '';
    return `KroneckerBlock(${this.outputs}×${this.inDim}${this.bias ? ' with bias' : ''}, ${this.inversion}/${this.damping}, ` +
      `${this.normalization.a === this.normalization.s ? this.normalization.a : `A ${this.normalization.a}/S ${this.normalization.s}`}, decay ${this.decay}, ${this.updatesCount} updates${inv}${this.disposed ? ', disposed' : ''})`;
  }

  /** Eigen mode: syev of both factors when the statistics changed, then the damping table D. */
  private eigenTable(lam: number, muA: number, muS: number): void {
    const { kernels, ws } = this;
    const m = this.outputs, d = this.inDim;
    if (this.eigenVersion !== this.version) {
      for (const [f, n] of [['A', d], ['S', m]] as const) {
        const info = kernels.syev(n, ws.get(`${f}.F`, n * n), n, ws.get(`${f}.w`, n), ws.get(`${f}.U`, n * n), n);
        if (info !== 0) throw new ConvergenceError(`eigendecomposition of factor ${f}: the symmetric eigensolver did not converge (code ${info})`);
      }
      this.eigenVersion = this.version;
    }
    const table = ws.get('eig.D', m * d);
    const h = kernels.f64();
    const sw = ws.find('S.w') >> 3, aw = ws.find('A.w') >> 3, base = table >> 3;
    const exact = this.damping === 'exact';
    for (let o = 0; o < m; o++) {
      // PSD factors: clip round-off negatives to 0 so the damping alone bounds the denominator.
      const so = Math.max(h[sw + o], 0);
      for (let i = 0; i < d; i++) {
        const ai = Math.max(h[aw + i], 0);
        const den = exact ? so * ai + lam : (so + muS) * (ai + muA);
        if (!(den > 0)) {
          throw new ArgumentError('damping', `the damped block is singular (eigenvalue product ${so * ai}, damping ${lam}); use damping > 0`);
        }
        h[base + o * d + i] = 1 / den;
      }
    }
  }

  private live(): void {
    if (this.disposed) throw new StateError('KroneckerBlock used after dispose()');
  }

  /** Validates a MatRef: rows (when ≥ 0) and cols, ld ≥ cols, and the same backend when it is a Mat. */
  private checkRef(name: string, ref: MatRef, rows: number, cols: number): void {
    if (!ref || typeof ref.ptr !== 'number') throw new ShapeError(name, 'must be a matrix reference { ptr, rows, cols, ld? }');
    checkDim(`${name}.rows`, ref.rows);
    if (rows >= 0 && ref.rows !== rows) throw new ShapeError(name, `expected ${rows} rows, got ${ref.rows}`);
    if (ref.cols !== cols) throw new ShapeError(name, `expected ${cols} columns, got ${ref.cols}`);
    const ld = ref.ld ?? ref.cols;
    if (!Number.isSafeInteger(ld) || ld < cols) throw new ShapeError(`${name}.ld`, `must be an integer ≥ ${cols}, got ${ld}`);
    const owner = (ref as { k?: Kernels }).k; // a Mat names its backend `k`
    if (owner !== undefined && owner !== this.kernels) throw new ArgumentError(name, 'lives on a different backend than this block');
  }
}

/** Copies rows×cols from (src, lds) to (dst, ldd), element pointers given as bytes; overlapping copies are safe row by row only when identical. */
function copyRows(kernels: Kernels, src: Ptr, lds: number, dst: Ptr, ldd: number, rows: number, cols: number): void {
  if (src === dst && lds === ldd) return;
  const h = kernels.f64(), s = src >> 3, t = dst >> 3;
  if (lds === cols && ldd === cols) {
    h.copyWithin(t, s, s + rows * cols);
    return;
  }
  for (let r = 0; r < rows; r++) h.copyWithin(t + r * ldd, s + r * lds, s + r * lds + cols);
}

/** Copies `src` (rows×src.cols, ld) into dst (rows×dim, contiguous), with 1 in the last column when appendOne. */
function stageRows(kernels: Kernels, src: MatRef, appendOne: boolean, dst: Ptr, dim: number): void {
  copyRows(kernels, src.ptr, src.ld ?? src.cols, dst, dim, src.rows, src.cols);
  if (appendOne) {
    const h = kernels.f64(), t = dst >> 3;
    for (let r = 0; r < src.rows; r++) h[t + r * dim + dim - 1] = 1;
  }
}

/** Throws NonFiniteError naming the first non-finite element (row-major index) of ref. */
function checkRefFinite(kernels: Kernels, name: string, ref: MatRef): void {
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

function diagSum(kernels: Kernels, p: Ptr, n: number, ld: number): number {
  const h = kernels.f64(), base = p >> 3;
  let s = 0;
  for (let i = 0; i < n; i++) s += h[base + i * ld + i];
  return s;
}

function trace(a: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i * n + i];
  return s;
}

function copyOut(kernels: Kernels, p: Ptr, count: number): Float64Array {
  return kernels.f64().slice(p >> 3, (p >> 3) + count);
}

/** [min, max] of n ascending eigenvalues at element offset w, clipped below at 0. */
function clippedRange(h: Float64Array, w: number, n: number): [number, number] {
  return [Math.max(h[w], 0), Math.max(h[w + n - 1], 0)];
}

/** hi/lo with 0/0 = 1 (a zero factor) and x/0 = Infinity. */
function ratio(hi: number, lo: number): number {
  if (hi === 0 && lo === 0) return 1;
  return lo > 0 ? hi / lo : Infinity;
}
