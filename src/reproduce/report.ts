/**
 * The self-contained HTML report of `natgrad reproduce`: a summary table, then one section per experiment with
 * its claim, formula, plots (Observable Plot rendered in Node on a linkedom document: inline SVG), checks,
 * settings and the environment stamp. No script, no network request; opens from disk.
 */
import type { Results } from './runner.js';
import type { ExperimentResult, Series } from './types.js';
import { fmt } from './stats.js';

type PlotModule = typeof import('@observablehq/plot');
type Mark = ReturnType<PlotModule['dot']>;

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** One plot: its caption and Plot options. */
interface Figure { caption: string; options: Record<string, unknown> }

/** The figures of each experiment, from its series. */
function figures(P: PlotModule, r: ExperimentResult): Figure[] {
  const s = r.series as Record<string, Series>;
  const cfg = r.config as Record<string, unknown>;
  const logY = (label: string) => ({ type: 'log', label, grid: true, tickFormat: '~g' });
  switch (r.id) {
    case 'E1': return [
      { caption: 'Step-1 ratio ‖r₁‖²/‖r₀‖² against width (median over seeds; dots: each seed). Dashed: the 10⁻² bound.', options: {
        x: { type: 'log', tickFormat: '~g', label: 'width m (hidden units)' }, y: logY('‖r₁‖² / ‖r₀‖²'),
        marks: [P.ruleY([cfg.threshold as number], { strokeDasharray: '4 3', stroke: '#b00' }), P.dot(s.runs, { x: 'm', y: 'ratio', fill: '#999', r: 2 }),
          P.line(s.widths, { x: 'm', y: 'step1', marker: 'circle', stroke: '#1f5fa8' })] } },
      { caption: 'Relative loss ‖r_k‖²/‖r₀‖² per NGD step (η = 1), one curve per width.', options: {
        x: { label: 'step k', ticks: 3 }, y: logY('‖r_k‖² / ‖r₀‖²'), color: { legend: true, type: 'ordinal', label: 'width m' },
        marks: [P.line(s.curves, { x: 'step', y: 'loss', stroke: (d: { m: number }) => String(d.m), marker: 'circle' })] } },
    ];
    case 'E2': return [
      { caption: 'Per-step ratio ‖r_{k+1}‖²/‖r_k‖² for η = 0.25, 0.5, 0.75 over every case (geometry × labels × n). Lines: (1 − η)².', options: {
        x: { label: 'step k', ticks: 6 }, y: { label: 'per-step ‖r‖² ratio', grid: true, domain: [0, 0.7] }, color: { legend: true, type: 'ordinal', label: 'η' },
        marks: [P.ruleY([0.5625, 0.25, 0.0625], { strokeDasharray: '4 3', stroke: '#888' }),
          P.dot(s.ratios, { x: (d: { step: number; labels: string }) => d.step + (d.labels === 'smooth' ? 0.12 : -0.12), y: 'ratio', stroke: (d: { eta: number }) => String(d.eta), symbol: 'geometry', r: 3 })] } },
    ];
    case 'E3': return [
      { caption: 'GD\'s per-step ratio (η = 1/λ_max) settling on (1 − ηλ_min)² (dashed).', options: {
        x: { label: 'step k' }, y: { label: 'per-step ‖r‖² ratio', grid: true },
        marks: [P.ruleY([(r.summary as Record<string, number>).predicted], { strokeDasharray: '4 3', stroke: '#b00' }), P.line(s.ratios, { x: 'step', y: 'ratio', stroke: '#1f5fa8' })] } },
      { caption: 'Steps to ‖r‖² ≤ 10⁻³‖r₀‖² against the condition number κ(G) (near-parallel pairs at shrinking angles).', options: {
        x: { type: 'log', tickFormat: '~g', label: 'κ(G) = λ_max/λ_min' }, y: { type: 'log', tickFormat: '~g', label: 'steps to 10⁻³', grid: true }, color: { legend: true, domain: ['GD', 'NGD'] },
        marks: [P.line(s.sweep, { x: 'condition', y: 'gd', stroke: () => 'GD', marker: 'circle' }), P.line(s.sweep, { x: 'condition', y: 'ngd', stroke: () => 'NGD', marker: 'circle' })] } },
    ];
    case 'E4': return [
      { caption: 'Width scaling (log-log; medians over seeds, lines: least-squares fits, faint dots: seeds). Slopes ≈ −½, −½ and −¼.', options: {
        x: { type: 'log', tickFormat: '~g', label: 'width m (hidden units)' }, y: { type: 'log', tickFormat: '~g', label: 'relative deviation / drift', grid: true }, color: { legend: true, domain: ['deviation', 'gram', 'jacobian'], range: ['#1f5fa8', '#d9822b', '#2a9d50'] },
        marks: [
          ...(['deviation', 'gram', 'jacobian'] as const).map((q) => P.dot(s.runs, { x: 'm', y: q, fill: () => q, r: 1.5, fillOpacity: 0.35 })),
          ...(['deviation', 'gram', 'jacobian'] as const).map((q) => P.dot(s.medians, { x: 'm', y: q, fill: () => q, r: 4 })),
          P.line(s.fits, { x: 'm', y: 'fit', stroke: 'quantity' })] } },
      { caption: 'The same three quantities at m = 4096 as the init scale ν shrinks.', options: {
        x: { type: 'log', tickFormat: '~g', label: 'init scale ν', reverse: true }, y: { type: 'log', tickFormat: '~g', label: 'relative deviation / drift', grid: true }, color: { legend: true, domain: ['deviation', 'gram', 'jacobian'], range: ['#1f5fa8', '#d9822b', '#2a9d50'] },
        marks: (['deviation', 'gram', 'jacobian'] as const).map((q) => P.line(s.nu, { x: 'nu', y: q, stroke: () => q, marker: 'circle' })) } },
    ];
    case 'E5': return [
      { caption: 'NGD (η = 0.5) per-step ratio with SMOOTH labels, one line per λ_min(G); dashed: (1 − η)² ± 0.05.', options: {
        x: { label: 'step k', ticks: 6 }, y: { label: 'per-step ‖r‖² ratio', grid: true, domain: [0, 0.5] }, color: { legend: true, type: 'ordinal', label: 'λ_min(G)', tickFormat: (v: number) => fmt(v, 2) },
        marks: [P.ruleY([0.2, 0.25, 0.3], { strokeDasharray: '4 3', stroke: '#888' }), P.line(s.ngd.filter((d) => d.labels === 'smooth'), { x: 'step', y: 'ratio', stroke: 'lambdaMin', marker: 'circle' })] } },
      { caption: 'Where the width condition bites: NGD\'s worst ratio with RANDOM labels against λ_min(G), at three widths (log scale; above 1 the loss grows). Dashed: (1 − η)².', options: {
        x: { type: 'log', tickFormat: '~g', label: 'λ_min(G)', reverse: true }, y: { type: 'log', tickFormat: '~g', label: 'worst per-step ratio', grid: true }, color: { legend: true, type: 'ordinal', label: 'width m' },
        marks: [P.ruleY([0.25], { strokeDasharray: '4 3', stroke: '#888' }), P.line(s.random, { x: 'lambdaMin', y: 'worstRatio', stroke: (d: { m: number }) => String(d.m), marker: 'circle' })] } },
      { caption: 'GD: steps to halve the slowest mode against λ_min (dots: measured; line: ln 2/−ln(1 − ηλ_min)).', options: {
        x: { type: 'log', tickFormat: '~g', label: 'λ_min(G)', reverse: true }, y: { type: 'log', tickFormat: '~g', label: 'GD steps to halve the slowest mode', grid: true },
        marks: [P.line(s.gd, { x: 'lambdaMin', y: 'predicted', stroke: '#888' }), P.dot(s.gd, { x: 'lambdaMin', y: 'steps', fill: '#1f5fa8', r: 4 })] } },
    ];
    case 'E6': return [
      { caption: 'Per-mode factor (v_jᵀr_{k+1})/(v_jᵀr_k) against λ/μ_j, steps 2–4, every damping (filled: judged modes, ≥ 5% of ‖r‖). Line: 1 − ημ/(μ + λ).', options: {
        x: { type: 'log', tickFormat: '~g', label: 'λ / μ_j' }, y: { label: 'contraction factor of mode j', grid: true, domain: [0.3, 1.1] },
        marks: [
          P.line(Array.from({ length: 121 }, (_, i) => { const t = 10 ** (-3 + i * 0.06); return { t, f: 1 - 0.5 / (1 + t) }; }), { x: 't', y: 'f', stroke: '#b00' }),
          P.dot(s.modes.filter((d) => !d.judged && Math.abs(d.measured as number) < 2), { x: 'lambdaOverMu', y: 'measured', stroke: '#aaa', r: 2 }),
          P.dot(s.modes.filter((d) => d.judged), { x: 'lambdaOverMu', y: 'measured', fill: '#1f5fa8', r: 2.5 })] } },
    ];
    case 'E7': return [
      { caption: 'n > d: measured r₁ᵢ/r₀ᵢ against the predicted 1 − ηhᵢ, one dot per coordinate (grey: |r₀ᵢ| < 0.1·rms, not judged). Line: y = x.', options: {
        x: { label: 'predicted 1 − η·hᵢ (leverage)', domain: [0.5, 1] }, y: { label: 'measured r₁ᵢ / r₀ᵢ', grid: true, domain: [0.4, 1.1] },
        marks: [P.line([{ a: 0.5, b: 0.5 }, { a: 1, b: 1 }], { x: 'a', y: 'b', stroke: '#b00' }), P.dot(s.scatter.filter((d) => !d.judged), { x: 'predicted', y: 'measured', stroke: '#aaa', r: 3 }),
          P.dot(s.scatter.filter((d) => d.judged), { x: 'predicted', y: 'measured', fill: '#1f5fa8', r: 3 })] } },
      { caption: 'n > d: aggregate ratio per step; dashed: 1 − η/λ_max(XᵀX) (the bound), dotted: (1 − η·min hᵢ)².', options: {
        x: { label: 'step k' }, y: { label: 'per-step ‖r‖² ratio', grid: true, domain: [0.5, 1] },
        marks: [P.ruleY(s.tall.slice(0, 1), { y: 'bound', strokeDasharray: '4 3', stroke: '#b00' }), P.ruleY(s.tall.slice(0, 1), { y: 'firstOrder', strokeDasharray: '1 3', stroke: '#555' }), P.line(s.tall, { x: 'step', y: 'ratio', marker: 'circle', stroke: '#1f5fa8' })] } },
      { caption: 'd ≥ n: per-step ratio of K-FAC (paper preset) and exact NGD.', options: {
        x: { label: 'step k' }, y: { label: 'per-step ‖r‖² ratio', grid: true }, color: { legend: true },
        marks: [P.line(s.wide, { x: 'step', y: 'ratio', stroke: 'method', marker: 'circle' })] } },
    ];
    case 'E8': return [
      { caption: 'Relative gap on held-out inputs between the functions NGD and GD converge to (and kernel predictor vs GD), against width.', options: {
        x: { type: 'log', tickFormat: '~g', label: 'width m (hidden units)' }, y: { type: 'log', tickFormat: '~g', label: '‖f_A − f_GD‖ / ‖f_GD − f₀‖ on test inputs', grid: true }, color: { legend: true, domain: ['NGD vs GD', 'kernel vs GD'] },
        marks: [P.line(s.widths, { x: 'm', y: 'gap', stroke: () => 'NGD vs GD', marker: 'circle' }), P.line(s.widths, { x: 'm', y: 'gapKernel', stroke: () => 'kernel vs GD', marker: 'circle' })] } },
      { caption: 'Test predictions at the largest width (first 24 held-out inputs): GD, NGD, the kernel predictor and the initial net.', options: {
        x: { label: 'held-out input' }, y: { label: 'f(x)', grid: true }, color: { legend: true, domain: ['GD', 'NGD', 'kernel', 'init'], range: ['#1f5fa8', '#d9822b', '#2a9d50', '#bbb'] },
        marks: [P.dot(s.predictions, { x: 'input', y: 'value', stroke: 'method', symbol: 'method', r: 3.5 })] } },
    ];
    case 'F1': return [
      { caption: 'Output space of MNIST 4-vs-9 examples (two outputs): NGD (η = 0.1) goes straight to each target (★), GD (η = 1/λ_max) curves.', options: {
        x: { label: 'output 1 (“4”)' }, y: { label: 'output 2 (“9”)', grid: true }, aspectRatio: 1, color: { legend: true, domain: ['NGD', 'GD'], range: ['#d9822b', '#1f5fa8'] },
        marks: [P.line(s.paths, { x: 'u1', y: 'u2', stroke: 'method', z: (d: { method: string; example: number }) => `${d.method}${d.example}`, strokeWidth: 1.5 }),
          P.dot(s.paths.filter((d) => d.step === 0), { x: 'u1', y: 'u2', fill: '#333', r: 2.5 }),
          P.dot(s.targets, { x: 'y1', y: 'y2', symbol: 'star', fill: '#b00', r: 6 }),
          P.text(['NGD: straight to the target'], { frameAnchor: 'top-right', fill: '#d9822b', fontSize: 13, dx: -4, dy: 4 }),
          P.text(['GD: curved'], { frameAnchor: 'top-right', fill: '#1f5fa8', fontSize: 13, dx: -4, dy: 22 }),
          P.text(['★ target'], { frameAnchor: 'top-right', fill: '#b00', fontSize: 13, dx: -4, dy: 40 })] } },
    ];
    default: return [];
  }
}

