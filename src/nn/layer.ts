/**
 * The layer seam: the contract every layer of a `Net` implements, and the registry that
 * turns a spec (from code or a saved file) into a layer. A new kind of layer is one file that
 * implements {@link Layer} and exports a {@link LayerDefinition}, plus one registration
 * ({@link registerLayer}, or a line in nn/layers/index.ts for a built-in kind).
 *
 * ## What a layer is
 * Layer l reads its *input record* A_l (n × inA) and writes its outputs Z_l (n × outputs):
 *   A_l = [s_l·H_{l−1} | β_l·1],   H_{l−1} = φ_{l−1}(Z_{l−1}),   H_{−1} = X,
 * the ones column only when the layer has `bias`; s_l is `weightScale`, β_l `biasScale` (1 and
 * no bias column for a layer that has no use for them). The net fills A_l (it applies the previous
 * layer's activation φ); the layer computes Z_l from A_l and its parameter block θ_l (`size`
 * values at byte pointer `ptr`, at `paramOffset` of the flat vector when `trainable`).
 *
 * The optimizers need the Jacobian J̃ of q stacked output rows per example (q = 1 for a gradient,
 * q = outputs for a Jacobian or a Gauss–Newton factor). Back-propagation hands each layer
 * B_l ((n·q) × outputs): the derivative of each stacked row r = (example i, c) with respect to
 * Z_l. From A_l and B_l a layer gives
 * - {@link Layer.inputVjp}: the rows' derivative with respect to its input H (the net then
 *   multiplies by φ′ of the layer below);
 * - {@link Layer.paramVjp}: J̃_lᵀv, its block of J̃ᵀv (the gradient when v = 1 and q = 1);
 * - {@link Layer.jacobianRows}: its columns of J̃ itself (per-example Jacobian rows);
 * - {@link Layer.jvp}: forward mode, Ż_l from the input's tangent and a tangent of θ_l;
 * - the Gram block J̃_a,l J̃_b,lᵀ: {@link Layer.gramBlock} where the layer has a cheaper
 *   structure, else gram.ts builds it from {@link Layer.jacobianRows} (two of them and a GEMM,
 *   or one and a SYRK): correct for any layer, O((n·q)·size) memory;
 * - K-FAC statistics: a layer with {@link Layer.kronecker} has rows B_l[r] ⊗ A_l[i] (block
 *   outputs × inA), and the K-FAC estimator gives it a Kronecker block fed by (A_l, B_l); any
 *   other layer gets a diagonal Gauss–Newton block built from its Jacobian rows (see
 *   curvature/diagonal.ts).
 *
 * All pointers are byte pointers into the backend's memory; matrices are row-major and dense
 * (leading dimension = columns) unless said otherwise. A layer method allocates nothing.
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import type { Workspace } from '../backend/matrix.js';
import { ArgumentError } from '../errors.js';
import type { Activation, ActivationName } from './activations.js';
import type { AnyLayerSpec } from './spec.js';

export type { AnyLayerSpec, DenseSpec, KindSpec, LayerSpec } from './spec.js';

/** What a layer reads of a capture (nn/capture.ts): one pass's records, outputs and back-propagated rows. */
export interface CaptureView {
  /** The net of the pass. */
  readonly net: NetShape;
  /** Examples. */
  readonly n: number;
  /** Stacked rows per example. */
  readonly q: number;
  /** Per layer: byte pointer of its input record A (n × inA). */
  readonly a: readonly Ptr[];
  /** Per layer: byte pointer of its outputs Z (n × outputs). */
  readonly z: readonly Ptr[];
  /** Per layer: byte pointer of B ((n·q) × outputs); the last layer's holds the loss's seed rows. */
  readonly b: readonly Ptr[];
  /** Per layer: byte pointer of Z's bit-packed ReLU mask written by the forward pass, or 0 (nn/capture.ts). */
  readonly masks?: readonly Ptr[];
  /** Per layer: whether masks[l] is the mask of the Z_l held now. */
  readonly masksValid?: readonly boolean[];
}

/** Everything a Gram block is assembled from; see {@link Layer.gramBlock}. */
export interface GramBlockContext {
  /** The first capture (J̃_a's rows). */
  readonly capA: CaptureView;
  /** The second capture (J̃_b's rows): the same object as capA for the Gram matrix J̃J̃ᵀ itself. */
  readonly capB: CaptureView;
  /** The layer's index. */
  readonly l: number;
  /** Scratch (the block may use named buffers of it). */
  readonly ws: Workspace;
  /** Where the (n·q) × (n·q) block goes. With one capture only its lower triangle need be right. */
  readonly target: Ptr;
  /** Whether the bit-mask Gram may be used where it applies (default true). */
  readonly maskGram: boolean;
  /**
   * True when this is the same captures' block built again (a solver retry after a factorisation
   * overwrote the Gram), not a build on new captures: a layer that keeps state across builds (the dense
   * layer's kept input Gram) must not count it as one. Absent means false.
   */
  readonly rebuild?: boolean;
}

/**
 * One layer of a `Net`: its shape, its input record, its parameter block and the products
 * with its Jacobian that the optimizers use. See the module documentation for the quantities.
 * Implementations are immutable after construction (the net places the block).
 */
