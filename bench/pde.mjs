// `node --expose-gc bench/pde.mjs [--problems poisson2,poisson5,heat,nonlinear] [--seeds 0,1,2]
//   [--optimizers engd,adam,lbfgs,gd] [--budget seconds]`: relative L² error against wall time of
// ENGD, Adam, L-BFGS and GD on the PDE problems of Müller & Zeinhofer (ICML 2023), one thread.
// Writes bench/results/pde.md, pde.json and one SVG per problem (error against time, log scale,
// drawn with Observable Plot as the reproduction report draws its figures). Reads dist/esm.
//
// ENGD runs its iterations (100; 150 for the nonlinear problem, 300 with λ ≥ 1e-8 for heat, as the CLI); every other method runs for the same wall time
// ENGD took on that seed (or --budget seconds). Adam's learning rate is tuned on seed 0 over
// 1e-3, 3e-3, 1e-2, 3e-2 (the best final error is kept) before the seeds run.
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
  heat: { make: (seed) => heat({ seed }), sizes: [2, 32, 1], iterations: 300, engd: { damping: 1e-8 }, label: 'heat (1-D + time)' },
  nonlinear: { make: (seed) => nonlinearPoisson({ seed }), sizes: [2, 32, 1], iterations: 150, label: '−Δu + u³ = f' },
};
const problems = list(args.problems, Object.keys(PROBLEMS));
const seeds = list(args.seeds, ['0', '1', '2']).map(Number);
const optimizers = list(args.optimizers, ['engd', 'adam', 'lbfgs', 'gd']);
const budget = args.budget ? Number(args.budget) * 1000 : undefined;
const log = (s) => process.stderr.write(`${s}\n`);

await init({ backend: 'wasm', threads: 1 });
const env = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadStart: loadavg()[0], date: new Date().toISOString() };

function run(spec, seed, optimizer, options) {
  const problem = spec.make(seed);
  const net = mlp({ sizes: spec.sizes, activation: 'tanh', init: 'glorot', seed });
  const trace = [];
  const cpu0 = process.cpuUsage();
  const history = solvePde(net, problem, {
    optimizer, evaluateEvery: optimizer === 'engd' || optimizer === 'lbfgs' ? 5 : 50, evaluation: { points: 10000 }, ...options,
    onIteration: (r) => { if (r.errors) trace.push({ t: r.timeMs / 1000, l2: r.errors.l2, h1: r.errors.h1, it: r.iteration }); },
  });
  const last = history[history.length - 1];
  const cpu = process.cpuUsage(cpu0);
  net.dispose();
  problem.dispose();
  // CPU seconds of this process (evaluations included): on a shared machine, what the run cost apart from waiting.
  return { seed, optimizer, iterations: last.iteration, seconds: last.timeMs / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, l2: last.errors.l2, h1: last.errors.h1, loss: last.loss, trace };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const name of problems) {
  const spec = PROBLEMS[name];
  const runs = [];
  let adamLr = 1e-3;
  for (const seed of seeds) {
    const engdRun = optimizers.includes('engd') ? run(spec, seed, 'engd', { iterations: spec.iterations, engd: spec.engd }) : undefined;
    if (engdRun) { runs.push(engdRun); log(`${name} seed ${seed} engd: L2 ${engdRun.l2.toExponential(2)} in ${engdRun.seconds.toFixed(1)} s`); }
    const limit = budget ?? (engdRun ? engdRun.seconds * 1000 : 10000);
    for (const opt of optimizers.filter((o) => o !== 'engd')) {
      if (opt === 'adam' && seed === seeds[0]) {
        let best;
        for (const lr of [1e-3, 3e-3, 1e-2, 3e-2]) {
          const r = run(spec, seed, 'adam', { iterations: 1e7, timeLimitMs: limit, lr });
          log(`${name} tune adam lr ${lr}: L2 ${r.l2.toExponential(2)}`);
          if (!best || r.l2 < best.l2) { best = r; adamLr = lr; }
        }
      }
      const r = run(spec, seed, opt, { iterations: 1e7, timeLimitMs: limit, ...(opt === 'adam' ? { lr: adamLr } : {}) });
      runs.push({ ...r, ...(opt === 'adam' ? { lr: adamLr } : {}) });
      log(`${name} seed ${seed} ${opt}: L2 ${r.l2.toExponential(2)} after ${r.iterations} iterations, ${r.seconds.toFixed(1)} s`);
    }
  }
  results[name] = { label: spec.label, sizes: spec.sizes, adamLr, runs };
}
env.loadEnd = loadavg()[0];

const rows = [];
for (const [name, r] of Object.entries(results)) {
  for (const opt of optimizers) {
    const rs = r.runs.filter((x) => x.optimizer === opt);
    if (!rs.length) continue;
    rs.sort((a, b) => a.l2 - b.l2);
    rows.push(`| ${r.label} | ${opt}${opt === 'adam' ? ` (lr ${r.adamLr})` : ''} | ${median(rs.map((x) => x.l2)).toExponential(2)} | ${median(rs.map((x) => x.h1)).toExponential(2)} | `
      + `${median(rs.map((x) => x.iterations))} | ${median(rs.map((x) => x.seconds)).toFixed(2)} | ${median(rs.map((x) => x.cpuSeconds)).toFixed(2)} | ${rs.map((x) => x.l2.toExponential(1)).join(', ')} |`);
  }
}
const md = `# PDE problems: relative error against wall time (bench/pde.mjs)

Node ${env.node} · ${env.cpu} (${env.cores} cores; one thread used) · load average ${env.loadStart.toFixed(2)} at start, ${env.loadEnd.toFixed(2)} at the end · ${env.date}.
The machine is shared: wall times are under that load; CPU seconds (this process, error evaluations included) are what the runs cost apart from waiting for a core.

Medians over seeds ${seeds.join(', ')}; ENGD runs its iterations, the other methods the same wall time as ENGD on that seed.
Errors are relative L² and H¹ against the exact solution on 10 000 uniform points independent of the training points.

| problem | optimizer | rel. L² (median) | rel. H¹ (median) | iterations | wall s | CPU s | rel. L² per seed (sorted) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
const outDir = join(ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'pde.md'), md);
writeFileSync(join(outDir, 'pde.json'), JSON.stringify({ env, results }, null, 1));
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
      x: { label: 'wall time (s)' }, y: { type: 'log', label: 'relative L² error' },
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
