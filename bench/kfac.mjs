// The K-FAC suite: whole optimizer steps through the public API.
// - kfac-step: one K-FAC step on an MLP [784, 256, 256, 10] with a batch of 512 (softmax
//   cross-entropy, Monte-Carlo Fisher), factors and inverses refreshed on every step (the
//   heaviest step) and with the default periods, on the WASM backend vs the JS backend;
// - kfac-dual: one K-FAC step on the paper's two-layer ReLU net of width 4096 (d = 16, n = 256,
//   only W trained, decay 0) with the 4096×4096 factor S inverted in the n×n dual (Woodbury)
//   form, as 'auto' chooses, vs forced primal.
// Each step is checked before it is timed: the two backends', and the two forms', first steps
// must give the same parameters.
import { init, mlp, twoLayerReLU, kfac, softmaxCrossEntropy, squaredError } from '../dist/esm/index.js';
import { kernels } from '../dist/esm/advanced.js';
import { fmtNumber, fmtSeconds, markdownTable, measureCases, mismatch, randn, rng, target } from './lib.mjs';

export const name = 'kfac';
export const parts = ['kfac-step', 'kfac-dual'];

/** Unit-norm rows. */
function unitRows(seed, n, d) {
  const x = randn(seed, n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    for (let j = 0; j < d; j++) x[i * d + j] /= Math.sqrt(s);
  }
  return x;
}

/**
 * A case that steps `net` with a fresh optimizer from `make()`, restarting from θ₀ (the net's initial
 * parameters, recorded at its creation in `initial`) on prepare: run() is one step; output() the parameters after it.
 */
const initial = new WeakMap();
function created(net) {
  initial.set(net, net.getParams());
  return net;
}

function stepCase(id, label, net, make, batch, loss, extra = {}) {
  const theta0 = initial.get(net);
  return {
    id, label, ...extra,
    prepare() {
      net.setParams(theta0);
      const opt = make();
      let last;
      return {
        run: () => { last = opt.step(net, batch, { loss }); return last.accepted ? 0 : 1; },
        output: () => ({ params: net.getParams(), stats: last }),
        dispose: () => opt.dispose(),
      };
    },
  };
}

const sameParams = (rtol) => (out, expected) => (expected ? mismatch(out.params, expected.params, { rtol, atol: rtol * 1e-3 }) : null);

function ratio(slow, fast) {
  if (slow?.status !== 'ok' || fast?.status !== 'ok') return null;
  return { median: slow.median / fast.median, best: slow.best / fast.best };
}

function cellText(cell) {
  if (!cell) return '–';
  if (cell.status !== 'ok') return cell.status === 'skipped' ? 'skipped' : `${cell.status}*`;
  return `${fmtSeconds(cell.median)} / ${fmtSeconds(cell.best)}${cell.note ? '*' : ''}`;
}

function notesOf(cases, cells) {
  return cases.map((c) => (cells[c.id]?.note ? `- ${c.label}: ${cells[c.id].note}` : null)).filter(Boolean);
}

