/**
 * The demo page: reads the controls (and the same names from the URL), drives the training
 * worker, and draws what it reports — loss curves with uPlot, decision boundaries and fitted
 * curves with Observable Plot. With `?auto=1` it runs the default comparison unattended and
 * publishes the final losses in `window.natgradDemo.results`. The Poisson problem is one net trained
 * by ENGD instead: its loss and error curve, and heat maps of u and |u − u*| (`window.natgradDemo.pde`).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import * as Plot from '@observablehq/plot';
import type { BackendInfo } from 'natgrad';
import {
  LABELS, OPTIMIZERS, PROBLEM_DEFAULTS, defaultConfig,
  type Band, type DemoConfig, type OptimizerId, type PdeInfo, type PdeSummary, type ProblemId, type SessionInfo, type Summary,
} from './config.js';
import { HeatMap } from './heatmap.js';
import { regressionTarget } from './problems.js';
import type { FromWorker, LaneUpdate, PdeUpdate, ToWorker } from './protocol.js';

const COLORS: Record<OptimizerId, string> = { ngd: '#d62728', kfac: '#9467bd', gd: '#1f77b4', adam: '#ff7f0e' };
type Status = 'loading' | 'ready' | 'running' | 'paused' | 'done' | 'error';

interface DemoState {
  status: Status;
  backend?: BackendInfo;
  config?: DemoConfig;
  info?: SessionInfo;
  /** Final loss of each optimizer, once the comparison is done. */
  results: Record<OptimizerId, number> | null;
  summary: Summary | null;
  /** Regression: the Laplace band last drawn, with the x grid it is over. */
  band: (Band & { x: number[] }) | null;
  /** The Poisson problem's run: per-iteration loss and relative L² error (index 0: the initial net), its summary when done. */
  pde: { info: PdeInfo; loss: number[]; l2: number[]; stepMs: number[]; lr: number[]; error?: string; summary: PdeSummary | null } | null;
}
const demo: DemoState = { status: 'loading', results: null, summary: null, band: null, pde: null };
(window as unknown as { natgradDemo: DemoState }).natgradDemo = demo;

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#controls');
const errorBox = $<HTMLParagraphElement>('[data-testid=error]');
const params = new URLSearchParams(location.search);
const auto = params.get('auto') === '1';

