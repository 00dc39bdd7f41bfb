/**
 * K-FAC (Martens & Grosse 2015, arXiv:1503.05671) for networks of dense layers: the
 * {@link KfacEstimator} (curvature/kfac-estimator.ts) approximates each trainable layer's
 * block of the Fisher / Gauss–Newton matrix by S ⊗ A, and the step preconditions the
 * gradient with the damped blocks' inverses. This file is {@link kfac}, the self-contained
 * optimizer (fixed or automatic learning rate and momentum, KL clipping); the same estimator
 * drives {@link kfacPreconditioner} (kfac-preconditioner.ts) for a first-order optimizer.
 *
 * The file reads top-down: options → the step as a narrative (1. curvature, 2. inverses,
 * 3. direction and coefficients; then the damped-step driver, damped-step.ts, applies the
 * step, guards, rejects and adapts the damping) → the factory. What the factors hold and
 * how they are normalised is documented with the estimator.
 */
import type { Ptr } from '../kernels/types.js';
import {
  KFAC_CURVATURE_OPTIONS, KfacEstimator, resolveKfacCurvature, type FisherType, type KfacCurvatureOptions, type KfacCurvatureSettings,
} from '../curvature/kfac-estimator.js';
import { clampDamping, LEVENBERG_MARQUARDT_DEFAULTS, resolveLevenbergMarquardt, type LevenbergMarquardtOptions } from '../curvature/damping.js';
import { ArgumentError, NotPositiveDefiniteError } from '../errors.js';
import type { Batch, Net } from '../nn/net.js';
import { checkOptions, checkPositive, checkPositiveInteger, checkUnit, type OptionShape } from '../validate.js';
import { dot } from '../backend/vectors.js';
import { lossAt, prepareStep } from './prepare.js';
import { quadraticModelCoefficients, type QuadraticModel } from './quadratic-model.js';
import { DampedStep } from './damped-step.js';
import { resolveDivergenceGuard, type DivergenceGuardOptions } from './step-safety.js';
import type { KfacCurvatureStats } from './kfac-preconditioner.js';
import type { Optimizer, StepOptions, StepStats } from './types.js';
import type { StateReader, StateValue } from '../encoding/state.js';

// ---- 1. Options ------------------------------------------------------------------------------------------

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
  /**
   * Adapt λ (Levenberg–Marquardt every `every` steps) with step rejection (default true: a full-batch
   * step never raises the loss); `false` for a fixed λ (then only the divergence guard judges a step).
   */
  adaptive?: boolean | KfacAdaptiveOptions;
  /**
   * Update-norm constraint (kfac-pytorch's `kl_clip`, e.g. 1e-3): the preconditioned step is
   * scaled by ν = min(1, √(klClip / (η²·gᵀF̃⁻¹g))), so its squared F̃-norm (about twice the
   * KL divergence it causes) stays ≤ klClip. Default off. Not with lr 'auto'.
   */
  klClip?: number;
  /**
   * The divergence guard (default on): a step that raises its batch's loss by more than ×1.5 is
   * undone and retried — first with inverses recomputed from the current factors when it used
   * stale ones, then with more damping — or refused with θ untouched. `false` for the raw method.
   * A refused (or rejected) step still counts for the curvature: its batch was folded into the factors'
   * moving average and the step clock (and the Monte-Carlo sequence) advanced, as on any step — the
   * factors describe θ, which the step leaves as it was. See {@link DivergenceGuardOptions}.
   */
  guard?: boolean | DivergenceGuardOptions;
}

/** What one {@link kfac} step did: the common {@link StepStats} plus K-FAC's own. */
export interface KfacStepStats extends StepStats, KfacCurvatureStats {
  damping: number;
  /** Rejected attempts before this result. */
  retries: number;
  /** α: the multiplier of −F̃⁻¹g (η, or the automatic one), before the KL clip ν. */
  lr: number;
  /** μ: the multiplier of the previous update (0 on the first step). */
  momentum: number;
  /** ν ∈ (0, 1] of the KL clip (1 when off or not binding). */
  klScale: number;
  /** The quadratic model's predicted change gᵀΔ + ½ΔᵀFΔ (exact Gauss–Newton, undamped), when computed. */
  quadChange?: number;
}

/** The optimizer {@link kfac} returns: an {@link Optimizer} whose steps report {@link KfacStepStats}. */
export interface KfacOptimizer extends Optimizer {
  step(net: Net, batch: Batch, options?: StepOptions): KfacStepStats;
  /** The damping λ the next inverse refresh uses (adapted when `adaptive`). */
  readonly currentDamping: number;
}

