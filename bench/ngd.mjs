// The NGD suite: one exact natural-gradient step
// of natgrad's ngd() on the paper's two-layer ReLU net, n = 512 unit-norm inputs in
// d = 64, width m = 4096 (P = 262,144 trained weights), squared error, fixed damping:
// - against its own flop budget: the step's GEMM/SYRK/Cholesky flops at the GEMM
//   rate measured in this run, with every kernel call timed at its exact shape;
// - WASM against the JS backend, the same code on both;
// - at width 1024, the matrix-free step against a naive NGD that forms the
//   Jacobian explicitly (bench/explicit-ngd.mjs): time and working memory.
import { fork } from 'node:child_process';
import { Net, init, ngd, twoLayerReLU } from '../dist/esm/index.js';
import { WasmKernels } from '../dist/esm/kernels/wasm/index.js';
import { ExplicitNgd } from './explicit-ngd.mjs';
import {
  fmtNumber, fmtPercent, fmtSeconds, markdownTable, maxAbs, mismatch, randn, summarize, target, time, timeCalls,
  unitSphereRegression,
} from './lib.mjs';

export const name = 'ngd';
export const parts = ['ngd-step', 'ngd-js', 'ngd-explicit'];

/** The benchmark problem (the paper's net at n = 512, d = 64, m = 4096); the headline suite trains on the same one. */
export const PROBLEM = { n: 512, d: 64, width: 4096, narrowWidth: 1024, dataSeed: 3100, netSeed: 3200 };
/** The step: η = 1, fixed Tikhonov damping λ (ngd()'s default), full batch. */
export const STEP = { lr: 1, damping: 1e-3 };
// ---------------------------------------------------------- flop accounting

/**
 * The kernel calls one ngd() step makes on the two-layer net (one output, only W
 * trained, Gram form) as the suite times it: θ set back to θ₀ before each step of one
 * optimizer on one batch, so the step runs its forward pass (θ is not the held trial's)
 * but not the input Gram X·Xᵀ, which the optimizer keeps while X holds the same bits. In order, each with the flops it is charged, the `calls` it
 * stands for (operation and dimensions, as {@link recordingKernels} logs them: a real
 * step is recorded and compared with this list by {@link checkStepCalls}) and a
 * `run(k, b)` that repeats it at the same shape on the buffers b of
 * {@link kernelBuffers}. Flops:
 * 2·m·n·k for a GEMM (m×k by k×n); n²·k for a SYRK (the useful half of a Gram: C is
 * symmetric); n³/3 for a Cholesky; 2n² for a pair of triangular solves.
 */
