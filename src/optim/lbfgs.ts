/**
 * L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4 and 7.5) with the strong-Wolfe
 * line search of their Alg. 3.5/3.6 (cubic interpolation in the zoom), on any objective that gives
 * its value and gradient at the net's parameters: a {@link ResidualObjective} such as a PDE problem,
 * or a data batch and a loss (the batch {@link Optimizer} interface, so `train` and `fit` use it).
 * Its memory (the last m pairs s = Δθ, y = Δ∇L) lives in the backend's memory beside θ.
 */
import type { Ptr } from '../kernels/types.js';
import { ArgumentError } from '../errors.js';
import { NetBinding } from '../nn/binding.js';
import type { Batch, Net } from '../nn/net.js';
import { checkOptions, got, type OptionShape } from '../validate.js';
import { lossAndGradient } from './first-order.js';
import { prepareStep } from './prepare.js';
import { StepGuard } from './step-safety.js';
import type { Optimizer, StepOptions, StepStats } from './types.js';

/** What L-BFGS needs of an objective: L(θ) and ∇θL at the net's current parameters. */
export interface GradientObjective {
  /** L(θ) at the net's parameters, and ∇θL into `grad` (numParams values at a byte pointer). */
  lossAndGradient(net: Net, grad: Ptr): number;
}

/** Options of {@link lbfgs}. */
export interface LbfgsOptions {
  /** m: pairs kept (default 10). */
  memory?: number;
  /** Sufficient-decrease constant c₁ (default 1e-4). */
  c1?: number;
  /** Curvature constant c₂ of the strong Wolfe conditions (default 0.9; c₁ < c₂ < 1). */
  c2?: number;
  /** Objective evaluations one line search may take (default 25). */
  maxEvaluations?: number;
}

/** What an L-BFGS step did, beyond {@link StepStats}. */
export interface LbfgsStepStats extends StepStats {
  /** The accepted step length α along the quasi-Newton direction. */
  lr: number;
  /** Objective evaluations of the line search. */
  evaluations: number;
}

/**
 * An L-BFGS optimizer, bound to the first net it steps (stepping another throws StateError until
 * reset()). It is an {@link Optimizer}: `step(net, batch, { loss })` minimises the batch's loss (meant
 * for full batches: each step's pair is measured on its own batch, so with mini-batches the memory mixes
 * objectives and the loss wanders; nothing refuses them), and `step(net, objective)` any
 * {@link GradientObjective}, such as a PDE problem.
 */
export interface Lbfgs extends Optimizer {
  /** 'lbfgs'. */
  readonly name: 'lbfgs';
  /** One iteration (direction, line search, memory update) on a batch or an objective; θ changes only when `accepted`. */
  step(net: Net, target: Batch | GradientObjective, options?: StepOptions): LbfgsStepStats;
  /** Forgets the memory pairs; the explicit rebind (the next step may take another net). */
  reset(): void;
  /** Frees the optimizer's backend memory; a later step throws StateError. */
  dispose(): void;
}

function isObjective(target: Batch | GradientObjective): target is GradientObjective {
  return !!target && typeof (target as GradientObjective).lossAndGradient === 'function';
}

const LBFGS_OPTIONS: OptionShape = { memory: 'number', c1: 'number', c2: 'number', maxEvaluations: 'number' };

interface Trial { alpha: number; f: number; dphi: number }

class LimitedMemoryBfgs implements Lbfgs {
  readonly name = 'lbfgs';
  private readonly bound = new NetBinding('lbfgs()');
  private readonly guard = new StepGuard();
  private pairs = 0;
  private head = 0;
  private rho: number[];

  constructor(private readonly settings: Required<LbfgsOptions>) {
    this.rho = new Array<number>(settings.memory).fill(0);
  }

