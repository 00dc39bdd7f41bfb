/// <reference types="node" />
/** `natgrad evaluate <model.json> <data.csv> [--target col]`: the loss and metrics of a saved model on a table. */
import { evaluate, init, type Metric } from '../index.js';
import { backendFlag, parse, str } from './args.js';
import { inputsFor, libraryError, loadModelFile, targetsFor, fmt } from './common.js';
import { readCsv } from './csv.js';

export const EVALUATE_HELP = `Usage: natgrad evaluate <model.json> <data.csv> [--target col[,col…]] [--backend auto|wasm|js]

Prints the model's mean loss per example and its metrics (accuracy for a classifier; rmse, mae and r2 for a
regression) on the rows of data.csv. Input columns are matched by header name; --target defaults to the
model's own target columns.
`;

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('evaluate', argv, { target: { type: 'string' } }, { min: 2, max: 2, usage: 'evaluate <model.json> <data.csv> [--target col]' });
  if (values.help) { process.stdout.write(EVALUATE_HELP); return 0; }
  await init({ backend: backendFlag(values) });
  const net = loadModelFile(positionals[0]);
  const table = readCsv(positionals[1]);
  const target = str(values, 'target');
  const targets = target ? target.split(',').map((s) => s.trim()) : net.columns?.targets ?? [];
  const X = inputsFor(net, table);
  const Y = targetsFor(net, table, targets);
  const classifier = !!net.labels;
  const metrics: Metric[] = classifier ? ['accuracy'] : ['rmse', 'mae', 'r2'];
  let result;
  try {
    result = evaluate(net, { X, Y, n: table.rows.length }, { loss: classifier ? 'cross-entropy' : 'squared-error', metrics });
  } catch (e) { libraryError(e); }
  const out = [`n ${table.rows.length}`, `loss ${fmt(result.loss)} (${classifier ? 'cross-entropy' : '½ squared error'} per example)`];
  for (const m of metrics) out.push(`${m} ${fmt(result.metrics[m])}`);
  process.stdout.write(`${out.join('\n')}\n`);
  net.dispose();
  return 0;
}
