/**
 * The per-pass record of a {@link Net}'s activations and back-propagated rows, the capture
 * API the Jacobian products (jacobian.ts, gram.ts) and the optimizers build on.
 */
import type { Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import type { NetShape } from './layer.js';
import { FixedHeadReLULayer } from './layers/relu-fixed-head.js';

/**
 * Per-call storage of one forward/backward pass over n examples with q stacked
 * rows per example (q = 1 for a gradient, q = outputs for a Jacobian or a
 * Gauss–Newton factor): for each layer l the effective input A_l (n × inA),
 * the pre-activations Z_l (n × outputs) and, for the layers a backward pass
 * reaches, B_l ((n·q) × outputs), the derivative of each stacked row with
 * respect to Z_l. All of it lives in a Workspace and is reused while the sizes
 * do not grow. The caller fills B of the last layer before {@link Net.backward}.
 *
 * This is the capture API optimizers build on: A_l and B_l are exactly the
 * K-FAC statistics of layer l (input with bias column, and output gradients).
 * A frozen layer's A shares its buffer with the previous layer's B, so it is
 * overwritten by {@link Net.backward}; trainable layers' A and B stay valid.
 */
export class Capture {
  /** Examples of the last pass. */
  n = 0;
  /** Stacked rows per example of the last pass (0: forward only). */
  q = 0;
  /** Per layer: byte pointer of A_l (n × inA, row-major, ld = inA). */
  readonly a: Ptr[] = [];
  /** Per layer: byte pointer of Z_l (n × outputs). */
  readonly z: Ptr[] = [];
  /** Per layer: byte pointer of B_l ((n·q) × outputs, row i·q + c); 0 below the first trainable layer. */
  readonly b: Ptr[] = [];
  /**
   * Per layer: byte pointer of the bit-packed ReLU mask [Z_l ≥ 0] (n rows of ⌈outputs/64⌉ 64-bit words, as
   * the `packMask` kernel lays them out), which {@link Net.forward} writes in the same pass as the ReLU for
   * the paper's hidden layer under its fixed head (`FixedHeadReLULayer`); 0 for every other layer.
   */
  readonly masks: Ptr[] = [];
  /**
   * Per layer: whether masks[l] is the mask of the Z_l the capture holds now. Set by the forward pass that
   * wrote both; cleared by every forward pass that writes Z_l without it and whenever the buffers may move.
   */
  readonly masksValid: boolean[] = [];
  /**
   * Whether A_l and Z_l hold a forward pass recorded by {@link Net.forwardHeld} (with the
   * parameters and inputs it ran on in `heldTheta`, `heldX`); cleared by any other forward
   * and by backward, which may overwrite an A_l.
   */
  held = false;
  /** Byte pointers of the recorded parameters (numParams) and inputs (n × inputDim), when `held`. */
  heldTheta: Ptr = 0;
  heldX: Ptr = 0;
  private readonly ws: Workspace;
  private readonly names: { a: string; z: string; b: string; m: string }[];

  constructor(readonly net: NetShape) {
    this.ws = new Workspace(net.kernels);
    this.names = net.layers.map((_, l) => ({ a: `a${l}`, z: `z${l}`, b: `b${l}`, m: `m${l}` }));
  }

  /** Sizes the buffers for n examples and q rows per example (q = 0: no backward). */
  ensure(n: number, q: number): void {
    // Other sizes may move the buffers: a held pass is gone.
    if (n !== this.n || q !== this.q) this.held = false;
    const layers = this.net.layers;
    // B is needed from the output down to the first trainable layer (at least the output layer's).
    const lowest = Math.min(this.net.firstTrainable, layers.length - 1);
    for (let l = 0; l < layers.length; l++) {
      const L = layers[l], name = this.names[l];
      const z = this.ws.get(name.z, n * L.outputs);
      const masks = L instanceof FixedHeadReLULayer ? this.ws.get(name.m, n * Math.ceil(L.outputs / 64)) : 0;
      if (z !== this.z[l] || masks !== this.masks[l] || n !== this.n) this.masksValid[l] = false;
      this.z[l] = z;
      this.masks[l] = masks;
      const needsB = q > 0 && l >= lowest;
      if (needsB && l + 1 < layers.length && !layers[l + 1].trainable && !layers[l + 1].readsInputBackward) {
        // A frozen layer's input is read only by the forward pass (unless its backward reads it),
        // which is over when B_l is written: they share one buffer (for the paper's net, one
        // n × width block less).
        const next = layers[l + 1];
        this.b[l] = this.ws.get(this.names[l + 1].a, n * Math.max(next.inA, q * L.outputs));
      } else {
        this.b[l] = needsB ? this.ws.get(name.b, n * q * L.outputs) : 0;
      }
    }
    for (let l = 0; l < layers.length; l++) this.a[l] = this.ws.get(this.names[l].a, n * layers[l].inA);
    this.n = n;
    this.q = q;
  }

  /**
   * Allocates now everything {@link Net.forwardHeld} will need for n examples and q rows per
   * example, so that the pass itself allocates nothing (a caller that moves θ first reserves before).
   */
  reserve(n: number, q: number): void {
    this.ensure(n, q);
    this.heldTheta = this.ws.get('held.theta', this.net.numParams);
    this.heldX = this.ws.get('held.x', n * this.net.inputDim);
  }

  /** Byte pointer of the network output U = Z_last (n × outputs). */
  get output(): Ptr {
    return this.z[this.z.length - 1];
  }

  /** Frees the buffers. */
  dispose(): void {
    this.ws.dispose();
  }
}