  step(net: Net, target: Batch | GradientObjective, options?: StepOptions): LbfgsStepStats {
    const start = performance.now();
    let objective: GradientObjective;
    if (isObjective(target)) {
      objective = target;
    } else {
      const loss = prepareStep(net, target, options);
      objective = { lossAndGradient: (n, grad) => lossAndGradient(n, this.bound.cap!, target, loss, grad) };
    }
    if (this.bound.bind(net)) this.forget();
    const { memory: m } = this.settings, P = net.numParams, ws = this.bound.ws!;
    const g = ws.get('g', P), gNew = ws.get('gNew', P), d = ws.get('d', P);
    const S = ws.get('S', m * P), Y = ws.get('Y', m * P);
    // The gradient carried from the last step is at this θ only while nobody moved θ in between.
    const f0 = objective.lossAndGradient(net, g);
    let h = net.kernels.f64();
    const gi = g >> 3, di = d >> 3;
    let gradSq = 0;
    for (let i = 0; i < P; i++) gradSq += h[gi + i] ** 2;

    // 1. Direction d = −H·g by the two-loop recursion.
    const alphas = new Array<number>(this.pairs);
    for (let i = 0; i < P; i++) h[di + i] = -h[gi + i];
    for (let k = 0; k < this.pairs; k++) {
      const j = (this.head - 1 - k + m) % m, s = (S >> 3) + j * P, y = (Y >> 3) + j * P;
      let a = 0;
      for (let i = 0; i < P; i++) a += h[s + i] * h[di + i];
      a *= this.rho[j];
      alphas[k] = a;
      for (let i = 0; i < P; i++) h[di + i] -= a * h[y + i];
    }
    if (this.pairs > 0) {
      const j = (this.head - 1 + m) % m, s = (S >> 3) + j * P, y = (Y >> 3) + j * P;
      let sy = 0, yy = 0;
      for (let i = 0; i < P; i++) { sy += h[s + i] * h[y + i]; yy += h[y + i] * h[y + i]; }
      const gamma = sy / yy;
      for (let i = 0; i < P; i++) h[di + i] *= gamma;
    }
    for (let k = this.pairs - 1; k >= 0; k--) {
      const j = (this.head - 1 - k + m) % m, s = (S >> 3) + j * P, y = (Y >> 3) + j * P;
      let b = 0;
      for (let i = 0; i < P; i++) b += h[y + i] * h[di + i];
      b *= this.rho[j];
      for (let i = 0; i < P; i++) h[di + i] += (alphas[k] - b) * h[s + i];
    }
    let dphi0 = 0;
    for (let i = 0; i < P; i++) dphi0 += h[gi + i] * h[di + i];
    if (!(dphi0 < 0)) {
      // Not a descent direction (a poor curvature pair): forget the memory, steepest descent.
      this.pairs = 0;
      dphi0 = 0;
      for (let i = 0; i < P; i++) { h[di + i] = -h[gi + i]; dphi0 -= h[gi + i] ** 2; }
    }

    // 2. The strong-Wolfe line search along d from θ₀.
    this.guard.save(net, ws);
    const first = this.pairs === 0 ? Math.min(1, 1 / Math.sqrt(gradSq)) : 1;
    let evaluations = 0;
    const phi = (alpha: number): Trial => {
      this.guard.restore();
      const hh = net.kernels.f64(), t = net.paramsPtr >> 3, dd = d >> 3;
      for (let i = 0; i < P; i++) hh[t + i] += alpha * hh[dd + i];
      evaluations++;
      let f: number;
      try {
        f = objective.lossAndGradient(net, gNew);
      } catch {
        return { alpha, f: Infinity, dphi: NaN };
      }
      const h2 = net.kernels.f64();
      let dp = 0;
      for (let i = 0; i < P; i++) dp += h2[(gNew >> 3) + i] * h2[dd + i];
      return { alpha, f, dphi: dp };
    };
    const found = this.strongWolfe(phi, f0, dphi0, first);
    const stats: LbfgsStepStats = {
      loss: f0, gradNorm: Math.sqrt(gradSq), updateNorm: 0, accepted: false, timeMs: 0, lr: 0, evaluations,
    };
    if (!found || !(found.f < f0)) {
      this.guard.restore();
      this.pairs = 0;
      stats.lossAfter = f0;
      stats.evaluations = evaluations;
      stats.timeMs = performance.now() - start;
      return stats;
    }
    // θ at the accepted α, its gradient in gNew (re-evaluated when the search ended elsewhere).
    const last = phi(found.alpha);
    stats.evaluations = evaluations;

    // 3. The new pair s = α·d, y = ∇L(θ₁) − ∇L(θ₀), kept when sᵀy > 0.
    h = net.kernels.f64();
    const j = this.head, s = (S >> 3) + j * P, y = (Y >> 3) + j * P;
    let sy = 0;
    for (let i = 0; i < P; i++) {
      h[s + i] = found.alpha * h[di + i];
      h[y + i] = h[(gNew >> 3) + i] - h[gi + i];
      sy += h[s + i] * h[y + i];
    }
    if (sy > 1e-300) {
      this.rho[j] = 1 / sy;
      this.head = (this.head + 1) % m;
      this.pairs = Math.min(this.pairs + 1, m);
    }
    stats.accepted = true;
    stats.lr = found.alpha;
    stats.lossAfter = last.f;
    stats.updateNorm = this.guard.moved();
    stats.timeMs = performance.now() - start;
    return stats;
  }

