/**
 * A kind of layer defined only in the tests (the layer seam, src/nn/layer.ts, proven from outside src/):
 * an element-wise scale y = s ⊙ x with trainable s, registered on import. No Kronecker structure, so
 * everything reaches it through its Jacobian rows (test/nn/layer-seam.test.ts, test/laplace/seam.test.ts).
 */
import { kernels } from '../../src/advanced';
import type { Kernels, Ptr } from '../../src/kernels/types';
import { activation } from '../../src/nn/activations';
import { registerLayer, type AnyLayerSpec, type Layer, type LayerDefinition, type LayerPlace } from '../../src/nn/layer';
import { Net } from '../../src/nn/net';
import { randn } from './random';

/** y = s ⊙ x: inputs = outputs = m, block s (m values). */
export class ScaleLayer implements Layer {
  readonly kind = 'scale';
  readonly inputs: number;
  readonly outputs: number;
  readonly activation: AnyLayerSpec['activation'];
  readonly act;
  readonly trainable: boolean;
  readonly bias = false;
  readonly weightScale = 1;
  readonly biasScale = 1;
  readonly inA: number;
  readonly size: number;
  readonly rows = 1;
  readonly cols: number;
  readonly ptr: Ptr;
  readonly paramOffset: number;
  readonly readsInputBackward = false;
  readonly kronecker = false;

  constructor(spec: AnyLayerSpec, place: LayerPlace) {
    this.inputs = this.outputs = this.inA = this.size = this.cols = spec.inputs;
    this.activation = spec.activation;
    this.act = activation(spec.activation);
    this.trainable = spec.trainable;
    this.ptr = place.ptr;
    this.paramOffset = place.paramOffset;
  }

  forward(k: Kernels, n: number, a: Ptr, z: Ptr): void {
    const h = k.f64(), m = this.size, S = this.ptr >> 3, A = a >> 3, Z = z >> 3;
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) h[Z + i * m + j] = h[S + j] * h[A + i * m + j];
  }

  inputVjp(k: Kernels, n: number, q: number, _a: Ptr, b: Ptr, out: Ptr): void {
    const h = k.f64(), m = this.size, S = this.ptr >> 3, B = b >> 3, O = out >> 3;
    for (let r = 0; r < n * q; r++) for (let j = 0; j < m; j++) h[O + r * m + j] = h[S + j] * h[B + r * m + j];
  }

  paramVjp(k: Kernels, n: number, q: number, a: Ptr, b: Ptr, v: Ptr, alpha: number, out: Ptr, beta: number): void {
    const h = k.f64(), m = this.size, A = a >> 3, B = b >> 3, V = v >> 3, O = out >> 3;
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let r = 0; r < n * q; r++) s += (v === 0 ? 1 : h[V + r]) * h[B + r * m + j] * h[A + Math.floor(r / q) * m + j];
      h[O + j] = alpha * s + (beta === 0 ? 0 : beta * h[O + j]);
    }
  }

  paramVjpScratch(): number {
    return 0;
  }

  jvp(k: Kernels, n: number, a: Ptr, hdot: Ptr, v: Ptr, out: Ptr): void {
    const h = k.f64(), m = this.size, S = this.ptr >> 3, A = a >> 3, H = hdot >> 3, V = v >> 3, O = out >> 3;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const x = i * m + j;
        h[O + x] = (hdot === 0 ? 0 : h[S + j] * h[H + x]) + (v === 0 ? 0 : h[V + j] * h[A + x]);
      }
    }
  }

  jacobianRows(k: Kernels, n: number, q: number, a: Ptr, b: Ptr, dst: Ptr, ld: number): void {
    const h = k.f64(), m = this.size, A = a >> 3, B = b >> 3, D = dst >> 3;
    for (let r = 0; r < n * q; r++) for (let j = 0; j < m; j++) h[D + r * ld + j] = h[B + r * m + j] * h[A + Math.floor(r / q) * m + j];
  }

  toJSON(): AnyLayerSpec {
    return { kind: 'scale', inputs: this.inputs, outputs: this.outputs, activation: this.activation, trainable: this.trainable };
  }
}

const scale: LayerDefinition = {
  kind: 'scale',
  size(spec, field) {
    if (spec.inputs !== spec.outputs) throw new Error(`${field}: a scale layer has as many outputs as inputs`);
    return spec.inputs;
  },
  create: (spec, place) => new ScaleLayer(spec, place),
  fromJSON: () => ({}),
};

registerLayer(scale);

/** [d → h (tanh), scale h (tanh), h → k]: the scale layer between two dense ones, its s near 1. */
export function scaleNet(d: number, width: number, k: number, seed: number, trainScale = true): Net {
  const dense = (inputs: number, outputs: number, act: 'tanh' | 'identity') => ({
    inputs, outputs, bias: true, activation: act, weightScale: 1, biasScale: 1, trainable: true,
  });
  const w1 = randn(seed, width * (d + 1)).map((x) => x / Math.sqrt(d));
  const s = randn(seed + 1, width).map((x) => 1 + 0.3 * x);
  const w2 = randn(seed + 2, k * (width + 1)).map((x) => x / Math.sqrt(width));
  return new Net(kernels(), [dense(d, width, 'tanh'), { kind: 'scale', inputs: width, outputs: width, activation: 'tanh', trainable: trainScale }, dense(width, k, 'identity')], [w1, s, w2]);
}
