import { Matrix, pseudoInverse, solve } from 'ml-matrix';
import {
  init, mlp, twoLayerReLU, ngd, squaredError, softmaxCrossEntropy, evaluate, ShapeError, type Net, type Loss,
} from '../../src/index';
import { jacobian } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';
import { randomLabels, relErr, unitInputs } from '../helpers/nets';

/** Explicit-J oracle: the Gauss–Newton matrix F, gradient g and loss for squared error ('sum'/'mean') or softmax CE. */
function explicitSystem(net: Net, X: Float64Array, Y: Float64Array, n: number, loss: Loss) {
  const k = net.outputDim, P = net.numParams;
  const J = new Matrix(Array.from({ length: n * k }, (_, r) => Array.from(jacobian(net, X, n).subarray(r * P, (r + 1) * P))));
  const U = net.predict(X, n);
  const w = loss.reduction === 'mean' ? 1 / n : 1;
  const F = Matrix.zeros(P, P), g = Matrix.zeros(P, 1);
  for (let i = 0; i < n; i++) {
    const Ji = J.subMatrix(i * k, (i + 1) * k - 1, 0, P - 1);
    let H: Matrix, grad: Matrix;
    if (loss.name === 'squared-error') {
      H = Matrix.eye(k, k).mul(w);
      grad = new Matrix([Array.from(U.subarray(i * k, (i + 1) * k), (u, j) => w * (u - Y[i * k + j]))]).transpose();
    } else {
      const row = Array.from(U.subarray(i * k, (i + 1) * k)), max = Math.max(...row);
      const e = row.map((u) => Math.exp(u - max)), z = e.reduce((a, b) => a + b);
      const p = e.map((v) => v / z);
      H = new Matrix(p.map((pa, a) => p.map((pb, b) => w * ((a === b ? pa : 0) - pa * pb))));
      grad = new Matrix([p.map((pj, j) => w * (pj - (Y[i] === j ? 1 : 0)))]).transpose();
    }
    F.add(Ji.transpose().mmul(H).mmul(Ji));
    g.add(Ji.transpose().mmul(grad));
  }
  return { J, F, g, value: evaluate(net, { X, Y, n }, { loss }) };
}

/** −η(F + λI)⁻¹g, or −η·F⁺g when λ = 0 (the minimum-norm step). */
function expectedStep(F: Matrix, g: Matrix, lambda: number, eta: number): Float64Array {
  const P = F.rows;
  const d = lambda > 0 ? solve(F.clone().add(Matrix.eye(P, P).mul(lambda)), g) : pseudoInverse(F, 1e-10).mmul(g);
  return Float64Array.from(d.to1DArray(), (v) => -eta * v);
}

