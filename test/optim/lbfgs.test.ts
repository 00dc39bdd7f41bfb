/**
 * L-BFGS behind the batch Optimizer interface: ordinary training with `train` and `fit` on a small
 * regression (a linear net reaches the least-squares solution ml-matrix computes; an MLP's loss never
 * rises and ends far below Adam's after the same steps), the one-net binding, and bad input.
 */
import { Matrix, solve } from 'ml-matrix';
import { init } from '../../src/backend/init';
import { mlp } from '../../src/nn/models';
import { lbfgs } from '../../src/optim/lbfgs';
import { adam } from '../../src/optim/first-order';
import { train } from '../../src/training/train';
import { fit } from '../../src/training/fit';
import { ShapeError, StateError } from '../../src/errors';
import { allClose } from '../helpers/allclose';
import { BACKENDS } from '../helpers/backends';

/** n points in [−1, 1]², seeded, and y = sin(2x₁) + x₂² (or a linear target with noise). */
function regression(n: number, linear: boolean): { X: Float64Array; Y: Float64Array; n: number } {
  const X = new Float64Array(2 * n), Y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.sin(12.9898 * i + 1) * 2, b = Math.cos(78.233 * i + 2) * 2;
    X[2 * i] = a - Math.trunc(a); X[2 * i + 1] = b - Math.trunc(b);
    Y[i] = linear ? 0.7 * X[2 * i] - 1.3 * X[2 * i + 1] + 0.25 + 0.1 * Math.sin(3.1 * i) : Math.sin(2 * X[2 * i]) + X[2 * i + 1] ** 2;
  }
  return { X, Y, n };
}

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test('a linear net trained by train() reaches the least-squares solution (ml-matrix)', () => {
    const data = regression(40, true);
    const net = mlp({ sizes: [2, 1], seed: 3 });
    const history = train(net, data, lbfgs(), { steps: 30 });
    expect(history.every((r) => r.loss >= 0)).toBe(true);
    // [w₁, w₂, b] from the normal equations of [X | 1].
    const A = new Matrix(data.n, 3);
    for (let i = 0; i < data.n; i++) A.setRow(i, [data.X[2 * i], data.X[2 * i + 1], 1]);
    const w = solve(A, Matrix.columnVector(Array.from(data.Y))).to1DArray();
    const u = net.predict(data.X, data.n), fitted = new Float64Array(data.n);
    for (let i = 0; i < data.n; i++) fitted[i] = w[0] * data.X[2 * i] + w[1] * data.X[2 * i + 1] + w[2];
    allClose(u, fitted, { atol: 1e-7, label: 'L-BFGS fit vs least squares' });
    net.dispose();
  });

  test('on an MLP the loss never rises, and after 60 steps it is ≥ 10× below Adam\'s', () => {
    const data = regression(64, false);
    const a = mlp({ sizes: [2, 16, 1], activation: 'tanh', init: 'glorot', seed: 1 });
    const b = mlp({ sizes: [2, 16, 1], activation: 'tanh', init: 'glorot', seed: 1 });
    const opt = lbfgs();
    const h = train(a, data, opt, { steps: 60 });
    for (let i = 1; i < h.length; i++) expect(h[i].loss).toBeLessThanOrEqual(h[i - 1].loss);
    const ha = train(b, data, adam({ lr: 1e-2 }), { steps: 60 });
    const last = (net: typeof a) => { const u = net.predict(data.X, data.n); let s = 0; for (let i = 0; i < data.n; i++) s += 0.5 * (u[i] - data.Y[i]) ** 2; return s; };
    expect(last(a)).toBeLessThan(0.1 * last(b));
    expect(h[59].loss).toBeLessThan(1e-2 * h[0].loss);
    expect(ha.length).toBe(60);
    opt.dispose();
    for (const x of [a, b]) x.dispose();
  });

  test('fit() takes it as its optimizer, with validation and early stopping', () => {
    const data = regression(80, false);
    const net = mlp({ sizes: [2, 8, 1], activation: 'tanh', init: 'glorot', seed: 2 });
    const r = fit(net, data, lbfgs(), { epochs: 20, validation: 0.25 });
    expect(r.history.length).toBeGreaterThan(0);
    expect(r.history[r.history.length - 1].loss).toBeLessThan(r.history[0].loss);
    net.dispose();
  });

  test('bound to one net: another net throws StateError until reset(); bad batches are typed errors, θ untouched', () => {
    const data = regression(16, false);
    const a = mlp({ sizes: [2, 4, 1], activation: 'tanh', seed: 1 }), b = mlp({ sizes: [2, 4, 1], activation: 'tanh', seed: 2 });
    const opt = lbfgs();
    opt.step(a, data);
    expect(() => opt.step(b, data)).toThrow(StateError);
    opt.reset();
    expect(opt.step(b, data).accepted).toBe(true);
    const theta = b.getParams();
    expect(() => opt.step(b, { X: data.X, Y: data.Y, n: 17 })).toThrow(ShapeError);
    expect(b.getParams()).toEqual(theta);
    opt.dispose();
    expect(() => opt.step(b, data)).toThrow(StateError);
    for (const x of [a, b]) x.dispose();
  });
});
