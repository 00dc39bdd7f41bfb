/**
 * K-FAC (Martens & Grosse 2015, arXiv:1503.05671) for networks of dense layers: one
 * {@link KroneckerBlock} per trainable layer approximates that layer's block of the
 * Fisher / Gauss–Newton matrix by S ⊗ A, and the step preconditions the gradient with
 * the damped blocks' inverses. Two shapes share one curvature engine:
 *
 * - {@link kfac}: a self-contained optimizer (fixed or automatic learning rate and
 *   momentum, Levenberg–Marquardt damping, step rejection, KL clipping);
 * - {@link kfacPreconditioner}: only the preconditioned gradient, handed to a
 *   first-order optimizer (`sgd({ preconditioner })`, `adam({ preconditioner })`).
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
 *   (softmax for cross-entropy, N(u, I) for squared error), seeded: an unbiased
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
import {
  KroneckerBlock, type FactorForm, type KroneckerConditionNumbers, type KroneckerDamping, type KroneckerInversion, type MatRef,
} from '../curvature/kronecker.js';
import { levenbergMarquardt } from '../curvature/damping.js';
import { checkDecay } from '../curvature/ema.js';
import { ArgumentError, NonFiniteError, NotPositiveDefiniteError } from '../errors.js';
import { jtv } from '../nn/gram.js';
import { jvpFromCapture } from '../nn/jvp.js';
import type { Loss } from '../nn/losses.js';
import type { Net } from '../nn/net.js';
import { Rng } from '../nn/random.js';
import { checkNonNegative } from '../validate.js';
import { checkLevenbergMarquardt, type LevenbergMarquardtOptions } from './ngd.js';
import {
  checkLoss, checkPositive, checkUnit, dot, lossAt, NetBinding, prepareStep,
  type Batch, type Optimizer, type Preconditioner, type PreconditionStats, type StepOptions, type StepStats,
} from './types.js';

// Module-level aliases: global `Math.` lookups in hot loops are slow in some hosts (jest's vm contexts).
const { sqrt, exp } = Math;

/** Which matrix the Kronecker factors estimate; see the module documentation. */
export type FisherType = 'exact' | 'mc' | 'empirical';

/** How the factors are scaled: 'loss' (the loss's own Fisher) or 'sum' (the paper's analysis convention). */
export type KfacNormalization = 'loss' | 'sum';

/** Options of the curvature estimate, shared by {@link kfac} and {@link kfacPreconditioner}. */
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
  form?: FactorForm | { a?: FactorForm; s?: FactorForm };
  /** Seed of the Monte-Carlo targets of fisher 'mc' (default 0); `reset()` restarts the sequence. */
  seed?: number;
}

/**
 * Damping adaptation of {@link kfac}: the Levenberg–Marquardt rule of
 * {@link levenbergMarquardt} applied every `every` steps from ρ = actual / predicted loss
 * decrease, the prediction from the quadratic model with EXACT Gauss–Newton-vector products
 * (as KFAC-JAX does), and step rejection.
 */
export interface KfacAdaptiveOptions extends LevenbergMarquardtOptions {
  /** Adapt λ on every `every`-th step (default 5). Defaults of the rule here: increase 0.9⁻⁵ ≈ 1.69, decrease 0.9⁵ ≈ 0.59 (KFAC-JAX's decay 0.9 per step over 5 steps). */
  every?: number;
  /**
   * Step rejection (default true): a step that raises the loss or makes it non-finite is
   * undone and retried with λ·`boost` (default 10) and fresh inverses, up to `maxRetries`
   * (default 10) times; then the step returns `accepted: false` with θ untouched.
   */
  rejection?: boolean;
}

