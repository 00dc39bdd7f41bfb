import { Matrix, solve, EigenvalueDecomposition } from 'ml-matrix';
import { KroneckerBlock } from '../../src/curvature/kronecker';
import type { KroneckerBlockOptions, MatRef } from '../../src/curvature/kronecker';
import { piDamping } from '../../src/curvature/damping';
import { Mat } from '../../src/backend/matrix';
import type { Kernels } from '../../src/kernels/types';
import {
  ArgumentError, NonFiniteError, NotPositiveDefiniteError, ShapeError, StateError,
} from '../../src/errors';
import { allClose } from '../helpers/allclose';
import { BACKENDS, kernelsFor } from '../helpers/backends';
import { matmul, norm, transpose } from '../helpers/naive';
import { randn } from '../helpers/random';

// ---- oracles ---------------------------------------------------------------------------

/** ā = [a, 1] when bias. */
function augment(a: Float64Array, n: number, cols: number, bias: boolean): Float64Array {
  if (!bias) return a;
  const out = new Float64Array(n * (cols + 1));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < cols; c++) out[r * (cols + 1) + c] = a[r * cols + c];
    out[r * (cols + 1) + cols] = 1;
  }
  return out;
}

/** XᵀX / c. */
function gramT(x: Float64Array, rows: number, cols: number, c: number): Float64Array {
  const g = matmul(x, x, cols, rows, cols, true, false);
  for (let i = 0; i < g.length; i++) g[i] /= c;
  return g;
}

function traceOf(a: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i * n + i];
  return s;
}

function plusIdentity(a: Float64Array, n: number, mu: number): Float64Array {
  const out = Float64Array.from(a);
  for (let i = 0; i < n; i++) out[i * n + i] += mu;
  return out;
}

/** kron(X, Y) through ml-matrix, an independent oracle, flattened row-major. */
function kron(x: Float64Array, nx: number, y: Float64Array, ny: number): Float64Array {
  const X = new Matrix(rowsOf(x, nx, nx)), Y = new Matrix(rowsOf(y, ny, ny));
  return Float64Array.from(X.kroneckerProduct(Y).to1DArray());
}

function rowsOf(a: ArrayLike<number>, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => a[r * cols + c]));
}

/** Dense solve M·x = b (ml-matrix LU). */
function denseSolve(m: Float64Array, p: number, b: Float64Array): Float64Array {
  const x = solve(new Matrix(rowsOf(m, p, p)), Matrix.columnVector(Array.from(b)));
  return Float64Array.from(x.to1DArray());
}

function eigenvalues(a: Float64Array, n: number): number[] {
  return new EigenvalueDecomposition(new Matrix(rowsOf(a, n, n)), { assumeSymmetric: true }).realEigenvalues.slice().sort((x, y) => x - y);
}

/** ‖x − y‖ / ‖y‖. */
function relErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const d = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) d[i] = x[i] - y[i];
  return norm(d) / norm(y);
}

// ---- fixtures --------------------------------------------------------------------------

interface Problem {
  n: number; inputs: number; outputs: number; bias: boolean;
  a: Float64Array; g: Float64Array; v: Float64Array; abar: Float64Array; d: number;
}

function problem(seed: number, n: number, inputs: number, outputs: number, bias: boolean, gRows = n): Problem {
  const a = randn(seed, n * inputs), g = randn(seed + 1, gRows * outputs);
  const d = inputs + (bias ? 1 : 0);
  return { n, inputs, outputs, bias, a, g, v: randn(seed + 2, outputs * d), abar: augment(a, n, inputs, bias), d };
}

