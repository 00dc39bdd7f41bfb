/**
 * The plain-TypeScript backend's memory: one growable ArrayBuffer with a first-fit
 * allocator, so the JS backend hands out the same kind of `Ptr` (byte offsets) as
 * the WASM one and every layer above runs unchanged on either.
 *
 * Blocks are multiples of 16 bytes and 16-byte aligned; byte 0..15 is never handed
 * out, so 0 can mean "no block". Free blocks are kept sorted by address and merged
 * with their neighbours on free, so dispose-then-allocate reuses the same space.
 */
export class JsHeap {
  private buffer: ArrayBuffer;
  private view: Float64Array;
  /** Free blocks as parallel arrays of [start, size] in bytes, sorted by start. */
  private freeStart: number[] = [];
  private freeSize: number[] = [];
  private readonly sizes = new Map<number, number>();

  constructor(initialBytes = 1 << 20) {
    this.buffer = new ArrayBuffer(initialBytes);
    this.view = new Float64Array(this.buffer);
    this.freeStart.push(16);
    this.freeSize.push(initialBytes - 16);
  }

  get bytes(): number {
    return this.buffer.byteLength;
  }

  f64(): Float64Array {
    return this.view;
  }

  alloc(count: number): number {
    const size = Math.max(16, (count * 8 + 15) & ~15);
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

  /** At least doubles the buffer (like memory.grow, old views become stale). */
  private grow(needed: number): void {
    const old = this.buffer.byteLength;
    let next = old * 2;
    while (next - old < needed) next *= 2;
    const buffer = new ArrayBuffer(next);
    new Uint8Array(buffer).set(new Uint8Array(this.buffer));
    this.buffer = buffer;
    this.view = new Float64Array(buffer);
    this.insertFree(old, next - old);
  }
}
