import type { BackendName, Kernels, SimdBuild } from '../kernels/types.js';
import { JsKernels } from '../kernels/js/index.js';
import { WasmKernels, wasmSimdSupported } from '../kernels/wasm/index.js';
import { hardwareThreads, shutdownAll, threadsUnavailable } from '../kernels/wasm/threads.js';
import { ArgumentError, NatgradError, OutOfMemoryError, StateError } from '../errors.js';
import { checkOptions } from '../validate.js';

const LOAD_OPTIONS = { simd: 'string', threads: ['string', 'number'], maxMemoryBytes: 'number' } as const;
const INIT_OPTIONS = { backend: 'string', ...LOAD_OPTIONS } as const;

/** Options for {@link init}. */
export interface InitOptions {
  /**
   * 'auto' (default): WASM SIMD when the engine validates the module, else plain TypeScript.
   * 'wasm': WASM SIMD or an error. 'js': the plain-TypeScript reference.
   */
  backend?: 'auto' | BackendName;
  /**
   * Which WASM build: 'auto' (default) takes the relaxed-SIMD build (fused multiply-add) where
   * `WebAssembly.validate` accepts it (Node ≥ 22, Chrome ≥ 114) and the baseline SIMD128 build
   * elsewhere; 'relaxed' or 'baseline' insist (an error when the engine cannot run it).
   * The builds differ in rounding (FMA rounds once), so results agree closely but not bit for bit.
   * Ignored by the 'js' backend unless it names a build, which is an error there.
   */
  simd?: 'auto' | SimdBuild;
  /**
   * The most bytes the backend's memory may grow to (rounded down to 64 KiB; default and at most
   * 2 GiB). Allocations beyond it throw OutOfMemoryError. Setting it creates a fresh backend with
   * its own memory instead of reusing the shared one.
   */
  maxMemoryBytes?: number;
  /**
   * Threads for the heavy kernels (GEMM and SYRK, hence the Gram matrices; Cholesky's updates
   * and leaf rows; the mask Gram; the element-wise kernels), the calling thread included: a
   * number ≥ 1 or 'auto' (one per logical processor). Default 1. Above 1, worker threads
   * (worker_threads in Node, Web Workers in a cross-origin-isolated page) share the WASM memory;
   * every result is bit-identical for any thread count, because the work is split by fixed row
   * (or column) panels (a panel a worker has not started when the calling thread is done with its own is
   * run by the calling thread). Products under 2¹⁷ flops (the measured crossover: `npm run bench
   * -- --only thread-threshold`; 2¹⁹ for the updates inside Cholesky and the solves) stay on the calling thread. Where threads cannot run (no
   * SharedArrayBuffer, a page without COOP/COEP, the 'js' backend) one thread is used and
   * {@link BackendInfo.threadsUnavailable} says why. Idle workers never keep Node running;
   * {@link shutdown} ends them. Should a worker thread end, the backend goes on on one thread
   * (threadsUnavailable says why); a call whose rows that worker was computing throws BackendError.
   */
  threads?: 'auto' | number;
}

/** What {@link init} chose. */
export interface BackendInfo {
  /** 'wasm' (the WebAssembly SIMD kernels) or 'js' (the plain-TypeScript reference). */
  backend: BackendName;
  /** True when the WASM module (v128 f64x2 SIMD) is in use. */
  simd: boolean;
  /** The WASM build in use ('relaxed': fused multiply-add; 'baseline': SIMD128), null on the 'js' backend. */
  simdBuild: SimdBuild | null;
  /** The most bytes the backend's memory may grow to. */
  maxMemoryBytes: number;
  /** Threads the heavy kernels run on, the calling thread included (1 after {@link shutdown}). */
  threads: number;
  /**
   * Why fewer threads than asked for run (null when the request was met), including why a pool
   * stopped on its own: a worker thread that ends stops it, and the backend goes on on one thread.
   */
  threadsUnavailable: string | null;
}

/** Options for {@link loadKernels}: the backend-specific part of {@link InitOptions}. */
export type LoadKernelsOptions = Pick<InitOptions, 'simd' | 'maxMemoryBytes' | 'threads'>;

let active: Kernels | undefined;
const cache = new Map<string, Promise<Kernels>>();
/** Why a backend runs fewer threads than were asked for. */
const threadNotes = new WeakMap<Kernels, string>();

/** The thread count `threads` asks for, validated; 'auto' is the machine's logical processors. */
async function requestedThreads(threads: InitOptions['threads']): Promise<number> {
  if (threads === undefined) return 1;
  if (threads === 'auto') return hardwareThreads();
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ArgumentError('threads', `must be 'auto' or an integer from 1 to 256, got ${String(threads)}`);
  }
  return threads;
}

/** The WASM build that `simd` asks for, or a typed error when the engine cannot run it. */
function pickBuild(simd: InitOptions['simd']): SimdBuild {
  if (simd === undefined || simd === 'auto') return wasmSimdSupported('relaxed') ? 'relaxed' : 'baseline';
  if (simd !== 'relaxed' && simd !== 'baseline') {
    throw new ArgumentError('simd', `must be 'auto', 'relaxed' or 'baseline', got ${String(simd)}`);
  }
  if (!wasmSimdSupported(simd)) {
    throw new StateError(`simd '${simd}' requested but this engine cannot compile the ${simd === 'relaxed' ? 'relaxed-SIMD' : 'SIMD128'} module`);
  }
  return simd;
}

