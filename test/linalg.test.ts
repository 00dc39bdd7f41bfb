import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { init } from '../src/backend/init';
import * as linalg from '../src/backend/linalg';
import { ArgumentError, NonFiniteError, NotPositiveDefiniteError, ShapeError } from '../src/errors';
import { BACKENDS } from './helpers/backends';
import { allClose } from './helpers/allclose';
import { eye, matmul, norm, transpose } from './helpers/naive';
import { randn, randomSPD } from './helpers/random';

function addDiagonal(a: Float64Array, n: number, damping: number): Float64Array {
  const out = Float64Array.from(a);
  for (let i = 0; i < n; i++) out[i * n + i] += damping;
  return out;
}

/** Calls fn and returns what it threw (failing the test when it does not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** An SPD matrix (as L0·L0ᵀ) whose Cholesky pivot `pivot` is exactly −1. */
function failingAt(n: number, pivot: number): Float64Array {
  const g = randn(pivot, n * n);
  const l0 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) l0[i * n + j] = g[i * n + j] / Math.sqrt(n);
    l0[i * n + i] = 1 + Math.abs(g[i * n + i]);
  }
  const a = matmul(l0, l0, n, n, n, false, true);
  a[pivot * n + pivot] -= l0[pivot * n + pivot] ** 2 + 1;
  return a;
}