/** Options of {@link kfac}. */
export interface KfacOptions extends KfacCurvatureOptions {
  /**
   * η > 0 (default 1: the natural-gradient step of the damped model), or 'auto': chosen each
   * step to minimise the quadratic model M(Δ) = gᵀΔ + ½Δᵀ(F + λI)Δ with the exact
   * Gauss–Newton F (Martens & Grosse 2015 §7). 'auto' is for FULL-BATCH training only:
   * on mini-batches the model is too noisy (KFAC-JAX's documentation says the same).
   */
  lr?: number | 'auto';
  /**
   * μ ∈ [0, 1) (default 0): Δ ← −η·F̃⁻¹g + μ·Δ_prev; or 'auto' (needs lr 'auto'): α and μ
   * from the 2×2 quadratic-model system of §7 (full batch only).
   */
  momentum?: number | 'auto';
  /** Adapt λ (Levenberg–Marquardt) with step rejection; default false (λ fixed). */
  adaptive?: boolean | KfacAdaptiveOptions;
  /**
   * Update-norm constraint (kfac-pytorch's `kl_clip`, e.g. 1e-3): the preconditioned step is
   * scaled by ν = min(1, √(klClip / (η²·gᵀF̃⁻¹g))), so its squared F̃-norm (about twice the
   * KL divergence it causes) stays ≤ klClip. Default off. Not with lr 'auto'.
   */
  klClip?: number;
}

/** Options of {@link kfacPreconditioner}: the curvature options, with a fixed damping. */
export type KfacPreconditionerOptions = KfacCurvatureOptions;

/** One trainable layer's block as the step used it. */
export interface KfacBlockStats {
  /** Layer index (0 = the layer reading the input). */
  layer: number;
  /** The π of the split ('pi' damping), else 1. */
  pi: number;
  /** Damping added to A (π√λ) and to S (√λ/π); 0 and 0 for 'exact' damping. */
  dampingA: number;
  dampingS: number;
  /** Form each factor was inverted in. */
  formA: 'primal' | 'dual';
  formS: 'primal' | 'dual';
  /** Condition numbers of the damped factors as inverted (cheap estimates under Cholesky, exact under 'eigen'). */
  condition: KroneckerConditionNumbers;
}

/** What one {@link kfac} step did: the common {@link StepStats} plus K-FAC's own. */
export interface KfacStepStats extends StepStats {
  /** λ of the inverses the applied (or last attempted) step used. */
  damping: number;
  /** Rejected attempts before this result. */
  retries: number;
  /** The Fisher type the factors estimate. */
  fisher: FisherType;
  /** α: the multiplier of −F̃⁻¹g (η, or the automatic one), before the KL clip ν. */
  lr: number;
  /** μ: the multiplier of the previous update (0 on the first step). */
  momentum: number;
  /** ν ∈ (0, 1] of the KL clip (1 when off or not binding). */
  klScale: number;
  /** Whether this step updated the factor statistics, and recomputed the inverses. */
  factorsUpdated: boolean;
  inverseUpdated: boolean;
  /** The quadratic model's predicted change gᵀΔ + ½ΔᵀFΔ (exact Gauss–Newton, undamped), when computed. */
  quadChange?: number;
  /** One entry per trainable layer, as of the last inverse refresh (the same array until the next one). */
  blocks: KfacBlockStats[];
}

/** The optimizer {@link kfac} returns: an {@link Optimizer} whose steps report {@link KfacStepStats}. */
export interface KfacOptimizer extends Optimizer {
  step(net: Net, batch: Batch, options?: StepOptions): KfacStepStats;
  /** The damping λ the next inverse refresh uses (adapted when `adaptive`). */
  readonly currentDamping: number;
}

/** Statistics of one {@link KfacPreconditioner} call. */
export interface KfacPreconditionStats extends PreconditionStats {
  /** λ of the inverses used. */
  damping: number;
  fisher: FisherType;
  factorsUpdated: boolean;
  inverseUpdated: boolean;
  blocks: KfacBlockStats[];
}

/** A K-FAC preconditioner; pass it to `gd`, `sgd` or `adam` as `preconditioner`, or call {@link precondition} yourself. */
export interface KfacPreconditioner extends Preconditioner {
  preconditionInto(net: Net, batch: Batch, loss: Loss, out: Ptr): KfacPreconditionStats;
  /**
   * The preconditioned gradient F̃⁻¹∇θL for one batch as plain arrays (allocates them),
   * also advancing the factor statistics like a step would. The parameters are not changed.
   */
  precondition(net: Net, batch: Batch, options?: StepOptions): { gradient: Float64Array; direction: Float64Array; stats: KfacPreconditionStats };
}

