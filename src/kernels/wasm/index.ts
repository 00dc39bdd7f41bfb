import { instantiate } from '@assemblyscript/loader';
import { KERNEL_NAMES, type KernelName, type Kernels, type Ptr, type SimdBuild } from '../types.js';
import { WASM_BASELINE_BASE64, WASM_RELAXED_BASE64 } from './binary.js';
import { withSharedMemory } from './shared-memory.js';
import { ArgumentError, BackendError, NatgradError, OutOfMemoryError } from '../../errors.js';
import { ThreadPool } from './threads.js';
import { THREAD_MIN_FLOPS, THREAD_MIN_INNER_FLOPS, ThreadDispatch } from './dispatch.js';

export {
  THREAD_MIN_FLOPS, THREAD_MIN_INNER_FLOPS, THREAD_MIN_MASK_WORDS, THREAD_MIN_VALUES, splitRows,
} from './dispatch.js';

/** Must equal ABI_VERSION in assembly/memory.ts; checked at load so the two sides cannot drift. */
export const ABI_VERSION = 3;

const PAGE = 65536;
/** Pages the module declares for its imported memory (asconfig.json initialMemory). */
const INITIAL_PAGES = 16;
/**
 * 2 GiB: 32-bit WebAssembly could address 4 GiB, but pointers cross the boundary as int32, so
 * addresses from 2 GiB on would come back negative.
 */
const MAX_PAGES = 32768;
/** TLSF's largest single block (BLOCK_MAXSIZE in AssemblyScript's rt/common.ts): 1 GiB minus its header. */
const MAX_BLOCK_BYTES = 2 ** 30 - 16;

/** The raw exports of a kernels module: the compute kernels already have the Kernels signature. */
type WasmExports = Pick<Kernels, KernelName> & {
  ABI_VERSION: WebAssembly.Global | number;
  alloc(bytes: number): Ptr;
  free(ptr: Ptr): void;
  pendingAllocation(): number;
  clearPendingAllocation(): void;
  gemmPanel(i0: number, i1: number, n: number, k: number, alpha: number, a: Ptr, rsa: number, csa: number,
    b: Ptr, rsb: number, csb: number, beta: number, c: Ptr, ldc: number, lowerOnly: number): void;
  maskGramRows(i0: number, i1: number, words: number, masks: Ptr, alpha: number, out: Ptr, ldo: number): void;
  mirrorLowerRows(i0: number, i1: number, c: Ptr, ldc: number): void;
  solveLeafPanel(r0: number, r1: number, w: number, p: Ptr, ld: number): void;
  threadScratchBytes(): number;
  useThreadScratch(ptr: Ptr): void;
};

/** Exports besides the compute kernels that the binding needs (memory, and the panels threads run). */
const MEMORY_EXPORTS = [
  'ABI_VERSION', 'alloc', 'free', 'pendingAllocation', 'clearPendingAllocation', 'gemmPanel', 'maskGramRows', 'mirrorLowerRows', 'solveLeafPanel', 'threadScratchBytes', 'useThreadScratch',
] as const;

/**
 * Compute kernels that may allocate scratch memory inside the module (pack buffers, column and
 * eigensolver workspaces): their calls are wrapped so a failed growth becomes OutOfMemoryError.
 * The others are the exports themselves.
 */
const SCRATCH_KERNELS: ReadonlySet<KernelName> = new Set(['gemm', 'syrk', 'potrf', 'trsm', 'potrs', 'potri', 'syev']);

/** The embedded modules: one per SIMD build (the shared-memory variants for threads are derived from them). */
const BASE64: Record<SimdBuild, string> = { baseline: WASM_BASELINE_BASE64, relaxed: WASM_RELAXED_BASE64 };
const bytesCache: Partial<Record<`${SimdBuild}${'' | '-shared'}`, Uint8Array<ArrayBuffer>>> = {};

