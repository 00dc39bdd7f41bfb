/**
 * Feed-forward networks of layers (dense ones, or any kind registered through the layer seam,
 * layer.ts) whose parameters and activations live in the backend's memory. The factories (`twoLayerReLU`, `mlp` in models.ts) build a
 * {@link Net}; optimizers drive it through {@link Capture} (forward, backward).
 *
 * A dense layer l maps its *effective input* A_l (n × inA) to pre-activations
 *   Z_l = A_l · W̃_lᵀ,   W̃_l = [W_l | b_l]  (outputs × inA, row-major),
 * where A_l = [s_l·H_{l−1} | β_l·1] (the ones column only when the layer has a
 * bias), H_{l−1} = φ_{l−1}(Z_{l−1}) (H_0 = X), s_l the layer's weight scale
 * (1/√fan-in for the NTK parameterisation and the paper's output layer, else 1)
 * and β_l its bias scale. So every layer is one GEMM, its Jacobian row for a
 * stacked output row r of example i is B_l[r] ⊗ A_l[i], with B_l = ∂(row r)/∂Z_l.
 * Another kind of layer reads the same record A_l and brings its own products (layer.ts).
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import { Mat } from '../backend/matrix.js';
import { ArgumentError, ShapeError, StateError } from '../errors.js';
import { checkArray, checkDim, checkFinite, checkResult } from '../validate.js';
import { encodeF64 } from '../encoding/codec.js';
import { checksumOf } from '../encoding/checksum.js';
import type { AnyLayerSpec, ModelColumns, ModelJSON, StandardizerJSON, TablePreprocessingJSON } from './spec.js';
import { activation, applyActivation, scaleByDerivative } from './activations.js';
import { Capture } from './capture.js';
import type { Layer, NetShape } from './layer.js';
import { definitionOf } from './layers/index.js';

export { Capture } from './capture.js';

/** A batch of training data: X is n × inputDim, Y is n × outputDim (or n class indices for cross-entropy). */
export interface Batch {
  /** The n inputs, n × inputDim, row-major. */
  X: Float64Array;
  /** The n targets: n × outputDim row-major, or n class indices (cross-entropy). */
  Y: Float64Array;
  /** The number of examples. */
  n: number;
}

/** One layer's block of the flat parameter vector (see {@link Net.getParams}). */
export interface ParamBlock {
  /** Layer index, 0 = the layer reading the input. */
  layer: number;
  /** First element of the block in the flat vector. */
  offset: number;
  /** outputs: the block is rows × cols, row-major. */
  rows: number;
  /** inputs + 1 when the layer has a bias (its last column), else inputs. */
  cols: number;
  /** Whether the block's last column is the layer's bias. */
  bias: boolean;
}

/**
 * A feed-forward network of layers on one backend: dense ones, or any kind registered with
 * `registerLayer`. Create a dense one with `twoLayerReLU` or `mlp`; free its memory with
 * {@link Net.dispose}.
 *
 * The flat parameter vector ({@link Net.getParams}, {@link Net.numParams})
 * holds the trainable layers only, in layer order; each dense layer contributes its
 * outputs × (inputs + 1) matrix [W | b] row-major, i.e. row o is the weights
 * into unit o followed by its bias (no bias column when the layer has none); a layer of
 * another kind its own block ({@link Layer.size} values). {@link Net.layout} lists the blocks.
 *
 * @example
 * await init();
 * const net = mlp({ sizes: [2, 8, 1], activation: 'tanh', seed: 1 });
 * const U = net.predict(new Float64Array([0, 1, 1, 0]), 2);   // 2 × 1 outputs
 * const theta = net.getParams();                             // a copy: 8·3 + 1·9 = 33 values
 * net.setParams(theta.map((t) => 0.5 * t));
 * net.dispose();
 */
export class Net implements NetShape {
  /** The trainable layers' [W | b] blocks, contiguous: the flat parameter vector. */
  private readonly params: Mat;
  /** The frozen layers' blocks. */
  private readonly frozen: Mat;
  /** Scratch for predict and loss evaluation, separate from any optimizer's capture. */
  private evalCapture: Capture | undefined;
  private isDisposed = false;