interface CurvatureSettings {
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

/** The per-net state of the curvature estimate: capture, blocks, gradient, Monte-Carlo generator. */
class KfacCurvature {
  readonly bound = new NetBinding();
  private blocks: KroneckerBlock[] = [];
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

  constructor(readonly s: CurvatureSettings) {
    this.rng = new Rng(s.seed);
  }

  /** Binds to `net`; on a new net, makes its blocks and forgets all state (true). */
  bind(net: Net): boolean {
    if (!this.bound.bind(net)) return false;
    this.disposeBlocks();
    for (let l = 0; l < net.layers.length; l++) if (net.layers[l].trainable) this.layers.push(l);
    this.reset();
    return true;
  }

  /** A fresh block for trainable layer l of `net`. */
  private makeBlock(net: Net, l: number): KroneckerBlock {
    const L = net.layers[l], { normalization, decay, inversion, dampingForm, form } = this.s;
    // The capture's A_l already holds the bias column (β) and the weight scale, so the block appends nothing.
    return new KroneckerBlock(net.kernels, {
      inputs: L.inA, outputs: L.outputs, bias: false, decay, inversion, damping: dampingForm, form,
      normalization: { a: normalization === 'sum' ? 'sum' : 'mean', s: 'sum' },
    });
  }

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
  pass(net: Net, batch: Batch, loss: Loss): number {
    const { X, Y, n } = batch, k = net.outputDim, cap = this.bound.cap!, ws = this.bound.ws!;
    const fisher = this.s.fisher === 'auto' ? (loss.name === 'cross-entropy' ? 'mc' : 'exact') : this.s.fisher;
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
        const r0 = b + 2 * i * k, r1 = r0 + k, ui = u + i * k;
        for (let j = 0; j < k; j++) h[r0 + j] = h[G + i * k + j];
        if (loss.name === 'cross-entropy') sampleCrossEntropy(h, ui, r1, k, sw, this.rng);
        else for (let j = 0; j < k; j++) h[r1 + j] = sw * this.rng.normal();
        h[V + 2 * i] = 1;
        h[V + 2 * i + 1] = 0;
      }
    }
    checkLoss('loss', value);
    net.backward(cap);
    jtv(cap, ws, v, 1, grad, 0);
    const h2 = net.kernels.f64(), g = grad >> 3;
    for (let i = 0; i < net.numParams; i++) {
      if (h2[g + i] - h2[g + i] !== 0) throw new NonFiniteError('gradient', i, h2[g + i]);
    }
    return value;
  }

  /** Folds the last pass into every block's factors. */
  updateFactors(): void {
    const net = this.bound.net!, cap = this.bound.cap!, n = cap.n, q = this.q;
    for (let j = 0; j < this.blocks.length; j++) {
      const l = this.layers[j], L = net.layers[l];
      const a: MatRef = { ptr: cap.a[l], rows: n, cols: L.inA };
      const m = L.outputs;
      const g: MatRef = this.fisher === 'mc'
        ? { ptr: cap.b[l] + 8 * m, rows: n, cols: m, ld: 2 * m }
        : { ptr: cap.b[l], rows: n * q, cols: m };
      this.blocks[j].updateFactors(a, g, { examples: n });
    }
  }

  /** Recomputes every block's inverse with damping λ; on a throw no inverse is considered valid. */
  updateInverses(lambda: number): void {
    this.inverseDamping = NaN;
    for (const b of this.blocks) b.updateInverse(lambda);
    this.inverseDamping = lambda;
    this.blockStats = this.blocks.map((b, j) => {
      const info = b.inverse!;
      return {
        layer: this.layers[j], pi: info.pi, dampingA: info.dampingA, dampingS: info.dampingS,
        formA: info.formA, formS: info.formS, condition: b.conditionNumbers(),
      };
    });
  }

  /** dst ← F̃⁻¹·src blockwise (numParams vectors; dst may be src). */
  precondition(src: Ptr, dst: Ptr): void {
    const net = this.bound.net!;
    for (let j = 0; j < this.blocks.length; j++) {
      const L = net.layers[this.layers[j]];
      const off = 8 * L.paramOffset;
      this.blocks[j].multiplyInverse({ ptr: src + off, rows: L.outputs, cols: L.inA }, { ptr: dst + off, rows: L.outputs, cols: L.inA });
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
    this.rng = new Rng(this.s.seed);
  }

  dispose(): void {
    this.disposeBlocks();
    this.bound.dispose();
    this.steps = 0;
    this.inverseDamping = NaN;
    this.blockStats = [];
    this.rng = new Rng(this.s.seed);
  }

  private disposeBlocks(): void {
    for (const b of this.blocks) b.dispose();
    this.blocks = [];
    this.layers = [];
  }
}

