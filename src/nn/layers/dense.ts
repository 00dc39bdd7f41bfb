/**
 * The dense layer: Z = A·W̃ᵀ with A = [s·H | β·1] its input record and W̃ = [W | b] its block
 * (outputs × inA, row-major), so every product is one GEMM and J̃'s row r = (example i, c) is
 * B[r] ⊗ A[i] on the block: the Kronecker structure K-FAC and the Gram's Hadamard form use.
 */
import type { Kernels, Ptr } from '../../kernels/types.js';
import type { Workspace } from '../../backend/matrix.js';
import { activation, type Activation, type ActivationName } from '../activations.js';
import type { DenseSpec, GramBlockContext, Layer, LayerPlace, TaylorHook } from '../layer.js';

/** Rows of the input Gram A·Aᵀ computed at a time: its scratch is TILE × n, not n × n. */
export const TILE = 64;

/**
 * Most values of an input Gram A·Aᵀ kept across calls (n² ≤ 2²², n ≤ 2048: 32 MiB); a larger one is
 * recomputed a tile at a time on every call, as the Gram matrix itself already takes n² values.
 */
export const KEPT_INPUT_GRAM_MAX = 2 ** 22;

/** A dense layer of a {@link Net}: its spec plus where its [W | b] lives. */
export class DenseLayer implements Layer {
  readonly kind = 'dense';
  readonly inputs: number;
  readonly outputs: number;
  readonly bias: boolean;
  readonly activation: ActivationName;
  readonly weightScale: number;
  readonly biasScale: number;
  readonly trainable: boolean;
  /** Columns of the effective input A: inputs + 1 with a bias, else inputs. */
  readonly inA: number;
  readonly act: Activation;
  /** Byte pointer of [W | b] (outputs × inA, row-major) in backend memory. */
  readonly ptr: Ptr;
  /** Element offset of [W | b] in the flat trainable vector; −1 when frozen. */
  readonly paramOffset: number;
  readonly size: number;
  readonly rows: number;
  readonly cols: number;
  readonly readsInputBackward = false;
  readonly kronecker = true;
  /** The derivative-carrying pass: the same GEMMs over n·S channel rows; Jacobian rows by rowOuterSum. */
  readonly taylor: TaylorHook = {
    forward: (k, rows, a, z) => this.forward(k, rows, a, z),
    inputVjp: (k, rows, b, out) => k.gemm(0, 0, rows, this.inA, this.outputs, 1, b, this.outputs, this.ptr, this.inA, 0, out, this.inA),
    jacobianRows: (k, n, S, a, b, dst, ld) => k.rowOuterSum(n, S, this.outputs, this.inA, b, a, dst, ld),
    gradient: (k, rows, a, b, out, beta) => k.gemm(1, 0, this.outputs, this.inA, rows, 1, b, this.outputs, a, this.inA, beta, out, this.inA),
  };

  constructor(spec: DenseSpec, place: LayerPlace) {
    this.inputs = spec.inputs;
    this.outputs = spec.outputs;
    this.bias = spec.bias;
    this.activation = spec.activation;
    this.weightScale = spec.weightScale;
    this.biasScale = spec.biasScale;
    this.trainable = spec.trainable;
    this.inA = spec.inputs + (spec.bias ? 1 : 0);
    this.act = activation(spec.activation);
    this.ptr = place.ptr;
    this.paramOffset = place.paramOffset;
    this.rows = this.outputs;
    this.cols = this.inA;
    this.size = this.outputs * this.inA;
  }

  forward(k: Kernels, n: number, a: Ptr, z: Ptr): void {
    k.gemm(0, 1, n, this.outputs, this.inA, 1, a, this.inA, this.ptr, this.inA, 0, z, this.outputs);
  }

  /** out = s·B·W (the bias column's derivative is not an input's). */
  inputVjp(k: Kernels, n: number, q: number, _a: Ptr, b: Ptr, out: Ptr): void {
    k.gemm(0, 0, n * q, this.inputs, this.outputs, this.weightScale, b, this.outputs, this.ptr, this.inA, 0, out, this.inputs);
  }

  /** One output (the paper's head): the rank-1 product and the ReLU mask in one pass (`reluOuter`). */
  inputVjpRelu(k: Kernels, n: number, q: number, b: Ptr, z: Ptr, out: Ptr): boolean {
    if (this.outputs !== 1) return false;
    k.reluOuter(n, q, this.inputs, this.weightScale, b, this.ptr, z, out);
    return true;
  }

