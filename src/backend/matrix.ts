import type { Kernels, Ptr } from '../kernels/types.js';
import { StateError } from '../errors.js';

/**
 * A handle to a row-major float64 matrix living in a backend's memory: a pointer
 * plus its shape. Data crosses the boundary only through `write` and `read`;
 * kernels work on `ptr` directly. Call `dispose()` to free the memory.
 *
 * @example
 * await init();
 * const a = Mat.from(kernels(), [1, 2, 3, 4], 2, 2);
 * a.read();                      // Float64Array [1, 2, 3, 4]
 * a.dispose();
 */
export class Mat {
  private _ptr: Ptr;

  /**
   * Allocates rows × cols float64 values (uninitialised) on `k`.
   *
   * @param k the backend that owns the memory
   * @param rows number of rows
   * @param cols number of columns
   */
  constructor(
    /** The backend that owns the memory. */
    readonly k: Kernels,
    /** Number of rows. */
    readonly rows: number,
    /** Number of columns. */
    readonly cols: number,
  ) {
    this._ptr = k.alloc(rows * cols);
  }

  /** Allocates a matrix on `k` and copies `data` (row-major, rows·cols values) in. */
  static from(k: Kernels, data: ArrayLike<number>, rows: number, cols: number): Mat {
    const m = new Mat(k, rows, cols);
    m.write(data);
    return m;
  }

  /** Byte pointer to element (0, 0); throws once disposed. */
  get ptr(): Ptr {
    if (this._ptr === 0) throw new StateError('Mat used after dispose()');
    return this._ptr;
  }

  /** rows · cols. */
  get size(): number {
    return this.rows * this.cols;
  }

  /** True after {@link Mat.dispose}. */
  get disposed(): boolean {
    return this._ptr === 0;
  }

  /** A view of the data; valid only until the next call that may grow memory. */
  view(): Float64Array {
    return this.k.f64().subarray(this.ptr >> 3, (this.ptr >> 3) + this.size);
  }

  /** Copies `data` in (row-major). */
  write(data: ArrayLike<number>): this {
    this.k.f64().set(data, this.ptr >> 3);
    return this;
  }

  /** Copies the data out into `out` (allocated when omitted) and returns it. */
  read(out: Float64Array = new Float64Array(this.size)): Float64Array {
    out.set(this.view());
    return out;
  }

  /** Sets every element to `value`. */
  fill(value: number): this {
    this.view().fill(value);
    return this;
  }

  /** Frees the memory; idempotent. */
  dispose(): void {
    if (this._ptr !== 0) this.k.free(this._ptr);
    this._ptr = 0;
  }
}

/**
 * Named scratch buffers reused across calls: `get(name, count)` returns a block of
 * at least `count` float64 values, reallocating only when a larger one is needed.
 * So a loop of same-sized calls allocates nothing after the first.
 *
 * @example
 * const ws = new Workspace(kernels());
 * const tmp = ws.get('tmp', n * n);    // the same pointer on every call with count ≤ n·n
 * ws.dispose();
 */
export class Workspace {
  private readonly blocks = new Map<string, { ptr: Ptr; count: number; serial: number }>();
  /** Numbers every allocation of every workspace (see {@link Workspace.serial}). */
  private static allocations = 0;

  /** @param k the backend that owns the memory */
  constructor(
    /** The backend that owns the memory. */
    readonly k: Kernels,
  ) {}

  /** Byte pointer of the block called `name`, holding at least `count` float64 values (contents unspecified). */
  get(name: string, count: number): Ptr {
    const b = this.blocks.get(name);
    if (b && b.count >= count) return b.ptr;
    if (b) this.k.free(b.ptr);
    const ptr = this.k.alloc(Math.max(count, 1));
    this.blocks.set(name, { ptr, count, serial: ++Workspace.allocations });
    return ptr;
  }

  /**
   * A number that changes whenever the block called `name` is (re)allocated, and 0 while it does
   * not exist: a caller that keeps a result in a block across calls compares it to tell whether
   * the block still holds what it wrote (a freed and re-made block may get the same pointer).
   */
  serial(name: string): number {
    return this.blocks.get(name)?.serial ?? 0;
  }

  /** Name, byte pointer and size (values) of every block: what a checkpoint saves of a workspace. */
  entries(): {
    /** The block's name. */
    name: string;
    /** Its byte pointer. */
    ptr: Ptr;
    /** Its size in values. */
    count: number;
  }[] {
    return [...this.blocks].map(([name, b]) => ({ name, ptr: b.ptr, count: b.count }));
  }

  /** Frees every block. */
  dispose(): void {
    for (const b of this.blocks.values()) this.k.free(b.ptr);
    this.blocks.clear();
  }
}