function table(results: Results): string {
  return `<table class="summary"><thead><tr><th>id</th><th>claim</th><th>expected</th><th>measured</th><th>verdict</th><th>seconds</th></tr></thead><tbody>
${results.experiments.map((e) => `<tr><td><a href="#${e.id}">${e.id}</a></td><td>${esc(e.title)}</td><td>${esc(e.expected)}</td><td>${esc(e.measuredText)}</td><td>${badge(e.pass)}</td><td>${e.seconds.toFixed(1)}</td></tr>`).join('\n')}
</tbody></table>`;
}

const badge = (pass: boolean) => `<span class="badge ${pass ? 'pass' : 'fail'}">${pass ? 'PASS' : 'FAIL'}</span>`;

const CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-top:1px solid #ddd;padding-top:1em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.badge{font-weight:700;padding:.1em .5em;border-radius:3px;color:#fff}.pass{background:#2a7d3c}.fail{background:#b3261e}
.formula{font-family:ui-monospace,monospace;background:#f6f6f6;padding:.3em .6em;display:inline-block}
figure{margin:1em 0}figcaption{font-size:.9em;color:#555}.env{color:#555;font-size:.9em}ul{margin:.3em 0}
.plot-figure{margin:0}svg{max-width:100%;height:auto}`;

/** A figure as a standalone SVG file. */
export interface FigureFile { name: string; svg: string }

/** The chart's own <svg> (without Plot's HTML legend), made standalone. */
function standalone(el: Element): string {
  const svg = el.tagName.toLowerCase() === 'svg' ? el : el.querySelector('svg[class^="plot"]') ?? el.querySelector('svg:last-of-type');
  if (!svg) return '';
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  svg.setAttribute('style', 'background: white');
  return `<?xml version="1.0" encoding="utf-8"?>\n${(svg as unknown as { outerHTML: string }).outerHTML}\n`;
}

/**
 * Renders the report (and every figure as a standalone SVG, named ID-k.svg); Plot and linkedom are loaded here
 * only (report-only dependencies).
 */
export async function renderReport(results: Results): Promise<{ html: string; figures: FigureFile[] }> {
  const files: FigureFile[] = [];
  const P: PlotModule = await import('@observablehq/plot');
  const { parseHTML } = await import('linkedom');
  const { document } = parseHTML('<!doctype html><html><head></head><body></body></html>');
  const sections = results.experiments.map((r) => {
    const figs = figures(P, r).map((f, k) => {
      const el = P.plot({ document: document as unknown as Document, width: 760, height: 360, marginLeft: 60, style: { fontSize: '12px' }, ...f.options } as Parameters<PlotModule['plot']>[0]);
      const html = `<figure>${(el as unknown as { outerHTML: string }).outerHTML}<figcaption>${esc(f.caption)}</figcaption></figure>`;
      files.push({ name: `${r.id}-${k + 1}.svg`, svg: standalone(el as unknown as Element) });
      return html;
    }).join('\n');
    return `<section id="${r.id}" class="experiment">
<h2>${r.id} — ${esc(r.title)} ${badge(r.pass)}</h2>
<p>${esc(r.claim)}</p>
<p class="formula">${esc(r.formula)}</p>
<p><b>Expected:</b> ${esc(r.expected)} — <b>measured:</b> ${esc(r.measuredText)} (${r.seconds.toFixed(1)} s)<br><b>Tolerance:</b> ${esc(r.tolerance)}</p>
${figs}
<table><thead><tr><th>check</th><th>expected</th><th>measured</th><th>verdict</th></tr></thead><tbody>
${r.checks.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.expected)}</td><td>${esc(c.measured)}</td><td>${badge(c.pass)}</td></tr>`).join('\n')}
</tbody></table>
<h3>Measured</h3><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<h3>Settings chosen where the paper is silent</h3><ul>${r.choices.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
${r.ignored.length ? `<p class="env">This experiment has no knob for ${r.ignored.map((k) => `--${k}`).join(', ')}; ignored.</p>` : ''}
<details><summary>config</summary><pre>${esc(JSON.stringify(r.config, null, 1))}</pre></details>
</section>`;
  }).join('\n');
  const env = results.env, passed = results.experiments.filter((e) => e.pass).length;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>natgrad reproduce — Zhang, Martens &amp; Grosse (2019)</title><style>${CSS}</style></head>
