/**
 * Exact natural gradient descent (Zhang, Martens & Grosse 2019):
 *   θ ← θ − η J̃ᵀ(J̃J̃ᵀ + λI)⁻¹ c,
 * the Gauss–Newton/Fisher step through the (n·k) × (n·k) Gram matrix, built
 * without forming the Jacobian (see curvature/gauss-newton.ts and nn/gram.ts). For the
 * default squared error, J̃ = J and c = u − y: the paper's Eq. 3 with damping.
 */
import { clampDamping, LEVENBERG_MARQUARDT_DEFAULTS, resolveLevenbergMarquardt, type LevenbergMarquardtOptions } from '../curvature/damping.js';
import { choleskySolve, eighSolve, GramSystem, ParamSystem, preferredForm, type GaussNewtonSystem } from '../curvature/gauss-newton.js';
import { ArgumentError } from '../errors.js';
import { NetBinding } from '../nn/binding.js';
import type { Batch, Net } from '../nn/net.js';
import { checkLoss, checkNonNegative, checkOneOf, checkOptions, checkPositive, type OptionShape } from '../validate.js';
import { prepareStep } from './prepare.js';
import { DampedStep } from './damped-step.js';
import { resolveDivergenceGuard, type DivergenceGuardOptions } from './step-safety.js';
import type { Optimizer, StepOptions, StepStats } from './types.js';
import type { Loss } from '../nn/losses.js';
import type { StateReader, StateValue } from '../encoding/state.js';

/** Options of {@link ngd}. */
export interface NgdOptions {
  /** η (default 1: with λ → 0 a wide net fits its linearisation in one step). */
  lr?: number;
  /**
   * λ ≥ 0, the Tikhonov damping (default 1e-3); the initial value when adaptive.
   * Mode i of G contracts by 1 − η·μᵢ/(μᵢ + λ), so keep λ ≪ λ_min(G) for the
   * paper's rate. Cross-entropy needs λ > 0 (its Gram matrix is singular).
   * λ is added to the Gauss–Newton matrix of the loss as defined, so under
   * reduction 'mean' it weighs n times more than under 'sum'.
   */
  damping?: number;
  /** Adapt λ by Levenberg–Marquardt with step rejection (default false: fixed λ). */
  adaptive?: boolean | LevenbergMarquardtOptions;
  /**
   * 'gram' solves the (n·k)² system, 'param' the P² one (needs the explicit
   * (n·k) × P Jacobian, for small nets with P < n·k); 'auto' (default) picks the
   * one with fewer estimated flops.
   */
  form?: 'auto' | 'gram' | 'param';
  /**
   * In the Gram form, assemble the Gram block of a ReLU layer under a one-output head of
   * equal-magnitude weights (the paper's two-layer net; squared error) from bit-packed activation
   * masks by exact population counts instead of a float product (default true). Results agree
   * with the float path to rounding (≤ 1e-12 relative); false forces the float path everywhere.
   */
  maskGram?: boolean;
  /**
   * The divergence guard (default on: a step may raise its batch's loss at most ×1.5, else it is
   * undone and retried with more damping, or refused with θ untouched); `false` for the raw
   * method. See {@link DivergenceGuardOptions}.
   */
  guard?: boolean | DivergenceGuardOptions;
}

/** {@link NgdOptions} resolved and validated: the one place ngd's options are checked. */
interface NgdSettings {
  lr: number;
  /** λ the optimizer starts from (and returns to on reset), clamped to [min, max] when adaptive. */
  damping: number;
  lm: Required<LevenbergMarquardtOptions> | undefined;
  form: 'auto' | 'gram' | 'param';
  guard: Required<DivergenceGuardOptions> | undefined;
  maskGram: boolean;
}

function resolveNgdOptions(options: NgdOptions): NgdSettings {
  checkOptions('ngd()', options, NGD_OPTIONS);
  const { lr = 1, damping = 1e-3, adaptive = false, form = 'auto', maskGram = true } = options ?? {};
  checkPositive('lr', lr);
  checkNonNegative('damping', damping);
  checkOneOf('form', form, ['auto', 'gram', 'param']);
  if (typeof maskGram !== 'boolean') throw new ArgumentError('maskGram', `must be true or false, got ${String(maskGram)}`);
  const lm = adaptive ? resolveLevenbergMarquardt(adaptive, { ...LEVENBERG_MARQUARDT_DEFAULTS }) : undefined;
  return { lr, damping: lm ? clampDamping(damping, lm) : damping, lm, form, guard: resolveDivergenceGuard(options?.guard), maskGram };
}

