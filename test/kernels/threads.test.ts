import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { init, shutdown, ArgumentError } from '../../src/index';
import { kernels, loadKernels, linalg } from '../../src/advanced';
import { splitRows, THREAD_MIN_FLOPS, THREAD_MIN_MASK_WORDS, THREAD_MIN_VALUES, wasmBytes } from '../../src/kernels/wasm/index';
import { byColumns } from '../../src/kernels/wasm/dispatch';
import { matmul } from '../helpers/naive';
import { randn } from '../helpers/random';
import { allClose } from '../helpers/allclose';
import type { Kernels } from '../../src/kernels/types';

const root = join(__dirname, '..', '..');

/** Runs gemm and syrk on awkward sizes above the thread threshold; returns every output. */
function products(k: Kernels): Float64Array[] {
  const out: Float64Array[] = [];
  // [1, 0, 97, 260, 77] and [0, 1, 37, 2101, 65] (the forward product X·Wᵀ in miniature, more
  // than one NC block of columns) split by columns of C, the others by rows.
  const cases: [number, number, number, number, number][] = [[0, 0, 203, 150, 131], [1, 0, 97, 260, 77], [0, 1, 130, 65, 300], [1, 1, 64, 64, 600], [0, 1, 37, 2101, 65]];
  for (const [ta, tb, m, n, kk] of cases) {
    const a = randn(m + n, m * kk), b = randn(kk + 1, kk * n), c0 = randn(3, m * n);
    const pa = k.alloc(m * kk), pb = k.alloc(kk * n), pc = k.alloc(m * n);
    k.f64().set(a, pa / 8);
    k.f64().set(b, pb / 8);
    k.f64().set(c0, pc / 8);
    k.gemm(ta, tb, m, n, kk, 0.75, pa, ta ? m : kk, pb, tb ? kk : n, 0.5, pc, n);
    out.push(k.f64().slice(pc / 8, pc / 8 + m * n));
    for (const p of [pa, pb, pc]) k.free(p);
  }
  for (const [trans, n, kk] of [[0, 203, 157], [1, 130, 260], [0, 64, 1200]]) {
    const a = randn(n * 7 + kk, n * kk), c0 = randn(9, n * n);
    const pa = k.alloc(n * kk), pc = k.alloc(n * n);
    k.f64().set(a, pa / 8);
    k.f64().set(c0, pc / 8);
    k.syrk(trans, n, kk, 1.25, pa, trans ? n : kk, 0.5, pc, n);
    out.push(k.f64().slice(pc / 8, pc / 8 + n * n));
    for (const p of [pa, pc]) k.free(p);
  }
  return out;
}

/**
 * Runs the other threaded kernels on awkward sizes above their thresholds (THREAD_MIN_VALUES,
 * THREAD_MIN_MASK_WORDS, and a Cholesky whose trailing updates pass THREAD_MIN_FLOPS); returns every output.
 */
