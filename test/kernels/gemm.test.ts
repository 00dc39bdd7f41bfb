import { Matrix } from 'ml-matrix';
import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { matmul } from '../helpers/naive';
import { randn } from '../helpers/random';
import type { Kernels } from '../../src/kernels/types';

/** One gemm call: C ← alpha·op(A)·op(B) + beta·C with op(A) m×k, op(B) k×n. */
interface Case {
  transA: number;
  transB: number;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** Extra elements per row beyond the row length (submatrix views); the padding holds NaN in A and B. */
  pad?: number;
  seed?: number;
}

/** Value the padding of C and the guard after it must keep: the kernel may not write outside the m×n block. */
const SENTINEL = -12345.678;

interface Result {
  /** The m×n result, densely packed. */
  got: Float64Array;
  /** Dense op(A) (m×k), op(B) (k×n) and the initial C (m×n), for the oracles. */
  opA: Float64Array;
  opB: Float64Array;
  c0: Float64Array;
}

/** Stores a rows×cols dense matrix at ptr with leading dimension ld, the padding filled with `fill`. */
function put(k: Kernels, ptr: number, dense: ArrayLike<number>, rows: number, cols: number, ld: number, fill: number): void {
  const h = k.f64();
  const base = ptr / 8;
  h.fill(fill, base, base + rows * ld);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) h[base + i * ld + j] = dense[i * cols + j];
}

function runGemm(k: Kernels, cs: Case): Result {
  const { transA, transB, m, n, alpha, beta, pad = 0, seed = 1 } = cs;
  const kk = cs.k;
  const opA = randn(seed, m * kk), opB = randn(seed + 1, kk * n);
  const c0 = beta === 0 ? new Float64Array(m * n).fill(NaN) : randn(seed + 2, m * n);
  // Stored A is m×k, or k×m when transposed (op(A) = Aᵀ); likewise B.
  const [ra, ca] = transA ? [kk, m] : [m, kk];
  const [rb, cb] = transB ? [n, kk] : [kk, n];
  const lda = ca + pad, ldb = cb + pad, ldc = n + pad;
  const pa = k.alloc(ra * lda + 1), pb = k.alloc(rb * ldb + 1), pc = k.alloc(m * ldc + 1);
  try {
    put(k, pa, transA ? transposeDense(opA, m, kk) : opA, ra, ca, lda, NaN);
    put(k, pb, transB ? transposeDense(opB, kk, n) : opB, rb, cb, ldb, NaN);
    put(k, pc, c0, m, n, ldc, SENTINEL);
    k.f64()[pc / 8 + m * ldc] = SENTINEL;
    k.gemm(transA, transB, m, n, kk, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    const h = k.f64();
    const got = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < ldc; j++) {
        const v = h[pc / 8 + i * ldc + j];
        if (j < n) got[i * n + j] = v;
        else if (v !== SENTINEL) throw new Error(`gemm wrote padding of C at (${i}, ${j}): ${v}`);
      }
    }
    if (h[pc / 8 + m * ldc] !== SENTINEL) throw new Error('gemm wrote past the end of C');
    return { got, opA, opB, c0 };
  } finally {
    k.free(pa);
    k.free(pb);
    k.free(pc);
  }
}

