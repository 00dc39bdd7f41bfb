// Plain-TypeScript reference for assembly/nn.ts: same contract, offsets in elements,
// the same arithmetic in the same order (so both backends give the same bits).

/**
 * h[dst + i·ldd + j] = (scale·z)·[z > 0], z = h[src + i·lds + j], for an n×m block.
 * z ≤ 0 gives ±0; NaN or −∞ give NaN. dst may be exactly src (ldd = lds), no other overlap.
 */
export function relu(h: Float64Array, n: number, m: number, src: number, lds: number, scale: number, dst: number, ldd: number): void {
  for (let i = 0; i < n; i++) {
    const s = src + i * lds, d = dst + i * ldd;
    // Branch-free: the signs of pre-activations are too random for the branch predictor.
    for (let j = 0; j < m; j++) { const z = h[s + j]; h[d + j] = (scale * z) * +(z > 0); }
  }
}

/**
 * Row r of the (n·q)×m block at b is multiplied entrywise by [z ≥ 0] of row ⌊r/q⌋ of
 * the n×m block at z (both contiguous); NaN in z masks like a negative value. No overlap.
 */
export function reluMask(h: Float64Array, n: number, q: number, m: number, z: number, b: number): void {
  for (let i = 0; i < n; i++) {
    const zi = z + i * m;
    for (let c = 0; c < q; c++) {
      const br = b + (i * q + c) * m;
      for (let j = 0; j < m; j++) h[br + j] *= +(h[zi + j] >= 0);
    }
  }
}

/**
 * The back-propagation of a one-output dense layer into the ReLU below it, in one pass: for the (n·q)
 * stacked rows r = i·q + c, h[out + r·m + j] = (0 + (alpha·h[u + r])·h[w + j])·[h[z + i·m + j] ≥ 0], the
 * reference gemm's rank-1 arithmetic then reluMask's, so the bits equal those two calls. No overlap of out
 * with u, w or z.
 */
export function reluOuter(h: Float64Array, n: number, q: number, m: number, alpha: number, u: number, w: number, z: number, out: number): void {
  for (let i = 0; i < n; i++) {
    const zi = z + i * m;
    for (let c = 0; c < q; c++) {
      const r = i * q + c, ar = alpha * h[u + r], or = out + r * m;
      for (let j = 0; j < m; j++) h[or + j] = (0 + ar * h[w + j]) * +(h[zi + j] >= 0);
    }
  }
}
