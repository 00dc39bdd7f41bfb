/** E4 (P4): width scaling of NGD's rate deviation, the Gram drift and the Jacobian drift, and the role of ν. */
import { twoLayerReLU } from '../../index.js';
import { unitSphere, gaussianTargets, gramDrift, jacobianDrift } from '../../diagnostics/index.js';
import { disposing, rawNgd, trainOnce } from './raw.js';
import { BOUNDS, type Bounds, regimeOf } from '../regime.js';
import type { BaseConfig, Experiment } from '../types.js';
import { check, fmt, logLogFit, median, mean } from '../stats.js';

export interface E4Config {
  n: number; d: number; seed: number; seeds: number; eta: number; steps: number;
  widths: number[];
  /** ν sweep at width `mNu`. */
  nus: number[]; mNu: number;
  bands: { deviation: [number, number]; gram: [number, number]; jacobian: [number, number] };
  bounds: Bounds;
}

/** One NGD run: mean |ratio − (1 − η)²| over its steps, and the drifts at the end. */
function measure(c: E4Config, m: number, nu: number, seed: number) {
  const X = unitSphere(c.n, c.d, seed), Y = gaussianTargets(c.n, seed + 1);
  const net = twoLayerReLU({ inputDim: c.d, width: m, nu, seed: seed + 2 });
  const theta0 = net.getParams();
  const h = trainOnce(net, { X, Y, n: c.n }, rawNgd(c.eta, 0), { steps: c.steps + 1 });
  const ideal = (1 - c.eta) ** 2;
  const deviation = mean(h.slice(1).map((r) => Math.abs(r.ratio - ideal)));
  const gram = gramDrift(net, X, c.n, theta0), jacobian = jacobianDrift(net, X, c.n, theta0);
  net.dispose();
  return { deviation, gram, jacobian };
}

const inBand = (v: number, [lo, hi]: [number, number]) => v >= lo && v <= hi;