/** The embedded module's bytes for one build, with a private or a shared memory (decoded once). */
export function wasmBytes(build: SimdBuild = 'baseline', shared = false): Uint8Array<ArrayBuffer> {
  const key = shared ? (`${build}-shared` as const) : build;
  let out = bytesCache[key];
  if (!out) {
    if (shared) {
      out = withSharedMemory(wasmBytes(build), MAX_PAGES);
    } else {
      const bin = atob(BASE64[build]);
      out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    }
    bytesCache[key] = out;
  }
  return out;
}

/** True when this engine can compile the given build (the probe behind backend 'auto' and simd 'auto'). */
export function wasmSimdSupported(build: SimdBuild = 'baseline', shared = false): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(wasmBytes(build, shared));
  } catch {
    return false;
  }
}

/** Options for {@link WasmKernels.create}. */
export interface WasmKernelsOptions {
  /** Which build to instantiate (default 'baseline'); the caller probes support first. */
  build?: SimdBuild;
  /** The most bytes the memory may grow to (rounded down to 64 KiB pages; default and at most 2 GiB). */
  maxMemoryBytes?: number;
  /**
   * Threads for GEMM and SYRK, the calling thread included (default 1). Above 1 the memory is a
   * shared one and a worker pool starts; the caller checks that threads can run here first.
   */
  threads?: number;
}

/** Pages for a maxMemoryBytes option: validated, rounded down to whole pages. */
export function maxPagesFor(maxMemoryBytes: number | undefined): number {
  if (maxMemoryBytes === undefined) return MAX_PAGES;
  if (typeof maxMemoryBytes !== 'number' || !(maxMemoryBytes >= INITIAL_PAGES * PAGE)) {
    throw new ArgumentError('maxMemoryBytes', `must be a number ≥ ${INITIAL_PAGES * PAGE} (the module's initial memory), got ${String(maxMemoryBytes)}`);
  }
  return Math.min(MAX_PAGES, Math.floor(maxMemoryBytes / PAGE));
}

/**
 * The WASM SIMD backend. Compute kernels are bound from KERNEL_NAMES: the module's exports
 * themselves (no marshalling per call), except that kernels which may grow memory for scratch
 * translate a failed growth into OutOfMemoryError. alloc converts a count to bytes and checks it;
 * f64() re-makes its view when memory has grown, because growth detaches the old buffer.
 */
export class WasmKernels implements Kernels {
  readonly backend = 'wasm' as const;
  readonly simdBuild: SimdBuild;
  readonly maxMemoryBytes: number;
  declare readonly gemm: Kernels['gemm'];
  declare readonly syrk: Kernels['syrk'];
  declare readonly hadamard: Kernels['hadamard'];
  declare readonly mirrorLower: Kernels['mirrorLower'];
  declare readonly potrf: Kernels['potrf'];
  declare readonly trsm: Kernels['trsm'];
  declare readonly potrs: Kernels['potrs'];
  declare readonly potri: Kernels['potri'];
  declare readonly syev: Kernels['syev'];
  declare readonly firstNonFinite: Kernels['firstNonFinite'];
  declare readonly firstDifference: Kernels['firstDifference'];
  declare readonly sqDistance: Kernels['sqDistance'];
  declare readonly relu: Kernels['relu'];
  declare readonly reluMask: Kernels['reluMask'];
  declare readonly reluOuter: Kernels['reluOuter'];
  declare readonly packMask: Kernels['packMask'];
  declare readonly maskGram: Kernels['maskGram'];
  declare readonly maskGramLower: Kernels['maskGramLower'];
  declare readonly reluPack: Kernels['reluPack'];
  declare readonly taylorActivation: Kernels['taylorActivation'];
  declare readonly taylorBackward: Kernels['taylorBackward'];
  declare readonly rowOuterSum: Kernels['rowOuterSum'];
  private readonly ex: WasmExports;
  private readonly memory: WebAssembly.Memory;
  private view: Float64Array;
  private pool: ThreadPool | undefined;
  private dispatch: ThreadDispatch | undefined;
  /**
   * @internal The GEMM/SYRK threading threshold ({@link THREAD_MIN_FLOPS}); the bench lowers it
   * to 0 to measure where two threads start to pay.
   */
  threadMinFlops = THREAD_MIN_FLOPS;
  /** @internal The threshold for updates offered from inside a kernel ({@link THREAD_MIN_INNER_FLOPS}). */
  threadMinInnerFlops = THREAD_MIN_INNER_FLOPS;