  /** The layers, input first. */
  readonly layers: readonly Layer[];
  /** Number of trainable parameters: the length of the flat vector. */
  readonly numParams: number;
  /** Index of the first trainable layer (layers.length when none is). */
  readonly firstTrainable: number;

  /**
   * Preprocessing saved with the model: a `Standardizer.toJSON()` of the inputs, or a
   * `TablePreprocessor.toJSON()` (raw table cells in, class names or target units out). Applied by
   * the CLI, `predictTable` and `evaluateTable` and by callers, not by `predict`.
   */
  preprocessing?: StandardizerJSON | TablePreprocessingJSON;
  /** Class names of a classifier, index c naming output c; saved with the model. */
  labels?: string[];
  /** Column names of the table the model was trained on (inputs in order, targets); saved with the model. */
  columns?: ModelColumns;

  /**
   * Builds a network on `k` from layer specs and initial values: `values[l]` is
   * layer l's outputs × inA matrix [W | b], row-major (another kind's block: its own layout,
   * `size` values). Prefer the factories for dense nets.
   *
   * @param kernels the backend whose memory holds the network
   * @param specs one spec per layer, input first (a dense one, or one of a registered `kind`)
   * @param values layer l's initial block ([W | b], outputs × inA row-major, for a dense layer)
   */
  constructor(
    /** The backend whose memory holds the parameters and activations. */
    readonly kernels: Kernels,
    specs: readonly AnyLayerSpec[],
    values: readonly Float64Array[],
  ) {
    if (specs.length === 0) throw new ArgumentError('layers', 'a network needs at least one layer');
    let trainable = 0, frozen = 0;
    const sizes: number[] = [];
    for (let l = 0; l < specs.length; l++) {
      const s = specs[l];
      checkDim(`layers[${l}].inputs`, s.inputs);
      checkDim(`layers[${l}].outputs`, s.outputs);
      if (s.inputs < 1 || s.outputs < 1) throw new ArgumentError(`layers[${l}]`, 'inputs and outputs must be ≥ 1');
      if (l > 0 && specs[l - 1].outputs !== s.inputs) {
        throw new ArgumentError(`layers[${l}].inputs`, `is ${s.inputs} but layer ${l - 1} has ${specs[l - 1].outputs} outputs`);
      }
      activation(s.activation, `layers[${l}].activation`);
      const size = definitionOf(s, `layers[${l}]`).size(s, `layers[${l}]`);
      sizes.push(size);
      if (values[l]?.length !== size) throw new ArgumentError(`values[${l}]`, `expected ${size} initial values`);
      if (s.trainable) trainable += size; else frozen += size;
    }
    if (specs[specs.length - 1].activation !== 'identity') {
      throw new ArgumentError('activation', 'the last layer must be linear (identity): the loss applies its own link');
    }
    this.params = new Mat(kernels, 1, Math.max(trainable, 1));
    try {
      this.frozen = new Mat(kernels, 1, Math.max(frozen, 1));
    } catch (e) {
      // Out of memory on the second block: free the first, so a failed construction leaves nothing behind.
      this.params.dispose();
      throw e;
    }
    let pOff = 0, fOff = 0;
    const layers: Layer[] = [];
    try {
      for (let l = 0; l < specs.length; l++) {
        const s = specs[l], size = sizes[l];
        const ptr = s.trainable ? this.params.ptr + 8 * pOff : this.frozen.ptr + 8 * fOff;
        const paramOffset = s.trainable ? pOff : -1;
        const L = definitionOf(s, `layers[${l}]`).create(s, { ptr, paramOffset, index: l, specs });
        checkPlaced(L, s, `layers[${l}]`, size, ptr, paramOffset);
        layers.push(L);
        kernels.f64().set(values[l], ptr >> 3);
        if (s.trainable) pOff += size; else fOff += size;
      }
    } catch (e) {
      // A kind's create() refused its spec (or made a layer that does not fit it): free both blocks, leave nothing behind.
      this.params.dispose();
      this.frozen.dispose();
      throw e;
    }
    this.layers = layers;
    this.numParams = trainable;
    const first = layers.findIndex((L) => L.trainable);
    this.firstTrainable = first < 0 ? layers.length : first;
  }

