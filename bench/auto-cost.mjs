// The cost model behind `optimizer: 'auto'` (src/fit.ts, chooseOptimizer): times exact NGD steps
// (Gram form, adaptive damping, cross-entropy) over a grid of batch rows m = rows × outputs and parameter
// counts P on MLPs like the CLI's, and fits  seconds ≈ a·m²·P + b·m³ (a, b ≥ 0) by least squares in relative
// error on the fastest of 5 steps (the least disturbed by other load on a shared machine).
// Prints the fitted a and b (NGD_GRAM_S, NGD_SOLVE_S) with the data, Node version and load average.
//
//   npm run build && node --expose-gc bench/auto-cost.mjs
import { cpus, loadavg } from 'node:os';
import { init, mlp, ngd } from '../dist/esm/index.js';

await init();
const grid = [];
for (const [rows, classes, d, h] of [[100, 3, 10, 32], [200, 3, 10, 32], [300, 3, 30, 32], [150, 10, 64, 32], [400, 2, 30, 32],
  [250, 3, 13, 64], [600, 2, 30, 32], [120, 10, 64, 64], [800, 1, 20, 32]]) {
  const net = mlp({ sizes: [d, h, classes], seed: 1 });
  const X = Float64Array.from({ length: rows * d }, (_, i) => Math.sin(i * 0.37));
  const Y = Float64Array.from({ length: rows }, (_, i) => i % classes);
  const opt = ngd({ damping: 1e-3, adaptive: true });
  const data = { X, Y, n: rows };
  const loss = classes > 1 ? 'cross-entropy' : 'squared-error';
  if (classes === 1) data.Y = Float64Array.from({ length: rows }, (_, i) => Math.cos(i));
  opt.step(net, data, { loss });
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    opt.step(net, data, { loss });
    times.push((performance.now() - t0) / 1e3);
  }
  times.sort((a, b) => a - b);
  const m = rows * classes, P = net.numParams;
  grid.push({ rows, outputs: classes, m, P, seconds: times[0], median: times[2] });
  console.error(`m ${m} P ${P}: ${(times[2] * 1e3).toFixed(1)} ms (min ${(times[0] * 1e3).toFixed(1)})`);
  opt.dispose();
  net.dispose();
}
// Non-negative least squares in relative error on the two features (a coefficient that comes out
// negative is dropped and the other refitted alone).
const fitTwo = (use1, use2) => {
  let s11 = 0, s12 = 0, s22 = 0, t1 = 0, t2 = 0;
  for (const g of grid) {
    const w = 1 / g.seconds ** 2, f1 = use1 ? g.m ** 2 * g.P : 0, f2 = use2 ? g.m ** 3 : 0;
    s11 += w * f1 * f1; s12 += w * f1 * f2; s22 += w * f2 * f2; t1 += w * f1 * g.seconds; t2 += w * f2 * g.seconds;
  }
  if (!use1) return [0, t2 / s22];
  if (!use2) return [t1 / s11, 0];
  const det = s11 * s22 - s12 * s12;
  return [(t1 * s22 - t2 * s12) / det, (s11 * t2 - s12 * t1) / det];
};
let [a, b] = fitTwo(true, true);
if (a < 0) [a, b] = fitTwo(false, true);
else if (b < 0) [a, b] = fitTwo(true, false);
for (const g of grid) g.model = a * g.m ** 2 * g.P + b * g.m ** 3;
console.log(JSON.stringify({ node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg(), NGD_GRAM_S: a, NGD_SOLVE_S: b, grid }, null, 1));
