import fc from 'fast-check';
import { CholeskyDecomposition, Matrix, inverse as mlInverse } from 'ml-matrix';
import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { eye, matmul, norm, transpose } from '../helpers/naive';
import { randn, randomSPD } from '../helpers/random';
import type { Kernels, Ptr } from '../../src/kernels/types';

const SIZES = [0, 1, 2, 3, 5, 7, 9, 16, 17, 31, 33, 64, 65, 127, 129, 257];
const GARBAGE = -7.25e3; // in padding and upper triangles that must be neither read nor written

/** Test inputs and oracle results are computed once and shared by both backends' runs. */
const memo = new Map<string, unknown>();
function cached<T>(key: string, make: () => T): T {
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key) as T;
}
const spd = (seed: number, n: number): Float64Array => cached(`spd ${seed} ${n}`, () => randomSPD(seed, n));

// ---------- oracles (obvious, unblocked, test-only) ----------

/** Column-by-column Cholesky of the full symmetric n×n a + λI; null when not PD. */
function naiveCholesky(a: ArrayLike<number>, n: number, damping = 0): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j] + damping;
    for (let p = 0; p < j; p++) d -= l[j * n + p] ** 2;
    if (!(d > 0)) return null;
    l[j * n + j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= l[i * n + p] * l[j * n + p];
      l[i * n + j] = s / l[j * n + j];
    }
  }
  return l;
}

/** Solves op(L)·X = B by substitution, op = identity or transpose, B n×m. */
function naiveTriSolve(l: ArrayLike<number>, b: ArrayLike<number>, n: number, m: number, trans: boolean): Float64Array {
  const x = Float64Array.from(b);
  const lt = (i: number, j: number) => (trans ? l[j * n + i] : l[i * n + j]);
  for (let c = 0; c < m; c++) {
    for (let t = 0; t < n; t++) {
      const i = trans ? n - 1 - t : t;
      let s = x[i * m + c];
      for (let u = 0; u < t; u++) {
        const p = trans ? n - 1 - u : u;
        s -= lt(i, p) * x[p * m + c];
      }
      x[i * m + c] = s / lt(i, i);
    }
  }
  return x;
}

function addDiagonal(a: ArrayLike<number>, n: number, damping: number): Float64Array {
  const out = Float64Array.from(a);
  for (let i = 0; i < n; i++) out[i * n + i] += damping;
  return out;
}

function toMl(a: ArrayLike<number>, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, a[i * cols + j]);
  return m;
}

function fromMl(m: Matrix): Float64Array {
  return Float64Array.from(m.to1DArray());
}

/** ‖(A)·X − B‖_F / (‖A‖_F·‖X‖_F): the normwise backward error of a computed solution X. */
function backwardError(a: Float64Array, x: Float64Array, b: Float64Array, n: number, m: number): number {
  const r = matmul(a, x, n, n, m);
  for (let i = 0; i < r.length; i++) r[i] -= b[i];
  const denom = norm(a) * norm(x);
  return denom === 0 ? norm(r) : norm(r) / denom;
}

/** A random lower-triangular matrix with a comfortably positive diagonal. */
function randomLower(seed: number, n: number): Float64Array {
  const g = randn(seed, n * n);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) l[i * n + j] = g[i * n + j] / Math.sqrt(n);
    l[i * n + i] = 1 + Math.abs(g[i * n + i]);
  }
  return l;
}

/**
 * Q·diag(s)·Qᵀ with Q a random orthogonal matrix (product of n Householder reflections)
 * and s log-spaced from 1 down to 1/cond: an SPD matrix of condition number ≈ cond.
 */
function spdWithCondition(seed: number, n: number, cond: number): Float64Array {
  const q = eye(n);
  const g = randn(seed, n * n);
  for (let r = 0; r < n; r++) {
    const v = g.subarray(r * n, r * n + n);
    const vv = v.reduce((s, x) => s + x * x, 0);
    if (vv === 0) continue;
    // Q ← Q·(I − 2vvᵀ/vᵀv)
    for (let i = 0; i < n; i++) {
      let qv = 0;
      for (let j = 0; j < n; j++) qv += q[i * n + j] * v[j];
      const f = (2 * qv) / vv;
      for (let j = 0; j < n; j++) q[i * n + j] -= f * v[j];
    }
  }
  const spectrum = Float64Array.from({ length: n }, (_, p) => cond ** (-p / Math.max(n - 1, 1)));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += q[i * n + p] * spectrum[p] * q[j * n + p];
      a[i * n + j] = a[j * n + i] = s;
    }
  }
  return a;
}