const NGD_OPTIONS: OptionShape = {
  lr: 'number', damping: 'number', adaptive: ['boolean', 'object'], form: { kinds: ['string'], expect: "'auto', 'gram' or 'param'" },
  guard: ['boolean', 'object'], maskGram: 'boolean',
};

class NaturalGradient implements Optimizer {
  readonly name = 'ngd';
  private readonly bound = new NetBinding('ngd()');
  private readonly gram: GramSystem;
  private readonly param = new ParamSystem();
  /** Backup, guard, rejection and Levenberg–Marquardt; holds the damping the next step starts from, the optimizer's only state across steps. */
  private readonly driver: DampedStep;
  /** η of the next step ({@link NaturalGradient.setLearningRate} changes it). */
  private lr: number;

  constructor(readonly settings: NgdSettings) {
    this.driver = new DampedStep({ damping: settings.damping, adaptive: settings.lm, rejection: true, guard: settings.guard });
    this.lr = settings.lr;
    this.gram = new GramSystem({ maskGram: settings.maskGram });
  }

  /** Sets η for the following steps (learning-rate schedules). */
  setLearningRate(lr: number): void {
    checkPositive('lr', lr);
    this.lr = lr;
  }

  /** The options that rebuild this optimizer with `ngd` (checkpoints). */
  checkpointConfig(): Record<string, unknown> {
    const { damping, lm, form, maskGram, guard } = this.settings;
    return { lr: this.lr, damping, adaptive: lm ? { ...lm } : false, form, maskGram, guard: guard ? { ...guard } : false };
  }

  /** The state across steps: the damping the next step starts from, and the loss where the run began (the guard's `belowStart`). */
  saveState(): { [key: string]: StateValue } {
    const { damping, startLoss } = this.driver;
    return startLoss === undefined ? { damping } : { damping, startLoss };
  }

  /** Restores {@link NaturalGradient.saveState} on `net`. */
  loadState(net: Net, state: StateReader): void {
    // Adaptive damping never leaves [min, max]; a saved value outside it is a corrupt file.
    const lm = this.settings.lm;
    const damping = state.number('damping', lm ? { min: lm.min, max: lm.max } : { min: 0 });
    const startLoss = state.has('startLoss') ? state.number('startLoss') : undefined;
    this.bound.bind(net);
    this.driver.damping = damping;
    this.driver.startLoss = startLoss;
  }

  /** The damping the next step starts from. */
  get currentDamping(): number {
    return this.driver.damping;
  }

  step(net: Net, batch: Batch, options?: StepOptions): StepStats {
    const start = performance.now();
    const loss = prepareStep(net, batch, options);
    if (this.bound.bind(net)) this.driver.reset();
    if (loss.singularGaussNewton && this.driver.damping === 0) {
      throw new ArgumentError('damping', `must be > 0 with ${loss.name}: its Gauss–Newton Gram matrix is singular`);
    }
    const lr = this.lr, ws = this.bound.ws!;

    // 1. Curvature: M and b of the chosen form at the current θ, and L(θ).
    const sys = this.system(net, batch.n);
    const lossBefore = sys.build(net, this.bound.cap!, ws, batch, loss);
    checkLoss('loss', lossBefore);
    const x = ws.get('x', sys.size), mx = ws.get('Mx', sys.size);

    // 2.–4. Solve (M + λI)x = b, step θ ← θ + η·d, adapt the damping: the driver tries, judges and retries.
    return this.driver.run(net, ws, {
      label: 'the NGD step',
      propose: (damping, attempt) => {
        const solved = this.solve(sys, damping, x, mx);
        const m = sys.measure(x, mx);
        return {
          stats: {
            loss: lossBefore, gradNorm: Math.sqrt(m.gradSq), updateNorm: 0, accepted: false, timeMs: 0,
            damping: solved.damping, retries: attempt, solver: solved.solver, form: sys.form,
          },
          ok: Number.isFinite(m.gDotD) && Number.isFinite(m.dFd), damping: solved.damping,
          modelChange: lr * m.gDotD + 0.5 * lr * lr * m.dFd, fresh: true,
        };
      },
      apply: () => sys.apply(x, lr),
      trialLoss: () => this.trialLoss(net, batch, loss),
      // The trial's capture is sized before θ moves; once the step is accepted the captures swap.
      reserveTrial: () => this.bound.spare().reserve(batch.n, net.outputDim),
      keepTrial: () => this.bound.swap(),
    }, { start });
  }

