import { init } from '../src/index';
import { linalg, kernels, Mat, Workspace } from '../src/advanced';
import { BACKENDS, kernelsFor } from './helpers/backends';
import { randn, randomSPD } from './helpers/random';

const gc = (globalThis as { gc?: () => void }).gc;

describe.each(BACKENDS)('memory on %s', (name) => {
  test('dispose then allocate reuses the same space', async () => {
    const k = await kernelsFor(name);
    const a = new Mat(k, 100, 37);
    const ptr = a.ptr;
    a.dispose();
    const b = new Mat(k, 100, 37);
    expect(b.ptr).toBe(ptr);
    // Freed neighbours merge, so a larger block fits where two small ones were.
    const c = new Mat(k, 100, 37);
    b.dispose();
    c.dispose();
    const d = new Mat(k, 200, 37);
    expect(d.ptr).toBe(ptr);
    d.dispose();
  });

  test('a disposed Mat refuses use', async () => {
    const k = await kernelsFor(name);
    const a = Mat.from(k, [1, 2, 3, 4], 2, 2);
    expect(Array.from(a.read())).toEqual([1, 2, 3, 4]);
    a.dispose();
    expect(a.disposed).toBe(true);
    expect(() => a.ptr).toThrow(/after dispose/);
    a.dispose(); // idempotent
  });

  test('views are re-made after memory grows', async () => {
    const k = await kernelsFor(name);
    const a = Mat.from(k, [1, 2, 3], 1, 3);
    const before = k.memoryBytes();
    const big = k.alloc((before / 8) * 2); // forces growth
    expect(k.memoryBytes()).toBeGreaterThan(before);
    expect(Array.from(a.read())).toEqual([1, 2, 3]);
    k.free(big);
    a.dispose();
  });

  test('a Workspace reuses its blocks and frees them on dispose', async () => {
    const k = await kernelsFor(name);
    const ws = new Workspace(k);
    const p1 = ws.get('x', 64);
    expect(ws.get('x', 64)).toBe(p1);
    expect(ws.get('x', 10)).toBe(p1);
    ws.dispose();
    const m = new Mat(k, 8, 8);
    expect(m.ptr).toBe(p1);
    m.dispose();
  });

  test('10,000 linalg calls grow neither backend memory nor the JS heap', async () => {
    await init({ backend: name });
    const n = 12;
    const a = randn(1, n * n), b = randn(2, n * n), spd = randomSPD(3, n), rhs = randn(4, n);
    const work = () => {
      linalg.gemm(a, b, n, n, n);
      linalg.gram(a, n, n);
      linalg.solveSPD(spd, rhs, n, 1, { damping: 1e-3 });
      linalg.cholesky(spd, n);
      linalg.inverseSPD(spd, n);
    };
    for (let i = 0; i < 50; i++) work();
    const k = kernels();
    const mem0 = k.memoryBytes();
    gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2000; i++) work(); // 5 calls each: 10,000 calls
    gc?.();
    const heap1 = process.memoryUsage().heapUsed;
    expect(k.memoryBytes()).toBe(mem0);
    if (gc) expect(heap1 - heap0).toBeLessThan(2 * 1024 * 1024);
  });
});

test('the heap check is real: gc is exposed by `npm test`', () => {
  // npm test runs jest under `node --expose-gc`; without it the heap assertion above would be skipped silently.
  if (process.env.npm_lifecycle_event === 'test') expect(typeof gc).toBe('function');
});
