// Plain-TypeScript reference for assembly/vector.ts: same contract, offsets in elements.

/** Index of the first NaN or ±Infinity among h[x .. x+len), or -1. */
export function firstNonFinite(h: Float64Array, len: number, x: number): number {
  for (let i = 0; i < len; i++) {
    const v = h[x + i];
    if (v - v !== 0) return i;
  }
  return -1;
}
