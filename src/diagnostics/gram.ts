/**
 * The paper's quantities, measured on a network: the Gram matrix G = JJᵀ and its
 * spectrum, the limiting Gram G∞ of the two-layer ReLU net, Jacobian drift and
 * weight movement. All matrix-free except where a dense n·k × n·k matrix is the answer.
 */
import { kernels as activeKernels } from '../backend/init.js';
import type { Kernels, Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import { ArgumentError, ConvergenceError, ShapeError } from '../errors.js';
import { checkArray, checkDim, checkFinite, checkResult } from '../validate.js';
import { gramFromCaptures } from '../nn/gram.js';
import { seedIdentity, withJacobianCapture } from '../nn/jacobian.js';
import { Capture, type Net } from '../nn/net.js';

/**
 * The Gram matrix G = JJᵀ ((n·k) × (n·k), row-major, rows ordered like
 * `jacobian`'s in natgrad/advanced) of the outputs with respect to the trainable parameters,
 * built per layer as (A Aᵀ ⊗ 1) ∘ (B Bᵀ) without forming J. Exactly symmetric.
 *
 * @param net the network (its current parameters)
 * @param X the n inputs, n × inputDim row-major
 * @param n the number of inputs
 * @example
 * const G = gramMatrix(net, X, n); // n × n for one output
 */
export function gramMatrix(net: Net, X: Float64Array, n: number): Float64Array {
  return withJacobianCapture(net, X, n, (cap, ws) => {
    const N = n * net.outputDim, g = ws.get('G', N * N);
    gramFromCaptures(cap, cap, ws, g);
    const G = net.kernels.f64().slice(g >> 3, (g >> 3) + N * N);
    checkResult('G', G);
    return G;
  });
}

/** The spectrum of a Gram matrix. */
export interface GramSpectrum {
  /** All eigenvalues, ascending. */
  eigenvalues: Float64Array;
  /** The smallest eigenvalue λ_min (the paper's λ₀ for G at initialisation). */
  lambdaMin: number;
  /** The largest eigenvalue λ_max (GD is stable for η < 2/λ_max). */
  lambdaMax: number;
  /** λ_max / λ_min (Infinity when λ_min ≤ 0). */
  condition: number;
}

/**
 * Eigenvalues, λ_min, λ_max and condition number of G = JJᵀ: λ_min(G) > 0 is
 * the paper's Condition 1; GD's asymptotic per-step ‖r‖² ratio is
 * (1 − η·λ_min)² and it is stable for η < 2/λ_max.
 *
 * @param net the network (its current parameters)
 * @param X the n inputs, n × inputDim row-major
 * @param n the number of inputs
 * @example
 * const { lambdaMin, lambdaMax } = gramSpectrum(net, X, n);
 * const opt = gd({ lr: 1 / lambdaMax });
 */
export function gramSpectrum(net: Net, X: Float64Array, n: number): GramSpectrum {
  return withJacobianCapture(net, X, n, (cap, ws) => {
    const N = n * net.outputDim, g = ws.get('G', N * N);
    gramFromCaptures(cap, cap, ws, g);
    return spectrum(eigenvalues(net.kernels, ws, N, g));
  });
}

/** The limiting Gram matrix and its smallest eigenvalue. */
export interface LimitingGram {
  /** G∞ (n × n, row-major). */
  gram: Float64Array;
  /** λ₀ = λ_min(G∞), > 0 when no two inputs are parallel. */
  lambda0: number;
}

/**
 * G∞, the infinite-width Gram matrix of `twoLayerReLU` (first layer
 * trained), and λ₀ = λ_min(G∞) (Du et al. 2019): with θᵢⱼ the angle between
 * xᵢ and xⱼ, G∞ᵢⱼ = xᵢᵀxⱼ·(π − θᵢⱼ)/(2π) — the degree-0 arc-cosine kernel times
 * the input kernel. Independent of ν and of the width; for the paper's
 * unit-norm inputs xᵢᵀxⱼ = cos θᵢⱼ. X is n × d row-major (d = X.length / n),
 * computed on the active backend.
 *
 * @param X the n inputs, n × d row-major
 * @param n the number of inputs
 * @example
 * const { lambda0 } = limitingGram(X, n);
 */
export function limitingGram(X: Float64Array, n: number): LimitingGram {
  checkDim('n', n);
  if (n < 1) throw new ShapeError('n', 'needs at least one input');
  if (!(X instanceof Float64Array) || X.length % n !== 0) throw new ShapeError('X', `must be a Float64Array of n × d values (n = ${n})`);
  const d = X.length / n;
  checkArray('X', X, n * d, `n×d = ${n}×${d}`);
  checkFinite('X', X);
  const kernels = activeKernels(), ws = new Workspace(kernels);
  try {
    const xp = ws.get('X', n * d), g = ws.get('G', n * n);
    kernels.f64().set(X, xp >> 3);
    kernels.syrk(0, n, d, 1, xp, d, 0, g, n);
    const h = kernels.f64(), G = g >> 3;
    const norms = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      norms[i] = Math.sqrt(h[G + i * n + i]);
      if (!(norms[i] > 0)) throw new ArgumentError('X', `row ${i} is zero; the angle to it is undefined`);
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const dotij = h[G + i * n + j];
        const cos = Math.max(-1, Math.min(1, dotij / (norms[i] * norms[j])));
        h[G + i * n + j] = i === j ? dotij / 2 : dotij * (Math.PI - Math.acos(cos)) / (2 * Math.PI);
      }
    }
    const gram = kernels.f64().slice(G, G + n * n);
    const w = eigenvalues(kernels, ws, n, g);
    return { gram, lambda0: w[0] };
  } finally {
    ws.dispose();
  }
}

