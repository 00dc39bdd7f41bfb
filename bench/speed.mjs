// The configurations suite (issue 11): one exact NGD step on the paper's net (bench/ngd.mjs's
// PROBLEM: n 512, d 64, m 4096, squared error, fixed damping) under each natgrad WASM
// configuration this engine can run — baseline or relaxed SIMD build, 1 or 2 threads, the
// Gram block from bit-packed ReLU masks or from the general float path — beside the step's
// forward product X·Wᵀ timed in the same configuration. All configurations are measured in
// interleaved rounds, so a slow phase of the host hits every row alike.
import os from 'node:os';
import * as natgrad from '../dist/esm/index.js';
import * as advanced from '../dist/esm/advanced.js';
import { PROBLEM, STEP } from './ngd.mjs';
import {
  fmtNumber, fmtSeconds, markdownTable, summarize, target, time, timeCalls, unitSphereRegression,
} from './lib.mjs';

export const name = 'speed';
export const parts = ['ngd-configs', 'thread-threshold', 'step-breakdown'];

const { init, ngd, shutdown, twoLayerReLU } = natgrad;
const { kernels, loadKernels } = advanced;

/** Whether this natgrad's ngd() has the maskGram option (the bit-mask Gram wired into the step). */
function maskGramWired() {
  return typeof advanced.maskGramApplies === 'function';
}

/** Every configuration to measure: [{ id, label, simd, threads, maskGram }]. */
async function configurations() {
  const auto = await init({ backend: 'wasm' });
  const builds = auto.simdBuild === 'relaxed' ? ['baseline', 'relaxed'] : ['baseline'];
  const two = await init({ backend: 'wasm', threads: 2 });
  const threads = two.threads === 2 ? [1, 2] : [1];
  const masks = maskGramWired() ? [true, false] : [null];
  const out = [];
  for (const simd of builds) {
    for (const t of threads) {
      for (const mask of masks) {
        const maskText = mask === null ? '' : mask ? ', mask Gram' : ', general Gram';
        out.push({ id: `${simd}-${t}${mask === null ? '' : mask ? '-mask' : '-general'}`, label: `${simd}, ${t} thread${t > 1 ? 's' : ''}${maskText}`, simd, threads: t, maskGram: mask });
      }
    }
  }
  return { list: out, notes: [two.threadsUnavailable ? `no 2-thread rows: ${two.threadsUnavailable}` : null, masks[0] === null ? 'ngd() has no maskGram option in this build: one Gram path per row' : null].filter(Boolean) };
}

/** A configuration made ready: its backend active, a net, an optimizer and the forward-product buffers. */
async function prepare(config, batch) {
  await init({ backend: 'wasm', simd: config.simd, threads: config.threads });
  const { n, d, width: m } = PROBLEM;
  const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const theta0 = net.getParams();
  const opt = ngd({ lr: STEP.lr, damping: STEP.damping, ...(config.maskGram === null ? {} : { maskGram: config.maskGram }) });
  const k = kernels();
  // The forward product Z = X·Wᵀ (n×d by d×m) at the step's shape, on this backend.
  const px = k.alloc(n * d), pw = k.alloc(m * d), pz = k.alloc(n * m);
  k.f64().set(batch.X, px / 8);
  k.f64().set(theta0.subarray(0, m * d), pw / 8);
  return {
    step: () => opt.step(net, batch),
    reset: () => net.setParams(theta0),
    // The steady state of full-batch training: one step taken, the next is timed.
    primed: () => {
      net.setParams(theta0);
      opt.step(net, batch);
    },
    forward: () => k.gemm(0, 1, n, m, d, 1, px, d, pw, d, 0, pz, m),
    /** θ − θ₀ after one step from θ₀ and after a second one (the reused-pass path). */
    delta() {
      net.setParams(theta0);
      opt.step(net, batch);
      const first = net.getParams();
      opt.step(net, batch);
      const second = net.getParams();
      net.setParams(theta0);
      return [...first.map((x, i) => x - theta0[i]), ...second.map((x, i) => x - theta0[i])];
    },
    dispose() {
      for (const p of [px, pw, pz]) k.free(p);
      opt.dispose();
      net.dispose();
    },
  };
}

