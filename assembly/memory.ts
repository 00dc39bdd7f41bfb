// Unmanaged float64 buffers for the TypeScript side. Nothing in this module
// creates managed (GC) objects, so no pinning is ever needed across the boundary.

/** Layout version of the exports; the loader checks it equals the TypeScript side's. */
export const ABI_VERSION: i32 = 1;

/**
 * Allocates `bytes` bytes, 16-byte aligned (TLSF guarantees AL_SIZE = 16),
 * so the block can be read with v128 loads. The contents are not zeroed.
 * May grow memory: the caller must re-make any view over `memory.buffer`.
 */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

/** Frees a block returned by `alloc`. Freeing 0 is a no-op. */
export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}
