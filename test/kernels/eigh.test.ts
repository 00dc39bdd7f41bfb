import fc from 'fast-check';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { matmul, norm, transpose } from '../helpers/naive';
import { randn, randomSPD, rng } from '../helpers/random';
import type { Kernels } from '../../src/kernels/types';

// ---------------------------------------------------------------------------------------------
// Test matrices (full symmetric, row-major, n×n).

function symmetrize(m: Float64Array, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = 0.5 * (m[i * n + j] + m[j * n + i]);
  return a;
}

/** A random orthogonal n×n matrix: modified Gram–Schmidt on the rows of a Gaussian matrix (twice, for exactness). */
function randomOrthogonal(seed: number, n: number): Float64Array {
  const q = randn(seed, n * n);
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        let d = 0;
        for (let c = 0; c < n; c++) d += q[i * n + c] * q[j * n + c];
        for (let c = 0; c < n; c++) q[i * n + c] -= d * q[j * n + c];
      }
      let s = 0;
      for (let c = 0; c < n; c++) s += q[i * n + c] ** 2;
      s = 1 / Math.sqrt(s);
      for (let c = 0; c < n; c++) q[i * n + c] *= s;
    }
  }
  return q;
}

/** Q·diag(lambda)·Qᵀ for a random orthogonal Q, symmetrized exactly. */
function withSpectrum(seed: number, lambda: ArrayLike<number>): Float64Array {
  const n = lambda.length;
  const q = randomOrthogonal(seed, n);
  const ql = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) ql[i * n + j] = q[i * n + j] * lambda[j];
  return symmetrize(matmul(ql, q, n, n, n, false, true), n);
}

interface Case {
  name: string;
  make(n: number): Float64Array;
}

const CASES: Case[] = [
  { name: 'random symmetric', make: (n) => symmetrize(randn(1000 + n, n * n), n) },
  { name: 'random SPD', make: (n) => randomSPD(2000 + n, n) },
  {
    // Eigenvalues log-spaced over 1e-6..1e4: condition number 1e10.
    name: 'ill-conditioned SPD (cond 1e10)',
    make: (n) => withSpectrum(3000 + n, Array.from({ length: n }, (_, i) => 10 ** (n === 1 ? 4 : -6 + (10 * i) / (n - 1)))),
  },
  {
    // Gram matrix X·Xᵀ of a thin n×r matrix: rank r, the other n − r eigenvalues are zero up to rounding.
    name: 'rank-deficient PSD Gram',
    make: (n) => {
      const r = Math.max(1, Math.floor(n / 3));
      return symmetrize(matmul(randn(4000 + n, n * r), randn(4000 + n, n * r), n, r, n, false, true), n);
    },
  },
  {
    // Eigenvalues 3, 3, 3, −1, −1, 0.5, 3, 3, 3, −1, … : high multiplicities.
    name: 'repeated eigenvalues',
    make: (n) => withSpectrum(5000 + n, Array.from({ length: n }, (_, i) => [3, 3, 3, -1, -1, 0.5][i % 6])),
  },
  {
    // Unsorted, with a repeated value and a negative one.
    name: 'diagonal',
    make: (n) => {
      const a = new Float64Array(n * n);
      const u = rng(6000 + n);
      for (let i = 0; i < n; i++) a[i * n + i] = i % 4 === 1 ? 2 : 10 * u() - 5;
      return a;
    },
  },
  { name: 'zero', make: (n) => new Float64Array(n * n) },
];

const SIZES = [0, 1, 2, 3, 5, 7, 9, 16, 17, 31, 33, 64, 65, 127, 129];

// ---------------------------------------------------------------------------------------------
// Running the kernel with padded strides and garbage in everything it must not read.

interface Result {
  info: number;
  w: Float64Array;
  v: Float64Array;
}

/** Garbage that must never influence the result: NaN, ±Inf, huge values. */
const GARBAGE = [NaN, Infinity, -Infinity, 1e300, -7.5];

/**
 * Runs syev on the lower triangle of `a` (n×n) with lda = n + padA and ldv = n + padV. The upper
 * triangle and the padding of A are filled with garbage; the whole A region is checked unchanged,
 * and V's padding columns (pre-filled with NaN) untouched.
 */
function run(k: Kernels, a: Float64Array, n: number, padA = 3, padV = 2): Result {
  const lda = n + padA, ldv = n + padV;
  const pa = k.alloc(Math.max(1, n * lda)), pw = k.alloc(Math.max(1, n)), pv = k.alloc(Math.max(1, n * ldv));
  try {
    const h = k.f64();
    const input = new Float64Array(n * lda);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < lda; j++) input[i * lda + j] = j <= i ? a[i * n + j] : GARBAGE[(i + j) % GARBAGE.length];
    }
    h.set(input, pa >> 3);
    h.fill(NaN, pv >> 3, (pv >> 3) + n * ldv);
    const info = k.syev(n, pa, lda, pw, pv, ldv);
    const h2 = k.f64(); // the kernel may have grown memory
    const after = h2.slice(pa >> 3, (pa >> 3) + n * lda);
    for (let i = 0; i < after.length; i++) {
      if (!Object.is(after[i], input[i])) throw new Error(`A was modified at element ${i}: ${input[i]} → ${after[i]}`);
    }
    const w = h2.slice(pw >> 3, (pw >> 3) + n);
    const v = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) v[i * n + j] = h2[(pv >> 3) + i * ldv + j];
    for (let i = 0; i < n; i++) {
      for (let j = n; j < ldv; j++) {
        if (!Number.isNaN(h2[(pv >> 3) + i * ldv + j])) throw new Error(`V's padding was written at row ${i}, column ${j}`);
      }
    }
    return { info, w, v };
  } finally {
    k.free(pa);
    k.free(pw);
    k.free(pv);
  }
}

