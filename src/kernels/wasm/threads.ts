/**
 * A pool of worker threads that run row panels of the heavy kernels on the same shared
 * WebAssembly.Memory as the calling thread: worker_threads in Node, Web Workers in browsers
 * (where `crossOriginIsolated` makes SharedArrayBuffer available).
 *
 * Each worker instantiates the same shared-memory module with its own globals; it never runs
 * the allocator (whose state would be its own, not the heap's): the caller allocates one
 * scratch block per worker for its pack buffers, handed over with `useThreadScratch`.
 *
 * A call hands each worker one panel through a small control SharedArrayBuffer (an op code,
 * up to 16 float64 arguments, a generation counter), wakes it with Atomics.notify, runs the
 * first panel itself, then waits for the others (Atomics.wait, or a spin on Atomics.load on a
 * browser main thread, which may not block). Panels are fixed by the caller, so which thread
 * runs which panel never changes a result. Idle workers sleep in Atomics.wait; in Node they
 * are unref'd, so they never keep a process alive; `shutdown()` ends them.
 *
 * A worker that ends does not leave a call waiting for ever. The caller, blocked, gets no events,
 * so past its spin it sleeps in slices of POLL_MS and reads the worker's DEAD word between them.
 * DEAD: set by a worker that ends while running code (an error outside its panel's try; in Node
 * also process.exit(), through its exit hook); a panel it had taken is incomplete and the call
 * throws BackendError. OPEN: the caller opens each job (OPEN = its generation) and whoever closes
 * it first by compare-exchange runs it: the worker when it wakes, or the caller, which takes back
 * every job still open once its own panel is done — a worker that the machine has not scheduled
 * (an oversubscribed or shared host) then costs the call no wait, and which thread runs a panel
 * never changes a result. A worker terminated while idle runs no code and a browser reports
 * nothing: its jobs are all taken back, and once it has not woken (BEAT) for CLAIM_GRACE_MS of
 * them the pool stops. After a death the pool stops and later calls run on one thread
 * ({@link ThreadPool.failure} says why); between calls, Node's 'exit' and a browser's 'error'
 * event stop it too. Limit: a worker that ends without running any code *inside a panel it has
 * taken* (terminated mid-call, a native crash, an engine's out-of-memory kill) looks like a slow
 * panel, and that call waits for ever: telling them apart would need a heartbeat in the hot path.
 * The workers are private to the pool, so only a crash can do that.
 */

import { BackendError } from '../../errors.js';

/**
 * The module exports a worker can run, by op code (index + 1): row panels of the heavy kernels
 * (gemmPanel, maskGramRows, mirrorLowerRows, the rows of a Cholesky leaf) and the element-wise kernels, which the caller splits by rows by
 * offsetting their pointers. A worker calls the export with the slot's float64 arguments.
 */
export const WORKER_OPS = ['gemmPanel', 'maskGramRows', 'solveLeafPanel', 'relu', 'reluMask', 'reluOuter', 'packMask', 'hadamard', 'reluPack', 'mirrorLowerRows'] as const;
export type WorkerOp = typeof WORKER_OPS[number];
/** The op code of an export in {@link WORKER_OPS}. */
export function opCode(name: WorkerOp): number {
  return WORKER_OPS.indexOf(name) + 1;
}
const OP_STOP = -1;
/**
 * @internal Test hook: the worker given this op ends outside its panel's try, as a bug in the worker
 * source would — by process.exit(1) when the first argument is 1 (Node), else by throwing.
 */
export const OP_DIE = -2;

/** Per-worker control slot: 16 int32 header words, then 16 float64 arguments. */
const SLOT_I32 = 64;
const GEN = 0, DONE = 1, OP = 2, STATUS = 3, OPEN = 4, DEAD = 5, BEAT = 6;
const ARGS_F64 = 8; // float64 index of the first argument within a slot (byte 64)
const MAX_ARGS = 16;
/**
 * Loads of its control word a worker makes after a panel before it sleeps in Atomics.wait
 * (about 0.1 ms at ~6 ns per load): the kernels of a step come in quick succession. Longer
 * pays on a quiet machine and costs on a busy one: at 200 000 loads (1–2 ms) a 512×4096 relu on
 * two threads after 0.1–1 ms of other work took 0.41–0.45 ms (median) against 0.46–0.52 ms, and
 * the steady NGD step (n 512, m 4096) 0.2–0.45 ms less on two threads; with one busy process
 * beside it that step took 2–6 ms more (the spinning worker takes CPU from the calling thread).
 * Measured on Node 24, AMD EPYC family 26.
 */
