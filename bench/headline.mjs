// The headline suite: wall-clock to fit the ngd suite's regression (the paper's
// two-layer ReLU net, n = 512 unit-norm inputs in d = 64, width 4096, random
// targets) down to training loss ≤ 1e-4 × the initial loss, for natgrad's exact NGD,
// natgrad's gradient descent and Adam in @tensorflow/tfjs-core on its wasm backend.
import { gd, init, ngd, twoLayerReLU } from '../dist/esm/index.js';
import { gramSpectrum } from '../dist/esm/diagnostics/index.js';
import { vjp } from '../dist/esm/advanced.js';
import { WasmKernels } from '../dist/esm/kernels/wasm/index.js';
import { loadTfjs } from './kernels.mjs';
import { PROBLEM, STEP } from './ngd.mjs';
import { fmtNumber, fmtSeconds, gc, markdownTable, maxAbs, summarize, target, unitSphereRegression } from './lib.mjs';

export const name = 'headline';
export const parts = ['headline-ngd', 'headline-gd', 'headline-adam'];

/** Stop when the training loss is ≤ this × the initial loss. */
export const TARGET_RATIO = 1e-4;
/** Steps per run at most (besides the time cap, profile.trainCap). */
const MAX_STEPS = 20000;
/** GD learning rates, as multiples of 1/λ_max(G) at the initial θ (GD is stable below 2/λ_max on the linearised model). */
const GD_GRID = [1, 1.5, 1.9];
/** tfjs Adam learning rates. */
const ADAM_GRID = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
/** Untimed steps of each method before its timed runs, so every run meets optimised code. */
const WARMUP_STEPS = 3;

function now() {
  return performance.now() / 1e3;
}

/**
 * Trains until the loss is ≤ TARGET_RATIO × the initial loss, the charged time
 * passes `cap` seconds, or `maxSteps` steps. `step()` takes one optimizer step and
 * returns the loss *before* it, i.e. at the parameters the previous step left: so
 * the call that starts step k + 1 reports the loss after step k. Only the calls
 * that made steps 1…k are charged; the one more call that reads the loss after the
 * last charged step is monitoring (its own step is never counted). Returns
 * { reached, steps, seconds, ratio, losses, stepSeconds }: `losses[k]` is the loss
 * after k steps (losses[0] the initial one), `seconds` the charged time of `steps`
 * steps, and `ratio` the last loss ÷ the initial one.
 */
function trainToTarget(step, { cap, maxSteps = MAX_STEPS }) {
  const losses = [], stepSeconds = [];
  let charged = 0;
  gc();
  for (;;) {
    const t = now();
    const loss = step();
    const dt = now() - t;
    losses.push(loss);
    const k = losses.length - 1;
    const ratio = loss / losses[0];
    const done = (reached) => ({ reached, steps: k, seconds: charged, ratio, losses, stepSeconds });
    if (k > 0 && ratio <= TARGET_RATIO) return done(true);
    if (!Number.isFinite(loss)) return { ...done(false), diverged: true };
    if (charged >= cap || k >= maxSteps) return done(false);
    charged += dt;
    stepSeconds.push(dt);
  }
}

// ------------------------------------------------------------------ methods

/** natgrad: a fresh net (the problem's seed) and optimizer per run; setup = building both. */
function natgradRun(makeOptimizer, batch, cap) {
  const { d, width: m } = PROBLEM;
  const t = now();
  const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const opt = makeOptimizer();
  const setup = now() - t;
  try {
    return { setup, ...trainToTarget(() => opt.step(net, batch).loss, { cap }) };
  } finally {
    opt.dispose();
    net.dispose();
  }
}

/**
 * The same net in tfjs (float32): Wᵀ (d × m) is the variable, a/√m a constant,
 * L = ½ Σ (u − y)². Wᵀ rather than W because tfjs-backend-wasm's matMul with a
 * transposed operand took 10–40× longer at these shapes; Adam is element-wise, so
 * the layout does not change the method. The gradient is written out in tfjs ops:
 * tfjs-core alone registers no gradient functions (the union package
 * @tensorflow/tfjs does), and these are the ops its autodiff would run:
 * ∂L/∂Z = (r·aᵀ/√m) ∘ step(Z), ∂L/∂Wᵀ = Xᵀ·∂L/∂Z.
 * Returns { setup, step, gradient0, dispose }.
 */