/**
 * ‖J(θ) − J(θ₀)‖₂ / ‖J(θ₀)‖₂ on inputs X, with θ the net's current parameters and
 * θ₀ = `params0` (e.g. a getParams() copy taken before training): the paper's
 * Condition 2 (stable Jacobian). Matrix-free: with Gₐ_b = JₐJ_bᵀ the cross-Grams,
 * ‖J − J₀‖₂² = λ_max(G − G_{θθ₀} − G_{θ₀θ} + G₀), built like G itself.
 *
 * @param net the network (its current parameters)
 * @param X the n inputs, n × inputDim row-major
 * @param n the number of inputs
 * @param params0 θ₀, a flat parameter vector of length `net.numParams`
 * @example
 * const theta0 = net.getParams();
 * train(net, data, ngd(), { steps: 10 });
 * const drift = jacobianDrift(net, X, n, theta0); // small for wide nets
 */
export function jacobianDrift(net: Net, X: Float64Array, n: number, params0: Float64Array): number {
  checkArray('params0', params0, net.numParams, 'numParams');
  checkFinite('params0', params0);
  net.checkInput(X, n);
  const current = net.getParams();
  const kernels = net.kernels, ws = new Workspace(kernels);
  const cap0 = new Capture(net), cap1 = new Capture(net);
  try {
    const q = net.outputDim, N = n * q;
    const capture = (cap: Capture) => { net.forward(cap, X, n, q); seedIdentity(cap); net.backward(cap); };
    capture(cap1);
    net.setParams(params0);
    capture(cap0);
    net.setParams(current);
    const D = ws.get('D', N * N), T = ws.get('T', N * N);
    gramFromCaptures(cap1, cap1, ws, D);
    gramFromCaptures(cap0, cap0, ws, T);
    const top0 = spectrum(eigenvalues(kernels, ws, N, T)).lambdaMax;
    addInto(kernels, N, T, D, 1);
    gramFromCaptures(cap1, cap0, ws, T);
    // D − T − Tᵀ: the two cross terms are transposes of each other.
    const h = kernels.f64(), d = D >> 3, t = T >> 3;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) h[d + i * N + j] -= h[t + i * N + j] + h[t + j * N + i];
    const topD = spectrum(eigenvalues(kernels, ws, N, D)).lambdaMax;
    if (!(top0 > 0)) throw new ArgumentError('params0', 'the Jacobian at params0 is zero on X: the relative drift is undefined');
    return Math.sqrt(Math.max(topD, 0)) / Math.sqrt(top0);
  } finally {
    net.setParams(current);
    cap0.dispose();
    cap1.dispose();
    ws.dispose();
  }
}

/**
 * ‖θ − θ₀‖₂: how far the trainable parameters moved from `params0`.
 *
 * @param net the network (its current parameters θ)
 * @param params0 θ₀, a flat parameter vector of length `net.numParams`
 * @example
 * const theta0 = net.getParams();
 * train(net, data, gd({ lr: 0.5 }), { steps: 100 });
 * weightMovement(net, theta0);
 */
export function weightMovement(net: Net, params0: Float64Array): number {
  checkArray('params0', params0, net.numParams, 'numParams');
  checkFinite('params0', params0);
  const h = net.kernels.f64(), t = net.paramsPtr >> 3;
  // Scaled by the largest difference, so parameters near the overflow threshold give a finite answer.
  let max = 0;
  for (let i = 0; i < net.numParams; i++) max = Math.max(max, Math.abs(h[t + i] - params0[i]));
  if (max === 0) return 0;
  let s = 0;
  for (let i = 0; i < net.numParams; i++) { const d = (h[t + i] - params0[i]) / max; s += d * d; }
  const movement = max * Math.sqrt(s);
  checkResult('movement', [movement]);
  return movement;
}

/** Ascending eigenvalues of the symmetric N × N matrix at a (lower triangle read, a untouched). */
function eigenvalues(kernels: Kernels, ws: Workspace, N: number, a: Ptr): Float64Array {
  const bad = kernels.firstNonFinite(N * N, a);
  if (bad >= 0) checkResult('G', kernels.f64().subarray(a >> 3, (a >> 3) + N * N));
  const w = ws.get('eig.w', N), v = ws.get('eig.v', N * N);
  const info = kernels.syev(N, a, N, w, v, N);
  if (info !== 0) throw new ConvergenceError(`the symmetric eigensolver did not converge (code ${info})`);
  return kernels.f64().slice(w >> 3, (w >> 3) + N);
}

function spectrum(eigenvalues: Float64Array): GramSpectrum {
  const N = eigenvalues.length;
  const lambdaMin = N ? eigenvalues[0] : NaN, lambdaMax = N ? eigenvalues[N - 1] : NaN;
  return { eigenvalues, lambdaMin, lambdaMax, condition: lambdaMin > 0 ? lambdaMax / lambdaMin : Infinity };
}

/** dst += alpha·src over N × N contiguous values. */
function addInto(kernels: Kernels, N: number, src: Ptr, dst: Ptr, alpha: number): void {
  const h = kernels.f64(), s = src >> 3, d = dst >> 3;
  for (let i = 0; i < N * N; i++) h[d + i] += alpha * h[s + i];
}