export interface Layer {
  /** The registered kind ('dense', or a kind given to {@link registerLayer}). */
  readonly kind: string;
  /** Width of the input H. */
  readonly inputs: number;
  /** Width of the outputs Z. */
  readonly outputs: number;
  /** φ on the outputs (applied by the net when it fills the next layer's input record). */
  readonly activation: ActivationName;
  /** The activation's functions. */
  readonly act: Activation;
  /** Whether the block is part of the flat trainable vector. */
  readonly trainable: boolean;
  /** Whether the input record ends with a constant column β. */
  readonly bias: boolean;
  /** s: the input record holds s·H (a dense layer's weight scale). */
  readonly weightScale: number;
  /** β: the value of the constant column. */
  readonly biasScale: number;
  /** Columns of the input record A: inputs + 1 with a bias column, else inputs. */
  readonly inA: number;
  /** Number of parameters in the block. */
  readonly size: number;
  /** Rows of the block seen as a row-major rows × cols matrix (Net.layout()); rows·cols = size. */
  readonly rows: number;
  /** Columns of that matrix. */
  readonly cols: number;
  /** Byte pointer of the block in backend memory. */
  readonly ptr: Ptr;
  /** Element offset of the block in the flat trainable vector; −1 when frozen. */
  readonly paramOffset: number;
  /**
   * Whether {@link Layer.inputVjp} or {@link Layer.jvp} read the input record A. When false and the layer is
   * frozen, the capture lets A share memory with the layer below's B (a backward pass then
   * overwrites it).
   */
  readonly readsInputBackward: boolean;
  /**
   * Whether the block is outputs × inA and J̃'s row r = (i, c) is B[r] ⊗ A[i] on it (a dense
   * layer): then (A, B) are its K-FAC statistics and the Gram block is (A·Aᵀ ⊗ 1_{q×q}) ∘ (B·Bᵀ).
   */
  readonly kronecker: boolean;

  /** Z (n × outputs) ← the layer applied to the input records A (n × inA). */
  forward(k: Kernels, n: number, a: Ptr, z: Ptr): void;
  /**
   * out ((n·q) × inputs) ← the stacked rows' derivatives with respect to the input H, from their
   * derivatives B ((n·q) × outputs) with respect to Z (before the derivative of φ below).
   */
  inputVjp(k: Kernels, n: number, q: number, a: Ptr, b: Ptr, out: Ptr): void;
  /**
   * Optional fused path: {@link Layer.inputVjp} followed by the derivative of a ReLU below (z its
   * n × inputs pre-activations), in one pass, bit for bit what the two give; returns false, writing
   * nothing, where the layer has no such path (the net then runs the two).
   */
  inputVjpRelu?(k: Kernels, n: number, q: number, b: Ptr, z: Ptr, out: Ptr): boolean;
  /**
   * out (the block's size values) ← alpha·J̃_lᵀv + beta·out, v the n·q row weights at `v`; v = 0
   * means every weight is 1 with q = 1 (the gradient, from B = ∂L/∂Z). `scratch` holds
   * {@link Layer.paramVjpScratch}(n, q) values. out may be the layer's own block (beta = 1: a step).
   */
  paramVjp(k: Kernels, n: number, q: number, a: Ptr, b: Ptr, v: Ptr, alpha: number, out: Ptr, beta: number, scratch: Ptr): void;
  /** Values of scratch {@link Layer.paramVjp} needs for n examples and q rows each (0: none). */
  paramVjpScratch(n: number, q: number): number;
  /**
   * Forward mode: out (n × outputs) ← (∂Z/∂H)·Ḣ + (∂Z/∂θ_l)·v, Ḣ (n × inputs) the tangent of the
   * input at `hdot` (0: none) and v the tangent of the block (size values; 0: none). out overlaps neither.
   */
  jvp(k: Kernels, n: number, a: Ptr, hdot: Ptr, v: Ptr, out: Ptr): void;
  /** Writes the block's columns of J̃: row r at dst + 8·r·ld, `size` values (∂ row r / ∂θ_l). */
  jacobianRows(k: Kernels, n: number, q: number, a: Ptr, b: Ptr, dst: Ptr, ld: number): void;
  /**
   * Optional: the layer's part in the derivative-carrying pass of PDE residuals (see
   * {@link TaylorHook}). A net with a layer without it cannot carry input derivatives: the PDE
   * problems refuse it with an ArgumentError naming the layer.
   */
  readonly taylor?: TaylorHook;
  /**
   * Optional: writes the layer's block J̃_a,l·J̃_b,lᵀ into ctx.target from a structure cheaper than
   * its Jacobian rows. Without it (or when it returns false, writing nothing) gram.ts forms the
   * block from {@link Layer.jacobianRows}.
   */
  gramBlock?(ctx: GramBlockContext): boolean;
  /** The spec that rebuilds this layer (a saved model's `architecture.layers` entry). */
  toJSON(): AnyLayerSpec;
}

