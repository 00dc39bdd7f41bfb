/**
 * A worker thread that ends, or fails inside a panel, never leaves a kernel call waiting for ever:
 * the call falls back to the calling thread or throws BackendError, the pool stops (one thread from
 * then on, backendInfo says why) and later calls compute the same bits as one thread.
 *
 * A hang here would block the test's own thread inside Atomics.wait, where no jest timeout can
 * fire; so every call that could hang runs under a watchdog thread that, after WATCHDOG_MS, keeps
 * completing the pool's pending jobs itself. A pool that hangs then returns, and the test fails on
 * what it sees (the watchdog fired, wrong results, no error) instead of hanging.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { init, shutdown, backendInfo, BackendError } from '../../src/index';
import { kernels, loadKernels } from '../../src/advanced';
import { CLAIM_GRACE_MS, OP_DIE, opCode } from '../../src/kernels/wasm/threads';
import { randn } from '../helpers/random';
import type { Kernels } from '../../src/kernels/types';

const WATCHDOG_MS = 15000;

/** The pool's private parts these tests reach into (TypeScript-private only). */
interface PoolInternals {
  workers: Worker[];
  i32: Int32Array;
  running: boolean;
  failure: string | null;
  run(op: number, panels: number[][], self: (args: number[]) => void): void;
}

const poolOf = (k: Kernels) => (k as unknown as { pool: PoolInternals }).pool;

/**
 * A `self` for pool.run that waits (up to 5 s) until the worker in slot 0 has taken its job
 * (closed its OPEN word, int32 4 of the slot): otherwise the caller takes an untaken job back.
 */
const whenWorkerTook = (pool: PoolInternals) => () => {
  const t0 = Date.now();
  while (Atomics.load(pool.i32, 4) !== 0 && Date.now() - t0 < 5000);
};

/**
 * The watchdog: from `ms` on, every 50 ms, sets each slot's DONE word to its GEN word and wakes the
 * caller (threads.ts's control layout: 64 int32 words per slot, GEN at 0, DONE at 1).
 */
const RESCUE = `
const { workerData: { control, slots, ms, flag } } = require('node:worker_threads');
const i32 = new Int32Array(control), f = new Int32Array(flag);
let r = Atomics.wait(f, 0, 0, ms);
while (r === 'timed-out') {
  Atomics.store(f, 1, 1);
  for (let s = 0; s < slots; s++) {
    Atomics.store(i32, s * 64 + 1, Atomics.load(i32, s * 64));
    Atomics.notify(i32, s * 64 + 1);
  }
  r = Atomics.wait(f, 0, 0, 50);
}`;

/** Runs `fn` (which may block) under the watchdog; says whether the watchdog had to step in. */
async function guarded<T>(pool: PoolInternals, fn: () => T): Promise<{ value?: T; error?: unknown; rescued: boolean; ms: number }> {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const dog = new Worker(RESCUE, { eval: true, workerData: { control: pool.i32.buffer, slots: pool.workers.length, ms: WATCHDOG_MS, flag: flag.buffer } });
  await once(dog, 'online');
  const started = Date.now();
  let value: T | undefined, error: unknown;
  try {
    value = fn();
  } catch (e) {
    error = e;
  }
  const ms = Date.now() - started;
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  await dog.terminate();
  return { value, error, rescued: Atomics.load(flag, 1) === 1, ms };
}

/** GEMMs and a SYRK above the thread threshold; returns every output. */
function products(k: Kernels): Float64Array[] {
  const out: Float64Array[] = [];
  for (const [ta, tb, m, n, kk] of [[0, 0, 203, 150, 131], [1, 1, 64, 64, 600]]) {
    const pa = k.alloc(m * kk), pb = k.alloc(kk * n), pc = k.alloc(m * n);
    k.f64().set(randn(m + n, m * kk), pa / 8);
    k.f64().set(randn(kk + 1, kk * n), pb / 8);
    k.f64().set(randn(3, m * n), pc / 8);
    k.gemm(ta, tb, m, n, kk, 0.75, pa, ta ? m : kk, pb, tb ? kk : n, 0.5, pc, n);
    out.push(k.f64().slice(pc / 8, pc / 8 + m * n));
    for (const p of [pa, pb, pc]) k.free(p);
  }
  const [n, kk] = [203, 157];
  const pa = k.alloc(n * kk), pc = k.alloc(n * n);
  k.f64().set(randn(11, n * kk), pa / 8);
  k.f64().set(randn(9, n * n), pc / 8);
  k.syrk(0, n, kk, 1.25, pa, kk, 0.5, pc, n);
  out.push(k.f64().slice(pc / 8, pc / 8 + n * n));
  for (const p of [pa, pc]) k.free(p);
  return out;
}

function expectSameBits(got: Float64Array[] | undefined, want: Float64Array[]): void {
  expect(got).toBeDefined();
  expect(got!.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Buffer.from(got![i].buffer).equals(Buffer.from(want[i].buffer))).toBe(true);
}

/** A fresh two-thread backend (maxMemoryBytes makes it new, never one cached for other tests). */
const twoThreads = () => loadKernels('wasm', { simd: 'baseline', threads: 2, maxMemoryBytes: 256 << 20 });