/**
 * ‖VᵀV − I‖_F bound. Rounding could make it grow like n^1.5·ε (n² entries, each an n-term sum),
 * but the measured worst case up to n = 257 is 1.5e-13 (both backends, every case here), so one
 * fixed 1e-12 still leaves a margin of 6× without any n-dependence.
 */
const ORTHO_TOL = 1e-12;

/** Asserts the decomposition: ascending w, ‖AV − VΛ‖_F ≤ 1e-11‖A‖_F, ‖VᵀV − I‖_F ≤ ORTHO_TOL. */
function checkDecomposition(a: Float64Array, n: number, { info, w, v }: Result, label: string): void {
  expect(info).toBe(0);
  for (let i = 0; i < n; i++) expect(Number.isFinite(w[i])).toBe(true);
  for (let i = 1; i < n; i++) {
    if (!(w[i - 1] <= w[i])) throw new Error(`${label}: eigenvalues not ascending at ${i}: ${w[i - 1]} > ${w[i]}`);
  }
  const av = matmul(a, v, n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) av[i * n + j] -= v[i * n + j] * w[j];
  const anorm = norm(a);
  const residual = norm(av);
  if (!(residual <= 1e-11 * anorm)) throw new Error(`${label}: ‖AV − VΛ‖_F = ${residual} > 1e-11·‖A‖_F = ${1e-11 * anorm}`);
  const vtv = matmul(v, v, n, n, n, true, false);
  for (let i = 0; i < n; i++) vtv[i * n + i] -= 1;
  const ortho = norm(vtv);
  if (!(ortho <= ORTHO_TOL)) throw new Error(`${label}: ‖VᵀV − I‖_F = ${ortho} > ${ORTHO_TOL}`);
}

/** ml-matrix's symmetric EVD (tred2 + tql2), eigenvalues sorted ascending: the independent oracle. */
const referenceCache = new Map<string, Float64Array>();
function referenceEigenvalues(key: string, a: Float64Array, n: number): Float64Array {
  let ref = referenceCache.get(key);
  if (!ref) {
    const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)));
    const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
    ref = Float64Array.from(evd.realEigenvalues).sort();
    referenceCache.set(key, ref);
  }
  return ref;
}

/** Eigenvalues of a symmetric matrix are perturbed by at most ‖E‖₂ ≈ ε‖A‖: compare with an absolute tolerance. */
function checkAgainstReference(a: Float64Array, n: number, w: Float64Array, key: string): void {
  if (n === 0) return;
  allClose(w, referenceEigenvalues(key, a, n), { rtol: 1e-12, atol: 1e-12 * norm(a), label: key });
}

// ---------------------------------------------------------------------------------------------

