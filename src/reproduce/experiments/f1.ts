/** F1: the paper's Figure 1 — output-space trajectories of NGD (straight) and GD (curved) on MNIST 4 vs 9. */
import { gd, ngd, train, twoLayerReLU, gramSpectrum, gaussianTargets, type TrainRecord } from '../../index.js';
import { loadMnist, type MnistData } from '../../mnist/load.js';
import type { BaseConfig, Experiment } from '../types.js';
import { check, fmt, median } from '../stats.js';

export interface F1Config {
  /** Examples (half 4s, half 9s). */
  n: number; m: number; nu: number; seed: number;
  ngdLr: number; ngdSteps: number;
  /** GD runs until ‖r‖² ≤ gdTarget·‖r₀‖² or gdMaxSteps. */
  gdTarget: number; gdMaxSteps: number;
  /** Trajectories drawn. */
  shown: number;
  ngdMax: number; gdOverNgd: number;
}

/**
 * The path's largest distance from the straight line through its start and the target, ÷ the start–target
 * distance: 0 for a straight path towards the target.
 */
export function straightness(path: [number, number][], target: [number, number]): number {
  const [x0, y0] = path[0], dx = target[0] - x0, dy = target[1] - y0, len = Math.hypot(dx, dy);
  let worst = 0;
  for (const [x, y] of path) worst = Math.max(worst, Math.abs((x - x0) * dy - (y - y0) * dx) / len);
  return worst / len;
}

/** The shipped MNIST digits (constants), loaded once by prepare(). */
let mnistData: MnistData | undefined;

export const f1: Experiment<F1Config> = {
  id: 'F1',
  title: 'Figure 1: NGD moves straight to the targets in output space, GD curves',
  claim: 'On MNIST 4 vs 9 with two outputs, NGD\'s output-space trajectories are straight lines to the targets (u_k − y = (1 − η)^k(u₀ − y) to first order), while GD\'s curve (each eigen-direction of G contracts at its own rate).',
  formula: 'straightness = max_k dist(u_k, line(u₀, y)) / ‖y − u₀‖',
  expected: 'NGD ≤ 0.02; GD ≥ 5× NGD',
  tolerance: 'median straightness over the examples: NGD ≤ 0.02 and GD ≥ 5× NGD\'s',
  knobs: ['n', 'm', 'seed'],
  choices: [
    'the first n/2 shipped test images of each of 4 and 9 (n = 16), each scaled to unit norm (Assumption 1); d = 784',
    'targets y = onehot − 0.5 + 0.3·N(0, I) in ℝ² (the caption\'s f(x) = x − 0.5 + 0.3N(0, I)), seeded',
    'the paper\'s two-layer ReLU net with k = 2 outputs (own ±1 output weights each), m = 1024 (full: 4096), ν = 1',
    'NGD η = 0.1, λ = 0, 40 steps (small steps so the path has points); GD η = 1/λ_max(G(θ₀)) until ‖r‖² ≤ 1e-2‖r₀‖² or 3000 steps',
    '--d is ignored (the images are 784-dimensional)',
  ],
  config(b: BaseConfig): F1Config {
    return {
      n: b.n ?? 16, m: b.m ?? (b.quick ? 1024 : 4096), nu: 1, seed: b.seed ?? 1, ngdLr: 0.1, ngdSteps: 40,
      gdTarget: 1e-2, gdMaxSteps: 3000, shown: 8, ngdMax: 0.02, gdOverNgd: 5,
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
    const run = (method: 'NGD' | 'GD') => {
      const net = twoLayerReLU({ inputDim: d, width: c.m, outputDim: 2, nu: c.nu, seed: c.seed + 2 });
      let h: TrainRecord[];
      if (method === 'NGD') {
        h = train(net, data, ngd({ lr: c.ngdLr, damping: 0 }), { steps: c.ngdSteps, recordOutputs: true });
      } else {
        const eta = 1 / gramSpectrum(net, X, n).lambdaMax;
        let first = NaN;
        h = train(net, data, gd({ lr: eta }), { steps: c.gdMaxSteps, recordOutputs: true, onStep: (r) => { if (r.step === 0) first = r.loss; return r.loss > c.gdTarget * first; } });
      }
      const outputs = [...h.map((r) => r.outputs as Float64Array), net.predict(X, n)];
      net.dispose();
      return outputs;
    };
    const ngdPath = run('NGD'), gdPath = run('GD');
    const paths: { method: string; example: number; digit: number; step: number; u1: number; u2: number }[] = [];
    const targets = Array.from({ length: n }, (_, i) => ({ example: i, digit: mnistData!.labels[i], y1: Y[2 * i], y2: Y[2 * i + 1] }));
    const score = (method: string, outs: Float64Array[]) => Array.from({ length: n }, (_, i) => {
      const path = outs.map((u) => [u[2 * i], u[2 * i + 1]] as [number, number]);
      if (i < c.shown) {
        const every = Math.max(1, Math.ceil(path.length / 150));
        path.forEach(([u1, u2], step) => { if (step % every === 0 || step === path.length - 1) paths.push({ method, example: i, digit: mnistData!.labels[i], step, u1, u2 }); });
      }
      return straightness(path, [Y[2 * i], Y[2 * i + 1]]);
    });
    const sN = score('NGD', ngdPath), sG = score('GD', gdPath);
    const mN = median(sN), mG = median(sG);
    return {
      measured: mN,
      measuredText: `NGD ${fmt(mN)}, GD ${fmt(mG)}`,
      checks: [
        check('NGD: median straightness', `≤ ${c.ngdMax}`, fmt(mN), mN <= c.ngdMax),
        check('GD: median straightness ÷ NGD\'s', `≥ ${c.gdOverNgd}`, fmt(mG / mN), mG >= c.gdOverNgd * mN),
      ],
      summary: { ngdStraightness: mN, gdStraightness: mG, ngdSteps: ngdPath.length - 1, gdSteps: gdPath.length - 1 },
      series: { paths, targets: targets.slice(0, c.shown), straightness: sN.map((s, i) => ({ example: i, ngd: s, gd: sG[i] })) },
      notes: [
        `${n} digits (${n / 2} fours, ${n / 2} nines), m = ${c.m}: NGD ran ${ngdPath.length - 1} steps, GD ${gdPath.length - 1}. Median straightness NGD ${fmt(mN)}, GD ${fmt(mG)} (per example: NGD ≤ ${fmt(Math.max(...sN))}, GD ${fmt(Math.min(...sG))} … ${fmt(Math.max(...sG))}).`,
      ],
    };
  },
};