// ---------- moving matrices in and out of a backend ----------

class Arena {
  private ptrs: Ptr[] = [];
  constructor(readonly k: Kernels) {}

  /** rows×ld block holding `data` (rows×cols) with GARBAGE in the padding columns. */
  put(data: ArrayLike<number>, rows: number, cols: number, ld = cols): Ptr {
    const p = this.k.alloc(Math.max(rows * ld, 1));
    this.ptrs.push(p);
    const h = this.k.f64(), o = p >> 3;
    h.fill(GARBAGE, o, o + Math.max(rows * ld, 1));
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) h[o + i * ld + j] = data[i * cols + j];
    return p;
  }

  /** An uninitialised rows×ld block (GARBAGE everywhere). */
  empty(rows: number, ld: number): Ptr {
    return this.put(new Float64Array(0), rows, 0, ld);
  }

  /** The rows×cols matrix at p (leading dimension ld), compacted. */
  get(p: Ptr, rows: number, cols: number, ld = cols): Float64Array {
    const h = this.k.f64(), o = p >> 3;
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = h[o + i * ld + j];
    return out;
  }

  /** Throws unless every padding column (cols ≤ j < ld) still holds GARBAGE. */
  expectPaddingIntact(p: Ptr, rows: number, cols: number, ld: number, label: string): void {
    const h = this.k.f64(), o = p >> 3;
    for (let i = 0; i < rows; i++) {
      for (let j = cols; j < ld; j++) {
        if (h[o + i * ld + j] !== GARBAGE) throw new Error(`${label}: padding (${i}, ${j}) was written`);
      }
    }
  }

  freeAll(): void {
    for (const p of this.ptrs) this.k.free(p);
    this.ptrs = [];
  }
}

/** Copy of the full matrix with its strict upper triangle replaced by `value`. */
function withUpper(a: ArrayLike<number>, n: number, value: number): Float64Array {
  const out = Float64Array.from(a);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[i * n + j] = value;
  return out;
}

function expectUpperZero(l: Float64Array, n: number, label: string): void {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (l[i * n + j] !== 0) throw new Error(`${label}: L[${i}, ${j}] = ${l[i * n + j]} above the diagonal`);
    }
  }
}

/** An SPD matrix whose Cholesky pivot `pivot` is exactly −1 (all earlier pivots untouched). */
function failingAt(seed: number, n: number, pivot: number): Float64Array {
  return cached(`failing ${seed} ${n} ${pivot}`, () => {
    const l0 = randomLower(seed, n);
    const a = matmul(l0, l0, n, n, n, false, true);
    a[pivot * n + pivot] -= l0[pivot * n + pivot] ** 2 + 1;
    return a;
  });
}