function tfjsModel(tf, { X, Y, W0, a0 }, lr) {
  const { n, d, width: m } = PROBLEM;
  const t = now();
  const wT = new Float32Array(d * m);
  for (let r = 0; r < m; r++) for (let j = 0; j < d; j++) wT[j * m + r] = W0[r * d + j];
  const x = tf.tensor2d(Float32Array.from(X), [n, d]);
  const xT = tf.transpose(x);
  const y = tf.tensor2d(Float32Array.from(Y), [n, 1]);
  const aCol = tf.tensor2d(Float32Array.from(a0, (v) => v / Math.sqrt(m)), [m, 1]);
  const aRow = tf.reshape(aCol, [1, m]);
  const w0 = tf.tensor2d(wT, [d, m]);
  const W = tf.variable(w0);
  w0.dispose(); // the variable holds its own reference to the data
  const opt = tf.train.adam(lr);
  const setup = now() - t;
  const lossAndGradient = () => tf.tidy(() => {
    const z = tf.matMul(x, W);
    const r = tf.sub(tf.matMul(tf.relu(z), aCol), y);
    const dz = tf.mul(tf.mul(r, aRow), tf.step(z));
    return [tf.mul(0.5, tf.sum(tf.square(r))), tf.matMul(xT, dz)];
  });
  return {
    setup,
    step() {
      const [loss, grad] = lossAndGradient();
      opt.applyGradients({ [W.name]: grad });
      grad.dispose();
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    },
    /** { loss, gradient } at the current W, the gradient as W's layout (m × d, row-major), without a step. */
    gradient() {
      const [loss, grad] = lossAndGradient();
      const g = grad.dataSync(), out = new Float64Array(m * d);
      for (let r = 0; r < m; r++) for (let j = 0; j < d; j++) out[r * d + j] = g[j * m + r];
      const value = loss.dataSync()[0];
      loss.dispose();
      grad.dispose();
      return { loss: value, gradient: out };
    },
    dispose() {
      opt.dispose();
      for (const v of [x, xT, y, aCol, aRow, W]) v.dispose();
    },
  };
}

/**
 * Checks the tfjs model against natgrad at the initial θ: the loss to 1e-5 and the
 * gradient to 1e-4 of its largest entry (float32 against float64). Returns null or
 * a message.
 */
function checkTfjs(tf, problem, batch) {
  const { d, width: m } = PROBLEM;
  const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const u = net.predict(batch.X, batch.n);
  const r = u.map((ui, i) => ui - batch.Y[i]);
  const loss = 0.5 * r.reduce((s, x) => s + x * x, 0);
  const grad = vjp(net, batch.X, batch.n, r);
  net.dispose();
  const model = tfjsModel(tf, problem, 1e-3);
  const got = model.gradient();
  model.dispose();
  if (!(Math.abs(got.loss - loss) <= 1e-5 * loss)) return `tfjs loss ${got.loss} vs natgrad ${loss}`;
  const scale = maxAbs(grad);
  for (let i = 0; i < grad.length; i++) {
    if (!(Math.abs(got.gradient[i] - grad[i]) <= 1e-4 * scale)) return `tfjs gradient[${i}] ${got.gradient[i]} vs natgrad ${grad[i]}`;
  }
  return null;
}

// -------------------------------------------------------------------- suite

/**
 * Runs the selected methods. ctx: { parts (null = all), profile, log }; the time
 * cap per training run is profile.trainCap. Returns { data, markdown, targets }.
 */
