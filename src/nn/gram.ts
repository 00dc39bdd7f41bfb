/**
 * Jacobian products from a {@link Capture}, without forming the Jacobian.
 *
 * For stacked output rows r = (example i, row c) — q per example — a dense
 * layer's block of J̃'s row r is B_l[r] ⊗ A_l[i] (see net.ts), so
 *   J̃J̃ᵀ = Σ_l (A_l A_lᵀ ⊗ 1_{q×q}) ∘ (B_l B_lᵀ)     (a SYRK, a GEMM and a Hadamard product per layer),
 *   J̃ᵀv  = per layer vec(V_lᵀ A_l),  V_l[i] = Σ_c v[(i,c)]·B_l[(i,c)]   (one GEMM per layer).
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
  const net = capA.net, k = net.kernels;
  const n = capA.n, q = capA.q, N = n * q;
  const same = capA === capB;
  const tile = ws.get('gram.tile', Math.min(TILE, n) * n);
  let first = true;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    const target = first ? out : ws.get('gram.kb', N * N);
    if (same) k.syrk(0, N, L.outputs, 1, capA.b[l], L.outputs, 0, target, N);
    else k.gemm(0, 1, N, N, L.outputs, 1, capA.b[l], L.outputs, capB.b[l], L.outputs, 0, target, N);
    for (let i0 = 0; i0 < n; i0 += TILE) {
      const t = Math.min(TILE, n - i0);
      k.gemm(0, 1, t, n, L.inA, 1, capA.a[l] + 8 * i0 * L.inA, L.inA, capB.a[l], L.inA, 0, tile, n);
      scaleRowsByTile(k, n, q, i0, t, tile, target);
    }
    if (!first) addInto(k.f64(), N * N, target >> 3, out >> 3);
    first = false;
  }
  const h = k.f64(), G = out >> 3;
  if (first) h.fill(0, G, G + N * N);
  // GEMM need not round A_i·A_j and A_j·A_i alike; mirror so that J̃J̃ᵀ is exactly symmetric.
  else if (same) k.mirrorLower(N, out, N);
}

/**
 * Rows (i, c) for examples i0 ≤ i < i0 + t of the (n·q)² block at `target` are
 * multiplied entrywise by the expanded input-Gram rows: target[(i,c), (j,c′)] *= tile[i − i0, j].
 */
function scaleRowsByTile(k: Kernels, n: number, q: number, i0: number, t: number, tile: Ptr, target: Ptr): void {
  const N = n * q;
  if (q === 1) {
    // One row per example: t contiguous rows of target, an entrywise product with the tile.
    k.hadamard(t * n, tile, target + 8 * i0 * N, target + 8 * i0 * N);
    return;
  }
  const h = k.f64(), T = tile >> 3, G = target >> 3;
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

/**
 * out (numParams) ← alpha·J̃ᵀv + beta·out, with v the n·q vector at `v`
 * (out may hold the parameters themselves: beta = 1 applies a step in place).
 */
export function jtv(cap: Capture, ws: Workspace, v: Ptr, alpha: number, out: Ptr, beta: number): void {
  const net = cap.net, k = net.kernels;
  const n = cap.n, q = cap.q;
  let width = 0;
  for (const L of net.layers) if (L.trainable) width = Math.max(width, q === 1 ? Math.min(L.outputs, L.inA) : L.outputs);
  const vp = ws.get('jtv.v', n * width);
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    const m = L.outputs;
    const h = k.f64();
    if (q === 1 && L.inA < m) {
      // Bᵀ·diag(v)·A: scale the narrower factor's rows (here A's) instead of contracting B.
      const S = vp >> 3, A = cap.a[l] >> 3, c = v >> 3;
      for (let i = 0; i < n; i++) {
        const w = h[c + i], arow = A + i * L.inA, srow = S + i * L.inA;
        for (let j = 0; j < L.inA; j++) h[srow + j] = w * h[arow + j];
      }
      k.gemm(1, 0, m, L.inA, n, alpha, cap.b[l], m, vp, L.inA, beta, out + 8 * L.paramOffset, L.inA);
      continue;
    }
    const V = vp >> 3, B = cap.b[l] >> 3, c = v >> 3;
    for (let i = 0; i < n; i++) {
      const vrow = V + i * m;
      for (let j = 0; j < m; j++) h[vrow + j] = 0;
      for (let s = 0; s < q; s++) {
        const w = h[c + i * q + s], brow = B + (i * q + s) * m;
        if (w !== 0) for (let j = 0; j < m; j++) h[vrow + j] += w * h[brow + j];
      }
    }
    k.gemm(1, 0, m, L.inA, n, alpha, vp, m, cap.a[l], L.inA, beta, out + 8 * L.paramOffset, L.inA);
  }
}

/**
 * out (numParams) ← Σ_l vec(B_lᵀ A_l): the gradient when the capture was
 * back-propagated from ∂L/∂U with q = 1.
 */
export function gradientFromCapture(cap: Capture, out: Ptr): void {
  const net = cap.net, k = net.kernels;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    k.gemm(1, 0, L.outputs, L.inA, cap.n, 1, cap.b[l], L.outputs, cap.a[l], L.inA, 0, out + 8 * L.paramOffset, L.inA);
  }
}

/** Writes the explicit J̃ ((n·q) × numParams, row-major) at `dst`: for tests, diagnostics and the parameter form. */
export function writeJacobian(cap: Capture, dst: Ptr): void {
  const net = cap.net, h = net.kernels.f64();
  const n = cap.n, q = cap.q, P = net.numParams, D = dst >> 3;
  for (let l = 0; l < net.layers.length; l++) {
    const L = net.layers[l];
    if (!L.trainable) continue;
    const B = cap.b[l] >> 3, A = cap.a[l] >> 3;
    for (let r = 0; r < n * q; r++) {
      const arow = A + Math.floor(r / q) * L.inA, brow = B + r * L.outputs;
      for (let o = 0; o < L.outputs; o++) {
        const w = h[brow + o], d = D + r * P + L.paramOffset + o * L.inA;
        for (let j = 0; j < L.inA; j++) h[d + j] = w * h[arow + j];
      }
    }
  }
}

/** Seeds the output layer's B with identity rows (q = outputs): row (i, c) = e_c, so J̃ = J = ∂U/∂θ. */
export function seedIdentity(cap: Capture): void {
  const k = cap.net.outputDim, h = cap.net.kernels.f64(), b = cap.b[cap.b.length - 1] >> 3;
  h.fill(0, b, b + cap.n * k * k);
  for (let r = 0; r < cap.n * k; r++) h[b + r * k + (r % k)] = 1;
}

/** h[dst + i] += h[src + i] for i < len (element offsets). */
function addInto(h: Float64Array, len: number, src: number, dst: number): void {
  for (let i = 0; i < len; i++) h[dst + i] += h[src + i];
}