function transposeDense(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** alpha·op(A)·op(B) + beta·C0 from the naive oracle (beta = 0 ignores C0, which holds NaN then). */
function expected(r: Result, cs: Case): Float64Array {
  const prod = matmul(r.opA, r.opB, cs.m, cs.k, cs.n);
  return prod.map((v, i) => cs.alpha * v + (cs.beta === 0 ? 0 : cs.beta * r.c0[i]));
}

/** The same from ml-matrix, built from the stored (possibly transposed) operands. */
function expectedMl(r: Result, cs: Case): Float64Array {
  const { m, n, k } = cs;
  let a = Matrix.from1DArray(m, k, Array.from(r.opA));
  let b = Matrix.from1DArray(k, n, Array.from(r.opB));
  if (cs.transA) a = Matrix.from1DArray(k, m, Array.from(transposeDense(r.opA, m, k))).transpose();
  if (cs.transB) b = Matrix.from1DArray(n, k, Array.from(transposeDense(r.opB, k, n))).transpose();
  let c = a.mmul(b).mul(cs.alpha);
  if (cs.beta !== 0) c = c.add(Matrix.from1DArray(m, n, Array.from(r.c0)).mul(cs.beta));
  return Float64Array.from(c.to1DArray());
}

/**
 * Rounding bound for a length-k dot product of randn entries (|x| ≲ 5): the error
 * grows at most linearly in k; real indexing bugs are O(1).
 */
function tol(cs: Case): { rtol: number; atol: number } {
  return { rtol: 1e-12, atol: 1e-13 * (cs.k + 1) * 25 * Math.max(1, Math.abs(cs.alpha)) };
}

function check(k: Kernels, cs: Case, withMl = true): void {
  const r = runGemm(k, cs);
  const label = `gemm ${JSON.stringify(cs)}`;
  allClose(r.got, expected(r, cs), { ...tol(cs), cols: cs.n, label: `${label} vs naive` });
  if (withMl && cs.m > 0 && cs.n > 0 && cs.k > 0) {
    allClose(r.got, expectedMl(r, cs), { ...tol(cs), cols: cs.n, label: `${label} vs ml-matrix` });
  }
}

const SIZES = [0, 1, 2, 3, 5, 7, 9, 16, 17, 31, 33, 64, 65, 127, 129];
const TRANS: Array<[number, number]> = [[0, 0], [0, 1], [1, 0], [1, 1]];

describe.each(KERNEL_VARIANTS)('gemm on the %s backend', (backend) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await kernelsFor(backend);
  });

  test.each(SIZES)('square n = %i, C = A·B', (n) => {
    check(k, { transA: 0, transB: 0, m: n, n, k: n, alpha: 1, beta: 0, seed: n });
  });

  // The big size only for two transpose combinations (the rest is covered at the smaller sizes).
  test('n = 257 (crosses the KC and MC blocks): A·B, and Aᵀ·Bᵀ with beta', () => {
    check(k, { transA: 0, transB: 0, m: 257, n: 257, k: 257, alpha: 1, beta: 0, seed: 7 });
    check(k, { transA: 1, transB: 1, m: 257, n: 257, k: 257, alpha: -0.5, beta: 1.5, seed: 8 }, false);
  });

  // m ≠ n ≠ k, including primes, single rows/columns and every tail of a 4×4 tile.
  const SHAPES: Array<[number, number, number]> = [
    [1, 7, 3], [7, 1, 5], [13, 1, 1], [1, 1, 29], [2, 3, 4], [5, 97, 101], [97, 5, 3],
    [37, 11, 53], [3, 129, 17], [129, 3, 65], [64, 1, 64], [1, 64, 64], [6, 10, 300], [31, 33, 9],
  ];
  describe.each(TRANS)('transA %i transB %i', (transA, transB) => {
    test.each(SHAPES)('m %i, n %i, k %i', (m, n, kk) => {
      check(k, { transA, transB, m, n, k: kk, alpha: 1, beta: 0, seed: m * 1000 + n * 10 + kk });
    });

    test('alpha and beta: general, negative, beta = 1 accumulates, beta = 0 overwrites NaN', () => {
      for (const [alpha, beta] of [[0.37, -0.5], [-1, 1], [2.5, 2], [1, 0], [-3, 0]]) {
        check(k, { transA, transB, m: 19, n: 23, k: 29, alpha, beta, seed: 3 });
      }
    });

    test('leading dimensions larger than the rows (submatrix views): padding neither read nor written', () => {
      check(k, { transA, transB, m: 17, n: 9, k: 13, alpha: 1.5, beta: 0.25, pad: 3 });
      check(k, { transA, transB, m: 33, n: 65, k: 7, alpha: -1, beta: 0, pad: 1 });
      check(k, { transA, transB, m: 5, n: 6, k: 70, alpha: 1, beta: 1, pad: 5 });
    });
  });

  test('n past one NC block (1030 columns), with a tail', () => {
    check(k, { transA: 0, transB: 0, m: 6, n: 1030, k: 3, alpha: 1, beta: 0.5 });
    check(k, { transA: 1, transB: 1, m: 5, n: 1031, k: 2, alpha: -2, beta: 0 });
  });

  test('k = 0 leaves beta·C (beta = 0 gives zeros even from NaN)', () => {
    for (const beta of [0, 1, -0.5]) {
      const cs = { transA: 0, transB: 0, m: 7, n: 5, k: 0, alpha: 1, beta };
      const r = runGemm(k, cs);
      allClose(r.got, r.c0.map((v) => (beta === 0 ? 0 : beta * v)), { rtol: 0, atol: 0, cols: 5, label: `k = 0, beta ${beta}` });
    }
  });

  test('alpha = 0 gives beta·C without reading A and B (BLAS quick return)', () => {
    const m = 9, n = 6, kk = 4;
    const pa = k.alloc(m * kk), pb = k.alloc(kk * n), pc = k.alloc(m * n);
    const c0 = randn(11, m * n);
    k.f64().fill(NaN, pa / 8, pa / 8 + m * kk);
    k.f64().fill(Infinity, pb / 8, pb / 8 + kk * n);
    k.f64().set(c0, pc / 8);
    k.gemm(0, 0, m, n, kk, 0, pa, kk, pb, n, -2, pc, n);
    allClose(k.f64().subarray(pc / 8, pc / 8 + m * n), c0.map((v) => -2 * v), { rtol: 0, atol: 0, cols: n, label: 'alpha = 0' });
    k.free(pa);
    k.free(pb);
    k.free(pc);
  });

  test('m = 0 or n = 0 writes nothing', () => {
    const pc = k.alloc(4);
    k.f64().fill(SENTINEL, pc / 8, pc / 8 + 4);
    k.gemm(0, 0, 0, 4, 3, 1, pc, 3, pc, 4, 0, pc, 4);
    k.gemm(0, 0, 4, 0, 3, 1, pc, 3, pc, 1, 0, pc, 1);
    expect(Array.from(k.f64().subarray(pc / 8, pc / 8 + 4))).toEqual([SENTINEL, SENTINEL, SENTINEL, SENTINEL]);
    k.free(pc);
  });

  test('beta = 1 accumulates: two calls give twice the product', () => {
    const m = 21, n = 18, kk = 35;
    const a = randn(5, m * kk), b = randn(6, kk * n);
    const pa = k.alloc(m * kk), pb = k.alloc(kk * n), pc = k.alloc(m * n);
    k.f64().set(a, pa / 8);
    k.f64().set(b, pb / 8);
    k.gemm(0, 0, m, n, kk, 1, pa, kk, pb, n, 0, pc, n);
    k.gemm(0, 0, m, n, kk, 1, pa, kk, pb, n, 1, pc, n);
    const want = matmul(a, b, m, kk, n).map((v) => 2 * v);
    allClose(k.f64().subarray(pc / 8, pc / 8 + m * n), want, { rtol: 1e-12, atol: 1e-11, cols: n, label: 'twice A·B' });
    k.free(pa);
    k.free(pb);
    k.free(pc);
  });

  test('A and B may be the same buffer: A·Aᵀ and Aᵀ·A', () => {
    const m = 23, kk = 14;
    const a = randn(9, m * kk);
    const pa = k.alloc(m * kk), pc = k.alloc(m * m), pd = k.alloc(kk * kk);
    k.f64().set(a, pa / 8);
    k.gemm(0, 1, m, m, kk, 1, pa, kk, pa, kk, 0, pc, m);
    k.gemm(1, 0, kk, kk, m, 1, pa, kk, pa, kk, 0, pd, kk);
    const h = k.f64();
    allClose(h.subarray(pc / 8, pc / 8 + m * m), matmul(a, a, m, kk, m, false, true), { atol: 1e-12, cols: m, label: 'A·Aᵀ' });
    allClose(h.subarray(pd / 8, pd / 8 + kk * kk), matmul(a, a, kk, m, kk, true, false), { atol: 1e-12, cols: kk, label: 'Aᵀ·A' });
    k.free(pa);
    k.free(pc);
    k.free(pd);
  });
});

