/** E3 (P3): GD's per-step ratio tends to (1 − η·λ_min(G))²; its step count grows with the condition number, NGD's does not. */
import { twoLayerReLU, type Net, type Optimizer } from '../../index.js';
import { unitSphere, gaussianTargets, nearParallelPairs, gramSpectrum } from '../../diagnostics/index.js';
import { rawGd, rawNgd, trainOnce } from './raw.js';
import type { BaseConfig, Experiment } from '../types.js';
import { BOUNDS, type Bounds, regimeOf, worse } from '../regime.js';
import { check, fmt, logLogFit, FLOOR } from '../stats.js';

export interface E3Config {
  n: number; d: number; m: number; nu: number; seed: number;
  /** GD steps at most while waiting for the ratio to settle. */
  maxSteps: number;
  /** The ratio has settled when it moved less than this over the last 10 steps. */
  settle: number;
  /** Condition sweep: near-parallel pairs at these angles (radians), nSweep inputs. */
  angles: number[]; nSweep: number;
  /** ‖r‖² reduction both methods must reach. */
  target: number;
  ngdLr: number;
  /** GD's step is lrScale/λ_max(G(θ₀)) (default 1; the prediction needs the slowest mode to be the slowest contraction, lrScale < 2λ_max/(λ_max + λ_min)). */
  lrScale: number;
  tolerance: number;
  bounds: Bounds;
}

/** Steps until ‖r‖² ≤ target·‖r₀‖² (maxSteps + 1 when never), and the loss curve. */
function stepsTo(net: Net, data: { X: Float64Array; Y: Float64Array; n: number }, opt: Optimizer, target: number, maxSteps: number) {
  let first = NaN;
  const h = trainOnce(net, data, opt, { steps: maxSteps + 1, onStep: (r) => { if (r.step === 0) first = r.loss; return r.loss > target * first; } });
  const last = h[h.length - 1];
  return { steps: last.loss <= target * first ? last.step : maxSteps + 1, losses: h.map((r) => r.loss / first) };
}

