/// <reference types="node" />
/** `natgrad evaluate <model.json> <data.csv> [--target col]`: the loss and metrics of a saved model on a table. */
import { evaluate, init } from '../index.js';
import { regressionScores } from '../data/preprocess.js';
import { backendFlag, parse, str } from './args.js';
import { codecOf, libraryError, loadModelFile, fmt } from './common.js';
import { readCsv } from './csv.js';

export const EVALUATE_HELP = `Usage: natgrad evaluate <model.json> <data.csv> [--target col[,col…]] [--backend auto|wasm|js]

Prints the model's mean loss per example and its metrics (accuracy for a classifier; rmse, mae and r2 for a
regression, in the target's units) on the rows of data.csv, through the model's own preprocessing. Input
columns are matched by header name; --target defaults to the model's own target columns. The loss is in the
net's terms (on scaled targets when the model scales them), as in training.
`;

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('evaluate', argv, { target: { type: 'string' } }, { min: 2, max: 2, usage: 'evaluate <model.json> <data.csv> [--target col]' });
  if (values.help) { process.stdout.write(EVALUATE_HELP); return 0; }
  await init({ backend: backendFlag(values) });
  const net = loadModelFile(positionals[0]);
  const table = readCsv(positionals[1]);
  const target = str(values, 'target');
  const targets = target ? target.split(',').map((s) => s.trim()) : net.columns?.targets ?? [];
  const rows = table.rows.map((_, i) => i), n = rows.length;
  const codec = codecOf(net, table);
  const X = codec.inputs(table, rows);
  const Y = codec.targets(table, rows, targets);
  const classifier = !!net.labels;
  const out = [`n ${n}`];
  try {
    if (classifier) {
      const r = evaluate(net, { X, Y, n }, { loss: 'cross-entropy', metrics: ['accuracy'] });
      out.push(`loss ${fmt(r.loss)} (cross-entropy per example)`, `accuracy ${fmt(r.metrics.accuracy)}`);
    } else {
      const r = evaluate(net, { X, Y, n }, { loss: 'squared-error', metrics: [] });
      const k = net.outputDim;
      const s = regressionScores(codec.decode(net.predict(X, n)), codec.decode(Y.slice()), n, k);
      out.push(`loss ${fmt(r.loss)} (½ squared error per example)`, `rmse ${fmt(s.rmse)}`, `mae ${fmt(s.mae)}`, `r2 ${fmt(s.r2)}`);
    }
  } catch (e) { libraryError(e); }
  process.stdout.write(`${out.join('\n')}\n`);
  net.dispose();
  return 0;
}
