/**
 * The K-FAC curvature estimator of a whole network (Martens & Grosse 2015,
 * arXiv:1503.05671): one {@link KroneckerBlock} per trainable dense layer (a diagonal block,
 * curvature/diagonal.ts, for a layer without Kronecker structure), the Fisher seed rows that
 * feed them, and the schedule on which their factors and inverses are updated.
 * It knows nothing of steps: the `kfac` optimizer and the `kfacPreconditioner` both drive
 * one, as kfac-jax's optimizer drives its estimator (tags → blocks → estimator → optimizer).
 *
 * Per batch: {@link KfacEstimator.observe} runs forward, seeds, backward and the gradient,
 * and folds the batch into the factors every `factorsEvery` steps; its result says whether
 * the inverses are due ({@link KfacEstimator.refreshInverses}, every `inverseEvery` steps
 * or when there are none); {@link KfacEstimator.precondition} applies them. For the
 * quadratic model it gives exact Gauss–Newton products ({@link KfacEstimator.prepareModel},
 * {@link KfacEstimator.tangent}, {@link KfacEstimator.gnInner}).
 *
 * ## What the factors hold
 * For trainable layer l with effective inputs ā_i (the capture's A_l row i: the weight
 * scale and the bias column included) and back-propagated "Fisher seed" rows g:
 *
 *     A_l = Σ_i ā_i ā_iᵀ / c_A,    S_l = Σ_rows g gᵀ / c_S,
 *
 * where the seed rows depend on the Fisher type (one or more rows per example; each
 * carries √w of the loss's reduction weight w = 1 for 'sum', 1/n for 'mean'):
 * - 'exact': the k rows of the output-Hessian factor Mᵢ back-propagated (losses.ts): the
 *   exact Gauss–Newton, which for softmax cross-entropy is the exact Fisher
 *   (expectation over the model's predictive distribution). k backward rows per example.
 * - 'mc': one target sampled per example from the model's own predictive distribution
 *   (the loss's `sampleFisher`: softmax for cross-entropy, N(u, I) for squared error), seeded: an unbiased
 *   Monte-Carlo estimate of the true Fisher (tensorflow/kfac's and ASDL's default).
 * - 'empirical': the gradients of the observed labels, the "empirical Fisher". It is
 *   NOT the Fisher (it vanishes at an interpolating solution); offered because some
 *   libraries use it (gpauloski/kfac-pytorch), and labelled as such in the stats.
 *
 * Normalisation ({@link KfacCurvatureOptions.normalization}):
 * - 'loss' (default): c_A = n, c_S = 1, so S ⊗ A estimates the Gauss–Newton/Fisher matrix
 *   of the loss exactly as defined (its reduction included): Σ_i (G_i ⊗ āāᵀ) ≈
 *   (Σ_i G_i) ⊗ (Σ_i ā_iā_iᵀ)/n. Damping λ and learning rate then mean what they mean for
 *   exact NGD (`ngd`): with one linear layer and squared error the block is exactly JᵀJ.
 * - 'sum': c_A = c_S = 1, the convention of the analysis in Zhang, Martens & Grosse 2019
 *   (§4; arXiv:1905.10961) with the loss ½Σ(u − y)²: the factors are n times the 'loss'
 *   ones, so the step is 1/n as long. With it, K-FAC's output-space step is
 *   −η(P_Γ ∘ P_X)r: equal to exact NGD's when n ≤ d, and a contraction of residual i by
 *   1 − η·h_i (h_i the input leverage scores) when n > d. Under 'loss' the same step
 *   needs η/n: the "normalisation trap" of mean-factor K-FAC stepping n times too far.
 */
import type { Ptr } from '../kernels/types.js';
import { ArgumentError, FormatError, NonFiniteError } from '../errors.js';
import type { StateReader, StateValue } from '../encoding/state.js';
import { jtv, jvpFromCapture } from '../nn/jacobian.js';
import type { Loss } from '../nn/losses.js';
import { NetBinding } from '../nn/binding.js';
import type { Batch, Net } from '../nn/net.js';
import { Rng } from '../nn/random.js';
import { checkLoss, checkNonNegative, checkOneOf, checkPositiveInteger, type OptionShape } from '../validate.js';
import { dot } from '../backend/vectors.js';
import { DiagonalBlock } from './diagonal.js';
import {
  KroneckerBlock, type FactorForm, type KroneckerConditionNumbers, type KroneckerDamping, type KroneckerInversion, type MatRef,
} from './kronecker.js';

