import { Matrix } from 'ml-matrix';
import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { matmul } from '../helpers/naive';
import { randn } from '../helpers/random';
import type { Kernels } from '../../src/kernels/types';

/** One syrk call: C ← alpha·A·Aᵀ + beta·C (trans 0, A n×k) or alpha·Aᵀ·A + beta·C (trans 1, A k×n). */
interface Case {
  trans: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** Extra elements per row (submatrix views); A's padding holds NaN, C's a sentinel. */
  pad?: number;
  seed?: number;
}

const SENTINEL = -12345.678;

interface Result {
  got: Float64Array;
  /** A as stored (n×k for trans 0, k×n for trans 1), dense. */
  a: Float64Array;
  /** The initial C (n×n), deliberately not symmetric. */
  c0: Float64Array;
}

function runSyrk(k: Kernels, cs: Case): Result {
  const { trans, n, alpha, beta, pad = 0, seed = 1 } = cs;
  const kk = cs.k;
  const [ra, ca] = trans ? [kk, n] : [n, kk];
  const a = randn(seed, ra * ca);
  const c0 = beta === 0 ? new Float64Array(n * n).fill(NaN) : randn(seed + 1, n * n);
  const lda = ca + pad, ldc = n + pad;
  const pa = k.alloc(ra * lda + 1), pc = k.alloc(n * ldc + 1);
  try {
    let h = k.f64();
    h.fill(NaN, pa / 8, pa / 8 + ra * lda);
    for (let i = 0; i < ra; i++) h.set(a.subarray(i * ca, (i + 1) * ca), pa / 8 + i * lda);
    h.fill(SENTINEL, pc / 8, pc / 8 + n * ldc + 1);
    for (let i = 0; i < n; i++) h.set(c0.subarray(i * n, (i + 1) * n), pc / 8 + i * ldc);
    k.syrk(trans, n, kk, alpha, pa, lda, beta, pc, ldc);
    h = k.f64();
    const got = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < ldc; j++) {
        const v = h[pc / 8 + i * ldc + j];
        if (j < n) got[i * n + j] = v;
        else if (v !== SENTINEL) throw new Error(`syrk wrote padding of C at (${i}, ${j}): ${v}`);
      }
    }
    if (h[pc / 8 + n * ldc] !== SENTINEL) throw new Error('syrk wrote past the end of C');
    return { got, a, c0 };
  } finally {
    k.free(pa);
    k.free(pc);
  }
}

/**
 * The product term from the naive oracle, plus beta times the old C with its lower
 * triangle standing for the whole (the contract: the upper triangle is not read).
 */
function expected(r: Result, cs: Case): Float64Array {
  const { n, k: kk, trans } = cs;
  const prod = trans ? matmul(r.a, r.a, n, kk, n, true, false) : matmul(r.a, r.a, n, kk, n, false, true);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const old = cs.beta === 0 ? 0 : cs.beta * r.c0[Math.max(i, j) * n + Math.min(i, j)];
      out[i * n + j] = cs.alpha * prod[i * n + j] + old;
    }
  }
  return out;
}

/** alpha·A·Aᵀ (or alpha·Aᵀ·A) from ml-matrix, for the beta = 0 cases. */
function productMl(r: Result, cs: Case): Float64Array {
  const a = cs.trans ? Matrix.from1DArray(cs.k, cs.n, Array.from(r.a)) : Matrix.from1DArray(cs.n, cs.k, Array.from(r.a));
  const g = cs.trans ? a.transpose().mmul(a) : a.mmul(a.transpose());
  return Float64Array.from(g.mul(cs.alpha).to1DArray());
}

function tol(cs: Case): { rtol: number; atol: number } {
  return { rtol: 1e-12, atol: 1e-13 * (cs.k + 1) * 25 * Math.max(1, Math.abs(cs.alpha)) };
}

function expectSymmetric(c: Float64Array, n: number, label: string): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (!Object.is(c[i * n + j], c[j * n + i])) {
        throw new Error(`${label}: not exactly symmetric at (${i}, ${j}): ${c[i * n + j]} vs ${c[j * n + i]}`);
      }
    }
  }
}

function check(k: Kernels, cs: Case, withMl = true): void {
  const r = runSyrk(k, cs);
  const label = `syrk ${JSON.stringify(cs)}`;
  expectSymmetric(r.got, cs.n, label);
  allClose(r.got, expected(r, cs), { ...tol(cs), cols: cs.n, label: `${label} vs naive` });
  if (withMl && cs.beta === 0 && cs.n > 0 && cs.k > 0) {
    allClose(r.got, productMl(r, cs), { ...tol(cs), cols: cs.n, label: `${label} vs ml-matrix` });
  }
}

const SIZES = [0, 1, 2, 3, 5, 7, 9, 16, 17, 31, 33, 64, 65, 127, 129];