export function stepCalls(n, d, m) {
  const s = 1 / Math.sqrt(m);
  return [
    {
      key: 'forward', what: 'forward, hidden layer: Z = X·Wᵀ', call: `gemm ${n}×${d} · ${d}×${m}`, flops: 2 * n * d * m,
      calls: [`gemm(0,1,${n},${m},${d})`],
      run: (k, b) => k.gemm(0, 1, n, m, d, 1, b.X, d, b.W, d, 0, b.Z, m),
    },
    {
      key: 'output', what: 'forward, output layer: u = (s·relu Z)·aᵀ', call: `gemm ${n}×${m} · ${m}×1`, flops: 2 * n * m,
      calls: [`gemm(0,1,${n},1,${m})`],
      run: (k, b) => k.gemm(0, 1, n, 1, m, 1, b.H, m, b.a, m, 0, b.u, 1),
    },
    {
      key: 'backward', what: 'backward to Z: B = s·(1·a) ∘ [Z ≥ 0] (the rank-1 product fused with the ReLU mask)', call: `reluOuter ${n}×${m}`, flops: 2 * n * m,
      calls: [],
      run: (k, b) => k.reluOuter(n, 1, m, s, b.ones, b.a, b.Z, b.B),
    },
    {
      key: 'bgram', what: 'Gram of the output gradients B·Bᵀ from the bit-packed ReLU masks the forward pass packed (reluPack), lower triangle (maskGramLower: integer popcounts, charged no flops)',
      call: `maskGramLower ${n}×${m / 64} words`, flops: 0,
      calls: [],
      run: (k, b) => k.maskGramLower(n, Math.ceil(m / 64), b.masks, 1 / m, b.G, n),
    },
    {
      key: 'gc', what: 'G·c (for ‖∇L‖² = cᵀGc)', call: `gemm ${n}×${n} · ${n}×1`, flops: 2 * n * n,
      calls: [`gemm(0,0,${n},1,${n})`],
      run: (k, b) => k.gemm(0, 0, n, 1, n, 1, b.G, n, b.c, 1, 0, b.Gc, 1),
    },
    {
      key: 'potrf', what: 'Cholesky of G + λI', call: `potrf ${n}`, flops: n ** 3 / 3,
      calls: [`potrf(${n})`],
      run: (k, b) => k.potrf(n, b.S, n, STEP.damping, b.L, n),
    },
    {
      key: 'potrs', what: 'solve (G + λI)·x = c', call: `potrs ${n}, 1 RHS`, flops: 2 * n * n,
      calls: [`potrs(${n},1)`],
      run: (k, b) => {
        // potrs works in place: start every call from c (an O(n) copy).
        k.f64().copyWithin(b.x >> 3, b.c >> 3, (b.c >> 3) + n);
        k.potrs(n, 1, b.L, n, b.x, 1);
      },
    },
    {
      key: 'jtx', what: 'the step θ ← θ − η·Jᵀx = θ − η·Bᵀ·diag(x)·X', call: `gemm ${m}×${n} · ${n}×${d}`, flops: 2 * n * d * m,
      calls: [`gemm(1,0,${m},${d},${n})`],
      run: (k, b) => k.gemm(1, 0, m, d, n, -STEP.lr, b.B, m, b.V, d, 1, b.dW, d),
    },
    {
      key: 'trial', what: 'the guard\'s trial pass at θ + Δθ: Z = X·Wᵀ (kept: the next step of full-batch training skips its own forward)', call: `gemm ${n}×${d} · ${d}×${m}`,
      flops: 2 * n * d * m,
      calls: [`gemm(0,1,${n},${m},${d})`, `gemm(0,1,${n},1,${m})`],
      run: (k, b) => {
        k.gemm(0, 1, n, m, d, 1, b.X, d, b.W, d, 0, b.Z, m);
        k.gemm(0, 1, n, 1, m, 1, b.H, m, b.a, m, 0, b.u, 1);
      },
    },
  ];
}

/** The flop-bearing kernels and how many leading (dimension) arguments name a call's shape. */
const SHAPE_ARGS = { gemm: 5, syrk: 3, potrf: 1, potrs: 2, potri: 1, trsm: 3, syev: 1 };

/**
 * The Kernels object k behind a proxy that logs every flop-bearing call (GEMM, SYRK,
 * Cholesky, solves, eigensolver) as `op(dims…)`, e.g. `gemm(0,1,512,4096,64)` for
 * gemm(transA, transB, m, n, k, …). Everything else passes through to k.
 */
export function recordingKernels(k) {
  const log = [];
  const kernels = new Proxy(k, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const dims = SHAPE_ARGS[prop];
      if (dims === undefined) return v.bind(target);
      return (...args) => {
        log.push(`${String(prop)}(${args.slice(0, dims).join(',')})`);
        return v.apply(target, args);
      };
    },
  });
  return { kernels, log };
}

/**
 * The accounting checks itself: a real ngd() step of a copy of `net` on a recording
 * proxy of its kernels, taken as the suite times it (a second step from the same θ on the
 * same batch: see {@link stepCalls}), compared call by call with {@link stepCalls}. Throws
 * when they differ (the flop budget would then charge a step that does not exist).
 * Returns the number of calls recorded.
 */