export const e4: Experiment<E4Config> = {
  id: 'E4',
  title: 'Width scaling: drifts shrink like m^(−1/2) and m^(−1/4)',
  claim: 'NGD\'s deviation from (1 − η)² and the Gram drift ‖G_k − G_0‖/‖G_0‖ shrink like m^(−1/2); the Jacobian drift ‖J_k − J_0‖/‖J_0‖ only like m^(−1/4) (its square counts the flipped ReLUs, a fraction ∝ 1/√m). All grow as the init scale ν shrinks.',
  formula: 'dev, ‖ΔG‖/‖G₀‖ ∝ m^(−1/2);  ‖ΔJ‖/‖J₀‖ ∝ m^(−1/4)',
  expected: 'slopes −1/2, −1/2, −1/4',
  tolerance: 'log-log slopes of the seed medians: deviation in [−0.8, −0.3], Gram drift in [−0.7, −0.35], Jacobian drift in [−0.4, −0.12]; each grows as ν goes 1 → 0.3 → 0.1',
  knobs: ['n', 'd', 'm', 'seed'],
  noKnob: {},
  choices: (c) => [
    `n = ${c.n} unit-sphere inputs in d = ${c.d}, Gaussian targets, NGD η = ${c.eta}, λ = 0, guard off, ${c.steps} steps; drifts measured after them`,
    'deviation = mean over the steps of |ratio − (1 − η)²|; spectral norms for both drifts',
    `widths ${c.widths.join(', ')} (factors of 4 ending at --m; default 16384 quick, 65536 full), ${c.seeds} seeds, medians fitted`,
    `ν sweep ${c.nus.join(', ')} at m = ${c.mNu}`,
    `regime judged at the sweep's smallest width (the fits need every width in it): ρ ≤ ${c.bounds.rho} and ξ ≤ ${c.bounds.xi}`,
  ],
  config(b: BaseConfig): E4Config {
    const m = b.m ?? (b.quick ? 16384 : 65536), widths: number[] = [];
    for (let w = m; w >= Math.min(16, m) && widths.length < (b.quick ? 4 : 5); w = Math.floor(w / 4)) widths.unshift(w);
    return {
      n: b.n ?? 32, d: b.d ?? 16, seed: b.seed ?? 1, seeds: b.quick ? 3 : 5, eta: 0.5, steps: 4,
      widths, nus: [1, 0.3, 0.1], mNu: Math.min(4096, m), bounds: BOUNDS.E4,
      bands: { deviation: [-0.8, -0.3], gram: [-0.7, -0.35], jacobian: [-0.4, -0.12] },
    };
  },
  run(c) {
    const runs: { m: number; seed: number; deviation: number; gram: number; jacobian: number }[] = [];
    const med: { m: number; deviation: number; gram: number; jacobian: number }[] = [];
    const probe = twoLayerReLU({ inputDim: c.d, width: c.widths[0], nu: 1, seed: c.seed + 2 });
    const regime = disposing([probe], () => regimeOf(probe, unitSphere(c.n, c.d, c.seed), gaussianTargets(c.n, c.seed + 1), c.n, 1, c.widths[0], c.bounds));
    for (const m of c.widths) {
      const rs = [];
      for (let s = 0; s < c.seeds; s++) {
        const r = measure(c, m, 1, c.seed + 1000 * s);
        runs.push({ m, seed: c.seed + 1000 * s, ...r });
        rs.push(r);
      }
      med.push({ m, deviation: median(rs.map((r) => r.deviation)), gram: median(rs.map((r) => r.gram)), jacobian: median(rs.map((r) => r.jacobian)) });
    }
    const ms = med.map((r) => r.m);
    const slope = {
      deviation: logLogFit(ms, med.map((r) => r.deviation)).slope,
      gram: logLogFit(ms, med.map((r) => r.gram)).slope,
      jacobian: logLogFit(ms, med.map((r) => r.jacobian)).slope,
    };
    const fits = (['deviation', 'gram', 'jacobian'] as const).flatMap((q) => {
      const f = logLogFit(ms, med.map((r) => r[q]));
      return ms.map((m) => ({ quantity: q, m, fit: Math.exp(f.intercept) * m ** f.slope }));
    });
    const nuRows = c.nus.map((nu) => {
      const rs = Array.from({ length: c.seeds }, (_, s) => measure(c, c.mNu, nu, c.seed + 1000 * s));
      return { nu, deviation: median(rs.map((r) => r.deviation)), gram: median(rs.map((r) => r.gram)), jacobian: median(rs.map((r) => r.jacobian)) };
    });
    const grows = (q: 'deviation' | 'gram' | 'jacobian') => nuRows.every((r, i) => i === 0 || r[q] > nuRows[i - 1][q]);
    return {
      measured: slope.gram,
      measuredText: `${fmt(slope.deviation, 2)}, ${fmt(slope.gram, 2)}, ${fmt(slope.jacobian, 2)}`,
      checks: [
        check('slope of the rate deviation', `[${c.bands.deviation.join(', ')}]`, fmt(slope.deviation, 3), inBand(slope.deviation, c.bands.deviation)),
        check('slope of the Gram drift', `[${c.bands.gram.join(', ')}]`, fmt(slope.gram, 3), inBand(slope.gram, c.bands.gram)),
        check('slope of the Jacobian drift', `[${c.bands.jacobian.join(', ')}]`, fmt(slope.jacobian, 3), inBand(slope.jacobian, c.bands.jacobian)),
        check(`all three grow as ν = ${c.nus.join(' → ')} (m = ${c.mNu})`, 'increasing',
          nuRows.map((r) => `${fmt(r.deviation)}/${fmt(r.gram)}/${fmt(r.jacobian)}`).join(' → '), grows('deviation') && grows('gram') && grows('jacobian')),
      ],
      summary: { slopeDeviation: slope.deviation, slopeGram: slope.gram, slopeJacobian: slope.jacobian },
      series: { medians: med, runs, fits, nu: nuRows },
      regime,
      notes: [
        `Medians over ${c.seeds} seeds: ${med.map((r) => `m = ${r.m}: deviation ${fmt(r.deviation)}, Gram drift ${fmt(r.gram)}, Jacobian drift ${fmt(r.jacobian)}`).join('; ')}.`,
        'The Jacobian drift falls only like m^(−1/4): ‖J_k − J₀‖² counts the ReLUs whose sign flipped, a fraction ∝ 1/(ν√m); the Gram drift and the rate, which average over units, fall like m^(−1/2).',
      ],
    };
  },
};
