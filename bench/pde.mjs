// `node --expose-gc bench/pde.mjs [--problems poisson2,poisson5,heat,nonlinear] [--seeds 0,1,2]
//   [--other-seeds 0,1,2] [--optimizers engd,adam,lbfgs,gd] [--adam-lrs 1e-3,3e-3,1e-2,3e-2] [--gd-lrs 1e-3,3e-3,1e-2]
//   [--budget seconds]`: relative L² error
// against time of ENGD, Adam, L-BFGS and GD on the PDE problems of Müller & Zeinhofer (ICML 2023),
// one thread. Writes bench/results/pde-<problem>.json, pde-<problems>.md and one SVG per problem
// (error against time, log scale, drawn with Observable Plot as the reproduction report draws its
// figures). Reads dist/esm.
//
// Time is the process's CPU time spent in the steps (error evaluations excluded): on a shared machine
// wall time measures the load as much as the method, and on one idle thread the two agree. Wall
// seconds of each run are reported beside it. ENGD runs its iterations (as the CLI: 100; 150 for the
// nonlinear problem; heat see PROBLEMS) on --seeds; every other method runs, on --other-seeds (default
// --seeds), for the CPU time ENGD took on that seed (or --budget seconds). Adam's learning rate is
// and GD's learning rates are tuned on the first seed over --adam-lrs and --gd-lrs (the best final
// error is kept; one value: no tuning; a run whose loss overflows is reported as diverged) before the seeds
// run. Poisson 2-D also reports ENGD's time to a relative L² error ≤ 1e-5 and tuned Adam's error
// at that time (the issue's acceptance: ≥ 100× worse).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { init, mlp } = await import(join(ROOT, 'dist/esm/index.js'));
const { poisson, heat, nonlinearPoisson, solvePde } = await import(join(ROOT, 'dist/esm/advanced.js'));

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const list = (v, d) => (v ? String(v).split(',') : d);
const PROBLEMS = {
  poisson2: { make: (seed) => poisson({ dim: 2, seed }), sizes: [2, 32, 1], iterations: 100, label: 'Poisson 2-D' },
  poisson5: { make: (seed) => poisson({ dim: 5, seed }), sizes: [5, 64, 1], iterations: 100, label: 'Poisson 5-D' },
  heat: { make: (seed) => heat({ seed }), sizes: [2, 32, 1], iterations: 800, engd: { damping: 1e-8 }, label: 'heat (1-D + time)' },
  nonlinear: { make: (seed) => nonlinearPoisson({ seed }), sizes: [2, 32, 1], iterations: 150, label: '−Δu + u³ = f' },
};
const problems = list(args.problems, Object.keys(PROBLEMS));
const seeds = list(args.seeds, ['0', '1', '2']).map(Number);
const otherSeeds = list(args['other-seeds'], seeds.map(String)).map(Number);
const optimizers = list(args.optimizers, ['engd', 'adam', 'lbfgs', 'gd']);
const budget = args.budget ? Number(args.budget) * 1000 : undefined;
const adamLrs = list(args['adam-lrs'], ['1e-3', '3e-3', '1e-2', '3e-2']).map(Number);
const gdLrs = list(args['gd-lrs'], ['1e-3', '3e-3', '1e-2']).map(Number);
const log = (s) => process.stderr.write(`${s}\n`);

await init({ backend: 'wasm', threads: 1 });
const env = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadStart: loadavg()[0], date: new Date().toISOString() };
/** The process's CPU time in milliseconds: the clock of the budgets and of the traces. */
const cpuClock = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