/** Writes √w·(p − e_ŷ) at element offset r, p = softmax of the k logits at u, ŷ ~ p. */
function sampleCrossEntropy(h: Float64Array, u: number, r: number, k: number, sw: number, rng: Rng): void {
  let max = -Infinity;
  for (let j = 0; j < k; j++) if (h[u + j] > max) max = h[u + j];
  let z = 0;
  for (let j = 0; j < k; j++) { const e = exp(h[u + j] - max); h[r + j] = e; z += e; }
  const draw = rng.uniform() * z;
  let acc = 0, label = k - 1;
  for (let j = 0; j < k; j++) {
    acc += h[r + j];
    if (draw < acc) { label = j; break; }
  }
  for (let j = 0; j < k; j++) h[r + j] = sw * (h[r + j] / z - (j === label ? 1 : 0));
}



const ADAPTIVE_DEFAULTS: Required<KfacAdaptiveOptions> = {
  every: 5, lower: 0.25, upper: 0.75, increase: 0.9 ** -5, decrease: 0.9 ** 5, boost: 10, min: 1e-8, max: 1e8,
  maxRetries: 10, rejection: true,
};

class Kfac implements KfacOptimizer {
  readonly name = 'kfac';
  private readonly curv: KfacCurvature;
  private damping: number;
  private hasDelta = false;

  constructor(
    settings: CurvatureSettings,
    readonly lr: number | 'auto',
    readonly momentum: number | 'auto',
    readonly lm: Required<KfacAdaptiveOptions> | undefined,
    readonly klClip: number | undefined,
  ) {
    this.curv = new KfacCurvature(settings);
    this.damping = settings.damping;
  }

  /** The damping the next inverse refresh uses. */
  get currentDamping(): number {
    return this.damping;
  }

