/**
 * Every product with the network Jacobian J̃ (stacked Gauss–Newton rows, q per example;
 * J = ∂U/∂θ when seeded with identity rows), from a {@link Capture}:
 * - reverse mode: J̃ᵀv ({@link jtv}), the gradient ({@link gradientFromCapture}), and the
 *   explicit J̃ ({@link writeJacobian}, small nets only), each the sum or concatenation of the
 *   trainable layers' own products (layer.ts): for a dense layer, row r of J̃'s block is
 *   B_l[r] ⊗ A_l[i], so J̃ᵀv = per layer vec(V_lᵀ A_l), V_l[i] = Σ_c v[(i,c)]·B_l[(i,c)];
 * - forward mode: J·v ({@link jvpFromCapture}, the R-operator of Pearlmutter 1994): a
 *   tangent V_l of layer l's block (zero for a frozen layer) and the tangent Ḣ_{l−1} =
 *   φ′(Z_{l−1}) ∘ Ż_{l−1} of its input move its outputs by Ż_l = (∂Z_l/∂H)·Ḣ_{l−1} + (∂Z_l/∂θ_l)·V_l
 *   (the layer's jvp; for a dense layer with A_l = [s_l·H_{l−1} | β_l·1] and Z_l = A_l·W̃_lᵀ,
 *   Ż_l = s_l·Ḣ_{l−1}·W_lᵀ + A_l·V_lᵀ), starting from Ḣ = 0 below the first trainable layer;
 *   J·v is Ż of the last layer;
 * - and the public, allocating versions on plain arrays: {@link jacobian}, {@link vjp}, {@link jvp}.
 * The Gram matrix J̃J̃ᵀ is gram.ts.
 */
import type { Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import { checkArray, checkFinite, checkResult } from '../validate.js';
import { scaleByDerivative } from './activations.js';
import { Capture, type Net } from './net.js';

/**
 * out (numParams) ← alpha·J̃ᵀv + beta·out, with v the n·q vector at `v`
 * (out may hold the parameters themselves: beta = 1 applies a step in place).
 */
export function jtv(cap: Capture, ws: Workspace, v: Ptr, alpha: number, out: Ptr, beta: number): void {
  const net = cap.net, kernels = net.kernels;
  const n = cap.n, q = cap.q;
  let width = 0;
  for (const L of net.layers) if (L.trainable) width = Math.max(width, L.paramVjpScratch(n, q));
  const vp = ws.get('jtv.v', width);
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    L.paramVjp(kernels, n, q, cap.a[l], cap.b[l], v, alpha, out + 8 * L.paramOffset, beta, vp);
  }
}

/**
 * out (numParams) ← Σ_l J̃_lᵀ1: for a dense layer vec(B_lᵀ A_l); the gradient when the capture
 * was back-propagated from ∂L/∂U with q = 1.
 */
export function gradientFromCapture(cap: Capture, out: Ptr): void {
  const net = cap.net, kernels = net.kernels;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    L.paramVjp(kernels, cap.n, 1, cap.a[l], cap.b[l], 0, 1, out + 8 * L.paramOffset, 0, 0);
  }
}

/** Writes the explicit J̃ ((n·q) × numParams, row-major) at `dst`: for tests, diagnostics and the parameter form. */
export function writeJacobian(cap: Capture, dst: Ptr): void {
  const net = cap.net, kernels = net.kernels, P = net.numParams;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    L.jacobianRows(kernels, cap.n, cap.q, cap.a[l], cap.b[l], dst + 8 * L.paramOffset, P);
  }
}

/** Seeds the output layer's B with identity rows (q = outputs): row (i, c) = e_c, so J̃ = J = ∂U/∂θ. */
export function seedIdentity(cap: Capture): void {
  const k = cap.net.outputDim, h = cap.net.kernels.f64(), b = cap.b[cap.b.length - 1] >> 3;
  h.fill(0, b, b + cap.n * k * k);
  for (let r = 0; r < cap.n * k; r++) h[b + r * k + (r % k)] = 1;
}

/**
 * out (n × outputDim, row-major) ← J·v, J = ∂U/∂θ at the parameters of the capture's
 * last forward pass, v the numParams tangent at `v` (flat parameter order).
 *
 * Preconditions: `cap` holds a forward pass whose pre-activations Z_l (every layer) and
 * effective inputs A_l (trainable layers) are intact (a backward pass keeps them), and the
 * net's weights have not changed since. `out` must not overlap `v` or the capture.
 * Scratch: two n × (widest layer) blocks of `ws` (names 'jvp.t0', 'jvp.t1'), reused.
 */
