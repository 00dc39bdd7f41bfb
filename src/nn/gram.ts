/**
 * The Gram matrix J̃J̃ᵀ of exact NGD, assembled from a {@link Capture} without forming
 * the Jacobian: one function, {@link gramFromCaptures}. (The other products of J̃ are in
 * jacobian.ts.)
 *
 * For stacked output rows r = (example i, row c) — q per example — a dense
 * layer's block of J̃'s row r is B_l[r] ⊗ A_l[i] (see net.ts), so
 *   J̃J̃ᵀ = Σ_l (A_l A_lᵀ ⊗ 1_{q×q}) ∘ (B_l B_lᵀ)     (a SYRK, a GEMM and a Hadamard product per layer).
 * Memory is O((n·q)² + activations); nothing of size (n·q) × P is made.
 *
 * The bit-mask Gram: where a ReLU layer sits under a one-output linear head whose weights all
 * have one magnitude w (the paper's two-layer net with its fixed ±1/√m head) and the loss's
 * factor is the same for every example (squared error), B_l[i, r] = β·s·(±w)·[z_ir ≥ 0], so
 * (B_l B_lᵀ)_ij = (β·s·w)²·popcount(mask_i AND mask_j): counted exactly from bit-packed masks
 * (`packMask`, `maskGram`) instead of an n×n×m float product. Everything else takes the general path.
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import type { Workspace } from '../backend/matrix.js';
import type { Capture } from './capture.js';
import type { NetShape } from './layer.js';

/** Rows of the input Gram A·Aᵀ computed at a time: its scratch is TILE × n, not n × n. */
const TILE = 64;

/** Options of {@link gramFromCaptures}. */
export interface GramOptions {
  /** Assemble B-Grams from bit-packed ReLU masks where that is exact (default true); false forces the float path. */
  maskGram?: boolean;
}

/**
 * Whether the structure of `net` lets the Gram block of layer l (default: the first trainable
 * layer) come from bit-packed masks: a trainable ReLU layer directly under the last layer, which
 * has one output and weights of equal magnitude. (At each step the loss's per-example factor must
 * also be the same for all examples, as squared error's is; gramFromCaptures checks that too.)
 *
 * @param net the network
 * @param l the layer whose Gram block is asked about (default: the first trainable one)
 * @example
 * maskGramApplies(twoLayerReLU({ inputDim: 8, width: 1024 }));           // true: the paper's net
 * maskGramApplies(mlp({ sizes: [8, 64, 64, 1], activation: 'relu' }));   // false: the float path
 */
export function maskGramApplies(net: NetShape, l = net.firstTrainable): boolean {
  return headScale(net, l) !== null;
}

/** s·w of the head above layer l when the structure allows the mask Gram, else null. */
function headScale(net: NetShape, l: number): number | null {
  const layers = net.layers;
  if (l < 0 || l !== layers.length - 2) return null;
  const L = layers[l], head = layers[l + 1];
  if (!L.trainable || L.act.name !== 'relu' || head.outputs !== 1) return null;
  const h = net.kernels.f64(), w0 = head.ptr >> 3;
  const w = Math.abs(h[w0]);
  for (let r = 1; r < head.inputs; r++) if (Math.abs(h[w0 + r]) !== w) return null;
  return w === 0 || !Number.isFinite(w) ? null : head.weightScale * w;
}

/**
 * The constant c with B_l = c·(±1 per column)·mask for this capture, or null: the head's s·w times
 * the loss factor β, which must be one value for every example.
 */
function maskScale(cap: Capture, l: number): number | null {
  const sw = headScale(cap.net, l);
  if (sw === null || cap.q !== 1) return null;
  const h = cap.net.kernels.f64(), b = cap.b[cap.b.length - 1] >> 3;
  const beta = h[b];
  for (let i = 1; i < cap.n; i++) if (h[b + i] !== beta) return null;
  const c = beta * sw;
  return c === 0 || !Number.isFinite(c) ? null : c;
}

/**
 * target (n × n) ← B_l B_lᵀ from layer l's bit-packed ReLU mask, when maskScale allows it;
 * false (nothing written) otherwise.
 */
function maskBlock(cap: Capture, l: number, ws: Workspace, target: Ptr): boolean {
  const c = maskScale(cap, l);
  if (c === null) return false;
  const kernels = cap.net.kernels, n = cap.n, m = cap.net.layers[l].outputs, words = Math.ceil(m / 64);
  const masks = ws.get('gram.mask', n * words);
  kernels.packMask(n, m, cap.z[l], m, masks);
  kernels.maskGram(n, words, masks, c * c, target, n);
  return true;
}

/**
 * out ((n·q) × (n·q)) ← J̃_a J̃_bᵀ over the trainable layers, from two captures of
 * the same network and sizes (pass the same capture twice for the Gram matrix
 * J̃J̃ᵀ: its B-Grams then use SYRK and the result is exactly symmetric).
 *
 * Memory beyond `out`: the first trainable layer's B-Gram is formed in `out`
 * itself and the A-Gram a TILE-row block at a time, so a network with one
 * trainable layer (the paper's) needs only TILE·n scratch; each further
 * trainable layer uses one (n·q)² scratch from `ws`.
 */
export function gramFromCaptures(capA: Capture, capB: Capture, ws: Workspace, out: Ptr, options: GramOptions = {}): void {
  const net = capA.net, kernels = net.kernels;
  const n = capA.n, q = capA.q, N = n * q;
  const same = capA === capB;
  const tile = ws.get('gram.tile', Math.min(TILE, n) * n);
  let first = true;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    const target = first ? out : ws.get('gram.kb', N * N);
    // The B-Gram: exactly from bit-packed masks where that applies, else SYRK (or GEMM for two captures).
    if (!(same && options.maskGram !== false && maskBlock(capA, l, ws, target))) {
      if (same) kernels.syrk(0, N, L.outputs, 1, capA.b[l], L.outputs, 0, target, N);
      else kernels.gemm(0, 1, N, N, L.outputs, 1, capA.b[l], L.outputs, capB.b[l], L.outputs, 0, target, N);
    }
    for (let i0 = 0; i0 < n; i0 += TILE) {
      const t = Math.min(TILE, n - i0);
      // With one capture only the lower triangle counts (it is mirrored at the end): the tile's
      // columns stop at its last example.
      const cols = same ? i0 + t : n;
      kernels.gemm(0, 1, t, cols, L.inA, 1, capA.a[l] + 8 * i0 * L.inA, L.inA, capB.a[l], L.inA, 0, tile, n);
      scaleRowsByTile(kernels, n, q, i0, t, cols, tile, target);
    }
    if (!first) addInto(kernels.f64(), N * N, target >> 3, out >> 3);
    first = false;
  }
  const h = kernels.f64(), G = out >> 3;
  if (first) h.fill(0, G, G + N * N);
  // GEMM need not round A_i·A_j and A_j·A_i alike; mirror so that J̃J̃ᵀ is exactly symmetric.
  else if (same) kernels.mirrorLower(N, out, N);
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

/** h[dst + i] += h[src + i] for i < len (element offsets). */
function addInto(h: Float64Array, len: number, src: number, dst: number): void {
  for (let i = 0; i < len; i++) h[dst + i] += h[src + i];
}
