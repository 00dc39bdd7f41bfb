/**
 * The numeric core's contract. Two first-class implementations exist, WASM SIMD
 * (`src/kernels/wasm`) and plain TypeScript over Float64Array (`src/kernels/js`);
 * `init()` picks one and everything above calls it through this interface only.
 *
 * Conventions shared by every kernel:
 * - Matrices are float64, row-major, addressed by a byte pointer (`Ptr`) into the
 *   backend's memory plus a leading dimension `ld` (elements between rows, ≥ cols).
 * - Kernels write into caller-owned outputs and allocate nothing the caller sees.
 *   Aliasing rules are stated per kernel; when not stated, outputs must not overlap inputs.
 * - Flags are 0/1 numbers (so the WASM exports are called directly).
 * - Dimensions are validated by the layers above; kernels trust them.
 */

/** Byte offset into the backend's memory; 16-byte aligned when returned by `alloc`. */
export type Ptr = number;

export type BackendName = 'wasm' | 'js';

/**
 * Which WASM build runs: 'baseline' is SIMD128 (separate multiply and add), 'relaxed' uses
 * `f64x2.relaxed_madd`/`nmadd` (fused multiply-add on x86-64 with FMA and on ARM64) in the GEMM,
 * SYRK, Cholesky and triangular-solve micro-kernels. Fusing changes rounding, so the two builds
 * agree to a few ulps per dot product, not bit for bit.
 */
export type SimdBuild = 'baseline' | 'relaxed';

export interface Kernels {
  /** Which implementation this is. */
  readonly backend: BackendName;
  /** The WASM build in use; null for the plain-TypeScript backend. */
  readonly simdBuild: SimdBuild | null;
  /** The most bytes this backend's memory may grow to. */
  readonly maxMemoryBytes: number;
  /** Threads GEMM and SYRK run on now, the calling thread included (1 without worker threads). */
  readonly threads: number;

  /**
   * Allocates room for `count` float64 values (16-byte aligned, contents undefined). May grow memory.
   * Throws OutOfMemoryError (code 'OUT_OF_MEMORY', naming the bytes) when the memory cannot be had, and
   * ArgumentError when count is not a non-negative integer; nothing is allocated then.
   */
  alloc(count: number): Ptr;
  /** Frees a block from `alloc`; freeing 0 is a no-op. */
  free(ptr: Ptr): void;
  /** A Float64Array over the whole memory, re-made if memory has grown since the last call; element i is at byte 8·i. */
  f64(): Float64Array;
  /** Current size of the backend's memory in bytes (grows, never shrinks). */
  memoryBytes(): number;

  /** C ← alpha·op(A)·op(B) + beta·C; op(A) m×k, op(B) k×n, C m×n. beta = 0 ignores C's contents. */
  gemm(transA: number, transB: number, m: number, n: number, k: number, alpha: number,
    a: Ptr, lda: number, b: Ptr, ldb: number, beta: number, c: Ptr, ldc: number): void;
  /**
   * C ← alpha·A·Aᵀ + beta·C (trans 0, A n×k) or alpha·Aᵀ·A + beta·C (trans 1, A k×n); the lower triangle is
   * computed and mirrored, so all of C is written and exactly symmetric. C's strict upper triangle is never read:
   * with beta ≠ 0 the old lower triangle stands for the whole of C.
   */
  syrk(trans: number, n: number, k: number, alpha: number, a: Ptr, lda: number, beta: number, c: Ptr, ldc: number): void;
  /** out[i] = a[i]·b[i] over `len` contiguous elements; out may be exactly a or b, but must not partly overlap them. */
  hadamard(len: number, a: Ptr, b: Ptr, out: Ptr): void;
  /** Copies the strict lower triangle of the n×n matrix at c onto its upper triangle (makes it exactly symmetric). */
  mirrorLower(n: number, c: Ptr, ldc: number): void;

  /** Lower factor of A + damping·I into l (may alias a); 0 on success, else 1 + failing pivot index. */
  potrf(n: number, a: Ptr, lda: number, damping: number, l: Ptr, ldl: number): number;
  /** In place on B (n×nrhs): solves L·X = B (trans 0) or Lᵀ·X = B (trans 1). */
  trsm(trans: number, n: number, nrhs: number, l: Ptr, ldl: number, b: Ptr, ldb: number): void;
  /** In place on B (n×nrhs): solves L·Lᵀ·X = B with L from potrf. */
  potrs(n: number, nrhs: number, l: Ptr, ldl: number, b: Ptr, ldb: number): void;
  /** out ← (L·Lᵀ)⁻¹, full symmetric n×n; out must not overlap L. */
  potri(n: number, l: Ptr, ldl: number, out: Ptr, ldo: number): void;

