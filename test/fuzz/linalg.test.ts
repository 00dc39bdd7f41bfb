/**
 * Fuzz: linalg on both backends. Adversarial shapes, arrays (NaN, ±Inf, huge, wrong length or type) and
 * options; SPD, singular (damping 0) and indefinite matrices. Each call returns a result that passes a
 * backward-error check against plain loops, or throws a NatgradError with nothing leaked.
 */
import fc from 'fast-check';
import { init } from '../../src/index';
import { kernels, linalg } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { matmul } from '../helpers/naive';
import { arrayKindArb, check, contract, countAllocations, dimArb, makeArray, numberOptionArb, type AllocationCounter } from './harness';

const isDim = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const allFinite = (a: ArrayLike<number>): boolean => { for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false; return true; };
const isF64 = (a: unknown, len: number): a is Float64Array => a instanceof Float64Array && a.length === len;
/** Frobenius norm, scaled so that neither tiny nor huge entries underflow or overflow the sum. */
const fro = (a: ArrayLike<number>): number => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]));
  if (max === 0 || !Number.isFinite(max)) return max;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] / max) ** 2;
  return max * Math.sqrt(s);
};

/** A symmetric matrix of the given kind (lower triangle mirrored): well-conditioned SPD, singular PSD, indefinite. */
function symmetric(kind: 'spd' | 'singular' | 'indefinite', n: number, seed: number): Float64Array {
  const m = makeArray('ok', n * n, seed) as Float64Array;
  const a = new Float64Array(n * n);
  const rank = kind === 'singular' ? Math.max(0, n - 1) : n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < rank; p++) s += m[i * n + p] * m[j * n + p];
      a[i * n + j] = a[j * n + i] = s + (kind === 'spd' ? 1 : 0) - (kind === 'indefinite' && i === j && i === 0 ? 10 : 0);
    }
  }
  return a;
}

/** ‖(A + λI)·X − B‖ ≤ tol·‖A + λI‖·‖X‖ (normwise backward error), A read from its lower triangle. */
function backwardOk(a: Float64Array, n: number, damping: number, x: Float64Array, b: Float64Array, nrhs: number): boolean {
  const full = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) full[i * n + j] = full[j * n + i] = a[i * n + j] + (i === j ? damping : 0);
  const ax = matmul(full, x, n, n, nrhs);
  let r = 0;
  for (let i = 0; i < ax.length; i++) r += (ax[i] - b[i]) ** 2;
  return Math.sqrt(r) <= 1e-9 * n * (fro(full) * fro(x) + fro(b));
}