function ratio(x, y) {
  return x && y ? { median: x.median / y.median, best: x.best / y.best } : null;
}

/**
 * Runs the suite. ctx: { parts, profile, log }. Returns { data, markdown, targets }.
 */
export async function run({ parts, profile, log }) {
  const want = (p) => !parts || parts.includes(p);
  const data = {}, markdown = [], targets = [];
  for (const [part, fn] of [['ngd-configs', ngdConfigs], ['thread-threshold', threadThreshold], ['step-breakdown', stepBreakdown]]) {
    if (!want(part)) continue;
    const r = await fn({ profile, log });
    data[part] = r.data;
    markdown.push(r.markdown);
    targets.push(...r.targets);
  }
  return { data, markdown: markdown.join('\n\n'), targets };
}

/** Cube GEMMs around the threading threshold: n³ products, 2n³ flops. */
const THRESHOLD_CUBES = [24, 32, 40, 48, 64, 96, 128];

/**
 * Where two threads start to pay: C = A·Bᵀ for small cubes on one thread, and on two with the
 * threshold lowered to 0 (every product split), in alternation. The threshold natgrad ships
 * (THREAD_MIN_FLOPS) should sit where the ratio crosses 1.
 */
async function threadThreshold({ profile, log }) {
  const { THREAD_MIN_FLOPS } = await import('../dist/esm/kernels/wasm/index.js');
  // Backends of their own (a memory ceiling keeps them out of init()'s cache), so lowering the
  // threshold and shutting the pool down here cannot reach a later suite's backend.
  const own = { maxMemoryBytes: 2 ** 30 };
  const one = await loadKernels('wasm', { threads: 1, ...own });
  const two = await loadKernels('wasm', { threads: 2, ...own });
  if (two.threads !== 2) {
    return { data: null, markdown: '### Thread threshold\n\nnot measured: two threads do not run here', targets: [target('threads pay from THREAD_MIN_FLOPS on', null, null, { min: 1, why: 'no threads here' })] };
  }
  two.threadMinFlops = 0;
  const rows = [], data = [];
  for (const n of THRESHOLD_CUBES) {
    const make = (k) => {
      const a = k.alloc(n * n), b = k.alloc(n * n), c = k.alloc(n * n);
      k.f64().fill(0.5, a / 8, a / 8 + n * n);
      k.f64().fill(0.25, b / 8, b / 8 + n * n);
      return { run: () => k.gemm(0, 1, n, n, n, 1, a, n, b, n, 0, c, n), free: () => [a, b, c].forEach((p) => k.free(p)) };
    };
    const x = make(one), y = make(two);
    const s1 = [], s2 = [];
    for (let r = 0; r < profile.rounds + 1; r++) {
      s1.push(...time(x.run, profile));
      s2.push(...time(y.run, profile));
    }
    x.free();
    y.free();
    const t1 = summarize(s1), t2 = summarize(s2), flops = 2 * n ** 3;
    data.push({ n, flops, one: t1, two: t2 });
    rows.push([`${n}³`, `${fmtNumber(flops / 2 ** 17)}`, fmtSeconds(t1.median), fmtSeconds(t2.median), `${fmtNumber(t1.median / t2.median)}×`, flops >= THREAD_MIN_FLOPS ? '2 threads' : '1 thread']);
    log(`thread threshold ${n}³: 1 thread ${fmtSeconds(t1.median)}, 2 threads ${fmtSeconds(t2.median)}`);
  }
  two.shutdown();
  const atOrAbove = data.filter((r) => r.flops >= THREAD_MIN_FLOPS);
  const below = data.filter((r) => r.flops < THREAD_MIN_FLOPS);
  const firstAbove = atOrAbove[0], lastBelow = below[below.length - 1];
  const markdown = [
    `### Thread threshold (GEMM C = A·Bᵀ, n×n×n; natgrad threads a GEMM or SYRK from THREAD_MIN_FLOPS = 2¹⁷ = ${THREAD_MIN_FLOPS} flops on)`,
    '',
    '- two threads here with the threshold lowered to 0, so every size with at least 32 rows (two panels of THREAD_MIN_ROWS = 16) is split; medians over interleaved rounds. Workers spin ~0.1 ms for the next call before sleeping, so a call that follows another pays ~1 µs to start them (a sleeping worker takes ~25 µs to wake).',
    '',
    markdownTable(['product', 'flops ÷ 2¹⁷', '1 thread', '2 threads', '1 thread ÷ 2 threads (speed-up)', 'natgrad runs it on'], rows),
  ].join('\n');
  const targets = [
    target('thread threshold: smallest measured product natgrad splits, 2 threads ÷ 1 thread', firstAbove?.n ?? null,
      firstAbove ? { median: firstAbove.one.median / firstAbove.two.median, best: firstAbove.one.best / firstAbove.two.best } : null, { min: 1 }),
    target('thread threshold: largest measured product natgrad keeps on 1 thread, 2 threads ÷ 1 thread', lastBelow?.n ?? null,
      lastBelow ? { median: lastBelow.one.median / lastBelow.two.median, best: lastBelow.one.best / lastBelow.two.best } : null, { max: 1.25 }),
  ];
  return { data: { threadMinFlops: THREAD_MIN_FLOPS, cubes: data }, markdown, targets };
}

