import { init, OutOfMemoryError, ArgumentError, NatgradError } from '../../src/index';
import { loadKernels, kernels, Mat } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { matmul } from '../helpers/naive';
import { randn } from '../helpers/random';
import { allClose } from '../helpers/allclose';
import type { Kernels, Ptr } from '../../src/kernels/types';

const MAX = 8 << 20;

/** Allocates blocks of `count` values until the backend refuses; returns them and the error. */
function exhaust(k: Kernels, count: number): { blocks: Ptr[]; error: unknown } {
  const blocks: Ptr[] = [];
  for (;;) {
    try {
      blocks.push(k.alloc(count));
    } catch (error) {
      return { blocks, error };
    }
  }
}

describe.each(BACKENDS)('out of memory on %s', (name) => {
  test('allocation past maxMemoryBytes raises OUT_OF_MEMORY naming the bytes; after a free it works again', async () => {
    const k = await loadKernels(name, { maxMemoryBytes: MAX });
    expect(k.maxMemoryBytes).toBe(MAX);
    const { blocks, error } = exhaust(k, 65536); // 512 KiB each
    expect(error).toBeInstanceOf(OutOfMemoryError);
    expect((error as NatgradError).code).toBe('OUT_OF_MEMORY');
    expect((error as OutOfMemoryError).bytes).toBe(65536 * 8);
    expect((error as Error).message).toContain('524288 bytes');
    expect(blocks.length).toBeGreaterThan(8);
    expect(k.memoryBytes()).toBeLessThanOrEqual(MAX);
    // Every earlier block is intact and usable.
    const h = k.f64();
    blocks.forEach((p, i) => h.fill(i, p / 8, p / 8 + 65536));
    blocks.forEach((p, i) => expect(k.f64()[p / 8 + 65535]).toBe(i));
    k.free(blocks.pop()!);
    const again = k.alloc(65536);
    expect(again).toBeGreaterThan(0);
    blocks.push(again);
    for (const p of blocks) k.free(p);
    // With everything freed, one block of most of the memory fits.
    const big = k.alloc((MAX / 8) * 0.75);
    k.free(big);
  });

  test('a request beyond any backend (2^40 values) is OUT_OF_MEMORY, not a RangeError', async () => {
    const k = await loadKernels(name);
    for (const count of [2 ** 40, 2 ** 29, 2 ** 33 / 8 + 2]) {
      let err: unknown;
      try {
        k.alloc(count);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OutOfMemoryError);
      expect((err as OutOfMemoryError).bytes).toBe(count * 8);
    }
  });

  test('a count that is not a non-negative integer is an ArgumentError', async () => {
    const k = await loadKernels(name);
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) expect(() => k.alloc(bad)).toThrow(ArgumentError);
  });

  test('a Mat too large for the memory is OUT_OF_MEMORY through the public API', async () => {
    await init({ backend: name, maxMemoryBytes: MAX });
    expect(() => new Mat(kernels(), 2048, 2048)).toThrow(OutOfMemoryError);
    const small = new Mat(kernels(), 64, 64);
    small.dispose();
    await init({ backend: name });
  });

  test('a kernel whose scratch cannot be had raises OUT_OF_MEMORY and computes correctly after a free', async () => {
    const k = await loadKernels(name, { maxMemoryBytes: MAX });
    // Inputs for a gemm whose packing needs scratch (WASM), then fill the rest of memory.
    const m = 64, n = 600, kk = 300;
    const a = randn(1, m * kk), b = randn(2, kk * n);
    const pa = k.alloc(m * kk), pb = k.alloc(kk * n), pc = k.alloc(m * n);
    k.f64().set(a, pa / 8);
    k.f64().set(b, pb / 8);
    const { blocks } = exhaust(k, 4096);
    const run = () => k.gemm(0, 0, m, n, kk, 1, pa, kk, pb, n, 0, pc, n);
    if (name === 'wasm') {
      expect(run).toThrow(OutOfMemoryError);
      expect(run).toThrow(/gemm/);
    }
    // The JS reference needs no scratch, so it computes even with memory full.
    for (const p of blocks.splice(0, 200)) k.free(p);
    run();
    allClose(k.f64().subarray(pc / 8, pc / 8 + m * n), matmul(a, b, m, kk, n), { rtol: 1e-12, atol: 1e-12, cols: n });
    for (const p of [...blocks, pa, pb, pc]) k.free(p);
  });
});