describe.each(BACKENDS)('KroneckerBlock on %s', (name) => {
  let k: Kernels;
  const live: { dispose(): void }[] = [];
  beforeAll(async () => { k = await kernelsFor(name); });
  afterEach(() => { while (live.length) live.pop()!.dispose(); });

  const mat = (data: Float64Array, rows: number, cols: number): Mat => {
    const m = Mat.from(k, data, rows, cols);
    live.push(m);
    return m;
  };
  const block = (options: KroneckerBlockOptions): KroneckerBlock => {
    const b = new KroneckerBlock(k, options);
    live.push(b);
    return b;
  };
  const feed = (b: KroneckerBlock, p: Problem, examples?: number): void => {
    b.updateFactors(mat(p.a, p.n, p.inputs), mat(p.g, p.g.length / p.outputs, p.outputs), { examples });
  };
  const apply = (b: KroneckerBlock, v: Float64Array): Float64Array => {
    const vin = mat(v, b.outputs, b.inDim), out = mat(new Float64Array(v.length), b.outputs, b.inDim);
    b.multiplyInverse(vin, out);
    return out.read();
  };

  // ---- statistics --------------------------------------------------------------------

  test.each([
    ['mean', false], ['mean', true], ['sum', false], ['sum', true],
  ] as const)('factors equal āᵀā/c and gᵀg/c (%s, bias %s)', (normalization, bias) => {
    const p = problem(11, 9, 5, 4, bias);
    const b = block({ inputs: 5, outputs: 4, bias, normalization, decay: 0.95 });
    feed(b, p);
    const c = normalization === 'sum' ? 1 : p.n;
    const { a, s } = b.readFactors();
    allClose(a, gramT(p.abar, p.n, p.d, c), { rtol: 1e-13, atol: 1e-13, cols: p.d, label: 'A' });
    allClose(s, gramT(p.g, p.n, 4, c), { rtol: 1e-13, atol: 1e-13, cols: 4, label: 'S' });
  });

  test('inputs with a leading dimension, several g rows per example (examples option)', () => {
    const n = 6, inputs = 3, outputs = 2, ld = 5, rowsG = 3 * n;
    const padded = randn(3, n * ld), g = randn(4, rowsG * outputs);
    const b = block({ inputs, outputs, bias: true });
    b.updateFactors({ ptr: mat(padded, n, ld).ptr, rows: n, cols: inputs, ld }, mat(g, rowsG, outputs), { examples: n });
    const a = new Float64Array(n * inputs);
    for (let r = 0; r < n; r++) for (let c = 0; c < inputs; c++) a[r * inputs + c] = padded[r * ld + c];
    const f = b.readFactors();
    allClose(f.a, gramT(augment(a, n, inputs, true), n, inputs + 1, n), { rtol: 1e-13, atol: 1e-13, label: 'A' });
    allClose(f.s, gramT(g, rowsG, outputs, n), { rtol: 1e-13, atol: 1e-13, label: 'S (sum over rows, mean over examples)' });
  });

  test('toDense is S ⊗ A in the row-major vec order of W, and applies as S·V·A', () => {
    const p = problem(21, 7, 3, 4, true);
    const b = block({ inputs: 3, outputs: 4, bias: true });
    feed(b, p);
    const { a, s } = b.readFactors();
    const dense = b.toDense();
    allClose(dense, kron(s, 4, a, 4), { rtol: 1e-14, atol: 0, label: 'toDense vs kron(S, A)' });
    // Entry (o·d + i, q·d + j) = S[o, q]·A[i, j]: checked at one off-diagonal position by hand.
    const d = 4, P = 16;
    expect(dense[(2 * d + 1) * P + (3 * d + 0)]).toBe(s[2 * 4 + 3] * a[1 * d + 0]);
    // (S ⊗ A)·vec_r(V) = vec_r(S·V·A).
    const sva = matmul(matmul(s, p.v, 4, 4, d), a, 4, d, d);
    allClose(matmul(dense, p.v, P, P, 1), sva, { rtol: 1e-12, atol: 1e-12, label: 'dense·vec(V)' });
  });

  // ---- EMA -----------------------------------------------------------------------------

  test('the first EMA update is the batch factor exactly; later ones the weighted average', () => {
    const decay = 0.9, inputs = 3, outputs = 2;
    const batches = [problem(31, 5, inputs, outputs, true), problem(41, 8, inputs, outputs, true), problem(51, 3, inputs, outputs, true), problem(61, 6, inputs, outputs, true)];
    const ema = block({ inputs, outputs, bias: true, decay });
    const last = block({ inputs, outputs, bias: true, decay: 0 });
    feed(ema, batches[0]);
    feed(last, batches[0]);
    const e1 = ema.readFactors(), l1 = last.readFactors();
    expect(Array.from(e1.a)).toEqual(Array.from(l1.a));
    expect(Array.from(e1.s)).toEqual(Array.from(l1.s));
    expect(ema.weight).toBe(1);
    for (const p of batches.slice(1)) feed(ema, p);
    // F_k = Σ_j decay^(k−j) B_j / Σ_j decay^(k−j), each batch mean-normalised by its own n.
    const K = batches.length;
    const wantA = new Float64Array(16), wantS = new Float64Array(4);
    let wsum = 0;
    batches.forEach((p, j) => {
      const w = decay ** (K - 1 - j);
      wsum += w;
      const ba = gramT(p.abar, p.n, 4, p.n), bs = gramT(p.g, p.n, 2, p.n);
      for (let i = 0; i < 16; i++) wantA[i] += w * ba[i];
      for (let i = 0; i < 4; i++) wantS[i] += w * bs[i];
    });
    for (let i = 0; i < 16; i++) wantA[i] /= wsum;
    for (let i = 0; i < 4; i++) wantS[i] /= wsum;
    const f = ema.readFactors();
    allClose(f.a, wantA, { rtol: 1e-13, atol: 1e-14, label: 'EMA A' });
    allClose(f.s, wantS, { rtol: 1e-13, atol: 1e-14, label: 'EMA S' });
    expect(ema.weight).toBeCloseTo(wsum, 14);
    expect(ema.updates).toBe(K);
  });

  test('decay 1 is the cumulative mean; a repeated batch leaves the average unchanged', () => {
    const p = problem(71, 4, 2, 3, false), q = problem(81, 4, 2, 3, false);
    const b = block({ inputs: 2, outputs: 3, decay: 1 });
    feed(b, p); feed(b, q);
    const want = gramT(p.g, 4, 3, 4).map((x, i) => (x + gramT(q.g, 4, 3, 4)[i]) / 2);
    allClose(b.readFactors().s, want, { rtol: 1e-13, atol: 1e-14 });
    const r = block({ inputs: 2, outputs: 3, decay: 0.95 });
    for (let i = 0; i < 5; i++) feed(r, p);
    allClose(r.readFactors().a, gramT(p.a, 4, 2, 4), { rtol: 1e-13, atol: 1e-14 });
  });

  // ---- inversion: cholesky / π -----------------------------------------------------------

  test.each([
    [6, 3, 4, true], [9, 5, 3, false], [2, 4, 6, true], [17, 3, 2, true],
  ])('cholesky/π: multiplyInverse solves (S+√λ/π I)⊗(A+π√λ I) (n %i, in %i, out %i, bias %s)', (n, inputs, outputs, bias) => {
    const p = problem(100 + n, n, inputs, outputs, bias);
    const lam = 0.03;
    const b = block({ inputs, outputs, bias, form: 'primal' });
    feed(b, p);
    b.updateInverse(lam);
    const d = p.d, m = outputs;
    const A = gramT(p.abar, n, d, n), S = gramT(p.g, n, m, n);
    const pi = Math.sqrt((traceOf(A, d) / d) / (traceOf(S, m) / m));
    expect(b.inverse!.pi).toBeCloseTo(pi, 12);
    const dense = kron(plusIdentity(S, m, Math.sqrt(lam) / pi), m, plusIdentity(A, d, pi * Math.sqrt(lam)), d);
    const want = denseSolve(dense, m * d, p.v);
    const got = apply(b, p.v);
    allClose(got, want, { rtol: 1e-9, atol: 1e-10, cols: d, label: 'S̃⁻¹VÃ⁻¹' });
    allClose(got, denseSolve(b.toDense(lam), m * d, p.v), { rtol: 1e-9, atol: 1e-10, label: 'vs toDense(λ)' });
  });

  test('one linear layer, squared error: eigen/exact with {a: sum, s: mean} is exact NGD (JᵀJ + λI)⁻¹Jᵀr', () => {
    // u_i = W·ā_i (k outputs); row (i, j) of J is e_j ⊗ ā_i in W's vec_r order, so JᵀJ = I_k ⊗ ĀᵀĀ.
    const n = 7, inputs = 3, k = 4, d = inputs + 1, P = k * d, lam = 1e-3;
    const x = randn(1601, n * inputs), r = randn(1602, n * k);
    const xbar = augment(x, n, inputs, true);
    const J = new Float64Array(n * k * P);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) J[(i * k + j) * P + j * d + c] = xbar[i * d + c];
    const JtJ = plusIdentity(matmul(J, J, P, n * k, P, true), P, lam);
    const grad = matmul(J, r, P, n * k, 1, true);
    const want = denseSolve(JtJ, P, grad);
    // The exact Gauss–Newton's g: one row e_j per example and output direction.
    const g = new Float64Array(n * k * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) g[(i * k + j) * k + j] = 1;
    const b = block({ inputs, outputs: k, bias: true, decay: 0, inversion: 'eigen', normalization: { a: 'sum', s: 'mean' } });
    b.updateFactors(mat(x, n, inputs), mat(g, n * k, k), { examples: n });
    b.updateInverse(lam);
    allClose(b.readFactors().s, Float64Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 1 : 0)), { rtol: 0, atol: 1e-15, label: 'S = I' });
    const got = apply(b, grad);
    expect(relErr(got, want)).toBeLessThan(1e-10);
    expect(String(b)).toMatch(/A sum\/S mean/);
  });

  test('π split: λ = μ_A·μ_S, equal mean traces give π = 1, and (a√t, g/√t) leaves the step unchanged', () => {
    const p = problem(201, 8, 4, 5, true), lam = 0.05;
    const b1 = block({ inputs: 4, outputs: 5, bias: true });
    feed(b1, p);
    b1.updateInverse(lam);
    const info = b1.inverse!;
    expect(info.dampingA * info.dampingS).toBeCloseTo(lam, 14);
    // Rescale the pair: A → tA needs the ones column scaled too, so compare without bias.
    const q = problem(202, 8, 4, 5, false), t = 7.5;
    const c1 = block({ inputs: 4, outputs: 5 }), c2 = block({ inputs: 4, outputs: 5 });
    feed(c1, q);
    feed(c2, { ...q, a: q.a.map((x) => x * Math.sqrt(t)), g: q.g.map((x) => x / Math.sqrt(t)) });
    c1.updateInverse(lam); c2.updateInverse(lam);
    expect(c2.inverse!.pi / c1.inverse!.pi).toBeCloseTo(t, 10);
    allClose(apply(c2, q.v), apply(c1, q.v), { rtol: 1e-11, atol: 1e-12, label: 'rescaled pair' });
    // Equal mean traces → π = 1 (S := A when the shapes agree and g = a).
    const e = block({ inputs: 3, outputs: 3 });
    const x = randn(203, 6 * 3);
    e.updateFactors(mat(x, 6, 3), mat(x, 6, 3));
    e.updateInverse(lam);
    expect(e.inverse!.pi).toBeCloseTo(1, 14);
  });

  test('a zero gradient batch gives π = 1 and a finite step', () => {
    const p = problem(211, 5, 3, 4, true);
    const b = block({ inputs: 3, outputs: 4, bias: true });
    b.updateFactors(mat(p.a, 5, 3), mat(new Float64Array(5 * 4), 5, 4));
    b.updateInverse(0.01);
    expect(b.inverse!.pi).toBe(1);
    const A = gramT(p.abar, 5, 4, 5);
    const want = denseSolve(kron(plusIdentity(new Float64Array(16), 4, 0.1), 4, plusIdentity(A, 4, 0.1), 4), 16, p.v);
    allClose(apply(b, p.v), want, { rtol: 1e-10, atol: 1e-12 });
  });

  // ---- dual (Woodbury) form --------------------------------------------------------------

  test.each([
    ['S wide: out 300, n 20', 20, 5, 300, true],
    ['A wide: in 300, n 20', 20, 300, 6, false],
    ['both wide: in 40, out 50, n 7', 7, 40, 50, true],
  ])('dual equals primal to 1e-10 (%s)', (_label, n, inputs, outputs, bias) => {
    const p = problem(300 + n + inputs, n, inputs, outputs, bias);
    const lam = 1e-2;
    const primal = block({ inputs, outputs, bias, decay: 0, form: 'primal' });
    const auto = block({ inputs, outputs, bias, decay: 0 });
    feed(primal, p); feed(auto, p);
    primal.updateInverse(lam); auto.updateInverse(lam);
    const info = auto.inverse!;
    expect(info.formS).toBe(outputs > n ? 'dual' : 'primal');
    expect(info.formA).toBe(p.d > n ? 'dual' : 'primal');
    expect(info.pi).toBeCloseTo(primal.inverse!.pi, 12);
    const x = apply(primal, p.v), y = apply(auto, p.v);
    expect(relErr(y, x)).toBeLessThan(1e-10);
    allClose(y, x, { rtol: 1e-8, atol: 1e-10 * norm(x) / Math.sqrt(x.length) });
    // The dual block's factors, formed on demand, are the same statistics.
    const fp = primal.readFactors(), fd = auto.readFactors();
    allClose(fd.s, fp.s, { rtol: 1e-12, atol: 1e-12 });
    allClose(fd.a, fp.a, { rtol: 1e-12, atol: 1e-12 });
  });

  test('forced dual on narrow factors, and against the dense solve', () => {
    const p = problem(401, 5, 2, 3, true), lam = 0.2;
    const b = block({ inputs: 2, outputs: 3, bias: true, decay: 0, form: 'dual' });
    feed(b, p);
    b.updateInverse(lam);
    expect(b.inverse!.formA).toBe('dual');
    expect(b.inverse!.formS).toBe('dual');
    allClose(apply(b, p.v), denseSolve(b.toDense(lam), 9, p.v), { rtol: 1e-10, atol: 1e-12 });
  });

  test("'auto' stays primal with EMA, and the form follows the batch size at decay 0", () => {
    const wide = problem(411, 4, 3, 12, false), tall = problem(412, 20, 3, 12, false);
    const ema = block({ inputs: 3, outputs: 12 });
    feed(ema, wide);
    ema.updateInverse(0.1);
    expect(ema.inverse!.formS).toBe('primal');
    const b = block({ inputs: 3, outputs: 12, decay: 0 });
    feed(b, wide); b.updateInverse(0.1);
    expect(b.inverse!.formS).toBe('dual');
    feed(b, tall); b.updateInverse(0.1);
    expect(b.inverse!.formS).toBe('primal');
    const fresh = block({ inputs: 3, outputs: 12, decay: 0, form: 'primal' });
    feed(fresh, tall); fresh.updateInverse(0.1);
    allClose(apply(b, tall.v), apply(fresh, tall.v), { rtol: 1e-12, atol: 1e-13 });
    feed(b, wide); b.updateInverse(0.1);
    expect(b.inverse!.formS).toBe('dual');
  });

  // ---- caching -----------------------------------------------------------------------------

  test.each([
    ['primal EMA', { decay: 0.9 }],
    ['dual', { decay: 0 }],
  ] as const)('cached inverses equal fresh ones and survive later factor updates (%s)', (_l, extra) => {
    const inputs = 4, outputs = 30, n = 6, lam = 0.02;
    const p1 = problem(501, n, inputs, outputs, true), p2 = problem(502, n, inputs, outputs, true);
    const b = block({ inputs, outputs, bias: true, ...extra });
    feed(b, p1);
    b.updateInverse(lam);
    const first = apply(b, p1.v);
    expect(apply(b, p1.v)).toEqual(first); // applying twice changes nothing
    feed(b, p2); // statistics move on; the cache must not
    expect(b.inverse!.updates).toBe(1);
    const fresh1 = block({ inputs, outputs, bias: true, ...extra });
    feed(fresh1, p1); fresh1.updateInverse(lam);
    allClose(apply(b, p1.v), apply(fresh1, p1.v), { rtol: 1e-13, atol: 1e-14, label: 'stale cache = fresh(old)' });
    b.updateInverse(lam);
    const fresh2 = block({ inputs, outputs, bias: true, ...extra });
    feed(fresh2, p1); feed(fresh2, p2); fresh2.updateInverse(lam);
    allClose(apply(b, p1.v), apply(fresh2, p1.v), { rtol: 1e-13, atol: 1e-14, label: 'refreshed = fresh(new)' });
    // A new λ alone re-factors the same statistics.
    b.updateInverse(lam * 10);
    fresh2.updateInverse(lam * 10);
    allClose(apply(b, p1.v), apply(fresh2, p1.v), { rtol: 1e-13, atol: 1e-14, label: 'new damping' });
  });

  test('out may be v itself', () => {
    const p = problem(601, 5, 3, 4, true);
    for (const form of ['primal', 'dual'] as const) {
      const b = block({ inputs: 3, outputs: 4, bias: true, decay: 0, form });
      feed(b, p);
      b.updateInverse(0.1);
      const want = apply(b, p.v);
      const v = mat(p.v, 4, 4);
      b.multiplyInverse(v, v);
      allClose(v.read(), want, { rtol: 0, atol: 0, label: form });
    }
  });

  test('strided gradient and output (ld > cols)', () => {
    const p = problem(611, 5, 3, 4, false), ld = 7;
    const b = block({ inputs: 3, outputs: 4 });
    feed(b, p); b.updateInverse(0.1);
    const want = apply(b, p.v);
    const vp = new Float64Array(4 * ld).fill(NaN);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 3; c++) vp[r * ld + c] = p.v[r * 3 + c];
    const vin = mat(vp, 4, ld), out = mat(new Float64Array(4 * ld).fill(-1), 4, ld);
    b.multiplyInverse({ ptr: vin.ptr, rows: 4, cols: 3, ld }, { ptr: out.ptr, rows: 4, cols: 3, ld });
    const o = out.read();
    for (let r = 0; r < 4; r++) {
      allClose(o.subarray(r * ld, r * ld + 3), want.subarray(r * 3, r * 3 + 3), { rtol: 1e-14, atol: 1e-15 });
      expect(Array.from(o.subarray(r * ld + 3, r * ld + ld))).toEqual([-1, -1, -1, -1]);
    }
  });

  // ---- awkward sizes ------------------------------------------------------------------------

  test.each([
    [1, 1, 1, false], [1, 1, 1, true], [1, 0, 3, true], [1, 1, 7, false], [2, 7, 1, false], [3, 2, 5, true], [33, 1, 2, false],
  ])('awkward sizes n %i, in %i, out %i, bias %s: primal and dual vs dense', (n, inputs, outputs, bias) => {
    const p = problem(700 + n * 10 + inputs + outputs, n, inputs, outputs, bias), lam = 0.1;
    const m = outputs, d = p.d;
    for (const form of ['primal', 'dual', 'auto'] as const) {
      const b = block({ inputs, outputs, bias, decay: 0, form });
      feed(b, p);
      b.updateInverse(lam);
      allClose(apply(b, p.v), denseSolve(b.toDense(lam), m * d, p.v), { rtol: 1e-9, atol: 1e-11, label: form });
    }
  });

  // ---- condition numbers ----------------------------------------------------------------------

  test('condition-number estimate is a lower bound of the exact κ of each damped factor', () => {
    const p = problem(801, 12, 6, 5, true), lam = 1e-3;
    for (const form of ['primal', 'dual'] as const) {
      const b = block({ inputs: 6, outputs: 5, bias: true, decay: 0, form });
      feed(b, p);
      b.updateInverse(lam);
      const { dampingA, dampingS } = b.inverse!;
      const { a, s } = b.readFactors();
      const ea = eigenvalues(plusIdentity(a, 7, dampingA), 7), es = eigenvalues(plusIdentity(s, 5, dampingS), 5);
      const ka = ea[6] / ea[0], ks = es[4] / es[0];
      const est = b.conditionNumbers();
      expect(est.exact).toBe(false);
      expect(est.a).toBeLessThanOrEqual(ka * (1 + 1e-9));
      expect(est.s).toBeLessThanOrEqual(ks * (1 + 1e-9));
      expect(est.a).toBeGreaterThan(1);
      expect(est.block).toBeCloseTo(est.a * est.s, 6);
    }
  });

  // ---- inversion: eigen ------------------------------------------------------------------------

  test.each([
    [6, 3, 4, true], [9, 5, 3, false], [2, 4, 6, true], [1, 1, 1, false], [1, 0, 3, true], [4, 1, 7, false],
  ])('eigen/exact: multiplyInverse is (S ⊗ A + λI)⁻¹ (n %i, in %i, out %i, bias %s)', (n, inputs, outputs, bias) => {
    const p = problem(1100 + n + inputs, n, inputs, outputs, bias), lam = 0.02;
    const d = p.d, m = outputs;
    const b = block({ inputs, outputs, bias, inversion: 'eigen' });
    expect(b.damping).toBe('exact');
    feed(b, p);
    b.updateInverse(lam);
    const A = gramT(p.abar, n, d, n), S = gramT(p.g, n, m, n);
    const dense = plusIdentity(kron(S, m, A, d), m * d, lam);
    const got = apply(b, p.v);
    allClose(got, denseSolve(dense, m * d, p.v), { rtol: 1e-9, atol: 1e-10, cols: d, label: '(S⊗A + λI)⁻¹' });
    allClose(got, denseSolve(b.toDense(lam), m * d, p.v), { rtol: 1e-9, atol: 1e-10, label: 'vs toDense(λ)' });
  });

  test('eigen/π equals cholesky/π', () => {
    const p = problem(1201, 7, 4, 6, true), lam = 0.01;
    const e = block({ inputs: 4, outputs: 6, bias: true, inversion: 'eigen', damping: 'pi' });
    const c = block({ inputs: 4, outputs: 6, bias: true });
    feed(e, p); feed(c, p);
    e.updateInverse(lam); c.updateInverse(lam);
    expect(e.inverse!.pi).toBe(c.inverse!.pi);
    allClose(apply(e, p.v), apply(c, p.v), { rtol: 1e-10, atol: 1e-12 });
  });

  test('eigen: a new λ reuses the eigenvectors and equals a fresh block; the cache survives factor updates', () => {
    const p1 = problem(1301, 6, 3, 5, true), p2 = problem(1302, 6, 3, 5, true);
    const b = block({ inputs: 3, outputs: 5, bias: true, inversion: 'eigen' });
    feed(b, p1);
    b.updateInverse(0.1);
    const old = apply(b, p1.v);
    feed(b, p2);
    expect(apply(b, p1.v)).toEqual(old);
    b.updateInverse(0.1);
    b.updateInverse(0.003);
    const fresh = block({ inputs: 3, outputs: 5, bias: true, inversion: 'eigen' });
    feed(fresh, p1); feed(fresh, p2);
    fresh.updateInverse(0.003);
    allClose(apply(b, p1.v), apply(fresh, p1.v), { rtol: 1e-12, atol: 1e-13 });
  });

  test('eigen/exact at λ = 0 on a rank-deficient block is refused', () => {
    const p = problem(1401, 2, 3, 4, false);
    const b = block({ inputs: 3, outputs: 4, inversion: 'eigen' });
    feed(b, p);
    expect(() => b.updateInverse(0)).toThrow(ArgumentError);
    b.updateInverse(1e-3);
  });

  test('exact condition numbers agree with a dense eigensolver (eigen mode, cholesky exact:true, dual)', () => {
    const p = problem(1501, 12, 6, 5, true), lam = 1e-3;
    const want = (b: KroneckerBlock): { a: number; s: number } => {
      const { dampingA, dampingS } = b.inverse!;
      const f = b.readFactors();
      const ea = eigenvalues(plusIdentity(f.a, 7, dampingA), 7), es = eigenvalues(plusIdentity(f.s, 5, dampingS), 5);
      return { a: ea[6] / ea[0], s: es[4] / es[0] };
    };
    for (const options of [
      { inversion: 'eigen', damping: 'pi' }, { inversion: 'cholesky' }, { inversion: 'cholesky', decay: 0, form: 'dual' },
    ] as const) {
      const b = block({ inputs: 6, outputs: 5, bias: true, ...options });
      feed(b, p);
      b.updateInverse(lam);
      const got = b.conditionNumbers({ exact: true }), w = want(b);
      expect(got.exact).toBe(true);
      expect(got.a / w.a).toBeCloseTo(1, 6);
      expect(got.s / w.s).toBeCloseTo(1, 6);
    }
    // Wide dual S (out 9 > n 4): λ_min is μ_S exactly.
    const q = problem(1502, 4, 2, 9, false);
    const wide = block({ inputs: 2, outputs: 9, decay: 0 });
    feed(wide, q);
    wide.updateInverse(lam);
    expect(wide.inverse!.formS).toBe('dual');
    const es = eigenvalues(plusIdentity(wide.readFactors().s, 9, wide.inverse!.dampingS), 9);
    expect(wide.conditionNumbers({ exact: true }).s / (es[8] / es[0])).toBeCloseTo(1, 6);
    // Exact damping: the block's κ is (s_max a_max + λ)/(s_min a_min + λ).
    const e = block({ inputs: 6, outputs: 5, bias: true, inversion: 'eigen' });
    feed(e, p);
    e.updateInverse(lam);
    const f = e.readFactors(), ea = eigenvalues(f.a, 7), es2 = eigenvalues(f.s, 5);
    const c = e.conditionNumbers();
    expect(c.block / ((es2[4] * ea[6] + lam) / (Math.max(es2[0], 0) * Math.max(ea[0], 0) + lam))).toBeCloseTo(1, 6);
    expect(c.a / (ea[6] / ea[0])).toBeCloseTo(1, 6);
  });

  // ---- errors and lifetime ----------------------------------------------------------------------

  test('argument, shape and state errors', () => {
    expect(() => new KroneckerBlock(k, { inputs: 3, outputs: 0 })).toThrow(ShapeError);
    expect(() => new KroneckerBlock(k, { inputs: 0, outputs: 2 })).toThrow(ShapeError);
    expect(() => new KroneckerBlock(k, { inputs: 2, outputs: 2, decay: 1.5 })).toThrow(ArgumentError);
    expect(() => new KroneckerBlock(k, { inputs: 2, outputs: 2, form: 'dual' })).toThrow(/decay 0/);
    expect(() => new KroneckerBlock(k, { inputs: 2, outputs: 2, decay: 0, inversion: 'eigen', form: { s: 'dual' } })).toThrow(/cholesky/);
    expect(() => new KroneckerBlock(k, { inputs: 2, outputs: 2, damping: 'exact' })).toThrow(/eigen/);
    expect(() => new KroneckerBlock(k, { inputs: 2, outputs: 2, normalization: { s: 'total' as 'sum' } })).toThrow(/normalization\.s/);
    const b = block({ inputs: 3, outputs: 2 });
    const p = problem(901, 4, 3, 2, false);
    expect(() => b.updateInverse(0.1)).toThrow(StateError);
    expect(() => b.multiplyInverse(mat(p.v, 2, 3), mat(p.v, 2, 3))).toThrow(StateError);
    expect(() => b.updateFactors(mat(p.a, 4, 3), mat(p.g, 2, 4))).toThrow(ShapeError);
    expect(() => b.updateFactors(mat(p.g, 4, 2), mat(p.g, 4, 2))).toThrow(/expected 3 columns/);
    const bad = Float64Array.from(p.a); bad[5] = NaN;
    expect(() => b.updateFactors(mat(bad, 4, 3), mat(p.g, 4, 2))).toThrow(NonFiniteError);
    const badG = Float64Array.from({ length: 4 * 5 }, () => 0.5); badG[3 * 5 + 1] = -Infinity;
    try {
      b.updateFactors(mat(p.a, 4, 3), { ptr: mat(badG, 4, 5).ptr, rows: 4, cols: 2, ld: 5 });
      throw new Error('expected a NonFiniteError');
    } catch (e) {
      expect(e).toBeInstanceOf(NonFiniteError);
      expect((e as NonFiniteError).index).toBe(3 * 2 + 1);
      expect((e as Error).message).toMatch(/g: element 7 is -Infinity/);
    }
    expect(b.updates).toBe(0);
    feed(b, p);
    b.updateInverse(0.1);
    expect(() => b.multiplyInverse(mat(p.v, 3, 2), mat(p.v, 3, 2))).toThrow(ShapeError);
    expect(() => b.updateInverse(-1)).toThrow(ArgumentError);
    // Rank-deficient factor (n = 4 < 6 outputs) at λ = 0: Cholesky refuses it, and the dual form needs λ > 0.
    const wide = problem(902, 4, 3, 6, false);
    const c = block({ inputs: 3, outputs: 6, form: 'primal' });
    feed(c, wide);
    expect(() => c.updateInverse(0)).toThrow(NotPositiveDefiniteError);
    expect(() => c.multiplyInverse(mat(wide.v, 6, 3), mat(wide.v, 6, 3))).toThrow(StateError);
    c.updateInverse(0.1); // recovers with damping
    const dd = block({ inputs: 3, outputs: 6, decay: 0 });
    feed(dd, wide);
    expect(() => dd.updateInverse(0)).toThrow(/dual/);
    const other = block({ inputs: 3, outputs: 2 });
    other.dispose();
    expect(() => other.updateFactors(mat(p.a, 4, 3), mat(p.g, 4, 2))).toThrow(StateError);
    other.dispose();
    expect(String(b)).toMatch(/KroneckerBlock\(2×3, cholesky\/pi, mean, decay 0\.95, 1 updates, inverse λ=0\.1/);
  });

  test('steady state allocates no backend memory, and dispose frees it all', () => {
    let allocs = 0;
    const counting = new Proxy(k, {
      get(target, prop) {
        if (prop === 'alloc') return (count: number) => { allocs++; return target.alloc(count); };
        const value = (target as unknown as Record<string | symbol, unknown>)[prop];
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Kernels;
    const p = problem(1001, 8, 5, 12, true);
    const on = (data: Float64Array, rows: number, cols: number): Mat => {
      const m = Mat.from(counting, data, rows, cols);
      live.push(m);
      return m;
    };
    const a = on(p.a, 8, 5), g = on(p.g, 8, 12), v = on(p.v, 12, 6), out = on(new Float64Array(72), 12, 6);
    for (const options of [{ decay: 0.95 }, { decay: 0 }, { inversion: 'eigen' }] as const) {
      const b = new KroneckerBlock(counting, { inputs: 5, outputs: 12, bias: true, ...options });
      const cycle = (): void => { b.updateFactors(a, g); b.updateInverse(0.1); b.multiplyInverse(v, out); b.conditionNumbers(); };
      cycle(); cycle(); // the dual form fills both of its slots
      const before = allocs;
      for (let i = 0; i < 5; i++) cycle();
      expect(allocs).toBe(before);
      b.dispose();
    }
    // Everything a block allocated is given back: the space is handed out again.
    const probe = k.alloc(64);
    k.free(probe);
    const b = new KroneckerBlock(counting, { inputs: 5, outputs: 12, bias: true, decay: 0 });
    b.updateFactors(a, g); b.updateInverse(0.1); b.multiplyInverse(v, out);
    b.dispose();
    const again = k.alloc(64);
    k.free(again);
    expect(again).toBe(probe);
  });
});

// Pure functions used by the block.
describe('piDamping (used by the block)', () => {
  test('matches the definition', () => {
    const r = piDamping(8, 4, 3, 6, 0.04);
    expect(r.pi).toBeCloseTo(Math.sqrt(2 / 0.5), 15);
    expect(r.dampingA).toBeCloseTo(2 * 0.2, 15);
    expect(r.dampingS).toBeCloseTo(0.2 / 2, 15);
  });
});

// Keep MatRef in the type surface the tests exercise.
export type _Uses = MatRef;