async function stepPart(profile, log) {
  const sizes = [784, 256, 256, 10], n = 512;
  const u = rng(7);
  const X = randn(5, n * 784).map((v) => Math.abs(v) * 0.3), Y = Float64Array.from({ length: n }, () => Math.floor(u() * 10));
  const batch = { X, Y, n }, loss = softmaxCrossEntropy({ reduction: 'mean' });
  const nets = {};
  for (const backend of ['js', 'wasm']) {
    await init({ backend });
    nets[backend] = created(mlp({ sizes, seed: 1 }));
  }
  const settings = {
    every: { label: 'factors and inverses every step', make: () => kfac({ lr: 1e-3, damping: 1e-2, inverseEvery: 1, adaptive: false }) },
    // The first step (the verified call) inverts; every later, timed, one does not.
    factorsOnly: { label: 'factors only, no inverse refresh', make: () => kfac({ lr: 1e-3, damping: 1e-2, inverseEvery: 1e9, adaptive: false }) },
  };
  const rows = [], results = {}, notes = [], targets = [];
  for (const [key, s] of Object.entries(settings)) {
    // The JS backend is the reference: both backends' first steps must agree.
    const cases = [
      stepCase('js', 'natgrad JS backend', nets.js, s.make, batch, loss, { reference: true }),
      stepCase('wasm', 'natgrad WASM backend', nets.wasm, s.make, batch, loss),
    ];
    const { cells } = measureCases(cases, {
      check: sameParams(1e-8), profile,
      progress: (c, cell) => log(`kfac-step ${key} ${c.id}: ${cell.status === 'ok' ? `${fmtSeconds(cell.median)} / ${fmtSeconds(cell.best)}` : cell.note}`),
    });
    results[key] = cells;
    const r = ratio(cells.js, cells.wasm);
    rows.push([s.label, cellText(cells.wasm), cellText(cells.js), r ? `${fmtNumber(r.median)}× / ${fmtNumber(r.best)}×` : '–']);
    notes.push(...notesOf(cases, cells));
    if (key === 'every') {
      targets.push(target('K-FAC step, MLP 784-256-256-10, batch 512, factors + inverses every step: WASM ÷ JS speed', n, r,
        { min: 10, why: 'a backend did not run', broken: cells.wasm?.status !== 'ok' ? cells.wasm?.note : undefined }));
    }
  }
  for (const net of Object.values(nets)) net.dispose();
  // Under the default periods (inverses every 5th step) a step costs (1·every + 4·factorsOnly)/5 on average.
  const mix = (b) => ['every', 'factorsOnly'].every((k) => results[k][b]?.status === 'ok')
    ? { median: (results.every[b].median + 4 * results.factorsOnly[b].median) / 5, best: (results.every[b].best + 4 * results.factorsOnly[b].best) / 5 }
    : null;
  const mixed = { wasm: mix('wasm'), js: mix('js') };
  if (mixed.wasm && mixed.js) {
    const r = ratio({ status: 'ok', ...mixed.js }, { status: 'ok', ...mixed.wasm });
    rows.push(['default periods (inverses every 5th step): (1 · first row + 4 · second row) / 5', cellText({ status: 'ok', ...mixed.wasm }),
      cellText({ status: 'ok', ...mixed.js }), `${fmtNumber(r.median)}× / ${fmtNumber(r.best)}×`]);
  }
  const markdown = [
    `### K-FAC step: MLP ${sizes.join('-')} (ReLU), batch ${n}, softmax cross-entropy (mean), Monte-Carlo Fisher`,
    '',
    'One `kfac({ lr: 0.001, damping: 0.01, adaptive: false })` step through the public API (a small η, so that hundreds of timed steps on one batch stay finite; the cost does not depend on η): forward, the sampled Fisher rows and the gradient ' +
      '(backward over 2·512 rows), the factor moving averages (syrk: A of 785², 257², 257²; S of 256², 256², 10²), the ' +
      'π-damped Cholesky inverses (or not), and the preconditioned update. Inputs |N(0, 0.09)|, ' +
      'seeded labels. Cells: median / best seconds per step. Verified: the WASM step\'s parameters equal the JS backend\'s to 1e-8.',
    '',
    markdownTable(['step', 'WASM', 'JS', 'JS ÷ WASM'], rows),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
  return { data: { sizes, n, cells: results }, markdown, targets };
}

async function dualPart(profile, log) {
  const d = 16, m = 4096, n = 256;
  await init({ backend: 'wasm' });
  const X = unitRows(11, n, d), Y = randn(12, n);
  const batch = { X, Y, n }, loss = squaredError();
  const net = created(twoLayerReLU({ inputDim: d, width: m, seed: 3 }));
  const make = (form) => () => kfac({ lr: 1, damping: 1e-3, decay: 0, inverseEvery: 1, form, adaptive: false });
  const cases = [
    stepCase('dual', "S in the dual form (form 'auto' chooses it)", net, make('auto'), batch, loss),
    stepCase('primal', "S in the primal form (form 'primal', forced)", net, make('primal'), batch, loss),
  ];
  const memBefore = kernels().memoryBytes();
  const { cells, expected } = measureCases(cases, {
    check: sameParams(1e-7), profile,
    progress: (c, cell) => log(`kfac-dual ${c.id}: ${cell.status === 'ok' ? `${fmtSeconds(cell.median)} / ${fmtSeconds(cell.best)}` : cell.note}`),
  });
  net.dispose();
  const forms = expected?.stats?.blocks?.[0];
  const r = ratio(cells.primal, cells.dual);
  const targets = [target(`K-FAC step, two-layer ReLU m = ${m}, d = ${d}, n = ${n}: primal ÷ dual inversion time`, n, r,
    { min: 20, why: 'a form did not run', broken: cells.dual?.status !== 'ok' ? cells.dual?.note : undefined })];
  const markdown = [
    `### Dual vs primal inversion: two-layer ReLU, width ${m}, d = ${d}, n = ${n}, only W trained, squared error`,
    '',
    'One `kfac({ lr: 1, damping: 1e-3, decay: 0, inverseEvery: 1, adaptive: false })` step: S = ΓᵀΓ is 4096×4096 of rank ≤ 256. ' +
      'Primal: S\'s syrk (4096²·256) and Cholesky (4096³/3), then potrs on the 4096×16 gradient. Dual: the 256×256 Gram ΓΓᵀ, ' +
      'its Cholesky, and the Woodbury apply (S + μI)⁻¹V = (V − Γᵀ(μI + ΓΓᵀ)⁻¹ΓV)/μ. A (16×16) is primal in both. ' +
      `Verified: the two steps' parameters agree to 1e-7. Forms used by the first case: A ${forms?.formA ?? '?'}, S ${forms?.formS ?? '?'}. ` +
      `WASM memory before: ${(memBefore / 2 ** 20).toFixed(0)} MiB, after: ${(kernels().memoryBytes() / 2 ** 20).toFixed(0)} MiB.`,
    '',
    markdownTable(['form', 'WASM step (median / best)'], cases.map((c) => [c.label, cellText(cells[c.id])])),
    '',
    `Primal ÷ dual: ${r ? `${fmtNumber(r.median)}× (median) / ${fmtNumber(r.best)}× (best)` : '–'}.`,
    ...notesOf(cases, cells),
  ].join('\n');
  return { data: { d, m, n, cells }, markdown, targets };
}

export async function run({ parts: only, profile, log }) {
  const sections = [], targets = [], data = {};
  if (!only || only.includes('kfac-step')) {
    const r = await stepPart(profile, log);
    sections.push(r.markdown); targets.push(...r.targets); data.step = r.data;
  }
  if (!only || only.includes('kfac-dual')) {
    const r = await dualPart(profile, log);
    sections.push(r.markdown); targets.push(...r.targets); data.dual = r.data;
  }
  return { data, markdown: sections.join('\n\n'), targets };
}
