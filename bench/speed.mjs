// The configurations suite (issue 11): one exact NGD step on the paper's net (bench/ngd.mjs's
// PROBLEM: n 512, d 64, m 4096, squared error, fixed damping) under each natgrad WASM
// configuration this engine can run — baseline or relaxed SIMD build, 1 or 2 threads, the
// Gram block from bit-packed ReLU masks or from the general float path — beside the step's
// forward product X·Wᵀ timed in the same configuration. All configurations are measured in
// interleaved rounds, so a slow phase of the host hits every row alike.
import * as natgrad from '../dist/esm/index.js';
import { PROBLEM, STEP } from './ngd.mjs';
import {
  fmtNumber, fmtSeconds, markdownTable, summarize, target, time, timeCalls, unitSphereRegression,
} from './lib.mjs';

export const name = 'speed';
export const parts = ['ngd-configs'];

const { init, ngd, shutdown, twoLayerReLU, kernels } = natgrad;

/** Whether this natgrad's ngd() has the maskGram option (the bit-mask Gram wired into the step). */
function maskGramWired() {
  return typeof natgrad.maskGramApplies === 'function';
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
    forward: () => k.gemm(0, 1, n, m, d, 1, px, d, pw, d, 0, pz, m),
    delta() {
      net.setParams(theta0);
      opt.step(net, batch);
      const theta = net.getParams();
      net.setParams(theta0);
      return theta.map((x, i) => x - theta0[i]);
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
export async function run({ profile, log }) {
  const { n, d } = PROBLEM;
  const { X, Y } = unitSphereRegression({ n, d, seed: PROBLEM.dataSeed });
  const batch = { X, Y, n };
  const { list, notes } = await configurations();
  const samples = Object.fromEntries(list.map((c) => [c.id, { step: [], forward: [] }]));
  const deltas = {};
  const fast = { warmup: 2, minSamples: Math.max(3, profile.minSamples), seconds: profile.slowBudget, maxSamples: 40 };
  for (let round = 0; round < profile.rounds; round++) {
    for (const config of list) {
      const p = await prepare(config, batch);
      if (round === 0) deltas[config.id] = p.delta();
      samples[config.id].forward.push(...time(p.forward, profile));
      samples[config.id].step.push(...timeCalls(p.step, { ...fast, warmup: round === 0 ? fast.warmup : 1, before: p.reset }));
      p.dispose();
      log(`speed round ${round + 1}/${profile.rounds} ${config.label}: step ${fmtSeconds(summarize(samples[config.id].step).median)}`);
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
  const results = Object.fromEntries(list.map((c) => [c.id, { step: summarize(samples[c.id].step), forward: summarize(samples[c.id].forward) }]));
  const cell = (s) => `${fmtSeconds(s.median)} / ${fmtSeconds(s.best)}`;
  const first = list[0];
  const rows = list.map((c) => {
    const r = results[c.id];
    const base = list.find((o) => o.simd === c.simd && o.maskGram === c.maskGram && o.threads === 1);
    const vsOne = c.threads > 1 ? ratio(results[base.id].step, r.step) : null;
    return [c.label, cell(r.step), cell(r.forward), `${fmtNumber(r.step.median / r.forward.median)}×`,
      vsOne ? `${fmtNumber(vsOne.median)}× / ${fmtNumber(vsOne.best)}×` : '–',
      `${fmtNumber(results[first.id].step.median / r.step.median)}×`];
  });
  const fastest = list.reduce((b, c) => (results[c.id].step.median < results[b.id].step.median ? c : b), list[0]);
  const table = markdownTable(
    ['configuration', 'NGD step, median / best', 'forward X·Wᵀ, median / best', 'step ÷ forward (median)', '1 thread ÷ this (speed-up)', `speed-up over ${first.label}`],
    rows,
  );
  const markdown = [
    `### One exact NGD step, n = ${n}, d = ${d}, m = ${PROBLEM.width} (squared error, η = ${STEP.lr}, damping ${STEP.damping})`,
    '',
    ...notes.map((x) => `- ${x}`),
    `- every configuration takes the same step: ${disagree.length ? `NO — ${disagree.map(([id, e]) => `${id} differs by ${e.toExponential(1)} (relative)`).join(', ')}` : 'largest difference ≤ 1e-6 of the largest update entry'}`,
    `- fastest configuration: **${fastest.label}**, ${cell(results[fastest.id].step)} per step`,
    '',
    table,
  ].join('\n');

  const targets = [];
  const two = list.find((c) => c.threads === 2 && c.simd === first.simd && c.maskGram === first.maskGram);
  targets.push(target('NGD step: 2 threads ÷ 1 thread (speed-up)', n, two ? ratio(results[first.id].step, results[two.id].step) : null,
    { min: 1.5, why: two ? undefined : 'no 2-thread configuration here' }));
  const masked = list.find((c) => c.maskGram === true && c.threads === 1 && c.simd === (list.some((x) => x.simd === 'relaxed') ? 'relaxed' : 'baseline'));
  targets.push(target('NGD step with mask Gram (1 thread) ÷ its forward product X·Wᵀ', n,
    masked ? ratio(results[masked.id].step, results[masked.id].forward) : null,
    { max: 3, why: masked ? undefined : 'the mask Gram is not wired into ngd() in this build' }));
  if (disagree.length) targets.push(target('configurations agree on the step', n, null, { broken: disagree.map(([id]) => id).join(', ') }));
  return { data: { problem: PROBLEM, step: STEP, configurations: list, results, fastest: fastest.id }, markdown, targets };
}
