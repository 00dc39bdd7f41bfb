/**
 * The experiments of `natgrad reproduce` (src/reproduce/experiments), each at a small config on both backends:
 * its checks pass there; a config that breaks the prediction's premise (a narrow net, an unsettled or too-long
 * GD step, the wrong scaling law) makes a check fail, and a narrow net is also judged outside the theorem's
 * regime; the mutations of the issue (η → 0, λ large) turn the relevant check to FAIL while the regime stays
 * inside (so the verdict is FAIL, not "outside"). Every experiment frees every backend allocation it made.
 */
import { init } from '../src/index';
import { kernels } from '../src/advanced';
import { EXPERIMENTS } from '../src/reproduce/experiments/index';
import type { Outcome } from '../src/reproduce/types';
import { straightness, remaining } from '../src/reproduce/experiments/f1';
import { BACKENDS } from './helpers/backends';
import { countAllocations } from './fuzz/harness';

/** Per experiment: overrides of the quick config for a small passing run, and the overrides that break it. */
const CASES: Record<string, { small: Record<string, unknown>; broken: Record<string, unknown>; why: string; narrow: boolean }> = {
  E1: { small: { n: 16, d: 8, seeds: 1, m: 1024, widths: [64, 1024] }, broken: { widths: [16, 64], m: 64 }, why: 'm = 64 is not wide: step-1 ratio ≈ 0.03', narrow: true },
  E2: { small: { n: 16, m: 1024, sizes: [16], etas: [0.5], steps: 3 }, broken: { m: 32 }, why: 'at m = 32 the rate degrades past ±0.05', narrow: true },
  E3: { small: { n: 16, m: 1024, angles: [1.6, 0.4] }, broken: { lrScale: 1.9 }, why: 'with η = 1.9/λ_max the top mode contracts slowest, not λ_min\'s', narrow: false },
  E4: {
    small: { n: 16, seeds: 2, widths: [256, 1024, 4096], nus: [1, 0.1], mNu: 1024 },
    broken: { bands: { deviation: [-0.8, -0.3], gram: [-0.7, -0.35], jacobian: [-0.7, -0.35] } }, why: 'claiming m^(−1/2) for the Jacobian drift fails: it is m^(−1/4)', narrow: false,
  },
  E5: { small: { n: 16, m: 1024, angles: [0.3, 3e-3], gdAngles: [0.1, 0.01], widths: [1024] }, broken: { m: 16, widths: [16] }, why: 'at m = 16 NGD loses its rate even on smooth labels', narrow: true },
  E6: { small: { n: 16, m: 4096, lambdaOverMuMin: [1, 100], steps: 3 }, broken: { m: 128 }, why: 'at m = 128 the nonlinear remainder exceeds 5% per mode', narrow: true },
  E7: { small: { m: 2048, nWide: 8, dWide: 16, nTall: 32, dTall: 8, steps: 3 }, broken: { m: 32 }, why: 'at m = 32 P_Γ ≠ I: K-FAC is neither NGD nor diagonal', narrow: true },
  E8: { small: { n: 12, d: 8, nTest: 32, widths: [256, 4096] }, broken: { widths: [32, 64] }, why: 'narrow nets move further than √(r₀ᵀG⁻¹r₀)', narrow: true },
  F1: { small: { n: 8, m: 256, ngdLr: 0.15, ngdSteps: 30 }, broken: { m: 8 }, why: 'at m = 8 NGD\'s output path bends', narrow: true },
};

/** The mutations: η → 0 or λ large, each with the check it must turn to FAIL. */
const MUTATIONS: [string, string, Record<string, unknown>, RegExp][] = [
  ['E1', 'η → 0', { eta: 1e-9 }, /step-1 ratio/],
  ['E1', 'λ large', { damping: 1e3 }, /step-1 ratio/],
  ['E2', 'λ large', { damping: 10 }, /largest \|ratio/],
  ['E3', 'NGD η → 0', { ngdLr: 1e-9 }, /NGD reaches 1e-3/],
  ['E5', 'λ large (1e-2 ≫ λ_min)', { damping: 1e-2 }, /slowest mode alone/],
  ['E8', 'NGD η → 0', { ngdLr: 1e-9 }, /NGD reached interpolation/],
  ['F1', 'NGD η → 0', { ngdLr: 1e-9 }, /NGD reaches the targets/],
  ['F1', 'λ large', { damping: 1e3 }, /NGD reaches the targets/],
];

