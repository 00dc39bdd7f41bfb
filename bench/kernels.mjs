// The numeric core's suite: GEMM, Gram (SYRK), Cholesky, damped SPD solve, SPD
// inverse, eigh and the copies at the public API's boundary. natgrad's WASM kernels
// (through the Kernels interface, data already in WASM memory) against the plain-TS
// reference, ml-matrix and, for GEMM, tfjs-backend-wasm; one table per kernel, then
// the ratios the issue sets targets for.
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { init } from '../dist/esm/index.js';
import { linalg, loadKernels } from '../dist/esm/advanced.js';
import {
  fmtNumber, fmtPercent, fmtSeconds, markdownTable, maxAbs, measureCases, mismatch, randn, randomSPD, summarize, target,
} from './lib.mjs';

export const name = 'kernels';
export const parts = ['gemm', 'gram', 'cholesky', 'solve', 'inverse', 'eigh', 'copies'];

/** λ of the damped solve. */
const DAMPING = 1e-3;

const require = createRequire(import.meta.url);

// ------------------------------------------------------------------ tables

/**
 * One table per kernel (two for the solve). flops(n) is the convention the GFLOP/s
 * use; null means the table reports times. order is the call time's growth in n,
 * to predict whether a slow peer fits the time budget at the next size.
 */
const TABLES = [
  {
    part: 'gemm', key: 'gemm', title: 'GEMM C = A·B (A, B n×n)', flops: (n) => 2 * n ** 3, flopsText: '2n³', order: 3,
    cases: gemmCases, peers: ['js', 'ml', 'tfjs'], variants: true,
  },
  {
    part: 'gram', key: 'gram', title: 'Gram (SYRK) C = A·Aᵀ (A n×n)', flops: (n) => n ** 3, flopsText: 'n³ useful flops (C is symmetric)', order: 3,
    cases: gramCases, peers: ['js', 'ml'], vsGemm: true, variants: true,
  },
  {
    part: 'cholesky', key: 'cholesky', title: 'Cholesky factor (potrf) of an SPD matrix', flops: (n) => n ** 3 / 3, flopsText: 'n³/3', order: 3,
    cases: choleskyCases, peers: ['js', 'ml'], vsGemm: true, variants: true,
  },
  {
    part: 'solve', key: 'solve', title: `Damped SPD solve (A + λI)·x = b, one right-hand side, λ = ${DAMPING}: factor + solve`,
    flops: (n) => n ** 3 / 3 + 2 * n ** 2, flopsText: 'n³/3 + 2n²', order: 3, cases: solveCases, peers: ['js', 'ml'],
  },
  {
    part: 'solve', key: 'solveOnly', title: 'Damped SPD solve, one right-hand side: solve only (factor given)',
    flops: (n) => 2 * n ** 2, flopsText: '2n²', order: 2, cases: solveOnlyCases, peers: ['js', 'ml'],
  },
  {
    part: 'inverse', key: 'inverse', title: 'SPD inverse (A⁻¹ by Cholesky: potrf + potri)', flops: (n) => n ** 3, flopsText: 'n³', order: 3,
    cases: inverseCases, peers: ['js', 'ml'], vsGemm: true, variants: true,
  },
  {
    part: 'eigh', key: 'eigh', title: 'Symmetric eigendecomposition (all values and vectors)', flops: null,
    flopsText: 'no flop count: the work depends on the algorithm (tridiagonalisation + QL/QR ≈ 9n³ for LAPACK dsyev with vectors); times and speed ratios only',
    order: 3, cases: eighCases, peers: ['js', 'ml'],
  },
  {
    part: 'copies', key: 'copies', title: 'Copies at the boundary: the public linalg.gemm on plain Float64Arrays vs the kernel on resident data',
    flops: null, flopsText: 'times; the public call copies A and B into WASM memory and the result out, and validates its inputs',
    order: 3, cases: copiesCases, peers: [],
  },
];

const LABELS = {
  js: 'natgrad JS reference',
};

/**
 * The natgrad WASM configurations a table with `variants` measures besides the default one
 * ('wasm': the build init() picks, relaxed where the engine validates it, one thread):
 * the baseline SIMD128 build where 'wasm' is the relaxed one, and the default build on two
 * threads where SharedArrayBuffer exists. Each is its own backend instance with its own memory.
 */
async function wasmVariants() {
  const auto = await loadKernels('wasm');
  const out = [{ id: 'wasm', k: auto, label: `natgrad WASM, ${auto.simdBuild} build, 1 thread (data in WASM memory)` }];
  if (auto.simdBuild === 'relaxed') {
    out.push({ id: 'wasmBaseline', k: await loadKernels('wasm', { simd: 'baseline' }), label: 'natgrad WASM, baseline SIMD128 build, 1 thread', variant: true });
  }
  const two = await loadKernels('wasm', { threads: 2 });
  if (two.threads === 2) out.push({ id: 'wasm2', k: two, label: `natgrad WASM, ${two.simdBuild} build, 2 threads`, variant: true });
  return out;
}