export const e3: Experiment<E3Config> = {
  id: 'E3',
  title: 'GD is governed by λ_min(G); NGD is not',
  claim: 'Gradient descent\'s asymptotic per-step ‖r‖² ratio is (1 − ηλ_min(G))², so the steps it needs grow with the condition number of G, while NGD\'s stay the same.',
  formula: '‖r_{k+1}‖²/‖r_k‖² → (1 − η·λ_min(G))², η = 1/λ_max(G)',
  expected: 'within 5% of (1 − ηλ_min)²',
  tolerance: 'settled GD ratio within 5% of (1 − ηλ_min(G))² (λ_min at the final θ); over a condition sweep GD\'s steps to the target rise monotonically by ≥ 10×, NGD\'s vary by ≤ 1.5×',
  knobs: ['n', 'd', 'm', 'seed'],
  noKnob: {},
  choices: (c) => [
    `n = ${c.n} unit-sphere inputs in d = ${c.d}, m = ${c.m}, ν = ${c.nu}, Gaussian targets; GD step η = ${c.lrScale}/λ_max(G(θ₀)) (stable, since η < 2/λ_max)`,
    `the ratio is read once it has settled (moved < ${c.settle} over 10 steps), at most ${c.maxSteps} steps, and before the float64 floor`,
    `condition sweep: ${c.nSweep} inputs (n/2) as ${c.nSweep / 2} near-parallel pairs at angles ${c.angles.join(', ')} rad, random labels; target ‖r‖² reduction ${c.target}; NGD η = ${c.ngdLr}, λ = 0, guard off`,
    'smaller angles (λ_min ≲ 0.02) also slow NGD at these widths with random labels: the width condition, measured in E5',
    `regime judged on the worst of the part-1 net and the sweep's nets: ρ ≤ ${c.bounds.rho} and ξ ≤ ${c.bounds.xi}`,
  ],
  config(b: BaseConfig): E3Config {
    return {
      n: b.n ?? 32, d: b.d ?? 16, m: b.m ?? 4096, nu: 1, seed: b.seed ?? 1, maxSteps: 1500, settle: 1e-4,
      angles: [1.6, 0.8, 0.4, 0.2], nSweep: Math.max(4, 2 * Math.round((b.n ?? 32) / 4)), target: 1e-3, ngdLr: 0.5, lrScale: 1, tolerance: 0.05, bounds: BOUNDS.E3,
    };
  },
  run(c) {
    // Part 1: the asymptotic GD ratio.
    const X = unitSphere(c.n, c.d, c.seed), Y = gaussianTargets(c.n, c.seed + 1);
    const net = twoLayerReLU({ inputDim: c.d, width: c.m, nu: c.nu, seed: c.seed + 2 });
    const s0 = gramSpectrum(net, X, c.n), eta = c.lrScale / s0.lambdaMax;
    let regime = regimeOf(net, X, Y, c.n, c.nu, c.m, c.bounds);
    let first = NaN;
    const ratios: number[] = [];
    trainOnce(net, { X, Y, n: c.n }, rawGd(eta), {
      steps: c.maxSteps, onStep: (r) => {
        if (r.step === 0) { first = r.loss; return true; }
        if (r.loss < FLOOR * first) return false;
        ratios.push(r.ratio);
        const k = ratios.length;
        return !(k > 20 && Math.abs(ratios[k - 1] - ratios[k - 11]) < c.settle);
      },
    });
    const sK = gramSpectrum(net, X, c.n);
    net.dispose();
    const measured = ratios[ratios.length - 1];
    const predicted = (1 - eta * sK.lambdaMin) ** 2, predicted0 = (1 - eta * s0.lambdaMin) ** 2;
    const rel = Math.abs(measured / predicted - 1);

    // Part 2: steps to the target against the condition number.
    const sweep: { angle: number; lambdaMin: number; condition: number; gd: number; ngd: number }[] = [];
    const curves: { method: string; angle: number; step: number; loss: number }[] = [];
    for (const angle of c.angles) {
      const n = c.nSweep, Xs = nearParallelPairs(n, c.d, angle, c.seed), Ys = gaussianTargets(n, c.seed + 1);
      const a = twoLayerReLU({ inputDim: c.d, width: c.m, nu: c.nu, seed: c.seed + 2 });
      const sp = gramSpectrum(a, Xs, n);
      const here = regimeOf(a, Xs, Ys, n, c.nu, c.m, c.bounds);
      regime = worse(regime, here);
      const g = stepsTo(a, { X: Xs, Y: Ys, n }, rawGd(1 / sp.lambdaMax), c.target, 20000);
      a.dispose();
      const b = twoLayerReLU({ inputDim: c.d, width: c.m, nu: c.nu, seed: c.seed + 2 });
      const q = stepsTo(b, { X: Xs, Y: Ys, n }, rawNgd(c.ngdLr, 0), c.target, 200);
      b.dispose();
      sweep.push({ angle, lambdaMin: sp.lambdaMin, condition: sp.condition, gd: g.steps, ngd: q.steps });
      const every = Math.max(1, Math.ceil(g.losses.length / 200));
      g.losses.forEach((loss, step) => { if (step % every === 0) curves.push({ method: 'GD', angle, step, loss }); });
      q.losses.forEach((loss, step) => curves.push({ method: 'NGD', angle, step, loss }));
    }
    const gdSteps = sweep.map((x) => x.gd), ngdSteps = sweep.map((x) => x.ngd);
    const monotone = gdSteps.every((v, i) => i === 0 || v > gdSteps[i - 1]);
    const growth = gdSteps[gdSteps.length - 1] / gdSteps[0];
    const ngdSpread = Math.max(...ngdSteps) / Math.min(...ngdSteps);
    const fit = logLogFit(sweep.map((x) => x.condition), gdSteps);
    return {
      measured: rel,
      measuredText: `${fmt(measured, 4)} vs ${fmt(predicted, 4)} (${fmt(100 * rel, 2)}%)`,
      checks: [
        check('settled GD ratio vs (1 − ηλ_min(G))²', '≤ 5% apart', `${fmt(measured, 4)} vs ${fmt(predicted, 4)}: ${fmt(100 * rel, 2)}%`, rel <= c.tolerance),
        check('GD steps to 1e-3 rise with κ(G)', 'monotone, ≥ 10×', `${gdSteps.join(' → ')} (${fmt(growth)}×)`, monotone && growth >= 10),
        check('NGD reaches 1e-3 at every κ, in about the same steps', 'all within 200 steps, max/min ≤ 1.5', `${ngdSteps.map((v) => (v > 200 ? 'never' : v)).join(', ')}`, ngdSpread <= 1.5 && ngdSteps.every((v) => v <= 200)),
      ],
      summary: { gdRatio: measured, predicted, predictedAtInit: predicted0, relativeError: rel, steps: ratios.length + 1, gdGrowth: growth, ngdSpread, slopeStepsVsCondition: fit.slope },
      series: { ratios: ratios.map((ratio, k) => ({ step: k + 1, ratio, predicted })), sweep, curves },
      regime,
      notes: [
        `η = 1/λ_max = ${fmt(eta)}; λ_min(G) = ${fmt(s0.lambdaMin)} at θ₀ and ${fmt(sK.lambdaMin)} after ${ratios.length + 1} steps; (1 − ηλ_min)² = ${fmt(predicted0, 4)} at θ₀, ${fmt(predicted, 4)} at the end (measured ${fmt(measured, 4)}).`,
        `Steps to ‖r‖² ≤ 1e-3‖r₀‖²: ${sweep.map((x) => `κ = ${fmt(x.condition)}: GD ${x.gd}, NGD ${x.ngd}`).join('; ')}. Log-log slope of GD's steps against κ: ${fmt(fit.slope, 2)}.`,
      ],
    };
  },
};