describe.each(KERNEL_VARIANTS)('syrk on the %s backend', (backend) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await kernelsFor(backend);
  });

  describe.each([0, 1])('trans %i', (trans) => {
    test.each(SIZES)('n = %i, k = n', (n) => {
      check(k, { trans, n, k: n, alpha: 1, beta: 0, seed: n });
    });

    // k ≠ n, including primes, k = 1 (rank one) and k past one KC block.
    test.each([[1, 9], [2, 1], [5, 300], [13, 1], [17, 3], [37, 53], [64, 7], [97, 101], [130, 2]])('n = %i, k = %i', (n, kk) => {
      check(k, { trans, n, k: kk, alpha: 1, beta: 0, seed: n + kk });
    });

    test('alpha and beta: general, negative, beta = 1 accumulates, beta = 0 overwrites NaN', () => {
      for (const [alpha, beta] of [[0.37, -0.5], [-1, 1], [2.5, 2], [1, 0], [-3, 0]]) {
        check(k, { trans, n: 23, k: 19, alpha, beta, seed: 4 });
      }
    });

    test('leading dimensions larger than the rows (submatrix views): padding neither read nor written', () => {
      check(k, { trans, n: 17, k: 13, alpha: 1.5, beta: 0.25, pad: 3 });
      check(k, { trans, n: 33, k: 6, alpha: -1, beta: 0, pad: 1 });
    });

    test('k = 0 gives beta·C from the lower triangle (beta = 0 gives zeros even from NaN)', () => {
      for (const beta of [0, 1, -0.5]) check(k, { trans, n: 9, k: 0, alpha: 1, beta });
    });

    test('alpha = 0 gives beta·C', () => {
      check(k, { trans, n: 11, k: 5, alpha: 0, beta: 3 });
    });
  });

  test('n = 257 (crosses the MC block), both trans', () => {
    check(k, { trans: 0, n: 257, k: 257, alpha: 1, beta: 0, seed: 3 });
    check(k, { trans: 1, n: 257, k: 260, alpha: -0.5, beta: 1, seed: 4 }, false);
  });

  test('n past one NC block (1030) with a small k', () => {
    check(k, { trans: 0, n: 1030, k: 3, alpha: 1, beta: 0 }, false);
  });

  test('agrees with gemm(A, Aᵀ) up to rounding', () => {
    const n = 41, kk = 27;
    const a = randn(21, n * kk);
    const pa = k.alloc(n * kk), ps = k.alloc(n * n), pg = k.alloc(n * n);
    k.f64().set(a, pa / 8);
    k.syrk(0, n, kk, 1, pa, kk, 0, ps, n);
    k.gemm(0, 1, n, n, kk, 1, pa, kk, pa, kk, 0, pg, n);
    const h = k.f64();
    allClose(h.subarray(ps / 8, ps / 8 + n * n), h.subarray(pg / 8, pg / 8 + n * n), { atol: 1e-12, cols: n, label: 'syrk vs gemm' });
    k.free(pa);
    k.free(ps);
    k.free(pg);
  });
});

describe.each(KERNEL_VARIANTS)('hadamard on the %s backend', (backend) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await kernelsFor(backend);
  });

  const LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 1001];

  test.each(LENGTHS)('len = %i into a separate output, neighbours untouched', (len) => {
    const a = randn(len + 1, len), b = randn(len + 2, len);
    const pa = k.alloc(len + 1), pb = k.alloc(len + 1), po = k.alloc(len + 1);
    let h = k.f64();
    h.set(a, pa / 8);
    h.set(b, pb / 8);
    h.fill(SENTINEL, po / 8, po / 8 + len + 1);
    k.hadamard(len, pa, pb, po);
    h = k.f64();
    allClose(h.subarray(po / 8, po / 8 + len), a.map((x, i) => x * b[i]), { rtol: 0, atol: 0, label: `hadamard ${len}` });
    expect(h[po / 8 + len]).toBe(SENTINEL);
    k.free(pa);
    k.free(pb);
    k.free(po);
  });

  test.each(LENGTHS)('len = %i in place: out = a, out = b, and a = b = out (squares)', (len) => {
    const a = randn(len + 3, len), b = randn(len + 4, len);
    const pa = k.alloc(len + 1), pb = k.alloc(len + 1);
    const prod = a.map((x, i) => x * b[i]);
    k.f64().set(a, pa / 8);
    k.f64().set(b, pb / 8);
    k.hadamard(len, pa, pb, pa);
    allClose(k.f64().subarray(pa / 8, pa / 8 + len), prod, { rtol: 0, atol: 0, label: 'out = a' });
    k.f64().set(a, pa / 8);
    k.hadamard(len, pa, pb, pb);
    allClose(k.f64().subarray(pb / 8, pb / 8 + len), prod, { rtol: 0, atol: 0, label: 'out = b' });
    k.hadamard(len, pa, pa, pa);
    allClose(k.f64().subarray(pa / 8, pa / 8 + len), a.map((x) => x * x), { rtol: 0, atol: 0, label: 'a = b = out' });
    k.free(pa);
    k.free(pb);
  });
});

describe.each(KERNEL_VARIANTS)('mirrorLower on %s', (name) => {
  test.each([0, 1, 2, 3, 5, 31, 33, 65, 100])('n = %i, ldc = n + 3: upper = lower, lower and padding untouched', async (n) => {
    const k = await kernelsFor(name);
    const ldc = n + 3;
    const c = k.alloc(Math.max(1, n * ldc));
    const init = randn(7 + n, n * ldc);
    k.f64().set(init, c >> 3);
    k.mirrorLower(n, c, ldc);
    const h = k.f64().slice(c >> 3, (c >> 3) + n * ldc);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < ldc; j++) {
        const want = j < n && j > i ? init[j * ldc + i] : init[i * ldc + j];
        if (h[i * ldc + j] !== want) throw new Error(`(${i}, ${j}): ${h[i * ldc + j]} ≠ ${want}`);
      }
    }
    k.free(c);
  });
});