const SPIN = 16_000;
/**
 * Loads the caller makes waiting for a worker's panel before it sleeps (about 10 µs: panels are
 * balanced, so it mostly waits little; on an oversubscribed machine a longer spin would take
 * the core from the very worker it waits for).
 */
const CALLER_SPIN = 1_500;
/** OPEN of a slot with no job open (never a generation: {@link ThreadPool.nextGen} skips it). */
const CLOSED = 0;
/** How long a blocked caller sleeps between looks at a worker's DEAD word (ms). */
const POLL_MS = 100;
/**
 * @internal A worker whose jobs have all been taken back for this long (ms) is taken for ended and the pool
 * stops. Long, so a busy machine's scheduling delay is no false alarm; one would cost speed, not
 * results: the calling thread runs the panels.
 */
export const CLAIM_GRACE_MS = 2000;

/**
 * The worker's source, self-contained so no file has to be found at run time in Node or a
 * bundle. `start` is called with { bytes, memory, control, slot, scratch }.
 */
const WORKER_SOURCE = `
'use strict';
function start(d, ready) {
  const abort = () => { throw new Error('natgrad worker: abort'); };
  const ex = new WebAssembly.Instance(new WebAssembly.Module(d.bytes), { env: { memory: d.memory, abort, parallelGemm: () => 0, parallelLeaf: () => 0 } }).exports;
  ex.useThreadScratch(d.scratch);
  const i32 = new Int32Array(d.control), f64 = new Float64Array(d.control);
  const h = d.slot * ${SLOT_I32}, a = d.slot * ${SLOT_I32 / 2} + ${ARGS_F64};
  const ops = ${JSON.stringify(WORKER_OPS)}.map((name) => ex[name]);
  ready();
  let seen = 0;
  for (;;) {
    // Spin a while before sleeping: the kernels of one step come in quick succession, and a
    // wake from Atomics.wait costs tens of microseconds, as much as a 64×64×64 product.
    for (let s = 0; s < ${SPIN} && Atomics.load(i32, h + ${GEN}) === seen; s++);
    Atomics.wait(i32, h + ${GEN}, seen);
    const gen = Atomics.load(i32, h + ${GEN});
    if (gen === seen) continue;
    seen = gen;
    // Alive: the caller tells a worker that is slow to wake from one that has ended by this count.
    Atomics.add(i32, h + ${BEAT}, 1);
    // Close the job to run it; if the caller closed it first (it runs it itself), wait for the next.
    if (Atomics.compareExchange(i32, h + ${OPEN}, gen, ${CLOSED}) !== gen) continue;
    if (i32[h + ${OP}] === ${OP_DIE}) { if (f64[a] === 1) globalThis.process?.exit?.(1); throw new Error('natgrad worker: told to die (test hook)'); }
    const op = i32[h + ${OP}];
    if (op === ${OP_STOP}) return;
    let status = 0;
    try {
      const fn = ops[op - 1];
      // A module function ignores arguments past its own: every op takes the slot's 16.
      if (fn) {
        fn(f64[a], f64[a + 1], f64[a + 2], f64[a + 3], f64[a + 4], f64[a + 5], f64[a + 6], f64[a + 7],
          f64[a + 8], f64[a + 9], f64[a + 10], f64[a + 11], f64[a + 12], f64[a + 13], f64[a + 14], f64[a + 15]);
      } else status = 2;
    } catch (e) {
      status = 1;
    }
    i32[h + ${STATUS}] = status;
    Atomics.store(i32, h + ${DONE}, gen);
    Atomics.notify(i32, h + ${DONE});
  }
}
// Runs start; if the worker ends any other way than by OP_STOP, sets its DEAD word and wakes a
// caller waiting on DONE (from Node's exit hook too, which runs when the worker calls exit()).
function guarded(d, ready) {
  const i32 = new Int32Array(d.control), h = d.slot * ${SLOT_I32};
  let stopped = false;
  const dead = () => {
    if (stopped) return;
    Atomics.store(i32, h + ${DEAD}, 1);
    Atomics.notify(i32, h + ${DONE});
  };
  globalThis.process?.on?.('exit', dead);
  try {
    start(d, ready);
    stopped = true;
  } catch (e) {
    dead();
    throw e;
  }
}
const nodeThreads = globalThis.process?.getBuiltinModule?.('node:worker_threads');
if (nodeThreads) {
  guarded(nodeThreads.workerData, () => nodeThreads.parentPort.postMessage('ready'));
} else {
  self.onmessage = (e) => guarded(e.data, () => self.postMessage('ready'));
}
`;

