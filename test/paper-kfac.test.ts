/**
 * The K-FAC predictions of Zhang, Martens & Grosse (2019) §4 (shared/research/paper.md §4.3, §8.7) on the
 * paper's network: two-layer ReLU, only W (m × d) trained, width m = 4096, unit-norm inputs, Gaussian targets,
 * loss ½‖u − y‖², K-FAC with sum-normalised factors A = XᵀX, S = ΓᵀΓ (normalization 'sum'), the batch's own
 * factors (decay 0, S inverted in the n×n dual form) and damping 1e-12 (the undamped limit, A⁻¹ and S⁺).
 *
 * To first order K-FAC moves the outputs by Δu = −η(P_Γ ∘ P_X)r with P_Γ = I for a wide net, so:
 * - d ≥ n: P_X = I and the output step is exact NGD's, −ηr;
 * - n > d: Δuᵢ = −η·hᵢ·rᵢ with hᵢ = xᵢᵀ(XᵀX)⁻¹xᵢ, the inputs' leverage scores.
 */
import { Matrix, inverse } from 'ml-matrix';
import { init, twoLayerReLU, ngd, kfac, train, type Net } from '../src/index';
import { linalg, jvp } from '../src/advanced';
import { BACKENDS } from './helpers/backends';
import { randn } from './helpers/random';
import { unitInputs } from './helpers/nets';

const m = 4096;
const paperKfac = (eta: number) => kfac({ adaptive: false, lr: eta, damping: 1e-12, normalization: 'sum', decay: 0, inverseEvery: 1 });

/** hᵢ = xᵢᵀ(XᵀX)⁻¹xᵢ for the n × d inputs X, and λ_max(XᵀX). */
function leverage(X: Float64Array, n: number, d: number): { h: number[]; lambdaMax: number } {
  const Xm = new Matrix(Array.from({ length: n }, (_, i) => Array.from(X.subarray(i * d, (i + 1) * d))));
  const XtX = Xm.transpose().mmul(Xm);
  const Hm = Xm.mmul(inverse(XtX)).mmul(Xm.transpose());
  return { h: Array.from({ length: n }, (_, i) => Hm.get(i, i)), lambdaMax: linalg.eigh(Float64Array.from(XtX.to1DArray()), d).values[d - 1] };
}

/**
 * Unit-norm inputs whose leverage scores are spread: n − iso rows in a (d − iso)-dimensional bulk (hᵢ ≈ (d − iso)/(n − iso))
 * and iso rows that each own one of the remaining directions (hᵢ ≈ 1), with 5% noise everywhere.
 */
function spreadInputs(seed: number, n: number, d: number, iso: number): Float64Array {
  const z = randn(seed, n * d), X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const own = i >= n - iso ? d - iso + (i - (n - iso)) : -1;
    for (let j = 0; j < d; j++) X[i * d + j] = j === own ? 1 : (own < 0 && j < d - iso ? 1 : 0.05) * z[i * d + j];
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j] ** 2;
    for (let j = 0; j < d; j++) X[i * d + j] /= Math.sqrt(s);
  }
  return X;
}

/** One K-FAC step: residuals before and after, and the linearised output change J·Δ at the starting point. */
function kfacStep(net: Net, X: Float64Array, Y: Float64Array, n: number, eta: number) {
  const p0 = net.getParams();
  const r0 = net.predict(X, n).map((u, i) => u - Y[i]);
  const stats = paperKfac(eta).step(net, { X, Y, n });
  const r1 = net.predict(X, n).map((u, i) => u - Y[i]);
  const delta = net.getParams().map((v, i) => v - p0[i]);
  const p1 = net.getParams();
  net.setParams(p0);
  const linear = jvp(net, X, n, delta);
  net.setParams(p1);
  return { r0, r1, linear, stats };
}

