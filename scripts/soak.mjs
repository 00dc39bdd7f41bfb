// `npm run soak [-- --steps 10000 --every 1000 --backend wasm]`: long runs with flat memory (issue 8, item 4).
// Trains one net per optimizer — ngd (adaptive damping), kfac (defaults: the divergence guard on) and adam —
// for `steps` mini-batch steps each and prints, every `every` steps, the recent loss, the backend's WASM (or
// JS-heap-backed) memory, the JS heap after a full GC, and the backend's live allocation count. Ends with the
// growth of each between the first sample (after warm-up) and the last, and exits non-zero if memory grew.
// Not part of `npm test` (test/soak.test.ts runs a shorter version and asserts flatness).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';

const ROOT = new URL('..', import.meta.url).pathname;
if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('dist/ is missing: run `npm run build` first (npm run soak does)');
const ng = await import(`${ROOT}dist/esm/index.js`);

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10000' },
    every: { type: 'string', default: '1000' },
    backend: { type: 'string', default: 'wasm' },
    only: { type: 'string' },
  },
});
const steps = Number(values.steps), every = Number(values.every);
if (!Number.isSafeInteger(steps) || steps < every || !Number.isSafeInteger(every) || every < 1) throw new Error('--steps and --every must be integers, steps ≥ every ≥ 1');
if (!globalThis.gc) throw new Error('run with node --expose-gc (npm run soak does): the heap figures need a full GC');

await ng.init({ backend: values.backend });
const k = ng.kernels();
let live = 0;
const alloc = k.alloc.bind(k), free = k.free.bind(k);
k.alloc = (count) => { const p = alloc(count); live++; return p; };
k.free = (p) => { free(p); if (p !== 0) live--; };

// Data: n = 2048 regression examples, y = sin(x·w) + noise, d = 16; mini-batches of 64.
const n = 2048, d = 16, batchSize = 64;
let seed = 12345;
const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
const X = Float64Array.from({ length: n * d }, normal);
const w = Float64Array.from({ length: d }, normal);
const Y = Float64Array.from({ length: n }, (_, i) => {
  let s = 0;
  for (let j = 0; j < d; j++) s += X[i * d + j] * w[j];
  return Math.sin(s / Math.sqrt(d)) + 0.05 * normal();
});

const runs = [
  { name: 'ngd (adaptive)', make: () => ng.ngd({ damping: 1e-2, adaptive: true }) },
  { name: 'kfac', make: () => ng.kfac({ lr: 0.1, damping: 1e-2, adaptive: false }) },
  { name: 'adam', make: () => ng.adam({ lr: 1e-3 }) },
].filter((r) => !values.only || r.name.startsWith(values.only));

const mib = (bytes) => (bytes / 2 ** 20).toFixed(2);
console.log(`natgrad soak: ${steps} steps per optimizer, mini-batches of ${batchSize} from n = ${n}, net mlp [${d}, 128, 128, 1]`);
console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), backend ${k.backend}`);
let grew = false;
const summary = [];
for (const run of runs) {
  const net = ng.mlp({ sizes: [d, 128, 128, 1], activation: 'tanh', seed: 1 });
  const opt = run.make();
  const samples = [];
  const started = performance.now();
  let done = 0, lossSum = 0, lossCount = 0;
  console.log(`\n## ${run.name}\n| step | mean loss (last ${every}) | backend memory MiB | JS heap MiB | live blocks |\n|---:|---:|---:|---:|---:|`);
  while (done < steps) {
    const history = ng.train(net, { X, Y, n }, opt, { steps: every, batchSize, seed: done, onStep: (r) => { lossSum += r.loss; lossCount++; } });
    done += history.length;
    globalThis.gc();
    const sample = { step: done, loss: lossSum / lossCount, memory: k.memoryBytes(), heap: process.memoryUsage().heapUsed, live };
    lossSum = lossCount = 0;
    samples.push(sample);
    console.log(`| ${sample.step} | ${sample.loss.toExponential(3)} | ${mib(sample.memory)} | ${mib(sample.heap)} | ${sample.live} |`);
  }
  const first = samples[0], last = samples[samples.length - 1];
  const seconds = (performance.now() - started) / 1e3;
  const row = {
    name: run.name, seconds, memoryGrowth: last.memory - first.memory, heapGrowth: last.heap - first.heap, liveGrowth: last.live - first.live,
    firstLoss: first.loss, lastLoss: last.loss,
  };
  summary.push(row);
  if (row.memoryGrowth !== 0 || row.liveGrowth !== 0) grew = true;
  opt.dispose();
  net.dispose();
}
console.log('\n## growth from the first sample (after warm-up) to the last\n| optimizer | time s | backend memory | JS heap | live blocks | mean loss first → last |\n|---|---:|---:|---:|---:|---|');
for (const r of summary) {
  console.log(`| ${r.name} | ${r.seconds.toFixed(1)} | ${r.memoryGrowth} B | ${(r.heapGrowth / 1024).toFixed(1)} KiB | ${r.liveGrowth} | ${r.firstLoss.toExponential(2)} → ${r.lastLoss.toExponential(2)} |`);
}
console.log(`live blocks after disposing everything: ${live}`);
if (grew) {
  console.log('FAIL: backend memory or live allocations grew after warm-up');
  process.exitCode = 1;
}