/** Node's process object where there is one (looked up at run time: the browser build imports no Node module). */
interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}
const nodeProcess = (globalThis as { process?: NodeProcess }).process;
const inNode = typeof nodeProcess?.versions?.node === 'string';

/** A Node built-in by name (getBuiltinModule of Node's process object, Node ≥ 20.16), or undefined. */
function builtin<T>(id: string): T | undefined {
  return nodeProcess?.getBuiltinModule?.(id) as T | undefined;
}

/** Why threads cannot run here, or null when they can. */
export function threadsUnavailable(): string | null {
  if (typeof SharedArrayBuffer !== 'function') {
    return 'SharedArrayBuffer is not available (in a browser the page must be cross-origin isolated: COOP/COEP headers)';
  }
  if (inNode) return builtin('node:worker_threads') ? null : 'worker threads need Node ≥ 20.16 (getBuiltinModule)';
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) return 'the page is not cross-origin isolated (COOP/COEP headers)';
  if (typeof Worker !== 'function') return 'Web Workers are not available';
  return null;
}

/** Logical processors of this machine (Node: os.availableParallelism; browsers: navigator.hardwareConcurrency). */
export async function hardwareThreads(): Promise<number> {
  const os = builtin<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
  if (os) return os.availableParallelism?.() ?? os.cpus().length;
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/** What a pool needs of a worker: terminate, and in Node unref. */
interface WorkerHandle {
  terminate(): unknown;
}

/** The part of Node's worker_threads module the pool uses (typed here: the browser build has no Node types). */
interface NodeWorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: unknown }) => WorkerHandle & {
    once(event: 'message' | 'error' | 'exit', listener: (value: unknown) => void): unknown;
    on(event: 'error', listener: (value: unknown) => void): unknown;
    unref(): void;
  };
}

const pools = new Set<ThreadPool>();

/** Ends the workers of every live pool (see {@link ThreadPool.shutdown}). */
export function shutdownAll(): void {
  for (const p of [...pools]) p.shutdown();
}

export class ThreadPool {
  /** Threads taking part in a call, the calling thread included. */
  readonly size: number;
  private readonly workers: WorkerHandle[];
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly scratch: number[];
  private readonly freeScratch: (ptr: number) => void;
  private readonly canBlock: boolean;
  private gen = 0;
  private alive = true;
  private lost: string | null = null;
  /**
   * Per slot: when the oldest taken-back job the worker has not woken for since was opened (0: none),
   * and the BEAT count read just before it was opened; `pre`: BEAT before this call's job was opened.
   */
  private readonly since: Float64Array;
  private readonly beat: Int32Array;
  private readonly pre: Int32Array;

  private constructor(workers: WorkerHandle[], control: SharedArrayBuffer, scratch: number[], freeScratch: (ptr: number) => void) {
    this.workers = workers;
    this.size = workers.length + 1;
    this.i32 = new Int32Array(control);
    this.f64 = new Float64Array(control);
    this.scratch = scratch;
    this.since = new Float64Array(workers.length);
    this.beat = new Int32Array(workers.length);
    this.pre = new Int32Array(workers.length);
    this.freeScratch = freeScratch;
    this.canBlock = mayBlock(this.i32);
    pools.add(this);
  }

