/**
 * One comparison: a problem, four nets from the same initial values, and NGD, K-FAC, GD and
 * Adam stepping them side by side. Uses only natgrad's public API; runs wherever natgrad
 * runs (the demo's Web Worker, and Node for tuning the defaults).
 */
import { adam, evaluate, gd, kfac, laplace, mlp, ngd, twoLayerReLU, type LaplacePosterior, type LossSpec, type Net, type Optimizer } from 'natgrad';
import { gramSpectrum } from 'natgrad/diagnostics';
import { classificationData, grid1d, grid2d, paperData, regressionData } from './problems.js';
import { OPTIMIZERS, type Band, type DemoConfig, type OptimizerId, type SessionInfo, type Summary } from './config.js';

/** One optimizer's state after a round of steps. */
export interface Lane {
  id: OptimizerId;
  /** Loss after each step so far (index 0: the initial loss). */
  losses: number[];
  stepMs: number[];
  /** First step count at which loss ≤ 1e-4 × initial, or null. */
  stepsToTarget: number | null;
  /** The error of a failed step; the lane stops, the others go on. */
  error?: { name: string; message: string };
  finished: boolean;
}

/** Loss at which a lane stops early: float64 cannot resolve a further decrease. */
const FLOOR = 1e-28;

export class Session {
  readonly info: SessionInfo;
  readonly lanes: Lane[];
  private readonly nets: Net[];
  private readonly opts: Optimizer[];
  private readonly data: { X: Float64Array; Y: Float64Array; n: number };
  private readonly loss: LossSpec;
  private readonly grid?: { X: Float64Array; n: number };