/** Untimed primed steps before a configuration's next-step samples in each round (see ngdConfigs). */
const STEADY_WARMUP = 5;

async function ngdConfigs({ profile, log }) {
  const { n, d } = PROBLEM;
  const { X, Y } = unitSphereRegression({ n, d, seed: PROBLEM.dataSeed });
  const batch = { X, Y, n };
  const { list, notes } = await configurations();
  const samples = Object.fromEntries(list.map((c) => [c.id, { step: [], next: [], forward: [] }]));
  const deltas = {};
  const fast = { warmup: 2, minSamples: Math.max(3, profile.minSamples), seconds: profile.slowBudget, maxSamples: 40 };
  for (let round = 0; round < profile.rounds; round++) {
    for (const config of list) {
      const p = await prepare(config, batch);
      if (round === 0) deltas[config.id] = p.delta();
      samples[config.id].forward.push(...time(p.forward, profile));
      samples[config.id].step.push(...timeCalls(p.step, { ...fast, warmup: round === 0 ? fast.warmup : 1, before: p.reset }));
      // prepare() made this configuration's backend anew, with new workers whose WebAssembly code tiers up
      // in their own first calls: a new 2-thread pool's first primed steps run ~1.15–1.9× the steady step
      // (Node 24, n 512: 38, 29, 23, then 20 ms), so the next step's samples start after STEADY_WARMUP.
      samples[config.id].next.push(...timeCalls(p.step, { ...fast, warmup: STEADY_WARMUP, before: p.primed }));
      p.dispose();
      log(`speed round ${round + 1}/${profile.rounds} ${config.label}: first step ${fmtSeconds(summarize(samples[config.id].step).median)}, next step ${fmtSeconds(summarize(samples[config.id].next).median)}`);
    }
  }
  shutdown();
  await init({ backend: 'wasm' });

  // Every configuration must take the same step (to rounding: FMA and the mask Gram's exact counts differ in the last bits).
  const ref = deltas[list[0].id];
  const scale = ref.reduce((s, x) => Math.max(s, Math.abs(x)), 0);
  const disagree = list.map((c) => {
    const dlt = deltas[c.id];
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(dlt[i] - ref[i]));
    return [c.id, worst / scale];
  }).filter(([, e]) => !(e <= 1e-6));
  const results = Object.fromEntries(list.map((c) => [c.id, {
    step: summarize(samples[c.id].step), next: summarize(samples[c.id].next), forward: summarize(samples[c.id].forward),
  }]));
  const cell = (s) => `${fmtSeconds(s.median)} / ${fmtSeconds(s.best)}`;
  const first = list[0];
  const rows = list.map((c) => {
    const r = results[c.id];
    const base = list.find((o) => o.simd === c.simd && o.maskGram === c.maskGram && o.threads === 1);
    const vsOne = c.threads > 1 ? ratio(results[base.id].next, r.next) : null;
    return [c.label, cell(r.step), cell(r.next), cell(r.forward), `${fmtNumber(r.step.median / r.forward.median)}×`, `${fmtNumber(r.next.median / r.forward.median)}×`,
      vsOne ? `${fmtNumber(vsOne.median)}× / ${fmtNumber(vsOne.best)}×` : '–',
      `${fmtNumber(results[first.id].next.median / r.next.median)}×`];
  });
  const fastest = list.reduce((b, c) => (results[c.id].next.median < results[b.id].next.median ? c : b), list[0]);
  const table = markdownTable(
    ['configuration', 'first step (from θ₀), median / best', 'next step, median / best', 'forward X·Wᵀ, median / best', 'first step ÷ forward', 'next step ÷ forward',
      '1 thread ÷ this, next step (speed-up)', `next step: speed-up over ${first.label}`],
    rows,
  );
  const markdown = [
    `### One exact NGD step, n = ${n}, d = ${d}, m = ${PROBLEM.width} (squared error, η = ${STEP.lr}, damping ${STEP.damping})`,
    '',
    ...notes.map((x) => `- ${x}`),
    `- every configuration takes the same two steps: ${disagree.length ? `NO — ${disagree.map(([id, e]) => `${id} differs by ${e.toExponential(1)} (relative)`).join(', ')}` : 'largest difference ≤ 1e-6 of the largest update entry'}`,
    `- fastest configuration: **${fastest.label}**, ${cell(results[fastest.id].next)} per step in full-batch training (${cell(results[fastest.id].step)} for the first)`,
    '- **first step**: θ reset to θ₀ before each timed step, so the step runs its own forward pass. **next step**: one step taken from θ₀ first, then the timed one on the same batch, ' +
      'as every step after the first of full-batch training: ngd() evaluates the loss at its trial θ (the default divergence guard) by a forward pass it keeps, and the next step ' +
      'reuses that pass instead of recomputing it (θ and X compared bit for bit). So a first step is three n×m×d products (forward, Jᵀx, the trial\'s forward) plus small work, a next step two. ' +
      `Each configuration gets a new backend (and new workers) every round; its next-step samples follow ${STEADY_WARMUP} untimed primed steps, as a new pool's workers run their first calls before their code tiers up.`,
    '',
    table,
  ].join('\n');

  const targets = [];
  // Judged on the default build (relaxed where it validates) with the mask Gram, as init() and ngd() run by default.
  const build = list.some((x) => x.simd === 'relaxed') ? 'relaxed' : 'baseline';
  const one = list.find((c) => c.threads === 1 && c.simd === build && c.maskGram !== false);
  const two = list.find((c) => c.threads === 2 && c.simd === build && c.maskGram !== false);
  targets.push(target('NGD step in full-batch training (next step): 2 threads ÷ 1 thread (speed-up)', n, two ? ratio(results[one.id].next, results[two.id].next) : null,
    { min: 1.5, why: two ? undefined : 'no 2-thread configuration here', ...(two ? { note: `first step: ${fmtNumber(results[one.id].step.median / results[two.id].step.median)}×` } : {}) }));
  const masked = one?.maskGram === true ? one : null;
  targets.push(target('NGD step in full-batch training (next step) with mask Gram, 1 thread ÷ its forward product X·Wᵀ', n,
    masked ? ratio(results[masked.id].next, results[masked.id].forward) : null,
    { max: 2.5, why: masked ? undefined : 'the mask Gram is not wired into ngd() in this build', ...(masked ? { note: `first step: ${fmtNumber(results[masked.id].step.median / results[masked.id].forward.median)}×` } : {}) }));
  if (disagree.length) targets.push(target('configurations agree on the step', n, null, { broken: disagree.map(([id]) => id).join(', ') }));
  return { data: { problem: PROBLEM, step: STEP, configurations: list, results, fastest: fastest.id }, markdown, targets };
}

