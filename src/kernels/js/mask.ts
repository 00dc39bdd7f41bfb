// Plain-TypeScript reference for assembly/mask.ts. A packed row is `words` 64-bit
// little-endian words, i.e. 2·words 32-bit words with the low half first, so both
// backends read and write the same bytes. Offsets: z in float64 elements, masks and
// rows in 32-bit words.

/** Packs [z ≥ 0] of the n×m block at z (leading dimension ldz) into bits at the 32-bit offset masks. */
export function packMask(h: Float64Array, u: Uint32Array, n: number, m: number, z: number, ldz: number, masks: number): void {
  const halves = 2 * ((m + 63) >> 6);
  for (let i = 0; i < n; i++) {
    const zr = z + i * ldz, mr = masks + i * halves;
    for (let w = 0; w < halves; w++) {
      const j0 = w * 32, end = Math.min(32, m - j0);
      let bits = 0;
      for (let b = 0; b < end; b++) if (h[zr + j0 + b] >= 0) bits |= 1 << b;
      u[mr + w] = bits >>> 0;
    }
  }
}

/**
 * relu and packMask of the same n×m block in one pass: h[dst + i·ldd + j] = (scale·z)·[z > 0] and bit j
 * of row i at the 32-bit offset masks = [z ≥ 0], z = h[src + i·lds + j]; the arithmetic of relu (nn.ts)
 * and the bits of packMask. dst may be exactly src (ldd = lds); masks overlaps neither.
 */
export function reluPack(h: Float64Array, u: Uint32Array, n: number, m: number, src: number, lds: number, scale: number,
  dst: number, ldd: number, masks: number): void {
  const halves = 2 * ((m + 63) >> 6);
  for (let i = 0; i < n; i++) {
    const zr = src + i * lds, dr = dst + i * ldd, mr = masks + i * halves;
    for (let w = 0; w < halves; w++) {
      const j0 = w * 32, end = Math.min(32, m - j0);
      let bits = 0;
      for (let b = 0; b < end; b++) {
        const z = h[zr + j0 + b];
        bits |= +(z >= 0) << b;
        h[dr + j0 + b] = (scale * z) * +(z > 0);
      }
      u[mr + w] = bits >>> 0;
    }
  }
}

/** Set bits of a 32-bit word (SWAR count). */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * h[out + i·ldo + j] = alpha·popcount(mask_i AND mask_j), rows of `words` 64-bit words: the full symmetric
 * n×n block, or (lower = true) only its entries j ≤ i.
 */
export function maskGram(h: Float64Array, u: Uint32Array, n: number, words: number, masks: number, alpha: number, out: number, ldo: number,
  lower = false): void {
  const halves = 2 * words;
  for (let i = 0; i < n; i++) {
    const ri = masks + i * halves;
    for (let j = 0; j <= i; j++) {
      const rj = masks + j * halves;
      let s = 0;
      for (let w = 0; w < halves; w++) s += popcount32(u[ri + w] & u[rj + w]);
      const v = alpha * s;
      h[out + i * ldo + j] = v;
      if (!lower) h[out + j * ldo + i] = v;
    }
  }
}