// ---- worker ----
// The page's ?backend= and ?threads= go on to the worker, which calls init().
const workerParams = new URLSearchParams();
for (const key of ['backend', 'threads']) {
  const value = params.get(key);
  if (value !== null) workerParams.set(key, value);
}
const worker = new Worker(new URL(`./worker.js${workerParams.size ? `?${workerParams}` : ''}`, import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);
worker.onerror = (e) => { showError(`worker: ${e.message || 'failed to load'}`); setStatus('error'); };
worker.onmessage = (e: MessageEvent<FromWorker>) => receive(e.data);

// ---- per-run state ----
const lanes = new Map<OptimizerId, { losses: number[]; stepMs: number[]; stepsToTarget: number | null; finished: boolean; error?: string }>();
let chart: uPlot | undefined;
let pendingViews: number[][] | undefined;
let pendingBand: Band | undefined;
let pendingMaps: PdeUpdate['maps'];
let maps: { u: HeatMap; error: HeatMap } | undefined;
let drawQueued = false;
let autoStarted = false;

function receive(m: FromWorker): void {
  switch (m.type) {
    case 'backend':
      demo.backend = m.info;
      $('[data-testid=backend]').textContent = Object.entries(m.info)
        // Every field init() reports (SIMD build, threads and why not), whatever its shape.
        .map(([k, v]) => (k === 'backend' ? String(v) : `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)).join(' · ');
      break;
    case 'ready':
      demo.info = m.info;
      demo.pde = null;
      lanes.clear();
      for (const id of OPTIMIZERS) lanes.set(id, { losses: [], stepMs: [], stepsToTarget: null, finished: false });
      apply(m.lanes);
      makeChart('training loss (log scale)', 'step', OPTIMIZERS.map((id) => ({ label: LABELS[id], color: COLORS[id] })));
      describe(m.info);
      delete $<HTMLDivElement>('#view').dataset.drawn;
      demo.band = null;
      pendingViews = m.views;
      pendingBand = m.band;
      isReady();
      break;
    case 'progress':
      apply(m.lanes);
      if (m.views) pendingViews = m.views;
      if (m.band) pendingBand = m.band;
      progressed(m.running);
      break;
    case 'done':
      demo.summary = m.summary;
      demo.results = Object.fromEntries(OPTIMIZERS.map((id) => [id, m.summary[id].finalLoss])) as Record<OptimizerId, number>;
      queueDraw();
      setStatus('done');
      break;
    case 'pde-ready':
      demo.info = undefined;
      demo.band = null;
      demo.pde = { info: m.info, loss: [], l2: [], stepMs: [], lr: [], summary: null };
      applyPde(m.update);
      makeChart('Poisson: loss and relative L² error (log scale)', 'iteration', PDE_SERIES, 'loss, error');
      describePde(m.info);
      makeMaps(m.info.mapSize);
      pendingMaps = m.update.maps;
      isReady();
      break;
    case 'pde-progress':
      applyPde(m.update);
      if (m.update.maps) pendingMaps = m.update.maps;
      progressed(m.running);
      break;
    case 'pde-done':
      demo.pde!.summary = m.summary;
      queueDraw();
      setStatus('done');
      break;
    case 'failed':
      startAfterSetup = false;
      showError(`${m.name}: ${m.message}`);
      setStatus('error');
      break;
  }
}

function apply(updates: LaneUpdate[]): void {
  for (const u of updates) {
    const lane = lanes.get(u.id)!;
    lane.losses.length = u.from;
    lane.losses.push(...u.losses);
    lane.stepMs.push(...u.stepMs);
    lane.stepsToTarget = u.stepsToTarget;
    lane.finished = u.finished;
    lane.error = u.error ? `${u.error.name}: ${u.error.message}` : undefined;
  }
}

/** A session is set up: draw it, and start it when the page runs unattended. */
function isReady(): void {
  queueDraw();
  setStatus('ready');
  if (auto && !autoStarted) { autoStarted = true; start(); }
}

function progressed(running: boolean): void {
  queueDraw();
  if (!running && demo.status === 'running') setStatus('paused');
}

function applyPde(u: PdeUpdate): void {
  const run = demo.pde!;
  run.loss.length = run.l2.length = u.from;
  run.loss.push(...u.loss);
  run.l2.push(...u.l2);
  run.stepMs.push(...u.stepMs);
  run.lr.push(...u.lr);
  run.error = u.error ? `${u.error.name}: ${u.error.message}` : undefined;
}

// ---- controls ----
function start(): void {
  if (demo.status === 'done') { setup(true); return; }
  // Editing a field and clicking Start at once: the field's change (on blur) is setting up; start after it.
  if (demo.status === 'loading') { startAfterSetup = true; return; }
  if (demo.status !== 'ready' && demo.status !== 'paused') return;
  send({ type: 'start' });
  setStatus('running');
}
let startAfterSetup = false;
function setup(thenStart = false): void {
  const config = readForm();
  if (!config) return;
  showError('');
  demo.config = config;
  demo.results = demo.summary = null;
  startAfterSetup = thenStart;
  setStatus('loading');
  send({ type: 'setup', config });
}
$('#start').addEventListener('click', () => start());
$('#pause').addEventListener('click', () => { if (demo.status === 'running') { send({ type: 'pause' }); setStatus('paused'); } });
$('#reset').addEventListener('click', () => setup());
form.addEventListener('change', (e) => {
  const target = e.target as HTMLInputElement;
  if (target.name === 'problem') {
    const p = target.value as ProblemId;
    const d = PROBLEM_DEFAULTS[p];
    writeForm({ ...readForm(false)!, problem: p, steps: d.steps, lr: { ...d.lr }, damping: { ...d.damping } });
  }
  showProblem();
  setup();
});
form.addEventListener('submit', (e) => e.preventDefault());

function setStatus(s: Status): void {
  if (s === 'ready' && startAfterSetup) { startAfterSetup = false; demo.status = 'ready'; start(); return; }
  demo.status = s;
  $('[data-testid=status]').textContent = s;
  $<HTMLButtonElement>('#pause').disabled = s !== 'running';
  $<HTMLButtonElement>('#start').disabled = s === 'running' || s === 'loading';
}

function showError(text: string): void {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

/** Shows the controls and results of the chosen problem: elements whose data-problem lists it. */
function showProblem(): void {
  const p = (form.elements.namedItem('problem') as HTMLSelectElement).value;
  document.querySelectorAll<HTMLElement>('[data-problem]').forEach((el) => { el.hidden = !el.dataset.problem!.split(' ').includes(p); });
}

/** The config the controls describe, or undefined (with the fault shown) when one is not a number. */
function readForm(report = true): DemoConfig | undefined {
  const problem = (form.elements.namedItem('problem') as HTMLSelectElement).value as ProblemId;
  const config = defaultConfig(problem) as unknown as Record<string, unknown>;
  for (const el of Array.from(form.elements) as HTMLInputElement[]) {
    if (!el.name || el.name === 'problem') continue;
    const raw = el.value.trim();
    let value: unknown = raw;
    if (el.name.startsWith('lr.') && raw === 'auto') value = 'auto';
    else if (el.type !== 'select-one') {
      value = Number(raw);
      if (raw === '' || !Number.isFinite(value)) {
        if (report) showError(`${el.name}: "${raw}" is not a number`);
        return undefined;
      }
    }
    setPath(config, el.name, value);
  }
  return config as unknown as DemoConfig;
}

function writeForm(config: DemoConfig): void {
  for (const el of Array.from(form.elements) as HTMLInputElement[]) {
    if (!el.name) continue;
    const v = getPath(config as unknown as Record<string, unknown>, el.name);
    if (v !== undefined) el.value = String(v);
  }
}

const setPath = (o: Record<string, unknown>, path: string, v: unknown) => {
  const keys = path.split('.');
  let t = o;
  for (const k of keys.slice(0, -1)) t = t[k] as Record<string, unknown>;
  t[keys[keys.length - 1]] = v;
};
const getPath = (o: Record<string, unknown>, path: string): unknown =>
  path.split('.').reduce<unknown>((t, k) => (t as Record<string, unknown> | undefined)?.[k], o);

// ---- drawing ----
function describe(info: SessionInfo): void {
  const c = demo.config!;
  const fmt = (x: number) => x.toPrecision(3);
  let text = `${info.n} examples, ${info.numParams.toLocaleString('en')} trainable parameters, ${info.loss === 'cross-entropy' ? 'softmax cross-entropy' : '½Σ(u − y)²'}, initial loss ${fmt(info.initialLoss)}.`;
  if (info.spectrum) {
    const s = info.spectrum;
    text = `Two-layer ReLU net f(x) = (1/√m) Σ a_r relu(w_rᵀx), m = ${c.paper.m}, on ${info.n} unit-norm inputs in d = ${c.paper.d} `
      + `(${c.paper.geometry === 'sphere' ? 'uniform on the sphere' : `near-parallel, spread ${c.paper.spread}`}), targets y ~ N(0, 1). `
      + `${info.numParams.toLocaleString('en')} trainable weights; Gram matrix G = JJᵀ at initialisation: λ_min ${fmt(s.lambdaMin)}, λ_max ${fmt(s.lambdaMax)}, κ ${fmt(s.condition)}. `
      + `NGD contracts the residual by about (1 − η) per step whatever κ; GD by 1 − η·λ_min(G) at best.`;
  }
  $('[data-testid=problem-info]').textContent = text;
}

function describePde(info: PdeInfo): void {
  const pts = info.points.map((p) => `${p.n} ${p.name}`).join(' + ');
  $('[data-testid=problem-info]').textContent = `Poisson's equation −Δu = 2π² sin πx sin πy on the unit square, u = 0 on its boundary `
    + `(u* = sin πx sin πy). A [2, ${info.width}, 1] tanh net (${info.numParams.toLocaleString('en')} weights) trained on the residuals at ${pts} points `
    + `by energy natural gradient, engd(): d = Jᵀ(JJᵀ + λI)⁻¹r in the smaller of its two forms, with a line search over η = 2⁻ᵏ. `
    + `Relative L² error ‖u − u*‖/‖u*‖ on ${info.evaluationPoints.toLocaleString('en')} uniform points apart from the training points; initially ${info.initialL2.toPrecision(3)}.`;
}

const PDE_SERIES = [{ label: 'loss', color: '#555' }, { label: 'relative L² error', color: '#d62728' }];

function makeChart(title: string, xLabel: string, series: { label: string; color: string }[], yLabel = 'loss'): void {
  chart?.destroy();
  const el = $<HTMLDivElement>('#loss-chart');
  el.textContent = '';
  chart = new uPlot({
    title,
    width: 500, height: 320, legend: { live: false },
    // Plotted as log10(loss) on a linear scale: uPlot's own log scale loops forever below ~1e-24
    // (its split rounding runs out of decimals), and NGD reaches 1e-30.
    scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] }, y: { auto: true } },
    axes: [
      { label: xLabel },
      { label: yLabel, size: 64, incrs: [1, 2, 5, 10, 20], values: (_u, vals) => vals.map((v) => (v == null ? '' : `1e${v}`)) },
    ],
    series: [{ label: xLabel }, ...series.map(({ label, color }) => ({
      label, stroke: color, width: 2,
      value: (_u: uPlot, v: number | null) => (v == null ? '—' : (10 ** v).toExponential(3)),
    }))],
  }, [[0], ...series.map(() => [null])] as uPlot.AlignedData, el);
}

function queueDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; draw(); });
}

