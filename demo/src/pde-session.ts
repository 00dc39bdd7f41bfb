/**
 * The PDE problem: Poisson's equation −Δu = f on the unit square with u* = sin πx·sin πy
 * (f = 2π²u*, u = 0 on the boundary), a [2, width, 1] tanh net trained by energy natural gradient
 * (ENGD) on the residuals at an interior grid and the boundary points — Müller & Zeinhofer's
 * setting (ICML 2023). Uses only natgrad's public API (`pde()` and `engd()` from natgrad/advanced).
 */
import { mlp, type Net } from 'natgrad';
import { engd, pde, type Engd, type PdeProblem } from 'natgrad/advanced';
import { grid2d } from './problems.js';
import type { DemoConfig, PdeInfo, PdeSummary } from './config.js';

const { sin, PI } = Math;
const exact = (x: Float64Array) => sin(PI * x[0]) * sin(PI * x[1]);

/** Heat-map cells per side (cell centres over [0, 1]², row-major from the top row). */
export const MAP = 64;
/** Evaluation points of the relative L² error (uniform, independent of the training points). */
const EVAL_POINTS = 4096;

export class PdeSession {
  readonly info: PdeInfo;
  /** Per iteration (index 0: the initial net): loss and relative L² error. */
  readonly loss: number[] = [];
  readonly l2: number[] = [];
  /** Per iteration: wall time of the ENGD step and the step size its line search chose. */
  readonly stepMs: number[] = [];
  readonly lr: number[] = [];
  /** The error of a failed iteration (the net is left as it was; the run stops). */
  error?: { name: string; message: string };
  private readonly problem: PdeProblem;
  private readonly net: Net;
  private readonly opt: Engd;
  private readonly map = grid2d(MAP, 0, 1);
  private readonly exactMap = new Float64Array(MAP * MAP);
  private stopped = false;

  constructor(readonly config: DemoConfig) {
    const { width, grid, damping } = config.poisson;
    this.problem = pde({
      domain: { lower: [0, 0], upper: [1, 1] },
      equation: { laplacian: -1 },
      source: (x) => 2 * PI * PI * exact(x),
      interior: { grid },
      boundary: { value: () => 0, points: { grid } },
      solution: exact,
    });
    let net: Net | undefined, opt: Engd | undefined;
    try {
      net = mlp({ sizes: [2, width, 1], activation: 'tanh', init: 'glorot', seed: config.seed });
      opt = engd({ damping });
      this.net = net;
      this.opt = opt;
      for (let i = 0; i < MAP * MAP; i++) this.exactMap[i] = exact(this.map.subarray(2 * i, 2 * i + 2));
      this.record();
      this.info = {
        problem: 'poisson', numParams: net.numParams, width,
        points: this.problem.sizes.map((s) => ({ name: s.name, n: s.points })),
        residuals: this.problem.residuals, evaluationPoints: EVAL_POINTS, mapSize: MAP,
        initialLoss: this.loss[0], initialL2: this.l2[0],
      };
    } catch (e) {
      opt?.dispose();
      net?.dispose();
      this.problem.dispose();
      throw e;
    }
  }

  get iterations(): number {
    return this.stepMs.length;
  }

  get done(): boolean {
    return this.stopped || this.iterations >= this.config.steps;
  }

  /** One ENGD iteration (curvature → solve → line search), then the loss and the error it reached. */
  step(): void {
    if (this.done) return;
    try {
      const stats = this.opt.step(this.net, this.problem);
      this.stepMs.push(stats.timeMs);
      this.lr.push(stats.lr);
      this.record();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.error = { name: err.name, message: err.message };
      this.stopped = true;
    }
  }

  /** u on the heat-map grid and |u − u*| there. */
  views(): { u: number[]; error: number[] } {
    const u = this.net.predict(this.map, MAP * MAP);
    const error = new Array<number>(MAP * MAP);
    for (let i = 0; i < MAP * MAP; i++) error[i] = Math.abs(u[i] - this.exactMap[i]);
    return { u: Array.from(u), error };
  }

  summary(): PdeSummary {
    const ms = [...this.stepMs].sort((a, b) => a - b);
    const last = this.l2.length - 1;
    return {
      iterations: this.iterations, finalLoss: this.loss[last], finalL2: this.l2[last], bestL2: Math.min(...this.l2),
      medianStepMs: ms.length ? ms[ms.length >> 1] : NaN, totalStepMs: this.stepMs.reduce((s, t) => s + t, 0),
      ...(this.error ? { error: `${this.error.name}: ${this.error.message}` } : {}),
    };
  }

  dispose(): void {
    this.opt.dispose();
    this.net.dispose();
    this.problem.dispose();
  }

  private record(): void {
    this.loss.push(this.problem.loss(this.net));
    this.l2.push(this.problem.errors(this.net, { points: EVAL_POINTS }).l2);
  }
}
