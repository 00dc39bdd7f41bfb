import { instantiate } from '@assemblyscript/loader';
import { KERNEL_NAMES, type KernelName, type Kernels, type Ptr, type SimdBuild } from '../types.js';
import { WASM_BASELINE_BASE64, WASM_RELAXED_BASE64 } from './binary.js';
import { ArgumentError, BackendError, NatgradError, OutOfMemoryError } from '../../errors.js';

/** Must equal ABI_VERSION in assembly/memory.ts; checked at load so the two sides cannot drift. */
export const ABI_VERSION = 2;

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
};

/** Exports besides the compute kernels that the binding needs. */
const MEMORY_EXPORTS = ['ABI_VERSION', 'alloc', 'free', 'pendingAllocation', 'clearPendingAllocation'] as const;

/**
 * Compute kernels that may allocate scratch memory inside the module (pack buffers, column and
 * eigensolver workspaces): their calls are wrapped so a failed growth becomes OutOfMemoryError.
 * The others are the exports themselves.
 */
const SCRATCH_KERNELS: ReadonlySet<KernelName> = new Set(['gemm', 'syrk', 'potrf', 'trsm', 'potrs', 'potri', 'syev']);

const BASE64: Record<SimdBuild, string> = { baseline: WASM_BASELINE_BASE64, relaxed: WASM_RELAXED_BASE64 };
const bytesCache: Partial<Record<SimdBuild, Uint8Array<ArrayBuffer>>> = {};

/** The embedded module's bytes for one build (decoded once). */
export function wasmBytes(build: SimdBuild = 'baseline'): Uint8Array<ArrayBuffer> {
  let out = bytesCache[build];
  if (!out) {
    const bin = atob(BASE64[build]);
    out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    bytesCache[build] = out;
  }
  return out;
}

/** True when this engine can compile the given build (the probe behind backend 'auto' and simd 'auto'). */
export function wasmSimdSupported(build: SimdBuild = 'baseline'): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(wasmBytes(build));
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
  declare readonly relu: Kernels['relu'];
  declare readonly reluMask: Kernels['reluMask'];
  declare readonly packMask: Kernels['packMask'];
  declare readonly maskGram: Kernels['maskGram'];
  private readonly ex: WasmExports;
  private readonly memory: WebAssembly.Memory;
  private view: Float64Array;

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

  /** Compiles and instantiates one embedded build with its own memory. */
  static async create(options: WasmKernelsOptions = {}): Promise<WasmKernels> {
    const build = options.build ?? 'baseline';
    const maxPages = maxPagesFor(options.maxMemoryBytes);
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: maxPages });
    const instance = await instantiate<Record<string, unknown>>(wasmBytes(build), { env: { memory } });
    return new WasmKernels(instance.exports as Record<string, unknown>, memory, build, maxPages);
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

  /** A kernel that may allocate scratch: a failed growth inside it becomes OutOfMemoryError. */
  private guarded(name: KernelName, f: (...args: number[]) => number): (...args: number[]) => number {
    return (...args: number[]) => {
      try {
        return f(...args);
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
