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
