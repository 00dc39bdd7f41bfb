/**
 * The kernel-regime quantities of the paper, built from the public Gram matrix
 * G = JJᵀ: its eigenvectors (per-mode contraction), the cross Gram (empirical
 * NTK) between two input sets, the kernel predictor and minimum-norm
 * displacement √(r₀ᵀG⁻¹r₀), the Gram drift, and the leverage scores of X.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { eigh, gram, solveSPD, type Eigh } from '../backend/linalg.js';
import { gramMatrix } from './gram.js';
import type { Net } from '../nn/net.js';
import { checkArray, checkDim, checkFinite, checkNonNegative } from '../validate.js';

/**
 * Eigenvalues (ascending) and orthonormal eigenvectors (column j of the
 * (n·k) × (n·k) row-major `vectors`) of G = JJᵀ at the net's current
 * parameters. NGD with damping λ contracts the residual's component on
 * eigenvector j by 1 − η·μⱼ/(μⱼ + λ) per step; GD by 1 − η·μⱼ.
 *
 * @example
 * const { values, vectors } = gramEigen(net, X, n);
 * const p = modeProjections({ values, vectors }, residual); // p[j] = v_jᵀ r
 * @param net the network, at its current parameters
 * @param X inputs, n × inputDim row-major
 * @param n number of inputs
 */
export function gramEigen(net: Net, X: Float64Array, n: number): Eigh {
  const N = n * net.outputDim;
  return eigh(gramMatrix(net, X, n), N);
}

/**
 * p[j] = v_jᵀ r: the components of r (length N) on the eigenvectors of an {@link Eigh} (column j of the N × N `vectors`).
 * @param eig an eigen-decomposition, e.g. from gramEigen
 * @param r a vector of length N, e.g. the residual u − y
 *
 * @example
 * const eig = gramEigen(net, X, n);
 * const before = modeProjections(eig, r0), after = modeProjections(eig, r1); // after[j]/before[j] per mode
 */
export function modeProjections(eig: Eigh, r: Float64Array): Float64Array {
  const N = eig.values.length;
  checkArray('r', r, N, `N = ${N}, the order of the eigen-decomposition`);
  const p = new Float64Array(N), V = eig.vectors;
  for (let i = 0; i < N; i++) {
    const ri = r[i];
    for (let j = 0; j < N; j++) p[j] += V[i * N + j] * ri;
  }
  return p;
}

/**
 * The cross Gram matrix K = J_a J_bᵀ ((na·k) × (nb·k), row-major, rows ordered
 * example-major like {@link gramMatrix}) between inputs Xa and Xb: the
 * empirical neural tangent kernel at the net's current parameters. Computed as
 * the off-diagonal block of the Gram matrix of the stacked inputs.
 *
 * @example
 * const K = crossGram(net, Xtest, nTest, Xtrain, n); // NTK(test, train)
 * @param net the network, at its current parameters
 * @param Xa first inputs, na × inputDim row-major (rows of K)
 * @param na number of first inputs
 * @param Xb second inputs, nb × inputDim row-major (columns of K)
 * @param nb number of second inputs
 */
export function crossGram(net: Net, Xa: Float64Array, na: number, Xb: Float64Array, nb: number): Float64Array {
  checkDim('na', na); checkDim('nb', nb);
  const d = net.inputDim, k = net.outputDim;
  checkArray('Xa', Xa, na * d, `na × inputDim = ${na} × ${d}`);
  checkArray('Xb', Xb, nb * d, `nb × inputDim = ${nb} × ${d}`);
  const stacked = new Float64Array((na + nb) * d);
  stacked.set(Xa); stacked.set(Xb, na * d);
  const G = gramMatrix(net, stacked, na + nb), N = (na + nb) * k, A = na * k, B = nb * k;
  const K = new Float64Array(A * B);
  for (let i = 0; i < A; i++) K.set(G.subarray(i * N + A, i * N + A + B), i * B);
  return K;
}

/** Options of {@link kernelPredictor} and {@link minNormDisplacement}. */
export interface KernelOptions {
  /** λ ≥ 0 added to G before the solve (default 0: the exact interpolant; needs λ_min(G) > 0). */
  damping?: number;
}

/** The training residual r₀ = u(θ) − y and c = (G + λI)⁻¹r₀ at the current parameters. */
function dualCoefficients(net: Net, X: Float64Array, Y: Float64Array, n: number, damping: number) {
  const k = net.outputDim;
  checkArray('Y', Y, n * k, `n × outputDim = ${n} × ${k}`);
  checkFinite('Y', Y);
  checkNonNegative('damping', damping);
  const r = net.predict(X, n);
  for (let i = 0; i < r.length; i++) r[i] -= Y[i];
  const G = gramMatrix(net, X, n);
  return { r, c: solveSPD(G, r, n * k, 1, { damping }) };
}

/**
 * The kernel (linearised-network) predictor: where training to interpolation
 * takes the outputs on test inputs when the net stays in its kernel regime,
 * u_test = u_test(θ) − K(test, train)·(G + λI)⁻¹(u(θ) − y). NGD and GD both
 * converge to it as the width grows (the paper's implicit-bias argument).
 * Returns nt × outputDim values.
 *
 * @example
 * const theta0 = net.getParams();
 * const predicted = kernelPredictor(net, X, Y, n, Xtest, nTest);
 * @param net the network, at its current parameters
 * @param X training inputs, n × inputDim
 * @param Y training targets, n × outputDim
 * @param n number of training inputs
 * @param Xtest test inputs, nt × inputDim
 * @param nt number of test inputs
 * @param options damping λ of the solve
 */
