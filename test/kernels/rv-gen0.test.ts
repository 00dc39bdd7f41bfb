import { loadKernels, shutdown } from '../../src/index';
import { opCode } from '../../src/kernels/wasm/threads';
afterAll(() => shutdown());
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
  console.log('gens', gens.join(','));
  expect(gens).not.toContain(0);
  expect(pool.running).toBe(true);
});