function otherKernels(k: Kernels): Float64Array[] {
  const out: Float64Array[] = [];
  const read = (p: number, len: number) => k.f64().slice(p / 8, p / 8 + len);
  const put = (v: Float64Array) => { const p = k.alloc(v.length); k.f64().set(v, p / 8); return p; };
  // relu into a wider destination (ldd > m), with zeros and negatives among the inputs.
  const [n, m] = [203, 517];
  const z = randn(11, n * m).map((x, i) => (i % 97 === 0 ? 0 : x));
  const pz = put(z), pd = put(new Float64Array(n * (m + 3)).fill(7));
  expect(n * m).toBeGreaterThan(THREAD_MIN_VALUES);
  k.relu(n, m, pz, m, 0.5, pd, m + 3);
  out.push(read(pd, n * (m + 3)));
  // reluMask with q = 3 stacked rows per example.
  const [n2, q, m2] = [101, 3, 211];
  const z2 = randn(12, n2 * m2), pz2 = put(z2), pb = put(randn(13, n2 * q * m2));
  expect(n2 * q * m2).toBeGreaterThan(THREAD_MIN_VALUES);
  k.reluMask(n2, q, m2, pz2, pb);
  out.push(read(pb, n2 * q * m2));
  // reluOuter with q = 3 stacked rows per example (the fused head backward).
  const pu = put(randn(18, n2 * q)), pw = put(randn(19, m2)), po = put(new Float64Array(n2 * q * m2).fill(5));
  k.reluOuter(n2, q, m2, 0.75, pu, pw, pz2, po);
  out.push(read(po, n2 * q * m2));
  // packMask and the mask Gram over ⌈517/64⌉ = 9 words per row.
  const words = Math.ceil(m / 64), pm = k.alloc(n * words), pg = put(new Float64Array(n * (n + 1)).fill(3));
  k.packMask(n, m, pz, m, pm);
  out.push(read(pm, n * words));
  expect((n * n * words) / 2).toBeGreaterThan(THREAD_MIN_MASK_WORDS);
  k.maskGram(n, words, pm, 0.25, pg, n + 1);
  out.push(read(pg, n * (n + 1)));
  // The mask Gram's lower triangle only (the upper keeps its 3s), and relu + packMask fused into one pass.
  const pgl = put(new Float64Array(n * (n + 1)).fill(3));
  k.maskGramLower(n, words, pm, 0.25, pgl, n + 1);
  out.push(read(pgl, n * (n + 1)));
  const pd2 = put(new Float64Array(n * (m + 3)).fill(7)), pm2 = put(new Float64Array(n * words).fill(9));
  k.reluPack(n, m, pz, m, 0.5, pd2, m + 3, pm2);
  out.push(read(pd2, n * (m + 3)), read(pm2, n * words));
  // The mirror of a lower triangle of odd order in a wider matrix (ldc > n), above its threshold.
  const nm = 301, pmi = put(randn(20, nm * (nm + 5)));
  expect((nm * nm) / 2).toBeGreaterThan(THREAD_MIN_VALUES);
  k.mirrorLower(nm, pmi, nm + 5);
  out.push(read(pmi, nm * (nm + 5)));
  // hadamard in place on an odd length.
  const len = 100003, pa = put(randn(14, len)), ph = put(randn(15, len));
  k.hadamard(len, pa, ph, ph);
  out.push(read(ph, len));
  // Cholesky of an SPD matrix of awkward order, and a solve with many right-hand sides, with the
  // threshold for updates offered from inside a kernel at 0: every trailing update and leaf splits.
  const c = 301, g = randn(16, c * c), pg2 = k.alloc(c * c), pl = k.alloc(c * c);
  const pgi = put(g);
  k.syrk(0, c, c, 1 / c, pgi, c, 0, pg2, c);
  const inner = k as unknown as { threadMinInnerFlops?: number };
  const saved = inner.threadMinInnerFlops;
  if (saved !== undefined) inner.threadMinInnerFlops = 0;
  const pr = put(randn(17, c * 40));
  try {
    expect(k.potrf(c, pg2, c, 0.5, pl, c)).toBe(0);
    out.push(read(pl, c * c));
    k.potrs(c, 40, pl, c, pr, 40);
    out.push(read(pr, c * 40));
  } finally {
    if (saved !== undefined) inner.threadMinInnerFlops = saved;
  }
  for (const p of [pz, pd, pz2, pb, pu, pw, po, pm, pg, pgl, pd2, pm2, pmi, pa, ph, pg2, pl, pgi, pr]) k.free(p);
  return out;
}