describe('a worker thread that ends or fails', () => {
  let one: Float64Array[];
  beforeAll(async () => {
    one = products(await loadKernels('wasm', { simd: 'baseline', threads: 1 }));
  });
  afterAll(() => shutdown());

  test('terminated while idle: the pool stops, backendInfo says why, and calls compute the same bits on one thread', async () => {
    await init({ simd: 'baseline', threads: 2, maxMemoryBytes: 256 << 20 });
    const k = kernels(), pool = poolOf(k);
    expect(k.threads).toBe(2);
    await pool.workers[0].terminate();
    const r = await guarded(pool, () => products(k));
    expect(r.rescued).toBe(false);
    expect(r.error).toBeUndefined();
    expectSameBits(r.value, one);
    expect(pool.running).toBe(false);
    expect(k.threads).toBe(1);
    expect(backendInfo()).toMatchObject({ threads: 1, threadsUnavailable: expect.stringMatching(/worker in slot 0 exited/) });
  }, 60000);

  test('ended with nothing to report it (as in a browser, or while the caller is blocked): its panels are taken back and run by the caller, then the pool stops', async () => {
    const k = await twoThreads(), pool = poolOf(k);
    // Node would tell the pool between calls through the Worker's 'exit' event; a browser has none.
    pool.workers[0].removeAllListeners('exit');
    await pool.workers[0].terminate();
    expect(pool.running).toBe(true);
    // Every panel the worker would have run is taken back at once: right bits, no wait.
    const r = await guarded(pool, () => products(k));
    expect(r.rescued).toBe(false);
    expect(r.error).toBeUndefined();
    expect(r.ms).toBeLessThan(CLAIM_GRACE_MS);
    expectSameBits(r.value, one);
    expect(pool.running).toBe(true);
    // A worker that has not woken once through CLAIM_GRACE_MS of taken-back panels is taken for ended.
    await new Promise((resolve) => setTimeout(resolve, CLAIM_GRACE_MS + 100));
    const later = await guarded(pool, () => products(k));
    expect(later.rescued).toBe(false);
    expectSameBits(later.value, one);
    expect(pool.running).toBe(false);
    expect(k.threads).toBe(1);
    expect(pool.failure).toMatch(/worker in slot 0 has ended \(it has taken no panel for \d+ ms/);
  }, 60000);

  test('a slow worker costs no wait: a panel it has not taken when the caller is done is run by the caller, exactly once, and the pool keeps running', async () => {
    const k = await twoThreads(), pool = poolOf(k) as PoolInternals & { gen: number };
    let takenBack = 0;
    // The caller's own panel is instant, so it often takes the worker's back before the worker wakes;
    // either way panel 1 runs exactly once per call: here (marked 1) or in the worker (DONE = the call's generation).
    for (let i = 0; i < 200; i++) {
      let here = 0;
      pool.run(opCode('hadamard'), [[0, 0, 0, 0], [0, 0, 0, 1]], (a) => { if (a[3] === 1) here++; });
      const byWorker = Atomics.load(pool.i32, 1) === pool.gen;
      expect(here + (byWorker ? 1 : 0)).toBe(1);
      takenBack += here;
    }
    expect(takenBack).toBeGreaterThan(0);
    expect(pool.running).toBe(true);
    expectSameBits(products(k), one);
  }, 60000);

  test.each([['throws outside its panel', 0], ['calls process.exit()', 1]])('a worker that %s during a call: BackendError, the pool stops, later calls right on one thread', async (_how, mode) => {
    const k = await twoThreads(), pool = poolOf(k);
    const r = await guarded(pool, () => pool.run(OP_DIE, [[], [mode]], whenWorkerTook(pool)));
    expect(r.rescued).toBe(false);
    expect(r.error).toBeInstanceOf(BackendError);
    expect((r.error as BackendError).code).toBe('E_BACKEND');
    expect((r.error as Error).message).toMatch(/worker thread in slot 0 ended while running op -2.*falls back to one thread/);
    expect(pool.running).toBe(false);
    expect(k.threads).toBe(1);
    expect(pool.failure).toMatch(/slot 0 ended while running op -2/);
    const again = await guarded(pool, () => products(k));
    expect(again.rescued).toBe(false);
    expectSameBits(again.value, one);
  }, 60000);

  test('a trap inside a worker\'s panel, or an op it does not know, is a BackendError naming it; the pool keeps running', async () => {
    const k = await twoThreads(), pool = poolOf(k);
    const n = 8, pa = k.alloc(n * n), pb = k.alloc(n * n), pc = k.alloc(n * n);
    // Rows 4..8 of C at an address far past the memory's end: the worker's gemmPanel traps.
    const panel = (i0: number, i1: number, c: number) => [i0, i1, n, n, 1, pa, n, 1, pb, n, 1, 0, c, n, 0];
    let ranHere = 0;
    const wait = whenWorkerTook(pool);
    const r = await guarded(pool, () => pool.run(opCode('gemmPanel'), [panel(0, 4, pc), panel(4, 8, 0x7ff00000)], () => { ranHere++; wait(); }));
    expect(r.rescued).toBe(false);
    expect(ranHere).toBe(1);
    expect(r.error).toBeInstanceOf(BackendError);
    expect((r.error as Error).message).toMatch(/worker thread in slot 0 trapped in gemmPanel; the thread pool keeps running/);
    const unknown = await guarded(pool, () => pool.run(99, [[], []], whenWorkerTook(pool)));
    expect(unknown.error).toBeInstanceOf(BackendError);
    expect((unknown.error as Error).message).toMatch(/slot 0 does not know op 99/);
    for (const p of [pa, pb, pc]) k.free(p);
    expect(pool.running).toBe(true);
    expect(k.threads).toBe(2);
    expect(pool.failure).toBeNull();
    const again = await guarded(pool, () => products(k));
    expect(again.rescued).toBe(false);
    expectSameBits(again.value, one);
  }, 60000);
});
