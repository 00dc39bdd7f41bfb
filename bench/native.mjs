// The native-peer suite (issue 22 items 4 and 5): natgrad's exact NGD step against the same
// algorithm written natively in PyTorch (bench/native-peer.py: int8 mask Gram, preallocated
// buffers, one thread), each in fresh processes of its own, interleaved round by round, on the
// paper's net (bench/ngd.mjs's PROBLEM: n 512, d 64, m 4096, squared error, η 1, damping 1e-3,
// natgrad's default divergence guard, whose trial pass both reuse). Without a Python that imports
// torch (NATGRAD_PYTHON, else python3) every native column says "not measured"; CI needs neither.
// - native-step: steady step, first step (fresh process; and a second fresh net on warm kernels),
//   time to target (loss ≤ 1e-4 × initial) from a fresh net, and their ratios;
// - native-growth: the steady step at (n, m) ∈ {(128, 1024), (256, 2048), (512, 4096), (1024, 4096)}
//   fitted to the step's flop model, with the residual of each shape;
// - fixed-costs: the public linalg.gemm at n 256 against its kernel from the first call of a fresh
//   process (bench/gemm-first-calls.mjs), natgrad only.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { init, twoLayerReLU } from '../dist/esm/index.js';
import { PROBLEM, STEP } from './ngd.mjs';
import { fmtNumber, fmtSeconds, markdownTable, summarize, target, unitSphereRegression } from './lib.mjs';

export const name = 'native';
export const parts = ['native-step', 'native-growth', 'fixed-costs'];

/** Loss ≤ TARGET × the initial loss: the time-to-target criterion of issue 22. */
const TARGET = 1e-4;
/** The shapes of the cost-growth fit (d = PROBLEM.d). */
export const GROWTH = [[128, 1024], [256, 2048], [512, 4096], [1024, 4096]];

/**
 * The flops one steady step is charged (Gram form, trial pass reused): the two n×d×m products
 * (Jᵀx and the trial forward), the input Gram X·Xᵀ (2n²d, as natgrad forms it in tiles), the
 * output-gradient Gram counted as the float product it replaces (n²m: one multiply-add per mask
 * pair on half of it) and the Cholesky (n³/3).
 */
export function stepFlops(n, d, m) {
  return 4 * n * d * m + 2 * n * n * d + n * n * m + n ** 3 / 3;
}

const PYTHON = process.env.NATGRAD_PYTHON ?? 'python3';

/** null when `PYTHON` imports torch, else why not. */
function torchMissing() {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 120e3 });
  if (r.error) return `${PYTHON} not found (${r.error.code ?? r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import torch and numpy (${(r.stderr || '').trim().split('\n').pop()})`;
  return null;
}

/** Writes X, Y of the problem and θ₀ (W, a) of twoLayerReLU(seed) at (n, d, m) into a new directory. */
async function problemFiles(n, d, m) {
  const dir = mkdtempSync(join(os.tmpdir(), 'natgrad-native-'));
  const { X, Y } = unitSphereRegression({ n, d, seed: PROBLEM.dataSeed });
  await init({ backend: 'wasm' });
  const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const h = net.kernels.f64(), head = net.layers[1];
  const W = net.getParams(), a = h.slice(head.ptr >> 3, (head.ptr >> 3) + m);
  net.dispose();
  for (const [file, v] of [['X.f64', X], ['Y.f64', Y], ['W.f64', W], ['a.f64', a]]) writeFileSync(join(dir, file), new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return dir;
}

function child(cmd, args) {
  const out = execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop());
}

/** One natgrad process and one torch process (order alternating by `round`) on the same problem. */
function pair(dir, n, d, m, { steps, runs, round }) {
  const cfg = { dir, n, d, m, threads: 1, steps, runs, damping: STEP.damping, lr: STEP.lr, target: TARGET, seed: PROBLEM.netSeed };
  const load = os.loadavg()[0];
  const ours = () => child(process.execPath, ['--expose-gc', new URL('./native-natgrad.mjs', import.meta.url).pathname, JSON.stringify(cfg)]);
  const theirs = () => child(PYTHON, [new URL('./native-peer.py', import.meta.url).pathname, JSON.stringify(cfg)]);
  let natgrad, torch;
  if (round % 2 === 0) { natgrad = ours(); torch = theirs(); } else { torch = theirs(); natgrad = ours(); }
  return { load, natgrad, torch };
}

