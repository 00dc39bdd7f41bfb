/**
 * Exact natural gradient descent (Zhang, Martens & Grosse 2019):
 *   θ ← θ − η J̃ᵀ(J̃J̃ᵀ + λI)⁻¹ c,
 * the Gauss–Newton/Fisher step through the (n·k) × (n·k) Gram matrix, built
 * without forming the Jacobian (see curvature.ts and nn/gram.ts). For the
 * default squared error, J̃ = J and c = u − y: the paper's Eq. 3 with damping.
 */
import { ArgumentError, NonFiniteError } from '../errors.js';
import type { Net } from '../nn/net.js';
import { choleskySolve, eighSolve, GramSystem, ParamSystem, preferredForm, type CurvatureSystem } from './curvature.js';
import { checkLoss, checkPositive, lossAt, NetBinding, prepareStep, type Batch, type Optimizer, type StepOptions, type StepStats } from './types.js';
import { checkNonNegative } from '../validate.js';
import { levenbergMarquardt } from '../curvature/damping.js';

/**
 * Levenberg–Marquardt damping adaptation from the reduction ratio
 * ρ = (L(θ) − L(θ + Δ)) / (L(θ) − m(Δ)), m the Gauss–Newton quadratic model
 * (undamped curvature): λ grows by `increase` when ρ < `lower`, shrinks by
 * `decrease` when ρ > `upper`, and stays within [min, max]. A step that raises
 * the loss or makes it non-finite is undone and retried with λ·`boost`.
 */
export interface LevenbergMarquardtOptions {
  /** Default 0.25. */
  lower?: number;
  /** Default 0.75. */
  upper?: number;
  /** Factor on λ when ρ < lower (default 1.5). */
  increase?: number;
  /** Factor on λ when ρ > upper (default 2/3). */
  decrease?: number;
  /** Factor on λ after a rejected step or a failed Cholesky (default 10). */
  boost?: number;
  /** Lower clamp of λ (default 1e-8). */
  min?: number;
  /** Upper clamp of λ (default 1e8). */
  max?: number;
  /** Rejected attempts per step before giving up and leaving θ untouched (default 10). */
  maxRetries?: number;
}

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
}


/** The error of a fixed-damping step whose update was not finite (θ is left unchanged). */
function nonFiniteStep(lambda: number): NonFiniteError {
  const e = new NonFiniteError('update', 0, NaN);
  e.message = `update: the NGD step with damping ${lambda} is not finite; the parameters were left unchanged (raise the damping or use adaptive)`;
  return e;
}

const LM_DEFAULTS: Required<LevenbergMarquardtOptions> = {
  lower: 0.25, upper: 0.75, increase: 1.5, decrease: 2 / 3, boost: 10, min: 1e-8, max: 1e8, maxRetries: 10,
};

class NaturalGradient implements Optimizer {
  readonly name = 'ngd';
  private readonly bound = new NetBinding();
  private readonly gram = new GramSystem();
  private readonly param = new ParamSystem();
  private damping: number;

  constructor(
    readonly lr: number,
    readonly initialDamping: number,
    readonly lm: Required<LevenbergMarquardtOptions> | undefined,
    readonly form: 'auto' | 'gram' | 'param',
  ) {
    this.damping = initialDamping;
  }

  /** The damping the next step starts from. */
  get currentDamping(): number {
    return this.damping;
  }

  step(net: Net, batch: Batch, options?: StepOptions): StepStats {
    const start = performance.now();
    const loss = prepareStep(net, batch, options);
    if (this.bound.bind(net)) this.reset();
    if (loss.name === 'cross-entropy' && this.damping === 0) {
      throw new ArgumentError('damping', 'must be > 0 with cross-entropy: its Gauss–Newton Gram matrix is singular (rank n·(k−1))');
    }
    const ws = this.bound.ws!, k = net.kernels, P = net.numParams;

    // 1. Curvature: M and b of the chosen form at the current θ, and L(θ).
    const sys = this.system(net, batch.n);
    const lossBefore = sys.build(net, this.bound.cap!, ws, batch, loss);
    checkLoss('loss', lossBefore);
    const x = ws.get('x', sys.size), mx = ws.get('Mx', sys.size), backup = ws.get('backup', P);
    k.f64().copyWithin(backup >> 3, net.paramsPtr >> 3, (net.paramsPtr >> 3) + P);

    let lambda = this.damping;
    for (let retries = 0; ; retries++) {
      // 2. Solve (M + λI)x = b: Cholesky; on failure more damping (adaptive), then the eigh pseudo-inverse.
      const solved = this.solve(sys, lambda, x, mx);
      lambda = solved.lambda;
      const m = sys.measure(x, mx);
      const finite = Number.isFinite(m.gDotD) && Number.isFinite(m.dFd);

      // 3. Step: θ ← θ + η·d, checked finite; undone from the backup otherwise.
      if (finite) sys.apply(x, this.lr);
      const applied = finite && this.paramsFinite(net);
      if (!applied) this.restore(net, backup);
      if (!this.lm) {
        if (!applied) throw nonFiniteStep(lambda);
        return this.stats(start, lossBefore, m.gradSq, this.moved(net, backup), true, lambda, solved.solver, sys.form, retries);
      }

      // 4. Adapt damping from ρ; reject a step that raises the loss or is not finite.
      const lossAfter = applied ? lossAt(net, batch, loss) : NaN;
      const predicted = -(this.lr * m.gDotD + 0.5 * this.lr * this.lr * m.dFd);
      const rho = (lossBefore - lossAfter) / predicted;
      if (!(lossAfter <= lossBefore)) {
        if (applied) this.restore(net, backup);
        if (retries >= this.lm.maxRetries || lambda >= this.lm.max) {
          this.damping = lambda;
          const s = this.stats(start, lossBefore, m.gradSq, 0, false, lambda, solved.solver, sys.form, retries + 1);
          return { ...s, lossAfter: lossBefore, rho };
        }
        lambda = this.clamp(lambda * this.lm.boost);
        continue;
      }
      this.damping = levenbergMarquardt(lambda, rho, this.lm);
      const s = this.stats(start, lossBefore, m.gradSq, this.moved(net, backup), true, lambda, solved.solver, sys.form, retries);
      return { ...s, lossAfter, rho };
    }
  }

