import {
  init, mlp, twoLayerReLU, laplace, ArgumentError, ConvergenceError, ShapeError, StateError, OutOfMemoryError, NatgradError, type Net,
} from '../../src/index';
import { BACKENDS } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { randn } from '../helpers/random';
import { denseEvidence, denseLaplace, type Structure } from './dense';

const STRUCTURES: Structure[] = ['full', 'kfac', 'diagonal', 'last-layer'];

/** A small regression or classification problem on a 3-input net. */
function problem(kind: 'se' | 'ce', seed: number) {
  const n = 9, nt = 5, d = 3;
  const net = kind === 'se'
    ? mlp({ sizes: [d, 5, 4, 2], activation: 'tanh', seed })
    : mlp({ sizes: [d, 6, 3], activation: 'softplus', seed });
  const X = randn(seed + 1, n * d), Xt = randn(seed + 2, nt * d);
  for (let i = 0; i < Xt.length; i++) Xt[i] *= 1.5;
  const Y = kind === 'se' ? randn(seed + 3, n * 2) : Float64Array.from({ length: n }, (_, i) => (i * 7 + seed) % 3);
  return { net, X, Y, n, Xt, nt };
}

describe.each(BACKENDS)('laplace on %s', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  describe.each(STRUCTURES)('structure %s agrees with its dense form (J explicit, P × P H) to 1e-8', (structure) => {
    test.each([['se', 0.7, 0.3], ['se', 3, 1.7], ['ce', 0.5, 1]] as const)('%s, δ = %p, σ = %p', (kind, delta, sigma) => {
      const { net, X, Y, n, Xt, nt } = problem(kind, 11);
      const gaussian = kind === 'se';
      const post = laplace(net, { X, Y, n }, {
        loss: gaussian ? 'squared-error' : 'cross-entropy', prior: delta, ...(gaussian ? { noise: sigma } : {}), structure,
      });
      expect(post.structure).toBe(structure);
      const ref = denseLaplace(net, X, Y, n, Xt, nt, { gaussian, delta, sigma: gaussian ? sigma : 1, structure });
      const pred = post.predict(Xt, nt);
      allClose(pred.functionVariance, ref.fvar, { rtol: 1e-8, atol: 0, label: 'functionVariance' });
      const noise = gaussian ? sigma * sigma : 0;
      allClose(pred.variance, ref.fvar.map((v) => v + noise), { rtol: 1e-8, atol: 0, label: 'variance' });
      allClose(pred.mean, net.predict(Xt, nt), { rtol: 0, atol: 0, label: 'mean' });
      allClose([post.logMarginalLikelihood()], [ref.logML], { rtol: 1e-8, atol: 0, label: 'log marginal likelihood' });
      post.dispose();
      net.dispose();
    });
  });

  test("'full' with a frozen layer (the paper's net) and many outputs agrees with the dense form", () => {
    const net = twoLayerReLU({ inputDim: 4, width: 12, outputDim: 3, seed: 5 });
    const n = 6, nt = 4, X = randn(1, n * 4), Y = randn(2, n * 3), Xt = randn(3, nt * 4);
    for (const structure of ['full', 'kfac', 'diagonal'] as const) {
      const post = laplace(net, { X, Y, n }, { prior: 0.2, noise: 0.5, structure });
      const ref = denseLaplace(net, X, Y, n, Xt, nt, { gaussian: true, delta: 0.2, sigma: 0.5, structure });
      allClose(post.predict(Xt, nt).functionVariance, ref.fvar, { rtol: 1e-8, atol: 0, label: structure });
      allClose([post.logMarginalLikelihood()], [ref.logML], { rtol: 1e-8, atol: 0, label: `${structure} logML` });
      post.dispose();
    }
    expect(() => laplace(net, { X, Y, n }, { structure: 'last-layer' })).toThrow(/last-layer.*frozen/);
    net.dispose();
  });

  test('predict works in chunks: 3000 inputs equal the same inputs one by one', () => {
    const { net, X, Y, n } = problem('se', 3);
    const post = laplace(net, { X, Y, n }, { structure: 'full', prior: 0.5, noise: 0.2 });
    const many = 3000, Xm = randn(9, many * 3);
    const all = post.predict(Xm, many);
    for (const t of [0, 1234, 2999]) {
      const one = post.predict(Xm.subarray(t * 3, t * 3 + 3), 1);
      allClose(all.functionVariance.subarray(2 * t, 2 * t + 2), one.functionVariance, { rtol: 1e-10, atol: 0 });
    }
    post.dispose(); net.dispose();
  });

  test("'full' predict re-makes its views when an allocation grows memory", () => {
    const { net, X, Y, n } = problem('se', 11);
    const nt = 7, Xt = randn(5, nt * 3);
    for (const structure of ['full'] as const) {
      const post = laplace(net, { X, Y, n }, { prior: 0.7, noise: 0.3, structure });
      const quiet = post.predict(Xt, nt).functionVariance;
      post.dispose();
      // A second posterior whose first predict meets a growing memory: the allocation of the chunk's
      // one-value-per-input scratch block (the only one of nt values here) forces WebAssembly.Memory.grow.
      const again = laplace(net, { X, Y, n }, { prior: 0.7, noise: 0.3, structure });
      const k = net.kernels, alloc = k.alloc.bind(k);
      let grown = false;
      k.alloc = (count: number) => {
        if (count !== nt || grown) return alloc(count);
        grown = true;
        const before = k.memoryBytes(), filler = alloc(Math.ceil(before / 8));
        const p = alloc(count);
        k.free(filler);
        expect(k.memoryBytes()).toBeGreaterThan(before);
        return p;
      };
      let grew: Float64Array;
      try { grew = again.predict(Xt, nt).functionVariance; } finally { k.alloc = alloc; }
      expect(grown).toBe(true);
      allClose(grew, quiet, { rtol: 0, atol: 0, label: `${structure} after growth` });
      again.dispose();
    }
    net.dispose();
  });

  test("'full' holds the documented 3·(n·k)² values on a net of several layers: G, its factor, the eigenvectors", () => {
    const { net, X, Y, n } = problem('se', 11);
    const N = n * net.outputDim, k = net.kernels, alloc = k.alloc.bind(k), free = k.free.bind(k);
    const live = new Map<number, number>();
    k.alloc = (count: number) => { const p = alloc(count); live.set(p, count); return p; };
    k.free = (p: number) => { live.delete(p); free(p); };
    const squares = () => [...live.values()].filter((c) => c >= N * N).length;
    try {
      const post = laplace(net, { X, Y, n }, { prior: 0.7, noise: 0.3, structure: 'full' });
      expect(squares()).toBe(2);
      post.optimize();
      expect(squares()).toBe(3);
      post.dispose();
      expect(live.size).toBe(0);
    } finally {
      k.alloc = alloc; k.free = free;
    }
    net.dispose();
  });

  test('a posterior that fails while it is fitted frees everything it allocated', () => {
    const { net, X, Y, n } = problem('se', 11);
    const N = n * net.outputDim, k = net.kernels, alloc = k.alloc.bind(k), free = k.free.bind(k);
    const theta = net.getParams();
    for (const structure of STRUCTURES) {
      const live = new Set<number>();
      // The structure's own large block (the Gram's factor, a factor's eigenvectors, the last layer's GGN)
      // is refused: the backend is out of memory half-way through the form.
      let seen = 0;
      const big = structure === 'full' ? N * N : structure === 'last-layer' ? 2 * 2 * 5 * 5 : 6 * 6;
      k.alloc = (count: number) => {
        if (count === big && ++seen === 2) throw new OutOfMemoryError(8 * count, 'refused by the test');
        const p = alloc(count); live.add(p); return p;
      };
      k.free = (p: number) => { live.delete(p); free(p); };
      let err: unknown;
      try { laplace(net, { X, Y, n }, { prior: 0.7, noise: 0.3, structure }); } catch (e) { err = e; } finally { k.alloc = alloc; k.free = free; }
      expect(seen).toBeGreaterThanOrEqual(2);
      expect(err).toBeInstanceOf(OutOfMemoryError);
      expect([structure, live.size]).toEqual([structure, 0]);
    }
    allClose(net.getParams(), theta, { rtol: 0, atol: 0 });
    net.dispose();
  });

  test("optimize leaves δ, σ and the posterior as they were when the form cannot be refactored at the maximiser", () => {
    const { net, X, Y, n, Xt, nt } = problem('se', 11);
    const post = laplace(net, { X, Y, n }, { prior: 0.7, noise: 0.3, structure: 'full' });
    const before = { prior: post.prior, noise: post.noise, logML: post.logMarginalLikelihood(), fv: post.predict(Xt, nt).functionVariance };
    const k = net.kernels, potrf = k.potrf.bind(k);
    let calls = 0;
    // The backend's Cholesky reports a failed pivot once: at the maximiser's σ²δ.
    k.potrf = ((...args: Parameters<typeof potrf>) => (++calls === 1 ? 1 : potrf(...args))) as typeof potrf;
    try {
      expect(() => post.optimize()).toThrow(ConvergenceError);
    } finally { k.potrf = potrf; }
    expect(calls).toBeGreaterThanOrEqual(1);
    expect({ prior: post.prior, noise: post.noise }).toEqual({ prior: before.prior, noise: before.noise });
    expect(post.logMarginalLikelihood()).toBe(before.logML);
    allClose(post.predict(Xt, nt).functionVariance, before.fv, { rtol: 0, atol: 0, label: 'function variance' });
    post.dispose(); net.dispose();
  });

  test('the net is never changed; predictions use θ* even after the net moves', () => {
    const { net, X, Y, n, Xt, nt } = problem('ce', 2);
    const theta = net.getParams(), u = net.predict(Xt, nt);
    for (const structure of STRUCTURES) {
      const post = laplace(net, { X, Y, n }, { loss: 'cross-entropy', structure });
      const p1 = post.predictProba(Xt, nt);
      post.predictProba(Xt, nt, { method: 'mc', samples: 5 });
      post.sample(3, 1);
      post.optimize();
      post.logMarginalLikelihood();
      allClose(net.getParams(), theta, { rtol: 0, atol: 0, label: 'params' });
      allClose(net.predict(Xt, nt), u, { rtol: 0, atol: 0, label: 'outputs' });
      // Moving the net does not move the posterior, and the posterior puts the moved parameters back.
      const moved = theta.map((v) => v + 0.1);
      net.setParams(moved);
      const later = post.predictProba(Xt, nt);
      allClose(net.getParams(), moved, { rtol: 0, atol: 0, label: 'moved params' });
      net.setParams(theta);
      allClose(later, post.predictProba(Xt, nt), { rtol: 0, atol: 0, label: 'θ* predictions' });
      expect(p1.length).toBe(nt * 3);
      post.dispose();
    }
    net.dispose();
  });

  test('predictProba: probit is softmax(f/√(1 + π/8·Var f)); mc converges to the dense Gaussian average; rows sum to 1', () => {
    const { net, X, Y, n, Xt, nt } = problem('ce', 4);
    const post = laplace(net, { X, Y, n }, { loss: 'cross-entropy', prior: 0.3, structure: 'full' });
    const { mean, functionVariance } = post.predict(Xt, nt);
    const probit = post.predictProba(Xt, nt);
    const ref = denseLaplace(net, X, Y, n, Xt, nt, { gaussian: false, delta: 0.3, sigma: 1, structure: 'full' });
    for (let t = 0; t < nt; t++) {
      const f = [0, 1, 2].map((c) => mean[t * 3 + c] / Math.sqrt(1 + Math.PI / 8 * functionVariance[t * 3 + c]));
      const m = Math.max(...f), e = f.map((v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b);
      allClose(probit.subarray(t * 3, t * 3 + 3), e.map((v) => v / s), { rtol: 1e-12, atol: 1e-15 });
    }
    const mc = post.predictProba(Xt, nt, { method: 'mc', samples: 20000, seed: 3 });
    expect(post.predictProba(Xt, nt, { method: 'mc', samples: 20000, seed: 3 })).toEqual(mc);
    // An independent Monte-Carlo average over the dense covariance (its own Cholesky and draws).
    let state = 12345;
    const uni = () => ((state = (state * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
    const gauss = () => Math.sqrt(-2 * Math.log(uni())) * Math.cos(2 * Math.PI * uni());
    for (let t = 0; t < nt; t++) {
      const C = ref.cov.subarray(t * 9, t * 9 + 9), L = new Float64Array(9);
      for (let j = 0; j < 3; j++) {
        let s = C[j * 4];
        for (let q = 0; q < j; q++) s -= L[j * 3 + q] ** 2;
        L[j * 4] = Math.sqrt(Math.max(s, 0));
        for (let i = j + 1; i < 3; i++) {
          let v = C[i * 3 + j];
          for (let q = 0; q < j; q++) v -= L[i * 3 + q] * L[j * 3 + q];
          L[i * 3 + j] = L[j * 4] > 0 ? v / L[j * 4] : 0;
        }
      }
      const avg = [0, 0, 0], S = 20000;
      for (let s = 0; s < S; s++) {
        const z = [gauss(), gauss(), gauss()];
        const f = [0, 1, 2].map((c) => mean[t * 3 + c] + L[c * 3] * z[0] + L[c * 3 + 1] * z[1] + L[c * 3 + 2] * z[2]);
        const m = Math.max(...f), e = f.map((v) => Math.exp(v - m)), sum = e.reduce((a, b) => a + b);
        e.forEach((v, c) => { avg[c] += v / sum / S; });
      }
      allClose(mc.subarray(t * 3, t * 3 + 3), avg, { rtol: 0, atol: 0.01, label: `mc vs dense, input ${t}` });
      expect(mc.subarray(t * 3, t * 3 + 3).reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    }
    post.dispose(); net.dispose();
  });

  test.each(STRUCTURES)('sample (%s): draws have mean θ* and covariance H⁻¹ (seen through J*·draws against the function variance)', (structure) => {
    const { net, X, Y, n, Xt, nt } = problem('se', 6);
    const post = laplace(net, { X, Y, n }, { prior: 2, noise: 0.4, structure });
    const P = net.numParams, S = 4000;
    const draws = post.sample(S, 7);
    expect(draws.length).toBe(S * P);
    expect(post.sample(2, 7)).toEqual(draws.subarray(0, 2 * P));
    const { functionVariance } = post.predict(Xt, nt);
    const ref = denseLaplace(net, X, Y, n, Xt, nt, { gaussian: true, delta: 2, sigma: 0.4, structure });
    // J* (nt·k × P) from the dense reference's precision is not needed: project each draw's deviation by J*.
    const { jacobian } = require('../../src/advanced') as typeof import('../../src/advanced');
    const Jt = jacobian(net, Xt, nt), theta = net.getParams(), rows = nt * 2;
    const second = new Float64Array(rows), first = new Float64Array(rows);
    for (let s = 0; s < S; s++) {
      for (let r = 0; r < rows; r++) {
        let v = 0;
        for (let p = 0; p < P; p++) v += Jt[r * P + p] * (draws[s * P + p] - theta[p]);
        first[r] += v / S;
        second[r] += v * v / S;
      }
    }
    for (let r = 0; r < rows; r++) {
      expect(Math.abs(first[r])).toBeLessThan(5 * Math.sqrt(ref.fvar[r] / S));
      expect(second[r] / functionVariance[r]).toBeGreaterThan(0.88);
      expect(second[r] / functionVariance[r]).toBeLessThan(1.12);
    }
    if (structure === 'last-layer') {
      const L = net.layers[net.layers.length - 1];
      for (let p = 0; p < L.paramOffset; p++) expect(draws[p]).toBe(theta[p]);
    }
    post.dispose(); net.dispose();
  });

  test("optimize reaches the maximiser over δ of a fine grid of the dense log marginal likelihood (and over δ, σ)", () => {
    const { net, X, Y, n } = problem('se', 8);
    for (const structure of STRUCTURES) {
      const post = laplace(net, { X, Y, n }, { prior: 1, noise: 0.5, structure });
      const { prior } = post.optimize({ noise: false });
      expect(post.noise).toBe(0.5);
      const dense = denseEvidence(net, X, Y, n, true, structure);
      // Fine grid of the dense reference over log δ ∈ [−5, 5], step 0.004.
      let best = -Infinity, arg = 0;
      for (let g = -5; g <= 5; g += 0.004) {
        const v = dense(Math.exp(g), 0.5);
        if (v > best) { best = v; arg = g; }
      }
      expect(Math.abs(Math.log(prior) - arg)).toBeLessThanOrEqual(0.004);
      expect(Math.abs(arg)).toBeLessThan(4.9); // an interior maximum
      expect(post.logMarginalLikelihood()).toBeGreaterThanOrEqual(best - 1e-9 * Math.abs(best));
      // Both: no point of a 2-D grid beats the optimum.
      const both = post.optimize();
      for (let a = -3; a <= 3; a += 0.25) for (let b = -3; b <= 1; b += 0.25) {
        const v = dense(both.prior * Math.exp(a * 0.1), both.noise * Math.exp(b * 0.1));
        expect(v).toBeLessThanOrEqual(both.logMarginalLikelihood + 1e-9 * Math.abs(v));
      }
      post.dispose();
    }
    net.dispose();
  }, 120_000);

  test('bad input: typed errors that name the argument; nothing is allocated for the net', () => {
    const { net, X, Y, n } = problem('se', 1);
    const theta = net.getParams();
    const bad: [object, RegExp][] = [
      [{ prior: 0 }, /prior/], [{ prior: -1 }, /prior/], [{ prior: NaN }, /prior/], [{ prior: Infinity }, /prior/],
      [{ noise: 0 }, /noise/], [{ noise: NaN }, /noise/], [{ structure: 'block' }, /structure/], [{ prio: 1 }, /prior/],
      [{ loss: 'hinge' }, /loss/],
    ];
    for (const [o, re] of bad) {
      let err: unknown;
      try { laplace(net, { X, Y, n }, o as never); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toMatch(re);
    }
    expect(() => laplace(net, { X, Y: Float64Array.from({ length: n }, () => 0), n }, { loss: 'cross-entropy', noise: 1 })).toThrow(ArgumentError);
    expect(() => laplace(net, { X: X.subarray(0, 10), Y, n }, {})).toThrow(ShapeError);
    expect(() => laplace(net, { X, Y: Y.subarray(1), n }, {})).toThrow(ShapeError);
    expect(() => laplace(net, { X, Y: Float64Array.from({ length: n }, () => 5), n }, { loss: 'cross-entropy' })).toThrow(/Y/);
    expect(() => laplace(net, null as never)).toThrow(ArgumentError);
    const post = laplace(net, { X, Y, n });
    expect(() => post.predict(X.subarray(1), n)).toThrow(ShapeError);
    expect(() => post.predictProba(X, n)).toThrow(/predictProba.*cross-entropy/);
    expect(() => post.sample(0)).toThrow(ArgumentError);
    post.dispose();
    expect(() => post.predict(X, n)).toThrow(StateError);
    expect(() => post.logMarginalLikelihood()).toThrow(StateError);
    post.dispose();
    allClose(net.getParams(), theta, { rtol: 0, atol: 0 });
    net.dispose();
  });

  test("'full' beyond the memory limit: OutOfMemoryError suggesting 'kfac' or 'last-layer', before any allocation", async () => {
    await init({ backend, maxMemoryBytes: 32 << 20 });
    const net = mlp({ sizes: [2, 4, 1], seed: 0 });
    const n = 1500, X = randn(1, n * 2), Y = randn(2, n);
    let err: unknown;
    try { laplace(net, { X, Y, n }, { structure: 'full' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as NatgradError).message).toMatch(/'kfac' or 'last-layer'/);
    // 'auto' picks a structure that fits.
    const post = laplace(net, { X, Y, n });
    expect(post.structure).toBe('kfac');
    post.dispose(); net.dispose();
    await init({ backend });
  });

  test("'full' never forms P × P: p ≥ 10⁶ and n·k = 512 stay under 100 MB of backend memory", async () => {
    await init({ backend, maxMemoryBytes: 100 << 20 });
    const { kernels } = require('../../src/advanced') as typeof import('../../src/advanced');
    const d = 999, net: Net = mlp({ sizes: [d, 1000, 1], activation: 'tanh', seed: 2 });
    expect(net.numParams).toBeGreaterThanOrEqual(1e6);
    const n = 512, X = randn(3, n * d), Y = randn(4, n);
    const post = laplace(net, { X, Y, n }, { structure: 'full', prior: 1, noise: 1 });
    const pred = post.predict(X.subarray(0, 20 * d), 20);
    expect(pred.functionVariance.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    expect(Number.isFinite(post.logMarginalLikelihood())).toBe(true);
    post.optimize({ noise: false });
    expect(kernels().memoryBytes()).toBeLessThan(100 * 2 ** 20);
    post.dispose(); net.dispose();
    await init({ backend });
  }, 120_000);
});