  /**
   * Starts `threads − 1` workers on the shared memory, each instantiating `bytes` (the
   * shared-memory build) with a scratch block from `allocScratch`; resolves when all are ready.
   */
  static async create(
    threads: number, bytes: Uint8Array, memory: WebAssembly.Memory,
    allocScratch: () => number, freeScratch: (ptr: number) => void,
  ): Promise<ThreadPool> {
    const count = threads - 1;
    const control = new SharedArrayBuffer(Math.max(1, count) * SLOT_I32 * 4);
    const scratch: number[] = [];
    const workers: WorkerHandle[] = [];
    // Events from a worker that ends between calls (the pool exists once all have started).
    let pool: ThreadPool | undefined;
    const ended = (slot: number, how: string) => pool?.stop(`the worker in slot ${slot} ${how}`);
    let url: string | undefined;
    try {
      for (let slot = 0; slot < count; slot++) scratch.push(allocScratch());
      const data = (slot: number) => ({ bytes, memory, control, slot, scratch: scratch[slot] });
      const ready: Promise<void>[] = [];
      const nodeThreads = builtin<NodeWorkerThreads>('node:worker_threads');
      if (nodeThreads) {
        const NodeWorker = nodeThreads.Worker;
        const errors: string[] = [];
        for (let slot = 0; slot < count; slot++) {
          const w = new NodeWorker(WORKER_SOURCE, { eval: true, workerData: data(slot) });
          workers.push(w);
          ready.push(new Promise((resolve, reject) => {
            w.once('message', () => {
              // Once started, an idle worker must never keep the process alive (before, init() awaits it).
              w.unref();
              resolve();
            });
            w.once('error', reject);
            w.once('exit', (code) => {
              // Like a start-up error: init() then falls back to one thread and says why.
              reject(new Error(`the worker in slot ${slot} exited (code ${String(code)}) before it started`));
              ended(slot, `exited (code ${String(code)}${errors[slot] ? `: ${errors[slot]}` : ''})`);
            });
          }));
          // A worker error after start-up must not become an uncaught 'error' event in the caller.
          w.on('error', (e) => { errors[slot] = e instanceof Error ? e.message : String(e); });
        }
      } else {
        url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
        for (let slot = 0; slot < count; slot++) {
          const w = new Worker(url);
          workers.push(w);
          ready.push(new Promise((resolve, reject) => {
            w.onmessage = () => resolve();
            w.onerror = (e) => {
              reject(new Error(e.message));
              ended(slot, `failed: ${e.message}`);
            };
          }));
          w.postMessage(data(slot));
        }
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) void w.terminate();
      for (const p of scratch) freeScratch(p);
      throw e;
    } finally {
      // Every worker has fetched the source by now (or failed to, and is ended).
      if (url !== undefined) URL.revokeObjectURL(url);
    }
    return (pool = new ThreadPool(workers, control, scratch, freeScratch));
  }

  /** False after {@link shutdown}, or once a worker has ended (see {@link failure}). */
  get running(): boolean {
    return this.alive;
  }

  /** Why the pool stopped on its own (a worker ended), or null. */
  get failure(): string | null {
    return this.lost;
  }

  /**
   * Runs op on panels[1..] in the workers (panel t on worker t − 1) and panels[0] on the
   * calling thread through `self`, then takes back every panel a worker has not taken yet (it
   * runs them through `self` too) and waits for the rest. panels.length ≤ size. Throws
   * BackendError if a worker failed (after all have finished, so no panel is still running);
   * a worker that ended inside its panel makes the call throw and the pool stop.
   */
  run(op: number, panels: number[][], self: (args: number[]) => void): void {
    const g = this.nextGen(), i32 = this.i32, opened = performance.now();
    for (let t = 1; t < panels.length; t++) {
      const h = (t - 1) * SLOT_I32, a = (t - 1) * (SLOT_I32 / 2) + ARGS_F64;
      this.pre[t - 1] = Atomics.load(i32, h + BEAT);
      const args = panels[t];
      for (let i = 0; i < args.length && i < MAX_ARGS; i++) this.f64[a + i] = args[i];
      i32[h + OP] = op;
      Atomics.store(i32, h + OPEN, g);
      Atomics.store(i32, h + GEN, g);
      Atomics.notify(i32, h + GEN);
    }
    let failure: unknown;
    try {
      self(panels[0]);
    } catch (e) {
      failure = e;
    }
    const name = WORKER_OPS[op - 1] ?? `op ${op}`;
    let failed = -1, died = -1, absent = -1;
    for (let t = 1; t < panels.length; t++) {
      const slot = t - 1, h = slot * SLOT_I32;
      if (Atomics.compareExchange(i32, h + OPEN, g, CLOSED) === g) {
        // Not taken yet (the worker is not running: descheduled, asleep, or ended): run it here
        // rather than wait; which thread runs a panel never changes a result.
        try {
          self(panels[t]);
        } catch (e) {
          if (failure === undefined) failure = e;
        }
        if (this.absentFor(slot, opened)) absent = slot;
        continue;
      }
      this.since[slot] = 0;
      const outcome = this.settle(slot, g);
      if (outcome === 'failed') failed = slot;
      else if (outcome === 'died') died = slot;
    }
    if (died >= 0) this.stop(`the worker in slot ${died} ended while running ${name}`);
    else if (absent >= 0) this.stop(`the worker in slot ${absent} has ended (it has taken no panel for ${CLAIM_GRACE_MS} ms, or reported its end)`);
    if (failure !== undefined) throw failure;
    if (died >= 0) {
      throw new BackendError(`natgrad: the worker thread in slot ${died} ended while running ${name}, leaving its rows of the result incomplete; `
        + 'the thread pool has stopped and falls back to one thread (shutdown() and init() start new workers)');
    }
    if (failed >= 0) {
      const what = i32[failed * SLOT_I32 + STATUS] === 2 ? `does not know ${name}` : `trapped in ${name}`;
      throw new BackendError(`natgrad: the worker thread in slot ${failed} ${what}; the thread pool keeps running`);
    }
  }