describe('threads', () => {
  afterAll(() => shutdown());

  test('init({ threads: 2 }) starts a pool and reports it; the cases run above the threshold', async () => {
    const info = await init({ threads: 2 });
    expect(info).toMatchObject({ backend: 'wasm', threads: 2, threadsUnavailable: null });
    expect(2 * 64 * 64 * 600).toBeGreaterThan(THREAD_MIN_FLOPS);
  });

  test.each(['baseline', 'relaxed'] as const)('%s build: 1, 2 and 3 threads give bit-identical GEMM, SYRK, element-wise, mask Gram and Cholesky results', async (simd) => {
    const probe = await init({ simd: 'auto' });
    if (simd === 'relaxed' && probe.simdBuild !== 'relaxed') return; // this engine runs only the baseline build
    const results = [];
    for (const threads of [1, 2, 3]) {
      const k = await loadKernels('wasm', { simd, threads });
      expect(k.threads).toBe(threads);
      results.push([...products(k), ...otherKernels(k)]);
    }
    for (let i = 0; i < results[0].length; i++) {
      expect(Buffer.from(results[1][i].buffer).equals(Buffer.from(results[0][i].buffer))).toBe(true);
      expect(Buffer.from(results[2][i].buffer).equals(Buffer.from(results[0][i].buffer))).toBe(true);
    }
    // And they are right: the first case against the naive product.
    const [m, n, kk] = [203, 150, 131];
    const a = randn(m + n, m * kk), b = randn(kk + 1, kk * n), c0 = randn(3, m * n);
    const want = matmul(a, b, m, kk, n).map((x, i) => 0.75 * x + 0.5 * c0[i]);
    allClose(results[2][0], want, { rtol: 1e-12, atol: 1e-12, cols: n, label: '3-thread gemm' });
  });

  test('linalg through init({ threads: 3 }) matches one thread bit for bit', async () => {
    const n = 160;
    const a = randn(1, n * n), b = randn(2, n * n);
    await init({ threads: 1 });
    const one = [linalg.gemm(a, b, n, n, n), linalg.gram(a, n, n)];
    await init({ threads: 3 });
    expect(kernels().threads).toBe(3);
    const three = [linalg.gemm(a, b, n, n, n), linalg.gram(a, n, n)];
    for (let i = 0; i < one.length; i++) expect(Array.from(three[i])).toEqual(Array.from(one[i]));
  });

  test('the shared-memory module is the embedded build with its memory import declared shared (max 2 GiB)', async () => {
    for (const build of ['baseline', 'relaxed'] as const) {
      const priv = wasmBytes(build), shared = wasmBytes(build, true);
      // The import of (memory 16) becomes (memory 16 32768 shared): flags 0x03, min 16, max 32768 (LEB 80 80 02).
      const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
      const memoryImport = '03656e76066d656d6f727902';
      expect(hex(priv)).toContain(`${memoryImport}0010`);
      expect(hex(shared)).toContain(`${memoryImport}0310808002`);
      if (build === 'relaxed' && !WebAssembly.validate(priv)) continue;
      expect(WebAssembly.validate(shared)).toBe(true);
      const memory = new WebAssembly.Memory({ initial: 16, maximum: 256, shared: true });
      const { instance } = await WebAssembly.instantiate(shared, { env: { memory, abort: () => undefined, parallelGemm: () => 0, parallelLeaf: () => 0 } });
      expect(typeof instance.exports.gemmPanel).toBe('function');
      // A private memory does not fit the shared import.
      await expect(WebAssembly.instantiate(shared, { env: { memory: new WebAssembly.Memory({ initial: 16 }), abort: () => undefined, parallelGemm: () => 0, parallelLeaf: () => 0 } })).rejects.toThrow();
    }
  });

  test('row panels cover the rows once, in order, on multiples of 4', () => {
    for (const [n, t, cols] of [[203, 3, 203], [203, 2, 0], [17, 4, 0], [1000, 7, 1000], [768, 2, 256], [9, 3, 400]] as const) {
      const b = splitRows(n, t, cols);
      expect(b.length).toBe(t + 1);
      expect(b[0]).toBe(0);
      expect(b[t]).toBe(n);
      for (let p = 1; p < t; p++) {
        expect(b[p] % 4).toBe(0);
        expect(b[p]).toBeGreaterThanOrEqual(b[p - 1]);
      }
    }
    // A triangle's panels hold about equal shares of its entries.
    const b = splitRows(1000, 2, 1000);
    expect(Math.abs(b[1] * b[1] - (1000 * 1000 - b[1] * b[1]))).toBeLessThan(0.02 * 1000 * 1000);
    // A lower trapezoid (768 rows, 256 columns, as in a Cholesky trailing update) too.
    const z = splitRows(768, 2, 256);
    const entries = (r0: number, r1: number) => { let e = 0; for (let i = r0; i < r1; i++) e += Math.min(i + 1, 256); return e; };
    expect(Math.abs(entries(0, z[1]) - entries(z[1], 768)) / entries(0, 768)).toBeLessThan(0.02);
  });

  test('a GEMM is split by columns of C where that packs fewer values per thread', () => {
    // The step's forward product X·Wᵀ (n 512, m 4096, k 65): by columns; its Jᵀx product Bᵀ·(diag(x)·X): by rows.
    expect(byColumns(512, 4096, 65, 2)).toBe(true);
    expect(byColumns(4096, 65, 512, 2)).toBe(false);
    expect(byColumns(97, 260, 77, 2)).toBe(true);
    expect(byColumns(37, 2101, 65, 3)).toBe(true);
    expect(byColumns(203, 150, 131, 2)).toBe(false);
    // A square product packs as much either way below NC columns per thread: rows, as before.
    expect(byColumns(512, 512, 512, 2)).toBe(false);
  });

  test('the threaded mirrorLower copies the lower triangle up and leaves the rest alone (odd n, ldc > n, 3 threads)', async () => {
    const k = await loadKernels('wasm', { threads: 3 });
    expect(k.threads).toBe(3);
    for (const [n, ldc] of [[301, 306], [257, 257], [512, 515]]) {
      expect((n * n) / 2).toBeGreaterThan(THREAD_MIN_VALUES);
      const init = randn(n + ldc, n * ldc), c = k.alloc(n * ldc);
      k.f64().set(init, c / 8);
      k.mirrorLower(n, c, ldc);
      const h = k.f64().slice(c / 8, c / 8 + n * ldc);
      k.free(c);
      let bad = '';
      for (let i = 0; i < n && !bad; i++) {
        for (let j = 0; j < ldc; j++) {
          const want = j < n && j > i ? init[j * ldc + i] : init[i * ldc + j];
          if (h[i * ldc + j] !== want) { bad = `n ${n}: (${i}, ${j}) ${h[i * ldc + j]} ≠ ${want}`; break; }
        }
      }
      expect(bad).toBe('');
    }
  });

  test('without SharedArrayBuffer, threads fall back to one and init() says why', async () => {
    const sab = globalThis.SharedArrayBuffer;
    (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer = undefined;
    try {
      const info = await init({ threads: 4 });
      expect(info.threads).toBe(1);
      expect(info.threadsUnavailable).toMatch(/SharedArrayBuffer/);
    } finally {
      globalThis.SharedArrayBuffer = sab;
    }
    const js = await init({ backend: 'js', threads: 2 });
    expect(js).toMatchObject({ threads: 1, threadsUnavailable: expect.stringMatching(/one thread/) });
  });

  test('a shared memory the engine cannot reserve falls back to one thread, and init() says why', async () => {
    const Memory = WebAssembly.Memory;
    (WebAssembly as { Memory: unknown }).Memory = function (d: WebAssembly.MemoryDescriptor) {
      if (d.shared) throw new RangeError('WebAssembly.Memory(): could not allocate memory');
      return new Memory(d);
    };
    try {
      const info = await init({ threads: 2, maxMemoryBytes: 64 << 20 });
      expect(info.threads).toBe(1);
      expect(info.threadsUnavailable).toMatch(/could not start.*allocate memory/);
      expect(Array.from(linalg.gemm(new Float64Array([1, 2, 3, 4]), new Float64Array([5, 6, 7, 8]), 2, 2, 2))).toEqual([19, 22, 43, 50]);
    } finally {
      (WebAssembly as { Memory: unknown }).Memory = Memory;
    }
  });

  test('the call counter wraps through int32 without hanging: calls past 2³¹ on one pool still finish, same bits', async () => {
    const one = products(await loadKernels('wasm', { simd: 'baseline', threads: 1 }));
    const k = await loadKernels('wasm', { simd: 'baseline', threads: 2 });
    // The pool's generation counter lives in an Int32Array slot: start it just below 2³¹ so these calls cross it.
    const pool = (k as unknown as { pool: { gen: number } }).pool;
    pool.gen = 2 ** 31 - 3;
    const again = products(k);
    for (let i = 0; i < one.length; i++) expect(Buffer.from(again[i].buffer).equals(Buffer.from(one[i].buffer))).toBe(true);
  });

  test('bad thread counts are typed errors', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 'many']) await expect(init({ threads: bad as never })).rejects.toThrow(ArgumentError);
    expect((await init({ threads: 'auto' })).threads).toBeGreaterThanOrEqual(1);
  });

  test('shutdown() ends the workers; the backend keeps computing the same bits on one thread', async () => {
    const k = await loadKernels('wasm', { threads: 2 });
    const before = products(k);
    shutdown();
    expect(k.threads).toBe(1);
    const after = products(k);
    for (let i = 0; i < before.length; i++) expect(Buffer.from(after[i].buffer).equals(Buffer.from(before[i].buffer))).toBe(true);
    const again = await loadKernels('wasm', { threads: 2 });
    expect(again).not.toBe(k);
    expect(again.threads).toBe(2);
  });

  test("a cached backend whose own pool was shut down is not handed out for threads again: init() starts a new one", async () => {
    const k = await loadKernels('wasm', { threads: 2 });
    (k as unknown as { shutdown(): void }).shutdown();
    expect(k.threads).toBe(1);
    const info = await init({ threads: 2 });
    expect(info).toMatchObject({ threads: 2, threadsUnavailable: null });
    expect(kernels()).not.toBe(k);
    expect(kernels().threads).toBe(2);
  });

  const built = existsSync(join(root, 'dist/cjs/index.js'));
  (built ? test : test.skip)('a Node script that uses threads and never calls shutdown() exits on its own', () => {
    const script = `
      const { init, backendInfo } = require(${JSON.stringify(join(root, 'dist/cjs/index.js'))});
      const { linalg } = require(${JSON.stringify(join(root, 'dist/cjs/advanced.js'))});
      (async () => {
        await init({ threads: 2 });
        const n = 200, a = new Float64Array(n * n).map((_, i) => Math.sin(i));
        const g = linalg.gram(a, n, n);
        console.log(JSON.stringify({ threads: backendInfo().threads, g0: g[0] }));
      })();`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ threads: 2 });
    expect(Date.now() - started).toBeLessThan(60000);
  });
});