export function checkStepCalls(net, batch, n, d, m) {
  const { kernels, log } = recordingKernels(net.kernels);
  const copy = cloneNet(net, kernels);
  const theta0 = copy.getParams();
  const opt = ngd({ lr: STEP.lr, damping: STEP.damping });
  try {
    opt.step(copy, batch);
    copy.setParams(theta0);
    log.length = 0;
    opt.step(copy, batch);
  } finally {
    opt.dispose();
    copy.dispose();
  }
  const expected = stepCalls(n, d, m).flatMap((c) => c.calls);
  if (log.join('\n') !== expected.join('\n')) {
    throw new Error(`bench/ngd.mjs: stepCalls() no longer matches the step's kernel calls.\nrecorded: ${log.join(' ')}\nexpected: ${expected.join(' ')}`);
  }
  return log.length;
}

/** Buffers in k's memory for {@link stepCalls}, filled with seeded values; dispose() frees them. */
function kernelBuffers(k, n, d, m, X, W) {
  const ptrs = [];
  const put = (values) => {
    const p = k.alloc(values.length);
    ptrs.push(p);
    k.f64().set(values, p >> 3);
    return p;
  };
  const b = {
    X: put(X), W: put(W), Z: put(randn(5001, n * m)), H: put(randn(5002, n * m)), a: put(randn(5003, m)),
    u: put(new Float64Array(n)), ones: put(new Float64Array(n).fill(1)), B: put(randn(5004, n * m)),
    G: put(new Float64Array(n * n)), c: put(randn(5005, n)),
    Gc: put(new Float64Array(n)), S: 0, L: put(new Float64Array(n * n)), x: put(new Float64Array(n)),
    V: put(randn(5006, n * d)), dW: put(randn(5007, m * d)), masks: put(new Float64Array(n * Math.ceil(m / 64))),
  };
  // An SPD matrix like the step's: B·Bᵀ of the seeded B (full rank, m > n).
  b.S = put(new Float64Array(n * n));
  k.syrk(0, n, m, 1 / m, b.B, m, 0, b.S, n);
  b.dispose = () => ptrs.forEach((p) => k.free(p));
  return b;
}

// ------------------------------------------------------------------ helpers

/** A copy of `net` (same layers and values, trainable or not) whose memory lives in `k`. */
export function cloneNet(net, k) {
  const h = net.kernels.f64();
  const specs = net.layers.map(({ inputs, outputs, bias, activation, weightScale, biasScale, trainable }) =>
    ({ inputs, outputs, bias, activation, weightScale, biasScale, trainable }));
  const values = net.layers.map((L) => h.slice(L.ptr >> 3, (L.ptr >> 3) + L.outputs * L.inA));
  return new Net(k, specs, values);
}

/**
 * The Kernels object k behind a proxy that counts its alloc/free: live bytes, their
 * peak, and the number of allocations. Everything else passes through to k.
 * A net (and so the optimizer bound to it) created on the proxy allocates through it.
 */