  /**
   * Binds a module's exports. Throws BackendError when an export the TypeScript side needs is
   * missing or the module's ABI version differs (a stale or foreign build).
   */
  constructor(moduleExports: Record<string, unknown>, memory: WebAssembly.Memory, build: SimdBuild, maxPages: number) {
    const missing = [...MEMORY_EXPORTS, ...KERNEL_NAMES].filter((name) => {
      const v = moduleExports[name];
      return name === 'ABI_VERSION' ? v === undefined : typeof v !== 'function';
    });
    if (missing.length > 0) {
      throw new BackendError(`the WASM module lacks the export${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; rebuild it with \`npm run build:wasm\``);
    }
    const ex = moduleExports as unknown as WasmExports;
    const abi = typeof ex.ABI_VERSION === 'number' ? ex.ABI_VERSION : ex.ABI_VERSION.value;
    if (abi !== ABI_VERSION) {
      throw new BackendError(`the WASM module has ABI version ${String(abi)} but the TypeScript side expects ${ABI_VERSION}; rebuild with \`npm run build\``);
    }
    this.ex = ex;
    this.memory = memory;
    this.simdBuild = build;
    this.maxMemoryBytes = maxPages * PAGE;
    const self = this as unknown as Record<KernelName, unknown>;
    for (const name of KERNEL_NAMES) {
      const f = ex[name] as (...args: number[]) => number;
      self[name] = SCRATCH_KERNELS.has(name) ? this.guarded(name, f) : f;
    }
    this.view = new Float64Array(memory.buffer);
  }

  /** Threads a GEMM or SYRK may use now (1 without a running pool). */
  get threads(): number {
    return this.pool?.running ? this.pool.size : 1;
  }

  /** @internal Why the worker pool stopped on its own (a worker ended), or null. */
  get threadsLost(): string | null {
    return this.pool?.failure ?? null;
  }

  /** Ends the worker threads (idempotent); GEMM and SYRK then run on the calling thread. */
  shutdown(): void {
    this.pool?.shutdown();
    this.pool = undefined;
    this.dispatch = undefined;
  }

  /**
   * Routes gemm, syrk, the element-wise kernels and the mask Gram through the row-panel dispatch
   * over `pool` (dispatch.ts); the module's own offers reach it through {@link parallelGemm} and
   * {@link parallelLeaf}.
   */
  private attach(pool: ThreadPool): void {
    this.pool = pool;
    this.dispatch = new ThreadDispatch(pool, this.ex, this, (e, where) => this.translate(e, where));
    const { gemm, syrk, relu, reluMask, reluOuter, packMask, hadamard, maskGram, maskGramLower, reluPack, mirrorLower } = this;
    Object.assign(this, this.dispatch.wrap({ gemm, syrk, relu, reluMask, reluOuter, packMask, hadamard, maskGram, maskGramLower, reluPack, mirrorLower }));
  }

  /** @internal The module's env.parallelLeaf import: rows of a Cholesky leaf offered to the pool; 1 when done there. */
  parallelLeaf(m: number, w: number, p: Ptr, ld: number): number {
    return this.dispatch?.parallelLeaf(m, w, p, ld) ?? 0;
  }

