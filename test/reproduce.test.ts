/**
 * The experiments of `natgrad reproduce` (src/reproduce/experiments), each at a small config on both backends:
 * it passes there, and a config that breaks the prediction's premise (a narrow net, an unsettled or too-long
 * GD step, the wrong scaling law) makes its check fail — so a PASS is not a foregone conclusion.
 */
import { init } from '../src/index';
import { EXPERIMENTS } from '../src/reproduce/experiments/index';
import type { Outcome } from '../src/reproduce/types';
import { BACKENDS } from './helpers/backends';

/** Per experiment: overrides of the quick config for a small passing run, and the overrides that break it. */
const CASES: Record<string, { small: Record<string, unknown>; broken: Record<string, unknown>; why: string }> = {
  E1: { small: { n: 16, d: 8, seeds: 1, m: 1024, widths: [64, 1024] }, broken: { widths: [16, 64], m: 64 }, why: 'm = 64 is not wide: step-1 ratio ≈ 0.03' },
  E2: { small: { n: 16, m: 1024, sizes: [16], etas: [0.5], steps: 3 }, broken: { m: 32 }, why: 'at m = 32 the rate degrades past ±0.05' },
  E3: { small: { n: 16, m: 1024, angles: [1.6, 0.4] }, broken: { lrScale: 1.9 }, why: 'with η = 1.9/λ_max the top mode contracts slowest, not λ_min\'s' },
  E4: {
    small: { n: 16, seeds: 2, widths: [256, 1024, 4096], nus: [1, 0.1], mNu: 1024 },
    broken: { bands: { deviation: [-0.8, -0.3], gram: [-0.7, -0.35], jacobian: [-0.7, -0.35] } }, why: 'claiming m^(−1/2) for the Jacobian drift fails: it is m^(−1/4)',
  },
  E5: { small: { n: 16, m: 1024, angles: [0.3, 3e-3], gdAngles: [0.1, 0.01], widths: [1024] }, broken: { m: 16, widths: [16] }, why: 'at m = 16 NGD loses its rate even on smooth labels' },
  E6: { small: { n: 16, m: 4096, lambdaOverMuMin: [1, 100], steps: 3 }, broken: { m: 128 }, why: 'at m = 128 the nonlinear remainder exceeds 5% per mode' },
  E7: { small: { m: 2048, nWide: 8, dWide: 16, nTall: 32, dTall: 8, steps: 3 }, broken: { m: 32 }, why: 'at m = 32 P_Γ ≠ I: K-FAC is neither NGD nor diagonal' },
  E8: { small: { n: 12, d: 8, nTest: 32, widths: [256, 4096] }, broken: { widths: [32, 64] }, why: 'narrow nets move further than √(r₀ᵀG⁻¹r₀)' },
  F1: { small: { n: 8, m: 256, ngdSteps: 20 }, broken: { m: 8 }, why: 'at m = 8 NGD\'s output path bends' },
};

const passes = (o: Outcome) => o.checks.every((c) => c.pass);

test('every experiment has a case here, and the ids are the issue\'s', () => {
  expect(EXPERIMENTS.map((e) => e.id)).toEqual(['E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8', 'F1']);
  for (const e of EXPERIMENTS) expect(Object.keys(CASES)).toContain(e.id);
});

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test.each(EXPERIMENTS.map((e) => [e.id, e] as const))('%s passes at a small config; the check fails when its premise is broken', async (id, e) => {
    await e.prepare?.();
    const { small, broken, why } = CASES[id];
    const config = { ...e.config({ quick: true }), ...small };
    const good = e.run(config);
    const failed = good.checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.measured} (expected ${c.expected})`);
    expect(failed).toEqual([]);
    expect(Number.isFinite(good.measured)).toBe(true);
    const bad = e.run({ ...config, ...broken });
    expect({ why, pass: passes(bad) }).toEqual({ why, pass: false });
  });
});

test('E2 does not pass on no evidence: a run that measures no ratio fails its check', async () => {
  await init({ backend: 'js' });
  const e = EXPERIMENTS.find((x) => x.id === 'E2')!;
  // steps 0: one loss per run, so no per-step ratio is measured at all.
  const out = e.run({ ...e.config({ quick: true }), ...CASES.E2.small, steps: 0 });
  expect(passes(out)).toBe(false);
});