describe.each(KERNEL_VARIANTS)('gemm fast paths on %s', (variant) => {
  /** C of op(A)·op(B) + beta·C0 for stored A (ra×ca) and B (rb×cb), as a copy. */
  function product(k: Kernels, ta: number, tb: number, m: number, n: number, kk: number, a: Float64Array, b: Float64Array, c0: Float64Array, alpha: number, beta: number): Float64Array {
    const pa = k.alloc(a.length), pb = k.alloc(b.length), pc = k.alloc(m * n);
    k.f64().set(a, pa / 8);
    k.f64().set(b, pb / 8);
    k.f64().set(c0, pc / 8);
    k.gemm(ta, tb, m, n, kk, alpha, pa, ta ? m : kk, pb, tb ? kk : n, beta, pc, n);
    const out = k.f64().slice(pc / 8, pc / 8 + m * n);
    for (const p of [pa, pb, pc]) k.free(p);
    return out;
  }

  test('one column (n = 1, no packing) gives the bits of the blocked path (column 0 of an n = 2 product)', async () => {
    const k = await kernelsFor(variant);
    for (const [m, kk, ta] of [[9, 600, 0], [512, 300, 1], [1, 7, 0], [33, 257, 1], [15, 256, 0], [8, 513, 1]]) {
      const a = randn(m + kk, m * kk), x = randn(kk, kk), c0 = randn(5, m);
      // B as kk×2 with x in column 0 (blocked path) and as kk×1 (matrix-vector path).
      const b2 = new Float64Array(kk * 2).map((_, i) => (i % 2 === 0 ? x[i >> 1] : 1));
      const c2 = new Float64Array(m * 2).map((_, i) => (i % 2 === 0 ? c0[i >> 1] : 0));
      const one = product(k, ta, 0, m, 1, kk, ta ? transposeDense(a, m, kk) : a, x, c0, -0.75, 0.5);
      const two = product(k, ta, 0, m, 2, kk, ta ? transposeDense(a, m, kk) : a, b2, c2, -0.75, 0.5);
      expect(Array.from(one)).toEqual(Array.from(two).filter((_, i) => i % 2 === 0));
    }
  });

  test('rank 1 (k = 1, no packing) gives the bits of the blocked path (k = 2 with a zero term)', async () => {
    const k = await kernelsFor(variant);
    for (const [m, n, tb] of [[512, 4096, 0], [7, 5, 1], [3, 1001, 1], [1, 2, 0]]) {
      const u = randn(m, m), v = randn(n, n), c0 = randn(7, m * n);
      for (const beta of [0, 1, -2]) {
        const one = product(k, 0, tb, m, n, 1, u, v, c0, 1.25, beta);
        const a2 = new Float64Array(m * 2).map((_, i) => (i % 2 === 0 ? u[i >> 1] : 0));
        const b2 = new Float64Array(2 * n).map((_, i) => (i < n ? v[i] : 0));
        const two = product(k, 0, tb, m, n, 2, a2, tb ? transposeDense(b2, 2, n) : b2, c0, 1.25, beta);
        expect(Buffer.from(one.buffer).equals(Buffer.from(two.buffer))).toBe(true);
      }
    }
  });
});
