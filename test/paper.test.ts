/**
 * The predictions of Zhang, Martens & Grosse (2019) on the paper's network: a
 * two-layer ReLU net, only W trained, n = 32 random unit-norm inputs in d = 16,
 * width m = 4096, ν = 1, Gaussian targets, fixed seeds, loss ½‖u − y‖².
 * (shared/research/paper.md §2, §8: measured there at similar sizes in NumPy.)
 */
import { init, twoLayerReLU, ngd, gd, train, type Net } from '../src/index';
import { gramMatrix, gramSpectrum } from '../src/diagnostics/index';
import { linalg } from '../src/advanced';
import { BACKENDS } from './helpers/backends';
import { randn } from './helpers/random';
import { unitInputs } from './helpers/nets';

const n = 32, d = 16, m = 4096;
const X = unitInputs(1, n, d), Y = randn(2, n);
const data = { X, Y, n };
const paperNet = (): Net => twoLayerReLU({ inputDim: d, width: m, nu: 1, seed: 3 });

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test('NGD, η = 1: one step fits the data, ‖r₁‖²/‖r₀‖² ≤ 1e-2', () => {
    const net = paperNet();
    const history = train(net, data, ngd({ lr: 1, damping: 0 }), { steps: 2 });
    expect(history[1].ratio).toBeLessThanOrEqual(1e-2);
    net.dispose();
  });

  test('NGD, η = 0.5: each of the first 5 per-step ratios of ‖r‖² is in [0.2, 0.3] (≈ (1 − η)² = 0.25)', () => {
    const net = paperNet();
    const history = train(net, data, ngd({ lr: 0.5, damping: 0 }), { steps: 6 });
    for (const r of history.slice(1)) {
      expect(r.ratio).toBeGreaterThanOrEqual(0.2);
      expect(r.ratio).toBeLessThanOrEqual(0.3);
    }
    net.dispose();
  });

  test('GD, η = 1/λ_max(G): the per-step ratio after 50 steps is within 5% of (1 − η·λ_min(G))²', () => {
    const net = paperNet();
    const { lambdaMin, lambdaMax } = gramSpectrum(net, X, n);
    expect(lambdaMin).toBeGreaterThan(0.05); // Condition 1, with room
    const eta = 1 / lambdaMax;
    const history = train(net, data, gd({ lr: eta }), { steps: 51 });
    const predicted = (1 - eta * lambdaMin) ** 2;
    expect(Math.abs(history[50].ratio / predicted - 1)).toBeLessThan(0.05);
    net.dispose();
  });

  test('damping λ: the slowest mode of G contracts by 1 − η·μ/(μ + λ) per step, within 5%', () => {
    const net0 = paperNet();
    const { values, vectors } = linalg.eigh(gramMatrix(net0, X, n), n);
    net0.dispose();
    const mu = values[0];
    const vmin = Float64Array.from({ length: n }, (_, i) => vectors[i * n]);
    for (const [eta, lambda] of [[1, 1], [1, 10 * mu], [0.5, 1]]) {
      const net = paperNet();
      const slowest = () => net.predict(X, n).reduce((s, u, i) => s + vmin[i] * (u - Y[i]), 0);
      const predicted = 1 - eta * mu / (mu + lambda);
      const opt = ngd({ lr: eta, damping: lambda });
      let before = slowest();
      for (let step = 0; step < 5; step++) {
        opt.step(net, data);
        const after = slowest();
        expect(Math.abs(after / before / predicted - 1)).toBeLessThan(0.05);
        before = after;
      }
      net.dispose();
    }
  });
});