  /**
   * Symmetric eigendecomposition of A (lower triangle read, A untouched): w ascending, V's column j the j-th
   * eigenvector, orthonormal. Returns 0 on success, l + 1 when the QL iteration ran out of budget at eigenvalue l,
   * n + 1 when A's lower triangle holds a non-finite entry.
   */
  syev(n: number, a: Ptr, lda: number, w: Ptr, v: Ptr, ldv: number): number;

  /** Index of the first NaN or ±Infinity among the `len` contiguous values at x, or -1 when all are finite. */
  firstNonFinite(len: number, x: Ptr): number;
  /**
   * Index of the first i < len where the 64-bit patterns of the contiguous values a[i] and b[i] differ (so −0 and
   * +0 differ, and two NaNs with one payload are equal), or -1 when the ranges hold the same bits. a and b may overlap.
   */
  firstDifference(len: number, a: Ptr, b: Ptr): number;
  /**
   * Σ (a[i] − b[i])² over the `len` contiguous values at a and b, added in index order (so both backends return
   * the same bits). a and b may overlap.
   */
  sqDistance(len: number, a: Ptr, b: Ptr): number;

  /**
   * dst[i, j] ← (scale·z)·[z > 0] with z = src[i, j], for an n×m block (leading dimensions lds, ldd): the ReLU of
   * pre-activations times the next layer's weight scale. The mask is 1 or +0, so NaN and −∞ give NaN. dst may be
   * exactly src (with ldd = lds) but must not otherwise overlap it.
   */
  relu(n: number, m: number, src: Ptr, lds: number, scale: number, dst: Ptr, ldd: number): void;
  /**
   * Back-propagation through the ReLU for q stacked rows per example: row r of the (n·q)×m block b is multiplied
   * entrywise by [z ≥ 0] of row ⌊r/q⌋ of the n×m block z (both contiguous, leading dimension m). The mask is 1 or
   * +0; NaN in z masks like a negative value. b must not overlap z.
   */
  reluMask(n: number, q: number, m: number, z: Ptr, b: Ptr): void;
  /**
   * The back-propagation of a one-output dense layer into the ReLU below it in one pass (the rank-1 GEMM and
   * {@link Kernels.reluMask} fused): out[r, j] ← alpha·u[r]·w[j]·[z[⌊r/q⌋, j] ≥ 0] for the (n·q) stacked rows r and
   * 0 ≤ j < m, u the (n·q) values at the layer's output, w its m weights, z the n×m pre-activations (out and z
   * contiguous, leading dimension m). Bit for bit what `gemm(0, 0, n·q, m, 1, alpha, u, 1, w, m, 0, out, m)` then
   * `reluMask(n, q, m, z, out)` give on the same backend; NaN in z masks like a negative value. out must not overlap
   * u, w or z.
   */
  reluOuter(n: number, q: number, m: number, alpha: number, u: Ptr, w: Ptr, z: Ptr, out: Ptr): void;

  /**
   * Packs the ReLU back-propagation mask [z ≥ 0] of the n×m block at z (leading dimension ldz) into bits:
   * row i is ⌈m/64⌉ 64-bit little-endian words at masks + 8·⌈m/64⌉·i, bit b of word w standing for column
   * 64·w + b (bits past m are 0; NaN packs as 0, as reluMask masks it). Allocate ⌈m/64⌉·n values for masks;
   * it must not overlap z.
   */
  packMask(n: number, m: number, z: Ptr, ldz: number, masks: Ptr): void;
  /**
   * out[i, j] ← alpha·popcount(mask_i AND mask_j) for the n packed rows at masks (`words` 64-bit words
   * each, as packMask writes them): the full symmetric n×n block, leading dimension ldo. The counts are exact
   * integers, so each entry is one rounding of alpha·count. out must not overlap masks.
   */
  maskGram(n: number, words: number, masks: Ptr, alpha: number, out: Ptr, ldo: number): void;

  /**
   * The lower triangle of {@link Kernels.maskGram}: out[i, j] ← alpha·popcount(mask_i AND mask_j) for j ≤ i only;
   * the strict upper triangle of out is not written. For a caller that mirrors once after summing blocks (the
   * Gram matrix of one capture), where maskGram's own mirror would be wasted. out must not overlap masks.
   */
  maskGramLower(n: number, words: number, masks: Ptr, alpha: number, out: Ptr, ldo: number): void;
  /**
   * {@link Kernels.relu} and {@link Kernels.packMask} of the same n×m block in one pass over it: with z =
   * src[i, j] (leading dimension lds), dst[i, j] ← (scale·z)·[z > 0] (leading dimension ldd) and bit j of packed
   * row i at masks ← [z ≥ 0] (⌈m/64⌉ 64-bit words per row, contiguous, as packMask lays them out; NaN packs as 0).
   * Bit for bit what `relu(n, m, src, lds, scale, dst, ldd)` and `packMask(n, m, src, lds, masks)` give. dst may
   * be exactly src (with ldd = lds) but must not otherwise overlap it; masks must overlap neither.
   */
  reluPack(n: number, m: number, src: Ptr, lds: number, scale: number, dst: Ptr, ldd: number, masks: Ptr): void;