describe.each(BACKENDS)('linalg on the %s backend', (backend) => {
  beforeEach(async () => {
    await init({ backend });
  });

  describe('cholesky', () => {
    test.each([0, 1, 5, 64, 130])('n = %i: L·Lᵀ = A + λI, L lower triangular, A untouched', (n) => {
      const a = randomSPD(n + 3, n);
      const copy = Float64Array.from(a);
      const l = linalg.cholesky(a, n, { damping: 0.5 });
      expect(l).toBeInstanceOf(Float64Array);
      expect(l.length).toBe(n * n);
      expect(a).toEqual(copy);
      const above: number[] = [];
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (l[i * n + j] !== 0) above.push(i * n + j);
      expect(above).toEqual([]);
      const ad = addDiagonal(a, n, 0.5);
      allClose(matmul(l, l, n, n, n, false, true), ad, { rtol: 0, atol: 1e-13 * Math.max(norm(ad), 1), cols: n });
    });

    test('only the lower triangle is read; the default damping is 0', () => {
      const n = 40;
      const a = randomSPD(9, n);
      const skewed = Float64Array.from(a);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) skewed[i * n + j] = 1e6 * (i - j);
      allClose(linalg.cholesky(skewed, n), linalg.cholesky(a, n, { damping: 0 }), { rtol: 0, atol: 0, cols: n });
    });

    test('agrees with ml-matrix', () => {
      const n = 33;
      const a = randomSPD(21, n);
      const ml = new CholeskyDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)))));
      allClose(linalg.cholesky(a, n), Float64Array.from(ml.lowerTriangularMatrix.to1DArray()), { rtol: 1e-11, atol: 1e-13, cols: n });
    });

    test('a matrix whose pivot 37 goes negative throws NotPositiveDefiniteError with .pivot = 37', () => {
      const n = 80;
      const a = failingAt(n, 37);
      const copy = Float64Array.from(a);
      const e = thrown(() => linalg.cholesky(a, n));
      expect(e).toBeInstanceOf(NotPositiveDefiniteError);
      expect((e as NotPositiveDefiniteError).pivot).toBe(37);
      expect((e as NotPositiveDefiniteError).code).toBe('E_NOT_PD');
      expect((e as Error).message).toMatch(/pivot 37/);
      expect(a).toEqual(copy);
      // The same matrix with enough damping is fine, and the message names the damped matrix.
      expect(() => linalg.cholesky(a, n, { damping: 2 })).not.toThrow();
      expect(thrown(() => linalg.cholesky(a, n, { damping: 1e-3 }))).toHaveProperty('message', expect.stringMatching(/A \+ 0\.001·I/));
    });

    test('the zero matrix fails at pivot 0 undamped', () => {
      const e = thrown(() => linalg.cholesky(new Float64Array(9), 3));
      expect(e).toBeInstanceOf(NotPositiveDefiniteError);
      expect((e as NotPositiveDefiniteError).pivot).toBe(0);
    });
  });

  describe('solveSPD', () => {
    test.each([[1, 1], [7, 1], [65, 1], [65, 3], [100, 20], [129, 129]])('n = %i, nrhs = %i: (A + λI)·X = B, inputs untouched, agrees with ml-matrix', (n, nrhs) => {
      const a = randomSPD(n, n), b = randn(n + nrhs, n * nrhs);
      const ac = Float64Array.from(a), bc = Float64Array.from(b);
      const x = linalg.solveSPD(a, b, n, nrhs, { damping: 0.25 });
      expect(x.length).toBe(n * nrhs);
      expect(a).toEqual(ac);
      expect(b).toEqual(bc);
      const ad = addDiagonal(a, n, 0.25);
      const r = matmul(ad, x, n, n, nrhs);
      for (let i = 0; i < r.length; i++) r[i] -= b[i];
      expect(norm(r) / (norm(ad) * norm(x))).toBeLessThanOrEqual(1e-14);
      const ml = new CholeskyDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(ad.subarray(i * n, i * n + n)))));
      const mx = ml.solve(new Matrix(Array.from({ length: n }, (_, i) => Array.from(b.subarray(i * nrhs, i * nrhs + nrhs)))));
      allClose(x, Float64Array.from(mx.to1DArray()), { rtol: 1e-9, atol: 1e-12, cols: nrhs });
    });

    test('nrhs = 0 gives an empty result; n = 0 too', () => {
      expect(linalg.solveSPD(randomSPD(1, 4), new Float64Array(0), 4, 0).length).toBe(0);
      expect(linalg.solveSPD(new Float64Array(0), new Float64Array(0), 0, 3).length).toBe(0);
    });

    test('a non-PD matrix throws NotPositiveDefiniteError with the pivot', () => {
      const n = 50;
      const e = thrown(() => linalg.solveSPD(failingAt(n, 37), new Float64Array(n), n, 1));
      expect(e).toBeInstanceOf(NotPositiveDefiniteError);
      expect((e as NotPositiveDefiniteError).pivot).toBe(37);
    });
  });

  describe('inverseSPD', () => {
    test.each([1, 2, 31, 64, 97])('n = %i: exactly symmetric, (A + λI)·inv ≈ I, A untouched', (n) => {
      const a = randomSPD(n + 8, n);
      const copy = Float64Array.from(a);
      const inv = linalg.inverseSPD(a, n, { damping: 0.5 });
      expect(a).toEqual(copy);
      expect(inv).toEqual(transpose(inv, n, n));
      allClose(matmul(addDiagonal(a, n, 0.5), inv, n, n, n), eye(n), { rtol: 0, atol: 1e-12, cols: n });
    });

    test('a non-PD matrix throws NotPositiveDefiniteError with the pivot', () => {
      const e = thrown(() => linalg.inverseSPD(failingAt(45, 44), 45));
      expect(e).toBeInstanceOf(NotPositiveDefiniteError);
      expect((e as NotPositiveDefiniteError).pivot).toBe(44);
    });
  });

  describe('argument validation of the SPD routines', () => {
    const a = randomSPD(1, 3);
    const calls: Array<[string, (a: Float64Array, n: number, damping?: number) => unknown]> = [
      ['cholesky', (m, n, damping) => linalg.cholesky(m, n, { damping })],
      ['solveSPD', (m, n, damping) => linalg.solveSPD(m, new Float64Array(3), n, 1, { damping })],
      ['inverseSPD', (m, n, damping) => linalg.inverseSPD(m, n, { damping })],
    ];

    test.each(calls)('%s: a wrong length of a is a ShapeError naming a', (_name, call) => {
      const e = thrown(() => call(new Float64Array(8), 3));
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).argument).toBe('a');
      expect((e as Error).message).toMatch(/9/);
    });

    test.each(calls)('%s: a non-integer or negative n is a ShapeError naming n', (_name, call) => {
      for (const n of [2.5, -1, Number.NaN]) {
        const e = thrown(() => call(a, n));
        expect(e).toBeInstanceOf(ShapeError);
        expect((e as ShapeError).argument).toBe('n');
      }
    });

    test.each(calls)('%s: a non-Float64Array a is a ShapeError naming a', (_name, call) => {
      const e = thrown(() => call(Array.from(a) as unknown as Float64Array, 3));
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).argument).toBe('a');
    });

    test.each(calls)('%s: NaN or ±Infinity in a is a NonFiniteError naming a and the index', (_name, call) => {
      for (const [index, value] of [[4, Number.NaN], [2, Infinity], [6, -Infinity]] as const) {
        const bad = Float64Array.from(a);
        bad[index] = value;
        const e = thrown(() => call(bad, 3));
        expect(e).toBeInstanceOf(NonFiniteError);
        expect((e as NonFiniteError).argument).toBe('a');
        expect((e as NonFiniteError).index).toBe(index);
      }
    });

    test.each(calls)('%s: negative, NaN or infinite damping is an ArgumentError naming damping', (_name, call) => {
      for (const damping of [-1e-9, Number.NaN, Infinity]) {
        const e = thrown(() => call(a, 3, damping));
        expect(e).toBeInstanceOf(ArgumentError);
        expect((e as ArgumentError).argument).toBe('damping');
      }
    });

    test('solveSPD: b of the wrong length, a bad nrhs and NaN in b are named', () => {
      let e = thrown(() => linalg.solveSPD(a, new Float64Array(5), 3, 2));
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).argument).toBe('b');
      e = thrown(() => linalg.solveSPD(a, new Float64Array(3), 3, 1.5));
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).argument).toBe('nrhs');
      const b = new Float64Array(6);
      b[5] = Number.NaN;
      e = thrown(() => linalg.solveSPD(a, b, 3, 2));
      expect(e).toBeInstanceOf(NonFiniteError);
      expect((e as NonFiniteError).argument).toBe('b');
      expect((e as NonFiniteError).index).toBe(5);
    });
  });

  describe('gemm', () => {
    const m = 5, k = 7, n = 3;
    const a = randn(1, m * k), b = randn(2, k * n);

    test.each([[false, false], [true, false], [false, true], [true, true]])('transA = %s, transB = %s against the naive product', (tA, tB) => {
      const sa = tA ? transpose(a, m, k) : a, sb = tB ? transpose(b, k, n) : b;
      const sac = Float64Array.from(sa), sbc = Float64Array.from(sb);
      const c = linalg.gemm(sa, sb, m, k, n, { transA: tA, transB: tB, alpha: 1.5 });
      expect(sa).toEqual(sac);
      expect(sb).toEqual(sbc);
      allClose(c, matmul(a, b, m, k, n).map((x) => 1.5 * x), { rtol: 1e-13, atol: 1e-14, cols: n });
    });

    test('beta with c accumulates into c and returns c itself', () => {
      const c = randn(3, m * n);
      const expected = matmul(a, b, m, k, n).map((x, i) => 2 * x - 0.5 * c[i]);
      const out = linalg.gemm(a, b, m, k, n, { alpha: 2, beta: -0.5, c });
      expect(out).toBe(c);
      allClose(c, expected, { rtol: 1e-13, atol: 1e-14, cols: n });
    });

    test('c without beta is overwritten (its old contents ignored)', () => {
      const c = new Float64Array(m * n).fill(123);
      expect(linalg.gemm(a, b, m, k, n, { c })).toBe(c);
      allClose(c, matmul(a, b, m, k, n), { rtol: 1e-13, atol: 1e-14, cols: n });
    });

    test('an overflowing product into c is a NonFiniteError naming result, with c untouched', () => {
      const big = new Float64Array(4).fill(1e300), c = Float64Array.from([1, 2, 3, 4]);
      const e = thrown(() => linalg.gemm(big, big, 2, 2, 2, { c }));
      expect(e).toBeInstanceOf(NonFiniteError);
      expect((e as NonFiniteError).argument).toBe('result');
      expect(Array.from(c)).toEqual([1, 2, 3, 4]);
    });

    test('beta without c is an ArgumentError naming beta', () => {
      const e = thrown(() => linalg.gemm(a, b, m, k, n, { beta: 1 }));
      expect(e).toBeInstanceOf(ArgumentError);
      expect((e as ArgumentError).argument).toBe('beta');
    });

    test('shape and finiteness errors name the argument', () => {
      let e = thrown(() => linalg.gemm(a, b, m, k + 1, n));
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).argument).toBe('a');
      e = thrown(() => linalg.gemm(a, b, m, k, n, { c: new Float64Array(2) }));
      expect((e as ShapeError).argument).toBe('c');
      e = thrown(() => linalg.gemm(a, b, m, 7.5, n));
      expect((e as ShapeError).argument).toBe('k');
      const bad = Float64Array.from(b);
      bad[4] = Number.NaN;
      e = thrown(() => linalg.gemm(a, bad, m, k, n));
      expect(e).toBeInstanceOf(NonFiniteError);
      expect((e as NonFiniteError).argument).toBe('b');
      expect((e as NonFiniteError).index).toBe(4);
    });

    test('k = 0 gives beta·c; m = 0 gives an empty result', () => {
      const c = Float64Array.from([1, 2, 3, 4]);
      linalg.gemm(new Float64Array(0), new Float64Array(0), 2, 0, 2, { beta: 3, c });
      expect(Array.from(c)).toEqual([3, 6, 9, 12]);
      expect(linalg.gemm(new Float64Array(0), b, 0, k, n).length).toBe(0);
    });
  });

  describe('gram', () => {
    test.each([[1, 1], [6, 4], [33, 17]])('rows = %i, cols = %i: A·Aᵀ, exactly symmetric, input untouched', (rows, cols) => {
      const a = randn(rows * cols, rows * cols);
      const copy = Float64Array.from(a);
      const g = linalg.gram(a, rows, cols);
      expect(a).toEqual(copy);
      expect(g).toEqual(transpose(g, rows, rows));
      allClose(g, matmul(a, a, rows, cols, rows, false, true), { rtol: 1e-13, atol: 1e-13, cols: rows });
    });

    test('a wrong length is a ShapeError naming a', () => {
      const e = thrown(() => linalg.gram(new Float64Array(5), 2, 3));
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).argument).toBe('a');
    });
  });
});