/** {@link KfacOptions} resolved and validated by {@link resolveKfacOptions}: the one place kfac's options are checked. */
interface KfacSettings {
  curvature: KfacCurvatureSettings;
  lr: number | 'auto';
  momentum: number | 'auto';
  lm: Required<KfacAdaptiveOptions> | undefined;
  klClip: number | undefined;
  guard: Required<DivergenceGuardOptions> | undefined;
}

const ADAPTIVE_DEFAULTS: Required<KfacAdaptiveOptions> = {
  ...LEVENBERG_MARQUARDT_DEFAULTS, every: 5, increase: 0.9 ** -5, decrease: 0.9 ** 5, rejection: true,
};

function resolveKfacOptions(options: KfacOptions): KfacSettings {
  checkOptions('kfac()', options, KFAC_OPTIONS);
  options ??= {};
  const curvature = resolveKfacCurvature(options);
  const { lr = 1, momentum = 0, adaptive = true, klClip } = options;
  if (lr !== 'auto') checkPositive('lr', lr);
  if (momentum !== 'auto') checkUnit('momentum', momentum);
  if (momentum === 'auto' && lr !== 'auto') throw new ArgumentError('momentum', "'auto' needs lr 'auto' (both come from the quadratic model)");
  if (klClip !== undefined) {
    checkPositive('klClip', klClip);
    if (lr === 'auto') throw new ArgumentError('klClip', "does not combine with lr 'auto' (the quadratic model already sets the step length)");
  }
  let lm: Required<KfacAdaptiveOptions> | undefined;
  if (adaptive) {
    lm = resolveLevenbergMarquardt(adaptive, { ...ADAPTIVE_DEFAULTS });
    checkPositiveInteger('adaptive.every', lm.every);
    curvature.damping = clampDamping(curvature.damping, lm);
  }
  return { curvature, lr, momentum, lm, klClip, guard: resolveDivergenceGuard(options.guard) };
}

const KFAC_OPTIONS: OptionShape = {
  ...KFAC_CURVATURE_OPTIONS, lr: { kinds: ['number', 'string'], expect: "a number > 0 or 'auto'" },
  momentum: { kinds: ['number', 'string'], expect: "a number in [0, 1) or 'auto'" }, adaptive: ['boolean', 'object'], klClip: 'number',
  guard: ['boolean', 'object'],
};

// ---- 2. The optimizer ------------------------------------------------------------------------------------

class Kfac implements KfacOptimizer {
  readonly name = 'kfac';
  private readonly estimator: KfacEstimator;
  /** Backup, guard, rejection and Levenberg–Marquardt; holds the damping the next inverse refresh uses (adapted when `lm`). */
  private readonly driver: DampedStep;
  /** Whether 'kfac.prev' holds the previous accepted update (momentum's Δ_prev). */
  private hasDelta = false;
  /** η of the next step, or 'auto' ({@link Kfac.setLearningRate} changes a fixed one). */
  private lr: number | 'auto';

  constructor(readonly settings: KfacSettings) {
    this.estimator = new KfacEstimator(settings.curvature);
    this.driver = new DampedStep({ damping: settings.curvature.damping, adaptive: settings.lm, rejection: settings.lm?.rejection ?? true, guard: settings.guard });
    this.lr = settings.lr;
  }

  /** Sets η for the following steps (learning-rate schedules); not with lr 'auto'. */
  setLearningRate(lr: number): void {
    if (this.settings.lr === 'auto') throw new ArgumentError('lr', "kfac was made with lr 'auto': the quadratic model chooses η, a schedule cannot");
    checkPositive('lr', lr);
    this.lr = lr;
  }

  /** The options that rebuild this optimizer with `kfac` (checkpoints). */
  checkpointConfig(): Record<string, unknown> {
    const { curvature, momentum, lm, klClip, guard } = this.settings;
    const config: Record<string, unknown> = { ...curvature, lr: this.lr, momentum, adaptive: lm ? { ...lm } : false, guard: guard ? { ...guard } : false };
    if (klClip !== undefined) config.klClip = klClip;
    return config;
  }

