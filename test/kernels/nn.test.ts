import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';
import { randn } from '../helpers/random';
import { allClose } from '../helpers/allclose';
import type { Kernels } from '../../src/kernels/types';

const SENTINEL = -12345.678;
/** Values where the two backends could part ways: signed zeros, subnormals, overflow, NaN and infinities. */
const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 1e308, -1e308, 1, -1];
const WIDTHS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 64, 65];

/** n·m seeded normals with the special values sprinkled in (every 3rd entry, rotating). */
function values(seed: number, count: number): Float64Array {
  const v = randn(seed, count);
  for (let i = 0; i < count; i += 3) v[i] = SPECIAL[(i / 3 + seed) % SPECIAL.length];
  return v;
}

/** The first index where a and b differ bit for bit (Object.is: NaN equals NaN, −0 differs from +0), or −1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : a.length;
}

/** Writes rows of `rows × cols` values into a block with leading dimension ld, padding and one extra element at SENTINEL. */
function putRows(k: Kernels, v: Float64Array, rows: number, cols: number, ld: number): number {
  const p = k.alloc(rows * ld + 1);
  const h = k.f64();
  h.fill(SENTINEL, p >> 3, (p >> 3) + rows * ld + 1);
  for (let i = 0; i < rows; i++) h.set(v.subarray(i * cols, (i + 1) * cols), (p >> 3) + i * ld);
  return p;
}

/** Reads the block back as rows × cols; throws if its padding or the element past it changed. */
function getRows(k: Kernels, p: number, rows: number, cols: number, ld: number): Float64Array {
  const h = k.f64(), out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < ld; j++) {
      const x = h[(p >> 3) + i * ld + j];
      if (j < cols) out[i * cols + j] = x;
      else if (x !== SENTINEL) throw new Error(`padding at (${i}, ${j}) was written: ${x}`);
    }
  }
  if (h[(p >> 3) + rows * ld] !== SENTINEL) throw new Error('the element past the block was written');
  return out;
}

describe.each(KERNEL_VARIANTS)('relu on %s', (name) => {
  /** The reference: the TypeScript expression the kernel contract states, (scale·z)·[z > 0]. */
  const expected = (z: Float64Array, scale: number) => z.map((x) => (scale * x) * +(x > 0));

  test.each(WIDTHS)('m = %i: every n in 0…3, both paddings, four scales, bit for bit', async (m) => {
    const k = await kernelsFor(name);
    for (const n of [0, 1, 2, 3]) {
      for (const [padS, padD] of [[0, 0], [3, 1]]) {
        for (const scale of [1, 1 / 64, -0.5, 2]) {
          const z = values(100 * n + m, n * m);
          const lds = m + padS, ldd = m + padD;
          const src = putRows(k, z, n, m, lds), dst = putRows(k, new Float64Array(n * m).fill(7), n, m, ldd);
          k.relu(n, m, src, lds, scale, dst, ldd);
          const got = getRows(k, dst, n, m, ldd);
          expect(getRows(k, src, n, m, lds)).toEqual(z);
          const at = firstDifference(got, expected(z, scale));
          if (at >= 0) throw new Error(`n=${n} m=${m} scale=${scale}: index ${at}: z ${z[at]} gave ${got[at]}, expected ${expected(z, scale)[at]}`);
          k.free(src);
          k.free(dst);
        }
      }
    }
  });

  test('in place (dst = src, same leading dimension)', async () => {
    const k = await kernelsFor(name);
    const n = 5, m = 33, ld = 37, z = values(7, n * m);
    const p = putRows(k, z, n, m, ld);
    k.relu(n, m, p, ld, 0.25, p, ld);
    expect(firstDifference(getRows(k, p, n, m, ld), expected(z, 0.25))).toBe(-1);
    k.free(p);
  });

  test('the paper-sized block: 512 × 4096 at scale 1/64', async () => {
    const k = await kernelsFor(name);
    const n = 512, m = 4096, z = randn(11, n * m);
    const src = putRows(k, z, n, m, m), dst = putRows(k, new Float64Array(n * m), n, m, m);
    k.relu(n, m, src, m, 1 / 64, dst, m);
    expect(firstDifference(getRows(k, dst, n, m, m), expected(z, 1 / 64))).toBe(-1);
    k.free(src);
    k.free(dst);
  });
});

