import { instantiate } from '@assemblyscript/loader';
import type { Kernels, Ptr } from '../types.js';
import { WASM_BASE64 } from './binary.js';

/** Must equal ABI_VERSION in assembly/memory.ts; checked at load so the two sides cannot drift. */
export const ABI_VERSION = 1;

/** The raw exports of build/natgrad.wasm: every kernel already has the Kernels signature. */
interface WasmExports extends Omit<Kernels, 'backend' | 'alloc' | 'f64' | 'memoryBytes'> {
  memory: WebAssembly.Memory;
  ABI_VERSION: WebAssembly.Global | number;
  alloc(bytes: number): Ptr;
}

let bytesCache: Uint8Array<ArrayBuffer> | undefined;

/** The embedded module's bytes (decoded once). */
export function wasmBytes(): Uint8Array<ArrayBuffer> {
  if (!bytesCache) {
    const bin = atob(WASM_BASE64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    bytesCache = out;
  }
  return bytesCache;
}

/** True when this engine can compile the SIMD module (the feature probe behind backend 'auto'). */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(wasmBytes());
  } catch {
    return false;
  }
}

/**
 * The WASM SIMD backend. Kernel methods are the module's exports themselves (no
 * marshalling per call); only alloc converts a count to bytes and f64() re-makes
 * its view when memory has grown, because growth detaches the old buffer.
 */
export class WasmKernels implements Kernels {
  readonly backend = 'wasm' as const;
  readonly gemm: Kernels['gemm'];
  readonly syrk: Kernels['syrk'];
  readonly hadamard: Kernels['hadamard'];
  readonly mirrorLower: Kernels['mirrorLower'];
  readonly potrf: Kernels['potrf'];
  readonly trsm: Kernels['trsm'];
  readonly potrs: Kernels['potrs'];
  readonly potri: Kernels['potri'];
  readonly syev: Kernels['syev'];
  readonly free: Kernels['free'];
  readonly firstNonFinite: Kernels['firstNonFinite'];
  readonly relu: Kernels['relu'];
  readonly reluMask: Kernels['reluMask'];
  private readonly ex: WasmExports;
  private view: Float64Array;

  private constructor(ex: WasmExports) {
    this.ex = ex;
    const abi = typeof ex.ABI_VERSION === 'number' ? ex.ABI_VERSION : ex.ABI_VERSION.value;
    if (abi !== ABI_VERSION) throw new Error(`natgrad: WASM ABI ${abi} does not match the TypeScript side (${ABI_VERSION})`);
    this.gemm = ex.gemm;
    this.syrk = ex.syrk;
    this.hadamard = ex.hadamard;
    this.mirrorLower = ex.mirrorLower;
    this.potrf = ex.potrf;
    this.trsm = ex.trsm;
    this.potrs = ex.potrs;
    this.potri = ex.potri;
    this.syev = ex.syev;
    this.free = ex.free;
    this.firstNonFinite = ex.firstNonFinite;
    this.relu = ex.relu;
    this.reluMask = ex.reluMask;
    this.view = new Float64Array(ex.memory.buffer);
  }

  /** Compiles and instantiates the embedded module. */
  static async create(): Promise<WasmKernels> {
    const { exports } = await instantiate<WasmExports & Record<string, unknown>>(wasmBytes(), {});
    return new WasmKernels(exports as unknown as WasmExports);
  }

  alloc(count: number): Ptr {
    return this.ex.alloc(count * 8);
  }

  f64(): Float64Array {
    if (this.view.buffer !== this.ex.memory.buffer) this.view = new Float64Array(this.ex.memory.buffer);
    return this.view;
  }

  memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }
}
