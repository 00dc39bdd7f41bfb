/**
 * The Gram matrix J̃J̃ᵀ of exact NGD, assembled from a {@link Capture} without forming
 * the Jacobian: one function, {@link gramFromCaptures}. (The other products of J̃ are in
 * jacobian.ts.)
 *
 * For stacked output rows r = (example i, row c) — q per example — the Gram is the sum of the
 * trainable layers' blocks J̃_l J̃_lᵀ. Each layer gives its block (the layer seam, layer.ts): a
 * dense layer's row r is B_l[r] ⊗ A_l[i], so its block is
 *   (A_l A_lᵀ ⊗ 1_{q×q}) ∘ (B_l B_lᵀ)     (a SYRK, a GEMM and a Hadamard product: layers/dense.ts),
 * counted from bit-packed ReLU masks for the paper's layer under its fixed head
 * (layers/relu-fixed-head.ts); a layer without such a structure has its block formed from its
 * per-example Jacobian rows, J̃_l J̃_lᵀ by SYRK (or GEMM for two captures).
 * Memory is O((n·q)² + activations) for dense layers; nothing of size (n·q) × P is made (a layer
 * without a Gram block of its own needs (n·q) × its size).
 */
import type { Ptr } from '../kernels/types.js';
import type { Workspace } from '../backend/matrix.js';
import type { Capture } from './capture.js';
import type { GramBlockContext, Layer } from './layer.js';
import { TILE } from './layers/dense.js';

export { maskGramApplies } from './layers/relu-fixed-head.js';

/** Options of {@link gramFromCaptures}. */
export interface GramOptions {
  /** Assemble B-Grams from bit-packed ReLU masks where that is exact (default true); false forces the float path. */
  maskGram?: boolean;
}

/**
 * out ((n·q) × (n·q)) ← J̃_a J̃_bᵀ over the trainable layers, from two captures of
 * the same network and sizes (pass the same capture twice for the Gram matrix
 * J̃J̃ᵀ: its B-Grams then use SYRK and the result is exactly symmetric).
 *
 * Memory beyond `out`: the first trainable layer's block is formed in `out`
 * itself and a dense layer's A-Gram a TILE-row block at a time, so a network with one
 * trainable dense layer (the paper's) needs only TILE·n scratch; each further
 * trainable layer uses one (n·q)² scratch from `ws`. With one capture and n ≤ 2048, the first
 * trainable layer, when dense, keeps a copy of A in `ws` and, from the second build on the same
 * bits, its whole A-Gram (n²), reused while A stays: every full-batch step after the first.
 * `rebuild`: the same captures' Gram made again (a retry after a factorisation overwrote it), which
 * a layer does not count as a new build on its inputs.
 */
export function gramFromCaptures(capA: Capture, capB: Capture, ws: Workspace, out: Ptr, options: GramOptions = {}, rebuild = false): void {
  const net = capA.net, kernels = net.kernels;
  const n = capA.n, q = capA.q, N = n * q;
  const same = capA === capB;
  ws.get('gram.tile', Math.min(TILE, n) * n);
  let first = true;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    const target = first ? out : ws.get('gram.kb', N * N);
    const ctx: GramBlockContext = { capA, capB, l, ws, target, maskGram: options.maskGram !== false, rebuild };
    if (!L.gramBlock?.(ctx)) gramFromRows(L, ctx);
    if (!first) addInto(kernels.f64(), N * N, target >> 3, out >> 3);
    first = false;
  }
  const h = kernels.f64(), G = out >> 3;
  if (first) h.fill(0, G, G + N * N);
  // GEMM need not round A_i·A_j and A_j·A_i alike; mirror so that J̃J̃ᵀ is exactly symmetric.
  else if (same) kernels.mirrorLower(N, out, N);
}

/** ctx.target ← J̃_a,l·J̃_b,lᵀ from the layer's per-example Jacobian rows (the seam's general path). */
function gramFromRows(L: Layer, ctx: GramBlockContext): void {
  const { capA, capB, l, ws, target } = ctx, kernels = capA.net.kernels;
  const n = capA.n, q = capA.q, N = n * q, P = L.size;
  const ja = ws.get('gram.rows.a', N * P);
  L.jacobianRows(kernels, n, q, capA.a[l], capA.b[l], ja, P);
  if (capA === capB) {
    kernels.syrk(0, N, P, 1, ja, P, 0, target, N);
    return;
  }
  const jb = ws.get('gram.rows.b', N * P);
  L.jacobianRows(kernels, n, q, capB.a[l], capB.b[l], jb, P);
  kernels.gemm(0, 1, N, N, P, 1, ja, P, jb, P, 0, target, N);
}

/** h[dst + i] += h[src + i] for i < len (element offsets). */
function addInto(h: Float64Array, len: number, src: number, dst: number): void {
  for (let i = 0; i < len; i++) h[dst + i] += h[src + i];
}