// ------------------------------------------------------------------- cases

/** Arrays copied into a backend's memory and freed together. */
function resident(k) {
  const ptrs = [];
  const alloc = (count) => {
    const p = k.alloc(Math.max(count, 1));
    ptrs.push(p);
    return p;
  };
  return {
    alloc,
    put(data) {
      const p = alloc(data.length);
      k.f64().set(data, p >> 3);
      return p;
    },
    read: (p, count) => k.f64().slice(p >> 3, (p >> 3) + count),
    dispose: () => ptrs.forEach((p) => k.free(p)),
  };
}

/**
 * The natgrad rows of a table — the WASM configurations (all variants when the table asks for
 * them, else the default one) and the JS reference: `setup(k, memory)` returns { run, output }.
 */
function natgrad(ctx, setup) {
  const wasm = ctx.table.variants ? ctx.variants : ctx.variants.filter((v) => !v.variant);
  return [...wasm, { id: 'js', k: ctx.js, label: LABELS.js }].map(({ id, k, label }) => ({
    id,
    label,
    reference: id === 'js',
    prepare() {
      const m = resident(k);
      return { ...setup(k, m), dispose: m.dispose };
    },
  }));
}

function close(n) {
  return (out, expected) => (expected
    ? mismatch(out, expected, { rtol: 1e-9, atol: 1e-9 * maxAbs(expected), cols: n })
    : 'no reference result to compare with');
}

function gemmCases(n, ctx) {
  const a = ctx.input('A', n), b = ctx.input('B', n);
  const cases = natgrad(ctx, (k, m) => {
    const pa = m.put(a), pb = m.put(b), pc = m.alloc(n * n);
    return { run: () => k.gemm(0, 0, n, n, n, 1, pa, n, pb, n, 0, pc, n), output: () => m.read(pc, n * n) };
  });
  cases.push({
    id: 'ml',
    label: 'ml-matrix mmul',
    prepare() {
      const A = Matrix.from1DArray(n, n, a), B = Matrix.from1DArray(n, n, b);
      let C;
      return { run: () => { C = A.mmul(B); }, output: () => C.to1DArray() };
    },
  });
  if (ctx.tf) {
    const tf = ctx.tf;
    cases.push({
      id: 'tfjs',
      peer: true,
      label: 'tfjs-backend-wasm matMul, float32 (+ dataSync)',
      // float32 inputs and accumulation: a looser bound that still catches a wrong product.
      check: (out, expected) => (expected ? mismatch(out, expected, { rtol: 0, atol: 1e-5 * Math.sqrt(n) * maxAbs(expected), cols: n }) : 'no reference'),
      prepare() {
        const A = tf.tensor2d(Float32Array.from(a), [n, n]), B = tf.tensor2d(Float32Array.from(b), [n, n]);
        let out;
        return {
          run: () => {
            const c = tf.matMul(A, B);
            out = c.dataSync();
            c.dispose();
          },
          output: () => Float64Array.from(out),
          dispose: () => { A.dispose(); B.dispose(); },
        };
      },
    });
  }
  return cases;
}

function gramCases(n, ctx) {
  const a = ctx.input('A', n);
  return [
    ...natgrad(ctx, (k, m) => {
      const pa = m.put(a), pc = m.alloc(n * n);
      return { run: () => k.syrk(0, n, n, 1, pa, n, 0, pc, n), output: () => m.read(pc, n * n) };
    }),
    {
      id: 'ml',
      peer: true,
      label: 'ml-matrix gram() of Aᵀ',
      prepare() {
        const At = Matrix.from1DArray(n, n, a).transpose();
        let C;
        return { run: () => { C = At.gram(); }, output: () => C.to1DArray() };
      },
    },
  ];
}

function choleskyCases(n, ctx) {
  const s = ctx.spd(n);
  return [
    ...natgrad(ctx, (k, m) => {
      const ps = m.put(s), pl = m.alloc(n * n);
      return { run: () => k.potrf(n, ps, n, 0, pl, n), output: () => m.read(pl, n * n) };
    }),
    {
      id: 'ml',
      peer: true,
      label: 'ml-matrix CholeskyDecomposition',
      prepare() {
        const S = Matrix.from1DArray(n, n, s);
        let d;
        return {
          run: () => {
            d = new CholeskyDecomposition(S);
            return d.isPositiveDefinite() ? 0 : 1;
          },
          output: () => d.lowerTriangularMatrix.to1DArray(),
        };
      },
    },
  ];
}