  /**
   * The whole state (checkpoints): damping, the previous update (momentum), and the
   * estimator's clock, generator, factors and inverses.
   */
  saveState(): { [key: string]: StateValue } {
    const est = this.estimator, net = est.bound.net;
    const state: { [key: string]: StateValue } = { damping: this.driver.damping, hasDelta: this.hasDelta, bound: !!net };
    if (this.driver.startLoss !== undefined) state.startLoss = this.driver.startLoss;
    if (!net) return state;
    if (this.hasDelta) {
      const p = est.vec('kfac.prev') >> 3;
      state.prev = net.kernels.f64().slice(p, p + net.numParams);
    }
    state.estimator = est.saveState();
    return state;
  }

  /** Restores {@link Kfac.saveState} on `net`. */
  loadState(net: Net, r: StateReader): void {
    // Adaptive damping never leaves [min, max]; a saved value outside it is a corrupt file.
    const lm = this.settings.lm;
    const damping = r.number('damping', lm ? { min: lm.min, max: lm.max } : { min: 0 });
    const hasDelta = r.boolean('hasDelta'), startLoss = r.has('startLoss') ? r.number('startLoss') : undefined;
    const est = this.estimator;
    est.bind(net);
    this.resetOwn();
    if (r.boolean('bound')) {
      const prev = hasDelta ? r.f64('prev', net.numParams) : undefined;
      est.loadState(r.object('estimator'));
      if (prev) {
        // Allocate before taking the view: allocating can grow memory and invalidate it.
        const p = est.vec('kfac.prev');
        net.kernels.f64().set(prev, p >> 3);
      }
      this.hasDelta = hasDelta;
    }
    this.driver.damping = damping;
    this.driver.startLoss = startLoss;
  }

  get currentDamping(): number {
    return this.driver.damping;
  }

  step(net: Net, batch: Batch, options?: StepOptions): KfacStepStats {
    const start = performance.now();
    const loss = prepareStep(net, batch, options);
    const est = this.estimator, lm = this.settings.lm;
    if (est.bind(net)) this.resetOwn();
    // 1. Curvature: L, g and the factor statistics of the batch; the exact Gauss–Newton products when ρ or lr 'auto' needs them.
    const seen = est.observe(net, batch, loss);
    const kernels = net.kernels, P = net.numParams, grad = est.gradient;
    const adapt = lm !== undefined && seen.step % lm.every === 0, needModel = this.lr === 'auto' || adapt;
    const dir = est.vec('kfac.dir'), delta = est.vec('kfac.step'), prev = est.vec('kfac.prev');
    if (needModel) est.prepareModel();
    const gradNorm = Math.sqrt(dot(kernels.f64(), grad, grad, P));

    // 2. Inverses and 3. the direction Δ are proposed here; 4. the step, the guard and the damping's adaptation are the driver's.
    let inverseUpdated = false;
    const stats = this.driver.run(net, est.bound.ws!, {
      label: 'the K-FAC step',
      propose: (damping, attempt) => {
        // 2. Inverses: on schedule, when missing, and on every retry (with the raised damping). With fixed damping
        // also when the cached ones were made with another damping (a guard retry's): a raised one serves its step only.
        let ok = true;
        if (attempt > 0 || seen.inverseDue || (!lm && est.hasInverse && est.inverseDamping !== damping)) {
          try {
            est.refreshInverses(damping);
            inverseUpdated = true;
          } catch (e) {
            if (!(lm && e instanceof NotPositiveDefiniteError)) throw e;
            ok = false;
          }
        }
        const stats: KfacStepStats = {
          loss: seen.loss, gradNorm, updateNorm: 0, accepted: false, timeMs: 0, damping: est.hasInverse ? est.inverseDamping : damping,
          retries: attempt, fisher: est.fisher, lr: 0, momentum: 0, klScale: 1, factorsUpdated: seen.factorsUpdated, inverseUpdated, blocks: est.blockStats,
        };
        ok = ok && this.direction(stats, dir, delta, prev, needModel);
        return { stats, ok, damping, modelChange: stats.quadChange, fresh: inverseUpdated };
      },
      apply: () => {
        const h = kernels.f64(), T = net.paramsPtr >> 3, D = delta >> 3;
        for (let i = 0; i < P; i++) h[T + i] += h[D + i];
      },
      trialLoss: () => lossAt(net, batch, loss),
    }, { start, adapt });
    // An accepted Δ is momentum's Δ_prev.
    if (stats.accepted) {
      kernels.f64().copyWithin(prev >> 3, delta >> 3, (delta >> 3) + P);
      this.hasDelta = true;
    }
    return stats;
  }