const passes = (o: Outcome) => o.checks.every((c) => c.pass);
const failed = (o: Outcome) => o.checks.filter((c) => !c.pass).map((c) => c.name);
const experiment = (id: string) => EXPERIMENTS.find((e) => e.id === id)!;

test('every experiment has a case here, and the ids are the issue\'s', () => {
  expect(EXPERIMENTS.map((e) => e.id)).toEqual(['E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8', 'F1']);
  for (const e of EXPERIMENTS) expect(Object.keys(CASES)).toContain(e.id);
});

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test.each(EXPERIMENTS.map((e) => [e.id, e] as const))('%s passes at a small config and frees what it allocated; the check fails when its premise is broken', async (id, e) => {
    await e.prepare?.();
    const { small, broken, why, narrow } = CASES[id];
    const counter = countAllocations(kernels());
    const config = { ...e.config({ quick: true }), ...small };
    // The first run may create the backend's lasting scratch buffers; from then on every run frees all it made.
    const good = e.run(config), live0 = counter.live;
    e.run(config);
    expect(counter.live).toBe(live0);
    expect(good.checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.measured} (expected ${c.expected})`)).toEqual([]);
    expect(Number.isFinite(good.measured)).toBe(true);
    const bad = e.run({ ...config, ...broken });
    expect(counter.live).toBe(live0);
    expect({ why, pass: passes(bad) }).toEqual({ why, pass: false });
    // A width too small for the measured λ₀ is outside the theorem's regime, not evidence against it.
    if (narrow) expect({ why, inside: bad.regime?.inside }).toEqual({ why, inside: false });
  });

  test.each(MUTATIONS)('%s: %s turns the relevant check to FAIL inside the regime', async (id, _what, mutation, check) => {
    const e = experiment(id);
    await e.prepare?.();
    const config = { ...e.config({ quick: true }), ...CASES[id].small };
    const out = e.run({ ...config, ...mutation });
    expect(failed(out).some((name) => check.test(name))).toBe(true);
    // The regime is judged from λ₀, the labels and the width only: the mutation does not move it.
    expect(out.regime?.index).toBe(e.run(config).regime?.index);
    expect(out.regime?.inside).toBe(true);
  });
});

test('E2 does not pass on no evidence: a run that measures no ratio fails its check', async () => {
  await init({ backend: 'js' });
  const e = experiment('E2');
  // steps 0: one loss per run, so no per-step ratio is measured at all.
  const out = e.run({ ...e.config({ quick: true }), ...CASES.E2.small, steps: 0 });
  expect(passes(out)).toBe(false);
});

test('F1\'s straightness is the distance from the SEGMENT start → target: overshooting or turning back is not straight; remaining() measures arrival', () => {
  const y: [number, number] = [1, 0];
  expect(straightness([[0, 0], [0.5, 0], [1, 0]], y)).toBe(0);
  // On the infinite line but past the target, or behind the start: 0.5 and 0.3 away from the segment.
  expect(straightness([[0, 0], [1.5, 0], [1, 0]], y)).toBeCloseTo(0.5, 12);
  expect(straightness([[0, 0], [-0.3, 0], [1, 0]], y)).toBeCloseTo(0.3, 12);
  expect(straightness([[0, 0], [0.5, 0.2], [1, 0]], y)).toBeCloseTo(0.2, 12);
  // A path that never moves is "straight" but has not arrived: that is what remaining() catches.
  expect(straightness([[0, 0], [0, 0]], y)).toBe(0);
  expect(remaining([[0, 0], [0, 0]], y)).toBe(1);
  expect(remaining([[0, 0], [0.9, 0]], y)).toBeCloseTo(0.1, 12);
});

test('the settings each experiment reports are written from the config that ran', () => {
  for (const e of EXPERIMENTS) {
    const a = e.choices(e.config({ quick: true, m: 512, n: 20, d: 6, seed: 9 }) as never).join('\n');
    if (e.knobs.includes('m')) expect({ id: e.id, m: a.includes('512') }).toEqual({ id: e.id, m: true });
    for (const k of ['n', 'd', 'm', 'seed'] as const) {
      // Every flag applies, or the experiment says why not.
      if (!e.knobs.includes(k) && k !== 'seed') expect({ id: e.id, k, why: typeof e.noKnob[k] }).toEqual({ id: e.id, k, why: 'string' });
    }
  }
  for (const k of ['n', 'd', 'm', 'seed'] as const) expect(EXPERIMENTS.filter((e) => !e.knobs.includes(k) && !e.noKnob[k]).map((e) => e.id)).toEqual([]);
});