export async function run({ parts: only, profile, log, natgrad = { threads: 'auto', simd: 'auto' } }) {
  const want = (p) => !only || only.includes(p);
  const { n, d, width: m } = PROBLEM;
  const { X, Y } = unitSphereRegression({ n, d, seed: PROBLEM.dataSeed });
  const batch = { X, Y, n };
  const cap = profile.trainCap;
  const repeats = profile.rounds > 1 ? 3 : 1;
  const setupOnce = {};

  // natgrad's init() compiles and instantiates the module once per process: timed here on a fresh instance.
  let t = now();
  await WasmKernels.create();
  setupOnce.natgrad = now() - t;
  // The fastest configuration by default (bench --threads/--simd): relaxed where it validates, a thread per processor.
  const config = await init({ backend: 'wasm', simd: natgrad.simd, threads: natgrad.threads });
  setupOnce.config = config;

  const reference = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const W0 = reference.getParams();
  const L1 = reference.layers[1];
  const a0 = reference.kernels.f64().slice(L1.ptr >> 3, (L1.ptr >> 3) + m);
  reference.dispose();
  const problem = { X, Y, W0, a0 };

  const results = {};
  /** `count` more runs of `once`, logged. */
  const repeat = (label, count, once) => Array.from({ length: count }, (_, i) => {
    const r = once();
    log(`headline ${label} run ${i + 1}/${count}: ${runText(r)}`);
    return r;
  });

  if (want('headline-ngd')) {
    const make = () => ngd({ lr: STEP.lr, damping: STEP.damping });
    warmNatgrad(make, batch);
    results.ngd = { setting: `η = ${STEP.lr}, λ = ${STEP.damping} (fixed)`, runs: repeat('NGD', repeats, () => natgradRun(make, batch, cap)) };
  }

  if (want('headline-gd')) {
    // η from λ_max(G) at the initial θ: part of GD's setup, timed once.
    const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
    t = now();
    const spectrum = gramSpectrum(net, X, n);
    const spectrumSeconds = now() - t;
    net.dispose();
    const lmax = spectrum.lambdaMax;
    warmNatgrad(() => gd({ lr: 1 / lmax }), batch);
    const grid = GD_GRID.map((c) => {
      const r = natgradRun(() => gd({ lr: c / lmax }), batch, cap);
      log(`headline GD η = ${c}/λ_max: ${runText(r)}`);
      return { c, lr: c / lmax, run: r };
    });
    const best = pickBest(grid);
    const runs = [best.run, ...repeat(`GD η = ${best.c}/λ_max (again)`, repeats - 1, () => natgradRun(() => gd({ lr: best.lr }), batch, cap))];
    results.gd = {
      setting: `η = ${best.c}/λ_max(G) = ${fmtNumber(best.lr)}`, spectrumSeconds,
      lambdaMax: lmax, lambdaMin: spectrum.lambdaMin, grid: grid.map(({ c, lr, run }) => ({ c, lr, ...run })), runs,
    };
  }

  if (want('headline-adam')) {
    let tf, info, problemText = null;
    try {
      t = now();
      ({ tf, info } = await loadTfjs());
      setupOnce.tfjs = now() - t;
      problemText = checkTfjs(tf, problem, batch);
    } catch (e) {
      problemText = `tfjs unavailable: ${e.message}`;
    }
    if (problemText) {
      results.adam = { problem: problemText };
      log(`headline Adam: ${problemText}`);
    } else {
      const warm = tfjsModel(tf, problem, 1e-3);
      for (let i = 0; i < WARMUP_STEPS; i++) warm.step();
      warm.dispose();
      const once = (lr) => {
        const model = tfjsModel(tf, problem, lr);
        try {
          return { setup: model.setup, ...trainToTarget(model.step, { cap }) };
        } finally {
          model.dispose();
        }
      };
      const grid = ADAM_GRID.map((lr) => {
        const r = once(lr);
        log(`headline Adam lr = ${lr}: ${runText(r)}`);
        return { lr, run: r };
      });
      const best = pickBest(grid);
      const runs = [best.run, ...repeat(`Adam lr = ${best.lr} (again)`, repeats - 1, () => once(best.lr))];
      results.adam = {
        info, setting: `lr = ${best.lr}, β₁ = 0.9, β₂ = 0.999, ε = tfjs default (1e-7)`,
        grid: grid.map(({ lr, run }) => ({ lr, ...run })), runs, tensorsLeft: tf.memory().numTensors,
      };
    }
  }

  const markdown = render(results, setupOnce, cap, repeats);
  const targets = [];
  if (results.ngd) {
    // Every run has the same losses (same seeds, deterministic steps): the worst stands for both.
    const worst = Math.max(...results.ngd.runs.map((r) => (r.reached ? r.ratio : Infinity)));
    targets.push(target(`NGD reaches loss ≤ ${TARGET_RATIO} × initial within ${cap} s (loss ratio)`, '', { median: worst, best: worst },
      { max: TARGET_RATIO }));
  }
  return { data: { problem: { ...PROBLEM, targetRatio: TARGET_RATIO, capSeconds: cap, repeats }, setupOnce, ...results }, markdown, targets };
}

