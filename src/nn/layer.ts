/**
 * The layers of a {@link Net}: what the net, its {@link Capture} and the products with its
 * Jacobian (gram.ts, jacobian.ts) read of each layer, and the shape of the net a capture
 * serves (without the Net class itself, so that capture.ts and net.ts do not import each other).
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import type { Activation } from './activations.js';
import type { DenseSpec } from './spec.js';

/** A dense layer of a {@link Net}: its spec plus where its [W | b] lives. */
export interface Dense extends Readonly<DenseSpec> {
  /** Columns of the effective input A: inputs + 1 with a bias, else inputs. */
  readonly inA: number;
  readonly act: Activation;
  /** Byte pointer of [W | b] (outputs × inA, row-major) in backend memory. */
  readonly ptr: Ptr;
  /** Element offset of [W | b] in the flat trainable vector; −1 when frozen. */
  readonly paramOffset: number;
}

/**
 * What a {@link Capture} and the Jacobian products read of the net they serve: its backend,
 * its layers and its sizes. A {@link Net} is one.
 */
export interface NetShape {
  /** The backend whose memory holds the parameters and activations. */
  readonly kernels: Kernels;
  /** The layers, input first. */
  readonly layers: readonly Dense[];
  /** Number of trainable parameters: the length of the flat vector. */
  readonly numParams: number;
  /** Index of the first trainable layer (layers.length when none is). */
  readonly firstTrainable: number;
  /** Input dimension d. */
  readonly inputDim: number;
  /** Output dimension k. */
  readonly outputDim: number;
}
