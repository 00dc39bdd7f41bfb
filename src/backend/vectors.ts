/**
 * Inner products on backend memory for the layers above the kernels (optimizers, curvature):
 * O(len) loops over a view, where a kernel call would cost more than it saves.
 */
import type { Ptr } from '../kernels/types.js';

/** Σ h[a+i]·h[b+i] over `len` values at byte pointers a and b (inner products and squared norms). */
export function dot(h: Float64Array, a: Ptr, b: Ptr, len: number): number {
  let s = 0;
  const x = a >> 3, y = b >> 3;
  for (let i = 0; i < len; i++) s += h[x + i] * h[y + i];
  return s;
}
