import type { Kernels, Ptr } from '../types.js';
import { JsHeap, MAX_BYTES } from './heap.js';
import { ArgumentError } from '../../errors.js';
import { gemm } from './gemm.js';
import { syrk, hadamard, mirrorLower } from './gram.js';
import { potrf, trsm, potrs, potri } from './cholesky.js';
import { syev } from './eigh.js';
import { firstDifference, firstNonFinite, sqDistance } from './vector.js';
import { relu, reluMask, reluOuter } from './nn.js';
import { packMask, maskGram, reluPack } from './mask.js';
import { taylorActivation, taylorBackward, rowOuterSum } from './taylor.js';

/**
 * The plain-TypeScript backend: the reference the WASM kernels are tested against,
 * and the fallback where WASM SIMD is missing. Pointers are byte offsets into a
 * JsHeap, converted to element offsets (>> 3) for the reference functions.
 */
export class JsKernels implements Kernels {
  readonly backend = 'js' as const;
  readonly simdBuild = null;
  readonly threads = 1;
  private readonly heap: JsHeap;

  /** maxMemoryBytes: the most bytes the heap may grow to (rounded down to 64 KiB; default and at most 2 GiB). */
  constructor(options: { maxMemoryBytes?: number } = {}) {
    const max = options.maxMemoryBytes;
    if (max !== undefined && (typeof max !== 'number' || !(max >= 65536))) {
      throw new ArgumentError('maxMemoryBytes', `must be a number ≥ 65536, got ${String(max)}`);
    }
    this.heap = new JsHeap(1 << 20, max === undefined ? undefined : Math.min(MAX_BYTES, Math.floor(max / 65536) * 65536));
  }

  get maxMemoryBytes(): number { return this.heap.maxBytes; }

  alloc(count: number): Ptr { return this.heap.alloc(count); }
  free(ptr: Ptr): void { this.heap.free(ptr); }
  f64(): Float64Array { return this.heap.f64(); }
  memoryBytes(): number { return this.heap.bytes; }

  gemm(transA: number, transB: number, m: number, n: number, k: number, alpha: number,
    a: Ptr, lda: number, b: Ptr, ldb: number, beta: number, c: Ptr, ldc: number): void {
    gemm(this.heap.f64(), transA, transB, m, n, k, alpha, a >> 3, lda, b >> 3, ldb, beta, c >> 3, ldc);
  }
  syrk(trans: number, n: number, k: number, alpha: number, a: Ptr, lda: number, beta: number, c: Ptr, ldc: number): void {
    syrk(this.heap.f64(), trans, n, k, alpha, a >> 3, lda, beta, c >> 3, ldc);
  }
  hadamard(len: number, a: Ptr, b: Ptr, out: Ptr): void {
    hadamard(this.heap.f64(), len, a >> 3, b >> 3, out >> 3);
  }
  mirrorLower(n: number, c: Ptr, ldc: number): void {
    mirrorLower(this.heap.f64(), n, c >> 3, ldc);
  }
  potrf(n: number, a: Ptr, lda: number, damping: number, l: Ptr, ldl: number): number {
    return potrf(this.heap.f64(), n, a >> 3, lda, damping, l >> 3, ldl);
  }
  trsm(trans: number, n: number, nrhs: number, l: Ptr, ldl: number, b: Ptr, ldb: number): void {
    trsm(this.heap.f64(), trans, n, nrhs, l >> 3, ldl, b >> 3, ldb);
  }
  potrs(n: number, nrhs: number, l: Ptr, ldl: number, b: Ptr, ldb: number): void {
    potrs(this.heap.f64(), n, nrhs, l >> 3, ldl, b >> 3, ldb);
  }
  potri(n: number, l: Ptr, ldl: number, out: Ptr, ldo: number): void {
    potri(this.heap.f64(), n, l >> 3, ldl, out >> 3, ldo);
  }
  syev(n: number, a: Ptr, lda: number, w: Ptr, v: Ptr, ldv: number): number {
    return syev(this.heap.f64(), n, a >> 3, lda, w >> 3, v >> 3, ldv);
  }
  firstNonFinite(len: number, x: Ptr): number {
    return firstNonFinite(this.heap.f64(), len, x >> 3);
  }
  firstDifference(len: number, a: Ptr, b: Ptr): number {
    return firstDifference(this.heap.f64(), len, a >> 3, b >> 3);
  }
  sqDistance(len: number, a: Ptr, b: Ptr): number {
    return sqDistance(this.heap.f64(), len, a >> 3, b >> 3);
  }
  relu(n: number, m: number, src: Ptr, lds: number, scale: number, dst: Ptr, ldd: number): void {
    relu(this.heap.f64(), n, m, src >> 3, lds, scale, dst >> 3, ldd);
  }
  reluMask(n: number, q: number, m: number, z: Ptr, b: Ptr): void {
    reluMask(this.heap.f64(), n, q, m, z >> 3, b >> 3);
  }
  reluOuter(n: number, q: number, m: number, alpha: number, u: Ptr, w: Ptr, z: Ptr, out: Ptr): void {
    reluOuter(this.heap.f64(), n, q, m, alpha, u >> 3, w >> 3, z >> 3, out >> 3);
  }
  packMask(n: number, m: number, z: Ptr, ldz: number, masks: Ptr): void {
    packMask(this.heap.f64(), this.heap.u32(), n, m, z >> 3, ldz, masks >> 2);
  }
  maskGram(n: number, words: number, masks: Ptr, alpha: number, out: Ptr, ldo: number): void {
    maskGram(this.heap.f64(), this.heap.u32(), n, words, masks >> 2, alpha, out >> 3, ldo);
  }
  maskGramLower(n: number, words: number, masks: Ptr, alpha: number, out: Ptr, ldo: number): void {
    maskGram(this.heap.f64(), this.heap.u32(), n, words, masks >> 2, alpha, out >> 3, ldo, true);
  }
  reluPack(n: number, m: number, src: Ptr, lds: number, scale: number, dst: Ptr, ldd: number, masks: Ptr): void {
    reluPack(this.heap.f64(), this.heap.u32(), n, m, src >> 3, lds, scale, dst >> 3, ldd, masks >> 2);
  }
  taylorActivation(act: number, n: number, g: number, lap: number, m: number, z: Ptr, wts: Ptr, scale: number,
    h: Ptr, ldh: number, deriv: Ptr): void {
    taylorActivation(this.heap.f64(), act, n, g, lap, m, z >> 3, wts >> 3, scale, h >> 3, ldh, deriv >> 3);
  }
  taylorBackward(n: number, g: number, lap: number, m: number, z: Ptr, deriv: Ptr, wts: Ptr, scale: number,
    hb: Ptr, ldhb: number, zb: Ptr): void {
    taylorBackward(this.heap.f64(), n, g, lap, m, z >> 3, deriv >> 3, wts >> 3, scale, hb >> 3, ldhb, zb >> 3);
  }
  rowOuterSum(n: number, S: number, mo: number, k: number, b: Ptr, a: Ptr, out: Ptr, ldo: number): void {
    rowOuterSum(this.heap.f64(), n, S, mo, k, b >> 3, a >> 3, out >> 3, ldo);
  }
}
