/** F1: the paper's Figure 1 — output-space trajectories of NGD (straight) and GD (curved) on MNIST 4 vs 9. */
import { twoLayerReLU, type TrainRecord } from '../../index.js';
import { gramSpectrum, gaussianTargets } from '../../diagnostics/index.js';
import { loadMnist, type MnistData } from '../../mnist/load.js';
import { rawGd, rawNgd, trainOnce } from './raw.js';
import type { BaseConfig, Experiment } from '../types.js';
import { check, fmt, median, sq } from '../stats.js';
import { BOUNDS, type Bounds, regimeOf } from '../regime.js';

export interface F1Config {
  /** Examples (half 4s, half 9s). */
  n: number; m: number; nu: number; seed: number;
  ngdLr: number; ngdSteps: number;
  /** NGD's damping (0: the paper's exact step). */
  damping: number;
  /** GD runs until its ‖r‖² is down to NGD's final ‖r‖² (the same target), or gdMaxSteps. */
  gdMaxSteps: number;
  /** Trajectories drawn. */
  shown: number;
  ngdMax: number; gdOverNgd: number;
  /**
   * NGD must end within min(reachMax, reachFactor·(1 − η)^K) of its start distance to the target: at the target
   * (reachMax), and as close as the prediction (1 − η)^K says.
   */
  reachFactor: number; reachMax: number;
  bounds: Bounds;
}

/**
 * The path's largest distance from the SEGMENT from its start to the target, ÷ the start–target distance: 0 only
 * for a path that stays on that segment (a path that overshoots the target, turns back or leaves the line scores
 * more than 0; a path that has not moved scores 0 here, which is why F1 also checks that NGD reaches the target).
 */
export function straightness(path: [number, number][], target: [number, number]): number {
  const [x0, y0] = path[0], dx = target[0] - x0, dy = target[1] - y0, len2 = dx * dx + dy * dy;
  let worst = 0;
  for (const [x, y] of path) {
    const t = Math.min(1, Math.max(0, ((x - x0) * dx + (y - y0) * dy) / len2));
    worst = Math.max(worst, Math.hypot(x - x0 - t * dx, y - y0 - t * dy));
  }
  return worst / Math.sqrt(len2);
}

/** ‖u_end − y‖ / ‖u₀ − y‖: the fraction of the way to the target still left (0 at the target, 1 not moved). */
export function remaining(path: [number, number][], target: [number, number]): number {
  const [x0, y0] = path[0], [x1, y1] = path[path.length - 1];
  return Math.hypot(x1 - target[0], y1 - target[1]) / Math.hypot(x0 - target[0], y0 - target[1]);
}

/** The shipped MNIST digits (constants), loaded once by prepare(). */
let mnistData: MnistData | undefined;

