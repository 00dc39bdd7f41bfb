/** E1 (P1): NGD with η = 1 and tiny damping fits a wide net in one or two steps. */
import { twoLayerReLU } from '../../index.js';
import { unitSphere, gaussianTargets } from '../../diagnostics/index.js';
import { rawNgd, trainOnce } from './raw.js';
import type { BaseConfig, Experiment, Regime } from '../types.js';
import { BOUNDS, type Bounds, regimeOf } from '../regime.js';
import { check, fmt, logLogFit, median, FLOOR } from '../stats.js';

export interface E1Config {
  n: number; d: number; nu: number; damping: number; seed: number; seeds: number;
  /** NGD's step (1: the claim is about η = 1). */
  eta: number;
  /** The width the check is made at (the sweep's last). */
  m: number;
  widths: number[];
  threshold: number;
  /** The largest regime index ξ (see regime.ts). */
  bounds: Bounds;
}

export const e1: Experiment<E1Config> = {
  id: 'E1',
  title: 'NGD with η = 1 fits a wide net in one step',
  claim: 'Exact NGD with η = 1 and tiny damping solves the training problem in one or two steps for a wide net; the step-1 ratio shrinks with width.',
  formula: '‖r₁‖²/‖r₀‖² ≤ 10⁻² at m = 4096, decreasing in m',
  expected: '≤ 1e-2',
  tolerance: 'step-1 ‖r‖² ratio (median over seeds) at the largest width ≤ 1e-2; log-log slope over the width sweep < 0',
  knobs: ['n', 'd', 'm', 'seed'],
  noKnob: {},
  choices: (c) => [
    `n = ${c.n} unit-sphere inputs in d = ${c.d}, Gaussian targets, ν = ${c.nu} (paper.md §8 uses n = 20, d = 10 or 50)`,
    `NGD η = ${c.eta}, damping λ = ${c.damping} (the research notes' NumPy runs), guard off`,
    `widths ${c.widths.join(', ')} (the last is --m, default 4096 quick, 16384 full; factors of 4, none below 64); median over ${c.seeds} seeds (seed ${c.seed} + 1000·s)`,
    `regime judged at m = ${c.m} on the first seed: ρ ≤ ${c.bounds.rho} and ξ ≤ ${c.bounds.xi}`,
  ],
  config(b: BaseConfig): E1Config {
    const m = b.m ?? (b.quick ? 4096 : 16384);
    const widths: number[] = [];
    for (let w = m; w >= Math.min(64, m) && widths.length < (b.quick ? 4 : 5); w = Math.floor(w / 4)) widths.unshift(w);
    return { n: b.n ?? 32, d: b.d ?? 16, nu: 1, damping: 1e-10, seed: b.seed ?? 1, eta: 1, seeds: 3, m, widths, threshold: 1e-2, bounds: BOUNDS.E1 };
  },
  run(c) {
    const rows: { m: number; seed: number; step: number; ratio: number }[] = [];
    const curves: { m: number; step: number; loss: number }[] = [];
    const step1: number[] = [], step2: number[] = [];
    let regime: Regime | undefined;
    for (const m of c.widths) {
      const r1: number[] = [], r2: number[] = [];
      for (let s = 0; s < c.seeds; s++) {
        const seed = c.seed + 1000 * s;
        const X = unitSphere(c.n, c.d, seed), Y = gaussianTargets(c.n, seed + 1);
        const net = twoLayerReLU({ inputDim: c.d, width: m, nu: c.nu, seed: seed + 2 });
        if (m === c.m && s === 0) regime = regimeOf(net, X, Y, c.n, c.nu, m, c.bounds);
        const h = trainOnce(net, { X, Y, n: c.n }, rawNgd(c.eta, c.damping), { steps: 3 });
        net.dispose();
        const losses = h.map((r) => r.loss);
        r1.push(losses[1] / losses[0]);
        // Step 2 is measured only above the float64 floor.
        if (losses[1] > FLOOR * losses[0]) r2.push(losses[2] / losses[1]);
        rows.push({ m, seed, step: 1, ratio: losses[1] / losses[0] });
        if (s === 0) losses.forEach((loss, step) => curves.push({ m, step, loss: loss / losses[0] }));
      }
      step1.push(median(r1));
      step2.push(r2.length ? median(r2) : NaN);
    }
    const fit = logLogFit(c.widths, step1);
    const atM = step1[step1.length - 1];
    const series = {
      widths: c.widths.map((m, i) => ({ m, step1: step1[i], step2: Number.isFinite(step2[i]) ? step2[i] : null })),
      runs: rows,
      curves,
    };
    return {
      measured: atM,
      measuredText: fmt(atM),
      checks: [
        check(`step-1 ratio at m = ${c.m}`, `≤ ${fmt(c.threshold)}`, fmt(atM), atM <= c.threshold),
        check('log-log slope of the step-1 ratio in m', '< 0', fmt(fit.slope), fit.slope < 0),
      ],
      summary: { step1AtM: atM, step2AtM: step2[step2.length - 1], slope: fit.slope },
      series,
      regime,
      notes: [
        `Step-1 ratios by width: ${c.widths.map((m, i) => `m = ${m}: ${fmt(step1[i])}`).join(', ')} (log-log slope ${fmt(fit.slope)}).`,
        `Step-2 ratios (measured only while ‖r‖² is above ${FLOOR} × ‖r₀‖², the float64 floor): ${c.widths.map((m, i) => `m = ${m}: ${Number.isFinite(step2[i]) ? fmt(step2[i]) : 'at the floor'}`).join(', ')}.`,
      ],
    };
  },
};
