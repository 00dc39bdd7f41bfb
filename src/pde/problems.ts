/**
 * The benchmark problems of Müller & Zeinhofer (ICML 2023), with their exact solutions:
 * Poisson in 2 and 5 dimensions, the heat equation in one space dimension, and a nonlinear
 * Poisson problem −Δu + u³ = f.
 */
import { ArgumentError } from '../errors.js';
import { got } from '../validate.js';
import { pde, type PdeProblem } from './problem.js';
import type { Sampler } from './sample.js';

const { sin, cos, exp, PI } = Math;

/** Options of the built-in problems: the samplers (defaults as in the paper) and their seed. */
export interface BuiltinProblemOptions {
  /** Interior points (default: the problem's). */
  interior?: Sampler;
  /** Boundary points (default: the problem's). */
  boundary?: Sampler;
  /** Seed of the random samplers (default 0). */
  seed?: number;
}

/**
 * −Δu = f on the unit cube. dim 2: u* = sin πx·sin πy, f = 2π²u*, a 30 × 30 interior grid and 30
 * boundary points per side (the paper's); dim 5: u* = Σ sin(πx_c/2), f = (π²/4)·u*, 4000 interior and
 * 500 boundary points drawn uniformly. Other dimensions use u* = Π sin πx_c and random points.
 *
 * @param options dimension, samplers and seed
 * @example
 * const problem = poisson({ dim: 2 });
 * problem.residuals; // 900 + 120
 */
export function poisson(options: BuiltinProblemOptions & { dim?: number } = {}): PdeProblem {
  const { dim = 2, seed = 0 } = options;
  if (!Number.isSafeInteger(dim) || dim < 1) throw new ArgumentError('dim', `must be a positive integer, got ${got(dim)}`);
  const cube = { lower: new Array<number>(dim).fill(0), upper: new Array<number>(dim).fill(1) };
  if (dim === 5) {
    return pde({
      domain: cube,
      equation: { laplacian: -1 },
      source: (x) => (PI * PI / 4) * sum(x, (t) => sin(PI * t / 2)),
      interior: options.interior ?? { random: 4000, seed },
      boundary: { value: (x) => sum(x, (t) => sin(PI * t / 2)), points: options.boundary ?? { random: 500, seed: seed + 1 } },
      solution: (x) => sum(x, (t) => sin(PI * t / 2)),
      solutionGradient: (x) => Array.from(x, (t) => (PI / 2) * cos(PI * t / 2)),
    });
  }
  const product = (x: Float64Array) => prod(x, (t) => sin(PI * t));
  const twoD = dim === 2;
  return pde({
    domain: cube,
    equation: { laplacian: -1 },
    source: (x) => dim * PI * PI * product(x),
    interior: options.interior ?? (twoD ? { grid: 30 } : { random: 1000 * dim, seed }),
    boundary: { value: () => 0, points: options.boundary ?? (twoD ? { grid: 30 } : { random: 100 * dim, seed: seed + 1 }) },
    solution: product,
    solutionGradient: (x) => Array.from(x, (t, c) => PI * cos(PI * t) * prod(x, (s, e) => (e === c ? 1 : sin(PI * s)))),
  });
}

/**
 * The heat equation u_t = κ·u_xx (κ = 1/4) on (x, t) ∈ [0, 1]², u = 0 at x ∈ {0, 1}, u(x, 0) = sin πx;
 * u* = e^{−κπ²t}·sin πx. Default points: 30 × 30 interior grid, 30 per boundary side and initial line.
 *
 * @param options samplers and seed
 * @example
 * const problem = heat();
 */
export function heat(options: BuiltinProblemOptions = {}): PdeProblem {
  const kappa = 0.25;
  const u = (x: Float64Array) => exp(-kappa * PI * PI * x[1]) * sin(PI * x[0]);
  return pde({
    domain: { lower: [0, 0], upper: [1, 1] },
    time: true,
    equation: { diffusion: [-kappa, 0], gradient: [0, 1] },
    interior: options.interior ?? { grid: 30 },
    boundary: { value: () => 0, points: options.boundary ?? { grid: 30 } },
    initial: { value: (x) => sin(PI * x[0]), points: options.boundary ?? { grid: 30 } },
    solution: u,
    solutionGradient: (x) => [exp(-kappa * PI * PI * x[1]) * PI * cos(PI * x[0]), -kappa * PI * PI * u(x)],
  });
}

/**
 * The nonlinear problem −Δu + u³ = f on the unit square with u* = sin πx·sin πy (f = 2π²u* + u*³),
 * u = 0 on the boundary; the cubic term enters each step by Gauss–Newton linearisation.
 *
 * @param options samplers and seed
 * @example
 * const problem = nonlinearPoisson();
 */
export function nonlinearPoisson(options: BuiltinProblemOptions = {}): PdeProblem {
  const u = (x: Float64Array) => sin(PI * x[0]) * sin(PI * x[1]);
  return pde({
    domain: { lower: [0, 0], upper: [1, 1] },
    equation: { laplacian: -1, nonlinear: { f: (v) => v * v * v, df: (v) => 3 * v * v } },
    source: (x) => 2 * PI * PI * u(x) + u(x) ** 3,
    interior: options.interior ?? { grid: 30 },
    boundary: { value: () => 0, points: options.boundary ?? { grid: 30 } },
    solution: u,
    solutionGradient: (x) => [PI * cos(PI * x[0]) * sin(PI * x[1]), PI * sin(PI * x[0]) * cos(PI * x[1])],
  });
}

function sum(x: Float64Array, f: (t: number) => number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += f(x[i]);
  return s;
}

function prod(x: Float64Array, f: (t: number, c: number) => number): number {
  let p = 1;
  for (let i = 0; i < x.length; i++) p *= f(x[i], i);
  return p;
}