const sq = (r: Float64Array): number => r.reduce((s, x) => s + x * x, 0);

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  describe('d ≥ n (n = 16, d = 32): K-FAC is exact NGD in output space', () => {
    const n = 16, d = 32, X = unitInputs(1, n, d), Y = randn(2, n);
    const net = (): Net => twoLayerReLU({ inputDim: d, width: m, seed: 3 });

    test('the linearised output step is −η·r in every coordinate (P_Γ ∘ P_X = I), to 1e-4', () => {
      const a = net();
      const { r0, linear, stats } = kfacStep(a, X, Y, n, 1);
      expect(stats.blocks[0].formS).toBe('dual');
      for (let i = 0; i < n; i++) expect(Math.abs(linear[i] / -r0[i] - 1)).toBeLessThan(1e-4);
      a.dispose();
    });

    test('step-1 ‖r‖² ratio within 2× of exact NGD\'s at η = 0.9 (measured 1.33×); at η = 1 both fit the data in one step', () => {
      for (const eta of [0.9, 1]) {
        const a = net(), b = net();
        const ngdRatio = train(a, { X, Y, n }, ngd({ lr: eta, damping: 0 }), { steps: 2 })[1].ratio;
        const kfacRatio = train(b, { X, Y, n }, paperKfac(eta), { steps: 2 })[1].ratio;
        if (eta === 0.9) {
          expect(kfacRatio / ngdRatio).toBeLessThan(2);
          expect(kfacRatio / ngdRatio).toBeGreaterThan(0.5);
        } else {
          // The nonlinear remainder: NGD 4.1e-4, K-FAC 1.8e-3 (its parameter step is ~2× longer: not the minimum-norm one).
          expect(ngdRatio).toBeLessThan(1e-2);
          expect(kfacRatio).toBeLessThan(1e-2);
        }
        a.dispose(); b.dispose();
      }
    });
  });

  describe('n > d (n = 64, d = 16): residual i contracts by 1 − η·hᵢ (leverage scores)', () => {
    const n = 64, d = 16, eta = 0.5;

    test('the linearised output step is −η·hᵢ·rᵢ to 1e-4, for isotropic and for spread inputs', () => {
      for (const X of [unitInputs(1, n, d), spreadInputs(1, n, d, 4)]) {
        const Y = randn(2, n), { h } = leverage(X, n, d);
        const a = twoLayerReLU({ inputDim: d, width: m, seed: 3 });
        const { r0, linear } = kfacStep(a, X, Y, n, eta);
        for (let i = 0; i < n; i++) expect(Math.abs(linear[i] / (-eta * h[i] * r0[i]) - 1)).toBeLessThan(1e-4);
        a.dispose();
      }
    });

    test('the actual step: every coordinate within 5% of 1 − η·hᵢ at width 4096, with hᵢ spread over [0.14, 0.99]', () => {
      const X = spreadInputs(1, n, d, 4), Y = randn(2, n), { h } = leverage(X, n, d);
      // The prediction is far from a uniform contraction: factors from ≈ 0.5 to ≈ 0.93.
      expect(Math.min(...h)).toBeLessThan(0.2);
      expect(Math.max(...h)).toBeGreaterThan(0.95);
      const a = twoLayerReLU({ inputDim: d, width: m, seed: 3 });
      const { r0, r1 } = kfacStep(a, X, Y, n, eta);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(r1[i] / r0[i] / (1 - eta * h[i]) - 1));
      expect(worst).toBeLessThan(0.05); // measured 0.033 (the largest deviations are at the smallest |rᵢ|)
      a.dispose();
    });

    test('the aggregate ‖r‖² ratio stays ≤ 1 − η/λ_max(XᵀX) over 6 steps (and ≤ (1 − η·min hᵢ)² to first order)', () => {
      for (const X of [unitInputs(1, n, d), spreadInputs(1, n, d, 4)]) {
        const Y = randn(2, n), { h, lambdaMax } = leverage(X, n, d);
        const a = twoLayerReLU({ inputDim: d, width: m, seed: 3 });
        const history = train(a, { X, Y, n }, paperKfac(eta), { steps: 7 });
        const worstCoordinate = (1 - eta * Math.min(...h)) ** 2;
        for (const r of history.slice(1)) {
          expect(r.ratio).toBeLessThanOrEqual(1 - eta / lambdaMax);
          expect(r.ratio).toBeLessThanOrEqual(worstCoordinate * 1.05);
        }
        a.dispose();
      }
    });
  });

  test("the normalisation trap: 'loss' normalisation (A averaged over examples) takes the paper's step only with η/n", () => {
    const n = 32, d = 8, X = unitInputs(4, n, d), Y = randn(5, n);
    const a = twoLayerReLU({ inputDim: d, width: 512, seed: 1 }), b = twoLayerReLU({ inputDim: d, width: 512, seed: 1 });
    const c = twoLayerReLU({ inputDim: d, width: 512, seed: 1 });
    const sum = sq(a.predict(X, n).map((u, i) => u - Y[i])), p0 = a.getParams();
    kfac({ adaptive: false, lr: 0.5, damping: 1e-12, normalization: 'sum', decay: 0 }).step(a, { X, Y, n });
    kfac({ adaptive: false, lr: 0.5 / n, damping: 1e-12 / n, decay: 0 }).step(b, { X, Y, n });
    kfac({ adaptive: false, lr: 0.5, damping: 1e-12, decay: 0 }).step(c, { X, Y, n });
    const da = a.getParams().map((v, i) => v - p0[i]), db = b.getParams().map((v, i) => v - p0[i]);
    // Same step up to the round-off of the near-singular solve (S⁺ with λ = 1e-12).
    expect(Math.sqrt(sq(da.map((v, i) => v - db[i])) / sq(da))).toBeLessThan(1e-8);
    // The paper's step contracts ‖r‖² by about (1 − η·d/n)² ≈ 0.77 (leverage ≈ d/n)…
    expect(sq(a.predict(X, n).map((u, i) => u - Y[i])) / sum).toBeLessThan(0.8);
    // …while the same η and λ under 'loss' step n = 32 times as far (up to λ's effect, 4e-5): to first order
    // r ← (1 − η·n·hᵢ)r ≈ −3r, the trap of mean-normalised K-FAC.
    const dc = c.getParams().map((v, i) => v - p0[i]);
    expect(Math.sqrt(sq(dc.map((v, i) => v - n * da[i])) / sq(dc))).toBeLessThan(1e-3);
    a.dispose(); b.dispose(); c.dispose();
  });
});