export function countingKernels(k) {
  const sizes = new Map();
  const counter = { live: 0, peak: 0, allocs: 0 };
  const alloc = (count) => {
    const p = k.alloc(count);
    const bytes = 8 * Math.max(count, 1);
    sizes.set(p, bytes);
    counter.live += bytes;
    counter.allocs++;
    counter.peak = Math.max(counter.peak, counter.live);
    return p;
  };
  const free = (p) => {
    const bytes = sizes.get(p);
    if (bytes !== undefined) {
      sizes.delete(p);
      counter.live -= bytes;
    }
    k.free(p);
  };
  const kernels = new Proxy(k, {
    get(target, prop) {
      if (prop === 'alloc') return alloc;
      if (prop === 'free') return free;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { kernels, counter };
}

/**
 * What one step allocates, measured on a fresh WASM instance (so no earlier run
 * has grown its memory) through {@link countingKernels}: a copy of `refNet` is made
 * on it, then `makeOptimizer()` takes two steps. For the first step: the peak of live
 * allocations above those before the step (the working memory: every buffer the
 * step creates, kept or freed), the bytes still held after it (the optimizer's
 * reusable workspace) and the growth of the instance's memory (which also holds the
 * kernels' internal pack buffers and the allocator's overhead). For the second:
 * the number of allocations (0 once the workspace exists).
 */
async function stepMemory(refNet, makeOptimizer, batch) {
  const raw = await WasmKernels.create();
  const { kernels, counter } = countingKernels(raw);
  const net = cloneNet(refNet, kernels);
  const opt = makeOptimizer();
  try {
    const live0 = counter.live, memory0 = raw.memoryBytes(), allocs0 = counter.allocs;
    counter.peak = counter.live;
    opt.step(net, batch);
    const first = {
      peakBytes: counter.peak - live0, retainedBytes: counter.live - live0,
      memoryGrowthBytes: raw.memoryBytes() - memory0, allocations: counter.allocs - allocs0,
    };
    const allocs1 = counter.allocs, live1 = counter.live;
    counter.peak = counter.live;
    opt.step(net, batch);
    const steady = { peakBytes: counter.peak - live1, allocations: counter.allocs - allocs1 };
    return { first, steady, netBytes: live0 };
  } finally {
    opt.dispose();
    net.dispose();
  }
}

/** θ1 − θ0 of one step of `opt` from θ0 (the net is left at θ0 + Δθ). */
function stepDelta(net, opt, batch, theta0) {
  net.setParams(theta0);
  opt.step(net, batch);
  const delta = net.getParams();
  for (let i = 0; i < delta.length; i++) delta[i] -= theta0[i];
  return delta;
}

/** null when the two updates agree to 1e-9 of the largest entry, else the first mismatch. */
function sameUpdate(actual, expected) {
  return mismatch(actual, expected, { rtol: 1e-9, atol: 1e-9 * maxAbs(expected) });
}

function ratio(x, y) {
  return x && y ? { median: x.median / y.median, best: x.best / y.best } : null;
}

function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 24 ? 2 : 1)} MiB`;
}

function cell(s) {
  return s ? `${fmtSeconds(s.median)} / ${fmtSeconds(s.best)}` : '–';
}

/** Timing plans from the profile: fast calls (≲ 0.2 s) and slow ones (≳ 1 s). */
function plans(profile) {
  return {
    fast: { warmup: 3, minSamples: 2 * profile.minSamples, seconds: profile.slowBudget, maxSamples: 60 },
    slow: { warmup: 1, minSamples: Math.max(2, Math.min(profile.minSamples, Math.round(profile.slowBudget / 1.2))) },
  };
}

// ------------------------------------------------------------------- parts

/**
 * The JS-backend step in a process of its own (bench/ngd-js-step.mjs): its first
 * step's update (to check the WASM one) and, when samples > 0, timed steps.
 * Resolves to { first, delta, samples }.
 */
function forkJsStep(samples, seconds) {
  return new Promise((resolve, reject) => {
    let reply = null;
    const child = fork(new URL('./ngd-js-step.mjs', import.meta.url), [JSON.stringify({ samples, seconds })],
      { serialization: 'advanced', execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m) => { reply = m; });
    child.on('error', reject);
    child.on('exit', (code) => (reply ? resolve(reply) : reject(new Error(`bench/ngd-js-step.mjs exited with code ${code}`))));
  });
}

/**
 * The WASM step at width m, checked against the JS backend's, and in each of
 * profile.rounds rounds: the JS step in a process of its own (when `timed`), the
 * WASM kernels at their exact shapes, then the WASM step; so the three share the
 * host's slow and fast phases.
 */
async function measureStep(ctx, timed) {
  const { n, d, width: m } = PROBLEM, { profile, log, batch } = ctx;
  const { fast, slow } = plans(profile);
  // The JS samples are split over the rounds; every child's first step is its warm-up.
  const jsPerRound = Math.max(1, Math.ceil(slow.minSamples / profile.rounds));
  const jsRun = await forkJsStep(timed ? jsPerRound : 0, 0);
  const jsSamples = [...jsRun.samples];

  const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const theta0 = net.getParams();
  const opt = ngd({ lr: STEP.lr, damping: STEP.damping });
  // Correctness first: the WASM step against the same step on the JS backend.
  const problem = sameUpdate(stepDelta(net, opt, batch, theta0), jsRun.delta);
  log(`ngd step m=${m}: WASM update vs JS update: ${problem ?? 'agree to 1e-9'}`);

  const k = net.kernels;
  const accountedCalls = checkStepCalls(net, batch, n, d, m);
  log(`ngd step m=${m}: the flop accounting matches the ${accountedCalls} kernel calls of a recorded step`);
  const calls = stepCalls(n, d, m);
  const buffers = kernelBuffers(k, n, d, m, batch.X, theta0);
  const kernelSamples = Object.fromEntries(calls.map((c) => [c.key, []]));
  const stepSamples = [];
  for (let round = 0; round < profile.rounds; round++) {
    if (timed && round > 0 && !problem) jsSamples.push(...(await forkJsStep(jsPerRound, 0)).samples);
    for (const c of calls) {
      const run = () => c.run(k, buffers);
      for (const t0 = performance.now(); performance.now() - t0 < 1e3 * profile.warmup;) run();
      kernelSamples[c.key].push(...time(run, profile));
    }
    if (!problem) {
      stepSamples.push(...timeCalls(() => opt.step(net, batch), { ...fast, warmup: round === 0 ? fast.warmup : 1, before: () => net.setParams(theta0) }));
    }
    log(`ngd step m=${m}: round ${round + 1}/${profile.rounds}: ${stepSamples.length} WASM and ${jsSamples.length} JS step samples`);
  }
  buffers.dispose();
  opt.dispose();
  net.dispose();
  const kernels = calls.map((c) => ({ key: c.key, what: c.what, call: c.call, flops: c.flops, ...summarize(kernelSamples[c.key]), samples: kernelSamples[c.key] }));
  const flops = calls.reduce((s, c) => s + c.flops, 0);
  const fwd = kernels.find((c) => c.key === 'forward');
  const gemmRate = { median: fwd.flops / fwd.median / 1e9, best: fwd.flops / fwd.best / 1e9 };
  const budget = { median: flops / 1e9 / gemmRate.median, best: flops / 1e9 / gemmRate.best };
  const kernelSum = { median: kernels.reduce((s, c) => s + c.median, 0), best: kernels.reduce((s, c) => s + c.best, 0) };
  const step = stepSamples.length ? { ...summarize(stepSamples), samples: stepSamples } : null;
  const js = jsSamples.length ? { ...summarize(jsSamples), samples: jsSamples } : null;
  log(`ngd step m=${m}: JS ${cell(js)}; WASM ${cell(step)}; budget ${cell(budget)} at ${fmtNumber(gemmRate.median)} / ${fmtNumber(gemmRate.best)} GFLOP/s`);
  return { m, problem, jsFirst: jsRun.first, js, kernels, flops, gemmRate, budget, kernelSum, step, accountedCalls };
}

/** Width 1024: ngd() against ExplicitNgd, time (alternating) and memory (fresh instances). */
async function measureExplicit(ctx) {
  const { n, d, narrowWidth: m } = PROBLEM, { profile, log, batch } = ctx;
  const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const theta0 = net.getParams();
  const makeFree = () => ngd({ lr: STEP.lr, damping: STEP.damping, form: 'gram' });
  const makeExplicit = () => new ExplicitNgd({ lr: STEP.lr, damping: STEP.damping });
  const free = makeFree(), explicit = makeExplicit();

  let t = performance.now();
  const explicitDelta = stepDelta(net, explicit, batch, theta0);
  const explicitFirst = (performance.now() - t) / 1e3;
  const freeDelta = stepDelta(net, free, batch, theta0);
  const problem = sameUpdate(freeDelta, explicitDelta);
  log(`ngd explicit m=${m}: matrix-free update vs explicit-J update: ${problem ?? 'agree to 1e-9'} (explicit first step ${fmtSeconds(explicitFirst)})`);

  const samples = { free: [], explicit: [] };
  if (!problem) {
    const { fast, slow } = plans(profile);
    const before = () => net.setParams(theta0);
    for (let round = 0; round < profile.rounds; round++) {
      samples.free.push(...timeCalls(() => free.step(net, batch), { ...fast, warmup: round === 0 ? fast.warmup : 1, before }));
      samples.explicit.push(...timeCalls(() => explicit.step(net, batch), { ...slow, warmup: round === 0 ? slow.warmup : 0, before }));
      log(`ngd explicit m=${m}: round ${round + 1}/${profile.rounds}: ${samples.free.length} + ${samples.explicit.length} samples`);
    }
  }
  free.dispose();
  explicit.dispose();

  const memory = {
    free: await stepMemory(net, makeFree, batch),
    explicit: await stepMemory(net, makeExplicit, batch),
  };
  log(`ngd explicit m=${m}: working memory ${mib(memory.free.first.peakBytes)} (matrix-free) vs ${mib(memory.explicit.first.peakBytes)} (explicit J)`);
  net.dispose();
  const stat = (x) => (x.length ? { ...summarize(x), samples: x } : null);
  return { m, P: m * d, problem, explicitFirst, free: stat(samples.free), explicit: stat(samples.explicit), memory };
}

// ------------------------------------------------------------------- suite

/**
 * Runs the selected parts. ctx: { parts (null = all), profile, log } (sizes and
 * ceiling are not used: the shapes are {@link PROBLEM}'s). Returns { data, markdown, targets }.
 */
export async function run({ parts: only, profile, log }) {
  const want = (p) => !only || only.includes(p);
  await init({ backend: 'wasm' });
  const { n, d } = PROBLEM;
  const { X, Y } = unitSphereRegression({ n, d, seed: PROBLEM.dataSeed });
  const ctx = { profile, log, batch: { X, Y, n } };

  const step = want('ngd-step') || want('ngd-js') ? await measureStep(ctx, want('ngd-js')) : null;
  const explicit = want('ngd-explicit') ? await measureExplicit(ctx) : null;

  const sections = [problemMarkdown()];
  if (step && want('ngd-step')) sections.push(budgetMarkdown(step));
  if (step && want('ngd-js')) sections.push(jsMarkdown(step));
  if (explicit) sections.push(explicitMarkdown(explicit));
  const targets = checkTargets(step, explicit, want);
  return {
    data: { problem: PROBLEM, step: STEP, wasm: step, explicit },
    markdown: sections.join('\n\n'),
    targets,
  };
}

function checkTargets(step, explicit, want) {
  const t = [];
  const broken = (p) => (p ? `wrong update: ${p}` : undefined);
  if (want('ngd-step')) {
    t.push(target('NGD step (WASM) ÷ its flop budget at the GEMM rate', `m = ${PROBLEM.width}`,
      ratio(step.step, step.budget), { max: 2, broken: broken(step.problem) }));
  }
  if (want('ngd-js')) {
    t.push(target('NGD step: JS backend ÷ WASM (speed-up)', `m = ${PROBLEM.width}`,
      ratio(step.js, step.step), { min: 10, broken: broken(step.problem) }));
  }
  if (explicit) {
    const e = explicit, mem = e.memory;
    t.push(target('explicit-J NGD ÷ matrix-free NGD, step time', `m = ${e.m}`, ratio(e.explicit, e.free), { min: 20, broken: broken(e.problem) }));
    const m = mem.explicit.first.peakBytes / mem.free.first.peakBytes;
    t.push(target('explicit-J NGD ÷ matrix-free NGD, working memory', `m = ${e.m}`, { median: m, best: m }, { min: 20, broken: broken(e.problem) }));
  }
  return t;
}

// --------------------------------------------------------------- rendering

function problemMarkdown() {
  const { n, d, width, narrowWidth, dataSeed, netSeed } = PROBLEM;
  return [
    '### Problem',
    '',
    `The paper's network f(x) = (1/√m) Σ_r a_r relu(w_rᵀx) (\`twoLayerReLU\`, ν = 1, seed ${netSeed}; only W trains), ` +
      `n = ${n} inputs uniform on the unit sphere of R^${d} and targets y ~ N(0, 1) (\`unitSphereRegression\`, seed ${dataSeed}), ` +
      `squared error L = ½ Σ (u − y)². One step: \`ngd({ lr: ${STEP.lr}, damping: ${STEP.damping} })\`, fixed damping, full batch, ` +
      `Gram form. Width m = ${width} (P = ${(width * d).toLocaleString('en')}) unless stated; the explicit-J comparison uses m = ${narrowWidth} ` +
      `(P = ${(narrowWidth * d).toLocaleString('en')}, J is ${n} × ${(narrowWidth * d).toLocaleString('en')}). ` +
      'Every timed step starts from the same initial θ (reset outside the timing); times are median / best.',
  ].join('\n');
}