  constructor(readonly config: DemoConfig) {
    const { problem, seed } = config;
    if (problem === 'poisson') throw new Error('the Poisson problem is one net trained by ENGD: a PdeSession (pde-session.ts)');
    let make: () => Net;
    if (problem === 'paper') {
      const p = config.paper;
      const { X, Y } = paperData({ n: p.n, d: p.d, geometry: p.geometry, spread: p.spread, seed });
      this.data = { X, Y, n: p.n };
      this.loss = 'squared-error';
      make = () => twoLayerReLU({ inputDim: p.d, width: p.m, seed });
    } else if (problem === 'classification') {
      const c = config.classification;
      const { X, Y } = classificationData(c.shape, c.n, c.noise, seed);
      this.data = { X, Y, n: c.n };
      this.loss = 'cross-entropy';
      make = () => mlp({ sizes: [2, c.width, c.width, 2], activation: 'tanh', seed });
      this.grid = { X: grid2d(GRID, -1.8, 1.8), n: GRID * GRID };
    } else {
      const r = config.regression;
      const { X, Y } = regressionData(r.n, r.noise, seed);
      this.data = { X, Y, n: r.n };
      this.loss = 'squared-error';
      make = () => mlp({ sizes: [1, r.width, r.width, 1], activation: 'tanh', seed });
      // Beyond the data's [−1.5, 1.5] on both sides, where the Laplace band widens.
      this.grid = { X: grid1d(CURVE, -CURVE_HALF_WIDTH, CURVE_HALF_WIDTH), n: CURVE };
    }
    this.nets = [];
    this.opts = [];
    try {
      for (let i = 0; i < OPTIMIZERS.length; i++) this.nets.push(make());
      const initialLoss = evaluate(this.nets[0], this.data, { loss: this.loss });
      let spectrum: SessionInfo['spectrum'];
      if (problem === 'paper') {
        const s = gramSpectrum(this.nets[0], this.data.X, this.data.n);
        spectrum = { lambdaMin: s.lambdaMin, lambdaMax: s.lambdaMax, condition: s.condition, eigenvalues: Array.from(s.eigenvalues) };
      }
      const lr = resolveLr(config, spectrum);
      const adaptive = problem !== 'paper';
      this.opts.push(
        ngd({ lr: lr.ngd, damping: config.damping.ngd, adaptive }),
        // Full batch: factors of the current batch only (decay 0; the dual form for layers wider than n), fresh inverses.
        kfac({ lr: lr.kfac, damping: config.damping.kfac, adaptive: true, decay: 0, inverseEvery: 1 }),
        gd({ lr: lr.gd }),
        adam({ lr: lr.adam }),
      );
      this.info = {
        problem, n: this.data.n, numParams: this.nets[0].numParams,
        loss: this.loss === 'cross-entropy' ? 'cross-entropy' : 'squared-error',
        initialLoss, lr, spectrum,
        points: problem === 'paper' ? undefined : { X: Array.from(this.data.X), Y: Array.from(this.data.Y) },
        view: problem === 'classification' ? { kind: '2d', size: GRID, lo: -1.8, hi: 1.8 }
          : problem === 'regression' ? { kind: '1d', x: Array.from(this.grid!.X) } : undefined,
      };
      this.lanes = OPTIMIZERS.map((id) => ({ id, losses: [initialLoss], stepMs: [], stepsToTarget: null, finished: false }));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get done(): boolean {
    return this.lanes.every((l) => l.finished);
  }

  /** One step of every lane still running. A failing step ends its lane with the error recorded. */
  step(): void {
    const target = 1e-4 * this.info.initialLoss;
    this.lanes.forEach((lane, i) => {
      if (lane.finished) return;
      try {
        const stats = this.opts[i].step(this.nets[i], this.data, { loss: this.loss });
        const after = evaluate(this.nets[i], this.data, { loss: this.loss });
        lane.losses.push(after);
        lane.stepMs.push(stats.timeMs);
        if (lane.stepsToTarget === null && after <= target) lane.stepsToTarget = lane.stepMs.length;
        if (lane.stepMs.length >= this.config.steps || after <= FLOOR * this.info.initialLoss) lane.finished = true;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        lane.error = { name: err.name, message: err.message };
        lane.finished = true;
      }
    });
  }

  /**
   * What each net predicts on the view grid: classification, P(class 1) per grid cell
   * (row-major from the top); regression, the curve. Undefined for the paper's problem.
   */
  views(): number[][] | undefined {
    const g = this.grid;
    if (!g) return undefined;
    return this.nets.map((net) => {
      const u = net.predict(g.X, g.n);
      if (this.info.problem === 'regression') return Array.from(u);
      const p = new Array<number>(g.n);
      for (let i = 0; i < g.n; i++) p[i] = 1 / (1 + Math.exp(u[2 * i] - u[2 * i + 1]));
      return p;
    });
  }

  /**
   * Regression: the Laplace posterior of the `config.regression.band` lane's net at its current
   * parameters ('full': every weight, through the n × n Gram), δ and σ tuned by the marginal
   * likelihood, its predictive over the view grid. A few milliseconds for the default sizes, so the
   * worker refreshes it with every view. Undefined for the other problems.
   */
  band(): Band | undefined {
    const g = this.grid;
    if (this.info.problem !== 'regression' || !g) return undefined;
    const lane = this.config.regression.band;
    const k = OPTIMIZERS.indexOf(lane);
    if (k < 0) throw new Error(`regression.band: "${lane}" is not one of ${OPTIMIZERS.join(', ')}`);
    const t0 = performance.now();
    const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    let post: LaplacePosterior | undefined;
    try {
      post = laplace(this.nets[k], this.data, { structure: 'full', prior: 1, noise: this.config.regression.noise });
      let error: string | undefined;
      try {
        post.optimize();
      } catch (e) {
        // optimize() leaves δ and σ as they were when it finds no maximiser; the band says so.
        error = describe(e);
      }
      const p = post.predict(g.X, g.n);
      return {
        lane, mean: Array.from(p.mean), std: Array.from(p.variance, Math.sqrt),
        prior: post.prior, noise: post.noise, structure: post.structure, ms: performance.now() - t0, ...(error ? { error } : {}),
      };
    } catch (e) {
      // No band (the lane's net cannot take a posterior): the page shows why; training goes on.
      return { lane, mean: [], std: [], prior: NaN, noise: NaN, structure: 'full', ms: performance.now() - t0, error: describe(e) };
    } finally {
      post?.dispose();
    }
  }

  dispose(): void {
    for (const o of this.opts) o.dispose();
    for (const n of this.nets) n.dispose();
    this.opts.length = this.nets.length = 0;
  }
}

const GRID = 48;
const CURVE = 161;
const CURVE_HALF_WIDTH = 2.5;

function resolveLr(config: DemoConfig, spectrum: SessionInfo['spectrum']): Record<OptimizerId, number> {
  const out = {} as Record<OptimizerId, number>;
  for (const id of OPTIMIZERS) {
    const v = config.lr[id];
    if (v === 'auto') {
      if (id !== 'gd' || !spectrum) throw new Error(`lr 'auto' is only for GD on the paper's problem (η = 1/λ_max(G))`);
      out[id] = 1 / spectrum.lambdaMax;
    } else out[id] = v;
  }
  return out;
}

/** Final losses and figures of a finished session, as the page publishes them. */
export function summary(lanes: Lane[]): Summary {
  const out = {} as Summary;
  for (const l of lanes) {
    const ms = [...l.stepMs].sort((a, b) => a - b);
    out[l.id] = {
      finalLoss: l.losses[l.losses.length - 1], steps: l.stepMs.length,
      medianStepMs: ms.length ? ms[ms.length >> 1] : NaN, stepsToTarget: l.stepsToTarget,
      ...(l.error ? { error: `${l.error.name}: ${l.error.message}` } : {}),
    };
  }
  return out;
}
