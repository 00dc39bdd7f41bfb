/**
 * The thread pool's bookkeeping across calls: a live worker that sleeps through an idle gap is
 * not taken for ended when the caller takes back its next panel, and the call counter wraps
 * through int32 (skipping 0, which marks a closed job) with every job run exactly once.
 */
import { shutdown } from '../../src/index';
import { loadKernels } from '../../src/advanced';
import { CLAIM_GRACE_MS, opCode } from '../../src/kernels/wasm/threads';
import type { Kernels } from '../../src/kernels/types';

interface PoolInternals {
  gen: number;
  i32: Int32Array;
  running: boolean;
  failure: string | null;
  run(op: number, panels: number[][], self: (args: number[]) => void): void;
}
const poolOf = (k: Kernels) => (k as unknown as { pool: PoolInternals }).pool;
const BEAT = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => shutdown());

test('a live worker, idle between two calls, is not taken for ended', async () => {
  const k = await loadKernels('wasm', { simd: 'baseline', threads: 2, maxMemoryBytes: 256 << 20 });
  const pool = poolOf(k);
  // Call 1: the caller's panel 0 is instant, so it usually takes back the worker's panel; while it
  // runs that panel (as a real, longer panel would) the worker wakes and beats. The worker may win
  // the race on a busy machine: then the call is repeated until the caller takes the panel back.
  let tookBack = 0;
  for (let attempt = 0; attempt < 50 && tookBack === 0; attempt++) {
    await sleep(20); // the worker is past its spin, asleep in Atomics.wait
    const b0 = Atomics.load(pool.i32, BEAT);
    pool.run(opCode('hadamard'), [[0, 0, 0, 0], [0, 8, 8, 8]], (a) => {
      if (a[1] !== 8) return;
      tookBack++;
      const t0 = Date.now();
      while (Atomics.load(pool.i32, BEAT) === b0 && Date.now() - t0 < 1000);
    });
  }
  expect(tookBack).toBe(1);
  expect(pool.running).toBe(true);
  // An idle gap longer than the grace (a user pausing training; the worker sleeps, as it should).
  await sleep(CLAIM_GRACE_MS + 200);
  // Call 2: instant panels; the sleeping worker takes tens of µs to wake.
  pool.run(opCode('hadamard'), [[0, 0, 0, 0], [0, 8, 8, 8]], () => undefined);
  expect(pool.failure).toBeNull();
  expect(pool.running).toBe(true);
}, 30000);

test('gen wraps through 0 (skipped): every job still runs exactly once', async () => {
  const k = await loadKernels('wasm', { simd: 'baseline', threads: 2, maxMemoryBytes: 256 << 20 });
  const pool = (k as unknown as { pool: { gen: number; i32: Int32Array; running: boolean; run(op: number, p: number[][], s: (a: number[]) => void): void } }).pool;
  pool.gen = -4;
  const n = 64, a = k.alloc(n), b = k.alloc(n), out = k.alloc(n);
  const gens: number[] = [];
  for (let i = 0; i < 8; i++) {
    k.f64().fill(i + 1, a / 8, a / 8 + n); k.f64().fill(2, b / 8, b / 8 + n); k.f64().fill(-1, out / 8, out / 8 + n);
    // two panels of 32: the second goes to the worker (or is taken back)
    pool.run(opCode('hadamard'), [[32, a, b, out], [32, a + 256, b + 256, out + 256]], (x) => (k as unknown as { ex: { hadamard(...z: number[]): void } }).ex.hadamard(...x));
    gens.push(pool.gen);
    const h = k.f64().slice(out / 8, out / 8 + n);
    expect(Array.from(h).every((v) => v === 2 * (i + 1))).toBe(true);
  }
  expect(gens).not.toContain(0);
  expect(pool.running).toBe(true);
});
