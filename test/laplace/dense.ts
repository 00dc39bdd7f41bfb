/**
 * An independent dense reference of the Laplace posterior for small nets: the Jacobian formed
 * explicitly with the public `jacobian`, the P × P precision H = (approximated) JᵀΛJ + δI formed in
 * plain arrays, and every solve and determinant by ml-matrix's Cholesky. Nothing here uses the
 * Gram, Woodbury, or the library's eigendecompositions.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { type Net } from '../../src/index';
import { jacobian } from '../../src/advanced';
import { activation } from '../../src/nn/activations';

export type Structure = 'full' | 'kfac' | 'diagonal' | 'last-layer';

function softmax(u: Float64Array, i: number, k: number): number[] {
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, u[i * k + c]);
  const e = Array.from({ length: k }, (_, c) => Math.exp(u[i * k + c] - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Λᵢ (k × k) per example: I/σ² or diag(p) − ppᵀ. */
function lambdas(net: Net, X: Float64Array, n: number, gaussian: boolean, sigma: number): number[][][] {
  const k = net.outputDim, u = net.predict(X, n);
  return Array.from({ length: n }, (_, i) => {
    if (gaussian) return Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => (a === b ? 1 / (sigma * sigma) : 0)));
    const p = softmax(u, i, k);
    return Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => (a === b ? p[a] : 0) - p[a] * p[b]));
  });
}

/** The effective inputs ā_i of every layer (with weight scale and bias column), by a plain forward pass. */
function effectiveInputs(net: Net, X: Float64Array, n: number): Float64Array[] {
  const params = net.getParams();
  const out: Float64Array[] = [];
  let H = Float64Array.from(X), width = net.inputDim;
  const h = net.kernels.f64();
  for (const L of net.layers) {
    const A = new Float64Array(n * L.inA);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < width; j++) A[i * L.inA + j] = L.weightScale * H[i * width + j];
      if (L.bias) A[i * L.inA + width] = L.biasScale;
    }
    out.push(A);
    const W = L.trainable ? params.subarray(L.paramOffset, L.paramOffset + L.outputs * L.inA) : h.slice(L.ptr >> 3, (L.ptr >> 3) + L.outputs * L.inA);
    const Z = new Float64Array(n * L.outputs);
    for (let i = 0; i < n; i++) for (let o = 0; o < L.outputs; o++) {
      let s = 0;
      for (let j = 0; j < L.inA; j++) s += A[i * L.inA + j] * W[o * L.inA + j];
      Z[i * L.outputs + o] = s;
    }
    const act = activation(L.activation);
    H = Z.map((z) => act.f(z));
    width = L.outputs;
  }
  return out;
}

export interface DenseReference {
  /** Function covariance blocks (nt × k × k) at the test inputs. */
  cov: Float64Array;
  /** diag of cov, nt × k. */
  fvar: Float64Array;
  logML: number;
  /** The P × P (or P_L × P_L) precision. */
  H: Matrix;
}

/**
 * The dense posterior of `structure` at δ, σ: the GGN M = Σᵢ JᵢᵀΛᵢJᵢ (P × P), approximated as the
 * structure says, H = M + δI; covariance J* H⁻¹ J*ᵀ; log Z = log p(y|θ*) − δ/2‖θ‖² + (P/2) log δ − ½ log det H.
 */
export function denseLaplace(net: Net, X: Float64Array, Y: Float64Array, n: number, Xt: Float64Array, nt: number,
  opts: { gaussian: boolean; delta: number; sigma: number; structure: Structure }): DenseReference {
  const curv = denseCurvature(net, X, Y, n, opts.gaussian, opts.structure);
  return evaluate(curv, net, Xt, nt, opts.delta, opts.sigma);
}

/** The dense log marginal likelihood as a function of δ and σ (the curvature formed once). */
export function denseEvidence(net: Net, X: Float64Array, Y: Float64Array, n: number, gaussian: boolean, structure: Structure): (delta: number, sigma: number) => number {
  const curv = denseCurvature(net, X, Y, n, gaussian, structure);
  return (delta, sigma) => evaluate(curv, net, undefined, 0, delta, sigma).logML;
}

interface Curvature { Mx: Float64Array; idx: number[]; gaussian: boolean; X: Float64Array; Y: Float64Array; n: number }