export function kernelPredictor(net: Net, X: Float64Array, Y: Float64Array, n: number, Xtest: Float64Array, nt: number, options: KernelOptions = {}): Float64Array {
  const { c } = dualCoefficients(net, X, Y, n, options.damping ?? 0);
  const K = crossGram(net, Xtest, nt, X, n), out = net.predict(Xtest, nt);
  const A = out.length, B = c.length;
  for (let i = 0; i < A; i++) {
    let s = 0;
    for (let j = 0; j < B; j++) s += K[i * B + j] * c[j];
    out[i] -= s;
  }
  return out;
}

/**
 * √(r₀ᵀ(G + λI)⁻¹r₀) with r₀ = u(θ) − y: the length of the minimum-norm
 * parameter step that fits the linearised net, J⁺r₀. For a wide net both NGD
 * and GD move the weights about this far in total (‖θ_∞ − θ₀‖).
 *
 * @example
 * const predicted = minNormDisplacement(net, X, Y, n);
 * train(net, data, ngd({ lr: 1, damping: 0 }), { steps: 5 });
 * weightMovement(net, theta0); // ≈ predicted
 * @param net the network, at its current parameters
 * @param X training inputs, n × inputDim
 * @param Y training targets, n × outputDim
 * @param n number of training inputs
 * @param options damping λ of the solve
 */
export function minNormDisplacement(net: Net, X: Float64Array, Y: Float64Array, n: number, options: KernelOptions = {}): number {
  const { r, c } = dualCoefficients(net, X, Y, n, options.damping ?? 0);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i] * c[i];
  return Math.sqrt(Math.max(s, 0));
}

/**
 * ‖G(θ) − G(θ₀)‖₂ / ‖G(θ₀)‖₂ on inputs X (spectral norms), θ the current
 * parameters and θ₀ = `params0`: how far the Gram matrix moved in training. It
 * shrinks like m^(−1/2) with the width (the paper's Condition 2 in Gram form).
 *
 * @example
 * const theta0 = net.getParams();
 * train(net, data, ngd({ lr: 0.5, damping: 0 }), { steps: 5 });
 * gramDrift(net, X, n, theta0);
 * @param net the network, at its current parameters
 * @param X inputs, n × inputDim
 * @param n number of inputs
 * @param params0 θ₀, e.g. a getParams() copy taken before training
 */
export function gramDrift(net: Net, X: Float64Array, n: number, params0: Float64Array): number {
  checkArray('params0', params0, net.numParams, 'numParams');
  checkFinite('params0', params0);
  const N = n * net.outputDim, current = net.getParams();
  const G = gramMatrix(net, X, n);
  let G0: Float64Array;
  try {
    net.setParams(params0);
    G0 = gramMatrix(net, X, n);
  } finally {
    net.setParams(current);
  }
  const D = G.map((v, i) => v - G0[i]);
  const top = (A: Float64Array) => { const w = eigh(A, N).values; return Math.max(Math.abs(w[0]), Math.abs(w[N - 1])); };
  return top(D) / top(G0);
}

/** Leverage scores of an input matrix, from {@link leverageScores}. */
export interface Leverage {
  /** hᵢ = xᵢᵀ(XᵀX)⁻¹xᵢ ∈ (0, 1], summing to d. */
  scores: Float64Array;
  /** λ_min of XᵀX (d × d). */
  lambdaMin: number;
  /** λ_max of XᵀX: K-FAC's aggregate ratio stays ≤ 1 − η/λ_max. */
  lambdaMax: number;
}

/**
 * Leverage scores hᵢ = xᵢᵀ(XᵀX)⁻¹xᵢ of the n × d inputs X (n ≥ d, rank d):
 * under K-FAC with the paper's factors (sum-normalised, current batch, no
 * damping) a wide net's residual coordinate i contracts by 1 − η·hᵢ per step.
 *
 * @example
 * const { scores, lambdaMax } = leverageScores(X, n);
 * @param X inputs, n × d row-major
 * @param n number of inputs (≥ d)
 */
export function leverageScores(X: Float64Array, n: number): Leverage {
  checkDim('n', n);
  if (n < 1 || !(X instanceof Float64Array) || X.length % n !== 0) throw new ShapeError('X', `must be a Float64Array of n × d values (n = ${n})`);
  const d = X.length / n;
  if (n < d) throw new ArgumentError('X', `needs n ≥ d for XᵀX to be invertible (n = ${n}, d = ${d}); with n ≤ d every hᵢ is 1 when X has full row rank`);
  checkFinite('X', X);
  const Xt = new Float64Array(d * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) Xt[j * n + i] = X[i * d + j];
  const A = gram(Xt, d, n); // XᵀX
  const { values } = eigh(A, d);
  const Z = solveSPD(A, Xt, d, n); // (XᵀX)⁻¹Xᵀ, d × n
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += X[i * d + j] * Z[j * n + i]; scores[i] = s; }
  return { scores, lambdaMin: values[0], lambdaMax: values[d - 1] };
}