function stepDelta(net: Net, run: () => void): Float64Array {
  const before = net.getParams();
  run();
  const after = net.getParams();
  return after.map((v, i) => v - before[i]);
}

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test('Gram form, λ = 0: the step is −η·J⁺r, the paper\'s Eq. 3, from the explicit J', () => {
    const net = mlp({ sizes: [3, 6, 5, 2], activation: 'tanh', seed: 1 });
    const n = 4, X = randn(2, n * 3), Y = randn(3, n * 2);
    const { J } = explicitSystem(net, X, Y, n, squaredError());
    const r = Matrix.columnVector(Array.from(net.predict(X, n), (u, i) => u - Y[i]));
    const expected = Float64Array.from(pseudoInverse(J).mmul(r).to1DArray(), (v) => -0.7 * v);
    const opt = ngd({ lr: 0.7, damping: 0 });
    let stats!: ReturnType<typeof opt.step>;
    const delta = stepDelta(net, () => { stats = opt.step(net, { X, Y, n }); });
    expect(stats.form).toBe('gram');
    expect(stats.solver).toBe('cholesky');
    expect(relErr(delta, expected)).toBeLessThan(1e-8);
    net.dispose();
  });

  test.each([
    ['gram', 'squared-error sum', [3, 6, 5, 2], 4],
    ['gram', 'squared-error mean', [3, 6, 5, 2], 4],
    ['gram', 'cross-entropy sum', [3, 7, 3], 5],
    ['gram', 'cross-entropy mean', [3, 7, 3], 5],
    ['param', 'squared-error sum', [2, 3, 1], 20],
    ['param', 'cross-entropy sum', [2, 3, 3], 12],
    ['gram', 'squared-error sum', [2, 3, 1], 20],
  ] as const)('%s form, %s, λ = 0.05: the step is −η(F + λI)⁻¹g with F, g from the explicit J', (form, lossName, sizes, n) => {
    const net = mlp({ sizes: [...sizes], activation: 'softplus', seed: n });
    const k = sizes[sizes.length - 1], X = randn(5, n * sizes[0]);
    const [name, reduction] = lossName.split(' ') as ['squared-error' | 'cross-entropy', 'sum' | 'mean'];
    const loss = name === 'squared-error' ? squaredError({ reduction }) : softmaxCrossEntropy({ reduction });
    const Y = name === 'squared-error' ? randn(6, n * k) : randomLabels(6, n, k);
    const { F, g, value } = explicitSystem(net, X, Y, n, loss);
    const expected = expectedStep(F, g, 0.05, 0.9);
    // The raw method's formula: without the divergence guard (which would undo a step that raises the loss ×1.5).
    const opt = ngd({ lr: 0.9, damping: 0.05, form, guard: false });
    let stats!: ReturnType<typeof opt.step>;
    const delta = stepDelta(net, () => { stats = opt.step(net, { X, Y, n }, { loss }); });
    expect(stats.form).toBe(form);
    expect(relErr(delta, expected)).toBeLessThan(1e-9);
    expect(stats.loss).toBeCloseTo(value, 12);
    expect(stats.gradNorm).toBeCloseTo(g.norm(), 10);
    expect(stats.updateNorm).toBeCloseTo(Math.hypot(...expected), 10);
    expect(stats.damping).toBe(0.05);
    net.dispose();
  });

  test('a singular Gram matrix with λ = 0 falls back to the eigh pseudo-inverse: the minimum-norm step −η·J⁺r', () => {
    const n = 5, net = twoLayerReLU({ inputDim: 3, width: 32, seed: 1 });
    const X = unitInputs(1, n, 3), Y = randn(2, n);
    X.fill(0, 6, 9); // a zero input has a zero Jacobian row: G is exactly singular
    const { J } = explicitSystem(net, X, Y, n, squaredError());
    const r = Matrix.columnVector(Array.from(net.predict(X, n), (u, i) => u - Y[i]));
    const expected = Float64Array.from(pseudoInverse(J).mmul(r).to1DArray(), (v) => -0.8 * v);
    const opt = ngd({ lr: 0.8, damping: 0 });
    let stats!: ReturnType<typeof opt.step>;
    const delta = stepDelta(net, () => { stats = opt.step(net, { X, Y, n }); });
    expect(stats.solver).toBe('eigh');
    expect(stats.accepted).toBe(true);
    expect(relErr(delta, expected)).toBeLessThan(1e-8);
    net.dispose();
  });

  test("form 'auto' picks the parameter form when P < n·k and the Gram form otherwise", () => {
    const small = mlp({ sizes: [2, 3, 1], seed: 1 });
    const opt = ngd({ damping: 1e-3 });
    expect(opt.step(small, { X: randn(1, 40), Y: randn(2, 20), n: 20 }).form).toBe('param');
    const wide = twoLayerReLU({ inputDim: 4, width: 64, seed: 1 });
    opt.reset(); // the explicit rebind to another net
    expect(opt.step(wide, { X: unitInputs(3, 8, 4), Y: randn(4, 8), n: 8 }).form).toBe('gram');
    small.dispose(); wide.dispose(); opt.dispose();
  });

  test('adaptive damping: ρ matches the Gauss–Newton model, and λ follows the 0.25 / 0.75 rule', () => {
    const n = 6, X = randn(7, n * 3), Y = randn(8, n);
    const seen = new Set<string>();
    for (const lr of [0.3, 0.6, 1, 2.6]) {
      const net = mlp({ sizes: [3, 8, 1], activation: 'tanh', seed: 2 });
      const { F, g, value } = explicitSystem(net, X, Y, n, squaredError());
      const opt = ngd({ lr, damping: 0.01, adaptive: { maxRetries: 0 } });
      const delta = stepDelta(net, () => {
        const s = opt.step(net, { X, Y, n });
        if (!s.accepted) { seen.add('rejected'); expect(s.updateNorm).toBe(0); return; }
        // predicted decrease −(gᵀΔ + ½ΔᵀFΔ) from the explicit F and g
        const d = Matrix.columnVector(Array.from(expectedStep(F, g, 0.01, lr)));
        const predicted = -(g.transpose().mmul(d).get(0, 0) + 0.5 * d.transpose().mmul(F).mmul(d).get(0, 0));
        expect(s.lossAfter).toBeCloseTo(evaluate(net, { X, Y, n }), 12);
        expect(s.rho!).toBeCloseTo((value - s.lossAfter!) / predicted, 8);
        const regime = s.rho! < 0.25 ? 'low' : s.rho! > 0.75 ? 'high' : 'mid';
        seen.add(regime);
        const factor = regime === 'low' ? 1.5 : regime === 'high' ? 2 / 3 : 1;
        expect(opt.currentDamping).toBeCloseTo(0.01 * factor, 15);
      });
      if (seen.has('rejected')) expect(delta.every((v) => v === 0)).toBe(true);
      net.dispose();
    }
    expect([...seen].sort()).toEqual(['high', 'low', 'mid', 'rejected']);
  });

  test('a step that raises the loss is undone and retried with 10× damping; the accepted step is the fixed-λ step', () => {
    const n = 6, X = randn(7, n * 3), Y = randn(8, n);
    const net = mlp({ sizes: [3, 8, 1], activation: 'tanh', seed: 2 });
    const opt = ngd({ lr: 3, damping: 1e-4, adaptive: true });
    const s = opt.step(net, { X, Y, n });
    expect(s.accepted).toBe(true);
    expect(s.retries).toBeGreaterThan(0);
    expect(s.damping).toBeCloseTo(1e-4 * 10 ** s.retries!, 12);
    expect(s.lossAfter!).toBeLessThanOrEqual(s.loss);
    const viaFixed = mlp({ sizes: [3, 8, 1], activation: 'tanh', seed: 2 });
    ngd({ lr: 3, damping: s.damping }).step(viaFixed, { X, Y, n });
    expect(relErr(net.getParams(), viaFixed.getParams())).toBeLessThan(1e-12);
    net.dispose(); viaFixed.dispose();
  });

  test('batches of different sizes through one optimizer give the same steps as fresh optimizers', () => {
    const X = randn(1, 16 * 3), Y = randn(2, 16 * 2);
    const sizes = [8, 16, 5, 16];
    const shared = ngd({ lr: 0.7, damping: 1e-2 });
    const a = mlp({ sizes: [3, 12, 2], activation: 'tanh', seed: 6 }), b = mlp({ sizes: [3, 12, 2], activation: 'tanh', seed: 6 });
    for (const n of sizes) {
      const batch = { X: X.subarray(0, n * 3), Y: Y.subarray(0, n * 2), n };
      shared.step(a, batch);
      ngd({ lr: 0.7, damping: 1e-2 }).step(b, batch);
      expect(a.getParams()).toEqual(b.getParams());
    }
    a.dispose(); b.dispose();
  });

  // Bad options, rejected and non-finite steps, allocation and dispose: test/optim/contract.test.ts.
  test('bad inputs are typed errors naming the argument', () => {
    const net = mlp({ sizes: [3, 4, 3], seed: 1 });
    const X = randn(1, 6);
    expect(() => ngd({ damping: 0 }).step(net, { X, Y: new Float64Array([0, 1]), n: 2 }, { loss: 'cross-entropy' })).toThrow(/^damping:.*cross-entropy/);
    expect(() => ngd().step(net, { X, Y: new Float64Array(5), n: 2 })).toThrow(ShapeError);
    expect(() => ngd().step(net, { X, Y: new Float64Array(5), n: 2 })).toThrow(/^Y:/);
    expect(() => ngd().step(net, { X, Y: new Float64Array(0), n: 0 })).toThrow(/^n:/);
    const frozen = mlp({ sizes: [3, 2], trainable: [false] });
    expect(() => ngd().step(frozen, { X, Y: new Float64Array(4), n: 2 })).toThrow(/^net:/);
    net.dispose(); frozen.dispose();
  });
});