/** The structure's approximation of M = Σᵢ JᵢᵀΛᵢJᵢ at unit noise, on the parameters it covers (idx). */
function denseCurvature(net: Net, X: Float64Array, Y: Float64Array, n: number, gaussian: boolean, structure: Structure): Curvature {
  const k = net.outputDim, P = net.numParams;
  const J = jacobian(net, X, n);
  const Lam = lambdas(net, X, n, gaussian, 1);
  // M = Σᵢ JᵢᵀΛᵢJᵢ.
  const M = new Float64Array(P * P);
  for (let i = 0; i < n; i++) {
    const LJ = new Float64Array(k * P);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
      const l = Lam[i][a][b];
      if (l !== 0) for (let p = 0; p < P; p++) LJ[a * P + p] += l * J[(i * k + b) * P + p];
    }
    for (let a = 0; a < k; a++) for (let p = 0; p < P; p++) {
      const x = J[(i * k + a) * P + p];
      if (x !== 0) for (let q = 0; q < P; q++) M[p * P + q] += x * LJ[a * P + q];
    }
  }
  let idx = Array.from({ length: P }, (_, p) => p);
  let Mx: Float64Array;
  if (structure === 'full') Mx = M;
  else if (structure === 'diagonal') { Mx = new Float64Array(P * P); for (let p = 0; p < P; p++) Mx[p * P + p] = M[p * P + p]; }
  else if (structure === 'last-layer') {
    const L = net.layers[net.layers.length - 1];
    idx = Array.from({ length: L.outputs * L.inA }, (_, j) => L.paramOffset + j);
    Mx = new Float64Array(idx.length * idx.length);
    idx.forEach((p, a) => idx.forEach((q, b) => { Mx[a * idx.length + b] = M[p * P + q]; }));
  } else {
    // K-FAC: blockdiag(S_l ⊗ A_l), A_l = (1/n)Σ āāᵀ, S_l = Σᵢ GᵢᵀΛᵢGᵢ with Gᵢ = ∂uᵢ/∂z_l read off J.
    Mx = new Float64Array(P * P);
    const abar = effectiveInputs(net, X, n);
    net.layers.forEach((L, l) => {
      if (!L.trainable) return;
      const m = L.outputs, inA = L.inA, off = L.paramOffset;
      const A = new Float64Array(inA * inA), S = new Float64Array(m * m);
      for (let i = 0; i < n; i++) {
        const a = abar[l].subarray(i * inA, (i + 1) * inA);
        let aa = 0;
        for (let j = 0; j < inA; j++) aa += a[j] * a[j];
        for (let p = 0; p < inA; p++) for (let q = 0; q < inA; q++) A[p * inA + q] += a[p] * a[q] / n;
        const G = new Float64Array(k * m);
        for (let c = 0; c < k; c++) for (let o = 0; o < m; o++) {
          let s = 0;
          for (let j = 0; j < inA; j++) s += J[(i * k + c) * P + off + o * inA + j] * a[j];
          G[c * m + o] = s / aa;
        }
        for (let o = 0; o < m; o++) for (let o2 = 0; o2 < m; o2++) {
          let s = 0;
          for (let c = 0; c < k; c++) for (let c2 = 0; c2 < k; c2++) s += G[c * m + o] * Lam[i][c][c2] * G[c2 * m + o2];
          S[o * m + o2] += s;
        }
      }
      for (let o = 0; o < m; o++) for (let o2 = 0; o2 < m; o2++) for (let p = 0; p < inA; p++) for (let q = 0; q < inA; q++) {
        Mx[(off + o * inA + p) * P + off + o2 * inA + q] = S[o * m + o2] * A[p * inA + q];
      }
    });
  }
  return { Mx, idx, gaussian, X, Y, n };
}

function evaluate(curv: Curvature, net: Net, Xt: Float64Array | undefined, nt: number, delta: number, sigma: number): DenseReference {
  const { Mx, idx, gaussian, X, Y, n } = curv;
  const k = net.outputDim, P = net.numParams, N = n * k;
  const Q = idx.length, s2 = gaussian ? sigma * sigma : 1;
  const H = new Matrix(Q, Q);
  for (let a = 0; a < Q; a++) for (let b = 0; b < Q; b++) H.set(a, b, 0.5 * (Mx[a * Q + b] + Mx[b * Q + a]) / s2 + (a === b ? delta : 0));
  const chol = new CholeskyDecomposition(H);
  if (!chol.isPositiveDefinite()) throw new Error('dense H is not positive definite');
  const Lc = chol.lowerTriangularMatrix;
  let logDet = 0;
  for (let a = 0; a < Q; a++) logDet += 2 * Math.log(Lc.get(a, a));
  const cov = new Float64Array(nt * k * k), fvar = new Float64Array(nt * k);
  if (Xt) {
    // J*ᵀ restricted to the covered parameters: Q × (nt·k).
    const Jt = jacobian(net, Xt, nt);
    const Jts = new Matrix(Q, nt * k);
    for (let r = 0; r < nt * k; r++) idx.forEach((p, a) => Jts.set(a, r, Jt[r * P + p]));
    const Z = chol.solve(Jts);
    for (let t = 0; t < nt; t++) for (let c = 0; c < k; c++) for (let c2 = 0; c2 < k; c2++) {
      let s = 0;
      for (let a = 0; a < Q; a++) s += Jts.get(a, t * k + c) * Z.get(a, t * k + c2);
      cov[t * k * k + c * k + c2] = s;
      if (c === c2) fvar[t * k + c] = s;
    }
  }
  const theta = net.getParams();
  let T = 0;
  for (const p of idx) T += theta[p] * theta[p];
  const u = net.predict(X, n);
  let loglik = 0;
  if (gaussian) {
    let R = 0;
    for (let i = 0; i < N; i++) R += (u[i] - Y[i]) ** 2;
    loglik = -R / (2 * sigma * sigma) - (N / 2) * Math.log(2 * Math.PI * sigma * sigma);
  } else {
    for (let i = 0; i < n; i++) loglik += Math.log(softmax(u, i, k)[Y[i]]);
  }
  const logML = loglik - (delta / 2) * T + (Q / 2) * Math.log(delta) - 0.5 * logDet;
  return { cov, fvar, logML, H };
}
