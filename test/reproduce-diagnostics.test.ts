/**
 * The diagnostics added for the reproduction, against independent computations: the cross Gram against the
 * explicit Jacobian, the minimum-norm displacement against an NGD step, leverage scores against ml-matrix, the
 * data generators' geometry, the MNIST loader, recorded trajectories and the kfacPaper preset.
 */
import { Matrix, inverse } from 'ml-matrix';
import { init, twoLayerReLU, ngd, kfac, train, ShapeError, ArgumentError } from '../src/index';
import {
  weightMovement, gramMatrix, gramEigen, modeProjections, crossGram, kernelPredictor, minNormDisplacement, gramDrift,
  leverageScores, unitSphere, nearParallelPairs, gaussianTargets, smoothTarget, kfacPaper,
} from '../src/diagnostics/index';
import { jacobian, linalg } from '../src/advanced';
import { loadMnist } from '../src/mnist/load';
import { allClose } from './helpers/allclose';
import { BACKENDS } from './helpers/backends';

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend }); });
  const n = 6, d = 4, m = 64;
  const X = unitSphere(n, d, 1), Y = gaussianTargets(n, 2), Xt = unitSphere(3, d, 3);

  test('crossGram equals J_test·J_trainᵀ from the explicit Jacobians, for 1 and 2 outputs', () => {
    for (const k of [1, 2]) {
      const net = twoLayerReLU({ inputDim: d, width: m, outputDim: k, seed: 4 });
      const Ja = jacobian(net, Xt, 3), Jb = jacobian(net, X, n);
      const K = crossGram(net, Xt, 3, X, n);
      allClose(K, linalg.gemm(Ja, Jb, 3 * k, net.numParams, n * k, { transB: true }), { rtol: 1e-12, atol: 1e-12 });
      net.dispose();
    }
  });

  test('gramEigen reconstructs G; modeProjections are Vᵀr', () => {
    const net = twoLayerReLU({ inputDim: d, width: m, seed: 4 });
    const G = gramMatrix(net, X, n), eig = gramEigen(net, X, n);
    const VD = eig.vectors.map((v, idx) => v * eig.values[idx % n]);
    allClose(linalg.gemm(VD, eig.vectors, n, n, n, { transB: true }), G, { rtol: 1e-10, atol: 1e-12 });
    const p = modeProjections(eig, Y);
    allClose(p, linalg.gemm(eig.vectors, Y, n, n, 1, { transA: true }), { rtol: 1e-12, atol: 1e-14 });
    expect(() => modeProjections(eig, new Float64Array(n + 1))).toThrow(ShapeError);
    net.dispose();
  });

  test('minNormDisplacement is the length of one undamped η = 1 NGD step; kernelPredictor is the linearised fit', () => {
    const net = twoLayerReLU({ inputDim: d, width: 4096, seed: 4 });
    const theta0 = net.getParams();
    const predicted = minNormDisplacement(net, X, Y, n);
    const kernel = kernelPredictor(net, X, Y, n, Xt, 3);
    // On the training inputs themselves the kernel predictor interpolates: u − G·G⁻¹r = y.
    allClose(kernelPredictor(net, X, Y, n, X, n), Y, { rtol: 1e-8, atol: 1e-8 });
    ngd({ lr: 1, damping: 0 }).step(net, { X, Y, n });
    expect(weightMovement(net, theta0)).toBeCloseTo(predicted, 8);
    // One step of a wide net lands close to the kernel prediction on test inputs too.
    const after = net.predict(Xt, 3);
    for (let i = 0; i < 3; i++) expect(Math.abs(after[i] - kernel[i])).toBeLessThan(0.05);
    expect(gramDrift(net, X, n, theta0)).toBeGreaterThan(0);
    net.setParams(theta0);
    expect(gramDrift(net, X, n, theta0)).toBe(0);
    net.dispose();
  });

  test('leverageScores match ml-matrix, sum to d and reject n < d', () => {
    const Z = unitSphere(10, 3, 5, { anisotropy: 1 });
    const Xm = new Matrix(Array.from({ length: 10 }, (_, i) => Array.from(Z.subarray(i * 3, i * 3 + 3))));
    const H = Xm.mmul(inverse(Xm.transpose().mmul(Xm))).mmul(Xm.transpose());
    const { scores, lambdaMax } = leverageScores(Z, 10);
    allClose(scores, Float64Array.from({ length: 10 }, (_, i) => H.get(i, i)), { rtol: 1e-10, atol: 1e-12 });
    expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(3, 10);
    expect(lambdaMax).toBeGreaterThan(10 / 3);
    expect(() => leverageScores(unitSphere(2, 3, 1), 2)).toThrow(ArgumentError);
  });
});

test('data generators: unit norms, pair angles, determinism, smooth targets vary slowly, typed errors', () => {
  const X = unitSphere(5, 7, 9);
  for (let i = 0; i < 5; i++) expect(Math.hypot(...X.subarray(i * 7, i * 7 + 7))).toBeCloseTo(1, 14);
  expect(unitSphere(5, 7, 9)).toEqual(X);
  expect(unitSphere(5, 7, 10)).not.toEqual(X);
  const P = nearParallelPairs(6, 4, 0.01, 2);
  for (let p = 0; p < 3; p++) {
    const a = P.subarray(8 * p, 8 * p + 4), b = P.subarray(8 * p + 4, 8 * p + 8);
    expect(Math.acos(a.reduce((s, v, j) => s + v * b[j], 0))).toBeCloseTo(0.01, 8);
  }
  const y = smoothTarget(P, 6, 3);
  for (let p = 0; p < 3; p++) expect(Math.abs(y[2 * p] - y[2 * p + 1])).toBeLessThan(0.03);
  expect(() => nearParallelPairs(5, 4, 0.1, 1)).toThrow(ShapeError);
  expect(() => nearParallelPairs(4, 4, 0, 1)).toThrow(ArgumentError);
  expect(() => unitSphere(4, 4, 1.5)).toThrow(ArgumentError);
});