function budgetMarkdown(s) {
  const rows = s.kernels.map((c) => [
    c.what, c.call, `${fmtNumber(c.flops / 1e6)} M`, fmtPercent(c.flops / s.flops),
    cell(c), c.flops ? `${fmtNumber(c.flops / c.median / 1e9)} / ${fmtNumber(c.flops / c.best / 1e9)}` : '–',
  ]);
  rows.push(['**total**', '', `**${fmtNumber(s.flops / 1e6)} M**`, '100%', `**${cell(s.kernelSum)}**`,
    `${fmtNumber(s.flops / s.kernelSum.median / 1e9)} / ${fmtNumber(s.flops / s.kernelSum.best / 1e9)}`]);
  const lines = [
    `### One NGD step on WASM, m = ${s.m}: the flop budget`,
    '',
    'Each kernel call of the step, repeated alone at its exact shape on resident data (Benchmark.js samples, ' +
      'alternating with the step samples in each round). Flops: 2·m·n·k per GEMM, n²·k per SYRK (the useful half), n³/3 ' +
      'for the Cholesky, 2n² for the solves; the mask Gram (integer popcounts) is timed but charged no flops. The timed step starts ' +
      'from θ₀ each time, so it runs its own forward pass as well as the guard\'s trial pass (a first step: three n×d×m products). ' +
      'Not counted: element-wise work (ReLU, the Hadamard product ' +
      'of the two Grams, the mirror of G, the residual, the step\'s finiteness checks and θ backup). The list is checked, not ' +
      `trusted: a real step, recorded through a logging Kernels wrapper, made exactly these ${s.accountedCalls} flop-bearing calls.`,
    '',
    markdownTable(['part of the step', 'kernel call', 'flops', 'share', 'time alone', 'GFLOP/s'], rows),
    '',
  ];
  if (s.problem) {
    lines.push(`The step was **not timed**: its update differs from the JS backend's: ${s.problem}.`);
    return lines.join('\n');
  }
  lines.push(
    `- GEMM rate R = the forward GEMM's rate above (${fmtNumber(s.gemmRate.median)} / ${fmtNumber(s.gemmRate.best)} GFLOP/s); ` +
      `flop budget = ${fmtNumber(s.flops / 1e9)} GFLOP ÷ R = **${cell(s.budget)}**`,
    `- the step (\`opt.step(net, { X, Y, n })\`): **${cell(s.step)}** (${s.step.count} samples) = ` +
      `**${fmtNumber(s.step.median / s.budget.median)}× / ${fmtNumber(s.step.best / s.budget.best)}×** the budget`,
    `- the kernels timed alone sum to ${cell(s.kernelSum)}; ` + (s.step.median >= s.kernelSum.median
      ? `the rest of the step, ${fmtSeconds(s.step.median - s.kernelSum.median)} at the medians, is its element-wise work (ReLU, Hadamard product, mirror, checks)`
      : `the step took ${fmtSeconds(s.kernelSum.median - s.step.median)} less at the medians: its element-wise work is within the noise of timing the kernels one by one`),
    `- the update agrees with the JS backend's to 1e-9 of its largest entry`,
  );
  return lines.join('\n');
}