/** WARMUP_STEPS untimed steps of a fresh optimizer on a fresh net. */
function warmNatgrad(makeOptimizer, batch) {
  const { d, width: m } = PROBLEM;
  const net = twoLayerReLU({ inputDim: d, width: m, seed: PROBLEM.netSeed });
  const opt = makeOptimizer();
  for (let i = 0; i < WARMUP_STEPS; i++) opt.step(net, batch);
  opt.dispose();
  net.dispose();
}

/**
 * The grid point that reached the target in the fewest steps (the step's cost does not
 * depend on the learning rate, and step counts are free of this host's timing noise;
 * ties go to the shorter time); if none reached it, the one with the lowest loss ratio.
 */
function pickBest(grid) {
  const reached = grid.filter((g) => g.run.reached);
  const better = (a, b) => (b.run.steps < a.run.steps || (b.run.steps === a.run.steps && b.run.seconds < a.run.seconds) ? b : a);
  if (reached.length) return reached.reduce(better);
  return grid.reduce((a, b) => (b.run.ratio < a.run.ratio ? b : a));
}

function runText(r) {
  return r.reached
    ? `reached in ${fmtSeconds(r.seconds)}, ${r.steps} steps (loss ratio ${r.ratio.toExponential(1)})`
    : `${r.diverged ? 'diverged' : 'not reached'} in ${fmtSeconds(r.seconds)}, ${r.steps} steps (loss ratio reached ${r.ratio.toExponential(2)})`;
}

// ---------------------------------------------------------------- rendering

/** The median run of a list by time (reached runs first), for the summary row. */
function medianRun(runs) {
  const sorted = runs.slice().sort((a, b) => (a.reached === b.reached ? a.seconds - b.seconds : a.reached ? -1 : 1));
  return sorted[(sorted.length - 1) >> 1];
}

