import { EVD, Matrix, SVD } from 'ml-matrix';
import { init, mlp, twoLayerReLU, gd, train, ShapeError, NonFiniteError } from '../src/index';
import { gramSpectrum, limitingGram, jacobianDrift, weightMovement } from '../src/diagnostics/index';
import { jacobian } from '../src/advanced';
import { BACKENDS } from './helpers/backends';
import { allClose } from './helpers/allclose';
import { randn } from './helpers/random';
import { unitInputs } from './helpers/nets';

const rowsOf = (a: Float64Array, rows: number, cols: number) => Array.from({ length: rows }, (_, i) => Array.from(a.subarray(i * cols, (i + 1) * cols)));

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test('gramSpectrum: eigenvalues of J·Jᵀ, λ_min, λ_max and condition number', () => {
    const n = 7, net = mlp({ sizes: [3, 12, 2], activation: 'tanh', seed: 1 });
    const X = randn(1, n * 3), N = n * 2, P = net.numParams;
    const J = new Matrix(rowsOf(jacobian(net, X, n), N, P));
    const expected = new EVD(J.mmul(J.transpose()), { assumeSymmetric: true }).realEigenvalues.sort((a, b) => a - b);
    const s = gramSpectrum(net, X, n);
    allClose(s.eigenvalues, expected, { rtol: 1e-10, atol: 1e-12 });
    expect(s.lambdaMin).toBe(s.eigenvalues[0]);
    expect(s.lambdaMax).toBe(s.eigenvalues[N - 1]);
    expect(s.condition).toBeCloseTo(s.lambdaMax / s.lambdaMin, 6);
    net.dispose();
  });

  test('limitingGram: G∞ᵢⱼ = xᵢᵀxⱼ(π − θᵢⱼ)/2π, λ₀ = λ_min(G∞), and a very wide net\'s G(0) approaches it', () => {
    const n = 6, d = 5, X = unitInputs(4, n, d);
    const { gram, lambda0 } = limitingGram(X, n);
    const expected = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let c = 0;
        for (let t = 0; t < d; t++) c += X[i * d + t] * X[j * d + t];
        const theta = i === j ? 0 : Math.acos(c); // θᵢᵢ = 0 exactly (acos(1 − ε) is 1e-8)
        expected[i * n + j] = c * (Math.PI - theta) / (2 * Math.PI);
      }
    }
    allClose(gram, expected, { rtol: 1e-12, atol: 1e-14 });
    expect(lambda0).toBeCloseTo(Math.min(...new EVD(new Matrix(rowsOf(expected, n, n)), { assumeSymmetric: true }).realEigenvalues), 12);
    expect(lambda0).toBeGreaterThan(0);
    const wide = twoLayerReLU({ inputDim: d, width: 40000, nu: 0.3, seed: 2 });
    const s = gramSpectrum(wide, X, n);
    expect(Math.abs(s.lambdaMin - lambda0)).toBeLessThan(0.02);
    wide.dispose();
  });

  test('jacobianDrift equals ‖J − J₀‖₂/‖J₀‖₂ from explicit Jacobians; weightMovement is ‖θ − θ₀‖', () => {
    const n = 5, X = randn(2, n * 3), Y = randn(3, n * 2);
    const net = mlp({ sizes: [3, 8, 2], activation: 'softplus', seed: 3 });
    const theta0 = net.getParams(), P = net.numParams;
    expect(jacobianDrift(net, X, n, theta0)).toBeLessThan(1e-7);
    expect(weightMovement(net, theta0)).toBe(0);
    const J0 = new Matrix(rowsOf(jacobian(net, X, n), n * 2, P));
    train(net, { X, Y, n }, gd({ lr: 0.02 }), { steps: 5 });
    const J1 = new Matrix(rowsOf(jacobian(net, X, n), n * 2, P));
    const norm2 = (m: Matrix) => new SVD(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true }).norm2;
    const drift = jacobianDrift(net, X, n, theta0);
    expect(drift).toBeGreaterThan(1e-3);
    expect(Math.abs(drift / (norm2(Matrix.sub(J1, J0)) / norm2(J0)) - 1)).toBeLessThan(1e-8);
    const theta = net.getParams();
    expect(weightMovement(net, theta0)).toBeCloseTo(Math.hypot(...theta.map((v, i) => v - theta0[i])), 14);
    expect(net.getParams()).toEqual(theta); // the drift computation restored θ
    net.dispose();
  });

  test('bad arguments are typed errors naming the argument', () => {
    expect(() => limitingGram(new Float64Array([1, 0, 0, 0]), 2)).toThrow(/X: row 1 is zero/);
    expect(() => limitingGram(new Float64Array(5), 2)).toThrow(ShapeError);
    const net = mlp({ sizes: [2, 3, 1] });
    expect(() => weightMovement(net, new Float64Array(2))).toThrow(/^params0:/);
    expect(() => weightMovement(net, new Float64Array(net.numParams).fill(NaN))).toThrow(NonFiniteError);
    expect(() => limitingGram(new Float64Array([1, NaN]), 1)).toThrow(NonFiniteError);
    expect(() => jacobianDrift(net, new Float64Array(4), 2, new Float64Array(3))).toThrow(/^params0:/);
    expect(() => gramSpectrum(net, new Float64Array(3), 2)).toThrow(/^X:/);
    net.dispose();
  });
});
