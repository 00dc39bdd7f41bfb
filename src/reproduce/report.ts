/**
 * The self-contained HTML report of `natgrad reproduce`: a summary table, then one section per experiment with
 * its claim, formula, plots (Observable Plot rendered in Node on a linkedom document: inline SVG), checks,
 * settings and the environment stamp. No script, no network request; opens from disk.
 */
import { tally, type Results } from './runner.js';
import type { ExperimentResult, Series } from './types.js';
import { fmt } from './stats.js';

type PlotModule = typeof import('@observablehq/plot');
type Mark = ReturnType<PlotModule['dot']>;

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** One plot: its caption and Plot options. */
interface Figure { caption: string; options: Record<string, unknown> }

/** Categorical colours (Observable's tableau10), assigned in numeric order where the categories are numbers. */
const PALETTE = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5', '#9c6b4e', '#9498a0'];

/** A legend item drawn inside the chart's top margin: a line, a dot or a symbol, and its label. */
interface LegendItem {
  label: string; color: string;
  kind?: 'line' | 'dashed' | 'dot' | 'star' | 'triangle' | 'circle' | 'cross' | 'diamond' | 'square';
  /** Drawn as an outline (the chart's symbols are stroked, not filled). */
  hollow?: boolean;
}

const MARGIN_TOP = 40;

/**
 * The legend as marks in the chart's top margin, right-aligned (the y-axis label takes the left end), above the
 * frame so it never covers data, and part of the chart's own SVG so the standalone figure files keep it.
 */
function legend(P: PlotModule, title: string, items: LegendItem[]): Mark[] {
  const textWidth = (t: string) => 6.6 * [...t].length;
  const itemWidth = (it: LegendItem) => (it.kind === 'line' || it.kind === 'dashed' || !it.kind ? 24 : 16) + textWidth(it.label) + 14;
  let x = -(title ? textWidth(title) + 10 : 0) - items.reduce((w, it) => w + itemWidth(it), 0) + 14;
  const dy = -MARGIN_TOP + 14, at = { frameAnchor: 'top-right' as const, dy };
  const marks: Mark[] = [];
  if (title) {
    marks.push(P.text([title], { ...at, dx: x, textAnchor: 'start', fontWeight: 'bold', fill: '#333' }));
    x += textWidth(title) + 10;
  }
  for (const it of items) {
    const kind = it.kind ?? 'line';
    if (kind === 'line' || kind === 'dashed') {
      // A short solid or dashed line drawn as box-drawing characters: it needs no data coordinates.
      marks.push(P.text([kind === 'line' ? '━━' : '╺ ╸'], { ...at, dx: x - 1, textAnchor: 'start', fill: it.color, fontSize: 11 }));
      x += 24;
    } else {
      marks.push(P.dot([0], { ...at, dx: x + 6, fill: it.hollow ? 'none' : it.color, stroke: it.color, r: kind === 'star' ? 5 : 3.5, symbol: kind === 'dot' ? 'circle' : kind }));
      x += 16;
    }
    marks.push(P.text([it.label], { ...at, dx: x, textAnchor: 'start', fill: '#333' }));
    x += textWidth(it.label) + 14;
  }
  return marks;
}

/** Numbers as ordinal categories in numeric order, each with its palette colour. */
function numericColors(values: number[], format: (v: number) => string = (v) => String(v)) {
  const domain = [...new Set(values)].sort((a, b) => a - b);
  return {
    scale: { type: 'ordinal', domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length]) },
    items: domain.map((v, i): LegendItem => ({ label: format(v), color: PALETTE[i % PALETTE.length] })),
  };
}

/** Named categories with fixed colours. */
function namedColors(names: string[], colors: string[]) {
  return { scale: { type: 'ordinal', domain: names, range: colors }, items: names.map((label, i): LegendItem => ({ label, color: colors[i] })) };
}

/** A step axis with integer ticks only. */
function stepAxis(steps: number[], label = 'step k') {
  const max = Math.max(1, ...steps), min = Math.min(max, ...steps);
  const every = Math.max(1, Math.ceil((max - min) / 10));
  const ticks: number[] = [];
  for (let k = Math.ceil(min / every) * every; k <= max; k += every) ticks.push(k);
  return { label, ticks, tickFormat: 'd', domain: [min - 0.3, max + 0.3] };
}

