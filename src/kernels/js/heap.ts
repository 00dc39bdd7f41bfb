import { ArgumentError, OutOfMemoryError } from '../../errors.js';

/**
 * The plain-TypeScript backend's memory: one growable ArrayBuffer with a first-fit
 * allocator, so the JS backend hands out the same kind of `Ptr` (byte offsets) as
 * the WASM one and every layer above runs unchanged on either.
 *
 * Blocks are multiples of 16 bytes and 16-byte aligned; byte 0..15 is never handed
 * out, so 0 can mean "no block". Free blocks are kept sorted by address and merged
 * with their neighbours on free, so dispose-then-allocate reuses the same space.
 */
/** Growth granularity, as WebAssembly pages (keeps Float64Array and Uint32Array views whole). */
const PAGE = 65536;
/** Ceiling: 2 GiB, as the WASM backend (pointers stay non-negative int32s, so `ptr >> 3` is exact). */
export const MAX_BYTES = 2 ** 31;

export class JsHeap {
  /** The most bytes the buffer may grow to. */
  readonly maxBytes: number;
  private buffer: ArrayBuffer;
  private view: Float64Array;
  private u32view: Uint32Array;
  /** Free blocks as parallel arrays of [start, size] in bytes, sorted by start. */
  private freeStart: number[] = [];
  private freeSize: number[] = [];
  private readonly sizes = new Map<number, number>();

  constructor(initialBytes = 1 << 20, maxBytes = MAX_BYTES) {
    this.maxBytes = maxBytes;
    initialBytes = Math.min(initialBytes, maxBytes);
    this.buffer = new ArrayBuffer(initialBytes);
    this.view = new Float64Array(this.buffer);
    this.u32view = new Uint32Array(this.buffer);
    this.freeStart.push(16);
    this.freeSize.push(initialBytes - 16);
  }

  get bytes(): number {
    return this.buffer.byteLength;
  }

  f64(): Float64Array {
    return this.view;
  }

  /** A Uint32Array over the same bytes (for the bit-packed masks), re-made after growth. */
  u32(): Uint32Array {
    if (this.u32view.buffer !== this.buffer) this.u32view = new Uint32Array(this.buffer);
    return this.u32view;
  }

  /** Throws OutOfMemoryError when the heap cannot grow to fit (nothing is allocated then). */
  alloc(count: number): number {
    if (!Number.isInteger(count) || count < 0) {
      throw new ArgumentError('count', `an allocation takes a non-negative integer number of float64 values, got ${String(count)}`);
    }
    // Not `& ~15`: that would wrap sizes of 2 GiB and more through int32.
    const size = Math.max(16, Math.ceil((count * 8) / 16) * 16);
    if (size > this.maxBytes - 16) {
      throw new OutOfMemoryError(count * 8, `the JS backend's memory may grow to at most ${this.maxBytes} bytes`);
    }
    for (;;) {
      for (let i = 0; i < this.freeStart.length; i++) {
        if (this.freeSize[i] >= size) {
          const ptr = this.freeStart[i];
          if (this.freeSize[i] === size) {
            this.freeStart.splice(i, 1);
            this.freeSize.splice(i, 1);
          } else {
            this.freeStart[i] += size;
            this.freeSize[i] -= size;
          }
          this.sizes.set(ptr, size);
          return ptr;
        }
      }
      this.grow(size);
    }
  }

  free(ptr: number): void {
    if (ptr === 0) return;
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`JsHeap.free: ${ptr} is not an allocated block`);
    this.sizes.delete(ptr);
    this.insertFree(ptr, size);
  }

  private insertFree(ptr: number, size: number): void {
    let i = 0;
    while (i < this.freeStart.length && this.freeStart[i] < ptr) i++;
    this.freeStart.splice(i, 0, ptr);
    this.freeSize.splice(i, 0, size);
    if (i + 1 < this.freeStart.length && ptr + size === this.freeStart[i + 1]) {
      this.freeSize[i] += this.freeSize[i + 1];
      this.freeStart.splice(i + 1, 1);
      this.freeSize.splice(i + 1, 1);
    }
    if (i > 0 && this.freeStart[i - 1] + this.freeSize[i - 1] === ptr) {
      this.freeSize[i - 1] += this.freeSize[i];
      this.freeStart.splice(i, 1);
      this.freeSize.splice(i, 1);
    }
  }

  /**
   * At least doubles the buffer, within maxBytes (like memory.grow, old views become stale).
   * When doubling is refused, asks for just enough; when even that is refused, throws
   * OutOfMemoryError and the heap is unchanged.
   */
  private grow(needed: number): void {
    const old = this.buffer.byteLength;
    // The free block at the end (if any) counts towards `needed`.
    const last = this.freeStart.length - 1;
    const tail = last >= 0 && this.freeStart[last] + this.freeSize[last] === old ? this.freeSize[last] : 0;
    const least = Math.ceil((old + needed - tail) / PAGE) * PAGE;
    if (least > this.maxBytes) {
      throw new OutOfMemoryError(needed, `the JS backend's memory (${old} bytes now) may grow to at most ${this.maxBytes} bytes`);
    }
    let next = old * 2;
    while (next < least) next *= 2;
    next = Math.min(next, this.maxBytes);
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(next);
    } catch {
      try {
        next = least;
        buffer = new ArrayBuffer(next);
      } catch {
        throw new OutOfMemoryError(needed, `the engine refused to grow the JS backend's memory from ${old} to ${next} bytes`);
      }
    }
    new Uint8Array(buffer).set(new Uint8Array(this.buffer));
    this.buffer = buffer;
    this.view = new Float64Array(buffer);
    this.insertFree(old, next - old);
  }
}