  /** @internal The module's env.parallelGemm import: gemmAcc (beta 1) offered to the pool; 1 when done there. */
  parallelGemm(
    m: number, n: number, k: number, alpha: number, a: Ptr, rsa: number, csa: number,
    b: Ptr, rsb: number, csb: number, c: Ptr, ldc: number, lowerOnly: number,
  ): number {
    return this.dispatch?.parallelGemm(m, n, k, alpha, a, rsa, csa, b, rsb, csb, c, ldc, lowerOnly) ?? 0;
  }

  /**
   * Compiles and instantiates one embedded build with its own memory; with threads > 1, the
   * shared-memory build on a shared memory, and a pool of threads − 1 workers.
   */
  static async create(options: WasmKernelsOptions = {}): Promise<WasmKernels> {
    const build = options.build ?? 'baseline';
    const maxPages = maxPagesFor(options.maxMemoryBytes);
    const threads = options.threads ?? 1;
    const shared = threads > 1;
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: maxPages, shared });
    const bytes = wasmBytes(build, shared);
    let k: WasmKernels | undefined;
    const parallelGemm = (...args: number[]) => (k ? k.parallelGemm(...(args as Parameters<WasmKernels['parallelGemm']>)) : 0);
    const parallelLeaf = (m: number, w: number, p: number, ld: number) => (k ? k.parallelLeaf(m, w, p, ld) : 0);
    const instance = await instantiate<Record<string, unknown>>(bytes, { env: { memory, parallelGemm, parallelLeaf } } as unknown as Parameters<typeof instantiate>[1]);
    k = new WasmKernels(instance.exports as Record<string, unknown>, memory, build, maxPages);
    if (shared) {
      const scratch = k.ex.threadScratchBytes();
      k.attach(await ThreadPool.create(threads, bytes, memory, () => k.alloc(Math.ceil(scratch / 8)), (p) => k.free(p)));
    }
    return k;
  }

  alloc(count: number): Ptr {
    if (!Number.isInteger(count) || count < 0) {
      throw new ArgumentError('count', `an allocation takes a non-negative integer number of float64 values, got ${String(count)}`);
    }
    const bytes = count * 8;
    // The export takes a u32: larger requests would wrap, so refuse them here.
    if (bytes > MAX_BLOCK_BYTES) {
      throw new OutOfMemoryError(bytes, `a single WASM buffer holds at most ${MAX_BLOCK_BYTES} bytes`);
    }
    if (bytes > this.maxMemoryBytes) {
      throw new OutOfMemoryError(bytes, `the backend's memory may grow to at most ${this.maxMemoryBytes} bytes`);
    }
    try {
      return this.ex.alloc(bytes);
    } catch (e) {
      throw this.translate(e, 'alloc');
    }
  }

  free(ptr: Ptr): void {
    this.ex.free(ptr);
  }

  f64(): Float64Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Float64Array(this.memory.buffer);
    return this.view;
  }

  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * A kernel that may allocate scratch: a failed growth inside it becomes OutOfMemoryError. Fixed
   * arity (the longest signature, gemm's 13), so a call allocates nothing on the JS heap; a module
   * function ignores arguments past its own.
   */
  private guarded(name: KernelName, f: (...args: number[]) => number): (...args: number[]) => number {
    return (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) => {
      try {
        return f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
      } catch (e) {
        throw this.translate(e, name);
      }
    };
  }

  /**
   * A trap while the module was allocating (pendingAllocation() ≠ 0: TLSF found no room and
   * memory.grow failed, before TLSF changed any state) is an out-of-memory error; anything else
   * is rethrown as it is.
   */
  private translate(e: unknown, where: string): unknown {
    if (e instanceof NatgradError) return e;
    const bytes = this.ex.pendingAllocation();
    if (bytes === 0) return e;
    this.ex.clearPendingAllocation();
    return new OutOfMemoryError(bytes, `${where}: the WASM memory (${this.memoryBytes()} bytes now, at most ${this.maxMemoryBytes}) could not grow to fit it`);
  }
}
