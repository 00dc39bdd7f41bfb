import { init, mlp, ngd, adam, fit, ArgumentError } from '../../src/index';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';

/** y = sin(3x) + ε, ε ~ N(0, 0.1²), x ∈ [−1, 1]. */
function noisySine(n: number, seed: number) {
  const X = new Float64Array(n), Y = new Float64Array(n), e = randn(seed, n);
  for (let i = 0; i < n; i++) { X[i] = -1 + 2 * i / (n - 1); Y[i] = Math.sin(3 * X[i]) + 0.1 * e[i]; }
  return { X, Y, n };
}

describe.each(BACKENDS)('fit(…, { bayesian: true }) on %s', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test('re-estimates δ and σ every epoch and reports them; σ approaches the true noise and the weights shrink', () => {
    const data = noisySine(60, 3);
    const net = mlp({ sizes: [1, 24, 1], activation: 'tanh', seed: 2 });
    const plain = mlp({ sizes: [1, 24, 1], activation: 'tanh', seed: 2 });
    const { history, state } = fit(net, data, ngd({ damping: 1e-3 }), { epochs: 25, bayesian: true });
    fit(plain, data, ngd({ damping: 1e-3 }), { epochs: 25 });
    expect(history).toHaveLength(25);
    for (const r of history) {
      expect(r.bayesian).toBeDefined();
      const b = r.bayesian!;
      for (const v of [b.prior, b.noise, b.effectiveParameters, b.logMarginalLikelihood]) expect(Number.isFinite(v)).toBe(true);
      expect(b.prior).toBeGreaterThan(0);
      expect(b.effectiveParameters).toBeGreaterThan(0);
      expect(b.effectiveParameters).toBeLessThan(net.numParams);
    }
    const last = history[24].bayesian!;
    expect(state.bayesian).toEqual({ prior: last.prior, noise: last.noise });
    // The noise was 0.1: the evidence finds it to within a factor 1.5.
    expect(last.noise).toBeGreaterThan(0.1 / 1.5);
    expect(last.noise).toBeLessThan(0.1 * 1.5);
    // The evidence rose over training, and the prior kept the weights smaller than unregularised training did.
    expect(last.logMarginalLikelihood).toBeGreaterThan(history[0].bayesian!.logMarginalLikelihood);
    const norm = (p: Float64Array) => Math.sqrt(p.reduce((a, v) => a + v * v, 0));
    expect(norm(net.getParams())).toBeLessThan(norm(plain.getParams()));
    net.dispose(); plain.dispose();
  });

  test('works with a first-order optimizer and cross-entropy (δ only); bad starting values are ArgumentErrors', () => {
    const n = 30, X = randn(5, n * 2), Y = Float64Array.from({ length: n }, (_, i) => (X[2 * i] > 0 ? 1 : 0));
    const net = mlp({ sizes: [2, 8, 2], activation: 'tanh', seed: 1 });
    const { history } = fit(net, { X, Y, n }, adam({ lr: 0.05 }), { epochs: 5, loss: 'cross-entropy', bayesian: { prior: 0.1 } });
    for (const r of history) { expect(r.bayesian!.noise).toBe(1); expect(r.bayesian!.prior).toBeGreaterThan(0); }
    expect(() => fit(net, { X, Y, n }, adam(), { epochs: 1, loss: 'cross-entropy', bayesian: { noise: 0.5 } })).toThrow(/bayesian.noise/);
    expect(() => fit(net, { X, Y, n }, adam(), { epochs: 1, loss: 'cross-entropy', bayesian: { prior: -1 } })).toThrow(ArgumentError);
    net.dispose();
  });
});