function dampedMatrix(s, n) {
  const d = Float64Array.from(s);
  for (let i = 0; i < n; i++) d[i * n + i] += DAMPING;
  return Matrix.from1DArray(n, n, d);
}

function solveCases(n, ctx) {
  const s = ctx.spd(n), b = ctx.input('b', n, 1);
  return [
    ...natgrad(ctx, (k, m) => {
      const ps = m.put(s), pb = m.put(b), pl = m.alloc(n * n), px = m.alloc(n);
      return {
        run: () => {
          const info = k.potrf(n, ps, n, DAMPING, pl, n);
          if (info !== 0) return info;
          // potrs works in place: start every call from b (an O(n) copy inside WASM memory).
          k.f64().copyWithin(px >> 3, pb >> 3, (pb >> 3) + n);
          k.potrs(n, 1, pl, n, px, 1);
          return 0;
        },
        output: () => m.read(px, n),
      };
    }),
    {
      id: 'ml',
      peer: true,
      label: 'ml-matrix CholeskyDecomposition(A + λI).solve(b)',
      prepare() {
        // λ is added outside the timing: ml-matrix has no damped factorisation.
        const S = dampedMatrix(s, n), B = Matrix.columnVector(b);
        let x;
        return { run: () => { x = new CholeskyDecomposition(S).solve(B); }, output: () => x.to1DArray() };
      },
    },
  ];
}

function solveOnlyCases(n, ctx) {
  const s = ctx.spd(n), b = ctx.input('b', n, 1);
  return [
    ...natgrad(ctx, (k, m) => {
      const ps = m.put(s), pb = m.put(b), pl = m.alloc(n * n), px = m.alloc(n);
      const info = k.potrf(n, ps, n, DAMPING, pl, n);
      return {
        run: () => {
          if (info !== 0) return info;
          k.f64().copyWithin(px >> 3, pb >> 3, (pb >> 3) + n);
          k.potrs(n, 1, pl, n, px, 1);
          return 0;
        },
        output: () => m.read(px, n),
      };
    }),
    {
      id: 'ml',
      peer: true,
      label: 'ml-matrix CholeskyDecomposition.solve(b)',
      prepare() {
        const d = new CholeskyDecomposition(dampedMatrix(s, n)), B = Matrix.columnVector(b);
        let x;
        return { run: () => { x = d.solve(B); }, output: () => x.to1DArray() };
      },
    },
  ];
}

function inverseCases(n, ctx) {
  const s = ctx.spd(n);
  return [
    ...natgrad(ctx, (k, m) => {
      const ps = m.put(s), pl = m.alloc(n * n), po = m.alloc(n * n);
      return {
        run: () => {
          const info = k.potrf(n, ps, n, 0, pl, n);
          if (info !== 0) return info;
          k.potri(n, pl, n, po, n);
          return 0;
        },
        output: () => m.read(po, n * n),
      };
    }),
    {
      id: 'ml',
      peer: true,
      label: 'ml-matrix CholeskyDecomposition.solve(I)',
      prepare() {
        const S = Matrix.from1DArray(n, n, s), I = Matrix.eye(n, n);
        let x;
        return { run: () => { x = new CholeskyDecomposition(S).solve(I); }, output: () => x.to1DArray() };
      },
    },
  ];
}

function eighCases(n, ctx) {
  const s = ctx.spd(n);
  const check = eigenCheck(s, n);
  return [
    ...natgrad(ctx, (k, m) => {
      const ps = m.put(s), pw = m.alloc(n), pv = m.alloc(n * n);
      return {
        run: () => k.syev(n, ps, n, pw, pv, n),
        output: () => {
          const v = m.read(pv, n * n);
          return { values: m.read(pw, n), at: (i, j) => v[i * n + j] };
        },
      };
    }).map((c) => ({ ...c, check })),
    {
      id: 'ml',
      peer: true,
      label: 'ml-matrix EigenvalueDecomposition (assumeSymmetric)',
      check,
      prepare() {
        const S = Matrix.from1DArray(n, n, s);
        let e;
        return {
          run: () => { e = new EigenvalueDecomposition(S, { assumeSymmetric: true }); },
          output: () => {
            const V = e.eigenvectorMatrix;
            return { values: e.realEigenvalues, at: (i, j) => V.get(i, j) };
          },
        };
      },
    },
  ];
}

/**
 * Verifies { values, at(i, j) } as an eigendecomposition of the symmetric S by
 * identities, so it works without a reference: ascending values, trace and
 * Frobenius norm preserved, and S·V = V·diag(w) and Vᵀ·V = I tested on three seeded
 * random vectors (Freivalds: O(n²) each, yet any wrong column shows); then the
 * values against the expected ones when there are any.
 */