  /**
   * 3. The direction p = F̃⁻¹g, the coefficients (α and μ, the KL clip ν) and Δ = −ν·α·p + μ·Δ_prev into
   * `delta`, with the model's change when needed; false when Δ is not finite.
   */
  private direction(stats: KfacStepStats, dir: Ptr, delta: Ptr, prev: Ptr, needModel: boolean): boolean {
    const est = this.estimator, kernels = est.bound.net!.kernels, P = est.bound.net!.numParams, grad = est.gradient;
    const { momentum, klClip } = this.settings, lr = this.lr;
    est.precondition(grad, dir);
    const gp = dot(kernels.f64(), grad, dir, P);
    const momentumOn = this.hasDelta && momentum !== 0;
    if (lr === 'auto') {
      const c = this.coefficients(gp, dir, prev, stats.damping, momentumOn ? momentum : undefined);
      stats.lr = c.alpha; stats.momentum = c.mu;
    } else {
      stats.lr = lr;
      stats.momentum = momentumOn ? momentum as number : 0;
      if (klClip !== undefined && gp > 0) stats.klScale = Math.min(1, Math.sqrt(klClip / (lr * lr * gp)));
    }
    const h = kernels.f64(), D = delta >> 3, Pp = dir >> 3, Q = prev >> 3, a = stats.klScale * stats.lr, mu = stats.momentum;
    for (let i = 0; i < P; i++) h[D + i] = -a * h[Pp + i] + (mu !== 0 ? mu * h[Q + i] : 0);
    if (!(Number.isFinite(stats.lr) && Number.isFinite(mu) && kernels.firstNonFinite(P, delta) < 0)) return false;
    if (needModel) {
      est.tangent(delta, 0);
      stats.quadChange = dot(kernels.f64(), grad, delta, P) + 0.5 * est.gnInner(0, 0);
    }
    return true;
  }

  reset(): void {
    this.estimator.reset();
    this.estimator.bound.release();
    this.resetOwn();
  }

  dispose(): void {
    this.estimator.dispose();
    this.resetOwn();
  }

  toString(): string {
    const s = this.settings.curvature, { momentum, lm, klClip } = this.settings, lr = this.lr;
    const damping = lm ? `adaptive from ${s.damping}` : `${s.damping}`;
    return `kfac(lr=${lr}, momentum=${momentum}, damping=${damping}, fisher=${s.fisher}, normalization=${s.normalization}, ` +
      `decay=${s.decay}, factorsEvery=${s.factorsEvery}, inverseEvery=${s.inverseEvery}, ${s.inversion}/${s.dampingForm}` +
      `${klClip !== undefined ? `, klClip=${klClip}` : ''})`;
  }

  /** α and μ from the quadratic model with F + λI, λ the damping of the inverses (full batch). */
  private coefficients(gp: number, dir: Ptr, prev: Ptr, damping: number, momentum: number | 'auto' | undefined): { alpha: number; mu: number } {
    const est = this.estimator, P = est.bound.net!.numParams;
    est.tangent(dir, 0);
    if (momentum !== undefined) est.tangent(prev, 1);
    const h = est.bound.net!.kernels.f64();
    const model: QuadraticModel = { gp, pFp: est.gnInner(0, 0) + damping * dot(h, dir, dir, P) };
    if (momentum !== undefined) {
      model.previous = {
        pFd: -(est.gnInner(0, 1) + damping * dot(h, dir, prev, P)),
        dFd: est.gnInner(1, 1) + damping * dot(h, prev, prev, P),
        gd: dot(h, est.gradient, prev, P),
      };
    }
    return quadraticModelCoefficients(model, momentum ?? 0);
  }

  private resetOwn(): void {
    this.driver.reset();
    this.hasDelta = false;
  }
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
 * Safety: a step never leaves NaN in the parameters. With `adaptive` (the default) a step
 * that raises the loss or is not finite is rejected: undone and retried with more damping;
 * after `maxRetries` the step returns `accepted: false` and θ is bit-for-bit unchanged. With
 * `adaptive: false` a non-finite step is undone and raises NonFiniteError, and the divergence
 * guard judges the rest.
 *
 * Stats per step ({@link KfacStepStats}): loss, gradient and update norms, the damping of
 * the inverses in use, per layer the π split, factor forms and condition numbers, ρ and
 * the quadratic model's change when computed, α, μ, the KL-clip scale.
 *
 * @param options learning rate, damping, Fisher type, normalisation, moving averages, inversion and update periods, adaptation; see {@link KfacOptions}
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
  return new Kfac(resolveKfacOptions(options));
}