/** [lo, hi] covering every value and every reference line (log scales: positive values only). */
function cover(values: number[], refs: number[], log = false): [number, number] {
  const v = [...values, ...refs].filter((x) => Number.isFinite(x) && (!log || x > 0));
  const lo = Math.min(...v), hi = Math.max(...v);
  return log ? [lo / 1.3, hi * 1.3] : [lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)];
}

const num = (rows: Series, key: string) => rows.map((d) => d[key] as number);

/** The figures of each experiment, from its series. */
function figures(P: PlotModule, r: ExperimentResult): Figure[] {
  const s = r.series as Record<string, Series>;
  const cfg = r.config as Record<string, unknown>;
  const logY = (label: string, domain?: [number, number]) => ({ type: 'log', label, grid: true, tickFormat: '~g', ...(domain ? { domain } : {}) });
  const logX = (label: string, reverse = false) => ({ type: 'log', tickFormat: '~g', label, ...(reverse ? { reverse } : {}) });
  switch (r.id) {
    case 'E1': {
      const widths = numericColors(num(s.curves, 'm'));
      const threshold = cfg.threshold as number;
      return [
        { caption: 'Step-1 ratio ‖r₁‖²/‖r₀‖² against width (median over seeds; grey dots: each seed). Dashed: the 10⁻² bound.', options: {
          x: logX('width m (hidden units)'), y: logY('‖r₁‖² / ‖r₀‖²', cover([...num(s.runs, 'ratio'), ...num(s.widths, 'step1')], [threshold], true)),
          marks: [P.ruleY([threshold], { strokeDasharray: '4 3', stroke: '#b00' }), P.dot(s.runs, { x: 'm', y: 'ratio', fill: '#999', r: 2 }),
            P.line(s.widths, { x: 'm', y: 'step1', marker: 'circle', stroke: PALETTE[0] }),
            ...legend(P, '', [{ label: 'median step-1 ratio', color: PALETTE[0] }, { label: 'one seed', color: '#999', kind: 'dot' }, { label: 'bound 10⁻²', color: '#b00', kind: 'dashed' }])] } },
        { caption: 'Relative loss ‖r_k‖²/‖r₀‖² per NGD step (η = 1), one curve per width.', options: {
          x: stepAxis(num(s.curves, 'step')), y: logY('‖r_k‖² / ‖r₀‖²'), color: widths.scale,
          marks: [P.line(s.curves, { x: 'step', y: 'loss', stroke: 'm', marker: 'circle' }), ...legend(P, 'width m', widths.items)] } },
      ];
    }
    case 'E2': {
      const etas = numericColors(num(s.ratios, 'eta'));
      const refs = [...new Set(num(s.ratios, 'expected'))];
      return [
        { caption: 'Per-step ratio ‖r_{k+1}‖²/‖r_k‖² for each η over every case (geometry × labels × n; random labels left of each step, smooth right). Dashed: (1 − η)².', options: {
          x: stepAxis(num(s.ratios, 'step')), y: { label: 'per-step ‖r‖² ratio', grid: true, domain: cover(num(s.ratios, 'ratio'), [0, ...refs]) }, color: etas.scale,
          symbol: { domain: ['sphere', 'anisotropic'], range: ['circle', 'triangle'] },
          marks: [P.ruleY(refs, { strokeDasharray: '4 3', stroke: '#888' }),
            P.dot(s.ratios, { x: (d: { step: number; labels: string }) => d.step + (d.labels === 'smooth' ? 0.12 : -0.12), y: 'ratio', stroke: 'eta', symbol: 'geometry', r: 3 }),
            ...legend(P, 'η', [...etas.items.map((i) => ({ ...i, kind: 'dot' as const })), { label: 'sphere', color: '#555', kind: 'circle', hollow: true }, { label: 'anisotropic', color: '#555', kind: 'triangle', hollow: true }])] } },
      ];
    }
    case 'E3': {
      const predicted = (r.summary as Record<string, number>).predicted;
      const methods = namedColors(['GD', 'NGD'], [PALETTE[0], PALETTE[1]]);
      return [
        { caption: 'GD\'s per-step ratio (η = 1/λ_max) settling on (1 − ηλ_min)² (dashed).', options: {
          x: stepAxis(num(s.ratios, 'step')), y: { label: 'per-step ‖r‖² ratio', grid: true, domain: cover(num(s.ratios, 'ratio'), [predicted]) },
          marks: [P.ruleY([predicted], { strokeDasharray: '4 3', stroke: '#b00' }), P.line(s.ratios, { x: 'step', y: 'ratio', stroke: PALETTE[0] }),
            ...legend(P, '', [{ label: 'GD ratio', color: PALETTE[0] }, { label: '(1 − ηλ_min)²', color: '#b00', kind: 'dashed' }])] } },
        { caption: 'Steps to ‖r‖² ≤ 10⁻³‖r₀‖² against the condition number κ(G) (near-parallel pairs at shrinking angles).', options: {
          x: logX('κ(G) = λ_max/λ_min'), y: { type: 'log', tickFormat: '~g', label: 'steps to 10⁻³', grid: true }, color: methods.scale,
          marks: [P.line(s.sweep, { x: 'condition', y: 'gd', stroke: () => 'GD', marker: 'circle' }), P.line(s.sweep, { x: 'condition', y: 'ngd', stroke: () => 'NGD', marker: 'circle' }),
            ...legend(P, '', methods.items)] } },
      ];
    }
    case 'E4': {
      const qs = ['deviation', 'gram', 'jacobian'] as const;
      const slopes = { deviation: -0.5, gram: -0.5, jacobian: -0.25 };
      const colors = namedColors([...qs], [PALETTE[0], PALETTE[1], PALETTE[4]]);
      // Reference slopes through each quantity's median at the smallest width.
      const m0 = s.medians[0]?.m as number;
      const refs = qs.flatMap((q) => s.medians.map((d) => ({ quantity: q, m: d.m as number, ref: (s.medians[0][q] as number) * ((d.m as number) / m0) ** slopes[q] })));
      return [
        { caption: 'Width scaling (log-log; big dots: medians over seeds, faint dots: seeds, solid lines: least-squares fits, dashed: the predicted slopes −½, −½ and −¼ through the first median).', options: {
          x: logX('width m (hidden units)'), y: { type: 'log', tickFormat: '~g', label: 'relative deviation / drift', grid: true }, color: colors.scale,
          marks: [
            ...qs.map((q) => P.dot(s.runs, { x: 'm', y: q, fill: () => q, r: 1.5, fillOpacity: 0.35 })),
            ...qs.map((q) => P.dot(s.medians, { x: 'm', y: q, fill: () => q, r: 4 })),
            P.line(s.fits, { x: 'm', y: 'fit', stroke: 'quantity' }),
            P.line(refs, { x: 'm', y: 'ref', stroke: 'quantity', strokeDasharray: '4 3', strokeOpacity: 0.8 }),
            ...legend(P, '', [{ label: 'rate deviation', color: PALETTE[0] }, { label: 'Gram drift', color: PALETTE[1] }, { label: 'Jacobian drift', color: PALETTE[4] }, { label: 'slopes −½, −½, −¼', color: '#555', kind: 'dashed' }])] } },
        { caption: `The same three quantities at m = ${cfg.mNu} as the init scale ν shrinks.`, options: {
          x: logX('init scale ν', true), y: { type: 'log', tickFormat: '~g', label: 'relative deviation / drift', grid: true }, color: colors.scale,
          marks: [...qs.map((q) => P.line(s.nu, { x: 'nu', y: q, stroke: () => q, marker: 'circle' })),
            ...legend(P, '', [{ label: 'rate deviation', color: PALETTE[0] }, { label: 'Gram drift', color: PALETTE[1] }, { label: 'Jacobian drift', color: PALETTE[4] }])] } },
      ];
    }
    case 'E5': {
      const ideal = (1 - (cfg.eta as number)) ** 2, tol = cfg.tolerance as number;
      const smooth = s.ngd.filter((d) => d.labels === 'smooth'), probe = s.ngd.filter((d) => d.labels === 'slowest mode');
      const lambdas = numericColors([...num(smooth, 'lambdaMin'), ...num(probe, 'lambdaMin')], (v) => fmt(v, 2));
      const widths = numericColors(num(s.random, 'm'));
      return [
        { caption: `NGD (η = ${cfg.eta}) per-step ratio, one colour per λ_min(G): solid, smooth labels; dashed, the whole residual on the slowest mode v_min. Grey: (1 − η)² ± ${tol}.`, options: {
          x: stepAxis(num(s.ngd, 'step')), y: { label: 'per-step ‖r‖² ratio', grid: true, domain: cover([...num(smooth, 'ratio'), ...num(probe, 'ratio')], [ideal - tol - 0.05, ideal + tol + 0.05]) }, color: lambdas.scale,
          marks: [P.ruleY([ideal - tol, ideal, ideal + tol], { strokeDasharray: '4 3', stroke: '#888' }),
            P.line(smooth, { x: 'step', y: 'ratio', stroke: 'lambdaMin', marker: 'circle' }),
            P.line(probe, { x: 'step', y: 'ratio', stroke: 'lambdaMin', strokeDasharray: '5 4', marker: 'circle' }),
            ...legend(P, 'λ_min(G)', lambdas.items)] } },
        { caption: `Where the width condition bites: NGD's worst per-step ratio with RANDOM labels against λ_min(G), one line per width (log scale). Above the solid line at 1 the loss grows; dashed: (1 − η)² = ${ideal}.`, options: {
          x: logX('λ_min(G)', true), y: logY('worst per-step ratio', cover(num(s.random, 'worstRatio'), [ideal, 1], true)), color: widths.scale,
          marks: [P.ruleY([ideal], { strokeDasharray: '4 3', stroke: '#888' }), P.ruleY([1], { stroke: '#b00' }),
            P.line(s.random, { x: 'lambdaMin', y: 'worstRatio', stroke: 'm', marker: 'circle' }),
            ...legend(P, 'width m', [...widths.items, { label: 'ratio 1', color: '#b00' }, { label: '(1 − η)²', color: '#888', kind: 'dashed' }])] } },
        { caption: 'GD: steps to halve the slowest mode against λ_min (dots: measured; line: ln 2/−ln(1 − ηλ_min)).', options: {
          x: logX('λ_min(G)', true), y: { type: 'log', tickFormat: '~g', label: 'GD steps to halve the slowest mode', grid: true },
          marks: [P.line(s.gd, { x: 'lambdaMin', y: 'predicted', stroke: '#888' }), P.dot(s.gd, { x: 'lambdaMin', y: 'steps', fill: PALETTE[0], r: 4 }),
            ...legend(P, '', [{ label: 'measured', color: PALETTE[0], kind: 'dot' }, { label: 'ln 2/−ln(1 − ηλ_min)', color: '#888' }])] } },
      ];
    }
    case 'E6': return [
      { caption: 'Per-mode factor (v_jᵀr_{k+1})/(v_jᵀr_k) against λ/μ_j, steps 2–4, every damping (filled: judged modes, ≥ 5% of ‖r‖). Line: 1 − ημ/(μ + λ).', options: {
        x: logX('λ / μ_j'), y: { label: 'contraction factor of mode j', grid: true, domain: [0.3, 1.1] },
        marks: [
          P.line(Array.from({ length: 121 }, (_, i) => { const t = 10 ** (-3 + i * 0.06); return { t, f: 1 - (cfg.eta as number) / (1 + t) }; }), { x: 't', y: 'f', stroke: '#b00' }),
          P.dot(s.modes.filter((d) => !d.judged && Math.abs(d.measured as number) < 2), { x: 'lambdaOverMu', y: 'measured', stroke: '#aaa', r: 2 }),
          P.dot(s.modes.filter((d) => d.judged), { x: 'lambdaOverMu', y: 'measured', fill: PALETTE[0], r: 2.5 }),
          ...legend(P, '', [{ label: 'judged mode', color: PALETTE[0], kind: 'dot' }, { label: 'not judged (< 5% of ‖r‖)', color: '#aaa', kind: 'dot' }, { label: '1 − ημ/(μ + λ)', color: '#b00' }])] } },
    ];
    case 'E7': {
      const methods = namedColors(['K-FAC', 'NGD'], [PALETTE[0], PALETTE[1]]);
      const bound = s.tall[0]?.bound as number, firstOrder = s.tall[0]?.firstOrder as number;
      return [
        { caption: 'n > d: measured r₁ᵢ/r₀ᵢ against the predicted 1 − ηhᵢ, one dot per coordinate (grey: |r₀ᵢ| < 0.1·rms, not judged). Line: y = x.', options: {
          x: { label: 'predicted 1 − η·hᵢ (leverage)', domain: [0.5, 1] }, y: { label: 'measured r₁ᵢ / r₀ᵢ', grid: true, domain: [0.4, 1.1] },
          marks: [P.line([{ a: 0.5, b: 0.5 }, { a: 1, b: 1 }], { x: 'a', y: 'b', stroke: '#b00' }), P.dot(s.scatter.filter((d) => !d.judged), { x: 'predicted', y: 'measured', stroke: '#aaa', r: 3 }),
            P.dot(s.scatter.filter((d) => d.judged), { x: 'predicted', y: 'measured', fill: PALETTE[0], r: 3 }),
            ...legend(P, '', [{ label: 'judged coordinate', color: PALETTE[0], kind: 'dot' }, { label: 'not judged', color: '#aaa', kind: 'dot' }, { label: 'y = x', color: '#b00' }])] } },
        { caption: 'n > d: aggregate ratio per step; dashed: 1 − η/λ_max(XᵀX) (the bound), dotted: (1 − η·min hᵢ)².', options: {
          x: stepAxis(num(s.tall, 'step')), y: { label: 'per-step ‖r‖² ratio', grid: true, domain: cover(num(s.tall, 'ratio'), [bound, firstOrder]) },
          marks: [P.ruleY([bound], { strokeDasharray: '4 3', stroke: '#b00' }), P.ruleY([firstOrder], { strokeDasharray: '1 3', stroke: '#555' }), P.line(s.tall, { x: 'step', y: 'ratio', marker: 'circle', stroke: PALETTE[0] }),
            ...legend(P, '', [{ label: 'K-FAC ratio', color: PALETTE[0] }, { label: 'bound 1 − η/λ_max(XᵀX)', color: '#b00', kind: 'dashed' }, { label: '(1 − η·min hᵢ)²', color: '#555', kind: 'dashed' }])] } },
        { caption: 'd ≥ n: per-step ratio of K-FAC (paper preset) and exact NGD.', options: {
          x: stepAxis(num(s.wide, 'step')), y: { label: 'per-step ‖r‖² ratio', grid: true }, color: methods.scale,
          marks: [P.line(s.wide, { x: 'step', y: 'ratio', stroke: 'method', marker: 'circle' }), ...legend(P, '', methods.items)] } },
      ];
    }
    case 'E8': {
      const gaps = namedColors(['NGD vs GD', 'kernel vs GD'], [PALETTE[1], PALETTE[4]]);
      const preds = namedColors(['GD', 'NGD', 'kernel', 'init'], [PALETTE[0], PALETTE[1], PALETTE[4], '#bbb']);
      return [
        { caption: 'Relative gap on held-out inputs between the functions NGD and GD converge to (and kernel predictor vs GD), against width.', options: {
          x: logX('width m (hidden units)'), y: { type: 'log', tickFormat: '~g', label: '‖f_A − f_GD‖ / ‖f_GD − f₀‖ on test inputs', grid: true }, color: gaps.scale,
          marks: [P.line(s.widths, { x: 'm', y: 'gap', stroke: () => 'NGD vs GD', marker: 'circle' }), P.line(s.widths, { x: 'm', y: 'gapKernel', stroke: () => 'kernel vs GD', marker: 'circle' }),
            ...legend(P, '', gaps.items)] } },
        { caption: 'Test predictions at the largest width (first 24 held-out inputs): GD, NGD, the kernel predictor and the initial net.', options: {
          x: stepAxis(num(s.predictions, 'input'), 'held-out input'), y: { label: 'f(x)', grid: true }, color: preds.scale,
          symbol: { domain: ['GD', 'NGD', 'kernel', 'init'], range: ['circle', 'cross', 'diamond', 'square'] },
          marks: [P.dot(s.predictions, { x: 'input', y: 'value', stroke: 'method', symbol: 'method', r: 3.5 }), ...legend(P, '', preds.items.map((i, k) => ({ ...i, kind: (['circle', 'cross', 'diamond', 'square'] as const)[k], hollow: true })))] } },
      ];
    }
    case 'F1': return f1Figures(P, r, s);
    default: return [];
  }
}