// A module-level alias: global `Math.` lookups in hot loops are slow in some hosts (jest's vm contexts).
const { sqrt } = Math;

/** Which matrix the Kronecker factors estimate; see the module documentation. */
export type FisherType = 'exact' | 'mc' | 'empirical';

/** How the factors are scaled: 'loss' (the loss's own Fisher) or 'sum' (the paper's analysis convention). */
export type KfacNormalization = 'loss' | 'sum';

/** Options of the curvature estimate, shared by the `kfac` optimizer and the `kfacPreconditioner`. */
export interface KfacCurvatureOptions {
  /**
   * λ ≥ 0, the Tikhonov damping of each block (default 1e-3); with `adaptive`, the initial
   * value. Under the default 'loss' normalisation it is in the units of the loss's
   * Gauss–Newton matrix, like `ngd`'s (so a 'mean' loss needs about n times less than a 'sum'
   * one). A factor inverted in the dual form, and cross-entropy's singular S, need λ > 0.
   */
  damping?: number;
  /**
   * 'auto' (default): 'exact' for squared error (its Gauss–Newton is cheap: k rows per
   * example) and 'mc' for softmax cross-entropy. See {@link FisherType}.
   */
  fisher?: 'auto' | FisherType;
  /** 'loss' (default) or 'sum'; see the module documentation. */
  normalization?: KfacNormalization;
  /** EMA decay ∈ [0, 1] of the factors' weighted (debiased) moving average (default 0.95; 0 keeps the last batch only). */
  decay?: number;
  /** k: the factors are updated on every k-th step, starting with the first (default 1). */
  factorsEvery?: number;
  /** k′: the inverses are recomputed on every k′-th step, starting with the first (default 5, KFAC-JAX's). */
  inverseEvery?: number;
  /** 'cholesky' (default) or 'eigen' (the factors' eigenbases; needed for `dampingForm: 'exact'`). */
  inversion?: KroneckerInversion;
  /**
   * 'pi' (default with Cholesky): (A + π√λI) ⊗ (S + √λ/π·I), the π (trace-norm) split;
   * 'exact' (default with 'eigen'): (S ⊗ A + λI)⁻¹ through the eigenbases, 1/(s_o·a_i + λ).
   */
  dampingForm?: KroneckerDamping;
  /**
   * Form each factor is inverted in (default 'auto'): 'auto' uses the n×n dual (Woodbury)
   * form exactly when `decay` is 0, the inversion is Cholesky and the factor is larger than
   * the batch's rows (a wide layer's S), so a step costs O(n²m) instead of O(m³).
   */
  form?: FactorForm | {
    /** The form A is inverted in. */
    a?: FactorForm;
    /** The form S is inverted in. */
    s?: FactorForm;
  };
  /** Seed of the Monte-Carlo targets of fisher 'mc' (default 0); `reset()` restarts the sequence. */
  seed?: number;
}


/** One trainable layer's block as the step used it. */
export interface KfacBlockStats {
  /** Layer index (0 = the layer reading the input). */
  layer: number;
  /**
   * Present for a layer without Kronecker structure (nn/layer.ts): its block is the diagonal of
   * its Gauss–Newton block (curvature/diagonal.ts), with pi 1, dampingA λ, dampingS 0, the forms
   * 'primal' and the condition number of D + λ.
   */
  kind?: 'diagonal';
  /** The π of the split ('pi' damping), else 1. */
  pi: number;
  /** Damping added to A: π√λ ('pi' damping), 0 ('exact'). */
  dampingA: number;
  /** Damping added to S: √λ/π ('pi' damping), 0 ('exact'). */
  dampingS: number;
  /** Form A was inverted in. */
  formA: 'primal' | 'dual';
  /** Form S was inverted in. */
  formS: 'primal' | 'dual';
  /** Condition numbers of the damped factors as inverted (cheap estimates under Cholesky, exact under 'eigen'). */
  condition: KroneckerConditionNumbers;
}