function eigenCheck(s, n) {
  const probes = [1, 2, 3].map((p) => randn(7000 + 10 * n + p, n));
  let trace = 0, frob = 0;
  for (let i = 0; i < n; i++) trace += s[i * n + i];
  for (let i = 0; i < n * n; i++) frob += s[i] * s[i];
  const matVec = (m, x, transpose = false) => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let p = 0; p < n; p++) t += (transpose ? m[p * n + i] : m[i * n + p]) * x[p];
      y[i] = t;
    }
    return y;
  };
  return (out, expected) => {
    const w = out.values;
    if (w.length !== n) return `${w.length} eigenvalues for n = ${n}`;
    const wmax = maxAbs(w);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(w[i])) return `eigenvalue ${i} is ${w[i]}`;
      if (i > 0 && w[i] < w[i - 1] - 1e-12 * wmax) return `eigenvalues not ascending at ${i}`;
    }
    let sum = 0, sq = 0;
    for (let i = 0; i < n; i++) { sum += w[i]; sq += w[i] * w[i]; }
    if (Math.abs(sum - trace) > 1e-9 * n * wmax) return `Σw = ${sum} but trace(A) = ${trace}`;
    if (Math.abs(sq - frob) > 1e-8 * frob) return `Σw² = ${sq} but ‖A‖F² = ${frob}`;
    const v = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) v[i * n + j] = out.at(i, j);
    for (const x of probes) {
      const scale = Math.sqrt(x.reduce((t, xi) => t + xi * xi, 0));
      const vx = matVec(v, x);
      const svx = matVec(s, vx), vwx = matVec(v, x.map((xi, j) => w[j] * xi));
      const vtvx = matVec(v, vx, true);
      for (let i = 0; i < n; i++) {
        const r = svx[i] - vwx[i];
        if (!(Math.abs(r) <= 1e-9 * wmax * scale)) return `(A·V − V·diag(w))·x is ${r.toExponential(2)} at ${i} for a random x`;
        const q = vtvx[i] - x[i];
        if (!(Math.abs(q) <= 1e-9 * scale)) return `(Vᵀ·V − I)·x is ${q.toExponential(2)} at ${i} for a random x`;
      }
    }
    return expected ? mismatch(w, expected.values, { rtol: 1e-8, atol: 1e-8 * wmax }) : null;
  };
}

function copiesCases(n, ctx) {
  const a = ctx.input('A', n), b = ctx.input('B', n);
  const expected = ctx.gemmReference(n);
  const check = (out) => mismatch(out, expected, { rtol: 1e-9, atol: 1e-9 * maxAbs(expected), cols: n });
  const k = ctx.wasm;
  const onHeap = (extra) => ({
    prepare() {
      const m = resident(k);
      const pa = m.put(a), pb = m.put(b), pc = m.alloc(n * n);
      const kernel = () => k.gemm(0, 0, n, n, n, 1, pa, n, pb, n, 0, pc, n);
      return { dispose: m.dispose, ...extra(kernel, pa, pb, pc, m) };
    },
  });
  return [
    {
      id: 'kernel', label: 'WASM gemm kernel on resident data', check,
      ...onHeap((kernel, pa, pb, pc, m) => ({ run: kernel, output: () => m.read(pc, n * n) })),
    },
    {
      id: 'publicC', label: 'linalg.gemm(a, b, n, n, n, { c })', check,
      prepare() {
        const c = new Float64Array(n * n);
        return { run: () => { linalg.gemm(a, b, n, n, n, { c }); }, output: () => c };
      },
    },
    {
      id: 'public', label: 'linalg.gemm(a, b, n, n, n): allocates the result', check,
      prepare() {
        let c;
        return { run: () => { c = linalg.gemm(a, b, n, n, n); }, output: () => c };
      },
    },
    {
      id: 'copies', label: 'raw copies alone: A, B in, C out (preallocated)', check,
      ...onHeap((kernel, pa, pb, pc) => {
        kernel();
        const c = new Float64Array(n * n);
        return {
          run: () => {
            const h = k.f64();
            h.set(a, pa >> 3);
            h.set(b, pb >> 3);
            c.set(h.subarray(pc >> 3, (pc >> 3) + n * n));
          },
          output: () => c,
        };
      }),
    },
  ];
}

// ------------------------------------------------------------------- suite