describe.each(BACKENDS)('%s backend', (backend) => {
  let counter: AllocationCounter;
  beforeAll(async () => {
    await init({ backend });
    counter = countAllocations(kernels());
    // Warm linalg's reusable scratch to the largest size drawn, so a call that throws must leave the count as it was.
    const big = symmetric('spd', 8, 1);
    linalg.gemm(big, big, 8, 8, 8, { c: new Float64Array(64), beta: 1 });
    linalg.gram(big, 8, 8);
    linalg.solveSPD(big, big, 8, 8);
    linalg.inverseSPD(big, 8);
    linalg.cholesky(big, 8);
    linalg.eigh(big, 8);
  });

  test('gemm and gram: correct products or typed errors', () => {
    const arb = fc.record({
      op: fc.constantFrom('gemm', 'gram'),
      m: dimArb(6), k: dimArb(6), n: dimArb(6),
      ka: arrayKindArb, kb: arrayKindArb, kc: fc.constantFrom('none', 'ok', 'nan', 'short', 'plain'),
      transA: fc.oneof(fc.boolean(), fc.constantFrom<unknown>(undefined, 1, 'yes')),
      transB: fc.boolean(), alpha: numberOptionArb(fc.double({ min: -2, max: 2, noNaN: true })), beta: numberOptionArb(fc.constantFrom(0, 1, -0.5)),
      seed: fc.nat(),
    });
    check(`linalg.gemm/gram (${backend})`, arb, (c) => {
      const len = (r: unknown, s: unknown) => (isDim(r) && isDim(s) ? r * s : 3);
      const a = makeArray(c.ka, len(c.m, c.k), c.seed), b = makeArray(c.kb, len(c.k, c.n), c.seed + 1);
      const cArr = c.kc === 'none' ? undefined : c.kc === 'plain' ? [0] : makeArray(c.kc as 'ok', len(c.m, c.n), c.seed + 2);
      if (c.op === 'gram') {
        const out = contract('linalg.gram', counter, [], () => linalg.gram(a as Float64Array, c.m as number, c.k as number));
        if (!out.ok) return;
        const A = a as Float64Array, r = c.m as number, q = c.k as number;
        expect(isF64(A, r * q) && allFinite(A)).toBe(true);
        const ref = matmul(A, A, r, q, r, false, true);
        for (let i = 0; i < ref.length; i++) expect(Math.abs(out.value[i] - ref[i])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(ref[i])) * q);
        return;
      }
      const options: Record<string, unknown> = { transA: c.transA, transB: c.transB, alpha: c.alpha, beta: c.beta };
      if (cArr !== undefined) options.c = cArr;
      const cBefore = cArr instanceof Float64Array ? Float64Array.from(cArr) : undefined;
      const out = contract('linalg.gemm', counter, [], () => linalg.gemm(a as Float64Array, b as Float64Array, c.m as number, c.k as number, c.n as number, options));
      if (!out.ok) {
        // A refused call must not have written its output argument either.
        if (cBefore) expect(Array.from(cArr as Float64Array)).toEqual(Array.from(cBefore));
        return;
      }
      const m = c.m as number, k = c.k as number, n = c.n as number;
      const alpha = c.alpha === undefined ? 1 : c.alpha as number, beta = c.beta === undefined ? 0 : c.beta as number;
      expect(typeof c.transA === 'boolean' || c.transA === undefined).toBe(true);
      expect(isF64(a, m * k) && isF64(b, k * n) && allFinite(a as Float64Array) && allFinite(b as Float64Array)).toBe(true);
      const ab = matmul(a as Float64Array, b as Float64Array, m, k, n, !!c.transA, c.transB);
      for (let i = 0; i < m * n; i++) {
        const ref = alpha * ab[i] + (beta !== 0 ? beta * (cBefore as Float64Array)[i] : 0);
        if (!Number.isFinite(ref)) expect(Number.isFinite(out.value[i])).toBe(false);
        else expect(Math.abs(out.value[i] - ref)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(ref)) * (k + 1) + 1e-300);
      }
    }, 2000);
  });

  test('cholesky, solveSPD, inverseSPD, eigh: backward-stable results or typed errors (singular, indefinite, NaN)', () => {
    const arb = fc.record({
      op: fc.constantFrom('cholesky', 'solveSPD', 'inverseSPD', 'eigh'),
      n: dimArb(6), nrhs: dimArb(3),
      matrix: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('spd', 'singular', 'indefinite') },
        { weight: 2, arbitrary: arrayKindArb },
      ),
      kb: arrayKindArb,
      damping: fc.oneof(fc.constant<unknown>(undefined), numberOptionArb(fc.constantFrom(0, 1e-12, 1e-3, 1))),
      extraKey: fc.boolean(),
      seed: fc.nat(),
    });
    check(`linalg SPD + eigh (${backend})`, arb, (c) => {
      const nn = isDim(c.n) && c.n <= 64 ? c.n : 3;
      const a = c.matrix === 'spd' || c.matrix === 'singular' || c.matrix === 'indefinite'
        ? symmetric(c.matrix, nn, c.seed) : makeArray(c.matrix as 'ok', isDim(c.n) ? c.n * c.n : 9, c.seed);
      const b = makeArray(c.kb, isDim(c.n) && isDim(c.nrhs) ? c.n * c.nrhs : 3, c.seed + 7);
      const options: Record<string, unknown> = c.damping === undefined ? {} : { damping: c.damping };
      if (c.extraKey) options.dampnig = 1;
      const aBefore = a instanceof Float64Array ? Float64Array.from(a) : undefined;
      const call = (): Float64Array | linalg.Eigh => {
        switch (c.op) {
          case 'cholesky': return linalg.cholesky(a as Float64Array, c.n as number, options);
          case 'solveSPD': return linalg.solveSPD(a as Float64Array, b as Float64Array, c.n as number, c.nrhs as number, options);
          case 'inverseSPD': return linalg.inverseSPD(a as Float64Array, c.n as number, options);
          default: return linalg.eigh(a as Float64Array, c.n as number);
        }
      };
      const out = contract(`linalg.${c.op}`, counter, [], call);
      if (aBefore) expect(Array.from(a as Float64Array)).toEqual(Array.from(aBefore)); // inputs never modified
      if (!out.ok) return;
      const n = c.n as number, A = a as Float64Array, damping = (c.damping as number | undefined) ?? 0;
      expect(isF64(A, n * n) && allFinite(A)).toBe(true);
      if (c.op !== 'eigh') expect(c.extraKey).toBe(false);
      if (c.op === 'eigh') {
        const { values, vectors } = out.value as linalg.Eigh;
        expect(allFinite(values) && allFinite(vectors)).toBe(true);
        for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
        // Checked on A/s (s = max |A|), so entries near the overflow threshold do not overflow the oracle.
        const s = Math.max(1e-300, ...Array.from(A, Math.abs));
        const full = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) full[i * n + j] = full[j * n + i] = A[i * n + j] / s;
        const av = matmul(full, vectors, n, n, n);
        let r = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) r += (av[i * n + j] - vectors[i * n + j] * (values[j] / s)) ** 2;
        expect(Math.sqrt(r)).toBeLessThanOrEqual(1e-10 * n * (1 + fro(full)));
        return;
      }
      const x = out.value as Float64Array;
      // A finite answer for finite inputs: no silent NaN or overflow.
      expect(allFinite(x)).toBe(true);
      if (c.op === 'cholesky') {
        const lt = matmul(x, x, n, n, n, false, true);
        const identity = new Float64Array(n * n);
        for (let i = 0; i < n; i++) identity[i * n + i] = 1;
        expect(backwardOk(A, n, damping, identity, lt, n)).toBe(true);
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(x[i * n + j]).toBe(0);
      } else if (c.op === 'solveSPD') {
        expect(isF64(b, n * (c.nrhs as number))).toBe(true);
        expect(backwardOk(A, n, damping, x, b as Float64Array, c.nrhs as number)).toBe(true);
      } else {
        const identity = new Float64Array(n * n);
        for (let i = 0; i < n; i++) identity[i * n + i] = 1;
        expect(backwardOk(A, n, damping, x, identity, n)).toBe(true);
      }
    }, 2000);
  });
});
