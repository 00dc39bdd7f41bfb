/**
 * TF.js interop, the `natgrad/tfjs` entry point (the core never imports it, and it
 * imports nothing of TF.js: the caller passes the TF.js objects in, so TF.js stays an
 * optional peer dependency).
 *
 * - {@link fromTfjs}: a `tf.Sequential` of Dense layers → a natgrad {@link Net} with the
 *   same weights (float32 values widened to float64 exactly);
 * - {@link toTfjs}: a Net → the equivalent `tf.Sequential` (float64 rounded to float32).
 *
 * Layer mapping: natgrad's dense layer computes Z = s·H·Wᵀ + β·b; TF.js's Dense computes
 * H·K + c, so K = (s·W)ᵀ (inputs × units) and c = β·b. Activations: relu, tanh, sigmoid,
 * softplus, linear ↔ identity, gelu (natgrad's tanh approximation) ↔ 'gelu_new', and
 * leaky-relu ↔ a linear Dense followed by a `LeakyReLU` layer with alpha 0.01. A final
 * 'softmax' activation is read as identity: the net then outputs logits, and
 * `predictProba` gives what the TF.js model outputs.
 */
import { kernels as activeKernels } from './backend/init.js';
import { ArgumentError } from './errors.js';
import type { Kernels } from './kernels/types.js';
import { LEAKY_SLOPE, type ActivationName } from './nn/activations.js';
import { Net } from './nn/net.js';
import type { DenseSpec } from './nn/spec.js';

/** The parts of a TF.js tensor natgrad reads. */
export interface TfTensorLike {
  /** The tensor's dimensions, e.g. [inputs, units] of a Dense kernel. */
  readonly shape: number[];
  /** The values, row-major. */
  dataSync(): ArrayLike<number>;
}

/** The parts of a TF.js layer natgrad reads. */
export interface TfLayerLike {
  /** 'Dense', 'InputLayer', 'LeakyReLU', … */
  getClassName(): string;
  /** The layer's configuration (activation, useBias, trainable, alpha). */
  getConfig(): Record<string, unknown>;
  /** A Dense layer's [kernel, bias]. */
  getWeights(): TfTensorLike[];
  /** Sets the layer's weights (TF.js tensors). */
  setWeights(weights: unknown[]): void;
  /** The layer's name, used in error messages. */
  readonly name: string;
}

/** The parts of a `tf.Sequential` (or functional chain of layers) natgrad reads. */
export interface TfModelLike {
  /** The layers, input to output. */
  readonly layers: TfLayerLike[];
}

/**
 * The TF.js functions {@link toTfjs} calls: the `@tensorflow/tfjs` namespace has them, or
 * combine the packages, `{ ...tfLayers, tensor: tfCore.tensor }`.
 */
export interface TfLike {
  /** `tf.sequential`: an empty model. */
  sequential(config?: object): TfModelLike & {
    /** Appends a layer. */
    add(layer: unknown): void;
  };
  /** `tf.layers`. */
  layers: {
    /** `tf.layers.dense`. */
    dense(args: object): unknown;
    /** `tf.layers.leakyReLU`. */
    leakyReLU(args: object): unknown;
  };
  /** `tf.tensor`. */
  tensor(values: Float32Array, shape: number[], dtype?: 'float32'): unknown;
}

const TO_TF: Record<Exclude<ActivationName, 'leaky-relu'>, string> = {
  relu: 'relu', tanh: 'tanh', sigmoid: 'sigmoid', softplus: 'softplus', gelu: 'gelu_new', identity: 'linear',
};
const FROM_TF: Record<string, ActivationName> = {
  relu: 'relu', tanh: 'tanh', sigmoid: 'sigmoid', softplus: 'softplus', gelu_new: 'gelu', linear: 'identity',
};

/**
 * A natgrad Net with the weights of a TF.js Sequential model of Dense layers (with optional
 * InputLayer and LeakyReLU(alpha 0.01) layers), on the active backend (or `options.kernels`).
 * Unsupported layers or activations raise ArgumentError naming the layer.
 *
 * @param model a TF.js Sequential model (or anything with its `layers`) whose last Dense layer is linear or softmax
 * @param options the backend to build the net on
 * @returns a new Net with the model's weights, widened to float64
 * @example
 * import * as tf from '@tensorflow/tfjs';
 * import { fromTfjs } from 'natgrad/tfjs';
 * const net = fromTfjs(await tf.loadLayersModel('file://model/model.json'));
 */
