// Plain-TypeScript reference for assembly/vector.ts: same contract, offsets in elements.

/** Index of the first NaN or ±Infinity among h[x .. x+len), or -1. */
export function firstNonFinite(h: Float64Array, len: number, x: number): number {
  for (let i = 0; i < len; i++) {
    const v = h[x + i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Index of the first i < len where the bit patterns of h[a + i] and h[b + i] differ, or -1. */
export function firstDifference(h: Float64Array, len: number, a: number, b: number): number {
  let raw: BigInt64Array | undefined;
  for (let i = 0; i < len; i++) {
    const x = h[a + i], y = h[b + i];
    if (x === y && x !== 0) continue;
    // === misses −0 against +0 and calls NaN unequal to itself: read those pairs' bits from memory
    // (not through a float, which may canonicalise a NaN's payload).
    raw ??= new BigInt64Array(h.buffer, h.byteOffset, h.length);
    if (raw[a + i] !== raw[b + i]) return i;
  }
  return -1;
}

/** Σ (h[a + i] − h[b + i])², added in index order (as assembly/vector.ts). */
export function sqDistance(h: Float64Array, len: number, a: number, b: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) {
    const d = h[a + i] - h[b + i];
    s += d * d;
  }
  return s;
}