function draw(): void {
  if (demo.pde) { drawPde(demo.pde); return; }
  const len = Math.max(1, ...Array.from(lanes.values(), (l) => l.losses.length));
  const xs = Array.from({ length: len }, (_, i) => i);
  const ys = OPTIMIZERS.map((id) => {
    const l = lanes.get(id)!.losses;
    return xs.map((i) => (i < l.length && l[i] > 0 && Number.isFinite(l[i]) ? Math.log10(l[i]) : null));
  });
  chart?.setData([xs, ...ys] as uPlot.AlignedData);
  for (const id of OPTIMIZERS) {
    const lane = lanes.get(id)!;
    const row = $(`tr[data-lane=${id}]`);
    const lr = demo.info?.lr[id];
    row.querySelector('[data-col=lr]')!.textContent = lr === undefined ? '' : Number(lr.toPrecision(3)).toString();
    const last = lane.losses[lane.losses.length - 1];
    $(`[data-testid=final-loss-${id}]`).textContent = last === undefined ? '' : last.toExponential(3);
    row.querySelector('[data-col=steps]')!.textContent = String(lane.stepMs.length);
    row.querySelector('[data-col=target]')!.textContent = lane.stepsToTarget === null ? '—' : String(lane.stepsToTarget);
    const ms = [...lane.stepMs].sort((a, b) => a - b);
    row.querySelector('[data-col=ms]')!.textContent = ms.length ? `${ms[ms.length >> 1].toFixed(2)} ms` : '';
    $(`[data-testid=error-${id}]`).textContent = lane.error ?? '';
  }
  if (demo.info && (pendingViews || demo.info.spectrum)) drawViews(demo.info, pendingViews ?? [], pendingBand);
  pendingViews = pendingBand = undefined;
}