/**
 * A layer's part in the derivative-carrying ("forward Laplacian") pass of src/pde/taylor.ts. There
 * each of n points carries S channel rows — its value, the input-gradient components, a weighted
 * Laplacian — stacked as n·S rows of the input record. A layer with this hook is affine in its
 * input record: Z = A·W̃ᵀ on a value row (as {@link Layer.forward}), and the same linear map on a
 * derivative row, whose bias column holds 0; the pass applies the activations' derivatives between
 * layers. Pointers, layouts and "allocates nothing" as for the other layer methods.
 */
export interface TaylorHook {
  /** Z ((n·S) × outputs) ← the layer applied to the channel rows of A ((n·S) × inA). */
  forward(k: Kernels, rows: number, a: Ptr, z: Ptr): void;
  /** out ((n·S) × inA) ← B·∂Z/∂A for the rows' adjoints B ((n·S) × outputs); out's bias column is never read. */
  inputVjp(k: Kernels, rows: number, b: Ptr, out: Ptr): void;
  /**
   * Point i's row of the seeded combination's Jacobian on the block (`size` values at dst + 8·i·ld)
   * ← Σ_s ∂Z[(i,s)]/∂θ_l weighted by B[(i,s)] (a dense layer: Σ_s B[(i,s)] ⊗ A[(i,s)]).
   */
  jacobianRows(k: Kernels, n: number, S: number, a: Ptr, b: Ptr, dst: Ptr, ld: number): void;
  /** out (`size` values) ← the sum of those rows over all points + beta·out (beta 0 or 1). */
  gradient(k: Kernels, rows: number, a: Ptr, b: Ptr, out: Ptr, beta: number): void;
}

/** Where the net puts a layer: its index among the specs (all of them given, for a layer that depends on its neighbours). */
export interface LayerPlace {
  /** Byte pointer of the block. */
  ptr: Ptr;
  /** Element offset in the flat trainable vector, −1 when frozen. */
  paramOffset: number;
  /** The layer's index. */
  index: number;
  /** Every spec of the net, input first. */
  specs: readonly AnyLayerSpec[];
}

/** A kind of layer: how its spec is checked, read from a saved file, and made into a {@link Layer}. */
export interface LayerDefinition {
  /** The kind, as specs and saved files name it. */
  readonly kind: string;
  /**
   * Checks the kind's own fields of `spec` (the shared ones are checked by the net) and returns
   * the block's number of parameters. Throws ArgumentError naming `field`.
   */
  size(spec: AnyLayerSpec, field: string): number;
  /** The layer for a checked spec, its block placed at `place`. */
  create(spec: AnyLayerSpec, place: LayerPlace): Layer;
  /**
   * The kind's own fields of a saved `architecture.layers` entry (untrusted: throw FormatError
   * naming `field`), merged by the caller over the shared ones it has checked.
   */
  fromJSON(json: Record<string, unknown>, field: string): Record<string, unknown>;
}

const registry = new Map<string, LayerDefinition>();

/**
 * Makes a kind of layer available to the Net constructor and to `loadNet`: after it, a spec
 * `{ kind, inputs, outputs, activation, trainable, … }` builds a layer of that kind. Throws
 * ArgumentError when the kind is already registered with another definition.
 *
 * @param definition the kind's definition: its name, block size, constructor and saved-file reader
 * @example
 * registerLayer({ kind: 'scale', size: (spec) => spec.inputs, create: (spec, place) => new ScaleLayer(spec, place), fromJSON: () => ({}) });
 * const net = new Net(kernels(), [dense1, { kind: 'scale', inputs: 8, outputs: 8, activation: 'tanh', trainable: true }, dense2], values);
 */
export function registerLayer(definition: LayerDefinition): void {
  const kind = definition?.kind;
  if (typeof kind !== 'string' || !/^[a-z][a-z0-9-]*$/.test(kind)) throw new ArgumentError('definition.kind', `must be a lower-case name, got ${String(kind)}`);
  for (const method of ['size', 'create', 'fromJSON'] as const) {
    if (typeof definition[method] !== 'function') throw new ArgumentError(`definition.${method}`, `must be a function, got ${typeof definition[method]}`);
  }
  const known = registry.get(kind);
  if (known && known !== definition) throw new ArgumentError('definition.kind', `'${kind}' is already registered`);
  registry.set(kind, definition);
}

/** The definition of `kind`, or undefined. */
export function layerDefinition(kind: string): LayerDefinition | undefined {
  return registry.get(kind);
}

/** The registered kinds. */
export function layerKinds(): string[] {
  return [...registry.keys()];
}

/**
 * What a capture (nn/capture.ts) and the Jacobian products read of the net they serve: its backend,
 * its layers and its sizes. A `Net` is one.
 */
export interface NetShape {
  /** The backend whose memory holds the parameters and activations. */
  readonly kernels: Kernels;
  /** The layers, input first. */
  readonly layers: readonly Layer[];
  /** Number of trainable parameters: the length of the flat vector. */
  readonly numParams: number;
  /** Index of the first trainable layer (layers.length when none is). */
  readonly firstTrainable: number;
  /** Input dimension d. */
  readonly inputDim: number;
  /** Output dimension k. */
  readonly outputDim: number;
}
