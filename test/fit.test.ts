import {
  init, mlp, adam, sgd, ngd, kfac, gd, fit, evaluate, predictClasses, predictProba, constantLr, stepLr, exponentialLr, cosineLr,
  ArgumentError, DivergenceError, type Batch, type EpochRecord,
} from '../src/index';
import { chooseOptimizer } from '../src/advanced';
import { BACKENDS } from './helpers/backends';
import { randn } from './helpers/random';

/** Three Gaussian blobs in 2-D: a separable classification set. */
function blobs(n: number, seed: number): Batch {
  const z = randn(seed, 2 * n);
  const X = new Float64Array(2 * n), Y = new Float64Array(n);
  const centres = [[2, 0], [-1, 1.7], [-1, -1.7]];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    Y[i] = c;
    X[2 * i] = centres[c][0] + 0.4 * z[2 * i];
    X[2 * i + 1] = centres[c][1] + 0.4 * z[2 * i + 1];
  }
  return { X, Y, n };
}

const bits = (a: Float64Array) => Array.from(new Uint32Array(a.slice().buffer));

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test("fit without an optimizer: 'auto' picks exact NGD for a small set, holds out a fifth, stops early keeping the best epoch", () => {
    const net = mlp({ sizes: [2, 16, 3], seed: 1 });
    const data = blobs(150, 2);
    const before = evaluate(net, data, { loss: 'cross-entropy' });
    const r = fit(net, data, { epochs: 60, loss: 'cross-entropy', metrics: ['accuracy'] });
    expect(r.optimizer?.name).toBe('ngd');
    expect(r.optimizer?.reason).toMatch(/^Gram system 360×360 \(120 rows × 3 outputs\), 99 parameters: an exact NGD step ≈ .*, so exact NGD$/);
    expect(r.history[0].valLoss).toBeDefined();
    expect(r.history.at(-1)!.valMetrics!.accuracy).toBeGreaterThan(0.9);
    // Early stopping is on and keeps the best validation epoch's weights.
    const best = Math.min(...r.history.map((h) => h.valLoss!));
    expect(r.bestEpoch === undefined || r.history[r.bestEpoch - 1].valLoss === best).toBe(true);
    expect(evaluate(net, data, { loss: 'cross-entropy' })).toBeLessThan(before);
    // 'auto' spelled out, with validation turned off: nothing held out, no early stopping.
    const net2 = mlp({ sizes: [2, 16, 3], seed: 1 });
    const r2 = fit(net2, data, 'auto', { epochs: 3, loss: 'cross-entropy', validation: 0 });
    expect(r2.history[0].valLoss).toBeUndefined();
    expect(r2.history).toHaveLength(3);
    net.dispose(); net2.dispose();
  });

  test('a diverging run raises DivergenceError: sgd at lr 1e6', () => {
    const net = mlp({ sizes: [2, 16, 3], seed: 1 });
    expect(() => fit(net, blobs(60, 3), sgd({ lr: 1e6 }), { epochs: 20, loss: 'cross-entropy' })).toThrow(DivergenceError);
    net.dispose();
  });

  test('fit checks its option names and types: a misspelt key gets the closest one, belowStart must be a boolean (review R24)', () => {
    const net = mlp({ sizes: [2, 4, 3], seed: 1 }), data = blobs(30, 2), before = net.getParams();
    expect(() => fit(net, data, gd({ lr: 0.1 }), { epochs: 2, belowstart: false } as never)).toThrow(/belowstart: is not an option of fit\(\); did you mean 'belowStart'\?/);
    expect(() => fit(net, data, { epochs: 2, validaton: 0.2 } as never)).toThrow(/did you mean 'validation'\?/);
    expect(() => fit(net, data, gd({ lr: 0.1 }), { epochs: 2, belowStart: 0 } as never)).toThrow(/belowStart: must be a boolean, got/);
    expect(bits(net.getParams())).toEqual(bits(before));
    net.dispose();
  });

  test('a diverging run leaves the weights of its lowest loss, the start included (belowStart; review R23)', () => {
    for (const lr of [1, 3, 100]) {
      const net = mlp({ sizes: [2, 8, 1], activation: 'tanh', seed: 1 }), data = blobs(40, 4);
      const start = net.getParams(), before = evaluate(net, data);
      expect(() => fit(net, data, gd({ lr }), { epochs: 20 })).toThrow(DivergenceError);
      expect(evaluate(net, data)).toBeLessThanOrEqual(before);
      if (lr === 100) expect(bits(net.getParams())).toEqual(bits(start)); // diverged at once: the start is the lowest
      net.dispose();
    }
  });

  test('one record per epoch with training and validation loss and accuracy; a classifier is learnt', () => {
    const net = mlp({ sizes: [2, 16, 3], seed: 1 });
    const epochs: EpochRecord[] = [];
    const { history, stopReason, state } = fit(net, blobs(120, 1), adam({ lr: 0.05 }), {
      epochs: 8, batchSize: 16, loss: 'cross-entropy', validation: 0.25, metrics: ['accuracy'], seed: 2,
      onEpoch: (r) => { epochs.push(r); },
    });
    expect(stopReason).toBe('epochs');
    expect(history).toHaveLength(8);
    expect(epochs).toEqual(history);
    expect(history.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(history[0].steps).toBe(Math.ceil(90 / 16)); // 30 of 120 held out; the last batch is partial
    expect(state).toMatchObject({ epoch: 8, step: 8 * 6 });
    const last = history[7];
    expect(last.loss).toBeLessThan(history[0].loss);
    expect(last.valMetrics!.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(last.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    // Per-example losses: the record equals evaluate's mean form on the same set.
    const test = blobs(60, 9);
    const e = evaluate(net, test, { loss: 'cross-entropy', metrics: ['accuracy'] });
    expect(e.loss).toBeCloseTo(evaluate(net, test, { loss: 'cross-entropy' }) / 60, 12);
    expect(e.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    const classes = predictClasses(net, test.X, 60);
    expect(classes.filter((c, i) => c === test.Y[i]).length / 60).toBe(e.metrics.accuracy);
    const P = predictProba(net, test.X, 60);
    for (let i = 0; i < 60; i++) {
      expect(P[3 * i] + P[3 * i + 1] + P[3 * i + 2]).toBeCloseTo(1, 14);
      expect(P[3 * i + classes[i]]).toBe(Math.max(P[3 * i], P[3 * i + 1], P[3 * i + 2]));
    }
    net.dispose();
  });

  test('seeded: the same seed gives the same parameters bit for bit, another seed other ones', () => {
    const run = (seed: number) => {
      const net = mlp({ sizes: [2, 8, 3], seed: 1 });
      fit(net, blobs(50, 3), sgd({ lr: 0.05, momentum: 0.9 }), { epochs: 3, batchSize: 7, loss: 'cross-entropy', seed });
      const p = net.getParams();
      net.dispose();
      return bits(p);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  test('resuming from an epoch state continues exactly as an uninterrupted run', () => {
    const data = blobs(40, 4);
    const opts = { batchSize: 6, loss: 'cross-entropy' as const, seed: 3 };
    const a = mlp({ sizes: [2, 8, 3], seed: 2 }), optA = adam({ lr: 0.02 });
    fit(a, data, optA, { ...opts, epochs: 4 });
    const b = mlp({ sizes: [2, 8, 3], seed: 2 }), optB = adam({ lr: 0.02 });
    const half = fit(b, data, optB, { ...opts, epochs: 2 });
    const rest = fit(b, data, optB, { ...opts, epochs: 4, resume: half.state });
    expect(rest.history.map((r) => r.epoch)).toEqual([3, 4]);
    expect(bits(b.getParams())).toEqual(bits(a.getParams()));
    a.dispose(); b.dispose();
  });

  test('regression metrics: rmse, mae and r2 from their definitions', () => {
    const net = mlp({ sizes: [1, 4, 1], seed: 1 });
    const X = new Float64Array([0, 1, 2, 3]), Y = new Float64Array([1, 0, 2, 5]);
    const U = net.predict(X, 4);
    const { loss, metrics } = evaluate(net, { X, Y, n: 4 }, { metrics: ['rmse', 'mae', 'r2'] });
    let se = 0, ae = 0;
    for (let i = 0; i < 4; i++) { se += (U[i] - Y[i]) ** 2; ae += Math.abs(U[i] - Y[i]); }
    expect(loss).toBeCloseTo(0.5 * se / 4, 14);
    expect(metrics.rmse).toBeCloseTo(Math.sqrt(se / 4), 14);
    expect(metrics.mae).toBeCloseTo(ae / 4, 14);
    const mean = 2, tot = 1 + 4 + 0 + 9;
    expect(metrics.r2).toBeCloseTo(1 - se / tot, 12);
    void mean;
    expect(() => evaluate(net, { X, Y, n: 4 }, { metrics: ['accuracy'] })).toThrow(ArgumentError);
    net.dispose();
  });

  test('early stopping on validation loss restores the best epoch', () => {
    // Validation targets are the negated training targets, so the validation loss soon stops improving.
    const n = 20, X = randn(1, 2 * n), Y = randn(2, n);
    const valSet = { X, Y: Y.map((y) => -y), n };
    const net = mlp({ sizes: [2, 8, 1], seed: 3 });
    const params: number[][] = [];
    const r = fit(net, { X, Y, n }, ngd({ lr: 0.3, damping: 1e-2 }), {
      epochs: 50, validation: valSet, earlyStopping: { patience: 3 },
      onEpoch: () => { params.push(bits(net.getParams())); },
    });
    expect(r.stopReason).toBe('early-stopping');
    const val = r.history.map((h) => h.valLoss!);
    const best = val.indexOf(Math.min(...val));
    expect(r.history).toHaveLength(best + 1 + 3);
    expect(r.bestEpoch).toBe(best + 1);
    expect(best + 1).toBeLessThan(r.history.length);
    expect(bits(net.getParams())).toEqual(params[best]);
    net.dispose();
  });

  test('a learning-rate schedule sets η before every step, as a manual loop does', () => {
    const data = blobs(24, 2);
    const schedule = stepLr(0.1, 3, 0.5);
    const a = mlp({ sizes: [2, 6, 3], seed: 1 }), b = mlp({ sizes: [2, 6, 3], seed: 1 });
    const r = fit(a, data, sgd({ lr: 1, momentum: 0.5 }), { epochs: 4, loss: 'cross-entropy', lr: schedule });
    expect(r.history.map((h) => h.lr)).toEqual([0.1, 0.1, 0.1, 0.05]);
    const opt = sgd({ lr: 1, momentum: 0.5 });
    for (let k = 0; k < 4; k++) { opt.setLearningRate!(schedule(k)); opt.step(b, data, { loss: 'cross-entropy' }); }
    expect(bits(a.getParams())).toEqual(bits(b.getParams()));
    for (const make of [() => adam(), () => ngd(), () => kfac(), () => gd()]) {
      const o = make();
      expect(typeof o.setLearningRate).toBe('function');
      expect(() => o.setLearningRate!(-1)).toThrow(ArgumentError);
    }
    expect(() => fit(a, data, kfac({ lr: 'auto' }), { epochs: 1, loss: 'cross-entropy', lr: 0.1 })).toThrow(/'auto'/);
    expect(() => fit(a, data, sgd(), { epochs: 1, loss: 'cross-entropy', lr: () => NaN })).toThrow(/returned NaN at step 0/);
    a.dispose(); b.dispose();
  });

  test('AdamW: decoupled weight decay shrinks θ by (1 − ηλ) before the Adam step', () => {
    const data = blobs(12, 3);
    const a = mlp({ sizes: [2, 5, 3], seed: 4 }), b = mlp({ sizes: [2, 5, 3], seed: 4 });
    const theta0 = a.getParams();
    adam({ lr: 0.01, weightDecay: 0.5 }).step(a, data, { loss: 'cross-entropy' });
    adam({ lr: 0.01 }).step(b, data, { loss: 'cross-entropy' });
    const pa = a.getParams(), pb = b.getParams();
    for (let i = 0; i < pa.length; i++) expect(pa[i] - pb[i]).toBeCloseTo(-0.01 * 0.5 * theta0[i], 12);
    expect(() => adam({ weightDecay: -1 })).toThrow(ArgumentError);
    expect(String(adam({ weightDecay: 0.1 }))).toMatch(/weightDecay=0.1/);
    a.dispose(); b.dispose();
  });

  test('AbortSignal and a false from onEpoch stop training', () => {
    const net = mlp({ sizes: [2, 8, 3], seed: 1 });
    const ctl = new AbortController();
    let steps = 0;
    const r = fit(net, blobs(30, 1), adam(), {
      epochs: 10, batchSize: 5, loss: 'cross-entropy', signal: ctl.signal,
      onStep: () => { if (++steps === 8) ctl.abort(); },
    });
    expect(r.stopReason).toBe('aborted');
    expect(steps).toBe(8);
    expect(r.history).toHaveLength(1);
    const s = fit(net, blobs(30, 1), adam(), { epochs: 10, loss: 'cross-entropy', onEpoch: (rec) => rec.epoch < 2 });
    expect(s.stopReason).toBe('callback');
    expect(s.history).toHaveLength(2);
    net.dispose();
  });
});

test('learning-rate schedules', () => {
  expect(constantLr(0.1)(1000)).toBe(0.1);
  expect([0, 9, 10, 25].map(stepLr(1, 10, 0.5))).toEqual([1, 1, 0.5, 0.25]);
  expect(exponentialLr(2, 0.5)(3)).toBe(0.25);
  const c = cosineLr(1, 11, 0.1, 1);
  expect(c(0)).toBe(1);
  expect(c(1)).toBe(1);
  expect(c(6)).toBeCloseTo(0.55, 14);
  expect(c(11)).toBeCloseTo(0.1, 14);
  expect(c(50)).toBeCloseTo(0.1, 14);
  expect(() => cosineLr(1, 10, 2)).toThrow(ArgumentError);
});

test('chooseOptimizer: exact NGD while the Gram system is small, K-FAC for digits-sized problems', () => {
  expect(chooseOptimizer({ rows: 120, outputs: 3, params: 131, epochs: 100 }).optimizer).toBe('ngd');
  const digits = chooseOptimizer({ rows: 1150, outputs: 10, params: 2410, epochs: 100 });
  expect(digits.optimizer).toBe('kfac');
  expect(digits.reason).toMatch(/more than 4096 Gram rows, so K-FAC$/);
  expect(chooseOptimizer({ rows: 900, outputs: 2, params: 1058, epochs: 1000 }).reason).toMatch(/1000 epochs ≈ \S+ s > 15 s, so K-FAC$/);
  expect(() => chooseOptimizer({ rows: 0, outputs: 3, params: 1, epochs: 1 })).toThrow(ArgumentError);
  // Mini-batches: every step of every epoch counts (review R4: 10,000 rows in batches of 256 are 40 steps an epoch).
  expect(chooseOptimizer({ rows: 256, outputs: 1, params: 1000, epochs: 100 }).optimizer).toBe('ngd');
  const batched = chooseOptimizer({ rows: 256, outputs: 1, params: 1000, epochs: 100, stepsPerEpoch: 40 });
  expect(batched.optimizer).toBe('kfac');
  expect(batched.reason).toMatch(/100 epochs of 40 steps ≈ \S+ s > 15 s, so K-FAC$/);
  expect(() => chooseOptimizer({ rows: 1, outputs: 1, params: 1, epochs: 1, stepsPerEpoch: 0 })).toThrow(ArgumentError);
});
