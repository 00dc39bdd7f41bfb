/**
 * The Gram matrix J̃J̃ᵀ of exact NGD, assembled from a {@link Capture} without forming
 * the Jacobian: one function, {@link gramFromCaptures}. (The other products of J̃ are in
 * jacobian.ts.)
 *
 * For stacked output rows r = (example i, row c) — q per example — a dense
 * layer's block of J̃'s row r is B_l[r] ⊗ A_l[i] (see net.ts), so
 *   J̃J̃ᵀ = Σ_l (A_l A_lᵀ ⊗ 1_{q×q}) ∘ (B_l B_lᵀ)     (a SYRK, a GEMM and a Hadamard product per layer).
 * Memory is O((n·q)² + activations); nothing of size (n·q) × P is made.
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import type { Workspace } from '../matrix.js';
import type { Capture } from './net.js';

/** Rows of the input Gram A·Aᵀ computed at a time: its scratch is TILE × n, not n × n. */
const TILE = 64;

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
export function gramFromCaptures(capA: Capture, capB: Capture, ws: Workspace, out: Ptr): void {
  const net = capA.net, kernels = net.kernels;
  const n = capA.n, q = capA.q, N = n * q;
  const same = capA === capB;
  const tile = ws.get('gram.tile', Math.min(TILE, n) * n);
  let first = true;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    const target = first ? out : ws.get('gram.kb', N * N);
    if (same) kernels.syrk(0, N, L.outputs, 1, capA.b[l], L.outputs, 0, target, N);
    else kernels.gemm(0, 1, N, N, L.outputs, 1, capA.b[l], L.outputs, capB.b[l], L.outputs, 0, target, N);
    for (let i0 = 0; i0 < n; i0 += TILE) {
      const t = Math.min(TILE, n - i0);
      kernels.gemm(0, 1, t, n, L.inA, 1, capA.a[l] + 8 * i0 * L.inA, L.inA, capB.a[l], L.inA, 0, tile, n);
      scaleRowsByTile(kernels, n, q, i0, t, tile, target);
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
 * Rows (i, c) for examples i0 ≤ i < i0 + t of the (n·q)² block at `target` are
 * multiplied entrywise by the expanded input-Gram rows: target[(i,c), (j,c′)] *= tile[i − i0, j].
 */
function scaleRowsByTile(kernels: Kernels, n: number, q: number, i0: number, t: number, tile: Ptr, target: Ptr): void {
  const N = n * q;
  if (q === 1) {
    // One row per example: t contiguous rows of target, an entrywise product with the tile.
    kernels.hadamard(t * n, tile, target + 8 * i0 * N, target + 8 * i0 * N);
    return;
  }
  const h = kernels.f64(), T = tile >> 3, G = target >> 3;
  for (let i = 0; i < t; i++) {
    const trow = T + i * n;
    for (let c = 0; c < q; c++) {
      const grow = G + ((i0 + i) * q + c) * N;
      for (let j = 0; j < n; j++) {
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