describe.each(KERNEL_VARIANTS)('cholesky kernels (%s)', (name) => {
  let k: Kernels;
  let m: Arena;
  beforeAll(async () => {
    k = await kernelsFor(name);
    m = new Arena(k);
  });
  afterEach(() => m.freeAll());

  describe('potrf', () => {
    test.each(SIZES)('n = %i: L·Lᵀ = A + λI, zeros above the diagonal, matches the oracle and ml-matrix', (n) => {
      const damping = 0.25;
      const a = spd(100 + n, n);
      const pa = m.put(withUpper(a, n, GARBAGE), n, n);
      const pl = m.empty(n, n);
      expect(k.potrf(n, pa, n, damping, pl, n)).toBe(0);
      const l = m.get(pl, n, n);
      expectUpperZero(l, n, `n=${n}`);
      const ad = addDiagonal(a, n, damping);
      const oracle = cached(`chol ${n}`, () => naiveCholesky(a, n, damping)!);
      allClose(l, oracle, { rtol: 1e-11, atol: 1e-12, cols: n, label: `L vs oracle, n=${n}` });
      allClose(matmul(l, l, n, n, n, false, true), ad, { rtol: 0, atol: 1e-13 * Math.max(norm(ad), 1), cols: n, label: 'L·Lᵀ' });
      if (n > 0 && n <= 129) {
        const ml = new CholeskyDecomposition(toMl(ad, n, n));
        expect(ml.isPositiveDefinite()).toBe(true);
        allClose(l, fromMl(ml.lowerTriangularMatrix), { rtol: 1e-10, atol: 1e-12, cols: n, label: 'L vs ml-matrix' });
      }
      // A (including its upper garbage) is untouched when not factored in place.
      allClose(m.get(pa, n, n), withUpper(a, n, GARBAGE), { rtol: 0, atol: 0, cols: n, label: 'A after potrf' });
    });

    test.each([5, 63, 64, 65, 130])('n = %i: in place (l = a) equals out of place, bit for bit', (n) => {
      const a = withUpper(spd(7 * n, n), n, Number.NaN);
      const pa = m.put(a, n, n);
      const pl = m.empty(n, n);
      expect(k.potrf(n, pa, n, 0.125, pl, n)).toBe(0);
      expect(k.potrf(n, pa, n, 0.125, pa, n)).toBe(0);
      allClose(m.get(pa, n, n), m.get(pl, n, n), { rtol: 0, atol: 0, cols: n, label: 'in place vs out of place' });
    });

    test.each([3, 66, 129])('n = %i: the upper triangle of A is never read (NaN there changes nothing)', (n) => {
      const a = spd(5 * n, n);
      const clean = m.put(a, n, n), dirty = m.put(withUpper(a, n, Number.NaN), n, n);
      const l1 = m.empty(n, n), l2 = m.empty(n, n);
      expect(k.potrf(n, clean, n, 0, l1, n)).toBe(0);
      expect(k.potrf(n, dirty, n, 0, l2, n)).toBe(0);
      allClose(m.get(l2, n, n), m.get(l1, n, n), { rtol: 0, atol: 0, cols: n });
    });

    test.each([[1, 2, 3], [17, 20, 19], [65, 67, 70], [129, 131, 129]])('n = %i, lda = %i, ldl = %i: leading dimensions > n, padding untouched', (n, lda, ldl) => {
      const a = spd(3 * n, n);
      const pa = m.put(a, n, n, lda);
      const pl = m.empty(n, ldl);
      expect(k.potrf(n, pa, lda, 0.5, pl, ldl)).toBe(0);
      m.expectPaddingIntact(pl, n, n, ldl, 'L');
      m.expectPaddingIntact(pa, n, n, lda, 'A');
      const l = m.get(pl, n, n, ldl);
      expectUpperZero(l, n, 'strided L');
      allClose(l, naiveCholesky(a, n, 0.5)!, { rtol: 1e-11, atol: 1e-12, cols: n });
      // In place with a leading dimension > n.
      expect(k.potrf(n, pa, lda, 0.5, pa, lda)).toBe(0);
      allClose(m.get(pa, n, n, lda), l, { rtol: 0, atol: 0, cols: n, label: 'strided in place' });
      m.expectPaddingIntact(pa, n, n, lda, 'A in place');
    });

    test.each([[40, 37], [100, 37], [100, 0], [150, 100], [260, 259], [129, 128]])('n = %i: a matrix whose pivot %i goes negative is reported there', (n, pivot) => {
      const a = failingAt(n + pivot, n, pivot);
      expect(cached(`ml pd ${n} ${pivot}`, () => new CholeskyDecomposition(toMl(a, n, n)).isPositiveDefinite())).toBe(false);
      const pa = m.put(a, n, n);
      const pl = m.empty(n, n);
      expect(k.potrf(n, pa, n, 0, pl, n)).toBe(pivot + 1);
      // Enough damping makes the same matrix positive definite.
      expect(k.potrf(n, pa, n, 2, pl, n)).toBe(0);
      allClose(m.get(pl, n, n), naiveCholesky(a, n, 2)!, { rtol: 1e-10, atol: 1e-12, cols: n });
    });

    test('the zero matrix fails at pivot 0 undamped and factors to √λ·I damped', () => {
      const n = 70;
      const pa = m.put(new Float64Array(n * n), n, n);
      const pl = m.empty(n, n);
      expect(k.potrf(n, pa, n, 0, pl, n)).toBe(1);
      expect(k.potrf(n, pa, n, 4, pl, n)).toBe(0);
      allClose(m.get(pl, n, n), eye(n).map((x) => 2 * x), { rtol: 0, atol: 0, cols: n });
    });

    test.each([
      ['NaN below the diagonal', 90, 70, 3, Number.NaN, 70],
      ['NaN on the diagonal', 90, 66, 66, Number.NaN, 66],
      ['+Infinity below the diagonal', 90, 80, 79, Infinity, 80],
      ['-Infinity below the diagonal', 20, 4, 1, -Infinity, 4],
      ['+Infinity on the diagonal', 20, 9, 9, Infinity, 9],
    ])('%s of row i is reported as pivot i, never as success', (_what, n, i, j, value, pivot) => {
      const a = Float64Array.from(spd(11, n));
      a[i * n + j] = value;
      const pa = m.put(a, n, n);
      const pl = m.empty(n, n);
      expect(k.potrf(n, pa, n, 0.5, pl, n)).toBe(pivot + 1);
    });

    test('overflowing intermediate values are reported as a failed pivot, not as an infinite L', () => {
      // L[1,0] = 1e200 / 1e-150 overflows to ∞, so pivot 1 becomes −∞.
      const a = new Float64Array([1e-300, 0, 1e200, 1]);
      const pa = m.put(a, 2, 2);
      const pl = m.empty(2, 2);
      expect(k.potrf(2, pa, 2, 0, pl, 2)).toBe(2);
    });

    test('n = 0 succeeds and touches nothing', () => {
      const pl = m.empty(1, 1);
      expect(k.potrf(0, pl, 0, 0, pl, 0)).toBe(0);
      expect(k.f64()[pl >> 3]).toBe(GARBAGE);
    });
  });

  /** L of a random SPD matrix, written with GARBAGE above its diagonal (which the solves must not read). */
  function factorFor(n: number, seed: number, ldl = n): { l: Float64Array; pl: Ptr; a: Float64Array } {
    const { a, l } = cached(`factor ${seed} ${n}`, () => {
      const a = addDiagonal(spd(seed, n), n, 0.5);
      return { a, l: naiveCholesky(a, n)! };
    });
    return { l, pl: m.put(withUpper(l, n, GARBAGE), n, n, ldl), a };
  }

  describe('trsm', () => {
    const cases: Array<[number, number]> = [];
    for (const n of [0, 1, 2, 3, 17, 64, 65, 129, 200]) for (const nrhs of [1, 2, 5, 16, 17, 70]) cases.push([n, nrhs]);

    test.each(cases)('n = %i, nrhs = %i: L·X = B and Lᵀ·X = B against substitution', (n, nrhs) => {
      const ldl = n + 3, ldb = nrhs + 2;
      const { l, pl } = factorFor(n, n + 1, ldl);
      const b = randn(n * 31 + nrhs, n * nrhs);
      for (const trans of [0, 1]) {
        const pb = m.put(b, n, nrhs, ldb);
        k.trsm(trans, n, nrhs, pl, ldl, pb, ldb);
        const x = m.get(pb, n, nrhs, ldb);
        m.expectPaddingIntact(pb, n, nrhs, ldb, 'B');
        allClose(x, naiveTriSolve(l, b, n, nrhs, trans === 1), { rtol: 1e-10, atol: 1e-11, cols: nrhs, label: `trans=${trans}` });
        const lop = trans ? transpose(l, n, n) : l;
        expect(backwardError(lop, x, b, n, nrhs)).toBeLessThanOrEqual(1e-14);
      }
      // L itself (and its garbage upper triangle and padding) is untouched.
      allClose(m.get(pl, n, n, ldl), withUpper(l, n, GARBAGE), { rtol: 0, atol: 0, cols: n, label: 'L after trsm' });
      m.expectPaddingIntact(pl, n, n, ldl, 'L');
    });

    test('a single strided column (ldb > 1) is solved in place, its neighbours untouched', () => {
      const n = 77, ldb = 3;
      const { l, pl } = factorFor(n, 9);
      const b = randn(4, n);
      for (const trans of [0, 1]) {
        const pb = m.put(b, n, 1, ldb);
        k.trsm(trans, n, 1, pl, n, pb, ldb);
        m.expectPaddingIntact(pb, n, 1, ldb, 'column neighbours');
        allClose(m.get(pb, n, 1, ldb), naiveTriSolve(l, b, n, 1, trans === 1), { rtol: 1e-10, atol: 1e-11 });
      }
    });
  });

  describe('potrs', () => {
    const cases: Array<[number, number]> = [];
    for (const n of [1, 3, 33, 64, 127, 129, 257]) for (const nrhs of [1, 2, 16, 64]) cases.push([n, nrhs]);

    test.each(cases)('n = %i, nrhs = %i: (A + λI)·X = B with a tiny backward error, matches ml-matrix', (n, nrhs) => {
      const damping = 0.5;
      const a = spd(n + 17, n);
      const ad = addDiagonal(a, n, damping);
      const b = randn(n + nrhs, n * nrhs);
      const pl = m.put(a, n, n);
      expect(k.potrf(n, pl, n, damping, pl, n)).toBe(0);
      const ldb = nrhs + 1;
      const pb = m.put(b, n, nrhs, ldb);
      k.potrs(n, nrhs, pl, n, pb, ldb);
      m.expectPaddingIntact(pb, n, nrhs, ldb, 'B');
      const x = m.get(pb, n, nrhs, ldb);
      expect(backwardError(ad, x, b, n, nrhs)).toBeLessThanOrEqual(1e-14);
      if (n <= 129) {
        const ml = new CholeskyDecomposition(toMl(ad, n, n)).solve(toMl(b, n, nrhs));
        allClose(x, fromMl(ml), { rtol: 1e-9, atol: 1e-11, cols: nrhs, label: 'X vs ml-matrix' });
      }
    });

    test('n = 0 or nrhs = 0 is a no-op', () => {
      const pb = m.empty(2, 2);
      k.potrs(0, 2, pb, 1, pb, 2);
      k.potrs(2, 0, pb, 2, pb, 2);
      expect(Array.from(m.get(pb, 2, 2))).toEqual([GARBAGE, GARBAGE, GARBAGE, GARBAGE]);
    });
  });

  describe('potri', () => {
    test.each(SIZES)('n = %i: exactly symmetric, (A + λI)·inv ≈ I, matches ml-matrix', (n) => {
      const damping = 0.5;
      const a = spd(n + 41, n);
      const ad = addDiagonal(a, n, damping);
      const ldl = n + 1, ldo = n + 2;
      const pl = m.put(a, n, n, ldl);
      expect(k.potrf(n, pl, ldl, damping, pl, ldl)).toBe(0);
      const po = m.empty(n, ldo);
      k.potri(n, pl, ldl, po, ldo);
      m.expectPaddingIntact(po, n, n, ldo, 'out');
      const inv = m.get(po, n, n, ldo);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < i; j++) {
          if (inv[i * n + j] !== inv[j * n + i]) throw new Error(`inv not symmetric at (${i}, ${j})`);
        }
      }
      allClose(matmul(ad, inv, n, n, n), eye(n), { rtol: 0, atol: 1e-12, cols: n, label: 'A·inv' });
      if (n > 0 && n <= 129) {
        allClose(inv, fromMl(mlInverse(toMl(ad, n, n))), { rtol: 1e-9, atol: 1e-12, cols: n, label: 'inv vs ml-matrix' });
      }
    });

    test('repeated calls with shrinking and growing n reuse scratch correctly', () => {
      for (const n of [150, 20, 90, 151]) {
        const { a, pl } = factorFor(n, n);
        const po = m.empty(n, n);
        k.potri(n, pl, n, po, n);
        allClose(matmul(a, m.get(po, n, n), n, n, n), eye(n), { rtol: 0, atol: 1e-12, cols: n, label: `n=${n}` });
      }
    });
  });

  describe('properties (fast-check) on random SPD matrices up to condition 1e10', () => {
    const problem = fc.record({
      n: fc.integer({ min: 1, max: 80 }),
      nrhs: fc.integer({ min: 1, max: 6 }),
      log10Cond: fc.integer({ min: 0, max: 10 }),
      damping: fc.constantFrom(0, 1e-9, 1e-3, 1),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });

    test('potrf then potrs: backward errors of L·Lᵀ and of X are ≤ 1e-13', () => {
      fc.assert(
        fc.property(problem, ({ n, nrhs, log10Cond, damping, seed }) => {
          const a = spdWithCondition(seed, n, 10 ** log10Cond);
          const ad = addDiagonal(a, n, damping);
          const pl = m.put(withUpper(a, n, Number.NaN), n, n);
          const info = k.potrf(n, pl, n, damping, pl, n);
          if (info !== 0) throw new Error(`potrf failed at pivot ${info - 1}`);
          const l = m.get(pl, n, n);
          const llt = matmul(l, l, n, n, n, false, true);
          for (let i = 0; i < llt.length; i++) llt[i] -= ad[i];
          expect(norm(llt) / norm(ad)).toBeLessThanOrEqual(1e-13);
          const b = randn(seed ^ 0x5bd1e995, n * nrhs);
          const pb = m.put(b, n, nrhs);
          k.potrs(n, nrhs, pl, n, pb, nrhs);
          expect(backwardError(ad, m.get(pb, n, nrhs), b, n, nrhs)).toBeLessThanOrEqual(1e-13);
          m.freeAll();
        }),
        { numRuns: 30, seed: 20240611 },
      );
    });

    test('potri: exactly symmetric with residual ‖(A + λI)·X − I‖ ≤ 1e-13·‖A + λI‖·‖X‖', () => {
      fc.assert(
        fc.property(problem, ({ n, log10Cond, damping, seed }) => {
          const ad = addDiagonal(spdWithCondition(seed, n, 10 ** log10Cond), n, damping);
          const pl = m.put(ad, n, n);
          expect(k.potrf(n, pl, n, 0, pl, n)).toBe(0);
          const po = m.empty(n, n);
          k.potri(n, pl, n, po, n);
          const x = m.get(po, n, n);
          expect(x).toEqual(transpose(x, n, n));
          expect(backwardError(ad, x, eye(n), n, n)).toBeLessThanOrEqual(1e-13);
          m.freeAll();
        }),
        { numRuns: 20, seed: 7 },
      );
    });
  });
});