  reset(): void {
    this.damping = this.initialDamping;
  }

  dispose(): void {
    this.bound.dispose();
    this.reset();
  }

  toString(): string {
    const lm = this.lm ? `adaptive from ${this.initialDamping}` : `${this.damping}`;
    return `ngd(lr=${this.lr}, damping=${lm}, form=${this.form})`;
  }

  private system(net: Net, n: number): CurvatureSystem {
    const form = this.form === 'auto' ? preferredForm(net, n) : this.form;
    return form === 'gram' ? this.gram : this.param;
  }

  private solve(sys: CurvatureSystem, lambda: number, x: number, mx: number): { lambda: number; solver: 'cholesky' | 'eigh' } {
    const k = this.bound.net!.kernels, ws = this.bound.ws!;
    // A pivot that is positive but tiny can pass Cholesky and still overflow the solution: count that as a failure too.
    const cholesky = () => choleskySolve(k, sys, lambda, x, mx) && k.firstNonFinite(sys.size, x) < 0;
    if (cholesky()) return { lambda, solver: 'cholesky' };
    if (this.lm) {
      for (let i = 0; i < this.lm.maxRetries && lambda < this.lm.max; i++) {
        lambda = this.clamp(lambda * this.lm.boost);
        if (cholesky()) return { lambda, solver: 'cholesky' };
      }
    }
    eighSolve(k, ws, sys, lambda, x, mx);
    return { lambda, solver: 'eigh' };
  }

  private clamp(lambda: number): number {
    return Math.min(this.lm!.max, Math.max(this.lm!.min, lambda));
  }

  private paramsFinite(net: Net): boolean {
    return net.kernels.firstNonFinite(net.numParams, net.paramsPtr) < 0;
  }

  /**
   * ‖θ − θ_before‖, measured on the parameters: in Gram space ‖d‖² = xᵀGx cancels
   * catastrophically when G spans many orders of magnitude.
   */
  private moved(net: Net, backup: number): number {
    const h = net.kernels.f64(), t = net.paramsPtr >> 3, b = backup >> 3;
    let s = 0;
    for (let i = 0; i < net.numParams; i++) {
      const d = h[t + i] - h[b + i];
      s += d * d;
    }
    return Math.sqrt(s);
  }

  private restore(net: Net, backup: number): void {
    const h = net.kernels.f64();
    h.copyWithin(net.paramsPtr >> 3, backup >> 3, (backup >> 3) + net.numParams);
  }

  private stats(start: number, loss: number, gradSq: number, updateNorm: number, accepted: boolean,
    damping: number, solver: 'cholesky' | 'eigh', form: 'gram' | 'param', retries: number): StepStats {
    return { loss, gradNorm: Math.sqrt(gradSq), updateNorm, accepted, timeMs: performance.now() - start, damping, retries, solver, form };
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
 * @example
 * await init();
 * const net = twoLayerReLU({ inputDim: 16, width: 4096, seed: 1 });
 * const opt = ngd({ lr: 1, damping: 1e-6 });
 * const history = train(net, { X, Y, n: 32 }, opt, { steps: 3 });
 * // history[1].ratio ≈ 1e-4: one step fits the data
 */
/** Validates resolved `adaptive` options (shared by ngd and kfac), naming the bad field as `adaptive.<field>`. */
export function checkLevenbergMarquardt(lm: Required<LevenbergMarquardtOptions>): void {
  for (const key of ['increase', 'boost'] as const) {
    if (!(lm[key] > 1) || !Number.isFinite(lm[key])) throw new ArgumentError(`adaptive.${key}`, `must be a finite number > 1, got ${lm[key]}`);
  }
  if (!(lm.decrease > 0 && lm.decrease < 1)) throw new ArgumentError('adaptive.decrease', `must be in (0, 1), got ${lm.decrease}`);
  if (!(lm.lower <= lm.upper)) throw new ArgumentError('adaptive.lower', `must be ≤ upper (${lm.upper}), got ${lm.lower}`);
  checkPositive('adaptive.min', lm.min);
  if (!(lm.max >= lm.min)) throw new ArgumentError('adaptive.max', `must be ≥ min (${lm.min}), got ${lm.max}`);
  if (!Number.isInteger(lm.maxRetries) || lm.maxRetries < 0) throw new ArgumentError('adaptive.maxRetries', `must be a non-negative integer, got ${lm.maxRetries}`);
}

export function ngd(options: NgdOptions = {}): Optimizer & { readonly currentDamping: number } {
  const { lr = 1, damping = 1e-3, adaptive = false, form = 'auto' } = options;
  checkPositive('lr', lr);
  checkNonNegative('damping', damping);
  if (form !== 'auto' && form !== 'gram' && form !== 'param') {
    throw new ArgumentError('form', `must be 'auto', 'gram' or 'param', got ${String(form)}`);
  }
  let lm: Required<LevenbergMarquardtOptions> | undefined;
  if (adaptive) {
    lm = { ...LM_DEFAULTS, ...(adaptive === true ? {} : adaptive) };
    checkLevenbergMarquardt(lm);
  }
  return new NaturalGradient(lr, lm ? Math.min(lm.max, Math.max(lm.min, damping)) : damping, lm, form);
}