  /** J̃_lᵀv = vec(V_lᵀ A), V_l[i] = Σ_c v[(i,c)]·B[(i,c)]; the gradient (v = 0) is vec(Bᵀ A). */
  paramVjp(k: Kernels, n: number, q: number, a: Ptr, b: Ptr, v: Ptr, alpha: number, out: Ptr, beta: number, scratch: Ptr): void {
    const m = this.outputs, inA = this.inA;
    if (v === 0) {
      k.gemm(1, 0, m, inA, n, alpha, b, m, a, inA, beta, out, inA);
      return;
    }
    const h = k.f64();
    if (q === 1 && inA < m) {
      // Bᵀ·diag(v)·A: scale the narrower factor's rows (here A's) instead of contracting B.
      const S = scratch >> 3, A = a >> 3, c = v >> 3;
      for (let i = 0; i < n; i++) {
        const w = h[c + i], arow = A + i * inA, srow = S + i * inA;
        for (let j = 0; j < inA; j++) h[srow + j] = w * h[arow + j];
      }
      k.gemm(1, 0, m, inA, n, alpha, b, m, scratch, inA, beta, out, inA);
      return;
    }
    const V = scratch >> 3, B = b >> 3, c = v >> 3;
    for (let i = 0; i < n; i++) {
      const vrow = V + i * m;
      for (let j = 0; j < m; j++) h[vrow + j] = 0;
      for (let s = 0; s < q; s++) {
        const w = h[c + i * q + s], brow = B + (i * q + s) * m;
        if (w !== 0) for (let j = 0; j < m; j++) h[vrow + j] += w * h[brow + j];
      }
    }
    k.gemm(1, 0, m, inA, n, alpha, scratch, m, a, inA, beta, out, inA);
  }

  paramVjpScratch(n: number, q: number): number {
    return n * (q === 1 ? Math.min(this.outputs, this.inA) : this.outputs);
  }

  /** Ż = s·Ḣ·Wᵀ + A·Vᵀ (the bias column's tangent is 0: Ḣ skips it). */
  jvp(k: Kernels, n: number, a: Ptr, hdot: Ptr, v: Ptr, out: Ptr): void {
    let beta = 0;
    if (hdot !== 0) {
      k.gemm(0, 1, n, this.outputs, this.inputs, this.weightScale, hdot, this.inputs, this.ptr, this.inA, 0, out, this.outputs);
      beta = 1;
    }
    if (v !== 0) k.gemm(0, 1, n, this.outputs, this.inA, 1, a, this.inA, v, this.inA, beta, out, this.outputs);
    else if (beta === 0) k.f64().fill(0, out >> 3, (out >> 3) + n * this.outputs);
  }

  /** Row r = (i, c): B[r] ⊗ A[i]. */
  jacobianRows(k: Kernels, n: number, q: number, a: Ptr, b: Ptr, dst: Ptr, ld: number): void {
    const h = k.f64(), B = b >> 3, A = a >> 3, D = dst >> 3, inA = this.inA, m = this.outputs;
    for (let r = 0; r < n * q; r++) {
      const arow = A + Math.floor(r / q) * inA, brow = B + r * m;
      for (let o = 0; o < m; o++) {
        const w = h[brow + o], d = D + r * ld + o * inA;
        for (let j = 0; j < inA; j++) h[d + j] = w * h[arow + j];
      }
    }
  }

  /**
   * (A_a·A_bᵀ ⊗ 1_{q×q}) ∘ (B_a·B_bᵀ): the B-Gram by SYRK (one capture) or GEMM into the
   * target, then multiplied entrywise by the input Gram a TILE-row block at a time.
   */
  gramBlock(ctx: GramBlockContext): boolean {
    const { capA, capB, l, ws, target } = ctx;
    const n = capA.n, q = capA.q, N = n * q, same = capA === capB;
    const kernels = capA.net.kernels;
    this.outputGram(ctx, N);
    // Full-batch training builds the Gram on the same inputs every step: the first trainable layer's
    // A·Aᵀ is then the same bits each time, so from the second build on them its lower triangle is
    // kept (in ws) and only multiplied in. A layer above it has an input that moves with θ at every
    // step: nothing to keep there.
    const kept = same && l === capA.net.firstTrainable ? keptInputGram(kernels, ws, l, n, this.inA, capA.a[l], ctx.rebuild === true) : undefined;
    const tile = kept ? kept.ptr : ws.get('gram.tile', Math.min(TILE, n) * n);
    for (let i0 = 0; i0 < n; i0 += TILE) {
      const t = Math.min(TILE, n - i0);
      // With one capture only the lower triangle counts (it is mirrored at the end): the tile's
      // columns stop at its last example.
      const cols = same ? i0 + t : n;
      const rows = kept ? tile + 8 * i0 * n : tile;
      if (!kept?.valid) kernels.gemm(0, 1, t, cols, this.inA, 1, capA.a[l] + 8 * i0 * this.inA, this.inA, capB.a[l], this.inA, 0, rows, n);
      scaleRowsByTile(kernels, n, q, i0, t, cols, rows, target);
    }
    kept?.keep();
    return true;
  }