describe('threads inside the Cholesky kernels', () => {
  afterAll(() => shutdown());

  test('potrf, trsm with many right-hand sides, potrs and potri: 1, 2 and 3 threads bit-identical', async () => {
    const n = 300, nrhs = 40;
    const g = randn(5, n * n);
    const run = async (threads: number) => {
      const k = await loadKernels('wasm', { simd: 'baseline', threads });
      const pg = k.alloc(n * n), pa = k.alloc(n * n), pl = k.alloc(n * n), pb = k.alloc(n * nrhs), pi = k.alloc(n * n);
      k.f64().set(g, pg / 8);
      k.syrk(0, n, n, 1 / n, pg, n, 0, pa, n); // SPD: GGᵀ/n + damping
      expect(k.potrf(n, pa, n, 0.5, pl, n)).toBe(0);
      k.f64().set(randn(6, n * nrhs), pb / 8);
      k.trsm(0, n, nrhs, pl, n, pb, nrhs);
      k.potrs(n, nrhs, pl, n, pb, nrhs);
      k.potri(n, pl, n, pi, n);
      const h = k.f64();
      const out = [h.slice(pl / 8, pl / 8 + n * n), h.slice(pb / 8, pb / 8 + n * nrhs), h.slice(pi / 8, pi / 8 + n * n)];
      for (const p of [pg, pa, pl, pb, pi]) k.free(p);
      return out;
    };
    const one = await run(1), two = await run(2), three = await run(3);
    for (let i = 0; i < one.length; i++) {
      expect(Buffer.from(two[i].buffer).equals(Buffer.from(one[i].buffer))).toBe(true);
      expect(Buffer.from(three[i].buffer).equals(Buffer.from(one[i].buffer))).toBe(true);
    }
  });
});

describe('threads under a memory ceiling', () => {
  afterAll(() => shutdown());

  test('a ceiling too small for the workers\' scratch falls back to one thread, and says why', async () => {
    // Each worker takes a fixed pack-buffer block (about 2.3 MiB) from the backend's memory.
    const info = await init({ threads: 2, maxMemoryBytes: 2 << 20 });
    expect(info.threads).toBe(1);
    expect(info.maxMemoryBytes).toBe(2 << 20);
    expect(info.threadsUnavailable).toMatch(/out of memory/);
    // The backend works on one thread within its ceiling.
    const k = kernels(), p = k.alloc(1024);
    expect(p).toBeGreaterThan(0);
    k.free(p);
  });
});