  reset(): void {
    this.driver.reset();
    this.bound.release();
  }

  dispose(): void {
    this.bound.dispose();
    this.driver.reset();
  }

  toString(): string {
    const { lm, damping, form } = this.settings;
    return `ngd(lr=${this.lr}, damping=${lm ? `adaptive from ${damping}` : `${this.driver.damping}`}, form=${form})`;
  }

  /**
   * L at the trial θ, by a forward pass into the spare capture that records θ and X: once the
   * step is accepted the captures swap, and the next step on the same batch skips its forward
   * pass (for full-batch training, one of the step's three large products).
   */
  private trialLoss(net: Net, batch: Batch, loss: Loss): number {
    const spare = this.bound.spare(), k = net.outputDim;
    net.forwardHeld(spare, batch.X, batch.n, k);
    return loss.value(net.kernels.f64(), spare.output >> 3, batch.Y, batch.n, k);
  }

  private system(net: Net, n: number): GaussNewtonSystem {
    const form = this.settings.form === 'auto' ? preferredForm(net, n) : this.settings.form;
    return form === 'gram' ? this.gram : this.param;
  }

  /** (M + λI)x = b by Cholesky; on failure more damping (adaptive), then the eigh pseudo-inverse. */
  private solve(sys: GaussNewtonSystem, damping: number, x: number, mx: number): { damping: number; solver: 'cholesky' | 'eigh' } {
    const kernels = this.bound.net!.kernels, ws = this.bound.ws!, lm = this.settings.lm;
    // A pivot that is positive but tiny can pass Cholesky and still overflow the solution: count that as a failure too.
    const cholesky = () => choleskySolve(kernels, sys, damping, x, mx) && kernels.firstNonFinite(sys.size, x) < 0;
    if (cholesky()) return { damping, solver: 'cholesky' };
    if (lm) {
      for (let i = 0; i < lm.maxRetries && damping < lm.max; i++) {
        damping = clampDamping(damping * lm.boost, lm);
        if (cholesky()) return { damping, solver: 'cholesky' };
      }
    }
    eighSolve(kernels, ws, sys, damping, x, mx);
    return { damping, solver: 'eigh' };
  }
}

/**
 * Exact natural gradient descent: each step solves the damped Gauss–Newton
 * system through the Gram matrix G = J̃J̃ᵀ ((n·k) × (n·k)), which is built from
 * per-layer Grams without forming J, so memory is O((n·k)² + activations).
 * For the squared error, the outputs follow r ← (1 − η)r to first order: every
 * direction of G contracts at the same rate (with damping λ, mode μ contracts
 * by 1 − η·μ/(μ + λ)).
 *
 * Steps never leave NaN in the parameters: a non-finite update is undone (and,
 * with fixed damping, raises NonFiniteError). With `adaptive`, a step that
 * raises the loss is undone and retried with more damping; after `maxRetries`
 * the step returns `accepted: false` with θ untouched.
 *
 * @param options learning rate η, damping λ, adaptive (Levenberg–Marquardt) damping, Gram or parameter form; see {@link NgdOptions}
 * @example
 * await init();
 * const net = twoLayerReLU({ inputDim: 16, width: 4096, seed: 1 });
 * const opt = ngd({ lr: 1, damping: 1e-6 });
 * const history = train(net, { X, Y, n: 32 }, opt, { steps: 3 });
 * // history[1].ratio ≈ 1e-4: one step fits the data
 */
export function ngd(options: NgdOptions = {}): Optimizer & {
  /** The damping λ the next step starts from (adapted when `adaptive`). */
  readonly currentDamping: number;
} {
  return new NaturalGradient(resolveNgdOptions(options));
}