<body>
<h1>natgrad reproduce</h1>
<p>The checkable predictions of <i>Fast Convergence of Natural Gradient Descent for Overparameterized Neural Networks</i>
(Zhang, Martens, Grosse, NeurIPS 2019), measured: <b>${passed} of ${results.experiments.length} pass</b>.</p>
<p class="env">natgrad ${esc(results.version)} · Node ${esc(env.node)} · ${esc(env.cpu)} · backend ${esc(env.backend)}${env.simd ? ' (WASM SIMD)' : ''} · ${esc(env.platform)} · ${esc(env.date)} · ${results.config.quick ? 'quick' : 'full'} mode · ${results.seconds.toFixed(1)} s
${['n', 'd', 'm', 'seed'].filter((k) => (results.config as unknown as Record<string, unknown>)[k] !== undefined).map((k) => ` · --${k} ${(results.config as unknown as Record<string, unknown>)[k]}`).join('')}</p>
${table(results)}
<p class="env">Ratios are ‖r_{k+1}‖²/‖r_k‖² of the residual r = u − y on the training inputs (loss ½‖r‖²). Ratios are measured only while ‖r_k‖² ≥ 1e-20·‖r₀‖²: below that the residual is at the float64 floor (about 1e-11 relative) and its ratios are round-off.</p>
${sections}
</body></html>
`;
  return { html, figures: files };
}
