import { init, mlp, twoLayerReLU, ngd, gd, adam, train, evaluate, softmaxCrossEntropy, ArgumentError, ShapeError, type Optimizer, type Batch } from '../src/index';
import { BACKENDS } from './helpers/backends';
import { randn } from './helpers/random';
import { randomLabels, unitInputs } from './helpers/nets';

/** An optimizer that records the batches it is given and changes nothing. */
function recorder(): Optimizer & { batches: Batch[] } {
  const batches: Batch[] = [];
  return {
    name: 'recorder', batches,
    step: (_net, b) => { batches.push({ X: b.X.slice(), Y: b.Y.slice(), n: b.n }); return { loss: 1, gradNorm: 0, updateNorm: 0, accepted: true, timeMs: 0 }; },
    reset() {}, dispose() {},
  };
}

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test('one record per step: loss before the step, ratio to the previous loss, norms, damping, time', () => {
    const n = 16, X = unitInputs(1, n, 4), Y = randn(2, n);
    const net = twoLayerReLU({ inputDim: 4, width: 256, seed: 1 });
    const losses: number[] = [];
    const history = train(net, { X, Y, n }, ngd({ lr: 0.5, damping: 1e-6 }), {
      steps: 4, onStep: () => { losses.push(evaluate(net, { X, Y, n })); },
    });
    expect(history).toHaveLength(4);
    expect(history.map((r) => r.step)).toEqual([0, 1, 2, 3]);
    expect(Number.isNaN(history[0].ratio)).toBe(true);
    for (let s = 1; s < 4; s++) {
      expect(history[s].loss).toBeCloseTo(losses[s - 1], 12);
      expect(history[s].ratio).toBeCloseTo(history[s].loss / history[s - 1].loss, 14);
    }
    for (const r of history) {
      expect(r.damping).toBe(1e-6);
      expect(r.gradNorm).toBeGreaterThan(0);
      expect(r.updateNorm).toBeGreaterThan(0);
    }
    net.dispose();
  });

  test('onStep returning false stops training', () => {
    const n = 8, X = randn(1, n * 2), Y = randn(2, n);
    const net = mlp({ sizes: [2, 4, 1] });
    expect(train(net, { X, Y, n }, gd(), { steps: 10, onStep: (r) => r.step < 2 })).toHaveLength(3);
    net.dispose();
  });

  test('mini-batches: seeded permutations, batchSize distinct examples per step, each epoch without repeats', () => {
    const n = 10, X = Float64Array.from({ length: n * 2 }, (_, i) => Math.floor(i / 2)), Y = Float64Array.from({ length: n }, (_, i) => i);
    const net = mlp({ sizes: [2, 3, 1] });
    const run = (seed: number) => { const r = recorder(); train(net, { X, Y, n }, r, { steps: 9, batchSize: 3, seed }); return r.batches; };
    const batches = run(5);
    expect(batches.every((b) => b.n === 3 && b.X.length === 6 && b.Y.length === 3)).toBe(true);
    for (const b of batches) for (let i = 0; i < 3; i++) expect(b.X[2 * i]).toBe(b.Y[i]); // rows stay paired
    for (let epoch = 0; epoch < 3; epoch++) {
      const seen = batches.slice(3 * epoch, 3 * epoch + 3).flatMap((b) => Array.from(b.Y));
      expect(new Set(seen).size).toBe(9);
    }
    expect(run(5).map((b) => Array.from(b.Y))).toEqual(batches.map((b) => Array.from(b.Y)));
    expect(run(6).map((b) => Array.from(b.Y))).not.toEqual(batches.map((b) => Array.from(b.Y)));
    net.dispose();
  });

  test('mini-batch NGD (subsampled Gram–Gauss–Newton) fits a wide net', () => {
    const n = 64, X = unitInputs(3, n, 8), Y = randn(4, n);
    const net = twoLayerReLU({ inputDim: 8, width: 1024, seed: 2 });
    const before = evaluate(net, { X, Y, n });
    train(net, { X, Y, n }, ngd({ lr: 0.5, damping: 1e-4 }), { steps: 40, batchSize: 16, seed: 1 });
    expect(evaluate(net, { X, Y, n }) / before).toBeLessThan(0.05);
    net.dispose();
  });

  test('training is reproducible: the same seeds give the same parameters', () => {
    const n = 20, X = randn(5, n * 3), labels = randomLabels(6, n, 3);
    const run = () => {
      const net = mlp({ sizes: [3, 10, 3], activation: 'tanh', seed: 4 });
      train(net, { X, Y: labels, n }, adam({ lr: 0.01 }), { steps: 6, batchSize: 5, seed: 9, loss: 'cross-entropy' });
      const p = net.getParams();
      net.dispose();
      return p;
    };
    expect(run()).toEqual(run());
  });

  test('evaluate computes the loss of the whole data set', () => {
    const n = 5, X = randn(1, n * 2), labels = randomLabels(2, n, 3);
    const net = mlp({ sizes: [2, 4, 3], seed: 2 });
    const U = net.predict(X, n);
    let expected = 0;
    for (let i = 0; i < n; i++) {
      const row = U.subarray(i * 3, i * 3 + 3);
      expected += Math.log(row.reduce((s, u) => s + Math.exp(u), 0)) - row[labels[i]];
    }
    expect(evaluate(net, { X, Y: labels, n }, { loss: softmaxCrossEntropy({ reduction: 'mean' }) })).toBeCloseTo(expected / n, 13);
    net.dispose();
  });

  test('bad arguments are typed errors naming the argument', () => {
    const n = 4, X = randn(1, n * 2), Y = randn(2, n);
    const net = mlp({ sizes: [2, 3, 1] });
    expect(() => train(net, { X, Y, n }, {} as Optimizer, { steps: 1 })).toThrow(/^optimizer:/);
    expect(() => train(net, { X, Y, n }, gd(), { steps: -1 })).toThrow(ShapeError);
    expect(() => train(net, { X, Y, n }, gd(), { steps: 1, batchSize: 0 })).toThrow(/^batchSize:/);
    expect(() => train(net, { X, Y: randn(3, 3), n }, gd(), { steps: 1 })).toThrow(/^Y:/);
    expect(() => train(net, { X, Y, n }, gd(), { steps: 1, seed: 0.5 })).toThrow(ArgumentError);
    net.dispose();
  });
});

test('training gives the same numbers on both backends', async () => {
  const n = 24, X = unitInputs(7, n, 5), Y = randn(8, n * 2);
  const results: Float64Array[] = [];
  for (const backend of BACKENDS) {
    await init({ backend });
    const net = mlp({ sizes: [5, 16, 16, 2], activation: 'tanh', seed: 5 });
    const h1 = train(net, { X, Y, n }, ngd({ lr: 0.5, damping: 1e-3, adaptive: true }), { steps: 4 });
    const h2 = train(net, { X, Y, n }, adam({ lr: 0.01 }), { steps: 4, batchSize: 8 });
    results.push(Float64Array.from([...h1, ...h2].map((r) => r.loss)));
    net.dispose();
  }
  for (let i = 0; i < results[0].length; i++) expect(Math.abs(results[0][i] / results[1][i] - 1)).toBeLessThan(1e-9);
});
