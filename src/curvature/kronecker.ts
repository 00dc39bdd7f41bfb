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
import type { Kernels } from '../kernels/types.js';
import type { StateReader, StateValue } from '../encoding/state.js';
import { ArgumentError, ConvergenceError, ShapeError, StateError } from '../errors.js';
import { checkDim, checkNonNegative } from '../validate.js';
import { piDamping } from './damping.js';
import { checkDecay, emaStep } from './ema.js';
import {
  BlockBuffers, Factor, checkRefFinite, clippedRange, copyRows, ratio, trace,
  type FactorForm, type FactorNormalization, type KroneckerDamping, type KroneckerInversion, type MatRef,
} from './kronecker-factor.js';
import { loadBlockState, saveBlockState, type KroneckerInverseInfo } from './kronecker-state.js';

export type { FactorForm, FactorNormalization, KroneckerDamping, KroneckerInversion, MatRef } from './kronecker-factor.js';
export type { KroneckerInverseInfo } from './kronecker-state.js';

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

  /** @internal */
  readonly ws: BlockBuffers;
  /** @internal */
  readonly A: Factor;
  /** @internal */
  readonly S: Factor;
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
    const { emaWeight, updatesCount, version, eigenVersion, info } = this;
    return saveBlockState(this, { emaWeight, updatesCount, version, eigenVersion, info });
  }

  /** Restores {@link KroneckerBlock.saveState}; a bad field throws FormatError naming it. */
  loadState(r: StateReader): void {
    this.live();
    const c = loadBlockState(this, r);
    this.emaWeight = c.emaWeight;
    this.updatesCount = c.updatesCount;
    this.version = c.version;
    this.eigenVersion = c.eigenVersion;
    this.info = c.info;
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
      const n = this.A.invRows, damping = this.A.invMu;
      const z = ws.get('z', n * m);
      copyRows(kernels, v.ptr, ldv, w, d, m, d);
      const { x, l } = this.A.dualPtrs();
      kernels.gemm(0, 1, n, m, d, 1, x, d, w, d, 0, z, m);
      kernels.potrs(n, m, l, n, z, m);
      kernels.gemm(1, 0, m, d, n, -1 / damping, z, m, x, d, 1 / damping, w, d);
    }
    // Then the left factor, in place: W ← S̃⁻¹·W.
    if (this.S.invForm === 'primal') {
      kernels.potrs(m, d, ws.find('S.L'), m, w, d);
    } else {
      // (αXᵀX + μI)⁻¹W = (W − Xᵀ T)/μ with T = (K + (μ/α)I)⁻¹ X W, X the stored n×m batch.
      const n = this.S.invRows, damping = this.S.invMu;
      const t = ws.get('t', n * d);
      const { x, l } = this.S.dualPtrs();
      kernels.gemm(0, 0, n, d, m, 1, x, m, w, d, 0, t, d);
      kernels.potrs(n, d, l, n, t, d);
      kernels.gemm(1, 0, m, d, n, -1 / damping, x, m, t, d, 1 / damping, w, d);
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
        const damping = info.damping;
        return { a: ratio(aHi, aLo), s: ratio(sHi, sLo), block: ratio(sHi * aHi + damping, sLo * aLo + damping), exact: true };
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
    let dampingA = 0, dampingS = 0, exactDamping = 0;
    if (damping !== undefined) {
      checkNonNegative('damping', damping);
      if (this.damping === 'pi') {
        ({ dampingA, dampingS } = piDamping(trace(a, d), d, trace(s, m), m, damping));
      } else exactDamping = damping;
    }
    const out = new Float64Array(p * p);
    for (let o = 0; o < m; o++) {
      for (let q = 0; q < m; q++) {
        const so = s[o * m + q] + (o === q ? dampingS : 0);
        for (let i = 0; i < d; i++) {
          const row = (o * d + i) * p + q * d;
          for (let j = 0; j < d; j++) out[row + j] = so * (a[i * d + j] + (i === j ? dampingA : 0));
        }
      }
    }
    if (exactDamping !== 0) for (let i = 0; i < p; i++) out[i * p + i] += exactDamping;
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
  private eigenTable(damping: number, dampingA: number, dampingS: number): void {
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
        const den = exact ? so * ai + damping : (so + dampingS) * (ai + dampingA);
        if (!(den > 0)) {
          throw new ArgumentError('damping', `the damped block is singular (eigenvalue product ${so * ai}, damping ${damping}); use damping > 0`);
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