  /** Input dimension d. */
  get inputDim(): number {
    return this.layers[0].inputs;
  }

  /** Output dimension k. */
  get outputDim(): number {
    return this.layers[this.layers.length - 1].outputs;
  }

  /** Byte pointer of the flat trainable parameter vector (numParams values). */
  get paramsPtr(): Ptr {
    this.checkLive();
    return this.params.ptr;
  }

  /**
   * The network's outputs for n inputs: X is n × inputDim row-major, the result
   * n × outputDim row-major (raw outputs; no softmax).
   *
   * @example
   * const net = twoLayerReLU({ inputDim: 2, width: 64, seed: 1 });
   * const u = net.predict(new Float64Array([1, 0, 0, 1]), 2); // 2 × 1
   */
  predict(X: Float64Array, n: number): Float64Array {
    const cap = this.evaluate(X, n);
    const out = new Float64Array(n * this.outputDim);
    out.set(this.kernels.f64().subarray(cap.output >> 3, (cap.output >> 3) + out.length));
    checkResult('output', out);
    return out;
  }

  /**
   * Runs a forward pass on the net's own scratch and returns it (outputs at
   * `.output`); valid until the next predict/evaluate. Validates X.
   * @internal
   */
  evaluate(X: Float64Array, n: number): Capture {
    this.checkInput(X, n);
    this.evalCapture ??= new Capture(this);
    this.forward(this.evalCapture, X, n, 0);
    return this.evalCapture;
  }

  /** A copy of the flat trainable parameter vector (layout: see the class doc). */
  getParams(out: Float64Array = new Float64Array(this.numParams)): Float64Array {
    this.checkLive();
    if (!(out instanceof Float64Array) || out.length !== this.numParams) {
      throw new ShapeError('out', `must be a Float64Array of length numParams = ${this.numParams}`);
    }
    out.set(this.kernels.f64().subarray(this.params.ptr >> 3, (this.params.ptr >> 3) + this.numParams));
    return out;
  }

  /** Overwrites the trainable parameters with `p` (length numParams, finite). */
  setParams(p: Float64Array): void {
    this.checkLive();
    checkArray('p', p, this.numParams, 'numParams');
    checkFinite('p', p);
    this.kernels.f64().set(p, this.params.ptr >> 3);
  }

  /**
   * The model as a plain JSON object: architecture, every layer's [W | b] (frozen ones too) as
   * base64 of little-endian float64 (exact, bit for bit), and the preprocessing, labels and
   * columns when set, and last a `checksum` of all of it. `loadNet(net.toJSON())` predicts identically on either backend;
   * `JSON.stringify(net)` uses it.
   */
  toJSON(): ModelJSON {
    this.checkLive();
    const h = this.kernels.f64();
    const json: ModelJSON = {
      format: 'natgrad-model',
      version: 2,
      architecture: {
        layers: this.layers.map((L) => L.toJSON()),
      },
      params: {
        dtype: 'float64-le-base64',
        layers: this.layers.map((L) => encodeF64(h.subarray(L.ptr >> 3, (L.ptr >> 3) + L.size))),
      },
    };
    if (this.preprocessing) json.preprocessing = JSON.parse(JSON.stringify(this.preprocessing)) as typeof this.preprocessing;
    if (this.labels) json.labels = [...this.labels];
    if (this.columns) json.columns = { inputs: [...this.columns.inputs], targets: [...this.columns.targets] };
    json.checksum = checksumOf(json as unknown as Record<string, unknown>);
    return json;
  }