export function jvpFromCapture(cap: Capture, ws: Workspace, v: Ptr, out: Ptr): void {
  const net = cap.net, kernels = net.kernels, n = cap.n, layers = net.layers;
  const last = layers.length - 1;
  let width = 0;
  for (const L of layers) width = Math.max(width, L.outputs);
  const bufs = [ws.get('jvp.t0', n * width), ws.get('jvp.t1', n * width)];
  let prev = 0; // byte pointer of Ż_{l−1} (0: Ȧ_l = 0)
  for (let l = net.firstTrainable; l <= last; l++) {
    const L = layers[l];
    const zdot = l === last ? out : bufs[(l - net.firstTrainable) & 1];
    if (prev !== 0) {
      // Ḣ_{l−1} = φ′(Z_{l−1}) ∘ Ż_{l−1} in place; the layer applies its own input scale.
      const P = layers[l - 1];
      scaleByDerivative(kernels, P.act, n, 1, P.outputs, cap.z[l - 1], prev);
    }
    // The first layer of the loop is trainable, so Ż is always written before it is read.
    L.jvp(kernels, n, cap.a[l], prev, L.trainable ? v + 8 * L.paramOffset : 0, zdot);
    prev = zdot;
  }
  if (net.firstTrainable > last) kernels.f64().fill(0, out >> 3, (out >> 3) + n * net.outputDim);
}

/**
 * Runs forward and backward for n examples with identity seeds (rows = (example,
 * output) pairs), calls `use`, then frees the temporary buffers.
 */
export function withJacobianCapture<T>(net: Net, X: Float64Array, n: number, use: (cap: Capture, ws: Workspace) => T): T {
  net.checkInput(X, n);
  const cap = new Capture(net), ws = new Workspace(net.kernels);
  try {
    net.forward(cap, X, n, net.outputDim);
    seedIdentity(cap);
    net.backward(cap);
    return use(cap, ws);
  } finally {
    cap.dispose();
    ws.dispose();
  }
}

/**
 * The explicit Jacobian of the outputs with respect to the trainable
 * parameters: (n·k) × numParams row-major, row i·k + j = ∂u_ij/∂θ, columns in
 * the flat parameter order. O(n·k·P) memory: meant for small nets, tests and
 * diagnostics; the optimizers never form it.
 *
 * @param net the network (its current parameters)
 * @param X the n inputs, n × inputDim row-major
 * @param n the number of inputs
 * @example
 * const J = jacobian(net, X, n); // n·k × net.numParams
 */
export function jacobian(net: Net, X: Float64Array, n: number): Float64Array {
  return withJacobianCapture(net, X, n, (cap, ws) => {
    const N = n * net.outputDim, P = net.numParams;
    const dst = ws.get('jacobian', N * P);
    writeJacobian(cap, dst);
    const result = net.kernels.f64().slice(dst >> 3, (dst >> 3) + N * P);
    checkResult('J', result);
    return result;
  });
}

/**
 * The vector–Jacobian product Jᵀv (length numParams) for v of length n·k
 * (ordered like the rows of {@link jacobian}), computed layer by layer with one
 * GEMM each, without forming J.
 *
 * @param net the network (its current parameters)
 * @param X the n inputs, n × inputDim row-major
 * @param n the number of inputs
 * @param v a vector in output space, n × outputDim row-major (one value per output of each example)
 * @example
 * const g = vjp(net, X, n, residual); // = ∇θ ½‖U − Y‖² when residual = U − Y
 */
export function vjp(net: Net, X: Float64Array, n: number, v: Float64Array): Float64Array {
  checkArray('v', v, n * net.outputDim, `n×outputDim = ${n}×${net.outputDim}`);
  checkFinite('v', v);
  return withJacobianCapture(net, X, n, (cap, ws) => {
    const vp = ws.get('vjp.v', v.length), out = ws.get('vjp.out', net.numParams);
    net.kernels.f64().set(v, vp >> 3);
    jtv(cap, ws, vp, 1, out, 0);
    const result = net.kernels.f64().slice(out >> 3, (out >> 3) + net.numParams);
    checkResult('vjp', result);
    return result;
  });
}

/**
 * The Jacobian–vector product J·v (length n·k, ordered like the rows of
 * {@link jacobian}) for a tangent v of the trainable parameters (length numParams,
 * flat parameter order): the change of the outputs to first order when θ moves
 * along v. Forward mode (the R-operator), one or two GEMMs per layer, without
 * forming J.
 *
 * @param net the network (its current parameters)
 * @param X the n inputs, n × inputDim row-major
 * @param n the number of inputs
 * @param v a direction in parameter space, length `net.numParams` (the flat layout of getParams)
 * @example
 * const du = jvp(net, X, n, direction); // ≈ (predict(θ + εv) − predict(θ)) / ε
 */
export function jvp(net: Net, X: Float64Array, n: number, v: Float64Array): Float64Array {
  net.checkInput(X, n);
  checkArray('v', v, net.numParams, `numParams = ${net.numParams}`);
  checkFinite('v', v);
  const cap = new Capture(net), ws = new Workspace(net.kernels);
  try {
    net.forward(cap, X, n, 0);
    const vp = ws.get('jvp.v', net.numParams), out = ws.get('jvp.out', n * net.outputDim);
    net.kernels.f64().set(v, vp >> 3);
    jvpFromCapture(cap, ws, vp, out);
    const result = net.kernels.f64().slice(out >> 3, (out >> 3) + n * net.outputDim);
    checkResult('jvp', result);
    return result;
  } finally {
    cap.dispose();
    ws.dispose();
  }
}
