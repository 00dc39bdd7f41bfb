/**
 * Energy natural gradient descent (Müller & Zeinhofer, ICML 2023) on a {@link ResidualObjective}:
 *   d = (JᵀJ + λI)⁻¹ Jᵀr = Jᵀ(JJᵀ + λI)⁻¹ r,   θ ← θ − η·d,
 * with η from the paper's grid line search over 0.5^k, k = 0 … 30 (the η of least loss), or from
 * backtracking (the first η of the grid that lowers the loss). The system is solved in the smaller
 * of its two forms — P × P when the net has fewer weights than residuals, else N × N — by the
 * eigendecomposition's pseudo-inverse (the least-squares solve of the paper's code) or by Cholesky.
 * λ adapts from the step sizes the line search picks: large early (the Gauss–Newton model of a fresh
 * net overshoots by orders of magnitude), vanishing once full steps succeed. ENGD only proposes
 * (curvature → solve → line search); the damped-step driver shared with `ngd` and `kfac`
 * (damped-step.ts) backs θ up, applies and checks the step, and when no η of the grid lowered the
 * loss (or the direction was not finite) undoes it and retries with ten times the damping; after
 * `maxRetries` the step is refused with θ bit-for-bit unchanged.
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import { LEVENBERG_MARQUARDT_DEFAULTS } from '../curvature/damping.js';
import { ArgumentError } from '../errors.js';
import { NetBinding } from '../nn/binding.js';
import type { Net } from '../nn/net.js';
import { checkNonNegative, checkOneOf, checkOptions, type OptionShape } from '../validate.js';
import { DampedStep } from './damped-step.js';
import type { ResidualObjective } from './objective.js';
import type { StepStats } from './types.js';

/** Options of {@link engd}. */
export interface EngdOptions {
  /** λ ≥ 0 added to the Gauss–Newton matrix: fixed, or the floor when adaptive (default 0: the paper's least squares). */
  damping?: number;
  /**
   * Adapt λ between steps from the step size the line search chose (default true): η ≥ ¼ divides it
   * by 10, down to `damping`; η ≤ 1/256 (the Gauss–Newton model overshoots by orders of magnitude)
   * multiplies it by 10. The first step starts from `initialDamping`.
   */
  adaptive?: boolean;
  /** λ of the first step when adaptive (default 1e-3). */
  initialDamping?: number;
  /** 'grid' (default): the η of least loss over 0.5^k, k = 0 … 30; 'backtracking': the first that lowers the loss. */
  lineSearch?: 'grid' | 'backtracking';
  /** The grid's last exponent (default 30). */
  maxHalvings?: number;
  /** 'auto' (default) picks the smaller of P × P ('param') and N × N ('gram'). */
  form?: 'auto' | 'param' | 'gram';
  /** Retries with ten times the damping after a step that lowers no loss (default 5), then the step is refused. */
  maxRetries?: number;
  /**
   * 'eigh' (default) solves by the eigendecomposition's pseudo-inverse (eigenvalues of M + λI below
   * 1e-14 of the largest dropped: the least-squares solve of the paper's code); 'cholesky' factors
   * M + λI, falling back to the pseudo-inverse when it is not numerically positive definite (cheaper
   * for a large N × N system; needs λ > 0 to be useful).
   */
  solver?: 'cholesky' | 'eigh';
}

/** What an ENGD step did, beyond {@link StepStats}. */
export interface EngdStepStats extends StepStats {
  /** The step size the line search chose (0 when refused). */
  lr: number;
  /** The system solved: P × P ('param') or N × N ('gram'). */
  form: 'gram' | 'param';
  /** λ of the accepted (or last) attempt. */
  damping: number;
  /** How the system was solved. */
  solver: 'cholesky' | 'eigh';
}

const ENGD_OPTIONS: OptionShape = {
  damping: 'number', lineSearch: { kinds: ['string'], expect: "'grid' or 'backtracking'" }, maxHalvings: 'number',
  form: { kinds: ['string'], expect: "'auto', 'param' or 'gram'" }, maxRetries: 'number', adaptive: 'boolean', initialDamping: 'number',
  solver: { kinds: ['string'], expect: "'cholesky' or 'eigh'" },
};

/** An ENGD optimizer: steps a net on a residual objective. */
export interface Engd {
  /** 'engd'. */
  readonly name: 'engd';
  /**
   * One ENGD iteration on `objective` at the net's parameters; they change only when `accepted`. The
   * optimizer is tied to the first net it steps; stepping another throws StateError until reset().
   */
  step(net: Net, objective: ResidualObjective): EngdStepStats;
  /** Back to the initial damping, and the explicit rebind: the next step may take another net. */
  reset(): void;
  /** Frees the optimizer's backend memory; a later step throws StateError. */
  dispose(): void;
}

class EnergyNaturalGradient implements Engd {
  readonly name = 'engd';
  private readonly bound = new NetBinding('engd()');
  /**
   * Backup, finiteness, rejection and retries (each with ten times the damping); holds the damping
   * the next step starts from, which {@link EnergyNaturalGradient.adapt} sets from the chosen η.
   */
  private readonly driver: DampedStep;

