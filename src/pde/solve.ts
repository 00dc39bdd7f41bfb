/**
 * The training loop of a PDE problem: iterations of ENGD, L-BFGS or a first-order method (Adam, GD)
 * until an iteration count or a wall-time budget, with the errors against the exact solution
 * measured on an evaluation set independent of the training points.
 */
import { ArgumentError, NonFiniteError } from '../errors.js';
import { Workspace } from '../backend/matrix.js';
import type { Net } from '../nn/net.js';
import { engd, type EngdOptions } from '../optim/engd.js';
import { lbfgs, type LbfgsOptions } from '../optim/lbfgs.js';
import { checkOneOf, checkOptions, got, type OptionShape } from '../validate.js';
import type { PdeProblem, SolutionErrors } from './problem.js';

/** One record of {@link solvePde}'s history. */
export interface PdeRecord {
  /** Iterations done. */
  iteration: number;
  /** The loss before the iteration's step. */
  loss: number;
  /** Time spent in the steps since the start, milliseconds by the `clock` option (wall time by default; evaluation of the errors excluded). */
  timeMs: number;
  /** Errors against the exact solution, on the iterations `evaluateEvery` picks (and the last). */
  errors?: SolutionErrors;
  /** Step size used (ENGD's line search, L-BFGS's α, the first-order η). */
  lr?: number;
  /** False when the step was refused (θ unchanged). */
  accepted: boolean;
}

/** Options of {@link solvePde}. */
export interface SolvePdeOptions {
  /** 'engd' (default), 'lbfgs', 'adam' or 'gd'. */
  optimizer?: 'engd' | 'lbfgs' | 'adam' | 'gd';
  /** Iterations (default 100 for engd, 1000 otherwise). */
  iterations?: number;
  /** Stop once this much time (ms, by `clock`) has passed in the steps (default none). */
  timeLimitMs?: number;
  /**
   * The clock of `timeLimitMs` and of the records' `timeMs`, in milliseconds (default
   * `performance.now`: wall time). On a shared machine a benchmark may pass the process's CPU time.
   */
  clock?: () => number;
  /** η of Adam (default 1e-3) and GD (default 1e-2). */
  lr?: number;
  /** ENGD's options. */
  engd?: EngdOptions;
  /** L-BFGS's options. */
  lbfgs?: LbfgsOptions;
  /** Measure the errors every this many iterations (default 10; 0: only at the end). */
  evaluateEvery?: number;
  /** Evaluation points (default 10 000) and seed of the evaluation set. */
  evaluation?: {
    /** Number of uniform points (default 10 000). */
    points?: number;
    /** Their seed (default 0x5eed, unlike any training sampler's default). */
    seed?: number;
  };
  /** Called after every iteration with its record. */
  onIteration?: (record: PdeRecord) => void;
}

const SOLVE_OPTIONS: OptionShape = {
  optimizer: 'string', iterations: 'number', timeLimitMs: 'number', clock: 'function', lr: 'number', engd: 'object', lbfgs: 'object',
  evaluateEvery: 'number', evaluation: 'object', onIteration: 'function',
};

/**
 * Trains `net` on `problem` and returns the history (one record per iteration; the last one always
 * carries the errors when the problem knows its solution).
 *
 * @param net a scalar-output MLP with smooth activations (tanh, sigmoid, softplus) and `problem.dim` inputs
 * @param problem the PDE problem
 * @param options optimizer, iterations, time budget, learning rate, evaluation; see {@link SolvePdeOptions}
 * @example
 * await init();
 * const net = mlp({ sizes: [2, 32, 1], activation: 'tanh', init: 'glorot', seed: 0 });
 * const history = solvePde(net, poisson({ dim: 2 }), { optimizer: 'engd', iterations: 100 });
 * history[history.length - 1].errors!.l2;   // ≈ 1e-6
 */