function render(results, setupOnce, cap, repeats) {
  const c = setupOnce.config;
  const lines = [
    '### Problem and protocol',
    '',
    `natgrad configuration: ${c.simdBuild} SIMD build, ${c.threads} thread${c.threads > 1 ? 's' : ''}${c.threadsUnavailable ? ` (${c.threadsUnavailable})` : ''}.`,
    '',
    `The ngd suite's regression: \`twoLayerReLU({ inputDim: ${PROBLEM.d}, width: ${PROBLEM.width}, seed: ${PROBLEM.netSeed} })\` ` +
      `(only W trains, P = ${(PROBLEM.d * PROBLEM.width).toLocaleString('en')}), n = ${PROBLEM.n} inputs uniform on the unit sphere, ` +
      `targets y ~ N(0, 1) (seed ${PROBLEM.dataSeed}), full batch, L = ½ Σ (u − y)². Target: training loss ≤ ${TARGET_RATIO} × the initial loss. ` +
      'Every run starts from the same initial weights (tfjs gets the same W and a, in float32).',
    '',
    '- **time to target** = the wall-clock of the optimizer steps that got there, with net and data already in place; ' +
      'each step\'s own loss evaluation is included (every method computes the loss in its forward pass), the one extra ' +
      'call that reports the loss after the last step is not. Per-run setup (building the net or the tfjs variables and ' +
      'optimizer, and for GD the spectrum of G that sets η) is listed beside it; one-time backend initialisation below.',
    `- each run stops at the target, after ${cap} s of training (the cap), or after ${MAX_STEPS} steps; a run that does not reach the target ` +
      'reports the loss ratio it reached, never an extrapolation.',
    `- every method first takes ${WARMUP_STEPS} untimed steps on a throwaway copy, so no run meets unoptimised code.`,
    `- grids: GD η ∈ {${GD_GRID.join(', ')}}/λ_max(G); tfjs Adam lr ∈ {${ADAM_GRID.join(', ')}}; the best point (fewest steps to the target, ` +
      'as the step\'s cost does not depend on the rate and step counts are free of timing noise; else the lowest loss) ' +
      `${repeats > 1 ? `is run ${repeats - 1} more times` : 'is reported'}; NGD runs ${repeats} time${repeats > 1 ? 's' : ''}. ` +
      'The summary shows the median run. The grid search itself is not charged to anyone.',
    '- natgrad computes in float64; tfjs in float32 (a loss ratio of 1e-4 is a residual norm ratio of 1e-2, far above float32 rounding).',
    '',
  ];
  const rows = [];
  const add = (label, r, extra = 0) => {
    if (!r) return;
    const m = medianRun(r.runs);
    const perStep = summarize(m.stepSeconds.length ? m.stepSeconds : [NaN]).median;
    rows.push([
      label, r.setting, m.reached ? `**${fmtSeconds(m.seconds)}**` : `not reached in ${fmtSeconds(m.seconds)}`,
      m.reached ? m.steps : `(${m.steps})`, fmtSeconds(perStep), fmtSeconds(m.setup + extra), m.ratio.toExponential(1),
      r.runs.map((x) => (x.reached ? fmtSeconds(x.seconds) : '–')).join(', '),
    ]);
  };
  add('natgrad NGD (WASM, f64)', results.ngd);
  add('natgrad GD (WASM, f64)', results.gd, results.gd?.spectrumSeconds ?? 0);
  if (results.adam?.runs) add('tfjs Adam (wasm backend, f32)', results.adam);
  lines.push('### Time to loss ≤ 1e-4 × initial', '',
    markdownTable(['method', 'setting', 'time to target', 'steps', 'time per step', 'setup per run', 'loss ratio at stop', 'all runs'], rows));
  if (results.adam?.problem) lines.push('', `tfjs Adam was not run: ${results.adam.problem}.`);

  const ngdRun = results.ngd && medianRun(results.ngd.runs);
  const speedups = [];
  for (const [key, label] of [['adam', 'tfjs Adam'], ['gd', 'natgrad GD']]) {
    const other = results[key]?.runs && medianRun(results[key].runs);
    if (!ngdRun?.reached || !other) continue;
    speedups.push(other.reached
      ? `${label} took ${fmtNumber(other.seconds / ngdRun.seconds)}× as long as NGD (${fmtSeconds(other.seconds)} vs ${fmtSeconds(ngdRun.seconds)})`
      : `${label} did not reach the target in ${fmtSeconds(other.seconds)}, ${fmtNumber(other.seconds / ngdRun.seconds)}× NGD's ${fmtSeconds(ngdRun.seconds)}`);
  }
  if (speedups.length) lines.push('', `_${speedups.join('; ')}._`);

  const once = [`natgrad WASM module, compile + instantiate (what \`init()\` does once): ${fmtSeconds(setupOnce.natgrad)} ` +
    '(less when an earlier suite in the process compiled the same module: V8 reuses it)'];
  if (setupOnce.tfjs !== undefined) once.push(`tfjs \`setBackend('wasm')\` + \`ready()\` (the first call in the process loads its .wasm): ${fmtSeconds(setupOnce.tfjs)}`);
  if (results.gd) once.push(`GD's η: \`gramSpectrum\` at the initial θ (λ_max = ${fmtNumber(results.gd.lambdaMax)}, λ_min = ${fmtNumber(results.gd.lambdaMin)}): ${fmtSeconds(results.gd.spectrumSeconds)}, counted in GD's setup`);
  lines.push('', 'One-time setup:', '', ...once.map((x) => `- ${x}`));

  for (const [key, title, col, fmt] of [
    ['gd', 'natgrad GD grid', 'η', (g) => `${g.c}/λ_max = ${fmtNumber(g.lr)}`],
    ['adam', 'tfjs Adam grid', 'lr', (g) => String(g.lr)],
  ]) {
    const grid = results[key]?.grid;
    if (!grid) continue;
    lines.push('', `### ${title}`, '', markdownTable([col, 'result', 'steps', 'time per step', 'loss ratio at stop'], grid.map((g) => [
      fmt(g), g.reached ? `reached in ${fmtSeconds(g.seconds)}` : `${g.diverged ? 'diverged' : 'not reached'} in ${fmtSeconds(g.seconds)}`,
      g.steps, fmtSeconds(summarize(g.stepSeconds.length ? g.stepSeconds : [NaN]).median), g.ratio.toExponential(2),
    ])));
  }
  if (results.adam?.info) lines.push('', `- ${results.adam.info}; tensors left after the runs: ${results.adam.tensorsLeft}`);
  if (results.ngd) {
    const r = medianRun(results.ngd.runs);
    lines.push('', `NGD's loss ratio after each step (median run): ${r.losses.map((x) => (x / r.losses[0]).toExponential(1)).join(', ')}.`);
  }
  return lines.join('\n');
}