/**
 * Figure 1: each drawn example's NGD and GD output path, its start and its target; each target labelled with
 * its digit on the far side from the incoming path, so no label sits on a trajectory.
 */
function f1Figures(P: PlotModule, r: ExperimentResult, s: Record<string, Series>): Figure[] {
  const methods = namedColors(['NGD', 'GD'], [PALETTE[1], PALETTE[0]]);
  const starts = s.paths.filter((d) => d.step === 0 && d.method === 'NGD');
  const xs = [...num(s.paths, 'u1'), ...num(s.targets, 'y1')], ys = [...num(s.paths, 'u2'), ...num(s.targets, 'y2')];
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const labels = s.targets.map((t) => {
    const start = starts.find((d) => d.example === t.example)!;
    const dx = (t.y1 as number) - (start.u1 as number), dy = (t.y2 as number) - (start.u2 as number), len = Math.hypot(dx, dy) || 1;
    return { x: (t.y1 as number) + 0.045 * span * dx / len, y: (t.y2 as number) + 0.045 * span * dy / len, text: String(t.digit) };
  });
  const sum = r.summary as Record<string, number>;
  const gdNote = sum.gdReached > sum.goal
    ? `GD stopped at its step cap (${sum.gdSteps} steps) short of NGD's final loss: see the notes`
    : `GD (η = 1/λ_max) run to the same loss as NGD (${sum.gdSteps} steps against NGD's ${sum.ngdSteps})`;
  return [
    { caption: `Output space of ${s.targets.length} MNIST examples (two outputs, one per class; each target ★ labelled with its digit: a 4's target lies near (0.5, −0.5), a 9's near (−0.5, 0.5)). NGD (η = ${(r.config as Record<string, unknown>).ngdLr}) goes straight from each start (●) to its target; ${gdNote}, curving.`, options: {
      x: { label: 'output 1 (the “4” output)' }, y: { label: 'output 2 (the “9” output)', grid: true }, aspectRatio: 1, height: undefined, color: methods.scale,
      marks: [P.line(s.paths, { x: 'u1', y: 'u2', stroke: 'method', z: (d: { method: string; example: number }) => `${d.method}${d.example}`, strokeWidth: 1.5 }),
        P.dot(starts, { x: 'u1', y: 'u2', fill: '#333', r: 2.5 }),
        P.dot(s.targets, { x: 'y1', y: 'y2', symbol: 'star', fill: '#b00', r: 6 }),
        P.text(labels, { x: 'x', y: 'y', text: 'text', fill: '#b00', fontWeight: 'bold', fontSize: 13 }),
        ...legend(P, '', [...methods.items, { label: 'start', color: '#333', kind: 'dot' }, { label: 'target (its digit beside it)', color: '#b00', kind: 'star' }])] } },
  ];
}