/** Steady steps: every step after a run's first (each reuses the previous step's trial pass). */
const steady = (runs) => runs.flatMap((r) => r.stepTimes.slice(1));

function ratio(x, y) {
  return x && y ? { median: x.median / y.median, best: x.best / y.best } : null;
}

const cell = (s) => (s ? `${fmtSeconds(s.median)} / ${fmtSeconds(s.best)}` : 'not measured');
const loadText = (loads) => `load average ${fmtNumber(Math.min(...loads))}–${fmtNumber(Math.max(...loads))}`;

async function nativeStep({ profile, log, missing }) {
  const { n, d, width: m } = PROBLEM;
  const dir = await problemFiles(n, d, m);
  const rounds = Math.max(2, 2 * profile.rounds), steps = profile.rounds > 1 ? 12 : 6;
  const pairs = [];
  try {
    for (let round = 0; round < rounds; round++) {
      if (missing) {
        const load = os.loadavg()[0];
        pairs.push({ load, natgrad: child(process.execPath, ['--expose-gc', new URL('./native-natgrad.mjs', import.meta.url).pathname, JSON.stringify({ dir, n, d, m, threads: 1, steps, runs: 2, damping: STEP.damping, lr: STEP.lr, target: TARGET, seed: PROBLEM.netSeed })]), torch: null });
      } else {
        pairs.push(pair(dir, n, d, m, { steps, runs: 2, round }));
      }
      const p = pairs[pairs.length - 1];
      log(`native step round ${round + 1}/${rounds} (load ${p.load.toFixed(2)}): natgrad steady ${fmtSeconds(summarize(steady(p.natgrad.runs)).median)}` +
        (p.torch ? `, torch steady ${fmtSeconds(summarize(steady(p.torch.runs)).median)}` : ''));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const side = (key) => {
    const ps = pairs.map((p) => p[key]).filter(Boolean);
    if (!ps.length) return null;
    const fresh = ps.map((p) => p.runs[0]), warm = ps.map((p) => p.runs[1]);
    const stat = (xs) => (xs.every((x) => x !== null && x !== undefined) ? summarize(xs) : null);
    return {
      steady: summarize(ps.flatMap((p) => steady(p.runs))),
      first: summarize(fresh.map((r) => r.stepTimes[0])),
      warmFirst: summarize(warm.map((r) => r.stepTimes[0])),
      toTarget: stat(fresh.map((r) => r.toTarget)),
      warmToTarget: stat(warm.map((r) => r.toTarget)),
      stepsToTarget: [...new Set(fresh.map((r) => r.stepsToTarget))],
      retries: ps.reduce((s, p) => s + p.runs.reduce((t, r) => t + r.retries, 0), 0),
      lossRatio: fresh[0].losses[fresh[0].losses.length - 1] / fresh[0].loss0,
      version: p0(ps).torch, init: key === 'natgrad' ? summarize(ps.map((p) => p.init)) : null, int8: p0(ps).int8,
    };
  };
  const ours = side('natgrad'), theirs = side('torch');
  const loads = pairs.map((p) => p.load);
  return { rounds, steps, loads, natgrad: ours, torch: theirs, missing };
}

const p0 = (ps) => ps[0];

async function nativeGrowth({ profile, log, missing }) {
  const d = PROBLEM.d, rounds = Math.max(1, profile.rounds), steps = profile.rounds > 1 ? 6 : 4;
  const rows = [];
  for (const [n, m] of GROWTH) {
    const dir = await problemFiles(n, d, m);
    const ours = [], theirs = [], loads = [];
    try {
      for (let round = 0; round < rounds; round++) {
        if (missing) {
          loads.push(os.loadavg()[0]);
          ours.push(...steady(child(process.execPath, ['--expose-gc', new URL('./native-natgrad.mjs', import.meta.url).pathname, JSON.stringify({ dir, n, d, m, threads: 1, steps, runs: 1, damping: STEP.damping, lr: STEP.lr, target: TARGET, seed: PROBLEM.netSeed })]).runs));
        } else {
          const p = pair(dir, n, d, m, { steps, runs: 1, round });
          loads.push(p.load);
          ours.push(...steady(p.natgrad.runs));
          theirs.push(...steady(p.torch.runs));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const row = { n, m, flops: stepFlops(n, d, m), loads, natgrad: summarize(ours), torch: theirs.length ? summarize(theirs) : null };
    rows.push(row);
    log(`native growth n=${n} m=${m} (load ${fmtNumber(Math.min(...loads))}–${fmtNumber(Math.max(...loads))}): natgrad ${fmtSeconds(row.natgrad.median)}${row.torch ? `, torch ${fmtSeconds(row.torch.median)}` : ''}`);
  }
  return { rows, fits: { natgrad: fit(rows, 'natgrad'), torch: rows.every((r) => r.torch) ? fit(rows, 'torch') : null } };
}

/**
 * t ≈ F(n, m) ÷ R: the one rate R (GFLOP/s) that fits the medians best in log space (the geometric
 * mean of F ÷ t), each shape's residual t·R ÷ F − 1, and their root mean square in log space.
 */
function fit(rows, key) {
  const logs = rows.map((r) => Math.log(r.flops / r[key].median));
  const rate = Math.exp(logs.reduce((s, x) => s + x, 0) / logs.length);
  const residuals = rows.map((r) => (r[key].median * rate) / r.flops - 1);
  const rms = Math.sqrt(rows.reduce((s, r) => s + Math.log((r[key].median * rate) / r.flops) ** 2, 0) / rows.length);
  return { rate: rate / 1e9, residuals, rmsLog: rms };
}

export async function run({ parts: only, profile, log }) {
  const want = (p) => !only || only.includes(p);
  const missing = torchMissing();
  if (missing) log(`native peer: not measured (${missing})`);
  const step = want('native-step') ? await nativeStep({ profile, log, missing }) : null;
  const growth = want('native-growth') ? await nativeGrowth({ profile, log, missing }) : null;
  const sections = [intro(missing)];
  const targets = [];
  if (step) {
    sections.push(stepMarkdown(step));
    targets.push(...stepTargets(step));
  }
  if (growth) sections.push(growthMarkdown(growth, missing));
  if (want('fixed-costs')) {
    const f = fixedCosts({ profile, log });
    sections.push(f.markdown);
    targets.push(f.target);
  }
  return { data: { problem: PROBLEM, step: STEP, target: TARGET, python: PYTHON, missing, native: step, growth }, markdown: sections.join('\n\n'), targets };
}

/** linalg.gemm(…, { c }) ÷ the kernel at n 256, call by call from a fresh process's first call. */
function fixedCosts({ profile, log }) {
  const n = 256, calls = 100, processes = profile.rounds > 1 ? 4 : 2;
  const ratios = { early: [], first60: [], later: [] }, kernelTimes = [], loads = [];
  for (let p = 0; p < processes; p++) {
    loads.push(os.loadavg()[0]);
    const r = child(process.execPath, [new URL('./gemm-first-calls.mjs', import.meta.url).pathname, JSON.stringify({ n, calls, threads: 1 })]);
    r.public.forEach((t, i) => {
      const x = t / r.kernel[i];
      if (i < 10) ratios.early.push(x);
      if (i < 60) ratios.first60.push(x); else ratios.later.push(x);
    });
    kernelTimes.push(...r.kernel.slice(60));
  }
  // A ratio of two single calls has no "best": the median and quartiles over the pairs.
  const q = (v, f) => [...v].sort((x, y) => x - y)[Math.min(v.length - 1, Math.floor(f * v.length))];
  const med = Object.fromEntries(Object.entries(ratios).map(([key, v]) => [key, { median: q(v, 0.5), q1: q(v, 0.25), q3: q(v, 0.75) }]));
  const quart = (x) => `${fmtNumber(x.median)}× (${fmtNumber(x.q1)}–${fmtNumber(x.q3)}×)`;
  log(`fixed costs: linalg.gemm ÷ kernel at n ${n}: calls 1–10 ${fmtNumber(med.early.median)}×, 1–60 ${fmtNumber(med.first60.median)}×, 61–100 ${fmtNumber(med.later.median)}×`);
  const markdown = [
    `### Fixed costs: the public \`linalg.gemm\` at n = ${n} from a fresh process (${processes} processes, ${loadText(loads)})`,
    '',
    `Each process runs init(), then ${calls} pairs, alternating from the first call: the kernel on resident data, and \`linalg.gemm(a, b, ${n}, ${n}, ${n}, { c })\` ` +
      '(validation, copies in, the kernel, the finiteness check and the copy into c). Ratios are per pair, public ÷ kernel, medians over the pairs of all processes.',
    '',
    markdownTable(['calls', 'public ÷ kernel, median (quartiles)'], [['1–10', quart(med.early)], ['1–60', quart(med.first60)], ['61–100', quart(med.later)]]),
    '',
    `- the kernel alone, calls 61–100: ${cell(summarize(kernelTimes))}`,
  ].join('\n');
  return { markdown, target: target('linalg.gemm(…, { c }) ÷ its kernel at n 256, calls 1–60 of a fresh process', n, { median: med.first60.median, best: med.first60.q1 }, { max: 1.15, note: `${loadText(loads)}; best column: first quartile` }) };
}

function intro(missing) {
  return [
    '### The native peer',
    '',
    `natgrad's \`ngd({ lr: ${STEP.lr}, damping: ${STEP.damping} })\` (default guard, default WASM build, one thread) and bench/native-peer.py, the same exact NGD in PyTorch: ` +
      'Z = X·Wᵀ, the Gram (X·Xᵀ) ∘ (s²·M·Mᵀ) with M = [Z > 0] as int8 (`torch._int_mm`, exact counts), Cholesky solve, W ← W − η·Bᵀdiag(x)X, ' +
      'then the guard\'s trial pass X·Wᵀ kept for the next step (a step raising the loss ×1.5 is undone, damping ×10), n × m buffers preallocated per run, ' +
      '`torch.set_num_threads(1)`. Both read the same X, Y and θ₀ (written by this suite) and run in fresh processes, natgrad\'s and torch\'s alternating ' +
      'first round by round. Each process makes two runs, each from a fresh net: the first in a fresh process (its memory new to the process), the second on warm kernels ' +
      '(memory the first run freed). Time to target counts from just after the net (or θ₀\'s tensors) is made to the end of the step whose trial loss is ≤ 1e-4 × the initial loss; ' +
      'a process\'s start (Node and WASM compile; Python and `import torch`) is outside it.',
    missing ? `\n**Native peer not measured**: ${missing}. Install PyTorch's CPU wheel (\`pip install torch\`) or set NATGRAD_PYTHON to a Python that has it.` : '',
  ].join('\n');
}

function stepMarkdown(s) {
  const o = s.natgrad, t = s.torch;
  const row = (label, pick) => [label, cell(pick(o)), t ? cell(pick(t)) : 'not measured', t ? ratioCell(ratio(pick(o), pick(t))) : 'not measured'];
  const rows = [
    row('steady step (each step after a run\'s first)', (x) => x.steady),
    row('first step, fresh process', (x) => x.first),
    row('first step, second fresh net on warm kernels', (x) => x.warmFirst),
    row('time to target from a fresh net, fresh process', (x) => x.toTarget),
    row('time to target from a fresh net, warm kernels', (x) => x.warmToTarget),
  ];
  const firstOverSteady = (x) => `${fmtNumber(x.first.median / x.steady.median)}× (warm kernels ${fmtNumber(x.warmFirst.median / x.steady.median)}×)`;
  return [
    `### One thread, n = ${PROBLEM.n}, d = ${PROBLEM.d}, m = ${PROBLEM.width}: ${s.rounds} rounds, ${s.steps} steps a run (${loadText(s.loads)})`,
    '',
    markdownTable(['measure', 'natgrad, median / best', 'PyTorch native, median / best', 'natgrad ÷ native, median / best'], rows),
    '',
    `- steps to target: natgrad ${o.stepsToTarget.join(', ')}, native ${t ? t.stepsToTarget.join(', ') : 'not measured'}; guard retries: natgrad ${o.retries}, native ${t ? t.retries : '–'}; ` +
      `loss after the last step ÷ initial: natgrad ${o.lossRatio.toExponential(1)}, native ${t ? t.lossRatio.toExponential(1) : '–'}`,
    `- first step ÷ steady step: natgrad ${firstOverSteady(o)}; native ${t ? firstOverSteady(t) : 'not measured'}`,
    `- natgrad's init() in the child: ${fmtSeconds(o.init.median)}; native: torch ${t ? `${t.version}, int8 Gram ${t.int8 ? 'yes' : 'no (float32 counts)'}` : 'not measured'}`,
  ].join('\n');
}

function ratioCell(r) {
  return r ? `${fmtNumber(r.median)}× / ${fmtNumber(r.best)}×` : '–';
}

function stepTargets(s) {
  const o = s.natgrad, t = s.torch, why = s.missing ? `native peer not measured: ${s.missing}` : undefined, load = loadText(s.loads);
  return [
    target('steady NGD step, natgrad ÷ native (1 thread)', PROBLEM.n, t ? ratio(o.steady, t.steady) : null, { max: 1.1, why, note: load }),
    target('time to target from a fresh net, natgrad ÷ native (fresh processes)', PROBLEM.n, t ? ratio(o.toTarget, t.toTarget) : null, { max: 1.3, why, note: load }),
    target('natgrad first step from a fresh net on warm kernels ÷ steady step', PROBLEM.n, { median: o.warmFirst.median / o.steady.median, best: o.warmFirst.best / o.steady.best }, { max: 1.6, note: load }),
    target('natgrad first step in a fresh process ÷ steady step', PROBLEM.n, { median: o.first.median / o.steady.median, best: o.first.best / o.steady.best }, { max: 1.6, note: `${load}; native: ${t ? fmtNumber(t.first.median / t.steady.median) : 'not measured'}×` }),
  ];
}

function growthMarkdown(g, missing) {
  const f = g.fits;
  const rows = g.rows.map((r, i) => [
    `${r.n}`, `${r.m}`, `${fmtNumber(r.flops / 1e6)} M`, cell(r.natgrad), `${(100 * f.natgrad.residuals[i]).toFixed(0)}%`,
    r.torch ? cell(r.torch) : 'not measured', f.torch ? `${(100 * f.torch.residuals[i]).toFixed(0)}%` : '–',
    r.torch ? `${fmtNumber(r.natgrad.median / r.torch.median)}×` : 'not measured', loadText(r.loads),
  ]);
  return [
    `### Cost growth: the steady step against its flop model (d = ${PROBLEM.d}, one thread)`,
    '',
    'F(n, m) = 4·n·d·m (Jᵀx and the trial forward) + 2·n²·d (X·Xᵀ) + n²·m (the output-gradient Gram, counted as the float product the mask Gram replaces) + n³/3 (Cholesky). ' +
      'Each implementation is fitted with one rate R, t ≈ F ÷ R (least squares in log space); the residual of a shape is t·R ÷ F − 1 ' +
      '(positive: slower than its flops predict).',
    '',
    markdownTable(['n', 'm', 'F', 'natgrad step', 'natgrad residual', 'native step', 'native residual', 'natgrad ÷ native', 'load'], rows),
    '',
    `- natgrad: R = ${fmtNumber(f.natgrad.rate)} GFLOP/s, RMS log residual ${fmtNumber(f.natgrad.rmsLog)}; native: ${f.torch ? `R = ${fmtNumber(f.torch.rate)} GFLOP/s, RMS log residual ${fmtNumber(f.torch.rmsLog)}` : `not measured${missing ? ` (${missing})` : ''}`}`,
  ].join('\n');
}