  step(net: Net, batch: Batch, options?: StepOptions): KfacStepStats {
    const start = performance.now();
    const loss = prepareStep(net, batch, options);
    const c = this.curv, s = c.s;
    if (c.bind(net)) this.resetOwn();
    const value = c.pass(net, batch, loss);
    const t = c.steps;
    const factorsUpdated = t % s.factorsEvery === 0;
    if (factorsUpdated) c.updateFactors();
    c.steps++;

    const k = net.kernels, P = net.numParams;
    const grad = c.vec('kfac.grad'), dir = c.vec('kfac.dir'), delta = c.vec('kfac.step');
    const prev = c.vec('kfac.prev'), backup = c.vec('kfac.backup');
    const auto = this.lr === 'auto';
    const needModel = auto || (this.lm !== undefined && t % this.lm.every === 0);
    if (needModel) c.prepareModel();
    const h0 = k.f64();
    h0.copyWithin(backup >> 3, net.paramsPtr >> 3, (net.paramsPtr >> 3) + P);
    const gradSq = dot(h0, grad, grad, P);

    let lambda = this.damping;
    let inverseUpdated = false;
    for (let retries = 0; ; retries++) {
      // 1. Inverses: on schedule, when missing, and on every retry (with the raised λ).
      let ok = true;
      if (retries > 0 || t % s.inverseEvery === 0 || !c.hasInverse) {
        try {
          c.updateInverses(lambda);
          inverseUpdated = true;
        } catch (e) {
          if (!(this.lm && e instanceof NotPositiveDefiniteError)) throw e;
          ok = false;
        }
      }
      const used = c.hasInverse ? c.inverseDamping : lambda;

      // 2. Direction p = F̃⁻¹g, coefficients, Δ = −ν·α·p + μ·Δ_prev.
      let alpha = 0, mu = 0, nu = 1, quadChange: number | undefined;
      if (ok) {
        c.precondition(grad, dir);
        const gp = dot(k.f64(), grad, dir, P);
        const momentumOn = this.hasDelta && this.momentum !== 0;
        if (auto) {
          // The 2×2 system of Martens & Grosse §7 in (α, μ) for Δ = α·(−p) + μ·Δ_prev, with F + λI.
          c.tangent(dir, 0);
          if (momentumOn) c.tangent(prev, 1);
          const h = k.f64();
          const pFp = c.gnInner(0, 0) + used * dot(h, dir, dir, P);
          if (momentumOn) {
            const pFd = -(c.gnInner(0, 1) + used * dot(h, dir, prev, P));
            const dFd = c.gnInner(1, 1) + used * dot(h, prev, prev, P);
            const b1 = -gp, b2 = dot(h, grad, prev, P);
            if (this.momentum === 'auto') {
              const det = pFp * dFd - pFd * pFd;
              if (det > 1e-12 * pFp * dFd && Number.isFinite(det)) {
                alpha = -(dFd * b1 - pFd * b2) / det;
                mu = -(pFp * b2 - pFd * b1) / det;
              } else {
                alpha = gp / pFp;
              }
            } else {
              mu = this.momentum as number;
              alpha = -(b1 + mu * pFd) / pFp;
            }
          } else {
            alpha = gp / pFp;
          }
        } else {
          alpha = this.lr as number;
          mu = momentumOn ? this.momentum as number : 0;
          if (this.klClip !== undefined && gp > 0) nu = Math.min(1, sqrt(this.klClip / (alpha * alpha * gp)));
        }
        const h2 = k.f64(), D = delta >> 3, Pp = dir >> 3, Q = prev >> 3, a = nu * alpha;
        for (let i = 0; i < P; i++) h2[D + i] = -a * h2[Pp + i] + (mu !== 0 ? mu * h2[Q + i] : 0);
        ok = Number.isFinite(alpha) && Number.isFinite(mu) && k.firstNonFinite(P, delta) < 0;
        if (ok && needModel) {
          c.tangent(delta, 0);
          quadChange = dot(k.f64(), grad, delta, P) + 0.5 * c.gnInner(0, 0);
        }
      }

      // 3. Apply, checked finite; undone from the backup otherwise.
      let applied = false;
      if (ok) {
        const h = k.f64(), T = net.paramsPtr >> 3, D = delta >> 3;
        for (let i = 0; i < P; i++) h[T + i] += h[D + i];
        applied = k.firstNonFinite(P, net.paramsPtr) < 0;
        if (!applied) this.restore(net, backup);
      }
      if (!this.lm) {
        if (!applied) {
          const e = new NonFiniteError('update', 0, NaN);
          e.message = `update: the K-FAC step with damping ${used} is not finite; the parameters were left unchanged (raise the damping or use adaptive)`;
          throw e;
        }
        this.accept(delta, P);
        return this.stats(start, value, gradSq, delta, P, true, used, retries, alpha, mu, nu, factorsUpdated, inverseUpdated, quadChange);
      }

      // 4. Loss after the step; rejection; Levenberg–Marquardt from ρ on adaptation steps.
      const lossAfter = applied ? lossAt(net, batch, loss) : NaN;
      if (!applied || (this.lm.rejection && !(lossAfter <= value))) {
        if (applied) this.restore(net, backup);
        if (retries >= this.lm.maxRetries || lambda >= this.lm.max) {
          this.damping = lambda;
          const st = this.stats(start, value, gradSq, delta, P, false, used, retries + 1, alpha, mu, nu, factorsUpdated, inverseUpdated, quadChange);
          return { ...st, lossAfter: value };
        }
        lambda = Math.min(this.lm.max, Math.max(this.lm.min, lambda * this.lm.boost));
        continue;
      }
      let rho: number | undefined;
      if (quadChange !== undefined && t % this.lm.every === 0) {
        rho = (lossAfter - value) / quadChange;
        this.damping = levenbergMarquardt(lambda, rho, this.lm);
      } else {
        this.damping = lambda;
      }
      this.accept(delta, P);
      const st = this.stats(start, value, gradSq, delta, P, true, used, retries, alpha, mu, nu, factorsUpdated, inverseUpdated, quadChange);
      return rho === undefined ? { ...st, lossAfter } : { ...st, lossAfter, rho };
    }
  }