/** Which product of the step a GEMM call is, by its shape (PROBLEM's n, d, m). */
function gemmGroup(args) {
  const [, , m, n, k] = args, { n: N, d, width } = PROBLEM;
  if (m === N && n === width && k === d) return 'forward product X·Wᵀ (the trial pass)';
  if (m === width && n === d && k === N) return 'Jᵀx product Bᵀ·diag(x)·X';
  if (k === d) return 'input Gram X·Xᵀ (tiles)';
  return 'small products (head u = H·a, G·c)';
}

/**
 * One thread count's breakdown: every kernel call of full-batch steps timed through a wrapper around the
 * backend's kernels, summed per kind and divided by the steps, and the forward product X·Wᵀ timed alone in
 * the same rounds. Returns { threads, steps, step, forward, parts: Map } (milliseconds).
 */
async function measureBreakdown(threads, profile) {
  const backend = await init({ backend: 'wasm', threads });
  if (backend.threads !== threads) return null;
  const { n, d, width: m } = PROBLEM;
  const { X, Y } = unitSphereRegression({ n, d, seed: PROBLEM.dataSeed });
  const batch = { X, Y, n };
  const k = kernels();
  const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const opt = ngd({ lr: STEP.lr, damping: STEP.damping });
  const px = k.alloc(n * d), pw = k.alloc(m * d), pz = k.alloc(n * m);
  k.f64().set(X, px / 8);
  k.f64().set(net.getParams().subarray(0, m * d), pw / 8);
  const acc = new Map();
  const gemm = k.gemm.bind(k);
  const skip = new Set(['f64', 'alloc', 'free', 'memoryBytes', 'parallelGemm', 'parallelLeaf']);
  const saved = new Map();
  for (const key of [...Object.keys(k), ...Object.getOwnPropertyNames(Object.getPrototypeOf(k))]) {
    const f = k[key];
    if (typeof f !== 'function' || key === 'constructor' || skip.has(key) || saved.has(key)) continue;
    saved.set(key, Object.prototype.hasOwnProperty.call(k, key) ? f : undefined);
    k[key] = (...args) => {
      const t = performance.now();
      try {
        return f.apply(k, args);
      } finally {
        const group = key === 'gemm' ? gemmGroup(args) : key;
        acc.set(group, (acc.get(group) ?? 0) + performance.now() - t);
      }
    };
  }
  const rounds = Math.max(2, profile.rounds), perRound = profile.rounds > 1 ? 15 : 6;
  let stepMs = 0, steps = 0;
  const forward = [];
  try {
    for (let i = 0; i < 3; i++) opt.step(net, batch);
    acc.clear();
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < perRound; i++) {
        const t = performance.now();
        opt.step(net, batch);
        stepMs += performance.now() - t;
        steps++;
      }
      for (let i = 0; i < perRound; i++) {
        const t = performance.now();
        gemm(0, 1, n, m, d, 1, px, d, pw, d, 0, pz, m);
        forward.push(performance.now() - t);
      }
    }
  } finally {
    for (const [key, f] of saved) {
      if (f === undefined) delete k[key]; else k[key] = f;
    }
    for (const p of [px, pw, pz]) k.free(p);
    opt.dispose();
    net.dispose();
  }
  const parts = new Map([...acc].map(([key, t]) => [key, t / steps]));
  return { threads, build: k.simdBuild, steps, step: stepMs / steps, forward: summarize(forward.map((x) => x / 1e3)).median * 1e3, parts };
}