function run(spec, seed, optimizer, options) {
  const problem = spec.make(seed);
  const net = mlp({ sizes: spec.sizes, activation: 'tanh', init: 'glorot', seed });
  const trace = [];
  const wall0 = performance.now();
  let last, diverged;
  try {
    const history = solvePde(net, problem, {
      optimizer, evaluateEvery: optimizer === 'engd' || optimizer === 'lbfgs' ? 2 : 50, evaluation: { points: 10000 }, clock: cpuClock, ...options,
      onIteration: (r) => { last = r; if (r.errors) trace.push({ t: r.timeMs / 1000, l2: r.errors.l2, h1: r.errors.h1, it: r.iteration }); },
    });
    last = history[history.length - 1];
  } catch (e) {
    // A first-order run whose loss overflows (GD with too large a step) ends there: reported as diverged.
    diverged = `${e.name} after iteration ${last?.iteration ?? 0}`;
  }
  const wallSeconds = (performance.now() - wall0) / 1000;
  net.dispose();
  problem.dispose();
  // cpuSeconds: the steps' CPU time (the budget's clock); wallSeconds: the whole run, evaluations and waiting for a core included.
  const errors = diverged ? { l2: Infinity, h1: Infinity } : last.errors;
  return { seed, optimizer, iterations: last?.iteration ?? 0, cpuSeconds: (last?.timeMs ?? 0) / 1000, wallSeconds, l2: errors.l2, h1: errors.h1, loss: last?.loss, trace, ...(diverged ? { diverged } : {}) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const name of problems) {
  const spec = PROBLEMS[name];
  const runs = [];
  const lrs = { adam: adamLrs, gd: gdLrs }, chosen = {};
  for (const seed of [...new Set([...seeds, ...otherSeeds])]) {
    const engdRun = optimizers.includes('engd') ? run(spec, seed, 'engd', { iterations: spec.iterations, engd: spec.engd }) : undefined;
    if (engdRun && seeds.includes(seed)) { runs.push(engdRun); log(`${name} seed ${seed} engd: L2 ${engdRun.l2.toExponential(2)} in ${engdRun.cpuSeconds.toFixed(1)} CPU s`); }
    if (!otherSeeds.includes(seed)) continue;
    const limit = budget ?? (engdRun ? engdRun.cpuSeconds * 1000 : 10000);
    for (const opt of optimizers.filter((o) => o !== 'engd')) {
      // Adam's and GD's learning rates: tuned on the first seed over their list (one value: taken as is).
      if (lrs[opt] && chosen[opt] === undefined) {
        if (lrs[opt].length === 1) chosen[opt] = lrs[opt][0];
        else {
          let best;
          for (const lr of lrs[opt]) {
            const r = run(spec, seed, opt, { iterations: 1e7, timeLimitMs: limit, lr });
            log(`${name} tune ${opt} lr ${lr}: L2 ${r.diverged ?? r.l2.toExponential(2)}`);
            if (!best || r.l2 < best.l2) { best = r; chosen[opt] = lr; }
          }
        }
      }
      const r = run(spec, seed, opt, { iterations: 1e7, timeLimitMs: limit, ...(lrs[opt] ? { lr: chosen[opt] } : {}) });
      runs.push({ ...r, ...(lrs[opt] ? { lr: chosen[opt] } : {}) });
      log(`${name} seed ${seed} ${opt}: L2 ${r.diverged ?? r.l2.toExponential(2)} after ${r.iterations} iterations, ${r.cpuSeconds.toFixed(1)} CPU s`);
    }
  }
  results[name] = { label: spec.label, sizes: spec.sizes, adamLr: chosen.adam, gdLr: chosen.gd, runs };
}
env.loadEnd = loadavg()[0];

const rows = [];
for (const [name, r] of Object.entries(results)) {
  for (const opt of optimizers) {
    const rs = r.runs.filter((x) => x.optimizer === opt);
    if (!rs.length) continue;
    rs.sort((a, b) => a.l2 - b.l2);
    rows.push(`| ${r.label} | ${opt}${opt === 'adam' ? ` (lr ${r.adamLr})` : opt === 'gd' ? ` (lr ${r.gdLr})` : ''} | ${median(rs.map((x) => x.l2)).toExponential(2)} | ${median(rs.map((x) => x.h1)).toExponential(2)} | `
      + `${median(rs.map((x) => x.iterations))} | ${median(rs.map((x) => x.cpuSeconds)).toFixed(2)} | ${median(rs.map((x) => x.wallSeconds)).toFixed(2)} | ${rs.map((x) => (x.diverged ? "diverged" : x.l2.toExponential(1))).join(', ')} |`);
  }
}

// Poisson 2-D: ENGD's CPU time to a relative L² error ≤ 1e-5, and tuned Adam's error at that time (its last evaluation before it).
const targetLines = [];
if (results.poisson2) {
  for (const e of results.poisson2.runs.filter((x) => x.optimizer === 'engd')) {
    const hit = e.trace.find((p) => p.l2 <= 1e-5);
    const adamRun = results.poisson2.runs.find((x) => x.optimizer === 'adam' && x.seed === e.seed);
    const at = hit && adamRun ? adamRun.trace.filter((p) => p.t <= hit.t).pop() : undefined;
    targetLines.push(`| ${e.seed} | ${hit ? `${hit.t.toFixed(2)} (iteration ${hit.it})` : 'not reached'} | ${hit ? hit.l2.toExponential(1) : '–'} | `
      + `${at ? `${at.l2.toExponential(2)} (iteration ${at.it})` : '–'} | ${at ? `${(at.l2 / 1e-5).toExponential(1)}` : '–'} |`);
  }
}
const md = `# PDE problems: relative error against time (bench/pde.mjs)

Node ${env.node} · ${env.cpu} (${env.cores} cores; one thread used) · load average ${env.loadStart.toFixed(2)} at start, ${env.loadEnd.toFixed(2)} at the end · ${env.date}.
The machine is shared: times are the steps' CPU seconds (error evaluations excluded), the clock of every budget; wall seconds (the whole run, evaluations and waiting for a core included) are beside them.

ENGD: seeds ${seeds.join(', ')}, its iterations; the other methods: seeds ${otherSeeds.join(', ')}, each for ${budget ? `${budget / 1000} CPU s (--budget)` : 'the CPU time ENGD took on that seed'}; learning rates tuned on seed ${otherSeeds[0]}: Adam over ${adamLrs.join(', ')}, GD over ${gdLrs.join(', ')} (one value: not tuned).
Medians over the seeds of each row. Errors are relative L² and H¹ against the exact solution on 10 000 uniform points independent of the training points.

| problem | optimizer | rel. L² (median) | rel. H¹ (median) | iterations | CPU s | wall s | rel. L² per seed (sorted) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
${targetLines.length ? `
Poisson 2-D: ENGD's CPU time to a relative L² error ≤ 1e-5 (errors evaluated every 2 iterations), and tuned Adam's error at that CPU time on the same seed (its last evaluation, every 50 iterations, before it).

| seed | ENGD CPU s to ≤ 1e-5 | ENGD rel. L² there | Adam rel. L² at that time | Adam / 1e-5 |
|---|---|---|---|---|
${targetLines.join('\n')}
` : ''}`;
const outDir = join(ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `pde-${problems.join('-')}.md`), md);
for (const [name, r] of Object.entries(results)) writeFileSync(join(outDir, `pde-${name}.json`), JSON.stringify({ env, seeds, otherSeeds, optimizers, ...r }, null, 1));
process.stdout.write(md);