  /** Where each trainable layer's [W | b] sits in the flat vector. */
  layout(): ParamBlock[] {
    this.checkLive();
    return this.layers.filter((L) => L.trainable).map((L) => ({
      layer: this.layers.indexOf(L), offset: L.paramOffset, rows: L.rows, cols: L.cols, bias: L.bias,
    }));
  }

  /**
   * Forward pass of n examples into `cap` (sized for q stacked rows per example):
   * fills A_l and Z_l of every layer. X must already be validated.
   * @internal
   */
  forward(cap: Capture, X: Float64Array, n: number, q: number): void {
    this.checkLive();
    const kernels = this.kernels;
    cap.held = false;
    cap.ensure(n, q);
    const layers = this.layers;
    writeInput(kernels.f64(), layers[0], X, n, cap.a[0] >> 3);
    for (let l = 0; l < layers.length; l++) {
      const L = layers[l];
      L.forward(kernels, n, cap.a[l], cap.z[l]);
      cap.masksValid[l] = false;
      if (l + 1 < layers.length) {
        const next = layers[l + 1];
        // Where the capture keeps a packed mask of Z_l, the ReLU pass writes it too (the Gram reads it, not Z_l again).
        cap.masksValid[l] = applyActivation(kernels, L.act, n, L.outputs, cap.z[l], L.outputs, next.weightScale, cap.a[l + 1], next.inA, cap.masks[l]);
        if (next.bias) {
          const h = kernels.f64(), a = cap.a[l + 1] >> 3;
          for (let i = 0; i < n; i++) h[a + i * next.inA + next.inputs] = next.biasScale;
        }
      }
    }
  }

  /**
   * Back-propagates the stacked rows B_last ((n·q) × outputs, filled by the
   * caller) down to the first trainable layer, filling B_l of each layer:
   * B_{l−1} = (layer l's input VJP of B_l) ∘ φ′_{l−1}(Z_{l−1}), for a dense layer s_l · B_l · W_l.
   * @internal
   */
  backward(cap: Capture): void {
    const kernels = this.kernels;
    // B_l may share its buffer with a frozen layer's A_{l+1}: the forward pass is no longer whole.
    cap.held = false;
    for (let l = this.layers.length - 1; l > this.firstTrainable; l--) {
      const L = this.layers[l], prev = this.layers[l - 1];
      // Into a ReLU, a layer may fuse its VJP with the mask (one pass over B_{l−1} instead of three).
      if (prev.act.name === 'relu' && L.inputVjpRelu?.(kernels, cap.n, cap.q, cap.b[l], cap.z[l - 1], cap.b[l - 1])) continue;
      L.inputVjp(kernels, cap.n, cap.q, cap.a[l], cap.b[l], cap.b[l - 1]);
      scaleByDerivative(kernels, prev.act, cap.n, cap.q, prev.outputs, cap.z[l - 1], cap.b[l - 1]);
    }
  }

  /**
   * {@link Net.forward}, then records in `cap` the parameters and inputs it ran on, so that
   * {@link Net.forwardUnlessHeld} can skip the same pass later (a step's loss evaluation is
   * the next step's forward pass when the batch and θ do not change).
   * @internal
   */
  forwardHeld(cap: Capture, X: Float64Array, n: number, q: number): void {
    cap.reserve(n, q);
    this.forward(cap, X, n, q);
    const h = this.kernels.f64(), p = this.params.ptr >> 3;
    h.copyWithin(cap.heldTheta >> 3, p, p + this.numParams);
    h.set(X.subarray(0, n * this.inputDim), cap.heldX >> 3);
    cap.held = true;
  }

  /**
   * Leaves `cap` as it is and returns false when it holds, from {@link Net.forwardHeld}, the
   * forward pass of exactly these parameters on exactly these inputs (compared bit for bit,
   * so the skipped pass would have given the same bits); else runs {@link Net.forward} and
   * returns true.
   * @internal
   */
  forwardUnlessHeld(cap: Capture, X: Float64Array, n: number, q: number): boolean {
    this.checkLive();
    if (cap.held && cap.n === n && cap.q === q) {
      const h = this.kernels.f64();
      if (this.kernels.firstDifference(this.numParams, this.params.ptr, cap.heldTheta) < 0 && sameValues(X, 0, h, cap.heldX >> 3, n * this.inputDim)) {
        return false;
      }
    }
    this.forward(cap, X, n, q);
    return true;
  }