  constructor(private readonly settings: Required<EngdOptions>) {
    const initial = settings.adaptive ? Math.max(settings.initialDamping, settings.damping) : settings.damping;
    // No quadratic model is reported, so ρ and the Levenberg–Marquardt rule stay unused: only boost,
    // the retry count and the (open) clamp act. A damping of 0 is retried from 1e-10 (see propose).
    this.driver = new DampedStep({
      damping: initial, rejection: true, guard: undefined,
      adaptive: { ...LEVENBERG_MARQUARDT_DEFAULTS, boost: 10, min: 0, max: Infinity, maxRetries: settings.maxRetries },
    });
  }

  step(net: Net, objective: ResidualObjective): EngdStepStats {
    const start = performance.now();
    if (this.bound.bind(net)) this.driver.reset();
    const k = net.kernels, ws = this.bound.ws!, P = net.numParams, N = objective.residuals;
    const form = this.settings.form === 'auto' ? (P <= N ? 'param' : 'gram') : this.settings.form;
    const size = form === 'param' ? P : N;
    const r = ws.get('r', N), J = ws.get('J', N * P), M = ws.get('M', size * size), L = ws.get('L', size * size);
    const rhs = ws.get('rhs', size), x = ws.get('x', size), d = ws.get('d', P), gradient = ws.get('g', P);
    const theta0 = ws.get('theta0', P), eig = { w: ws.get('eig.w', size), V: ws.get('eig.V', size * size), t: ws.get('eig.t', size) };

    // 1. Curvature: the linearisation at θ, and M, b of the chosen form.
    const lossBefore = objective.linearize(net, r, J, P);
    k.gemm(1, 0, P, 1, N, 1, J, P, r, 1, 0, gradient, 1);
    if (form === 'param') {
      k.syrk(1, P, N, 1, J, P, 0, M, P);
      k.f64().copyWithin(rhs >> 3, gradient >> 3, (gradient >> 3) + P);
    } else {
      k.syrk(0, N, P, 1, J, P, 0, M, N);
      k.f64().copyWithin(rhs >> 3, r >> 3, (r >> 3) + N);
    }
    const h = k.f64();
    let gradSq = 0;
    for (let i = 0; i < P; i++) gradSq += h[(gradient >> 3) + i] ** 2;
    h.copyWithin(theta0 >> 3, net.paramsPtr >> 3, (net.paramsPtr >> 3) + P);

    // 2.–3. Solve (M + λI)x = b, d = x or Jᵀx, and pick η by the line search; the driver applies
    // θ ← θ − η·d, checks it, and retries with ten times λ when no η lowered the loss.
    let chosen = { lr: 0, loss: NaN };
    const stats = this.driver.run(net, ws, {
      label: 'the ENGD step',
      propose: (damping, attempt) => {
        const lambda = attempt > 0 && damping === 0 ? 1e-10 : damping;
        const solved = this.solve(k, size, M, L, lambda, rhs, x, eig);
        let best: { lr: number; loss: number } | undefined;
        if (solved.ok) {
          if (form === 'param') k.f64().copyWithin(d >> 3, x >> 3, (x >> 3) + P);
          else k.gemm(1, 0, P, 1, N, 1, J, P, x, 1, 0, d, 1);
          if (k.firstNonFinite(P, d) < 0) best = this.lineSearch(net, objective, theta0, d, lossBefore);
        }
        chosen = best ?? { lr: 0, loss: NaN };
        return {
          stats: { loss: lossBefore, gradNorm: Math.sqrt(gradSq), updateNorm: 0, accepted: false, timeMs: 0, lr: best?.lr ?? 0, form, damping: lambda, solver: solved.solver, retries: attempt },
          ok: best !== undefined, damping: lambda, fresh: true,
        };
      },
      apply: () => this.move(net, theta0, -chosen.lr, d),
      // The loss at exactly this θ was evaluated by the line search.
      trialLoss: () => chosen.loss,
    }, { start });

    // 4. Adapt λ from the step size the line search chose.
    this.driver.damping = this.adapt(stats);
    return stats;
  }

  /**
   * The next step's λ: η ≥ ¼ divides it by 10 (down to the floor `damping`), η ≤ 1/256 or a refused
   * step multiplies it by 10 (up to 1e6); fixed damping returns to the configured value.
   */
  private adapt(stats: EngdStepStats): number {
    const { adaptive, damping } = this.settings, lambda = stats.damping;
    if (!adaptive) return damping;
    if (!stats.accepted || stats.lr <= 1 / 256) return Math.min(1e6, lambda * 10);
    return stats.lr >= 0.25 ? Math.max(damping, lambda / 10) : lambda;
  }