function jsMarkdown(s) {
  const js = s.js;
  const rows = [
    ['natgrad WASM', cell(s.step), s.step?.count ?? 0],
    ['natgrad JS reference backend (same code, plain-TypeScript kernels), own process', cell(js), js?.count ?? 0],
  ];
  const r = ratio(js, s.step);
  return [
    `### The same step on the JS backend, m = ${s.m}`,
    '',
    markdownTable(['backend', 'step time', 'samples'], rows),
    '',
    s.problem ? `Not timed: the WASM update differs from the JS one: ${s.problem}.`
      : `_JS ÷ WASM: ${fmtNumber(r.median)}× / ${fmtNumber(r.best)}×_. The JS step runs in a process of its own that never ` +
        'loads the WASM module (bench/ngd-js-step.mjs), as a user of `init({ backend: \'js\' })` runs it: in a process that had also ' +
        'run WASM code it measured about 25% slower, which would flatter the ratio. One such process runs in each round, ' +
        'before the WASM measurements; its net is built from the same seed (the same initial θ) and its first step is the ' +
        `warm-up (the first process's, ${fmtSeconds(s.jsFirst)}, was also the check).`,
  ].join('\n');
}

function explicitMarkdown(e) {
  const { free, explicit } = e.memory;
  const mem = (x) => [mib(x.first.peakBytes), mib(x.first.retainedBytes), mib(x.first.memoryGrowthBytes), `${x.steady.allocations}`];
  const rows = [
    ['natgrad `ngd()` (matrix-free Gram form)', cell(e.free), ...mem(free)],
    ['explicit J (bench/explicit-ngd.mjs)', cell(e.explicit), ...mem(explicit)],
  ];
  const t = ratio(e.explicit, e.free);
  return [
    `### Matrix-free vs explicit Jacobian, m = ${e.m} (J is ${PROBLEM.n} × ${e.P.toLocaleString('en')}, ${mib(8 * PROBLEM.n * e.P)})`,
    '',
    'The baseline forms J with the library\'s own forward/backward and Jacobian writer (what `jacobian()` does, kept in WASM memory), ' +
      'then G = J·Jᵀ by the same `syrk` kernel, `potrf`/`potrs` and Jᵀx by `gemm`: only the algorithm differs. ' +
      'Working memory = the peak of live bytes allocated through the Kernels interface during the first step on a fresh WASM ' +
      'instance, above what was live before it (the net\'s parameters); counted by a proxy over alloc/free. Neither step ' +
      'allocates typed arrays on the JS side. The fresh instance\'s memory growth also holds the kernels\' internal pack ' +
      'buffers (≤ 2.3 MiB) and the allocator\'s rounding.',
    '',
    markdownTable(['implementation', 'step time', 'working memory (1st step peak)', 'kept after the step', 'WASM memory growth', 'allocations in a later step'], rows),
    '',
    e.problem ? `Not timed: the updates differ: ${e.problem}.`
      : `_explicit ÷ matrix-free: time ${fmtNumber(t.median)}× / ${fmtNumber(t.best)}×, working memory ` +
        `${fmtNumber(explicit.first.peakBytes / free.first.peakBytes)}×_. The two updates agree to 1e-9 of the largest entry; ` +
        `the explicit step's first call took ${fmtSeconds(e.explicitFirst)}.`,
  ].join('\n');
}
