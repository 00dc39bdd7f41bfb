/// <reference types="node" />
/** `natgrad evaluate <model.json> <data.csv> [--target col]`: the loss and metrics of a saved model on a table. */
import { evaluate, init } from '../index.js';
import { regressionScores } from '../data/preprocess.js';
import { backendFlag, parse, str } from './args.js';
import { codecOf, libraryError, fmt } from './common.js';
import { readCsv } from './csv.js';
import { loadModelWithPosterior, posteriorOf, targetScales } from './laplace.js';

export const EVALUATE_HELP = `Usage: natgrad evaluate <model.json> <data.csv> [--target col[,col…]] [--backend auto|wasm|js]

Prints the model's mean loss per example and its metrics (accuracy for a classifier; rmse, mae and r2 for a
regression, in the target's units) on the rows of data.csv, through the model's own preprocessing. Input
columns are matched by header name; --target defaults to the model's own target columns. The loss is in the
net's terms (on scaled targets when the model scales them), as in training.

A model trained with --laplace is also scored by its Laplace posterior's predictive: a classifier's
negative log-likelihood per example and expected calibration error (15 bins) under the calibrated (probit)
probabilities; a regression's Gaussian negative log-likelihood per value (in the target's units) and the
coverage of its 95% interval (mean ± 1.96 predictive standard deviations).
`;

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('evaluate', argv, { target: { type: 'string' } }, { min: 2, max: 2, usage: 'evaluate <model.json> <data.csv> [--target col]' });
  if (values.help) { process.stdout.write(EVALUATE_HELP); return 0; }
  await init({ backend: backendFlag(values) });
  const loaded = loadModelWithPosterior(positionals[0], true), net = loaded.net;
  const table = readCsv(positionals[1]);
  const target = str(values, 'target');
  const targets = target ? target.split(',').map((s) => s.trim()) : net.columns?.targets ?? [];
  const rows = table.rows.map((_, i) => i), n = rows.length;
  const codec = codecOf(net, table);
  const X = codec.inputs(table, rows);
  const Y = codec.targets(table, rows, targets);
  const classifier = !!net.labels;
  const out = [`n ${n}`];
  const post = loaded.posterior ? posteriorOf(loaded, positionals[0], 'evaluate') : undefined;
  try {
    if (classifier) {
      const r = evaluate(net, { X, Y, n }, { loss: 'cross-entropy', metrics: ['accuracy'] });
      out.push(`loss ${fmt(r.loss)} (cross-entropy per example)`, `accuracy ${fmt(r.metrics.accuracy)}`);
      if (post) {
        const c = evaluate(net, { X, Y, n }, { loss: 'cross-entropy', metrics: ['nll', 'ece'], posterior: post });
        const map = evaluate(net, { X, Y, n }, { loss: 'cross-entropy', metrics: ['ece'] });
        out.push(`nll ${fmt(c.metrics.nll)} (Laplace '${post.structure}', probit probabilities, per example; the net's own softmax: the loss above)`,
          `ece ${fmt(c.metrics.ece)} (15 bins; the net's own softmax: ${fmt(map.metrics.ece)})`);
      }
    } else {
      const r = evaluate(net, { X, Y, n }, { loss: 'squared-error', metrics: [] });
      const k = net.outputDim;
      const s = regressionScores(codec.decode(net.predict(X, n)), codec.decode(Y.slice()), n, k);
      out.push(`loss ${fmt(r.loss)} (½ squared error per example)`, `rmse ${fmt(s.rmse)}`, `mae ${fmt(s.mae)}`, `r2 ${fmt(s.r2)}`);
      if (post) {
        const c = evaluate(net, { X, Y, n }, { loss: 'squared-error', metrics: ['nll', 'coverage'], posterior: post });
        // The NLL of a value y = std·y_scaled + mean in the target's units is the scaled one + log std.
        const shift = targetScales(net).reduce((a, sd) => a + Math.log(sd), 0) / k;
        out.push(`nll ${fmt(c.metrics.nll! + shift)} (Laplace '${post.structure}', Gaussian per value, target units)`, `coverage95 ${fmt(c.metrics.coverage)}`);
      }
    }
  } catch (e) { libraryError(e); } finally { post?.dispose(); }
  process.stdout.write(`${out.join('\n')}\n`);
  net.dispose();
  return 0;
}