test('loadMnist: deterministic, interleaved 4/9, unit rows, typed errors', async () => {
  const a = await loadMnist({ perDigit: 3 }), b = await loadMnist({ perDigit: 3 });
  expect(a.X).toEqual(b.X);
  expect(Array.from(a.labels)).toEqual([4, 9, 4, 9, 4, 9]);
  expect(a.d).toBe(784);
  for (let i = 0; i < a.n; i++) expect(Math.hypot(...a.X.subarray(i * 784, (i + 1) * 784))).toBeCloseTo(1, 12);
  const raw = await loadMnist({ digits: [9], perDigit: 1, normalize: 'pixels' });
  expect(Math.max(...raw.X)).toBeLessThanOrEqual(1);
  expect(raw.X).toEqual(Float64Array.from(raw.X, (v) => Math.round(v * 255) / 255));
  await expect(loadMnist({ digits: [3] })).rejects.toThrow(ArgumentError);
  await expect(loadMnist({ perDigit: 101 })).rejects.toThrow(ArgumentError);
});

describe.each(BACKENDS)('%s backend: train trajectories and the kfacPaper preset', (backend) => {
  beforeAll(async () => { await init({ backend }); });
  const n = 6, d = 4, X = unitSphere(n, d, 1), Y = gaussianTargets(n, 2);

  test('recordOutputs stores u(θ_k) before each step, consistent with the recorded loss', () => {
    const net = twoLayerReLU({ inputDim: d, width: 256, seed: 4 }), ref = twoLayerReLU({ inputDim: d, width: 256, seed: 4 });
    const h = train(net, { X, Y, n }, ngd({ lr: 0.5, damping: 0 }), { steps: 3, recordOutputs: true });
    expect(h[0].outputs).toEqual(ref.predict(X, n));
    for (const r of h) expect(r.outputs!.reduce((s, u, i) => s + (u - Y[i]) ** 2, 0) / 2).toBeCloseTo(r.loss, 12);
    expect(train(net, { X, Y, n }, ngd(), { steps: 1 })[0].outputs).toBeUndefined();
    net.dispose(); ref.dispose();
  });

  test('kfacPaper is kfac with sum-normalised current-batch factors inverted every step and a fixed damping 1e-12', () => {
    const a = twoLayerReLU({ inputDim: d, width: 128, seed: 4 }), b = twoLayerReLU({ inputDim: d, width: 128, seed: 4 });
    const pa = kfacPaper({ lr: 0.5 }), pb = kfac({ lr: 0.5, damping: 1e-12, normalization: 'sum', decay: 0, inverseEvery: 1, adaptive: false });
    for (let k = 0; k < 3; k++) { pa.step(a, { X, Y, n }); pb.step(b, { X, Y, n }); }
    expect(a.getParams()).toEqual(b.getParams());
    a.dispose(); b.dispose(); pa.dispose(); pb.dispose();
  });

  test('kfacPaper is strict like every options object, and honours every kfac option (guard: false included)', () => {
    expect(() => kfacPaper({ lr: 0.5, gaurd: false } as never)).toThrow(ArgumentError);
    expect(() => kfacPaper({ lr: 0.5, gaurd: false } as never)).toThrow(/gaurd/);
    expect(() => kfacPaper({ guard: 'no' } as never)).toThrow(ArgumentError);
    expect(() => kfacPaper(5 as never)).toThrow(ArgumentError);
    // η = 20 multiplies the residual by about 1 − 20·hᵢ: the loss grows. The raw preset keeps that step (the
    // paper's method); the default guard undoes it and retries with more damping.
    const loss = (net: ReturnType<typeof twoLayerReLU>) => net.predict(X, n).reduce((acc, u, i) => acc + (u - Y[i]) ** 2, 0) / 2;
    const a = twoLayerReLU({ inputDim: d, width: 128, seed: 4 }), b = twoLayerReLU({ inputDim: d, width: 128, seed: 4 });
    const before = loss(a);
    const raw = kfacPaper({ lr: 20, guard: false }), guarded = kfacPaper({ lr: 20 });
    raw.step(a, { X, Y, n });
    guarded.step(b, { X, Y, n });
    expect(loss(a)).toBeGreaterThan(10 * before);
    expect(loss(b)).toBeLessThanOrEqual(1.5 * before);
    // A key the preset also sets is the caller's to change: with a large damping the same step is short.
    const other = kfacPaper({ lr: 20, damping: 1e6, guard: false }), c = twoLayerReLU({ inputDim: d, width: 128, seed: 4 });
    other.step(c, { X, Y, n });
    expect(loss(c)).toBeLessThan(1.5 * before);
    a.dispose(); b.dispose(); c.dispose();
    raw.dispose(); guarded.dispose(); other.dispose();
  });
});
