import { init, mlp, gd, sgd, adam, softmaxCrossEntropy, type Net, type Optimizer } from '../../src/index';
import { vjp } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { randn } from '../helpers/random';
import { randomLabels } from '../helpers/nets';

/** ∇θ ½Σ(u − y)² = Jᵀ(u − y), via the (separately tested) vector–Jacobian product. */
function gradient(net: Net, X: Float64Array, Y: Float64Array, n: number): Float64Array {
  const U = net.predict(X, n);
  return vjp(net, X, n, U.map((u, i) => u - Y[i]));
}

/** Runs `steps` optimizer steps and the hand-written rule side by side on two identical nets. */
function compare(make: () => Optimizer, rule: (theta: Float64Array, g: Float64Array, t: number) => void, steps = 4) {
  const n = 5, X = randn(1, n * 3), Y = randn(2, n * 2);
  const net = mlp({ sizes: [3, 6, 2], activation: 'tanh', seed: 3 });
  const ref = mlp({ sizes: [3, 6, 2], activation: 'tanh', seed: 3 });
  const opt = make();
  for (let t = 1; t <= steps; t++) {
    const g = gradient(ref, X, Y, n);
    const theta = ref.getParams();
    rule(theta, g, t);
    ref.setParams(theta);
    const stats = opt.step(net, { X, Y, n });
    expect(stats.gradNorm).toBeCloseTo(Math.hypot(...g), 12);
    allClose(net.getParams(), theta, { rtol: 1e-12, atol: 1e-14, label: `step ${t}` });
  }
  net.dispose(); ref.dispose(); opt.dispose();
}

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test('gd: θ ← θ − η∇L', () => {
    compare(() => gd({ lr: 0.3 }), (th, g) => { for (let i = 0; i < th.length; i++) th[i] -= 0.3 * g[i]; });
  });

  test('sgd with momentum: v ← μv + g, θ ← θ − ηv', () => {
    let v: Float64Array | undefined;
    compare(() => sgd({ lr: 0.1, momentum: 0.9 }), (th, g) => {
      v ??= new Float64Array(th.length);
      for (let i = 0; i < th.length; i++) { v[i] = 0.9 * v[i] + g[i]; th[i] -= 0.1 * v[i]; }
    });
  });

  test('sgd with Nesterov momentum: v ← μv + g, θ ← θ − η(g + μv)', () => {
    let v: Float64Array | undefined;
    compare(() => sgd({ lr: 0.1, momentum: 0.8, nesterov: true }), (th, g) => {
      v ??= new Float64Array(th.length);
      for (let i = 0; i < th.length; i++) { v[i] = 0.8 * v[i] + g[i]; th[i] -= 0.1 * (g[i] + 0.8 * v[i]); }
    });
  });

  test('adam: bias-corrected moments, θ ← θ − η m̂/(√v̂ + ε)', () => {
    let m: Float64Array | undefined, v: Float64Array | undefined;
    const [lr, b1, b2, eps] = [0.05, 0.8, 0.99, 1e-6];
    compare(() => adam({ lr, beta1: b1, beta2: b2, eps }), (th, g, t) => {
      m ??= new Float64Array(th.length); v ??= new Float64Array(th.length);
      for (let i = 0; i < th.length; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        th[i] -= lr * (m[i] / (1 - b1 ** t)) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
      }
    });
  });

  test('reset() forgets momentum: the next step is a plain gradient step', () => {
    const n = 4, X = randn(1, n * 3), Y = randn(2, n * 2);
    const net = mlp({ sizes: [3, 5, 2], seed: 1 });
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    opt.step(net, { X, Y, n });
    opt.reset();
    const g = gradient(net, X, Y, n), theta = net.getParams();
    opt.step(net, { X, Y, n });
    allClose(net.getParams(), theta.map((p, i) => p - 0.1 * g[i]), { rtol: 1e-12, atol: 1e-14 });
    net.dispose();
  });

  test('gd on cross-entropy (mean) steps along −η·Jᵀ(p − y)/n', () => {
    const n = 6, k = 3, X = randn(4, n * 2), labels = randomLabels(5, n, k);
    const net = mlp({ sizes: [2, 5, k], seed: 4 });
    const U = net.predict(X, n), c = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      const row = U.subarray(i * k, (i + 1) * k), z = row.reduce((s, u) => s + Math.exp(u), 0);
      for (let j = 0; j < k; j++) c[i * k + j] = (Math.exp(row[j]) / z - (labels[i] === j ? 1 : 0)) / n;
    }
    const g = vjp(net, X, n, c), theta = net.getParams();
    const stats = gd({ lr: 0.5 }).step(net, { X, Y: labels, n }, { loss: softmaxCrossEntropy({ reduction: 'mean' }) });
    allClose(net.getParams(), theta.map((p, i) => p - 0.5 * g[i]), { rtol: 1e-12, atol: 1e-14 });
    expect(stats.updateNorm).toBeCloseTo(0.5 * Math.hypot(...g), 12);
    net.dispose();
  });
});
