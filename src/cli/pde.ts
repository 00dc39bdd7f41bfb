/// <reference types="node" />
/**
 * `natgrad pde <problem>`: trains a physics-informed MLP on one of the built-in PDE problems
 * (Poisson in 2 or 5 dimensions, heat, −Δu + u³ = f) with ENGD, Adam, L-BFGS or GD, prints the
 * loss and the relative L² and H¹ errors on an evaluation set independent of the training points,
 * and writes the net (loadable with `loadNet`; its `predict` gives u).
 */
import { init, mlp, type Net } from '../index.js';
import { heat, nonlinearPoisson, poisson, solvePde, type PdeProblem, type PdeRecord } from '../advanced.js';
import { backendFlag, choice, CliError, list, num, parse, str } from './args.js';
import { fmt, libraryError } from './common.js';
import { writeAtomic } from './output.js';

export const PDE_HELP = `Usage: natgrad pde <problem> [options]

Trains a tanh MLP on a PDE problem (float64) and reports its errors against the exact solution.

Problems:
  poisson              −Δu = f on the unit cube; --dim 2 (default: u* = sin πx sin πy, 30 × 30 interior
                       grid, 30 boundary points per side) or --dim 5 (u* = Σ sin(πx_i/2), 4000 + 500 random points)
  heat                 u_t = u_xx/4 on (x, t) ∈ [0, 1]², u(x, 0) = sin πx, u = 0 at x = 0, 1
  nonlinear            −Δu + u³ = f on the unit square, u* = sin πx sin πy

  --dim d              dimension of poisson: 2 (default) or 5
  --optimizer o        engd (default), adam, lbfgs or gd
  --iterations N       iterations (default: engd 100, 150 for nonlinear, 800 for heat; lbfgs 1000;
                       adam and gd 10000)
  --time-limit s       stop after this many seconds of training
  --lr x               learning rate of adam (default 1e-3) and gd (default 1e-2)
  --hidden 32          hidden layer widths (default 32; 64 for poisson --dim 5)
  --seed N             seed of the weights and of the random points (default 0)
  --every N            print a line every N iterations (default 10)
  --eval-points N      evaluation points, uniform in the domain (default 10000)
  --out model.json     write the trained net (loadNet(...).predict(x) gives u)
  --backend b          auto (default), wasm or js
`;

const OPTIONS = {
  dim: { type: 'string' }, optimizer: { type: 'string' }, iterations: { type: 'string' }, 'time-limit': { type: 'string' },
  lr: { type: 'string' }, hidden: { type: 'string' }, seed: { type: 'string' }, every: { type: 'string' },
  'eval-points': { type: 'string' }, out: { type: 'string' },
} as const;

const PROBLEMS = ['poisson', 'heat', 'nonlinear'] as const;

/**
 * ENGD's settings per problem (measured by the PDE benchmark of the repository): heat keeps λ ≥ 1e-8
 * (with λ → 0 its steps stall at η ≈ 1/128 from the first dozens of iterations) and needs more
 * iterations — its error still falls slowly after 300 (median of three seeds 1.2e-4 there, 3.5e-5
 * after 800, every seed ≤ 1e-4 from 650; a [2, 64, 1] net was worse at 300); −Δu + u³ = f needs half
 * again as many as Poisson.
 */
const ENGD_DEFAULTS: Record<typeof PROBLEMS[number], { iterations: number; damping: number }> = {
  poisson: { iterations: 100, damping: 0 },
  nonlinear: { iterations: 150, damping: 0 },
  heat: { iterations: 800, damping: 1e-8 },
};
const OPTIMIZERS = ['engd', 'adam', 'lbfgs', 'gd'] as const;

export async function pdeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('pde', argv, OPTIONS, { min: 1, max: 1, usage: 'pde <poisson|heat|nonlinear> [options]' });
  if (values.help) { process.stdout.write(PDE_HELP); return 0; }
  const name = positionals[0] as typeof PROBLEMS[number];
  if (!PROBLEMS.includes(name)) throw new CliError(`pde: unknown problem "${positionals[0]}"; the problems are ${PROBLEMS.join(', ')}`);
  const dim = num(values, 'dim', 2, { int: true, min: 1 })!;
  if (values.dim !== undefined && name !== 'poisson') throw new CliError('--dim applies to poisson only');
  if (dim !== 2 && dim !== 5) throw new CliError(`--dim must be 2 or 5, got ${dim}`);
  const optimizer = choice(values, 'optimizer', OPTIMIZERS, 'engd');
  const iterations = num(values, 'iterations', optimizer === 'engd' ? ENGD_DEFAULTS[name].iterations : optimizer === 'lbfgs' ? 1000 : 10000, { int: true, min: 1 })!;
  const timeLimit = num(values, 'time-limit', undefined, { min: 0, exclusiveMin: true });
  const lr = num(values, 'lr', undefined, { min: 0, exclusiveMin: true });
  const seed = num(values, 'seed', 0, { int: true, min: 0 })!;
  const every = num(values, 'every', 10, { int: true, min: 1 })!;
  const evalPoints = num(values, 'eval-points', 10000, { int: true, min: 1, max: 1 << 20 })!;
  const hidden = list(values, 'hidden', [name === 'poisson' && dim === 5 ? 64 : 32], (s) => {
    const n = Number(s);
    return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
  });
  const out = str(values, 'out');
  await init({ backend: backendFlag(values) });

  let problem: PdeProblem | undefined, net: Net | undefined;
  try {
    problem = name === 'poisson' ? poisson({ dim, seed }) : name === 'heat' ? heat({ seed }) : nonlinearPoisson({ seed });
    net = mlp({ sizes: [problem.dim, ...hidden, 1], activation: 'tanh', init: 'glorot', seed });
    const say = (s: string) => process.stdout.write(`${s}\n`);
    say(`natgrad pde ${name}${name === 'poisson' ? ` --dim ${dim}` : ''}: [${[problem.dim, ...hidden, 1].join(', ')}] tanh net (${net.numParams} parameters), `
      + `${problem.sizes.map((s) => `${s.points} ${s.name}`).join(' + ')} points, ${optimizer}, seed ${seed}`);
    say('iteration        loss    rel. L2    rel. H1   time (s)');
    const row = (r: PdeRecord) => `${String(r.iteration).padStart(9)} ${fmt(r.loss).padStart(11)} ${fmt(r.errors?.l2).padStart(10)} `
      + `${fmt(r.errors?.h1).padStart(10)} ${(r.timeMs / 1000).toFixed(2).padStart(10)}`;
    const history = solvePde(net, problem, {
      optimizer, iterations, lr, engd: { damping: ENGD_DEFAULTS[name].damping }, timeLimitMs: timeLimit === undefined ? undefined : timeLimit * 1000,
      evaluateEvery: every, evaluation: { points: evalPoints },
      onIteration: (r) => { if (r.errors) say(row(r)); },
    });
    const last = history[history.length - 1];
    say(`done: ${last.iteration} iterations in ${(last.timeMs / 1000).toFixed(2)} s; loss ${fmt(last.loss)}, `
      + `relative L2 error ${fmt(last.errors!.l2)}, H1 error ${fmt(last.errors!.h1)} on ${last.errors!.points} evaluation points`);
    if (out) {
      writeAtomic(out, JSON.stringify(net));
      say(`wrote ${out}`);
    }
  } catch (e) {
    libraryError(e);
  } finally {
    net?.dispose();
    problem?.dispose();
  }
  return 0;
}
