/**
 * Review experiment: a live worker given up for ended after an idle gap between calls.
 */
import { loadKernels, shutdown } from '../../src/index';
import { CLAIM_GRACE_MS, opCode } from '../../src/kernels/wasm/threads';
import type { Kernels } from '../../src/kernels/types';

interface PoolInternals {
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
  await sleep(20); // the worker is past its spin, asleep in Atomics.wait
  // Call 1: the caller's panel 0 is instant, so it takes back the worker's panel; while it runs
  // that panel (as a real, longer panel would) the worker wakes and beats.
  let call = 0, tookBack = 0;
  const b0 = Atomics.load(pool.i32, BEAT);
  pool.run(opCode('hadamard'), [[0, 0, 0, 0], [0, 8, 8, 8]], (a) => {
    if (a[1] !== 8) return;
    tookBack++;
    const t0 = Date.now();
    while (Atomics.load(pool.i32, BEAT) === b0 && Date.now() - t0 < 1000);
  });
  call++;
  console.log('call 1: took back', tookBack, 'beat', b0, '->', Atomics.load(pool.i32, BEAT));
  expect(pool.running).toBe(true);
  // An idle gap longer than the grace (a user pausing training; the worker sleeps, as it should).
  await sleep(CLAIM_GRACE_MS + 200);
  // Call 2: instant panels; the sleeping worker takes tens of µs to wake.
  const b1 = Atomics.load(pool.i32, BEAT);
  let took2 = 0;
  pool.run(opCode('hadamard'), [[0, 0, 0, 0], [0, 8, 8, 8]], (a) => { if (a[1] === 8) took2++; });
  console.log('call 2: took back', took2, 'beat', b1, '->', Atomics.load(pool.i32, BEAT), 'running', pool.running, pool.failure);
  expect(pool.failure).toBeNull();
  expect(pool.running).toBe(true);
}, 30000);