const COLORS = { engd: '#d9822b', adam: '#1f5fa8', lbfgs: '#2a7d3c', gd: '#888888' };

// Figures: error against time, one line per optimizer and seed (Observable Plot, as the reproduction report).
try {
  const P = await import('@observablehq/plot');
  const { parseHTML } = await import('linkedom');
  const { document } = parseHTML('<!doctype html><html><head></head><body></body></html>');
  for (const [name, r] of Object.entries(results)) {
    const data = r.runs.flatMap((x) => x.trace.map((p) => ({ ...p, method: x.optimizer, run: `${x.optimizer}${x.seed}` })));
    const el = P.plot({
      document, width: 760, height: 360, marginLeft: 60, style: { fontSize: '12px' },
      x: { label: 'CPU time of the steps (s, one thread)' }, y: { type: 'log', label: 'relative L² error' },
      color: { domain: Object.keys(COLORS), range: Object.values(COLORS) },
      marks: [
        P.line(data, { x: 't', y: 'l2', stroke: 'method', z: 'run', strokeWidth: 1.5 }),
        P.text([`${r.label}: relative L² error against time, one line per seed`], { frameAnchor: 'top', dy: 4, fontSize: 13 }),
        ...Object.entries(COLORS).filter(([m]) => optimizers.includes(m))
          .map(([m, c], k) => P.text([m], { frameAnchor: 'top-right', fill: c, fontSize: 13, dx: -4, dy: 22 + 18 * k })),
      ],
    });
    const svg = el.tagName.toLowerCase() === 'svg' ? el : el.querySelector('svg[class^="plot"]') ?? el.querySelector('svg:last-of-type');
    svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
    svg.setAttribute('style', 'background: white');
    writeFileSync(join(outDir, `pde-${name}.svg`), `<?xml version="1.0" encoding="utf-8"?>\n${svg.outerHTML}\n`);
  }
} catch (e) {
  log(`figures skipped: ${e.message}`);
}
