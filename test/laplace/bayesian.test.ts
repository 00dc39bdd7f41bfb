import { EigenvalueDecomposition, Matrix, solve } from 'ml-matrix';
import { init, mlp } from '../../src/index';
import { jacobian } from '../../src/advanced';
import { bayesianEpoch, bayesianStart } from '../../src/laplace/bayesian';
import { ArgumentError } from '../../src/errors';
import { squaredError, softmaxCrossEntropy } from '../../src/nn/losses';
import { BACKENDS } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { randn } from '../helpers/random';
import { denseEvidence } from './dense';

/** MacKay's update and the regularised Gauss–Newton step, from J formed explicitly and P × P matrices (ml-matrix). */
function denseEpoch(J: Float64Array, N: number, P: number, theta: Float64Array, g: Float64Array, R: number, delta: number, sigma: number, gaussian: boolean) {
  const M = new Matrix(P, P);
  for (let p = 0; p < P; p++) for (let q = 0; q < P; q++) {
    let s = 0;
    for (let r = 0; r < N; r++) s += J[r * P + p] * J[r * P + q];
    M.set(p, q, s);
  }
  const sym = new Matrix(P, P);
  for (let p = 0; p < P; p++) for (let q = 0; q < P; q++) sym.set(p, q, 0.5 * (M.get(p, q) + M.get(q, p)));
  const mu = new EigenvalueDecomposition(sym, { assumeSymmetric: true }).realEigenvalues.map((v) => Math.max(v, 0));
  const s0 = sigma * sigma * delta;
  const gamma = mu.reduce((a, m) => a + m / (m + s0), 0);
  let T = 0;
  for (const t of theta) T += t * t;
  const d1 = gamma / T, sg1 = gaussian ? Math.sqrt(R / (N - gamma)) : 1;
  const rho = sg1 * sg1 * d1;
  const A = sym.clone();
  for (let p = 0; p < P; p++) A.set(p, p, A.get(p, p) + rho);
  const b = Matrix.columnVector(Array.from(g, (v, i) => -(v + rho * theta[i])));
  const step = solve(A, b).to1DArray();
  return { gamma, delta: d1, sigma: sg1, step };
}

describe.each(BACKENDS)('bayesian epoch on %s', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test.each(['se', 'ce'] as const)("%s: MacKay's update and the regularised step agree with the dense computation (1e-8; the step, read back as a difference of parameters, 1e-7)", (kind) => {
    const gaussian = kind === 'se';
    const n = 12, d = 2;
    const net = mlp({ sizes: gaussian ? [d, 6, 1] : [d, 5, 3], activation: 'tanh', seed: 4 });
    const X = randn(1, n * d);
    const Y = gaussian ? randn(2, n) : Float64Array.from({ length: n }, (_, i) => i % 3);
    const k = net.outputDim, N = n * k, P = net.numParams;
    const theta = net.getParams();
    const u = net.predict(X, n);
    // J̃ (unit noise): J for squared error; Mᵢᵀ Jᵢ for cross-entropy, Mᵢ = diag(√p) − p√pᵀ.
    const J = jacobian(net, X, n), Jt = new Float64Array(N * P), g = new Float64Array(P);
    let R = 0;
    for (let i = 0; i < n; i++) {
      if (gaussian) {
        const r = u[i] - Y[i];
        R += r * r;
        for (let p = 0; p < P; p++) { Jt[i * P + p] = J[i * P + p]; g[p] += r * J[i * P + p]; }
        continue;
      }
      const m = Math.max(...u.subarray(i * k, i * k + k)), e = Array.from(u.subarray(i * k, i * k + k), (v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b), pr = e.map((v) => v / z);
      for (let c = 0; c < k; c++) {
        const gc = pr[c] - (Y[i] === c ? 1 : 0);
        for (let p = 0; p < P; p++) g[p] += gc * J[(i * k + c) * P + p];
        for (let j = 0; j < k; j++) {
          const Mjc = (j === c ? Math.sqrt(pr[c]) : 0) - pr[j] * Math.sqrt(pr[c]);
          for (let p = 0; p < P; p++) Jt[(i * k + c) * P + p] += Mjc * J[(i * k + j) * P + p];
        }
      }
    }
    const ref = denseEpoch(Jt, N, P, theta, g, R, 0.5, gaussian ? 0.3 : 1, gaussian);
    const rec = bayesianEpoch(net, { X, Y, n }, gaussian ? squaredError() : softmaxCrossEntropy(), 0.5, gaussian ? 0.3 : 1);
    allClose([rec.effectiveParameters, rec.prior, rec.noise], [ref.gamma, ref.delta, ref.sigma], { rtol: 1e-8, atol: 0, label: 'γ, δ, σ' });
    expect(rec.step).toBeGreaterThan(0);
    const moved = net.getParams().map((v, i) => (v - theta[i]) / rec.step);
    allClose(moved, ref.step, { rtol: 1e-7, atol: 1e-9 * Math.max(...ref.step.map(Math.abs)), label: 'regularised Gauss–Newton step' });
    net.setParams(theta);
    const evidence = denseEvidence(net, X, Y, n, gaussian, 'full');
    allClose([rec.logMarginalLikelihood], [evidence(rec.prior, rec.noise)], { rtol: 1e-8, atol: 0, label: 'log marginal likelihood' });
    net.dispose();
  });
});

test("bayesian: { prior, noise } is strict like every options object: an unknown key throws ArgumentError naming it", () => {
  expect(bayesianStart({ prior: 2 }, squaredError())).toEqual({ prior: 2, noise: 1 });
  let err: unknown;
  try { bayesianStart({ prior: 2, nosie: 0.1 } as never, squaredError()); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(ArgumentError);
  expect((err as Error).message).toMatch(/nosie.*noise/);
});
