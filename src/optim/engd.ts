/**
 * Energy natural gradient descent (Müller & Zeinhofer, ICML 2023) on a {@link ResidualObjective}:
 *   d = (JᵀJ + λI)⁻¹ Jᵀr = Jᵀ(JJᵀ + λI)⁻¹ r,   θ ← θ − η·d,
 * with η from the paper's grid line search over 0.5^k, k = 0 … 30 (the η of least loss), or from
 * backtracking (the first η of the grid that lowers the loss). The system is solved in the smaller
 * of its two forms — P × P when the net has fewer weights than residuals, else N × N — by the
 * eigendecomposition's pseudo-inverse (the least-squares solve of the paper's code) or by Cholesky.
 * λ adapts from the step sizes the line search picks: large early (the Gauss–Newton model of a fresh
 * net overshoots by orders of magnitude), vanishing once full steps succeed. A step that lowers no
 * loss on the grid is undone and retried with ten times the damping (the divergence guard); after
 * `maxRetries` it is refused with θ bit-for-bit unchanged.
 */
import type { Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import { ArgumentError, StateError } from '../errors.js';
import type { Net } from '../nn/net.js';
import { checkNonNegative, checkOneOf, checkOptions, type OptionShape } from '../validate.js';
import { StepGuard } from './step-safety.js';
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
  /** One ENGD iteration on `objective` at the net's parameters; they change only when `accepted`. */
  step(net: Net, objective: ResidualObjective): EngdStepStats;
  /** Forgets the bound net (keeps nothing else across steps). */
  reset(): void;
  /** Frees the optimizer's backend memory; a later step throws StateError. */
  dispose(): void;
}

class EnergyNaturalGradient implements Engd {
  readonly name = 'engd';
  private ws: Workspace | undefined;
  private net: Net | undefined;
  private readonly guard = new StepGuard();
  private disposed = false;
  /** The adapted damping the next step starts from. */
  private adapted: number;

  constructor(private readonly settings: Required<EngdOptions>) {
    this.adapted = settings.adaptive ? Math.max(settings.initialDamping, settings.damping) : settings.damping;
  }

  step(net: Net, objective: ResidualObjective): EngdStepStats {
    if (this.disposed) throw new StateError('engd() used after dispose()');
    const start = performance.now();
    if (this.net !== net) {
      this.ws?.dispose();
      this.ws = new Workspace(net.kernels);
      this.net = net;
      this.adapted = this.settings.adaptive ? Math.max(this.settings.initialDamping, this.settings.damping) : this.settings.damping;
    }
    const k = net.kernels, ws = this.ws!, P = net.numParams, N = objective.residuals;
    const form = this.settings.form === 'auto' ? (P <= N ? 'param' : 'gram') : this.settings.form;
    const size = form === 'param' ? P : N;
    const r = ws.get('r', N), J = ws.get('J', N * P), M = ws.get('M', size * size), L = ws.get('L', size * size);
    const rhs = ws.get('rhs', size), x = ws.get('x', size), d = ws.get('d', P), gradient = ws.get('g', P);

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
    this.guard.save(net, ws);

    let lambda = this.adapted;
    for (let retries = 0; ; retries++) {
      // 2. Solve (M + λI)x = b, then d = x (parameter form) or Jᵀx (Gram form).
      const solver = this.solve(size, M, L, lambda, rhs, x, ws);
      if (form === 'param') k.f64().copyWithin(d >> 3, x >> 3, (x >> 3) + P);
      else k.gemm(1, 0, P, 1, N, 1, J, P, x, 1, 0, d, 1);
      const stats: EngdStepStats = {
        loss: lossBefore, gradNorm: Math.sqrt(gradSq), updateNorm: 0, accepted: false, timeMs: 0,
        lr: 0, form, damping: lambda, solver, retries,
      };
      // 3. Step: the line search over θ − η·d.
      const best = k.firstNonFinite(P, d) < 0 ? this.lineSearch(net, objective, d, lossBefore) : undefined;
      if (best) {
        this.guard.restore();
        this.axpy(net, -best.lr, d);
        stats.lr = best.lr;
        stats.lossAfter = best.loss;
        stats.accepted = true;
        stats.updateNorm = this.guard.moved();
        stats.timeMs = performance.now() - start;
        if (this.settings.adaptive) {
          if (best.lr >= 0.25) this.adapted = Math.max(this.settings.damping, lambda / 10);
          else if (best.lr <= 1 / 256) this.adapted = Math.min(1e6, lambda * 10);
          else this.adapted = lambda;
        }
        return stats;
      }
      // 4. The guard: no step size lowered the loss (or d was not finite): θ as it was, more damping.
      this.guard.restore();
      if (retries >= this.settings.maxRetries) {
        if (this.settings.adaptive) this.adapted = Math.min(1e6, lambda * 10);
        stats.retries = retries + 1;
        stats.lossAfter = lossBefore;
        stats.timeMs = performance.now() - start;
        return stats;
      }
      lambda = lambda > 0 ? lambda * 10 : 1e-10;
    }
  }

  /** (M + λI)x = b by Cholesky; else the eigendecomposition's pseudo-inverse (relative cut 1e-14). */
  private solve(size: number, M: Ptr, L: Ptr, lambda: number, b: Ptr, x: Ptr, ws: Workspace): 'cholesky' | 'eigh' {
    const k = this.net!.kernels;
    if (this.settings.solver === 'cholesky' && k.potrf(size, M, size, lambda, L, size) === 0) {
      k.f64().copyWithin(x >> 3, b >> 3, (b >> 3) + size);
      k.potrs(size, 1, L, size, x, 1);
      if (k.firstNonFinite(size, x) < 0) return 'cholesky';
    }
    const w = ws.get('eig.w', size), V = ws.get('eig.V', size * size), t = ws.get('eig.t', size);
    k.syev(size, M, size, w, V, size);
    // x = V·diag(1/(μ + λ))·Vᵀb over the eigenvalues above the cut.
    k.gemm(1, 0, size, 1, size, 1, V, size, b, 1, 0, t, 1);
    const h = k.f64(), w0 = w >> 3, t0 = t >> 3;
    const top = Math.max(Math.abs(h[w0]), Math.abs(h[w0 + size - 1]));
    for (let i = 0; i < size; i++) {
      const mu = h[w0 + i] + lambda;
      h[t0 + i] = mu > 1e-14 * top ? h[t0 + i] / mu : 0;
    }
    k.gemm(0, 0, size, 1, size, 1, V, size, t, 1, 0, x, 1);
    return 'eigh';
  }

  /** The chosen η and its loss, or undefined when no η of the grid gives a finite loss below `before`. */
  private lineSearch(net: Net, objective: ResidualObjective, d: Ptr, before: number): { lr: number; loss: number } | undefined {
    const { lineSearch, maxHalvings } = this.settings;
    let best: { lr: number; loss: number } | undefined;
    for (let j = 0; j <= maxHalvings; j++) {
      const lr = 0.5 ** j;
      this.guard.restore();
      this.axpy(net, -lr, d);
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
    return best;
  }

  /** θ ← θ + alpha·v. */
  private axpy(net: Net, alpha: number, v: Ptr): void {
    const h = net.kernels.f64(), t = net.paramsPtr >> 3, s = v >> 3;
    for (let i = 0; i < net.numParams; i++) h[t + i] += alpha * h[s + i];
  }

  reset(): void {
    this.ws?.dispose();
    this.ws = undefined;
    this.net = undefined;
  }

  dispose(): void {
    this.reset();
    this.disposed = true;
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