function drawViews(info: SessionInfo, views: number[][], band?: Band): void {
  const el = $<HTMLDivElement>('#view');
  const v = info.view, pts = info.points;
  if (info.spectrum) { drawSpectrum(el, info.spectrum.eigenvalues); return; }
  if (!v || !pts) { el.textContent = ''; return; }
  if (v.kind === '2d') {
    const data = Array.from({ length: pts.Y.length }, (_, i) => ({ x: pts.X[2 * i], y: pts.X[2 * i + 1], c: pts.Y[i] }));
    const box = { width: v.size, height: v.size, x1: v.lo, x2: v.hi, y1: v.hi, y2: v.lo };
    el.replaceChildren(...OPTIMIZERS.map((id, k) => {
      const fig = document.createElement('figure');
      const cap = document.createElement('figcaption');
      cap.textContent = LABELS[id];
      cap.style.color = COLORS[id];
      fig.append(cap, Plot.plot({
        width: 200, height: 200, margin: 4,
        x: { domain: [v.lo, v.hi], axis: null }, y: { domain: [v.lo, v.hi], axis: null },
        color: { type: 'linear', domain: [0, 1], range: ['#f4a582', '#92c5de'], interpolate: 'rgb' },
        marks: [
          Plot.raster(views[k], { ...box, fill: (d: number) => d, imageRendering: 'pixelated' } as Plot.RasterOptions),
          Plot.contour(views[k], { ...box, value: (d: number) => d, thresholds: [0.5], stroke: '#222', strokeWidth: 1.5, fill: null } as Plot.ContourOptions),
          Plot.dot(data, { x: 'x', y: 'y', r: 2.2, fill: (d: { c: number }) => (d.c ? '#2166ac' : '#b2182b'), stroke: 'white', strokeWidth: 0.5 }),
        ],
      }));
      return fig;
    }));
  } else {
    const data = pts.X.map((x, i) => ({ x, y: pts.Y[i] }));
    // Clamped: a diverging optimizer's curve would otherwise put 1e300 into the SVG path.
    const curves = OPTIMIZERS.flatMap((id, k) => v.x.map((x, i) => ({ x, y: Math.max(-3, Math.min(3, views[k][i])), id: LABELS[id] })));
    const truth = v.x.map((x) => ({ x, y: regressionTarget(x) }));
    const clamp = (y: number) => Math.max(-3, Math.min(3, y));
    const shade = band && band.mean.length === v.x.length
      ? v.x.map((x, i) => ({ x, lo: clamp(band.mean[i] - 2 * band.std[i]), hi: clamp(band.mean[i] + 2 * band.std[i]) }))
      : [];
    if (band) demo.band = { ...band, x: v.x };
    const fig = document.createElement('figure');
    fig.append(Plot.plot({
      width: 560, height: 330, y: { domain: [-2, 2], grid: true }, x: { label: 'x' },
      color: { domain: OPTIMIZERS.map((id) => LABELS[id]), range: OPTIMIZERS.map((id) => COLORS[id]), legend: true },
      marks: [
        Plot.areaY(shade, { x: 'x', y1: 'lo', y2: 'hi', fill: band ? COLORS[band.lane] : '#999', fillOpacity: 0.16, clip: true, className: 'laplace-band' }),
        Plot.line(truth, { x: 'x', y: 'y', stroke: '#999', strokeDasharray: '4 3', clip: true }),
        Plot.line(curves, { x: 'x', y: 'y', stroke: 'id', strokeWidth: 1.8, clip: true }),
        Plot.dot(data, { x: 'x', y: 'y', r: 2.5, fill: '#222' }),
      ],
    }));
    const cap = document.createElement('figcaption');
    cap.dataset.testid = 'band-info';
    cap.className = 'band-info';
    cap.textContent = band ? bandCaption(band, info) : '';
    fig.append(cap);
    el.replaceChildren(fig);
  }
}