export const f1: Experiment<F1Config> = {
  id: 'F1',
  title: 'Figure 1: NGD moves straight to the targets in output space, GD curves',
  claim: 'On MNIST 4 vs 9 with two outputs, NGD\'s output-space trajectories are straight segments to the targets (u_k − y = (1 − η)^k(u₀ − y) to first order), while GD\'s curve (each eigen-direction of G contracts at its own rate).',
  formula: 'u_K − y = (1 − η)^K (u₀ − y);  straightness = max_k dist(u_k, segment[u₀, y]) / ‖y − u₀‖',
  expected: 'NGD reaches y, straightness ≤ 0.02; GD ≥ 5× NGD',
  tolerance: 'median over the examples: NGD ends within min(5%, 2·(1 − η)^K) of its start distance to the target, NGD straightness ≤ 0.02, and GD\'s straightness ≥ 5× NGD\'s',
  knobs: ['n', 'm', 'seed'],
  noKnob: { d: 'the inputs are MNIST images, 784-dimensional' },
  choices: (c) => [
    `the first ${c.n / 2} shipped test images of each of 4 and 9 (n = ${c.n}), each scaled to unit norm (Assumption 1); d = 784`,
    'targets y = onehot − 0.5 + 0.3·N(0, I) in ℝ² (the caption\'s f(x) = x − 0.5 + 0.3N(0, I)), seeded: a 4\'s target lies near (0.5, −0.5), a 9\'s near (−0.5, 0.5)',
    `the paper's two-layer ReLU net with k = 2 outputs (own ±1 output weights each), m = ${c.m}, ν = ${c.nu}`,
    `NGD η = ${c.ngdLr}, λ = ${c.damping}, guard off, ${c.ngdSteps} steps (small steps so the path has points); GD η = 1/λ_max(G(θ₀)) until its ‖r‖² is down to NGD's final ‖r‖² (the same target), at most ${c.gdMaxSteps} steps`,
    `regime judged at m = ${c.m}: ρ ≤ ${c.bounds.rho} and ξ ≤ ${c.bounds.xi}`,
  ],
  config(b: BaseConfig): F1Config {
    return {
      n: b.n ?? 16, m: b.m ?? (b.quick ? 1024 : 4096), nu: 1, seed: b.seed ?? 1, ngdLr: 0.1, ngdSteps: 40, damping: 0,
      gdMaxSteps: b.quick ? 3000 : 20000, shown: 8, ngdMax: 0.02, gdOverNgd: 5, reachFactor: 2, reachMax: 0.05, bounds: BOUNDS.F1,
    };
  },
  async prepare() {
    mnistData ??= await loadMnist({ digits: [4, 9] });
  },
  run(c) {
    if (!mnistData) throw new Error('F1 needs the MNIST digits: await f1.prepare() first');
    const n = Math.min(c.n, mnistData.n), d = mnistData.d;
    const X = mnistData.X.subarray(0, n * d).slice();
    const noise = gaussianTargets(n, c.seed, 2), Y = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const cls = mnistData.labels[i] === 4 ? 0 : 1;
      for (let j = 0; j < 2; j++) Y[2 * i + j] = (j === cls ? 1 : 0) - 0.5 + 0.3 * noise[2 * i + j];
    }
    const data = { X, Y, n };
    const fresh = () => twoLayerReLU({ inputDim: d, width: c.m, outputDim: 2, nu: c.nu, seed: c.seed + 2 });
    const probe = fresh();
    const regime = regimeOf(probe, X, Y, n, c.nu, c.m, c.bounds);
    const spectrum = gramSpectrum(probe, X, n);
    probe.dispose();
    const trace = (h: TrainRecord[], net: ReturnType<typeof fresh>) => {
      const outputs = [...h.map((r) => r.outputs as Float64Array), net.predict(X, n)];
      net.dispose();
      return { outputs, losses: [...h.map((r) => r.loss), 0.5 * sq(residualOf(outputs[outputs.length - 1], Y))] };
    };
    const ngdNet = fresh();
    const ngdRun = trace(trainOnce(ngdNet, data, rawNgd(c.ngdLr, c.damping), { steps: c.ngdSteps, recordOutputs: true }), ngdNet);
    // GD runs to the same ‖r‖² as NGD reached (or its step cap).
    const goal = ngdRun.losses[ngdRun.losses.length - 1] / ngdRun.losses[0];
    const eta = 1 / spectrum.lambdaMax;
    const gdNet = fresh();
    let first = NaN;
    const gdRun = trace(trainOnce(gdNet, data, rawGd(eta), { steps: c.gdMaxSteps, recordOutputs: true, onStep: (r) => { if (r.step === 0) first = r.loss; return r.loss > goal * first; } }), gdNet);
    const gdReached = gdRun.losses[gdRun.losses.length - 1] / gdRun.losses[0];
    const paths: { method: string; example: number; digit: number; step: number; u1: number; u2: number }[] = [];
    const targets = Array.from({ length: n }, (_, i) => ({ example: i, digit: mnistData!.labels[i], y1: Y[2 * i], y2: Y[2 * i + 1] }));
    const score = (method: string, outs: Float64Array[]) => Array.from({ length: n }, (_, i) => {
      const path = outs.map((u) => [u[2 * i], u[2 * i + 1]] as [number, number]), y: [number, number] = [Y[2 * i], Y[2 * i + 1]];
      if (i < c.shown) {
        const every = Math.max(1, Math.ceil(path.length / 150));
        path.forEach(([u1, u2], step) => { if (step % every === 0 || step === path.length - 1) paths.push({ method, example: i, digit: mnistData!.labels[i], step, u1, u2 }); });
      }
      return { straight: straightness(path, y), left: remaining(path, y) };
    });
    const sN = score('NGD', ngdRun.outputs), sG = score('GD', gdRun.outputs);
    const mN = median(sN.map((s) => s.straight)), mG = median(sG.map((s) => s.straight));
    const leftN = median(sN.map((s) => s.left)), leftG = median(sG.map((s) => s.left));
    const predictedLeft = (1 - c.ngdLr) ** c.ngdSteps, reachBound = Math.min(c.reachMax, c.reachFactor * predictedLeft);
    const ngdSteps = ngdRun.outputs.length - 1, gdSteps = gdRun.outputs.length - 1;
    const gdStopped = gdReached > goal;
    // The slowest mode decides how long GD needs: ‖r‖² shrinks by at most (1 − ηλ_min)² per step late in the run.
    const gdNeeds = Math.ceil(Math.log(goal) / (2 * Math.log(1 - eta * spectrum.lambdaMin)));
    return {
      measured: mN,
      measuredText: `NGD ${fmt(mN)}, GD ${fmt(mG)}`,
      checks: [
        check('NGD reaches the targets: median ‖u_K − y‖/‖u₀ − y‖', `≤ ${fmt(reachBound)} (min(${c.reachMax}, ${c.reachFactor}·(1 − η)^${c.ngdSteps}))`, fmt(leftN), leftN <= reachBound),
        check('NGD: median distance from the segment u₀ → y', `≤ ${c.ngdMax}`, fmt(mN), mN <= c.ngdMax),
        check('GD: median straightness ÷ NGD\'s', `≥ ${c.gdOverNgd}`, fmt(mG / mN), mG >= c.gdOverNgd * mN),
      ],
      summary: { ngdStraightness: mN, gdStraightness: mG, ngdRemaining: leftN, gdRemaining: leftG, ngdSteps, gdSteps, goal, gdReached },
      series: { paths, targets: targets.slice(0, c.shown), straightness: sN.map((s, i) => ({ example: i, ngd: s.straight, gd: sG[i].straight })) },
      regime,
      notes: [
        `${n} digits (${targets.filter((t) => t.digit === 4).length} fours, ${targets.filter((t) => t.digit === 9).length} nines), m = ${c.m}: NGD ran ${ngdSteps} steps and ended at ‖r‖² = ${fmt(goal)}·‖r₀‖², each example ${fmt(leftN)} of its way from the target (median; predicted (1 − η)^K = ${fmt(predictedLeft)}).`,
        gdStopped
          ? `GD (η = 1/λ_max = ${fmt(eta)}) stopped at its cap of ${c.gdMaxSteps} steps with ‖r‖² = ${fmt(gdReached)}·‖r₀‖², short of NGD's ${fmt(goal)}: its slowest mode (λ_min(G) = ${fmt(spectrum.lambdaMin)}) shrinks ‖r‖² by only (1 − ηλ_min)² = ${fmt((1 - eta * spectrum.lambdaMin) ** 2, 6)} per step, so it needs about ${gdNeeds} steps. Its paths stop short of the targets for that reason.`
          : `GD (η = 1/λ_max = ${fmt(eta)}) reached the same ‖r‖² (${fmt(gdReached)}·‖r₀‖²) after ${gdSteps} steps; each example ends ${fmt(leftG)} of its way from the target (median).`,
        `Median straightness NGD ${fmt(mN)}, GD ${fmt(mG)} (per example: NGD ≤ ${fmt(Math.max(...sN.map((s) => s.straight)))}, GD ${fmt(Math.min(...sG.map((s) => s.straight)))} … ${fmt(Math.max(...sG.map((s) => s.straight)))}).`,
      ],
    };
  },
};

/** u − y */
function residualOf(u: Float64Array, y: Float64Array): Float64Array {
  return u.map((v, i) => v - y[i]);
}
