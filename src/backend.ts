import type { BackendName, Kernels } from './kernels/types.js';
import { JsKernels } from './kernels/js/index.js';
import { WasmKernels, wasmSimdSupported } from './kernels/wasm/index.js';
import { ArgumentError, StateError } from './errors.js';

/** Options for {@link init}. */
export interface InitOptions {
  /**
   * 'auto' (default): WASM SIMD when the engine validates the module, else plain TypeScript.
   * 'wasm': WASM SIMD or an error. 'js': the plain-TypeScript reference.
   */
  backend?: 'auto' | BackendName;
}

/** What {@link init} chose. */
export interface BackendInfo {
  /** 'wasm' (the WebAssembly SIMD kernels) or 'js' (the plain-TypeScript reference). */
  backend: BackendName;
  /** True when the WASM module (v128 f64x2 SIMD) is in use. */
  simd: boolean;
}

let active: Kernels | undefined;
const cache: Partial<Record<BackendName, Promise<Kernels>>> = {};

function create(name: BackendName): Promise<Kernels> {
  cache[name] ??= name === 'wasm' ? WasmKernels.create() : Promise.resolve(new JsKernels());
  return cache[name]!;
}

/**
 * Loads the numeric core and makes it the active backend. Call once before using
 * anything that computes; calling again switches backend (objects created on the
 * previous backend keep using it). Resolves to the backend in use.
 *
 * @param options which backend: `{ backend: 'auto' | 'wasm' | 'js' }` (default 'auto')
 * @example
 * const { backend } = await init();            // 'wasm' on Node ≥ 20 and current browsers
 * await init({ backend: 'js' });               // force the plain-TypeScript reference
 */
export async function init(options: InitOptions = {}): Promise<BackendInfo> {
  const want = options.backend ?? 'auto';
  if (want !== 'auto' && want !== 'wasm' && want !== 'js') {
    throw new ArgumentError('backend', `must be 'auto', 'wasm' or 'js', got ${String(want)}`);
  }
  let name: BackendName;
  if (want === 'auto') name = wasmSimdSupported() ? 'wasm' : 'js';
  else if (want === 'wasm' && !wasmSimdSupported()) {
    throw new StateError("backend 'wasm' requested but this engine cannot compile WebAssembly SIMD");
  } else name = want;
  active = await create(name);
  return info();
}

/**
 * The active backend's kernels (the low-level {@link Kernels} interface: pointers into
 * backend memory); throws StateError before {@link init}. For custom numeric code
 * beside the library's: most users need {@link linalg} instead.
 *
 * @example
 * await init();
 * const k = kernels();
 * const p = k.alloc(4);          // 4 float64 values in backend memory
 * k.f64().set([1, 2, 3, 4], p >> 3);
 * k.free(p);
 */
export function kernels(): Kernels {
  if (!active) throw new StateError('natgrad is not initialised: call `await init()` first');
  return active;
}

/**
 * The active backend, or undefined before {@link init}.
 *
 * @example
 * backendInfo();                 // undefined
 * await init();
 * backendInfo();                 // { backend: 'wasm', simd: true }
 */
export function backendInfo(): BackendInfo | undefined {
  return active ? info() : undefined;
}

function info(): BackendInfo {
  return { backend: active!.backend, simd: active!.backend === 'wasm' };
}

/**
 * Creates (or reuses) a specific backend without making it active: for tests and benchmarks that compare the two.
 *
 * @param name 'wasm' or 'js'
 * @example
 * const [wasm, js] = await Promise.all([loadKernels('wasm'), loadKernels('js')]);
 */
export function loadKernels(name: BackendName): Promise<Kernels> {
  if (name === 'wasm' && !wasmSimdSupported()) {
    return Promise.reject(new StateError('this engine cannot compile WebAssembly SIMD'));
  }
  return create(name);
}