function bandCaption(b: Band, info: SessionInfo): string {
  const who = LABELS[b.lane];
  if (!b.mean.length) return `No Laplace band around ${who}'s net: ${b.error}`;
  return `Shaded: mean ± 2σ of ${who}'s net, σ² = the linearised Laplace predictive variance diag(J*H⁻¹J*ᵀ) + σ_noise², `
    + `H = JᵀJ/σ_noise² + δI over all ${info.numParams.toLocaleString('en')} weights (structure '${b.structure}', through the ${info.n} × ${info.n} Gram); `
    + (b.error ? `δ and σ_noise not tuned (${b.error}): δ = ${b.prior.toPrecision(3)}, σ_noise = ${b.noise.toPrecision(3)}`
      : `δ = ${b.prior.toPrecision(3)}, σ_noise = ${b.noise.toPrecision(3)} by marginal likelihood`)
    + `; ${b.ms.toFixed(1)} ms in the worker. It widens away from the data (x ∈ [−1.5, 1.5]).`;
}

const log10 = (v: number) => (v > 0 && Number.isFinite(v) ? Math.log10(v) : null);

function drawPde(run: NonNullable<DemoState['pde']>): void {
  const xs = run.loss.map((_, i) => i);
  chart?.setData([xs, run.loss.map(log10), run.l2.map(log10)] as uPlot.AlignedData);
  const last = run.l2.length - 1;
  $('[data-testid=pde-iterations]').textContent = String(run.stepMs.length);
  $('[data-testid=pde-loss]').textContent = run.loss[last].toExponential(3);
  $('[data-testid=pde-l2]').textContent = run.l2[last].toExponential(3);
  const ms = [...run.stepMs].sort((a, b) => a - b);
  $('[data-testid=pde-ms]').textContent = ms.length ? `${ms[ms.length >> 1].toFixed(1)} ms` : '';
  $('[data-testid=pde-lr]').textContent = run.lr.length ? String(run.lr[run.lr.length - 1]) : '';
  $('[data-testid=pde-error]').textContent = run.error ?? '';
  if (pendingMaps) drawMaps(pendingMaps);
  pendingMaps = undefined;
}