  reset(): void {
    this.curv.reset();
    this.resetOwn();
  }

  dispose(): void {
    this.curv.dispose();
    this.resetOwn();
  }

  toString(): string {
    const s = this.curv.s;
    const damping = this.lm ? `adaptive from ${s.damping}` : `${s.damping}`;
    return `kfac(lr=${this.lr}, momentum=${this.momentum}, damping=${damping}, fisher=${s.fisher}, normalization=${s.normalization}, ` +
      `decay=${s.decay}, factorsEvery=${s.factorsEvery}, inverseEvery=${s.inverseEvery}, ${s.inversion}/${s.dampingForm}` +
      `${this.klClip !== undefined ? `, klClip=${this.klClip}` : ''})`;
  }

  private resetOwn(): void {
    this.damping = this.curv.s.damping;
    this.hasDelta = false;
  }

  /** Keeps Δ as the previous update for momentum. */
  private accept(delta: Ptr, P: number): void {
    const prev = this.curv.vec('kfac.prev'), h = this.curv.bound.net!.kernels.f64();
    h.copyWithin(prev >> 3, delta >> 3, (delta >> 3) + P);
    this.hasDelta = true;
  }

  private restore(net: Net, backup: Ptr): void {
    net.kernels.f64().copyWithin(net.paramsPtr >> 3, backup >> 3, (backup >> 3) + net.numParams);
  }

  private stats(start: number, loss: number, gradSq: number, delta: Ptr, P: number, accepted: boolean, damping: number,
    retries: number, lr: number, momentum: number, klScale: number, factorsUpdated: boolean, inverseUpdated: boolean,
    quadChange: number | undefined): KfacStepStats {
    const h = this.curv.bound.net!.kernels.f64();
    const updateNorm = accepted ? sqrt(dot(h, delta, delta, P)) : 0;
    const st: KfacStepStats = {
      loss, gradNorm: sqrt(gradSq), updateNorm, accepted, timeMs: 0, damping, retries, fisher: this.curv.fisher,
      lr, momentum, klScale, factorsUpdated, inverseUpdated, blocks: this.curv.blockStats,
    };
    if (quadChange !== undefined) st.quadChange = quadChange;
    st.timeMs = performance.now() - start;
    return st;
  }
}

class KfacPreconditionerImpl implements KfacPreconditioner {
  readonly name = 'kfac';
  private readonly curv: KfacCurvature;

  constructor(settings: CurvatureSettings) {
    this.curv = new KfacCurvature(settings);
  }

  preconditionInto(net: Net, batch: Batch, loss: Loss, out: Ptr): KfacPreconditionStats {
    const c = this.curv, s = c.s;
    c.bind(net);
    const value = c.pass(net, batch, loss);
    const t = c.steps;
    const factorsUpdated = t % s.factorsEvery === 0;
    if (factorsUpdated) c.updateFactors();
    c.steps++;
    const inverseUpdated = t % s.inverseEvery === 0 || !c.hasInverse;
    if (inverseUpdated) c.updateInverses(s.damping);
    const grad = c.vec('kfac.grad'), P = net.numParams;
    c.precondition(grad, out);
    if (net.kernels.firstNonFinite(P, out) >= 0) {
      const e = new NonFiniteError('direction', 0, NaN);
      e.message = `direction: the K-FAC preconditioned gradient with damping ${s.damping} is not finite (raise the damping)`;
      throw e;
    }
    return {
      loss: value, gradNorm: sqrt(dot(net.kernels.f64(), grad, grad, P)), damping: c.inverseDamping, fisher: c.fisher,
      factorsUpdated, inverseUpdated, blocks: c.blockStats,
    };
  }