describe.each(KERNEL_VARIANTS)('reluMask on %s', (name) => {
  /** The reference: row r of B times [z ≥ 0] of row ⌊r/q⌋ of Z. */
  const expected = (b: Float64Array, z: Float64Array, n: number, q: number, m: number) =>
    b.map((x, idx) => {
      const r = Math.floor(idx / m), j = idx % m;
      return x * +(z[Math.floor(r / q) * m + j] >= 0);
    });

  test.each(WIDTHS)('m = %i: n in 0…3, q in 1…3, special values in both z and b, bit for bit', async (m) => {
    const k = await kernelsFor(name);
    for (const n of [0, 1, 2, 3]) {
      for (const q of [1, 2, 3]) {
        const z = values(10 * n + m, n * m), b = values(1000 + 10 * q + m, n * q * m);
        const pz = putRows(k, z, n, m, m), pb = putRows(k, b, n * q, m, m);
        k.reluMask(n, q, m, pz, pb);
        const got = getRows(k, pb, n * q, m, m);
        expect(getRows(k, pz, n, m, m)).toEqual(z);
        const want = expected(b, z, n, q, m);
        const at = firstDifference(got, want);
        if (at >= 0) throw new Error(`n=${n} q=${q} m=${m}: index ${at}: b ${b[at]} gave ${got[at]}, expected ${want[at]}`);
        k.free(pz);
        k.free(pb);
      }
    }
  });

  test('NaN in z masks like a negative value; −0 and +0 pass', async () => {
    const k = await kernelsFor(name);
    const z = new Float64Array([NaN, -0, 0, -1e-300, 1e-300, -Infinity, Infinity, 3]);
    const b = new Float64Array(8).fill(2);
    const pz = putRows(k, z, 1, 8, 8), pb = putRows(k, b, 1, 8, 8);
    k.reluMask(1, 1, 8, pz, pb);
    expect(Array.from(getRows(k, pb, 1, 8, 8))).toEqual([0, 2, 2, 0, 2, 0, 2, 2]);
    k.free(pz);
    k.free(pb);
  });
});

describe.each(KERNEL_VARIANTS)('reluOuter on %s', (name) => {
  test.each(WIDTHS)('m = %i: n in 0…3, q in 1…3: bit for bit gemm (rank 1) then reluMask, close to the naive product', async (m) => {
    const k = await kernelsFor(name);
    for (const n of [0, 1, 2, 3]) {
      for (const q of [1, 2, 3]) {
        const N = n * q, alpha = 0.37;
        const z = values(20 * n + m, n * m), u = randn(300 + 7 * q + n, N), w = randn(400 + m, m);
        const pz = putRows(k, z, n, m, m), pu = putRows(k, u, N, 1, 1), pw = putRows(k, w, 1, m, m);
        const out = putRows(k, new Float64Array(N * m), N, m, m), ref = putRows(k, new Float64Array(N * m), N, m, m);
        k.reluOuter(n, q, m, alpha, pu, pw, pz, out);
        k.gemm(0, 0, N, m, 1, alpha, pu, 1, pw, m, 0, ref, m);
        k.reluMask(n, q, m, pz, ref);
        const got = getRows(k, out, N, m, m), want = getRows(k, ref, N, m, m);
        const at = firstDifference(got, want);
        if (at >= 0) throw new Error(`n=${n} q=${q} m=${m}: index ${at}: ${got[at]}, gemm + reluMask ${want[at]}`);
        expect(getRows(k, pz, n, m, m)).toEqual(z);
        const naive = new Float64Array(N * m);
        for (let r = 0; r < N; r++) for (let j = 0; j < m; j++) naive[r * m + j] = z[Math.floor(r / q) * m + j] >= 0 ? alpha * u[r] * w[j] : 0;
        allClose(got, naive, { rtol: 1e-15, atol: 0, cols: m, label: `reluOuter n=${n} q=${q} m=${m}` });
        for (const p of [pz, pu, pw, out, ref]) k.free(p);
      }
    }
  });

  test('NaN in z masks like a negative value; −0 and +0 pass', async () => {
    const k = await kernelsFor(name);
    const z = new Float64Array([NaN, -0, 0, -1e-300, 1e-300, -Infinity, Infinity, 3, -2]);
    const pz = putRows(k, z, 1, 9, 9), pu = putRows(k, new Float64Array([2]), 1, 1, 1), pw = putRows(k, new Float64Array(9).fill(1.5), 1, 9, 9);
    const out = putRows(k, new Float64Array(9), 1, 9, 9);
    k.reluOuter(1, 1, 9, 0.5, pu, pw, pz, out);
    expect(Array.from(getRows(k, out, 1, 9, 9))).toEqual([0, 1.5, 1.5, 0, 1.5, 0, 1.5, 1.5, 0]);
    for (const p of [pz, pu, pw, out]) k.free(p);
  });
});