/**
 * Where one steady step's time goes (issue 22 items 2, 3 and 5's "measure why"): the default build on one
 * thread (and two, where threads run), {@link measureBreakdown}. What no kernel call covers is the step's
 * TypeScript (validation, the held-pass check, θ backup and checks, the loss).
 */
async function stepBreakdown({ profile, log }) {
  const one = await measureBreakdown(1, profile);
  const two = await measureBreakdown(2, profile);
  shutdown();
  await init({ backend: 'wasm' });
  const kernelSum = (b) => [...b.parts.values()].reduce((a, t) => a + t, 0);
  const fmtMs = (x) => `${fmtNumber(x)} ms`;
  const keys = [...one.parts.keys()].sort((a, b) => one.parts.get(b) - one.parts.get(a));
  const rows = keys.map((key) => {
    const t1 = one.parts.get(key), t2 = two?.parts.get(key);
    return [key, fmtMs(t1), `${fmtNumber(t1 / one.forward)}×`, ...(two ? [t2 === undefined ? '–' : fmtMs(t2), t2 ? `${fmtNumber(t1 / t2)}×` : '–'] : [])];
  });
  const ts = (b) => b.step - kernelSum(b);
  rows.push(['the step\'s TypeScript (no kernel call)', fmtMs(ts(one)), `${fmtNumber(ts(one) / one.forward)}×`, ...(two ? [fmtMs(ts(two)), `${fmtNumber(ts(one) / ts(two))}×`] : [])]);
  rows.push(['**the step**', `**${fmtMs(one.step)}**`, `**${fmtNumber(one.step / one.forward)}×**`, ...(two ? [`**${fmtMs(two.step)}**`, `**${fmtNumber(one.step / two.step)}×**`] : [])]);
  rows.push(['forward product X·Wᵀ alone', fmtMs(one.forward), '1×', ...(two ? [fmtMs(two.forward), `${fmtNumber(one.forward / two.forward)}×`] : [])]);
  log(`step breakdown: 1 thread: step ${fmtNumber(one.step)} ms, forward alone ${fmtNumber(one.forward)} ms${two ? `; 2 threads: step ${fmtNumber(two.step)} ms, forward ${fmtNumber(two.forward)} ms` : ''}`);
  const products = ['forward product X·Wᵀ (the trial pass)', 'Jᵀx product Bᵀ·diag(x)·X'].reduce((a, key) => a + (one.parts.get(key) ?? 0), 0);
  const floor = products + (one.parts.get('maskGram') ?? 0) + (one.parts.get('maskGramLower') ?? 0) + (one.parts.get('potrf') ?? 0);
  const markdown = [
    `### Where a steady step's time goes (${one.build} build; ${one.steps} full-batch steps per thread count, each reusing the previous trial pass; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')} at the end)`,
    '',
    'Every kernel call of the steps timed through a wrapper over the backend\'s kernels (the wrapper\'s own cost, about a microsecond a call, falls into the kernels\' rows), ' +
      'summed per kind and divided by the steps; the forward product X·Wᵀ timed alone in the same rounds is the unit.',
    '',
    markdownTable(['part', '1 thread, per step', '÷ forward product alone', ...(two ? ['2 threads, per step', '1 thread ÷ 2 threads'] : [])], rows),
    '',
    `- one thread: the two n×d×m products inside the step take ${fmtNumber(products / one.forward)}× the forward product alone; with the mask Gram and the Cholesky, ` +
      `which no fusion of the element-wise passes removes: **${fmtNumber(floor / one.forward)}×**`,
    two ? '' : '- no 2-thread column: threads do not run here',
  ].filter(Boolean).join('\n');
  const targets = [
    target('steady NGD step (1 thread) ÷ its forward product X·Wᵀ, from the kernel breakdown', PROBLEM.n, { median: one.step / one.forward, best: one.step / one.forward }, { max: 2.5, note: `the two products, mask Gram and Cholesky alone: ${fmtNumber(floor / one.forward)}×` }),
  ];
  if (two) targets.push(target('steady NGD step, 1 thread ÷ 2 threads (breakdown runs)', PROBLEM.n, { median: one.step / two.step, best: one.step / two.step }, { min: 1.5 }));
  const json = (b) => b && { ...b, parts: Object.fromEntries(b.parts) };
  return { data: { one: json(one), two: json(two) }, markdown, targets };
}
