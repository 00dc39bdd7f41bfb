// Plain-TypeScript reference for assembly/eigh.ts: same contract, offsets in elements.

/** Symmetric eigendecomposition; see Kernels.syev. Returns 0 on success. */
export function syev(h: Float64Array, n: number, a: number, lda: number, w: number, v: number, ldv: number): number {
  // Placeholder until the tridiagonal QL implementation lands; callers see a failure code.
  return n > 0 ? 1 : 0;
}