export function fromTfjs(model: TfModelLike, options: { kernels?: Kernels } = {}): Net {
  if (!model || !Array.isArray(model.layers)) throw new ArgumentError('model', 'must be a TF.js Sequential model (with .layers)');
  const specs: DenseSpec[] = [];
  const values: Float64Array[] = [];
  model.layers.forEach((layer, i) => {
    const kind = layer.getClassName();
    const where = `model.layers[${i}] (${layer.name})`;
    if (kind === 'InputLayer') return;
    if (kind === 'LeakyReLU') {
      const alpha = Number(layer.getConfig().alpha);
      const last = specs[specs.length - 1];
      if (!last || last.activation !== 'identity' || Math.abs(alpha - LEAKY_SLOPE) > 1e-7) {
        throw new ArgumentError(where, `a LeakyReLU is supported only right after a linear Dense, with alpha ${LEAKY_SLOPE}`);
      }
      last.activation = 'leaky-relu';
      return;
    }
    if (kind !== 'Dense') throw new ArgumentError(where, `is a ${kind}; only Dense (and InputLayer, LeakyReLU) layers are supported`);
    const config = layer.getConfig();
    const name = String(config.activation ?? 'linear');
    const act = FROM_TF[name] ?? (name === 'softmax' && i === model.layers.length - 1 ? 'identity' : undefined);
    if (!act) throw new ArgumentError(`${where}.activation`, `'${name}' has no natgrad counterpart (${Object.keys(FROM_TF).join(', ')})`);
    const [kernel, bias] = layer.getWeights();
    const [inputs, outputs] = kernel.shape;
    const useBias = config.useBias !== false && bias !== undefined;
    const inA = inputs + (useBias ? 1 : 0);
    const K = kernel.dataSync(), b = useBias ? bias.dataSync() : undefined;
    const v = new Float64Array(outputs * inA);
    for (let o = 0; o < outputs; o++) {
      for (let j = 0; j < inputs; j++) v[o * inA + j] = K[j * outputs + o];
      if (b) v[o * inA + inputs] = b[o];
    }
    specs.push({ inputs, outputs, bias: useBias, activation: act, weightScale: 1, biasScale: 1, trainable: layer.getConfig().trainable !== false });
    values.push(v);
  });
  if (specs.length === 0) throw new ArgumentError('model', 'has no Dense layer');
  if (specs[specs.length - 1].activation !== 'identity') {
    throw new ArgumentError('model', "the last Dense layer must be linear (or softmax): natgrad's losses apply their own link");
  }
  return new Net(options.kernels ?? activeKernels(), specs, values);
}

/**
 * The TF.js Sequential model equivalent to `net` (weights rounded to float32), built with the
 * `tf` you pass (see {@link TfLike}). Its predictions agree with `net.predict` to float32 precision.
 *
 * @typeParam M the model type your `tf` returns, e.g. `tf.Sequential`
 * @param net the network to convert (not modified)
 * @param tf the TF.js functions to build with: the `@tensorflow/tfjs` namespace, or `{ ...tfLayers, tensor: tfCore.tensor }`
 * @returns a new TF.js Sequential model with the net's weights, rounded to float32
 * @example
 * import * as tf from '@tensorflow/tfjs';
 * const model = toTfjs(net, tf);
 * await model.save('downloads://my-model');
 */
export function toTfjs<M extends TfModelLike>(net: Net, tf: TfLike): M {
  if (!tf || typeof tf.sequential !== 'function' || typeof tf.layers?.dense !== 'function' || typeof tf.tensor !== 'function') {
    throw new ArgumentError('tf', 'must provide sequential, layers.dense and tensor (the @tensorflow/tfjs namespace does)');
  }
  const other = net.layers.find((L) => L.kind !== 'dense');
  if (other) throw new ArgumentError('net', `has a '${other.kind}' layer (layer ${net.layers.indexOf(other)}); only dense layers export to TF.js`);
  const model = tf.sequential();
  const h = net.kernels.f64();
  const weights: [number, Float32Array, Float32Array | undefined, number, number][] = [];
  net.layers.forEach((L, l) => {
    const leaky = L.activation === 'leaky-relu';
    const activation = leaky ? 'linear' : TO_TF[L.activation as Exclude<ActivationName, 'leaky-relu'>];
    const args: Record<string, unknown> = { units: L.outputs, activation, useBias: L.bias, trainable: L.trainable, name: `dense_${l}` };
    if (l === 0) args.inputShape = [L.inputs];
    model.add(tf.layers.dense(args));
    const W = h.subarray(L.ptr >> 3, (L.ptr >> 3) + L.outputs * L.inA);
    const K = new Float32Array(L.inputs * L.outputs);
    for (let o = 0; o < L.outputs; o++) for (let j = 0; j < L.inputs; j++) K[j * L.outputs + o] = L.weightScale * W[o * L.inA + j];
    let b: Float32Array | undefined;
    if (L.bias) {
      b = new Float32Array(L.outputs);
      for (let o = 0; o < L.outputs; o++) b[o] = L.biasScale * W[o * L.inA + L.inputs];
    }
    weights.push([model.layers.length - 1, K, b, L.inputs, L.outputs]);
    if (leaky) model.add(tf.layers.leakyReLU({ alpha: LEAKY_SLOPE, name: `leaky_relu_${l}` }));
  });
  for (const [index, K, b, inputs, units] of weights) {
    const tensors = [tf.tensor(K, [inputs, units], 'float32')];
    if (b) tensors.push(tf.tensor(b, [units], 'float32'));
    model.layers[index].setWeights(tensors);
    // setWeights copies the values into the layer's variables.
    for (const t of tensors) (t as { dispose?(): void }).dispose?.();
  }
  return model as unknown as M;
}
