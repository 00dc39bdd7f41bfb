// The scratch a worker thread's instance of the module uses instead of the allocator (whose
// state would be its own, not the heap's) and instead of static blocks (which sit at the same
// address of the shared memory in every instance): the GEMM pack buffers and the Cholesky
// leaf's transposed rows. The main instance allocates the block and hands it over.
import { gemmScratchBytes, useGemmScratch } from "./gemm";
import { LEAF_SCRATCH_BYTES, useLeafScratch } from "./cholesky";

/** Bytes of scratch one worker thread needs (a multiple of 16). */
export function threadScratchBytes(): usize {
  return ((gemmScratchBytes() + 15) & ~15) + LEAF_SCRATCH_BYTES;
}

/** Makes this instance use the threadScratchBytes() block at ptr (16-byte aligned) for all its scratch. */
export function useThreadScratch(ptr: usize): void {
  useGemmScratch(ptr);
  useLeafScratch(ptr + ((gemmScratchBytes() + 15) & ~15));
}
