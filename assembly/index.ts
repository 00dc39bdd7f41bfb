// The module's exports. Every kernel takes byte pointers into this memory,
// dimensions as i32 and flags as i32 (0/1), and returns nothing or an i32 status,
// so the TypeScript side can call the exports directly without marshalling.
// The TypeScript side binds them from one list (KERNEL_NAMES in src/kernels/types.ts)
// and refuses to load a module that lacks any of them.
export { ABI_VERSION, alloc, free, pendingAllocation, clearPendingAllocation } from "./memory";
export { gemm, gemmPanel } from "./gemm";
export { threadScratchBytes, useThreadScratch } from "./threads";
export { syrk, hadamard, mirrorLower, mirrorLowerRows } from "./gram";
export { potrf, trsm, potrs, potri, solveLeafPanel } from "./cholesky";
export { syev } from "./eigh";
export { firstNonFinite, firstDifference, sqDistance } from "./vector";
export { relu, reluMask, reluOuter } from "./nn";
export { packMask, maskGram, maskGramLower, maskGramRows, reluPack } from "./mask";
export { taylorActivation, taylorBackward, rowOuterSum } from "./taylor";