  /** target (N × N) ← B_a·B_bᵀ: SYRK for one capture, else GEMM. */
  protected outputGram(ctx: GramBlockContext, N: number): void {
    const { capA, capB, l, target } = ctx, kernels = capA.net.kernels, m = this.outputs;
    if (capA === capB) kernels.syrk(0, N, m, 1, capA.b[l], m, 0, target, N);
    else kernels.gemm(0, 1, N, N, m, 1, capA.b[l], m, capB.b[l], m, 0, target, N);
  }

  toJSON(): DenseSpec {
    return {
      inputs: this.inputs, outputs: this.outputs, bias: this.bias, activation: this.activation,
      weightScale: this.weightScale, biasScale: this.biasScale, trainable: this.trainable,
    };
  }
}

/**
 * Rows (i, c) for examples i0 ≤ i < i0 + t of the (n·q)² block at `target` are multiplied
 * entrywise by the expanded input-Gram rows over examples j < cols (the tile holds those columns,
 * leading dimension n): target[(i,c), (j,c′)] *= tile[i − i0, j].
 */
function scaleRowsByTile(kernels: Kernels, n: number, q: number, i0: number, t: number, cols: number, tile: Ptr, target: Ptr): void {
  const N = n * q;
  if (q === 1) {
    // One row per example: t contiguous rows of target, an entrywise product with the tile
    // (one call when the rows are whole, else one per row).
    if (cols === n) kernels.hadamard(t * n, tile, target + 8 * i0 * N, target + 8 * i0 * N);
    else for (let i = 0; i < t; i++) kernels.hadamard(cols, tile + 8 * i * n, target + 8 * (i0 + i) * N, target + 8 * (i0 + i) * N);
    return;
  }
  const h = kernels.f64(), T = tile >> 3, G = target >> 3;
  for (let i = 0; i < t; i++) {
    const trow = T + i * n;
    for (let c = 0; c < q; c++) {
      const grow = G + ((i0 + i) * q + c) * N;
      for (let j = 0; j < cols; j++) {
        const a = h[trow + j], s0 = grow + j * q;
        for (let c2 = 0; c2 < q; c2++) h[s0 + c2] *= a;
      }
    }
  }
}

/** What {@link keptInputGram} knows of the inputs it saw last for a layer index in a workspace. */
interface KeptInputGram {
  n: number;
  inA: number;
  /** The workspace serial of the key's block (the copy of A) when it was written. */
  key: number;
  /** The serial of the Gram's block when the Gram was written for that key; 0 while none is kept. */
  gram: number;
}

const keptGrams = new WeakMap<Workspace, Map<number, KeptInputGram>>();
const keptNames: [gram: string, key: string][] = [];

/**
 * Layer l's input Gram kept in `ws` (lower triangle of n × n, leading dimension n), for the bits of
 * the n × inA input record at `a`, compared with a copy of the record (so any change of the inputs —
 * or of θ below the layer — starts over). The first build on some inputs only copies them (undefined:
 * the caller uses its tiles); the next build on the same bits allocates the block, gets it with `valid`
 * false, writes it and calls `keep()`; later ones get it `valid`. A `rebuild` (a retry's, on the same
 * captures) uses a valid kept Gram but never starts one. So the block is allocated at the start of
 * the second step of full-batch training, never by a retry, and never in mini-batch training unless a
 * batch follows itself; a fresh optimizer's first step allocates no n² block, and a Gram built once
 * (a diagnostic, a Laplace fit) none at all. Undefined as well when n² > {@link KEPT_INPUT_GRAM_MAX}.
 */
function keptInputGram(kernels: Kernels, ws: Workspace, l: number, n: number, inA: number, a: Ptr, rebuild: boolean): { ptr: Ptr; valid: boolean; keep(): void } | undefined {
  if (n * n > KEPT_INPUT_GRAM_MAX) return undefined;
  const [gramName, keyName] = keptNames[l] ??= [`gram.aa.${l}`, `gram.aa.key.${l}`];
  const key = ws.get(keyName, n * inA);
  let layers = keptGrams.get(ws);
  if (!layers) keptGrams.set(ws, layers = new Map());
  const kept = layers.get(l);
  const seen = kept !== undefined && kept.n === n && kept.inA === inA && kept.key === ws.serial(keyName) &&
    kernels.firstDifference(n * inA, a, key) < 0;
  if (seen && kept.gram !== 0 && kept.gram === ws.serial(gramName)) return { ptr: ws.get(gramName, n * n), valid: true, keep: () => undefined };
  if (rebuild) return undefined;
  if (seen) {
    // Forgotten until written: a throw in between leaves no half-made Gram marked valid.
    layers.delete(l);
    const ptr = ws.get(gramName, n * n);
    return { ptr, valid: false, keep: () => layers.set(l, { n, inA, key: ws.serial(keyName), gram: ws.serial(gramName) }) };
  }
  kernels.f64().copyWithin(key >> 3, a >> 3, (a >> 3) + n * inA);
  layers.set(l, { n, inA, key: ws.serial(keyName), gram: 0 });
  return undefined;
}