  /** Throws ShapeError unless X is n × inputDim and finite. @internal */
  checkInput(X: Float64Array, n: number): void {
    this.checkLive();
    checkDim('n', n);
    checkArray('X', X, n * this.inputDim, `n×inputDim = ${n}×${this.inputDim}`);
    checkFinite('X', X);
  }

  /**
   * Frees the network's memory. Afterwards every method that reads or computes (predict, getParams,
   * setParams, layout, an optimizer step, jacobian, the diagnostics) throws StateError (code 'E_STATE');
   * the shape (inputDim, outputDim, numParams, layers), `disposed` and toString() stay readable.
   * A second dispose() is a no-op.
   */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.evalCapture?.dispose();
    this.params.dispose();
    this.frozen.dispose();
  }

  /** True after {@link Net.dispose}. */
  get disposed(): boolean {
    return this.isDisposed;
  }

  /** A one-line summary, e.g. `Net(16→4096→1, relu, 65536 trainable params, wasm)`. */
  toString(): string {
    const shape = [this.inputDim, ...this.layers.map((L) => L.outputs)].join('→');
    const acts = [...new Set(this.layers.slice(0, -1).map((L) => L.activation))].join('/') || 'linear';
    return `Net(${shape}, ${acts}, ${this.numParams} trainable params, ${this.kernels.backend}${this.isDisposed ? ', disposed' : ''})`;
  }

  private checkLive(): void {
    if (this.isDisposed) throw new StateError(`${this.toString()} used after dispose()`);
  }
}

/**
 * Whether a[ia..ia+len) and b[ib..ib+len) hold the same finite values bit for bit (X is checked
 * finite, so the only bits === cannot tell apart are the signs of zeros: compared by 1/x). θ, which
 * lives in backend memory, is compared by the firstDifference kernel instead.
 */
function sameValues(a: Float64Array, ia: number, b: Float64Array, ib: number, len: number): boolean {
  for (let i = 0; i < len; i++) {
    const x = a[ia + i], y = b[ib + i];
    if (x !== y || (x === 0 && 1 / x !== 1 / y)) return false;
  }
  return true;
}

/** A_0 = [s_0·X | β_0·1] at element offset `a` of h. */
function writeInput(h: Float64Array, L: Layer, X: Float64Array, n: number, a: number): void {
  const d = L.inputs, s = L.weightScale;
  for (let i = 0; i < n; i++) {
    const row = a + i * L.inA;
    for (let j = 0; j < d; j++) h[row + j] = s * X[i * d + j];
    if (L.bias) h[row + d] = L.biasScale;
  }
}

/**
 * The layer a kind's create() made must be the one its spec and place describe: the net sizes the
 * input records (inA), writes the bias column at `inputs` and lays out the flat vector from these
 * fields, so a mismatch would read or write outside the layer's memory. ArgumentError naming `field`.
 */
function checkPlaced(L: Layer, s: AnyLayerSpec, field: string, size: number, ptr: number, paramOffset: number): void {
  const expected: [string, unknown, unknown][] = [
    ['inputs', L.inputs, s.inputs], ['outputs', L.outputs, s.outputs], ['trainable', L.trainable, s.trainable],
    ['size', L.size, size], ['rows·cols', L.rows * L.cols, size], ['inA', L.inA, L.inputs + (L.bias ? 1 : 0)],
    ['ptr', L.ptr, ptr], ['paramOffset', L.paramOffset, paramOffset],
  ];
  for (const [name, got, want] of expected) {
    if (got !== want) throw new ArgumentError(field, `the '${L.kind}' layer that create() made has ${name} ${String(got)}, its spec and place say ${String(want)}`);
  }
}