async function create(name: BackendName, options: LoadKernelsOptions): Promise<Kernels> {
  let threads = await requestedThreads(options.threads);
  let note: string | undefined;
  if (name === 'js') {
    if (options.simd !== undefined && options.simd !== 'auto') {
      throw new ArgumentError('simd', `names a WASM build ('${String(options.simd)}') but the backend is 'js'`);
    }
    if (threads > 1) note = "the 'js' backend runs on one thread";
    threads = 1;
  } else if (!wasmSimdSupported('baseline')) {
    throw new StateError("backend 'wasm' requested but this engine cannot compile WebAssembly SIMD");
  }
  const build = name === 'wasm' ? pickBuild(options.simd) : undefined;
  if (build && threads > 1) {
    const why = threadsUnavailable() ?? (wasmSimdSupported(build, true) ? null : 'this engine cannot compile the shared-memory (threads) module');
    if (why) {
      note = why;
      threads = 1;
    }
  }
  let k: Promise<Kernels> | undefined;
  if (options.maxMemoryBytes !== undefined) {
    k = build ? WasmKernels.create({ build, maxMemoryBytes: options.maxMemoryBytes, threads })
      : Promise.resolve(new JsKernels({ maxMemoryBytes: options.maxMemoryBytes }));
  } else {
    const key = `${name}:${build ?? ''}:${threads}`;
    k = cache.get(key);
    // A cached threaded backend whose pool has stopped (its own shutdown(), or a worker that ended)
    // runs on one thread: start a fresh one rather than hand it out as the threads asked for.
    if (k && threads > 1 && (await k.catch(() => null))?.threads !== threads) {
      cache.delete(key);
      k = undefined;
    }
    if (!k) {
      k = build ? WasmKernels.create({ build, threads }) : Promise.resolve(new JsKernels());
      cache.set(key, k);
      k.catch(() => cache.delete(key));
    }
  }
  let kernels: Kernels;
  try {
    kernels = await k;
  } catch (e) {
    // A shared memory the engine cannot reserve, workers that fail to start, or a memory ceiling without room
    // for the workers' scratch (the only allocation a threaded create makes): one thread, said so.
    if (!build || threads <= 1 || (e instanceof NatgradError && !(e instanceof OutOfMemoryError))) throw e;
    note = `worker threads could not start (${e instanceof Error ? e.message : String(e)})`;
    kernels = await create(name, { ...options, threads: 1 });
  }
  if (note) threadNotes.set(kernels, note);
  else threadNotes.delete(kernels);
  return kernels;
}

/**
 * Loads the numeric core and makes it the active backend. Call once before using
 * anything that computes; calling again switches backend (objects created on the
 * previous backend keep using it). Resolves to the backend in use.
 *
 * @param options the backend (`'auto' | 'wasm' | 'js'`, default 'auto'), the WASM build (`simd`), `threads` and
 *   `maxMemoryBytes` (see {@link InitOptions})
 * @example
 * const { backend, simdBuild } = await init();   // 'wasm', 'relaxed' on Node ≥ 22 ('baseline' on Node 20)
 * await init({ backend: 'js' });                 // force the plain-TypeScript reference
 * await init({ simd: 'baseline' });              // the SIMD128 build, bit-compatible with older engines
 * await init({ maxMemoryBytes: 64 << 20 });      // a fresh backend whose memory stops at 64 MiB
 */
export async function init(options: InitOptions = {}): Promise<BackendInfo> {
  checkOptions('init()', options, INIT_OPTIONS);
  const want = options.backend ?? 'auto';
  if (want !== 'auto' && want !== 'wasm' && want !== 'js') {
    throw new ArgumentError('backend', `must be 'auto', 'wasm' or 'js', got ${String(want)}`);
  }
  const name: BackendName = want === 'auto' ? (wasmSimdSupported('baseline') ? 'wasm' : 'js') : want;
  active = await create(name, options);
  return info(active);
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
 * backendInfo();                 // { backend: 'wasm', simd: true, simdBuild: 'relaxed', threads: 1, … }
 */
export function backendInfo(): BackendInfo | undefined {
  return active ? info(active) : undefined;
}

function info(k: Kernels): BackendInfo {
  return {
    backend: k.backend, simd: k.backend === 'wasm', simdBuild: k.simdBuild, maxMemoryBytes: k.maxMemoryBytes,
    threads: k.threads, threadsUnavailable: threadNotes.get(k) ?? (k instanceof WasmKernels ? k.threadsLost : null),
  };
}

/**
 * Ends every worker thread natgrad started (idempotent). Backends that had threads keep working
 * on the calling thread; a later `init({ threads })` starts new workers. Node does not need it to
 * exit (idle workers are unref'd), but a long-lived process or a page can free the workers with it.
 *
 * @example
 * await init({ threads: 2 });     // GEMM, SYRK and the Cholesky update on two threads
 * // … train …
 * shutdown();                     // the workers end; natgrad keeps working on one thread
 */
export function shutdown(): void {
  shutdownAll();
  for (const key of [...cache.keys()]) if (!key.endsWith(':1')) cache.delete(key);
}

/**
 * Creates (or reuses) a specific backend without making it active: for tests and benchmarks that
 * compare backends or builds. With `maxMemoryBytes` the backend is new each call, with its own memory.
 *
 * @param name 'wasm' or 'js'
 * @param options the WASM build (`simd`), `threads` and `maxMemoryBytes`, as for {@link init}
 * @example
 * const [wasm, js] = await Promise.all([loadKernels('wasm'), loadKernels('js')]);
 * const small = await loadKernels('wasm', { maxMemoryBytes: 16 << 20 });   // its own 16 MiB memory
 */
export async function loadKernels(name: BackendName, options: LoadKernelsOptions = {}): Promise<Kernels> {
  checkOptions('loadKernels()', options, LOAD_OPTIONS);
  return create(name, options);
}