describe.each(KERNEL_VARIANTS)('syev (%s)', (backend) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await kernelsFor(backend);
  });

  describe.each(CASES)('$name', ({ name, make }) => {
    test.each(SIZES)('n = %i', (n) => {
      const a = make(n);
      const result = run(k, a, n);
      checkDecomposition(a, n, result, `${name} n=${n}`);
      checkAgainstReference(a, n, result.w, `${name} n=${n}`);
    });
  });

  test('n = 257, random symmetric, tight strides', () => {
    const n = 257;
    const a = symmetrize(randn(257, n * n), n);
    const result = run(k, a, n, 0, 0);
    checkDecomposition(a, n, result, 'n=257');
    checkAgainstReference(a, n, result.w, 'random symmetric n=257');
  });

  test('known spectra: 1×1, 2×2, diagonal and zero', () => {
    expect(run(k, Float64Array.of(-3.5), 1)).toEqual({ info: 0, w: Float64Array.of(-3.5), v: Float64Array.of(1) });

    // [[2, 1], [1, 2]] has eigenvalues 1 and 3 with eigenvectors (1, −1)/√2 and (1, 1)/√2.
    const r2 = run(k, Float64Array.of(2, 1, 1, 2), 2);
    allClose(r2.w, [1, 3], { rtol: 0, atol: 4e-16 });
    allClose(r2.v.map(Math.abs), [Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2], { rtol: 0, atol: 4e-16 });
    expect(r2.v[0] * r2.v[2]).toBeLessThan(0); // column 0 ∝ (1, −1)
    expect(r2.v[1] * r2.v[3]).toBeGreaterThan(0); // column 1 ∝ (1, 1)

    // A diagonal matrix is already diagonal: exact eigenvalues, V a signed permutation.
    const d = [4, -1, 0, 2.5, -1, 7];
    const n = d.length;
    const a = new Float64Array(n * n);
    d.forEach((x, i) => (a[i * n + i] = x));
    const rd = run(k, a, n);
    expect(Array.from(rd.w)).toEqual([...d].sort((x, y) => x - y));
    for (let j = 0; j < n; j++) {
      let nonzero = 0;
      for (let i = 0; i < n; i++) if (rd.v[i * n + j] !== 0) { nonzero++; expect(Math.abs(rd.v[i * n + j])).toBe(1); expect(d[i]).toBe(rd.w[j]); }
      expect(nonzero).toBe(1);
    }

    const rz = run(k, new Float64Array(25), 5);
    expect(Array.from(rz.w)).toEqual([0, 0, 0, 0, 0]);
    checkDecomposition(new Float64Array(25), 5, rz, 'zero');
  });

  test('extreme scales: tiny, huge and subnormal entries are handled without overflow or underflow', () => {
    const n = 9;
    const base = symmetrize(randn(77, n * n), n);
    const ref = run(k, base, n);
    for (const scale of [2 ** -600, 2 ** 600, 2 ** 1000]) {
      // The solver scales by a power of two internally, so results scale exactly.
      const r = run(k, base.map((x) => x * scale), n);
      expect(r.info).toBe(0);
      expect(Array.from(r.w)).toEqual(Array.from(ref.w, (x) => x * scale));
      expect(Array.from(r.v)).toEqual(Array.from(ref.v));
    }
    // Subnormal entries carry few significant bits: the reference is the same (rounded) matrix scaled up
    // exactly. The eigenvalues are subnormal too, so they are only as accurate as the grid 2⁻¹⁰⁷⁴.
    const scale = 2 ** -1060;
    const tiny = base.map((x) => x * scale);
    const r = run(k, tiny, n);
    const lifted = tiny.map((x) => x / scale);
    const exact = referenceEigenvalues('subnormal', lifted, n);
    allClose(r.w, exact.map((x) => x * scale), { rtol: 0, atol: 2 ** -1074, label: 'subnormal eigenvalues' });
    checkDecomposition(lifted, n, { ...r, w: exact }, 'subnormal');
  });

  test('non-finite entries in the lower triangle give a positive code; the upper triangle is never read', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const a = symmetrize(randn(5, 16), 4);
      a[2 * 4 + 1] = bad;
      expect(run(k, a, 4).info).toBeGreaterThan(0);
    }
    // run() fills the upper triangle with NaN/Inf: any successful test above shows it is ignored.
    expect(run(k, randomSPD(9, 4), 4).info).toBe(0);
  });

  test('property: random symmetric matrices decompose (fast-check)', () => {
    const entry = fc.oneof(
      fc.double({ min: -1e3, max: 1e3, noNaN: true }),
      fc.constantFrom(0, 1, -1, 1e-300, 5e-324),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(fc.constant(n), fc.array(entry, { minLength: n * n, maxLength: n * n }))),
        ([n, m]) => {
          const a = symmetrize(Float64Array.from(m), n);
          const result = run(k, a, n, n % 3, (n + 1) % 2);
          checkDecomposition(a, n, result, `fast-check n=${n}`);
          // The trace is the sum of the eigenvalues.
          let tr = 0, sum = 0;
          for (let i = 0; i < n; i++) { tr += a[i * n + i]; sum += result.w[i]; }
          expect(Math.abs(tr - sum)).toBeLessThanOrEqual(1e-12 * n * norm(a) + 1e-300);
          // Negating A reverses and negates the spectrum.
          const neg = run(k, a.map((x) => -x), n);
          allClose(neg.w, Array.from(result.w).reverse().map((x) => -x), { rtol: 0, atol: 1e-12 * norm(a) });
        },
      ),
      { numRuns: 60, seed: 20240611 },
    );
  });
});

test('the WASM and JS backends agree', async () => {
  const wasm = await kernelsFor('wasm'), js = await kernelsFor('js');
  for (const n of [3, 33, 100]) {
    const a = symmetrize(randn(900 + n, n * n), n);
    const rw = run(wasm, a, n), rj = run(js, a, n);
    allClose(rw.w, rj.w, { rtol: 0, atol: 1e-12 * norm(a), label: `w n=${n}` });
    // Eigenvectors of simple eigenvalues agree up to sign.
    const vw = transpose(rw.v, n, n), vj = transpose(rj.v, n, n);
    for (let j = 0; j < n; j++) {
      const sign = Math.sign(vw.subarray(j * n, j * n + n).reduce((s, x, i) => s + x * vj[j * n + i], 0));
      allClose(vw.subarray(j * n, j * n + n).map((x) => x * sign), vj.subarray(j * n, j * n + n), { rtol: 0, atol: 1e-9, label: `vector ${j}, n=${n}` });
    }
  }
});