  precondition(net: Net, batch: Batch, options?: StepOptions): { gradient: Float64Array; direction: Float64Array; stats: KfacPreconditionStats } {
    const loss = prepareStep(net, batch, options);
    this.curv.bind(net);
    const out = this.curv.vec('kfac.out');
    const stats = this.preconditionInto(net, batch, loss, out);
    const h = net.kernels.f64(), P = net.numParams, g = this.curv.vec('kfac.grad') >> 3;
    return { gradient: h.slice(g, g + P), direction: h.slice(out >> 3, (out >> 3) + P), stats };
  }

  reset(): void {
    this.curv.reset();
  }

  dispose(): void {
    this.curv.dispose();
  }

  toString(): string {
    const s = this.curv.s;
    return `kfacPreconditioner(damping=${s.damping}, fisher=${s.fisher}, normalization=${s.normalization}, decay=${s.decay}, ` +
      `factorsEvery=${s.factorsEvery}, inverseEvery=${s.inverseEvery}, ${s.inversion}/${s.dampingForm})`;
  }
}

function resolveCurvature(o: KfacCurvatureOptions): CurvatureSettings {
  const {
    damping = 1e-3, fisher = 'auto', normalization = 'loss', decay = 0.95, factorsEvery = 1, inverseEvery = 5,
    inversion = 'cholesky', form = 'auto', seed = 0,
  } = o;
  checkNonNegative('damping', damping);
  if (!['auto', 'exact', 'mc', 'empirical'].includes(fisher)) {
    throw new ArgumentError('fisher', `must be 'auto', 'exact', 'mc' or 'empirical', got ${String(fisher)}`);
  }
  if (normalization !== 'loss' && normalization !== 'sum') throw new ArgumentError('normalization', `must be 'loss' or 'sum', got ${String(normalization)}`);
  checkDecay(decay);
  for (const [name, v] of [['factorsEvery', factorsEvery], ['inverseEvery', inverseEvery]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(name, `must be a positive integer, got ${v}`);
  }
  if (inversion !== 'cholesky' && inversion !== 'eigen') throw new ArgumentError('inversion', `must be 'cholesky' or 'eigen', got ${String(inversion)}`);
  const dampingForm = o.dampingForm ?? (inversion === 'eigen' ? 'exact' : 'pi');
  if (dampingForm !== 'pi' && dampingForm !== 'exact') throw new ArgumentError('dampingForm', `must be 'pi' or 'exact', got ${String(dampingForm)}`);
  if (dampingForm === 'exact' && inversion !== 'eigen') throw new ArgumentError('dampingForm', "'exact' needs inversion 'eigen'");
  const forms = typeof form === 'string' ? [form] : [form?.a ?? 'auto', form?.s ?? 'auto'];
  for (const f of forms) {
    if (f !== 'auto' && f !== 'primal' && f !== 'dual') throw new ArgumentError('form', `must be 'auto', 'primal' or 'dual', got ${String(f)}`);
    if (f === 'dual' && (decay !== 0 || inversion !== 'cholesky')) {
      throw new ArgumentError('form', `'dual' needs decay 0 (an EMA over batches is full rank) and inversion 'cholesky'`);
    }
  }
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${seed}`);
  return { damping, fisher, normalization, decay, factorsEvery, inverseEvery, inversion, dampingForm, form, seed };
}

/**
 * K-FAC: natural-gradient steps with each trainable dense layer's Fisher block
 * approximated by S ⊗ A (Martens & Grosse 2015), for nets from `mlp` and `twoLayerReLU`.
 * Each step: a forward pass, the Fisher seed rows ({@link FisherType}), a backward pass
 * and the gradient g; every `factorsEvery` steps the factors' moving averages absorb the
 * batch; every `inverseEvery` steps the damped inverses are recomputed (Cholesky with the
 * π split by default; or eigenbases with exact damping; a wide factor in the n×n dual
 * form); then Δ = −α·ν·F̃⁻¹g + μ·Δ_prev.
 *
 * Safety: a step never leaves NaN in the parameters. With fixed damping a non-finite step
 * is undone and raises NonFiniteError; with `adaptive` it is rejected like a step that
 * raises the loss: undone and retried with more damping; after `maxRetries` the step
 * returns `accepted: false` and θ is bit-for-bit unchanged.
 *
 * Stats per step ({@link KfacStepStats}): loss, gradient and update norms, the damping of
 * the inverses in use, per layer the π split, factor forms and condition numbers, ρ and
 * the quadratic model's change when computed, α, μ, the KL-clip scale.
 *
 * @example
 * await init();
 * const net = mlp({ sizes: [784, 128, 10], seed: 1 });
 * const opt = kfac({ lr: 0.5, damping: 1e-2, adaptive: true });
 * train(net, { X, Y: labels, n }, opt, { steps: 200, batchSize: 250, loss: softmaxCrossEntropy({ reduction: 'mean' }) });
 *
 * @example
 * // Full batch, with the learning rate and momentum of the quadratic model (§7):
 * const opt = kfac({ lr: 'auto', momentum: 'auto', damping: 1e-3, adaptive: true });
 * const stats = opt.step(net, { X, Y, n });          // stats.lr, stats.momentum, stats.rho
 */
export function kfac(options: KfacOptions = {}): KfacOptimizer {
  const settings = resolveCurvature(options);
  const { lr = 1, momentum = 0, adaptive = false, klClip } = options;
  if (lr !== 'auto') checkPositive('lr', lr);
  if (momentum !== 'auto') checkUnit('momentum', momentum);
  if (momentum === 'auto' && lr !== 'auto') throw new ArgumentError('momentum', "'auto' needs lr 'auto' (both come from the quadratic model)");
  if (klClip !== undefined) {
    checkPositive('klClip', klClip);
    if (lr === 'auto') throw new ArgumentError('klClip', "does not combine with lr 'auto' (the quadratic model already sets the step length)");
  }
  let lm: Required<KfacAdaptiveOptions> | undefined;
  if (adaptive) {
    lm = { ...ADAPTIVE_DEFAULTS, ...(adaptive === true ? {} : adaptive) };
    checkLevenbergMarquardt(lm);
    if (!Number.isSafeInteger(lm.every) || lm.every < 1) throw new ArgumentError('adaptive.every', `must be a positive integer, got ${lm.every}`);
    settings.damping = Math.min(lm.max, Math.max(lm.min, settings.damping));
  }
  return new Kfac(settings, lr, momentum, lm, klClip);
}

/**
 * The K-FAC preconditioner alone: for each batch it computes the gradient g, advances the
 * factor statistics and inverses on their schedules (as {@link kfac} does) and returns
 * F̃⁻¹g with a fixed damping; a first-order optimizer then takes the step. This composes
 * K-FAC with momentum or Adam the way kfac-pytorch's preconditioner does (no
 * Levenberg–Marquardt, rejection or KL clip here: those need the step itself).
 *
 * @example
 * const opt = sgd({ lr: 0.1, momentum: 0.9, preconditioner: kfacPreconditioner({ damping: 1e-2 }) });
 * train(net, data, opt, { steps: 100, batchSize: 128, loss: 'cross-entropy' });
 *
 * @example
 * // Or take the preconditioned gradient yourself:
 * const pre = kfacPreconditioner({ damping: 1e-3 });
 * const { gradient, direction, stats } = pre.precondition(net, { X, Y, n });
 */
export function kfacPreconditioner(options: KfacPreconditionerOptions = {}): KfacPreconditioner {
  return new KfacPreconditionerImpl(resolveCurvature(options));
}