export function solvePde(net: Net, problem: PdeProblem, options: SolvePdeOptions = {}): PdeRecord[] {
  checkOptions('solvePde()', options, SOLVE_OPTIONS);
  const { optimizer = 'engd', timeLimitMs = Infinity, evaluateEvery = 10, evaluation = {}, onIteration, clock: now = () => performance.now() } = options;
  const clock = (): number => {
    const t = now();
    if (!Number.isFinite(t)) throw new ArgumentError('clock', `must return a finite number of milliseconds, returned ${got(t)}`);
    return t;
  };
  checkOneOf('optimizer', optimizer, ['engd', 'lbfgs', 'adam', 'gd']);
  const iterations = options.iterations ?? (optimizer === 'engd' ? 100 : 1000);
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new ArgumentError('iterations', `must be a positive integer, got ${got(iterations)}`);
  if (!(timeLimitMs > 0)) throw new ArgumentError('timeLimitMs', `must be > 0, got ${got(timeLimitMs)}`);
  const step = stepper(net, problem, optimizer, options);
  const known = problem.hasSolution;
  const history: PdeRecord[] = [];
  let elapsed = 0;
  try {
    for (let it = 1; it <= iterations; it++) {
      const t0 = clock();
      const { loss, lr, accepted } = step.run();
      elapsed += clock() - t0;
      const last = it === iterations || elapsed >= timeLimitMs;
      const record: PdeRecord = { iteration: it, loss, timeMs: elapsed, lr, accepted };
      if (known && (last || (evaluateEvery > 0 && it % evaluateEvery === 0))) record.errors = problem.errors(net, evaluation);
      history.push(record);
      onIteration?.(record);
      if (last) break;
    }
  } finally {
    step.dispose();
  }
  return history;
}

/** One iteration of the chosen method, and how to free it. */
function stepper(net: Net, problem: PdeProblem, name: string, options: SolvePdeOptions): { run(): { loss: number; lr?: number; accepted: boolean }; dispose(): void } {
  if (name === 'engd') {
    const opt = engd(options.engd);
    return { run: () => opt.step(net, problem), dispose: () => opt.dispose() };
  }
  if (name === 'lbfgs') {
    const opt = lbfgs(options.lbfgs);
    return { run: () => opt.step(net, problem), dispose: () => opt.dispose() };
  }
  // First-order: Adam (Kingma & Ba, β₁ 0.9, β₂ 0.999, ε 1e-8) or plain GD, on the problem's gradient.
  const adam = name === 'adam', lr = options.lr ?? (adam ? 1e-3 : 1e-2);
  if (!(lr > 0 && Number.isFinite(lr))) throw new ArgumentError('lr', `must be a finite number > 0, got ${got(lr)}`);
  const ws = new Workspace(net.kernels), P = net.numParams;
  const grad = ws.get('grad', P), m1 = ws.get('m', P), m2 = ws.get('v', P);
  net.kernels.f64().fill(0, m1 >> 3, (m1 >> 3) + P).fill(0, m2 >> 3, (m2 >> 3) + P);
  let t = 0;
  return {
    run: () => {
      const loss = problem.lossAndGradient(net, grad);
      const bad = net.kernels.firstNonFinite(P, grad);
      if (bad >= 0) throw NonFiniteError.step('gradient', `the ${name} step`, 'lower the learning rate');
      t++;
      const h = net.kernels.f64(), th = net.paramsPtr >> 3, g = grad >> 3, a = m1 >> 3, b = m2 >> 3;
      if (adam) {
        const c1 = 1 - 0.9 ** t, c2 = 1 - 0.999 ** t;
        for (let i = 0; i < P; i++) {
          const gi = h[g + i];
          h[a + i] = 0.9 * h[a + i] + 0.1 * gi;
          h[b + i] = 0.999 * h[b + i] + 0.001 * gi * gi;
          h[th + i] -= (lr * (h[a + i] / c1)) / (Math.sqrt(h[b + i] / c2) + 1e-8);
        }
      } else {
        for (let i = 0; i < P; i++) h[th + i] -= lr * h[g + i];
      }
      return { loss, lr, accepted: true };
    },
    dispose: () => ws.dispose(),
  };
}