/** tfjs-core on its wasm backend (loaded from node_modules); resolves to { tf, info }. */
export async function loadTfjs() {
  const tf = await import('@tensorflow/tfjs-core');
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  // A filesystem prefix: the Node build reads the .wasm files from there.
  setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const [simd, threads] = await Promise.all([tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')]);
  return { tf, info: `tfjs-backend-wasm: ${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded'} build, float32` };
}

/**
 * Runs the selected tables. ctx: { parts (null = all), sizes, profile, ceiling, log }.
 * Returns { data, markdown, targets }.
 */
export async function run({ parts: only, sizes, profile, ceiling, log }) {
  const tables = TABLES.filter((t) => !only || only.includes(t.part));
  const memo = new Map();
  const once = (key, make) => {
    if (!memo.has(key)) memo.set(key, make());
    return memo.get(key);
  };
  const seeds = { A: 1000, B: 2000, b: 4000 };
  const variants = await wasmVariants();
  const ctx = {
    wasm: variants[0].k,
    variants,
    table: null,
    js: await loadKernels('js'),
    tf: null,
    input: (name, n, cols = n) => once(`${name}${n}`, () => randn(seeds[name] + n, n * cols)),
    spd: (n) => once(`S${n}`, () => randomSPD(3000 + n, n)),
    gemmReference: (n) => once(`gemm${n}`, () => referenceGemm(ctx.js, ctx.input('A', n), ctx.input('B', n), n)),
  };
  const notes = [variantsNote(variants)];
  if (tables.some((t) => t.key === 'gemm')) {
    try {
      const { tf, info } = await loadTfjs();
      ctx.tf = tf;
      notes.push(info);
    } catch (e) {
      notes.push(`tfjs-backend-wasm unavailable, its row is left out: ${e.message}`);
    }
  }
  if (tables.some((t) => t.key === 'copies')) await init({ backend: 'wasm' });

  const results = {};
  let previousPart;
  for (const table of tables) {
    if (previousPart && previousPart !== table.part) ceiling.measure(profile, `after ${previousPart}`);
    previousPart = table.part;
    ctx.table = table;
    results[table.key] = measureTable(table, sizes, ctx, profile, log);
    if (table.key === 'gemm') {
      for (const n of sizes) {
        const ref = results.gemm.expected[n];
        if (ref) memo.set(`gemm${n}`, ref);
      }
    }
  }
  if (previousPart) ceiling.measure(profile, `after ${previousPart}`);

  const targets = checkTargets(results, ceiling, sizes, { relaxed: ctx.wasm.simdBuild === 'relaxed' });
  const sections = tables.map((t) => tableMarkdown(t, results[t.key], sizes, results, ceiling));
  if (notes.length) sections.unshift(notes.map((x) => `- ${x}`).join('\n'));
  const withRates = (t, cells) => Object.fromEntries(Object.entries(cells).map(([n, byId]) => [n, Object.fromEntries(
    Object.entries(byId).map(([id, cell]) => [id, t.flops && cell.status === 'ok' ? { ...cell, gflops: rate(t, Number(n), cell) } : cell]),
  )]));
  const data = Object.fromEntries(tables.map((t) => [t.key, {
    title: t.title, flops: t.flopsText, rows: results[t.key].rows, cells: withRates(t, results[t.key].cells),
    ...(t.key === 'copies' ? { pairedOverhead: results.copies.paired } : {}),
  }]));
  return { data, markdown: sections.join('\n\n'), targets };
}

/** What the WASM rows are, for the notes above the tables. */
function variantsNote(variants) {
  const ids = new Set(variants.map((v) => v.id));
  return [
    `natgrad WASM rows: ${variants.map((v) => v.label.replace(/ \(.*\)$/, '')).join('; ')}`,
    ids.has('wasmBaseline') ? 'the relaxed build fuses multiply-adds (FMA), so its results differ from the baseline build in the last bits' : 'this engine does not validate relaxed SIMD: only the baseline build runs',
    ids.has('wasm2') ? 'the 2-thread rows split C into row panels across a worker thread and the calling thread (bit-identical to 1 thread)' : 'no SharedArrayBuffer here: no 2-thread rows',
  ].join('; ');
}

function referenceGemm(k, a, b, n) {
  const m = resident(k);
  const pa = m.put(a), pb = m.put(b), pc = m.alloc(n * n);
  k.gemm(0, 0, n, n, n, 1, pa, n, pb, n, 0, pc, n);
  const c = m.read(pc, n * n);
  m.dispose();
  return c;
}

function measureTable(table, sizes, ctx, profile, log) {
  const cells = {};
  const expected = {};
  const history = {};
  const paired = {};
  let rows = [];
  for (const n of sizes) {
    const cases = table.cases(n, ctx);
    rows = cases.map((c) => ({ id: c.id, label: c.label }));
    const predict = (id) => {
      const h = history[id];
      return h && h.seconds * (n / h.n) ** table.order;
    };
    const progress = (c, cell) => log(`${table.key} n=${n} ${c.label}: ${cellText(table, n, cell)}${cell.note ? ` (${cell.note})` : ''}`);
    const r = measureCases(cases, { check: close(n), profile, predict, progress });
    cells[n] = r.cells;
    expected[n] = r.cells.js?.status === 'ok' ? r.expected : null;
    if (table.key === 'copies') paired[n] = pairedOverheads(cases, r.cells, profile);
    for (const [id, cell] of Object.entries(r.cells)) {
      if (cell.status === 'ok') history[id] = { n, seconds: cell.median };
    }
  }
  return { rows, cells, expected, paired };
}

/**
 * The public call's overhead over the kernel, (public − kernel) ÷ kernel, from calls
 * of the two made in alternation: a difference of two separately timed cells would
 * drown a few percent in this host's drift. The estimate is the median over pairs of
 * (public − kernel) ÷ kernel; a difference has no "best", so it is reported as both
 * median and best. Runs for about the time one timed cell gets, and at least 5 pairs.
 */
function pairedOverheads(cases, cells, profile) {
  const out = {};
  const kernelCase = cases.find((c) => c.id === 'kernel');
  for (const id of ['publicC', 'public']) {
    if (cells.kernel?.status !== 'ok' || cells[id]?.status !== 'ok') continue;
    const k = kernelCase.prepare(), p = cases.find((c) => c.id === id).prepare();
    const rel = [];
    const clock = () => performance.now() / 1e3;
    const start = clock();
    for (let i = 0; rel.length < 5 || (clock() - start < profile.maxTime * profile.rounds && rel.length < 5000); i++) {
      // Alternate the order so neither call always runs right after the other.
      const [first, second] = i % 2 ? [p, k] : [k, p];
      const t0 = clock();
      first.run();
      const t1 = clock();
      second.run();
      const t2 = clock();
      const [tk, tp] = first === k ? [t1 - t0, t2 - t1] : [t2 - t1, t1 - t0];
      rel.push(tp / tk - 1);
    }
    k.dispose?.();
    p.dispose?.();
    const m = summarize(rel).median;
    out[id] = { median: m, best: m, pairs: rel.length };
  }
  return out;
}

// --------------------------------------------------------- ratios, targets

/** { median, best } of a cell as a rate: GFLOP/s, or calls per second for a table without flops. */
function rate(table, n, cell) {
  if (!cell || cell.status !== 'ok') return null;
  const work = table.flops ? table.flops(n) / 1e9 : 1;
  return { median: work / cell.median, best: work / cell.best };
}

function ratio(x, y) {
  return x && y ? { median: x.median / y.median, best: x.best / y.best } : null;
}

function tableRate(results, key, n, id) {
  const table = TABLES.find((t) => t.key === key);
  return rate(table, n, results[key]?.cells[n]?.[id]);
}

/** The copies table's ratios to the kernel: paired overheads for the public calls, the raw copies' time share. */
function copiesShare(results, n, id) {
  if (id !== 'copies') return results.copies?.paired[n]?.[id] ?? null;
  const c = results.copies?.cells[n];
  return c?.copies?.status === 'ok' && c.kernel?.status === 'ok'
    ? { median: c.copies.median / c.kernel.median, best: c.copies.best / c.kernel.best } : null;
}

const PEER_NAMES = { js: 'JS reference', ml: 'ml-matrix', tfjs: 'tfjs f32' };

/** The ratio rows under a table: [label, unit, n → { median, best } | null]. */
function ratioRows(table, results, ceiling) {
  const wasm = (n) => tableRate(results, table.key, n, 'wasm');
  if (table.key === 'copies') {
    return [
      ['linalg.gemm with c: overhead ÷ kernel (paired calls, median)', '%', (n) => copiesShare(results, n, 'publicC')],
      ['linalg.gemm allocating: overhead ÷ kernel (paired calls, median)', '%', (n) => copiesShare(results, n, 'public')],
      ['raw copies ÷ kernel', '%', (n) => copiesShare(results, n, 'copies')],
    ];
  }
  const rows = [];
  if (table.flops && table.key !== 'solveOnly' && table.key !== 'solve') {
    rows.push(['WASM ÷ SIMD ceiling', '%', (n) => ratio(wasm(n), ceiling.rate)]);
    if (ceiling.fmaRate && result(results, table.key).rows[0]?.label.includes('relaxed')) rows.push(['WASM ÷ FMA ceiling', '%', (n) => ratio(wasm(n), ceiling.fmaRate)]);
  }
  for (const peer of table.peers) {
    rows.push([`WASM ÷ ${PEER_NAMES[peer]}${table.flops ? '' : ' (speed-up)'}`, '×', (n) => ratio(wasm(n), tableRate(results, table.key, n, peer))]);
  }
  if (table.vsGemm) rows.push([`${table.key} ÷ GEMM rate (WASM)`, '%', (n) => ratio(wasm(n), tableRate(results, 'gemm', n, 'wasm'))]);
  if (table.variants) {
    const has = (id) => result(results, table.key).rows.some((r) => r.id === id);
    if (has('wasmBaseline')) rows.push(['relaxed build ÷ baseline build (1 thread)', '×', (n) => ratio(wasm(n), tableRate(results, table.key, n, 'wasmBaseline'))]);
    if (has('wasm2')) rows.push(['2 threads ÷ 1 thread', '×', (n) => ratio(tableRate(results, table.key, n, 'wasm2'), wasm(n))]);
  }
  return rows;
}

function result(results, key) {
  return results[key] ?? { rows: [] };
}

function checkTargets(results, ceiling, sizes, ctx0) {
  const wasm = (key, n) => tableRate(results, key, n, 'wasm');
  const peer = (key, n, id) => tableRate(results, key, n, id);
  /** What is missing or wrong among the cells [key, id] at n that a target needs. */
  const inspect = (n, deps) => {
    for (const [key, id] of deps) {
      if (!results[key]) return { why: `${key} not run` };
      if (!sizes.includes(n)) return { why: `n = ${n} not run` };
      const cell = results[key].cells[n]?.[id];
      if (!cell) return { why: `${key} ${id} not measured` };
      if (cell.status === 'ok') continue;
      const text = `${key} ${id} ${cell.status === 'failed' ? cellText(null, n, cell) : cell.status}`;
      // The implementation under test failing fails the target; a missing peer leaves it open.
      const underTest = id === 'wasm' || key === 'copies';
      if (underTest && cell.status !== 'skipped') return { broken: text };
      return { why: text };
    }
    return {};
  };
  const t = [];
  const add = (name, n, value, deps, bounds) => t.push(target(name, n, value, { ...bounds, ...inspect(n, deps) }));
  const big = sizes.filter((n) => n >= 128);
  for (const n of big.length ? big : [128]) {
    add('GEMM: WASM ÷ SIMD ceiling', n, ratio(wasm('gemm', n), ceiling.rate), [['gemm', 'wasm']], { min: 0.85, unit: '%' });
    add('GEMM: WASM ÷ JS reference', n, ratio(wasm('gemm', n), peer('gemm', n, 'js')), [['gemm', 'wasm'], ['gemm', 'js']], { min: 10 });
    add('GEMM: WASM ÷ ml-matrix', n, ratio(wasm('gemm', n), peer('gemm', n, 'ml')), [['gemm', 'wasm'], ['gemm', 'ml']], { min: 20 });
  }
  for (const n of sizes) {
    add('Gram: WASM rate ÷ WASM GEMM rate', n, ratio(wasm('gram', n), wasm('gemm', n)), [['gram', 'wasm'], ['gemm', 'wasm']], { min: 0.8, unit: '%' });
  }
  add('Cholesky: WASM rate ÷ WASM GEMM rate', 1024, ratio(wasm('cholesky', 1024), wasm('gemm', 1024)), [['cholesky', 'wasm'], ['gemm', 'wasm']], { min: 0.6, unit: '%' });
  add('Cholesky: WASM ÷ ml-matrix', 1024, ratio(wasm('cholesky', 1024), peer('cholesky', 1024, 'ml')), [['cholesky', 'wasm'], ['cholesky', 'ml']], { min: 15 });
  for (const n of sizes) {
    add('Damped solve, 1 RHS (factor + solve): WASM ÷ ml-matrix', n, ratio(wasm('solve', n), peer('solve', n, 'ml')), [['solve', 'wasm'], ['solve', 'ml']], { min: 8 });
  }
  // Relaxed SIMD and threads (issue 11). Not applicable (left open) where the engine lacks relaxed SIMD or SharedArrayBuffer.
  const big256 = sizes.filter((n) => n >= 256);
  for (const n of big256.length ? big256 : [256]) {
    // What the hardware allows: the FMA loop's rate over the faster mul + add loop's, in this run.
    const fmaGain = ceiling.fmaRate && ceiling.rate ? ceiling.fmaRate.median / ceiling.rate.median : null;
    add('GEMM: relaxed build ÷ baseline build', n, ratio(wasm('gemm', n), peer('gemm', n, 'wasmBaseline')), [['gemm', 'wasm'], ['gemm', 'wasmBaseline']],
      { min: 1.3, ...(fmaGain ? { note: `this CPU's FMA ceiling is ${fmtNumber(fmaGain)}× its mul + add ceiling: the most fusing can gain here` } : {}) });
    add('GEMM: relaxed build ÷ FMA ceiling', n, ceiling.fmaRate && ctx0.relaxed ? ratio(wasm('gemm', n), ceiling.fmaRate) : null,
      [['gemm', 'wasm']], { min: 0.7, unit: '%', ...(ceiling.fmaRate && ctx0.relaxed ? {} : { why: 'no relaxed SIMD on this engine' }) });
    add('GEMM: 2 threads ÷ 1 thread', n, ratio(peer('gemm', n, 'wasm2'), wasm('gemm', n)), [['gemm', 'wasm'], ['gemm', 'wasm2']], { min: 1.7 });
    add('Gram: 2 threads ÷ 1 thread', n, ratio(peer('gram', n, 'wasm2'), wasm('gram', n)), [['gram', 'wasm'], ['gram', 'wasm2']], { min: 1.7 });
  }
  for (const n of big256.length ? big256 : [256]) {
    const ids = ['wasm', 'wasmBaseline', 'wasm2'].filter((id) => results.gemm?.cells[n]?.[id]?.status === 'ok');
    const fastest = ids.sort((x, y) => peer('gemm', n, y).median - peer('gemm', n, x).median)[0] ?? 'wasm';
    add(`GEMM: fastest WASM configuration (${fastest}) ÷ JS reference`, n, ratio(peer('gemm', n, fastest), peer('gemm', n, 'js')), [['gemm', fastest], ['gemm', 'js']], { min: 10 });
  }
  add('Cholesky: 2 threads ÷ 1 thread', 1024, ratio(peer('cholesky', 1024, 'wasm2'), wasm('cholesky', 1024)), [['cholesky', 'wasm'], ['cholesky', 'wasm2']], { min: 1.5 });
  add('eigh: WASM ÷ ml-matrix (speed-up)', 256, ratio(wasm('eigh', 256), peer('eigh', 256, 'ml')), [['eigh', 'wasm'], ['eigh', 'ml']], { min: 10 });
  const copies = (id) => [['copies', 'kernel'], ['copies', id]];
  add('Copies: linalg.gemm (allocating) overhead ÷ GEMM', 256, copiesShare(results, 256, 'public'), copies('public'), { max: 0.05, unit: '%' });
  add('Copies: linalg.gemm (c given) overhead ÷ GEMM', 256, copiesShare(results, 256, 'publicC'), copies('publicC'), { max: 0.05, unit: '%' });
  add('Copies: raw copy in/out ÷ GEMM', 256, copiesShare(results, 256, 'copies'), copies('copies'), { max: 0.05, unit: '%' });
  return t;
}

// --------------------------------------------------------------- rendering

function cellText(table, n, cell) {
  if (!cell) return '';
  switch (cell.status) {
    case 'ok': {
      if (!table.flops) return `${fmtSeconds(cell.median)} / ${fmtSeconds(cell.best)}`;
      const r = rate(table, n, cell);
      return `${fmtNumber(r.median)} / ${fmtNumber(r.best)}`;
    }
    case 'failed': return `failed (${cell.note.replace('returned failure ', '')})`;
    case 'wrong': return 'WRONG';
    case 'error': return 'error';
    case 'skipped': return 'skipped';
    default: return cell.status;
  }
}

function tableMarkdown(table, result, sizes, results, ceiling) {
  const unit = table.flops ? 'GFLOP/s' : 'time per call';
  const header = [`${unit}, median / best`, ...sizes.map((n) => `n = ${n}`)];
  const rows = result.rows.map((r) => [r.label, ...sizes.map((n) => {
    const cell = result.cells[n][r.id];
    return cellText(table, n, cell) + (cell?.note && cell.status === 'ok' ? ' *' : '');
  })]);
  for (const [label, unitOf, f] of ratioRows(table, results, ceiling)) {
    const fmt = (x) => (unitOf === '%' ? fmtPercent(x) : `${fmtNumber(x)}×`);
    rows.push([`_${label}_`, ...sizes.map((n) => {
      const v = f(n);
      if (!v) return '–';
      return v.median === v.best ? fmt(v.median) : `${fmt(v.median)} / ${fmt(v.best)}`;
    })]);
  }
  const notes = [];
  for (const n of sizes) {
    for (const r of result.rows) {
      const cell = result.cells[n][r.id];
      if (cell?.note && cell.status !== 'failed') notes.push(`- n = ${n}, ${r.label}: ${cell.note}`);
    }
  }
  return [`### ${table.title}`, '', `Flops: ${table.flopsText}.`, '', markdownTable(header, rows), ...(notes.length ? ['', ...notes] : [])].join('\n');
}