/** {@link KfacCurvatureOptions} resolved and validated by {@link resolveKfacCurvature}. */
export interface KfacCurvatureSettings {
  damping: number;
  fisher: 'auto' | FisherType;
  normalization: KfacNormalization;
  decay: number;
  factorsEvery: number;
  inverseEvery: number;
  inversion: KroneckerInversion;
  dampingForm: KroneckerDamping;
  form: FactorForm | { a?: FactorForm; s?: FactorForm };
  seed: number;
}

/**
 * Resolves the curvature options over their defaults and validates them: the estimator's
 * own here, the blocks' through {@link KroneckerBlock.resolveSettings} (their only validator).
 * Throws ArgumentError naming the option.
 */
export function resolveKfacCurvature(o: KfacCurvatureOptions): KfacCurvatureSettings {
  o ??= {};
  const {
    damping = 1e-3, fisher = 'auto', normalization = 'loss', decay = 0.95, factorsEvery = 1, inverseEvery = 5,
    inversion = 'cholesky', form = 'auto', seed = 0,
  } = o;
  checkNonNegative('damping', damping);
  checkOneOf('fisher', fisher, ['auto', 'exact', 'mc', 'empirical']);
  checkOneOf('normalization', normalization, ['loss', 'sum']);
  checkPositiveInteger('factorsEvery', factorsEvery);
  checkPositiveInteger('inverseEvery', inverseEvery);
  const block = KroneckerBlock.resolveSettings({ decay, inversion, damping: o.dampingForm, form }, { damping: 'dampingForm' });
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${seed}`);
  return { damping, fisher, normalization, decay, factorsEvery, inverseEvery, inversion, dampingForm: block.damping, form, seed };
}

/** The keys of {@link KfacCurvatureOptions} and their types, for the strict-options check of kfac() and kfacPreconditioner(). */
export const KFAC_CURVATURE_OPTIONS: OptionShape = {
  damping: 'number', fisher: 'string', normalization: 'string', decay: 'number', factorsEvery: 'number', inverseEvery: 'number',
  inversion: 'string', dampingForm: 'string', form: { kinds: ['string', 'object'], expect: "'auto', 'primal', 'dual' or { a, s }" }, seed: 'number',
};

/** What {@link KfacEstimator.observe} did with one batch. */
export interface KfacObservation {
  /** L(θ) on the batch. */
  loss: number;
  /** The estimator's step index of this batch (0 for the first after bind or reset). */
  step: number;
  /** Whether the batch was folded into the factors. */
  factorsUpdated: boolean;
  /** Whether the inverses are due: on the `inverseEvery` schedule, or because there are none. */
  inverseDue: boolean;
}

/**
 * The per-net state of the curvature estimate: capture, blocks, gradient, Monte-Carlo
 * generator, step clock, and the λ of the cached inverses.
 */
export class KfacEstimator {
  readonly bound = new NetBinding('kfac');
  private blocks: (KroneckerBlock | DiagonalBlock)[] = [];
  private layers: number[] = [];
  private rng: Rng;
  /** Passes (steps) done: the clock of the update periods. */
  steps = 0;
  /** λ of the cached inverses; NaN when there are none (or a refresh failed half-way). */
  inverseDamping = NaN;
  blockStats: KfacBlockStats[] = [];
  fisher: FisherType = 'exact';
  /** Rows per example of the capture's backward pass. */
  private q = 1;
  private batch: Batch | undefined;
  private loss: Loss | undefined;

  constructor(readonly settings: KfacCurvatureSettings) {
    this.rng = new Rng(settings.seed);
  }

  /** Binds to `net`; on a new net, makes its blocks and forgets all state (true). */
  bind(net: Net): boolean {
    if (!this.bound.bind(net)) return false;
    this.disposeBlocks();
    for (let l = 0; l < net.layers.length; l++) if (net.layers[l].trainable) this.layers.push(l);
    this.reset();
    return true;
  }

  /** A fresh block for trainable layer l of `net`: Kronecker-factored, or diagonal for a layer without that structure. */
  private makeBlock(net: Net, l: number): KroneckerBlock | DiagonalBlock {
    const L = net.layers[l], { normalization, decay, inversion, dampingForm, form } = this.settings;
    if (!L.kronecker) return new DiagonalBlock(net.kernels, L.size, decay);
    // The capture's A_l already holds the bias column (β) and the weight scale, so the block appends nothing.
    return new KroneckerBlock(net.kernels, {
      inputs: L.inA, outputs: L.outputs, bias: false, decay, inversion, damping: dampingForm, form,
      normalization: { a: normalization === 'sum' ? 'sum' : 'mean', s: 'sum' },
    });
  }

  /**
   * One batch through the schedule: {@link pass}, then the batch folded into the factors
   * every `factorsEvery` steps (from the first), and the clock advanced. The inverses are
   * left to the caller ({@link refreshInverses} when `inverseDue`), who may refresh them
   * with another λ or again on a retry.
   */
  observe(net: Net, batch: Batch, loss: Loss): KfacObservation {
    const value = this.pass(net, batch, loss);
    const step = this.steps++;
    const factorsUpdated = step % this.settings.factorsEvery === 0;
    if (factorsUpdated) this.updateFactors();
    return { loss: value, step, factorsUpdated, inverseDue: step % this.settings.inverseEvery === 0 || !this.hasInverse };
  }

  /** The gradient ∇θL of the last {@link observe} (numParams values). */
  get gradient(): Ptr {
    return this.vec('kfac.grad');
  }

  /** Whether inverses are cached (false before the first refresh, and after a failed one). */
  get hasInverse(): boolean {
    return !Number.isNaN(this.inverseDamping);
  }

  /** Buffer of numParams values in the workspace. */
  vec(name: string): Ptr {
    return this.bound.ws!.get(name, this.bound.net!.numParams);
  }

  /**
   * Forward pass, Fisher seed rows, backward pass and ∇θL into vec('kfac.grad'); returns L(θ).
   * Throws NonFiniteError (θ untouched) when the loss or the gradient is not finite.
   */
  private pass(net: Net, batch: Batch, loss: Loss): number {
    const { X, Y, n } = batch, k = net.outputDim, cap = this.bound.cap!, ws = this.bound.ws!;
    const fisher = this.settings.fisher === 'auto' ? loss.defaultFisher : this.settings.fisher;
    const q = fisher === 'exact' ? k : fisher === 'mc' ? 2 : 1;
    this.fisher = fisher;
    this.q = q;
    this.batch = batch;
    this.loss = loss;
    net.forward(cap, X, n, q);
    const v = ws.get('kfac.v', n * q), grad = this.vec('kfac.grad');
    const gs = fisher === 'mc' ? ws.get('kfac.gs', n * k) : 0;
    const h = net.kernels.f64(), u = cap.output >> 3, b = cap.b[cap.b.length - 1] >> 3, V = v >> 3;
    const w = loss.reduction === 'mean' ? 1 / n : 1, sw = sqrt(w);
    let value: number;
    if (fisher === 'exact') {
      // Rows: the columns of √w·Mᵢ; J̃ᵀc = ∇θL.
      value = loss.gaussNewton(h, u, Y, n, k, b, V);
    } else if (fisher === 'empirical') {
      // Rows √w·∇ℓᵢ (so S sums w·∇ℓᵢ∇ℓᵢᵀ, the Fisher's weighting), gradient = J̃ᵀ(√w·1).
      value = loss.gradient(h, u, Y, n, k, b);
      for (let r = 0; r < n * k; r++) h[b + r] /= sw;
      h.fill(sw, V, V + n);
    } else {
      // Row (i, 0): ∂L/∂uᵢ (weight 1 in the gradient); row (i, 1): √w·∇ℓᵢ at a target drawn from the model.
      value = loss.gradient(h, u, Y, n, k, gs >> 3);
      const G = gs >> 3;
      for (let i = 0; i < n; i++) {
        const r0 = b + 2 * i * k;
        for (let j = 0; j < k; j++) h[r0 + j] = h[G + i * k + j];
        h[V + 2 * i] = 1;
        h[V + 2 * i + 1] = 0;
      }
      loss.sampleFisher(h, u, n, k, this.rng, b + k, 2 * k);
    }
    checkLoss('loss', value);
    net.backward(cap);
    jtv(cap, ws, v, 1, grad, 0);
    const bad = net.kernels.firstNonFinite(net.numParams, grad);
    if (bad >= 0) throw new NonFiniteError('gradient', bad, net.kernels.f64()[(grad >> 3) + bad]);
    return value;
  }

  /** Folds the last pass into every block's factors. */
  private updateFactors(): void {
    const net = this.bound.net!, cap = this.bound.cap!, n = cap.n, q = this.q;
    for (let j = 0; j < this.blocks.length; j++) {
      const l = this.layers[j], L = net.layers[l], block = this.blocks[j];
      if (block instanceof DiagonalBlock) {
        // The layer's Jacobian rows of the Fisher seeds ('mc': every second row, the sampled one).
        const rows = this.bound.ws!.get('kfac.rows', n * q * L.size);
        L.jacobianRows(net.kernels, n, q, cap.a[l], cap.b[l], rows, L.size);
        const mc = this.fisher === 'mc';
        block.update(rows, mc ? 1 : 0, mc ? 2 : 1, mc ? n : n * q, this.settings.normalization === 'sum' ? n : 1);
        continue;
      }
      const a: MatRef = { ptr: cap.a[l], rows: n, cols: L.inA };
      const m = L.outputs;
      const g: MatRef = this.fisher === 'mc'
        ? { ptr: cap.b[l] + 8 * m, rows: n, cols: m, ld: 2 * m }
        : { ptr: cap.b[l], rows: n * q, cols: m };
      block.updateFactors(a, g, { examples: n });
    }
  }

  /** Recomputes every block's inverse with damping λ; on a throw no inverse is considered valid. */
  refreshInverses(damping: number): void {
    this.inverseDamping = NaN;
    for (const b of this.blocks) b.updateInverse(damping);
    this.inverseDamping = damping;
    this.collectBlockStats();
  }

  /** The per-layer statistics of the cached inverses. */
  private collectBlockStats(): void {
    this.blockStats = this.blocks.map((b, j) => {
      if (b instanceof DiagonalBlock) {
        return {
          layer: this.layers[j], kind: 'diagonal' as const, pi: 1, dampingA: b.inverse!.damping, dampingS: 0,
          formA: 'primal' as const, formS: 'primal' as const, condition: b.conditionNumbers(),
        };
      }
      const info = b.inverse!;
      return {
        layer: this.layers[j], pi: info.pi, dampingA: info.dampingA, dampingS: info.dampingS,
        formA: info.formA, formS: info.formS, condition: b.conditionNumbers(),
      };
    });
  }

  /**
   * The estimator's whole state (checkpoints): step clock, Monte-Carlo generator, λ of the
   * cached inverses, and every block's factors and inverses.
   */
  saveState(): { [key: string]: StateValue } {
    return {
      steps: this.steps, rng: this.rng.getState(), inverseDamping: this.inverseDamping, fisher: this.fisher,
      blocks: this.blocks.map((b) => b.saveState()),
    };
  }

  /** Restores {@link KfacEstimator.saveState} after {@link KfacEstimator.bind} to the net. */
  loadState(r: StateReader): void {
    const steps = r.integer('steps'), rng = r.integer('rng', 0, 2 ** 32 - 1);
    const inverseDamping = r.number('inverseDamping', { nonFinite: true });
    if (!(Number.isNaN(inverseDamping) || inverseDamping >= 0)) throw new FormatError(`${r.field}.inverseDamping`, `must be ≥ 0 or NaN, got ${inverseDamping}`);
    const fisher = r.choice('fisher', ['exact', 'mc', 'empirical'] as const);
    r.objects('blocks', this.blocks.length).forEach((b, j) => this.blocks[j].loadState(b));
    this.steps = steps;
    this.rng.setState(rng);
    this.fisher = fisher;
    this.inverseDamping = inverseDamping;
    if (this.hasInverse && this.blocks.some((b) => !b.inverse)) {
      this.inverseDamping = NaN;
      throw new FormatError(`${r.field}.inverseDamping`, `is ${inverseDamping}, but the blocks hold no inverse (NaN when none is cached)`);
    }
    if (this.hasInverse) this.collectBlockStats();
  }

  /** dst ← F̃⁻¹·src blockwise (numParams vectors; dst may be src). */
  precondition(src: Ptr, dst: Ptr): void {
    const net = this.bound.net!;
    for (let j = 0; j < this.blocks.length; j++) {
      const L = net.layers[this.layers[j]];
      const off = 8 * L.paramOffset, block = this.blocks[j];
      if (block instanceof DiagonalBlock) {
        block.multiplyInverse(src + off, dst + off);
        continue;
      }
      block.multiplyInverse({ ptr: src + off, rows: L.outputs, cols: L.inA }, { ptr: dst + off, rows: L.outputs, cols: L.inA });
    }
  }

  /**
   * Writes the output-Hessian factor rows Mᵢ of the last pass's outputs and targets into
   * the workspace ('kfac.M', (n·k) × k): after this, {@link tangent} and {@link gnInner}
   * give exact Gauss–Newton products uᵀFv = Σᵢ (Jᵢu)ᵀ Mᵢ Mᵢᵀ (Jᵢv).
   */
  prepareModel(): void {
    const net = this.bound.net!, cap = this.bound.cap!, ws = this.bound.ws!, n = cap.n, k = net.outputDim;
    const M = ws.get('kfac.M', n * k * k), c = ws.get('kfac.Mc', n * k);
    this.loss!.gaussNewton(net.kernels.f64(), cap.output >> 3, this.batch!.Y, n, k, M >> 3, c >> 3);
  }

  /** Projections Mᵢᵀ(J v)ᵢ ((n·k) values) into slot 0 or 1, for the numParams tangent at v, at the pass's θ. */
  tangent(v: Ptr, slot: 0 | 1): void {
    const net = this.bound.net!, cap = this.bound.cap!, ws = this.bound.ws!, n = cap.n, k = net.outputDim;
    const ju = ws.get('kfac.ju', n * k), t = ws.get(`kfac.t${slot}`, n * k), M = ws.get('kfac.M', n * k * k);
    jvpFromCapture(cap, ws, v, ju);
    const h = net.kernels.f64(), U = ju >> 3, T = t >> 3, MM = M >> 3;
    // Row (i, c) of M is column c of Mᵢ: t[(i, c)] = Σ_j Mᵢ[j, c]·(Jv)ᵢⱼ.
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        const row = MM + (i * k + c) * k;
        for (let j = 0; j < k; j++) s += h[row + j] * h[U + i * k + j];
        h[T + i * k + c] = s;
      }
    }
  }

  /** uᵀFv for the tangents last projected into slots a and b. */
  gnInner(a: 0 | 1, b: 0 | 1): number {
    const ws = this.bound.ws!, n = this.bound.cap!.n * this.bound.net!.outputDim;
    const ta = ws.get(`kfac.t${a}`, n), tb = ws.get(`kfac.t${b}`, n);
    return dot(this.bound.net!.kernels.f64(), ta, tb, n);
  }

  /** Forgets the statistics, inverses, step clock and Monte-Carlo sequence (blocks are re-made). */
  reset(): void {
    const net = this.bound.net;
    for (const b of this.blocks) b.dispose();
    this.blocks = net ? this.layers.map((l) => this.makeBlock(net, l)) : [];
    this.steps = 0;
    this.inverseDamping = NaN;
    this.blockStats = [];
    this.rng = new Rng(this.settings.seed);
  }

  dispose(): void {
    this.disposeBlocks();
    this.bound.dispose();
    this.steps = 0;
    this.inverseDamping = NaN;
    this.blockStats = [];
    this.rng = new Rng(this.settings.seed);
  }

  private disposeBlocks(): void {
    for (const b of this.blocks) b.dispose();
    this.blocks = [];
    this.layers = [];
  }
}

