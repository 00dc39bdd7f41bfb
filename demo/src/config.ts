/**
 * The demo's settings and the shapes of what a session reports: plain data, no natgrad
 * import, so the page bundle does not pull in the numeric core (only the worker does).
 */
import type { Geometry, Shape } from './problems.js';

export const OPTIMIZERS = ['ngd', 'kfac', 'gd', 'adam'] as const;
export type OptimizerId = (typeof OPTIMIZERS)[number];
export const LABELS: Record<OptimizerId, string> = { ngd: 'NGD', kfac: 'K-FAC', gd: 'GD', adam: 'Adam' };

export type ProblemId = 'paper' | 'classification' | 'regression' | 'poisson';

export interface DemoConfig {
  problem: ProblemId;
  /** Steps per optimizer. */
  steps: number;
  /** Seed of the data and of the (shared) initial parameters. */
  seed: number;
  paper: { n: number; d: number; m: number; geometry: Geometry; spread: number };
  classification: { shape: Shape; n: number; width: number; noise: number };
  /** `band`: the lane whose net gets the Laplace ±2σ band. */
  regression: { n: number; width: number; noise: number; band: OptimizerId };
  /** Poisson 2-D: hidden width of the [2, width, 1] tanh net, interior grid points per side, ENGD's damping floor λ. */
  poisson: { width: number; grid: number; damping: number };
  /** Learning rates; GD's may be 'auto' on the paper's problem: η = 1/λ_max(G). */
  lr: Record<OptimizerId, number | 'auto'>;
  /** Tikhonov damping of NGD and K-FAC (the initial value where it adapts). */
  damping: { ngd: number; kfac: number };
}

/** Per-problem defaults: learning rates and damping that work for that problem (tuned in Node). */
export const PROBLEM_DEFAULTS: Record<ProblemId, Pick<DemoConfig, 'lr' | 'damping' | 'steps'>> = {
  paper: { steps: 60, lr: { ngd: 1, kfac: 1, gd: 'auto', adam: 0.01 }, damping: { ngd: 1e-6, kfac: 1e-3 } },
  classification: { steps: 150, lr: { ngd: 1, kfac: 1, gd: 0.01, adam: 0.02 }, damping: { ngd: 1e-2, kfac: 1e-2 } },
  regression: { steps: 200, lr: { ngd: 1, kfac: 1, gd: 0.003, adam: 0.02 }, damping: { ngd: 1e-4, kfac: 1e-3 } },
  // One net trained by ENGD (steps: its iterations); the four optimizers' settings are not used.
  poisson: { steps: 100, lr: { ngd: 1, kfac: 1, gd: 0.003, adam: 0.02 }, damping: { ngd: 1e-4, kfac: 1e-3 } },
};

export function defaultConfig(problem: ProblemId = 'paper'): DemoConfig {
  const d = PROBLEM_DEFAULTS[problem];
  return {
    problem, steps: d.steps, seed: 1,
    paper: { n: 64, d: 16, m: 1024, geometry: 'sphere', spread: 0.1 },
    classification: { shape: 'moons', n: 200, width: 32, noise: 0.08 },
    regression: { n: 48, width: 32, noise: 0.05, band: 'ngd' },
    poisson: { width: 32, grid: 30, damping: 0 },
    lr: { ...d.lr }, damping: { ...d.damping },
  };
}

/** What the page learns once a session is set up. */
export interface SessionInfo {
  problem: ProblemId;
  n: number;
  numParams: number;
  loss: 'squared-error' | 'cross-entropy';
  initialLoss: number;
  /** The learning rates in use (GD's 'auto' resolved). */
  lr: Record<OptimizerId, number>;
  /** Paper problem: the spectrum of G = JJᵀ at initialisation. */
  spectrum?: { lambdaMin: number; lambdaMax: number; condition: number; eigenvalues: number[] };
  /** The data to draw (classification: n × 2 points and labels; regression: x and y). */
  points?: { X: number[]; Y: number[] };
  /** Grid the views are evaluated on. */
  view?: { kind: '2d'; size: number; lo: number; hi: number } | { kind: '1d'; x: number[] };
}

/**
 * Regression: the Laplace predictive of one lane's net on the view's x grid — the linearised mean and
 * the predictive standard deviation √(diag(J* H⁻¹ J*ᵀ) + σ²), with δ and σ tuned by the marginal likelihood.
 */
export interface Band {
  lane: OptimizerId;
  mean: number[];
  std: number[];
  /** δ and σ after `optimize()`. */
  prior: number;
  noise: number;
  /** The structure laplace() used. */
  structure: string;
  /** Milliseconds to fit, tune and predict. */
  ms: number;
  /** "Name: message" when tuning failed (the band then uses the untuned δ = 1, σ = the data's noise). */
  error?: string;
}


/** One optimizer's outcome, as the page publishes it. */
export interface LaneSummary {
  finalLoss: number;
  steps: number;
  medianStepMs: number;
  stepsToTarget: number | null;
  /** "Name: message" of the step that failed, if one did. */
  error?: string;
}
export type Summary = Record<OptimizerId, LaneSummary>;

/** What the page learns once a Poisson session is set up. */
export interface PdeInfo {
  problem: 'poisson';
  numParams: number;
  width: number;
  /** Collocation points per term (interior, boundary). */
  points: { name: string; n: number }[];
  residuals: number;
  /** Uniform points the relative L² error is measured on (not the training points). */
  evaluationPoints: number;
  /** Heat-map cells per side. */
  mapSize: number;
  initialLoss: number;
  initialL2: number;
}

/** A Poisson run's outcome, as the page publishes it. */
export interface PdeSummary {
  iterations: number;
  finalLoss: number;
  /** Relative L² error ‖u − u*‖/‖u*‖ at the end, and the least on the way. */
  finalL2: number;
  bestL2: number;
  medianStepMs: number;
  totalStepMs: number;
  /** "Name: message" of the iteration that failed, if one did. */
  error?: string;
}
