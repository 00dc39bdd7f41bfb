/**
 * The network Jacobian J = ∂U/∂θ explicitly (for tests and diagnostics), and
 * the products with it that never form it.
 */
import { Workspace } from '../matrix.js';
import { checkArray, checkFinite } from '../validate.js';
import { Capture, type Net } from './net.js';
import { jtv, seedIdentity, writeJacobian } from './gram.js';
import { jvpFromCapture } from './jvp.js';

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
 * @example
 * const J = jacobian(net, X, n); // n·k × net.numParams
 */
export function jacobian(net: Net, X: Float64Array, n: number): Float64Array {
  return withJacobianCapture(net, X, n, (cap, ws) => {
    const N = n * net.outputDim, P = net.numParams;
    const dst = ws.get('jacobian', N * P);
    writeJacobian(cap, dst);
    return net.kernels.f64().slice(dst >> 3, (dst >> 3) + N * P);
  });
}

/**
 * The vector–Jacobian product Jᵀv (length numParams) for v of length n·k
 * (ordered like the rows of {@link jacobian}), computed layer by layer with one
 * GEMM each, without forming J.
 *
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
    return net.kernels.f64().slice(out >> 3, (out >> 3) + net.numParams);
  });
}

/**
 * The Jacobian–vector product J·v (length n·k, ordered like the rows of
 * {@link jacobian}) for a tangent v of the trainable parameters (length numParams,
 * flat parameter order): the change of the outputs to first order when θ moves
 * along v. Forward mode (the R-operator), one or two GEMMs per layer, without
 * forming J.
 *
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
    return net.kernels.f64().slice(out >> 3, (out >> 3) + n * net.outputDim);
  } finally {
    cap.dispose();
    ws.dispose();
  }
}