  /**
   * (M + λI)x = b by Cholesky; else the eigendecomposition's pseudo-inverse (relative cut 1e-14).
   * `ok` false when the eigendecomposition failed (its QL iteration did not converge, or M was not
   * finite): then x is not a solution, and the attempt has no direction.
   */
  private solve(k: Kernels, size: number, M: Ptr, L: Ptr, lambda: number, b: Ptr, x: Ptr, eig: { w: Ptr; V: Ptr; t: Ptr }): { ok: boolean; solver: 'cholesky' | 'eigh' } {
    if (this.settings.solver === 'cholesky' && k.potrf(size, M, size, lambda, L, size) === 0) {
      k.f64().copyWithin(x >> 3, b >> 3, (b >> 3) + size);
      k.potrs(size, 1, L, size, x, 1);
      if (k.firstNonFinite(size, x) < 0) return { ok: true, solver: 'cholesky' };
    }
    const { w, V, t } = eig;
    if (k.syev(size, M, size, w, V, size) !== 0) return { ok: false, solver: 'eigh' };
    // x = V·diag(1/(μ + λ))·Vᵀb over the eigenvalues above the cut.
    k.gemm(1, 0, size, 1, size, 1, V, size, b, 1, 0, t, 1);
    const h = k.f64(), w0 = w >> 3, t0 = t >> 3;
    const top = Math.max(Math.abs(h[w0]), Math.abs(h[w0 + size - 1]));
    for (let i = 0; i < size; i++) {
      const mu = h[w0 + i] + lambda;
      h[t0 + i] = mu > 1e-14 * top ? h[t0 + i] / mu : 0;
    }
    k.gemm(0, 0, size, 1, size, 1, V, size, t, 1, 0, x, 1);
    return { ok: true, solver: 'eigh' };
  }

  /**
   * The paper's line search over θ₀ − η·d, η = 0.5^j: the η of least loss ('grid') or the first that
   * lowers it ('backtracking'), or undefined when none gives a finite loss below `before`. Leaves θ = θ₀.
   */
  private lineSearch(net: Net, objective: ResidualObjective, theta0: Ptr, d: Ptr, before: number): { lr: number; loss: number } | undefined {
    const { lineSearch, maxHalvings } = this.settings;
    let best: { lr: number; loss: number } | undefined;
    for (let j = 0; j <= maxHalvings; j++) {
      const lr = 0.5 ** j;
      this.move(net, theta0, -lr, d);
      let value: number;
      try {
        value = objective.loss(net);
      } catch {
        value = NaN;
      }
      if (Number.isFinite(value) && value < before && (!best || value < best.loss)) {
        best = { lr, loss: value };
        if (lineSearch === 'backtracking') break;
      }
    }
    this.move(net, theta0, 0, d);
    return best;
  }

  /** θ ← θ₀ + alpha·v (alpha = 0: θ₀ bit for bit). */
  private move(net: Net, theta0: Ptr, alpha: number, v: Ptr): void {
    const h = net.kernels.f64(), t = net.paramsPtr >> 3, o = theta0 >> 3, s = v >> 3;
    if (alpha === 0) h.copyWithin(t, o, o + net.numParams);
    else for (let i = 0; i < net.numParams; i++) h[t + i] = h[o + i] + alpha * h[s + i];
  }

  reset(): void {
    this.driver.reset();
    this.bound.release();
  }

  dispose(): void {
    this.bound.dispose();
    this.driver.reset();
  }
}

/**
 * Energy natural gradient descent for residual objectives such as PINN problems ({@link pde}): a
 * Gauss–Newton step in the smaller of its two forms, then the paper's grid line search.
 *
 * @param options damping λ, line search ('grid' or 'backtracking'), form, retries; see {@link EngdOptions}
 * @example
 * await init();
 * const net = mlp({ sizes: [2, 32, 1], activation: 'tanh', seed: 0 });
 * const problem = poisson({ dim: 2 });
 * const opt = engd();
 * for (let i = 0; i < 50; i++) opt.step(net, problem);
 */
export function engd(options: EngdOptions = {}): Engd {
  checkOptions('engd()', options, ENGD_OPTIONS);
  const { damping = 0, lineSearch = 'grid', maxHalvings = 30, form = 'auto', maxRetries = 5, solver = 'eigh', adaptive = true, initialDamping = 1e-3 } = options;
  checkNonNegative('initialDamping', initialDamping);
  checkOneOf('solver', solver, ['cholesky', 'eigh']);
  checkNonNegative('damping', damping);
  checkOneOf('lineSearch', lineSearch, ['grid', 'backtracking']);
  checkOneOf('form', form, ['auto', 'param', 'gram']);
  if (!Number.isSafeInteger(maxHalvings) || maxHalvings < 0 || maxHalvings > 60) {
    throw new ArgumentError('maxHalvings', `must be an integer in [0, 60], got ${maxHalvings}`);
  }
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) throw new ArgumentError('maxRetries', `must be a non-negative integer, got ${maxRetries}`);
  return new EnergyNaturalGradient({ damping, lineSearch, maxHalvings, form, maxRetries, solver, adaptive: !!adaptive, initialDamping });
}
