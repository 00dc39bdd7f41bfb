/**
 * PDE problems as residual objectives (physics-informed least squares): on interior points the
 * residual of a second-order operator with a source,
 *   r(x) = Σ_c a_c ∂²u/∂x_c² + Σ_c b_c ∂u/∂x_c + c·u + N(u) − f(x),
 * on boundary and initial points u − g(x), each term weighted, L = Σ_terms w/(2n)·Σ r². A nonlinear
 * N enters the Jacobian by Gauss–Newton linearisation (∂r/∂θ with N′(u)). Values, derivatives and
 * Jacobian rows come from the derivative-carrying pass (taylor.ts) over the kernels.
 */
import type { Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import { ArgumentError, NonFiniteError, ShapeError, StateError } from '../errors.js';
import type { Net } from '../nn/net.js';
import type { ResidualObjective } from '../optim/objective.js';
import { checkLoss, got } from '../validate.js';
import { checkBox, sampleFaces, sampleInterior, type Box, type Points, type Sampler } from './sample.js';
import { TaylorPass, type Channels } from './taylor.js';

/** A function of a point x (d coordinates). */
export type PointFunction = (x: Float64Array) => number;

/** The interior operator's coefficients: r = Σ a_c ∂²_c u + Σ b_c ∂_c u + c·u + N(u) − f. */
export interface PdeEquation {
  /** a: one coefficient on every second derivative of the spatial coordinates (−1: −Δu). */
  laplacian?: number;
  /** a_c per coordinate, instead of `laplacian` (e.g. [−κ, 0] for −κ·u_xx in (x, t)). */
  diffusion?: readonly number[];
  /** b_c: coefficients of the first derivatives (e.g. [0, 1] for u_t in (x, t)). */
  gradient?: readonly number[];
  /** c: coefficient of u. */
  value?: number;
  /** N(u) and its derivative N′(u): a pointwise nonlinear term, linearised Gauss–Newton style. */
  nonlinear?: {
    /** N(u). */
    f: (u: number) => number;
    /** N′(u). */
    df: (u: number) => number;
  };
}

/** A boundary or initial condition u = g on a set of points. */
export interface PdeCondition {
  /** g(x). */
  value: PointFunction;
  /** Where (default a grid of 30 points per face coordinate). */
  points?: Sampler;
  /** The term's weight w (default 1). */
  weight?: number;
}

/** Options of {@link pde}. */
export interface PdeOptions {
  /** The box Ω. */
  domain: Box;
  /** The last coordinate is time: boundary conditions on the spatial faces, an initial condition at its lower end. */
  time?: boolean;
  /** The operator. */
  equation: PdeEquation;
  /** f(x) (default 0). */
  source?: PointFunction;
  /** Interior collocation points. */
  interior: Sampler;
  /** The interior term's weight (default 1). */
  interiorWeight?: number;
  /** u = g on ∂Ω (its spatial faces when `time`). */
  boundary?: PdeCondition;
  /** u = g at the lower end of time (needs `time`). */
  initial?: PdeCondition;
  /** The exact solution, when known: {@link PdeProblem.errors} measures against it. */
  solution?: PointFunction;
  /** Its gradient (d values), for the H¹ error. */
  solutionGradient?: (x: Float64Array) => ArrayLike<number>;
}

/** A residual term: points, targets, weight and what the pass must carry. */
interface Term {
  readonly name: 'interior' | 'boundary' | 'initial';
  readonly points: Points;
  /** f(x_i) (interior) or g(x_i). */
  readonly target: Float64Array;
  /** √(w/n): the row scale. */
  readonly scale: number;
  readonly channels: Channels;
}

/** Errors of a net against a problem's exact solution on an evaluation set. */
export interface SolutionErrors {
  /** ‖u − u*‖ / ‖u*‖ over the evaluation points. */
  l2: number;
  /** (‖u − u*‖² + ‖∇u − ∇u*‖²)^½ / (‖u*‖² + ‖∇u*‖²)^½, when the problem knows ∇u*. */
  h1?: number;
  /** Number of evaluation points. */
  points: number;
}

/**
 * A PDE problem: a {@link ResidualObjective} for `engd`, `lbfgs` and first-order loops. Make it with
 * {@link pde} or a built-in ({@link poisson}, {@link heat}, {@link nonlinearPoisson}).
 *
 * @example
 * await init();
 * const problem = poisson({ dim: 2 });
 * const net = mlp({ sizes: [2, 32, 1], activation: 'tanh', init: 'glorot', seed: 0 });
 * solvePde(net, problem, { iterations: 100 });
 * problem.errors(net).l2;   // ≈ 2e-7
 * problem.dispose();
 */
export class PdeProblem implements ResidualObjective {
  /** d: coordinates of a point (time included). */
  readonly dim: number;
  /** N: the number of residuals (all terms' points). */
  readonly residuals: number;
  /** The box. */
  readonly domain: Box;
  private readonly terms: Term[];
  private readonly eq: Required<Pick<PdeEquation, 'value'>> & { gradient: number[]; nonlinear?: PdeEquation['nonlinear'] };
  private net: Net | undefined;
  private passes: TaylorPass[] = [];
  private ws: Workspace | undefined;
  /** The residuals of the last linearisation, before they are copied to the caller's buffer. */
  private rows = new Float64Array(0);

  constructor(private readonly options: PdeOptions) {
    const { domain, equation, interior, time = false } = options;
    checkBox('domain', domain);
    const d = domain.lower.length;
    this.dim = d;
    this.domain = { lower: [...domain.lower], upper: [...domain.upper] };
    if (time && d < 2) throw new ArgumentError('time', 'a time-dependent problem needs at least one space coordinate besides time');
    if (!equation || typeof equation !== 'object') throw new ArgumentError('equation', 'needs the operator, e.g. { laplacian: -1 }');
    const spatial = time ? d - 1 : d;
    const vec = (name: string, v: readonly number[] | undefined): number[] => {
      if (v === undefined) return new Array<number>(d).fill(0);
      if (v.length !== d || !v.every(Number.isFinite)) throw new ShapeError(`equation.${name}`, `needs ${d} finite coefficients (one per coordinate), got ${got(v)}`);
      return [...v];
    };
    if (equation.laplacian !== undefined && equation.diffusion !== undefined) throw new ArgumentError('equation', 'give laplacian or diffusion, not both');
    if (equation.laplacian !== undefined && !Number.isFinite(equation.laplacian)) throw new ArgumentError('equation.laplacian', `must be finite, got ${got(equation.laplacian)}`);
    const diffusion = equation.laplacian !== undefined
      ? Array.from({ length: d }, (_, c) => (c < spatial ? equation.laplacian! : 0))
      : vec('diffusion', equation.diffusion);
    const gradient = vec('gradient', equation.gradient);
    const value = equation.value ?? 0;
    if (!Number.isFinite(value)) throw new ArgumentError('equation.value', `must be finite, got ${got(value)}`);
    if (equation.nonlinear && (typeof equation.nonlinear.f !== 'function' || typeof equation.nonlinear.df !== 'function')) {
      throw new ArgumentError('equation.nonlinear', 'needs { f(u), df(u) }');
    }
    this.eq = { value, gradient, nonlinear: equation.nonlinear };
    const second = diffusion.some((a) => a !== 0), first = gradient.some((b) => b !== 0);
    const weight = (name: string, w: number | undefined) => {
      if (w === undefined) return 1;
      if (!(Number.isFinite(w) && w > 0)) throw new ArgumentError(name, `must be a finite number > 0, got ${got(w)}`);
      return w;
    };

    const terms: Term[] = [];
    const source = options.source ?? (() => 0);
    const inner = sampleInterior('interior', domain, interior);
    terms.push({
      name: 'interior', points: inner, target: evaluateAt('source', source, inner), scale: Math.sqrt(weight('interiorWeight', options.interiorWeight) / inner.n),
      channels: second ? { gradient: true, laplacian: diffusion } : { gradient: first },
    });
    const spaceFaces = Array.from({ length: spatial }, (_, c) => c);
    if (options.boundary) {
      const b = options.boundary;
      const pts = sampleFaces('boundary.points', domain, spaceFaces, [0, 1], b.points ?? { grid: 30 });
      terms.push({ name: 'boundary', points: pts, target: evaluateAt('boundary.value', b.value, pts), scale: Math.sqrt(weight('boundary.weight', b.weight) / pts.n), channels: { gradient: false } });
    }
    if (options.initial) {
      if (!time) throw new ArgumentError('initial', 'an initial condition needs time: true (the last coordinate is time)');
      const b = options.initial;
      const pts = sampleFaces('initial.points', domain, [d - 1], [0], b.points ?? { grid: 30 });
      terms.push({ name: 'initial', points: pts, target: evaluateAt('initial.value', b.value, pts), scale: Math.sqrt(weight('initial.weight', b.weight) / pts.n), channels: { gradient: false } });
    }
    this.terms = terms;
    this.residuals = terms.reduce((s, t) => s + t.points.n, 0);
    this.rows = new Float64Array(this.residuals);
  }

  /** Whether the problem knows its exact solution (then {@link PdeProblem.errors} measures against it). */
  get hasSolution(): boolean {
    return typeof this.options.solution === 'function';
  }

  /** The terms' names and point counts. */
  get sizes(): {
    /** 'interior', 'boundary' or 'initial'. */
    name: string;
    /** Its number of points. */
    points: number;
  }[] {
    return this.terms.map((t) => ({ name: t.name, points: t.points.n }));
  }

  /** The points of a term (a copy, n × dim). */
  points(name: 'interior' | 'boundary' | 'initial'): Float64Array {
    const t = this.terms.find((term) => term.name === name);
    return t ? t.points.X.slice() : new Float64Array(0);
  }

  loss(net: Net): number {
    let total = 0;
    this.sweep(net, (r) => { total += 0.5 * r * r; });
    checkLoss('loss', total);
    return total;
  }

  lossAndGradient(net: Net, grad: Ptr): number {
    let total = 0, first = true;
    this.sweep(net, (r) => { total += 0.5 * r * r; return r; }, (pass) => {
      pass.gradient(grad, first ? 0 : 1);
      first = false;
    });
    checkLoss('loss', total);
    return total;
  }

  linearize(net: Net, r: Ptr, J: Ptr, ldj: number): number {
    let total = 0, row = 0, next = 0;
    const rows = this.rows;
    this.sweep(net, (ri) => { total += 0.5 * ri * ri; rows[next++] = ri; return 1; }, (pass, term) => {
      pass.jacobianRows(J + 8 * row * ldj, ldj);
      row += term.points.n;
    });
    net.kernels.f64().set(rows, r >> 3);
    checkLoss('loss', total);
    return total;
  }

  /**
   * Relative L² and H¹ errors of the net against `solution` on `points` uniform points of the box
   * drawn from `seed` (independent of the training points; defaults 10 000 and 0x5eed).
   */
  errors(net: Net, options: { points?: number; seed?: number } = {}): SolutionErrors {
    const { solution, solutionGradient } = this.options;
    if (!solution) throw new ArgumentError('solution', 'the problem has no exact solution to measure against');
    this.bind(net);
    const { points = 10000, seed = 0x5eed } = options;
    const set = sampleInterior('points', this.domain, { random: points, seed });
    const d = this.dim, withGrad = !!solutionGradient;
    const pass = new TaylorPass(net, { gradient: withGrad });
    try {
      const out = pass.forward(set.X, set.n), S = pass.S;
      const h = net.kernels.f64().slice(out >> 3, (out >> 3) + set.n * S);
      let e0 = 0, n0 = 0, e1 = 0, n1 = 0;
      for (let i = 0; i < set.n; i++) {
        const x = set.X.subarray(i * d, i * d + d);
        const u = solution(x), diff = h[i * S] - u;
        e0 += diff * diff;
        n0 += u * u;
        if (solutionGradient) {
          const gu = solutionGradient(x);
          for (let c = 0; c < d; c++) {
            const dg = h[i * S + 1 + c] - gu[c];
            e1 += dg * dg;
            n1 += gu[c] * gu[c];
          }
        }
      }
      return { l2: Math.sqrt(e0 / n0), ...(withGrad ? { h1: Math.sqrt((e0 + e1) / (n0 + n1)) } : {}), points: set.n };
    } finally {
      pass.dispose();
    }
  }

  dispose(): void {
    for (const p of this.passes) p.dispose();
    this.passes = [];
    this.ws?.dispose();
    this.ws = undefined;
    this.net = undefined;
  }

  private bind(net: Net): void {
    // The passes read the layers' blocks directly: a disposed net's memory may already hold another net's.
    if (net.disposed) throw new StateError('Net used after dispose()');
    if (net.inputDim !== this.dim) {
      throw new ShapeError('net', `has ${net.inputDim} inputs but the problem's points have ${this.dim} coordinates`);
    }
    if (this.net === net) return;
    this.dispose();
    this.ws = new Workspace(net.kernels);
    this.passes = this.terms.map((t) => new TaylorPass(net, t.channels));
    this.net = net;
  }

  /**
   * For each term: the forward pass, each point's scaled residual r passed to `visit` (which returns a
   * factor s_i, or nothing for no backward), and with `after`, seeds s_i·∂r_i/∂(channels) back-propagated.
   */
  private sweep(net: Net, visit: (r: number) => number | void,
    after?: (pass: TaylorPass, term: Term) => void): void {
    this.bind(net);
    const { value, gradient, nonlinear } = this.eq;
    for (let t = 0; t < this.terms.length; t++) {
      const term = this.terms[t], pass = this.passes[t], n = term.points.n, S = pass.S, g = pass.g;
      const out = pass.forward(term.points.X, n) >> 3;
      const seeds = after ? this.ws!.get(`seeds${t}`, n * S) >> 3 : 0;
      const h = net.kernels.f64(), sc = term.scale;
      for (let i = 0; i < n; i++) {
        const o = out + i * S, u = h[o];
        let r: number, du = 1;
        if (term.name === 'interior') {
          r = value * u - term.target[i];
          for (let c = 0; c < g; c++) r += gradient[c] * h[o + 1 + c];
          if (pass.lap) r += h[o + g + 1];
          du = value;
          if (nonlinear) {
            r += nonlinear.f(u);
            du += nonlinear.df(u);
          }
        } else {
          r = u - term.target[i];
        }
        r *= sc;
        const factor = visit(r);
        if (after) {
          const f = (factor ?? 0) * sc, s = seeds + i * S;
          h[s] = f * du;
          for (let c = 0; c < g; c++) h[s + 1 + c] = f * gradient[c];
          if (pass.lap) h[s + g + 1] = f;
        }
      }
      if (after) {
        pass.backward(seeds << 3);
        after(pass, term);
      }
    }
  }
}

/** f at every point, checked finite: NonFiniteError naming the function and the point otherwise. */
function evaluateAt(name: string, f: PointFunction, pts: Points): Float64Array {
  if (typeof f !== 'function') throw new ArgumentError(name, `must be a function of the point, got ${got(f)}`);
  const d = pts.X.length / Math.max(pts.n, 1), out = new Float64Array(pts.n);
  for (let i = 0; i < pts.n; i++) {
    const x = pts.X.subarray(i * d, i * d + d);
    const v = f(x.slice());
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      const e = new NonFiniteError(name, i, Number(v));
      e.message = `${name}: returned ${String(v)} at point ${i}, x = (${Array.from(x).join(', ')}); it must be finite on every point`;
      throw e;
    }
    out[i] = v;
  }
  return out;
}

/**
 * A PDE problem from its operator, source, domain, conditions and samplers: a residual objective
 * that `engd`, `lbfgs` and the first-order loop of {@link solvePde} train a scalar-output MLP on.
 *
 * @param options domain box, equation coefficients, source, interior sampler, boundary/initial conditions, exact solution
 * @example
 * const problem = pde({
 *   domain: { lower: [0, 0], upper: [1, 1] },
 *   equation: { laplacian: -1 },
 *   source: ([x, y]) => 2 * Math.PI ** 2 * Math.sin(Math.PI * x) * Math.sin(Math.PI * y),
 *   interior: { grid: 30 },
 *   boundary: { value: () => 0, points: { grid: 30 } },
 * });
 */
export function pde(options: PdeOptions): PdeProblem {
  if (!options || typeof options !== 'object') throw new ArgumentError('options', 'pde() needs { domain, equation, interior, … }');
  return new PdeProblem(options);
}
