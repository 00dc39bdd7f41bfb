/// <reference types="node" />
/** `natgrad predict <model.json> <data.csv> [--out preds.csv] [--proba] [--uncertainty]`: predictions in the target's own terms. */
import { init, predictClasses, predictProba } from '../index.js';
import { backendFlag, parse, str } from './args.js';
import { codecOf, libraryError } from './common.js';
import { readCsv, toCsv } from './csv.js';
import { loadModelWithPosterior, posteriorOf, targetScales } from './laplace.js';
import { writeAtomic } from './output.js';

export const PREDICT_HELP = `Usage: natgrad predict <model.json> <data.csv> [--out preds.csv] [--proba] [--uncertainty] [--backend auto|wasm|js]

Writes one prediction per row of data.csv (to stdout, or whole-or-nothing to --out): the class name for a
classifier (with --proba, also one probability column per class), the target values for a regression.
Input columns are matched by header name; other columns are ignored. The model's own preprocessing is
applied (empty cells filled in, text columns encoded, inputs standardised, regression outputs scaled back).

  --uncertainty   with a model trained with --laplace, its Laplace posterior's predictive: for a
                  regression a column <target>_std after each target (the predictive standard deviation,
                  noise included, in the target's units); for a classifier the calibrated (probit)
                  probability columns p(class), the class being the most probable under them
`;

export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('predict', argv, { out: { type: 'string' }, proba: { type: 'boolean' }, uncertainty: { type: 'boolean' } },
    { min: 2, max: 2, usage: 'predict <model.json> <data.csv> [--out preds.csv] [--proba] [--uncertainty]' });
  if (values.help) { process.stdout.write(PREDICT_HELP); return 0; }
  await init({ backend: backendFlag(values) });
  const loaded = loadModelWithPosterior(positionals[0], !!values.uncertainty), net = loaded.net;
  const post = values.uncertainty ? posteriorOf(loaded, positionals[0], '--uncertainty') : undefined;
  const table = readCsv(positionals[1]);
  const n = table.rows.length;
  const codec = codecOf(net, table);
  const X = codec.inputs(table, table.rows.map((_, i) => i));
  const targets = net.columns?.targets ?? [];
  let header: string[], rows: (string | number)[][];
  try {
    if (post && net.labels) {
      // Calibrated probabilities: the posterior's probit predictive; the class is their most probable.
      const labels = net.labels, k = labels.length, P = post.predictProba(X, n);
      header = [targets[0] ?? 'class', ...labels.map((c) => `p(${c})`)];
      rows = Array.from({ length: n }, (_, i) => {
        const p = P.subarray(i * k, (i + 1) * k);
        let best = 0;
        for (let c = 1; c < k; c++) if (p[c] > p[best]) best = c;
        return [labels[best], ...Array.from(p)];
      });
    } else if (post) {
      if (values.proba) process.stderr.write('natgrad: --proba ignored: the model is a regression\n');
      const k = net.outputDim, { mean, variance } = post.predict(X, n), U = codec.decode(mean), scale = targetScales(net);
      const names = targets.length === k ? targets : Array.from({ length: k }, (_, j) => `output${j}`);
      header = names.flatMap((t) => [t, `${t}_std`]);
      rows = Array.from({ length: n }, (_, i) => Array.from({ length: k }, (_, j) => [U[i * k + j], Math.sqrt(variance[i * k + j]) * scale[j]]).flat());
    } else if (net.labels) {
      const labels = net.labels, k = labels.length;
      const classes = predictClasses(net, X, n);
      header = [targets[0] ?? 'class'];
      rows = Array.from(classes, (c) => [labels[c]]);
      if (values.proba) {
        const P = predictProba(net, X, n);
        header.push(...labels.map((c) => `p(${c})`));
        rows.forEach((r, i) => r.push(...Array.from(P.subarray(i * k, (i + 1) * k))));
      }
    } else {
      if (values.proba) process.stderr.write('natgrad: --proba ignored: the model is a regression\n');
      const U = codec.decode(net.predict(X, n)), k = net.outputDim;
      header = targets.length === k ? targets : Array.from({ length: k }, (_, j) => `output${j}`);
      rows = Array.from({ length: n }, (_, i) => Array.from(U.subarray(i * k, (i + 1) * k)));
    }
  } catch (e) { libraryError(e); }
  const csv = toCsv(header, rows);
  const out = str(values, 'out');
  if (out) writeAtomic(out, csv);
  else process.stdout.write(csv);
  post?.dispose();
  net.dispose();
  return 0;
}
