/**
 * Forward-mode products with the network Jacobian (the R-operator of Pearlmutter 1994):
 * J·v for a parameter tangent v, from the activations a forward pass left in a
 * {@link Capture}, one or two GEMMs per layer and no Jacobian.
 *
 * For layer l with effective input A_l = [s_l·φ(Z_{l−1}) | β_l·1] and
 * Z_l = A_l·W̃_lᵀ, a tangent V_l of W̃_l (zero for a frozen layer) moves
 *   Ż_l = Ȧ_l·W̃_lᵀ + A_l·V_lᵀ,   Ȧ_l = [s_l·φ′(Z_{l−1}) ∘ Ż_{l−1} | 0],
 * starting from Ȧ = 0 below the first trainable layer; J·v is Ż of the last layer.
 */
import type { Ptr } from '../kernels/types.js';
import type { Workspace } from '../matrix.js';
import { scaleByDerivative } from './activations.js';
import type { Capture } from './net.js';

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
  const net = cap.net, k = net.kernels, n = cap.n, layers = net.layers;
  const last = layers.length - 1;
  let width = 0;
  for (const L of layers) width = Math.max(width, L.outputs);
  const bufs = [ws.get('jvp.t0', n * width), ws.get('jvp.t1', n * width)];
  let prev = 0; // byte pointer of Ż_{l−1} (0: Ȧ_l = 0)
  for (let l = net.firstTrainable; l <= last; l++) {
    const L = layers[l];
    const zdot = l === last ? out : bufs[(l - net.firstTrainable) & 1];
    let beta = 0;
    if (prev !== 0) {
      // Ȧ_l = s_l·φ′(Z_{l−1}) ∘ Ż_{l−1} in place (the bias column's tangent is 0: skip it in the GEMM).
      const P = layers[l - 1];
      scaleByDerivative(k, P.act, n, 1, P.outputs, cap.z[l - 1], prev);
      k.gemm(0, 1, n, L.outputs, L.inputs, L.weightScale, prev, L.inputs, L.ptr, L.inA, 0, zdot, L.outputs);
      beta = 1;
    }
    // The first layer of the loop is trainable, so Ż is always written before it is read.
    if (L.trainable) k.gemm(0, 1, n, L.outputs, L.inA, 1, cap.a[l], L.inA, v + 8 * L.paramOffset, L.inA, beta, zdot, L.outputs);
    prev = zdot;
  }
  if (net.firstTrainable > last) k.f64().fill(0, out >> 3, (out >> 3) + n * net.outputDim);
}