  /**
   * After a panel of `slot` was taken back: whether its worker has ended — it set DEAD, or it has
   * not woken once (its BEAT count unchanged) through CLAIM_GRACE_MS of taken-back panels.
   */
  private absentFor(slot: number, opened: number): boolean {
    const h = slot * SLOT_I32, beat = Atomics.load(this.i32, h + BEAT);
    if (Atomics.load(this.i32, h + DEAD) !== 0) return true;
    // A beat since the pending job was opened: the worker is alive; this job is the one pending now.
    if (this.since[slot] === 0 || beat !== this.beat[slot]) {
      this.since[slot] = opened;
      this.beat[slot] = this.pre[slot];
      return false;
    }
    return performance.now() - this.since[slot] > CLAIM_GRACE_MS;
  }

  /**
   * Waits for the worker in `slot` to finish job g, which it has taken: 'done', or 'failed' (its
   * status is not 0); 'died' when it set DEAD without finishing. Spins CALLER_SPIN loads first;
   * then looks at DEAD after each sleep (or, where it may not block, every CALLER_SPIN loads).
   */
  private settle(slot: number, g: number): 'done' | 'failed' | 'died' {
    const i32 = this.i32, h = slot * SLOT_I32;
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(i32, h + DONE);
      if (done === g) return i32[h + STATUS] === 0 ? 'done' : 'failed';
      if (spin < CALLER_SPIN || (!this.canBlock && spin % CALLER_SPIN !== 0)) continue;
      // DEAD is set after DONE when a worker ends after its panel: look at DONE again.
      if (Atomics.load(i32, h + DEAD) !== 0) return Atomics.load(i32, h + DONE) === g ? (i32[h + STATUS] === 0 ? 'done' : 'failed') : 'died';
      if (this.canBlock) Atomics.wait(i32, h + DONE, done, POLL_MS);
    }
  }

  /**
   * The next generation, wrapped to int32 as the control slots store it: compared with a value read
   * back from them, an unwrapped 2³¹ would never match, and the caller would wait forever. Never
   * CLOSED, which marks a slot with no job open.
   */
  private nextGen(): number {
    this.gen = (this.gen + 1) | 0;
    if (this.gen === CLOSED) this.gen = (this.gen + 1) | 0;
    return this.gen;
  }

  /** Stops the pool because a worker ended (`why`, kept as {@link failure}); idempotent. */
  private stop(why: string): void {
    if (!this.alive) return;
    this.lost = why;
    this.shutdown();
  }

  /** Stops and ends the workers and frees their scratch; the pool cannot run afterwards. Idempotent. */
  shutdown(): void {
    if (!this.alive) return;
    this.alive = false;
    pools.delete(this);
    const g = this.nextGen();
    for (let t = 0; t < this.workers.length; t++) {
      const h = t * SLOT_I32;
      this.i32[h + OP] = OP_STOP;
      Atomics.store(this.i32, h + OPEN, g);
      Atomics.store(this.i32, h + GEN, g);
      Atomics.notify(this.i32, h + GEN);
      void this.workers[t].terminate();
    }
    for (const p of this.scratch) this.freeScratch(p);
  }
}

/** True when this thread may block in Atomics.wait (not a browser's main thread). */
function mayBlock(i32: Int32Array): boolean {
  try {
    // A mismatched value returns at once where waiting is allowed, and throws where it is not.
    Atomics.wait(i32, 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