/** Heat maps of u (linear colour over [0, 1], as u* spans) and of |u − u*| (log colour over its current decades). */
function makeMaps(size: number): void {
  maps = {
    u: new HeatMap({ size, title: 'u, the net (x →, y ↑)', testid: 'pde-u', scheme: 'viridis', type: 'linear', domain: [0, 1] }),
    error: new HeatMap({ size, title: '|u − u*|', testid: 'pde-error-map', scheme: 'magma', type: 'log' }),
  };
  $<HTMLDivElement>('#view').replaceChildren(maps.u.figure, maps.error.figure);
}

function drawMaps(values: NonNullable<PdeUpdate['maps']>): void {
  maps?.u.draw(values.u);
  maps?.error.draw(values.error);
}

/** The paper's problem: the eigenvalues of G = JJᵀ at initialisation, which set GD's rate but not NGD's. */
function drawSpectrum(el: HTMLElement, eigenvalues: number[]): void {
  if (el.dataset.drawn === 'spectrum') return;
  const data = eigenvalues.map((y, i) => ({ i: i + 1, y })).filter((d) => d.y > 0);
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = 'eigenvalues of G = JJᵀ at initialisation';
  fig.append(cap, Plot.plot({
    width: 340, height: 300, y: { type: 'log', grid: true, label: 'λ', tickFormat: '~g' }, x: { label: 'index' },
    marks: [Plot.dot(data, { x: 'i', y: 'y', r: 2, fill: '#444' })],
  }));
  el.replaceChildren(fig);
  el.dataset.drawn = 'spectrum';
}

// ---- start-up ----
{
  const problem = (params.get('problem') ?? 'paper') as ProblemId;
  const config = defaultConfig(PROBLEM_DEFAULTS[problem] ? problem : 'paper') as unknown as Record<string, unknown>;
  for (const [k, v] of params) {
    if (k === 'auto' || k === 'backend' || k === 'problem' || getPath(config, k) === undefined) continue;
    setPath(config, k, v);
  }
  writeForm(config as unknown as DemoConfig);
  showProblem();
  $('[data-testid=isolated]').textContent = String(globalThis.crossOriginIsolated === true);
  setup();
}
