// Unmanaged float64 buffers for the TypeScript side. Nothing in this module
// creates managed (GC) objects, so no pinning is ever needed across the boundary.
//
// The memory is imported (env.memory), so the host chooses its maximum. When TLSF
// cannot grow it, it traps (`unreachable`) before changing any of its own state;
// `requested` tells the host how many bytes were being asked for, so it can raise
// a typed out-of-memory error naming them, and the heap stays usable afterwards.

/** Layout version of the exports; the loader checks it equals the TypeScript side's. */
export const ABI_VERSION: i32 = 3;

/** Bytes of the allocation in progress, 0 when none is. */
let requested: usize = 0;

/** Bytes the allocation in progress asked for (non-zero only after an allocation trapped). */
export function pendingAllocation(): usize {
  return requested;
}

/** Clears the record of a trapped allocation (the host calls it after reading it). */
export function clearPendingAllocation(): void {
  requested = 0;
}

/**
 * heap.alloc that leaves `requested` set if it traps. Every allocation in the
 * module goes through here, including the kernels' scratch buffers.
 */
export function allocBytes(bytes: usize): usize {
  requested = bytes;
  const p = heap.alloc(bytes);
  requested = 0;
  return p;
}

/**
 * Allocates `bytes` bytes, 16-byte aligned (TLSF guarantees AL_SIZE = 16),
 * so the block can be read with v128 loads. The contents are not zeroed.
 * May grow memory: the caller must re-make any view over `memory.buffer`.
 */
export function alloc(bytes: usize): usize {
  return allocBytes(bytes);
}

/** Frees a block returned by `alloc`. Freeing 0 is a no-op. */
export function free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}