function table(results: Results): string {
  return `<table class="summary"><thead><tr><th>id</th><th>claim</th><th>expected</th><th>measured</th><th>verdict</th><th>seconds</th></tr></thead><tbody>
${results.experiments.map((e) => `<tr><td><a href="#${e.id}">${e.id}</a></td><td>${esc(e.title)}</td><td>${esc(e.expected)}</td><td>${esc(e.measuredText)}</td><td>${badge(e)}</td><td>${e.seconds.toFixed(1)}</td></tr>`).join('\n')}
</tbody></table>`;
}

/** The verdict badge: PASS, FAIL, or "outside the theorem's regime" with the reason as its title. */
const badge = (r: ExperimentResult) => (r.verdict === 'OUTSIDE'
  ? `<span class="badge outside" title="${esc(r.verdictText)}">outside the theorem's regime</span>`
  : `<span class="badge ${r.verdict === 'PASS' ? 'pass' : 'fail'}">${r.verdict}</span>`);

/** A check's own result; outside the regime a failed check is shown as not judged. */
const checkBadge = (pass: boolean, outside: boolean) => (pass
  ? '<span class="badge pass">pass</span>'
  : `<span class="badge ${outside ? 'outside' : 'fail'}">${outside ? 'fail (not judged: outside the regime)' : 'fail'}</span>`);

const CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-top:1px solid #ddd;padding-top:1em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.badge{font-weight:700;padding:.1em .5em;border-radius:3px;color:#fff}.pass{background:#2a7d3c}.fail{background:#b3261e}.outside{background:#7a6a2a}
.regime{padding:.3em .6em;border-left:4px solid #2a7d3c;background:#f3f8f3}.regime.outside{border-color:#b08a00;background:#fbf7e6}
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

/** A rendered experiment section and its figures. */
interface Section { html: string; figures: FigureFile[] }

/**
 * Renders the report as experiments finish: each experiment's section (and its figures as standalone SVGs,
 * named ID-k.svg) is rendered once, the page around them every time. Plot and linkedom are loaded here only
 * (report-only dependencies).
 */
export class ReportWriter {
  private readonly done = new Map<string, Section>();

  private constructor(private readonly P: PlotModule, private readonly document: Document) {}

  static async create(): Promise<ReportWriter> {
    const P: PlotModule = await import('@observablehq/plot');
    const { parseHTML } = await import('linkedom');
    const { document } = parseHTML('<!doctype html><html><head></head><body></body></html>');
    return new ReportWriter(P, document as unknown as Document);
  }

  /** The page for `results` so far, and the figures of the experiments rendered for the first time. */
  render(results: Results): { html: string; figures: FigureFile[]; newFigures: FigureFile[] } {
    const newFigures: FigureFile[] = [];
    for (const r of results.experiments) {
      if (this.done.has(r.id)) continue;
      const s = section(this.P, this.document, r);
      this.done.set(r.id, s);
      newFigures.push(...s.figures);
    }
    const sections = results.experiments.map((r) => this.done.get(r.id)!);
    return { html: page(results, sections.map((s) => s.html).join('\n')), figures: sections.flatMap((s) => s.figures), newFigures };
  }
}

/** Renders the whole report at once (and every figure as a standalone SVG, named ID-k.svg). */
export async function renderReport(results: Results): Promise<{ html: string; figures: FigureFile[] }> {
  const { html, figures } = (await ReportWriter.create()).render(results);
  return { html, figures };
}

function section(P: PlotModule, document: Document, r: ExperimentResult): Section {
  const files: FigureFile[] = [];
  const figs = figures(P, r).map((f, k) => {
    const el = P.plot({ document, width: 760, height: 360, marginLeft: 60, marginTop: MARGIN_TOP, style: { fontSize: '12px' }, ...f.options } as Parameters<PlotModule['plot']>[0]);
    const html = `<figure>${(el as unknown as { outerHTML: string }).outerHTML}<figcaption>${esc(f.caption)}</figcaption></figure>`;
    files.push({ name: `${r.id}-${k + 1}.svg`, svg: standalone(el as unknown as Element) });
    return html;
  }).join('\n');
  const regime = r.regime
    ? `<p class="regime ${r.regime.inside ? 'inside' : 'outside'}"><b>Regime:</b> ${r.regime.inside ? 'inside the theorem\'s regime' : 'outside the theorem\'s regime'} — ${esc(r.regime.why)}.</p>`
    : '';
  const ignored = r.ignored.length
    ? `<p class="env">Flags this experiment ignores: ${r.ignored.map((k) => `--${k} (${esc(r.ignoredWhy[k] ?? '')})`).join('; ')}.</p>`
    : '';
  const html = `<section id="${r.id}" class="experiment">
<h2>${r.id} — ${esc(r.title)} ${badge(r)}</h2>
<p>${esc(r.claim)}</p>
<p class="formula">${esc(r.formula)}</p>
<p><b>Expected:</b> ${esc(r.expected)} — <b>measured:</b> ${esc(r.measuredText)} (${r.seconds.toFixed(1)} s)<br><b>Tolerance:</b> ${esc(r.tolerance)}</p>
${regime}
${figs}
<table><thead><tr><th>check</th><th>expected</th><th>measured</th><th>result</th></tr></thead><tbody>
${r.checks.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.expected)}</td><td>${esc(c.measured)}</td><td>${checkBadge(c.pass, r.verdict === 'OUTSIDE')}</td></tr>`).join('\n')}
</tbody></table>
<h3>Measured</h3><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<h3>Settings that ran (chosen where the paper is silent)</h3><ul>${r.choices.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
${ignored}
<details><summary>config</summary><pre>${esc(JSON.stringify(r.config, null, 1))}</pre></details>
</section>`;
  return { html, figures: files };
}

function page(results: Results, sections: string): string {
  const env = results.env;
  const flags = (['n', 'd', 'm', 'seed'] as const).filter((k) => results.config[k] !== undefined).map((k) => ` · --${k} ${results.config[k]}`).join('');
  const pending = results.config.only.filter((id) => !results.experiments.some((e) => e.id === id));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>natgrad reproduce — Zhang, Martens &amp; Grosse (2019)</title><style>${CSS}</style></head>
<body>
<h1>natgrad reproduce</h1>
<p>The checkable predictions of <i>Fast Convergence of Natural Gradient Descent for Overparameterized Neural Networks</i>
(Zhang, Martens, Grosse, NeurIPS 2019), measured: <b>${esc(tally(results))}</b>.</p>
${results.complete ? '' : `<p class="regime outside"><b>Incomplete:</b> ${pending.length ? `${esc(pending.join(', '))} did not finish (still running, or the run stopped)` : 'the run stopped before it was marked complete'}.</p>`}
<p class="env">natgrad ${esc(results.version)} · Node ${esc(env.node)} · ${esc(env.cpu)} · backend ${esc(env.backend)}${env.simd ? ' (WASM SIMD)' : ''} · ${esc(env.platform)} · ${esc(env.date)} · ${results.config.quick ? 'quick' : 'full'} mode · ${results.seconds.toFixed(1)} s${flags}</p>
${table(results)}
<p class="env">Methods: the paper's raw ones everywhere — exact NGD (Eq. 3) and K-FAC (the kfacPaper preset) with a fixed step and damping and the divergence guard OFF (a step that raises the loss is kept and measured), and plain gradient descent. Ratios are ‖r_{k+1}‖²/‖r_k‖² of the residual r = u − y on the training inputs (loss ½‖r‖²), measured only while ‖r_k‖² ≥ 1e-20·‖r₀‖²: below that the residual is at the float64 floor (about 1e-11 relative) and its ratios are round-off.</p>
<p class="env">Regime: Theorem 1 needs the weights to stay where the Jacobian is stable, for this net a width m = Ω(n⁴/(ν²λ₀⁴δ³)) with unstated constants. Each experiment measures at θ₀, before training, λ₀ = λ_min(G), λ_max(G) and the displacement D = √(r₀ᵀG₀⁻¹r₀) ≤ ‖r₀‖/√λ₀ its path needs; from them and the width, the fraction of ReLUs expected to flip on the way, ρ = √(2/π)·D/(ν√m), and the Gram's expected drift against the curvature the residual sees, ξ = ρ·λ_max/λ_eff with λ_eff = ‖r₀‖²/D². Above the bounds on ρ and ξ each experiment states (calibrated where its tolerance held), the verdict is "outside the theorem's regime", not PASS or FAIL, and --check does not count it as a failure.</p>
${sections}
</body></html>
`;
}
