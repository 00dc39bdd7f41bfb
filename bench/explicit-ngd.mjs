// The naive baseline of the ngd suite: exact NGD that forms the Jacobian J
// explicitly, then G = J·Jᵀ, a Cholesky solve and the step Jᵀx. It shares with
// natgrad's ngd() everything but the algorithm: the same network code for the
// forward and backward passes (Capture, Net.forward/backward), the same Jacobian
// writer that the public jacobian() uses, and the same WASM kernels (syrk, potrf,
// potrs, gemm). So a comparison with ngd() measures what forming J costs, not
// kernel quality.
import { Workspace } from '../dist/esm/advanced.js';
import { Capture } from '../dist/esm/nn/net.js';
import { seedIdentity, writeJacobian } from '../dist/esm/nn/jacobian.js';

/**
 * Exact NGD through the explicit Jacobian, for one-output nets and the squared error
 * L = ½ Σ (u − y)² (reduction 'sum', natgrad's default):
 *   r = u − y,  J = ∂u/∂θ (n × P),  (J·Jᵀ + λI) x = r,  θ ← θ − η·Jᵀx.
 * Memory: J (n·P values) and G (n²) in the net's backend memory, plus the capture
 * of one forward/backward pass (the same as ngd()'s). Nothing of that size is made
 * on the JS side: the step allocates no typed arrays. Buffers are kept across steps
 * in a Workspace, as ngd() keeps its own, so a steady-state step allocates nothing.
 */
export class ExplicitNgd {
  constructor({ lr = 1, damping = 1e-3 } = {}) {
    this.lr = lr;
    this.damping = damping;
    this.net = null;
  }

  /** One step on the batch { X, Y, n }; returns { loss } (the loss before the step). */
  step(net, { X, Y, n }) {
    if (net.outputDim !== 1) throw new Error('ExplicitNgd: one-output nets only');
    net.checkInput(X, n);
    if (this.net !== net) this.bind(net);
    const k = net.kernels, P = net.numParams, cap = this.cap, ws = this.ws;
    net.forward(cap, X, n, 1);
    const r = ws.get('r', n);
    let h = k.f64();
    let loss = 0;
    for (let i = 0, u = cap.output >> 3, ri = r >> 3; i < n; i++) {
      const e = h[u + i] - Y[i];
      h[ri + i] = e;
      loss += 0.5 * e * e;
    }
    seedIdentity(cap);
    net.backward(cap);
    const J = ws.get('J', n * P), G = ws.get('G', n * n), x = ws.get('x', n);
    writeJacobian(cap, J);
    k.syrk(0, n, P, 1, J, P, 0, G, n);
    const info = k.potrf(n, G, n, this.damping, G, n);
    if (info !== 0) throw new Error(`ExplicitNgd: J·Jᵀ + λI is not positive definite (pivot ${info - 1})`);
    h = k.f64();
    h.copyWithin(x >> 3, r >> 3, (r >> 3) + n);
    k.potrs(n, 1, G, n, x, 1);
    k.gemm(1, 0, P, 1, n, -this.lr, J, P, x, 1, 1, net.paramsPtr, 1);
    return { loss };
  }

  bind(net) {
    this.dispose();
    this.net = net;
    this.ws = new Workspace(net.kernels);
    this.cap = new Capture(net);
  }

  dispose() {
    this.cap?.dispose();
    this.ws?.dispose();
    this.net = this.cap = this.ws = null;
  }
}
