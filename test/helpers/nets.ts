/** Test oracles for networks: a plain-array forward pass and finite-difference Jacobians. */
import type { Net } from '../../src/nn/net';
import { activation } from '../../src/nn/activations';
import { randn, rng } from './random';

/**
 * The network's outputs computed from its spec and flat parameters with plain
 * loops (independent of the kernels): u = forward(θ, X). `frozen` gives the
 * values of non-trainable layers (in layer order, each outputs × inA).
 */
export function naiveForward(net: Net, params: Float64Array, frozen: Float64Array[], X: ArrayLike<number>, n: number): Float64Array {
  let H = Float64Array.from(X);
  let width = net.inputDim;
  let f = 0;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    const W = L.trainable ? params.subarray(L.paramOffset, L.paramOffset + L.outputs * L.inA) : frozen[f++];
    const Z = new Float64Array(n * L.outputs);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < L.outputs; o++) {
        let s = 0;
        for (let j = 0; j < width; j++) s += L.weightScale * H[i * width + j] * W[o * L.inA + j];
        if (L.bias) s += L.biasScale * W[o * L.inA + width];
        Z[i * L.outputs + o] = s;
      }
    }
    const act = activation(L.activation);
    H = Z.map((z) => act.f(z));
    width = L.outputs;
  }
  return H;
}

/** Central finite-difference Jacobian ((n·k) × P) of net.predict with respect to the flat parameters. */
export function fdJacobian(net: Net, X: Float64Array, n: number, h = 1e-6): Float64Array {
  const p = net.getParams(), P = p.length, N = n * net.outputDim;
  const J = new Float64Array(N * P);
  for (let c = 0; c < P; c++) {
    const orig = p[c];
    p[c] = orig + h; net.setParams(p); const up = net.predict(X, n);
    p[c] = orig - h; net.setParams(p); const dn = net.predict(X, n);
    p[c] = orig;
    for (let r = 0; r < N; r++) J[r * P + c] = (up[r] - dn[r]) / (2 * h);
  }
  net.setParams(p);
  return J;
}

/** n random inputs on the unit sphere in d dimensions. */
export function unitInputs(seed: number, n: number, d: number): Float64Array {
  const X = randn(seed, n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j] ** 2;
    for (let j = 0; j < d; j++) X[i * d + j] /= Math.sqrt(s);
  }
  return X;
}

/** n random class labels in [0, k). */
export function randomLabels(seed: number, n: number, k: number): Float64Array {
  const u = rng(seed);
  return Float64Array.from({ length: n }, () => Math.floor(u() * k));
}

/** Relative Frobenius distance ‖a − b‖ / ‖b‖. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / den);
}