describe('the two backends agree', () => {
  test.each([1, 9, 64, 65, 200])('n = %i: potrf, potrs and potri of WASM and JS agree to rounding', async (n) => {
    const [w, j] = await Promise.all([kernelsFor('wasm'), kernelsFor('js')]);
    const a = spd(n * 13, n);
    const b = randn(n, n * 3);
    const results = [w, j].map((k) => {
      const ar = new Arena(k);
      const pl = ar.put(a, n, n), pb = ar.put(b, n, 3), po = ar.empty(n, n);
      expect(k.potrf(n, pl, n, 0.1, pl, n)).toBe(0);
      k.potrs(n, 3, pl, n, pb, 3);
      k.potri(n, pl, n, po, n);
      const out = { l: ar.get(pl, n, n), x: ar.get(pb, n, 3), inv: ar.get(po, n, n) };
      ar.freeAll();
      return out;
    });
    allClose(results[0].l, results[1].l, { rtol: 1e-12, atol: 1e-13, cols: n, label: 'L' });
    allClose(results[0].x, results[1].x, { rtol: 1e-11, atol: 1e-12, cols: 3, label: 'X' });
    allClose(results[0].inv, results[1].inv, { rtol: 1e-11, atol: 1e-12, cols: n, label: 'inv' });
  });
});