  /**
   * Input derivatives through an activation, for a *channel block*: n examples of S = 1 + g + lap
   * contiguous rows each — the value (row i·S), g input-gradient components (rows i·S + 1 … i·S + g)
   * and, when lap = 1, the weighted Laplacian Σ_c w_c ∂²/∂x_c² (row i·S + g + 1). From the
   * pre-activation channels z ((n·S) × m, contiguous) it writes into h ((n·S) × m at leading dimension
   * ldh ≥ m; columns m … ldh − 1 untouched), with v, ∂_c, L the value, gradient and Laplacian rows of z:
   *   h_v = scale·σ(v),  h_c = scale·σ′(v)·∂_c,  h_L = scale·(σ′(v)·L + σ″(v)·Σ_c w_c ∂_c²),
   * and σ′, σ″, σ‴ at v into deriv ((3n) × m: rows 3i, 3i + 1, 3i + 2). `act` is a code of
   * TAYLOR_ACTIVATIONS (0 identity, 1 tanh, 2 sigmoid, 3 softplus); wts holds the g weights w_c (g = 0 reads none). Outputs must not overlap inputs.
   */
  taylorActivation(act: number, n: number, g: number, lap: number, m: number, z: Ptr, wts: Ptr, scale: number,
    h: Ptr, ldh: number, deriv: Ptr): void;
  /**
   * The adjoint of {@link Kernels.taylorActivation}: from hb, the adjoint of the h channels ((n·S) × ldhb,
   * columns 0 … m − 1 read), z and deriv as that call left them, it writes zb ((n·S) × m, contiguous), the
   * adjoint of the z channels; with a = scale·hb:
   *   zb_v = σ′·a_v + σ″·Σ_c ∂_c·a_c + (σ″·L + σ‴·Σ_c w_c ∂_c²)·a_L,  zb_c = σ′·a_c + 2w_c·σ″·∂_c·a_L,  zb_L = σ′·a_L.
   * zb must not overlap the inputs.
   */
  taylorBackward(n: number, g: number, lap: number, m: number, z: Ptr, deriv: Ptr, wts: Ptr, scale: number,
    hb: Ptr, ldhb: number, zb: Ptr): void;
  /**
   * Per-example sums of outer products: out[i, r·k + c] = Σ_{s<S} b[i·S + s, r]·a[i·S + s, c] for
   * b (n·S) × mo and a (n·S) × k (both contiguous), out n rows at leading dimension ldo. With b a channel
   * block's output adjoints and a its effective inputs, row i is example i's Jacobian row for a layer's
   * mo × k weight block (row-major). out must not overlap a or b.
   */
  rowOuterSum(n: number, S: number, mo: number, k: number, b: Ptr, a: Ptr, out: Ptr, ldo: number): void;
}

/**
 * The activation codes of {@link Kernels.taylorActivation}: the smooth activations whose σ′, σ″ and σ‴
 * the kernels know.
 */
export const TAYLOR_ACTIVATIONS = { identity: 0, tanh: 1, sigmoid: 2, softplus: 3 } as const;

/**
 * The compute kernels, by name: the WASM binding binds exactly these exports and refuses a module that
 * lacks one. Adding a kernel to `Kernels` without listing it here is a type error (see below).
 */
export const KERNEL_NAMES = [
  'gemm', 'syrk', 'hadamard', 'mirrorLower', 'potrf', 'trsm', 'potrs', 'potri', 'syev',
  'firstNonFinite', 'firstDifference', 'sqDistance', 'relu', 'reluMask', 'reluOuter', 'packMask', 'maskGram', 'maskGramLower', 'reluPack',
  'taylorActivation', 'taylorBackward', 'rowOuterSum',
] as const;

export type KernelName = typeof KERNEL_NAMES[number];

/** The members of Kernels that are not compute kernels (memory and identity). */
type MemoryMember = 'backend' | 'simdBuild' | 'maxMemoryBytes' | 'threads' | 'alloc' | 'free' | 'f64' | 'memoryBytes';
// Compile-time check that KERNEL_NAMES lists every compute kernel of the interface.
type Unlisted = Exclude<keyof Kernels, KernelName | MemoryMember>;
const everyKernelListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyKernelListed;