  /** Alg. 3.5: a step satisfying the strong Wolfe conditions, or the best sufficient-decrease one found. */
  private strongWolfe(phi: (a: number) => Trial, f0: number, dphi0: number, alpha0: number): Trial | undefined {
    const { c1, c2, maxEvaluations } = this.settings;
    let prev: Trial = { alpha: 0, f: f0, dphi: dphi0 };
    let alpha = alpha0;
    for (let i = 0; i < maxEvaluations; i++) {
      const cur = phi(alpha);
      if (!Number.isFinite(cur.f) || cur.f > f0 + c1 * alpha * dphi0 || (i > 0 && cur.f >= prev.f)) {
        return this.zoom(phi, prev, cur, f0, dphi0, maxEvaluations - i - 1);
      }
      if (Math.abs(cur.dphi) <= -c2 * dphi0) return cur;
      if (cur.dphi >= 0) return this.zoom(phi, cur, prev, f0, dphi0, maxEvaluations - i - 1);
      prev = cur;
      alpha *= 2;
    }
    return prev.alpha > 0 ? prev : undefined;
  }

  /** Alg. 3.6: shrinks [lo, hi] by safeguarded cubic interpolation until a strong-Wolfe step is found. */
  private zoom(phi: (a: number) => Trial, lo: Trial, hi: Trial, f0: number, dphi0: number, budget: number): Trial | undefined {
    const { c1, c2 } = this.settings;
    for (let j = 0; j < budget; j++) {
      const a = lo.alpha, b = hi.alpha, width = Math.abs(b - a);
      let alpha = (a + b) / 2;
      if (Number.isFinite(hi.f) && Number.isFinite(hi.dphi)) {
        const d1 = lo.dphi + hi.dphi - 3 * (lo.f - hi.f) / (a - b);
        const disc = d1 * d1 - lo.dphi * hi.dphi;
        if (disc >= 0) {
          const d2 = Math.sign(b - a) * Math.sqrt(disc);
          const c = b - (b - a) * (hi.dphi + d2 - d1) / (hi.dphi - lo.dphi + 2 * d2);
          const low = Math.min(a, b) + 0.1 * width, high = Math.max(a, b) - 0.1 * width;
          if (Number.isFinite(c) && c >= low && c <= high) alpha = c;
        }
      }
      if (width < 1e-16 * Math.max(1, Math.abs(a))) break;
      const cur = phi(alpha);
      if (!Number.isFinite(cur.f) || cur.f > f0 + c1 * alpha * dphi0 || cur.f >= lo.f) {
        hi = cur;
      } else {
        if (Math.abs(cur.dphi) <= -c2 * dphi0) return cur;
        if (cur.dphi * (hi.alpha - lo.alpha) >= 0) hi = lo;
        lo = cur;
      }
    }
    return lo.alpha > 0 ? lo : undefined;
  }

  reset(): void {
    this.forget();
    this.bound.release();
  }

  dispose(): void {
    this.bound.dispose();
    this.forget();
  }

  /** Forgets the memory pairs. */
  private forget(): void {
    this.pairs = 0;
    this.head = 0;
    this.rho.fill(0);
  }
}

/**
 * L-BFGS with a strong-Wolfe line search: the quasi-Newton baseline for residual objectives such as
 * PDE problems ({@link pde}), and a full-batch optimizer for ordinary training (`train`, `fit`; it has
 * no learning rate, so no `lr` schedule).
 *
 * @param options memory m, Wolfe constants c₁ and c₂, evaluations per line search; see {@link LbfgsOptions}
 * @example
 * await init();
 * const net = mlp({ sizes: [2, 32, 1], activation: 'tanh', seed: 0 });
 * const problem = poisson({ dim: 2 });
 * const opt = lbfgs();
 * for (let i = 0; i < 200; i++) opt.step(net, problem);
 * // or on data: train(net2, { X, Y, n }, lbfgs(), { steps: 100 });
 */
export function lbfgs(options: LbfgsOptions = {}): Lbfgs {
  checkOptions('lbfgs()', options, LBFGS_OPTIONS);
  const { memory = 10, c1 = 1e-4, c2 = 0.9, maxEvaluations = 25 } = options;
  if (!Number.isSafeInteger(memory) || memory < 1) throw new ArgumentError('memory', `must be a positive integer, got ${got(memory)}`);
  if (!Number.isSafeInteger(maxEvaluations) || maxEvaluations < 1) throw new ArgumentError('maxEvaluations', `must be a positive integer, got ${got(maxEvaluations)}`);
  if (!(c1 > 0 && c1 < c2 && c2 < 1)) throw new ArgumentError('c1', `the Wolfe constants need 0 < c1 < c2 < 1, got c1 = ${got(c1)}, c2 = ${got(c2)}`);
  return new LimitedMemoryBfgs({ memory, c1, c2, maxEvaluations });
}
