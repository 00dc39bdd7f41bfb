// Real tables, scored on held-out rows (issue 18): for each public table in bench/data/, a seeded
// 80/20 split of the rows whose target is present (written to bench/results/tables/), then
//   - defaults: `natgrad train train.csv --target T` (plus `--ignore` for an ID column, nothing else),
//   - tuned:    the same with the flags in TUNED (chosen by hand on the validation rows, never the test rows),
//   - linear:   a linear model computed here through the same preprocessing (softmax or least squares:
//               a net without hidden layer, trained by fit with its defaults),
// each scored by `natgrad evaluate model.json test.csv` (accuracy, or r² in the target's units) with its
// wall time. bench/sklearn-tables.py (run by hand, not in CI) fits scikit-learn's linear model and
// small MLP on the same split; when bench/results/tables-sklearn.json exists its numbers go beside ours.
//
//   npm run build && node bench/tables.mjs [--only name,…] [--cli path/to/natgrad.js]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { init, mlp, fit, trainTestSplit, VERSION } from '../dist/esm/index.js';
import { TablePreprocessor, detectTask, evaluateTable } from '../dist/esm/advanced.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const flag = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const cli = flag('--cli') ?? join(root, 'bin/natgrad.js');
const only = flag('--only')?.split(',');

/**
 * The tables, their licences (bench/data/LICENSES.md) and the flags of the tuned run. `tunedOn`: a table whose
 * numbers were looked at while a default was chosen. The others were held out of that choice, with a caveat: the
 * first run of the five after cars-horsepower exposed two defects the rules then fixed for every table (a cap of 20
 * one-hot columns lost gapminder's countries; a linear model kept early-stopped on 80% of the rows instead of least
 * squares on all of them lost to scikit-learn's on gapminder-health and linnerud); the last two tables ran only
 * after that.
 */
const ALL = [
  { name: 'iris', file: 'examples/iris/iris.csv', target: 'species', tunedOn: true, tuned: ['--hidden', '16', '--epochs', '200', '--patience', '20'] },
  { name: 'penguins', file: 'bench/data/penguins.csv', target: 'Species', tunedOn: true, tuned: ['--hidden', '16', '--patience', '20'] },
  { name: 'wine', file: 'bench/data/wine.csv', target: 'cultivar', tunedOn: true, tuned: ['--hidden', '16', '--optimizer', 'kfac', '--patience', '20'] },
  { name: 'breast-cancer', file: 'bench/data/breast-cancer.csv', target: 'diagnosis', tunedOn: true, tuned: ['--hidden', '16', '--patience', '20'] },
  { name: 'digits', file: 'bench/data/digits.csv', target: 'digit', tunedOn: true, tuned: ['--hidden', '64', '--patience', '20'] },
  { name: 'cars', file: 'bench/data/cars.csv', target: 'Miles_per_Gallon', ignore: ['Name'], tunedOn: true, tuned: ['--hidden', '16', '--optimizer', 'kfac', '--patience', '20'] },
  { name: 'diabetes', file: 'bench/data/diabetes.csv', target: 'progression', tunedOn: true, tuned: ['--hidden', '8', '--optimizer', 'kfac', '--patience', '20'] },
  // Regression tables held out of the choice of the regression defaults (issue 18's hidden tables are of this kind).
  { name: 'cars-horsepower', file: 'bench/data/cars.csv', target: 'Horsepower', ignore: ['Name'], tunedOn: false, tuned: ['--hidden', '16', '--patience', '20'] },
  { name: 'cars-acceleration', file: 'bench/data/cars.csv', target: 'Acceleration', ignore: ['Name'], tunedOn: false, tuned: ['--hidden', '16', '--patience', '20'] },
  { name: 'gapminder', file: 'bench/data/gapminder.csv', target: 'life_expect', tunedOn: false, tuned: ['--hidden', '64', '--patience', '20'] },
  { name: 'seattle-weather', file: 'bench/data/seattle-weather.csv', target: 'temp_max', ignore: ['date'], tunedOn: false, tuned: ['--hidden', '16', '--patience', '20'] },
  { name: 'linnerud', file: 'bench/data/linnerud.csv', target: 'Weight,Waist,Pulse', tunedOn: false, tuned: ['--hidden', '4', '--patience', '20'] },
  { name: 'penguins-mass', file: 'bench/data/penguins.csv', target: 'Body Mass (g)', tunedOn: false, tuned: ['--hidden', '16', '--patience', '20'] },
  { name: 'gapminder-health', file: 'bench/data/gapminder-health-income.csv', target: 'health', ignore: ['country'], tunedOn: false, tuned: ['--hidden', '16', '--patience', '20'] },
  // Run for the first time after the rules above were fixed (never looked at while choosing them).
  { name: 'wine-alcohol', file: 'bench/data/wine.csv', target: 'alcohol', tunedOn: false, tuned: ['--hidden', '16', '--patience', '20'] },
  { name: 'iris-petal-width', file: 'examples/iris/iris.csv', target: 'petal_width', tunedOn: false, tuned: ['--hidden', '16', '--patience', '20'] },
];
const TABLES = ALL.filter((t) => !only || only.includes(t.name));

const outDir = join(root, 'bench/results/tables');
mkdirSync(outDir, { recursive: true });
await init();

function csvText(header, rows) {
  const cell = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${[header, ...rows].map((r) => r.map(cell).join(',')).join('\n')}\n`;
}

function runCli(argv) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1e3;
  if (r.status !== 0) throw new Error(`natgrad ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { out: r.stdout, seconds };
}

function score(out, task) {
  const m = (task === 'classification' ? /^accuracy (\S+)$/m : /^r2 (\S+)$/m).exec(out);
  return Number(m[1]);
}

/** A linear model through the same preprocessing: a net without hidden layer, exact NGD, best validation epoch. */
function linear(header, trainRows, testRows, table, task) {
  const t0 = performance.now();
  const p = TablePreprocessor.fit(header, trainRows, { targets: table.target.split(','), task, ignore: table.ignore ?? [] });
  const X = p.encodeInputs(header, trainRows), Y = p.encodeTargets(header, trainRows);
  const net = mlp({ sizes: [p.inputDim, p.outputDim], seed: 0 });
  net.preprocessing = p.toJSON();
  // fit's own choice of optimizer (exact NGD while the Gram system is small, else K-FAC), a fifth held out, early stopping.
  const n = trainRows.length;
  fit(net, { X, Y, n }, { epochs: 100, loss: task === 'classification' ? 'cross-entropy' : 'squared-error', batchSize: n > 1024 ? 256 : undefined });
  const s = evaluateTable(net, header, testRows);
  net.dispose();
  return { score: task === 'classification' ? s.accuracy : s.r2, seconds: (performance.now() - t0) / 1e3 };
}

// With --only, the other tables keep the numbers of the last full run.
const previous = only && existsSync(join(root, 'bench/results/tables.json')) ? JSON.parse(readFileSync(join(root, 'bench/results/tables.json'), 'utf8')).results : [];
const results = previous.filter((r) => !only.includes(r.table));
for (const table of TABLES) {
  const records = parse(readFileSync(join(root, table.file)), { bom: true, skip_empty_lines: true, trim: true });
  const header = records[0];
  const js = table.target.split(',').map((t) => header.indexOf(t));
  const rows = records.slice(1).filter((r) => js.every((j) => r[j] !== ''));
  const task = js.length > 1 ? 'regression' : detectTask(rows.map((r) => r[js[0]]));
  const split = trainTestSplit({ X: Float64Array.from(rows, (_, i) => i), Y: new Float64Array(rows.length), n: rows.length }, { testSize: 0.2, seed: 0 });
  const trainRows = Array.from(split.trainIndex, (i) => rows[i]), testRows = Array.from(split.testIndex, (i) => rows[i]);
  const trainFile = join(outDir, `${table.name}-train.csv`), testFile = join(outDir, `${table.name}-test.csv`);
  writeFileSync(trainFile, csvText(header, trainRows));
  writeFileSync(testFile, csvText(header, testRows));
  const base = ['train', trainFile, '--target', table.target, ...(table.ignore ? ['--ignore', table.ignore.join(',')] : [])];
  const row = { table: table.name, target: table.target, ignore: table.ignore ?? [], tunedOn: table.tunedOn, task, rows: rows.length, train: trainRows.length, test: testRows.length };
  for (const [kind, extra] of [['defaults', []], ['tuned', table.tuned]]) {
    const model = join(outDir, `${table.name}-${kind}.json`);
    const t = runCli([...base, ...extra, '--out', model]);
    const picked = /^optimizer auto → (\w+)/m.exec(t.out)?.[1] ?? extra[extra.indexOf('--optimizer') + 1];
    const e = runCli(['evaluate', model, testFile]);
    const kept = /^a linear model \(no hidden layer\)/m.test(t.out) ? 'linear' : 'mlp';
    row[kind] = { score: score(e.out, task), seconds: Number(t.seconds.toFixed(2)), optimizer: picked, model: kept, warning: /^warning: /m.test(t.out) };
  }
  row.linear = linear(header, trainRows, testRows, table, task);
  row.linear.seconds = Number(row.linear.seconds.toFixed(2));
  const at = ALL.findIndex((t) => t.name === table.name);
  results.splice(results.filter((r) => ALL.findIndex((t) => t.name === r.table) < at).length, 0, row);
  console.error(`${table.name}: ${JSON.stringify(row)}`);
}

const sklearnFile = join(root, 'bench/results/tables-sklearn.json');
const sklearn = existsSync(sklearnFile) ? JSON.parse(readFileSync(sklearnFile, 'utf8')).tables : {};
const env = { natgrad: VERSION, node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg().map((x) => Number(x.toFixed(2))), date: new Date().toISOString() };
const f = (x) => (x === undefined ? '–' : x.toFixed(3));
const lines = [
  `Held-out scores (accuracy for classes, r² for regression) on a seeded 20% test split; natgrad ${env.natgrad}, Node ${env.node}, ${env.cpu} (${env.cores} cores), load average ${env.loadavg.join(' ')}.`,
  '',
  '| table | rows | task | natgrad defaults | time | optimizer | model | natgrad tuned | time | linear (bench) | sklearn linear | sklearn MLP | tuned on |',
  '|---|---:|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|',
  ...results.map((r) => {
    const s = sklearn[r.table] ?? {};
    return `| ${r.table} | ${r.rows} | ${r.task === 'classification' ? 'classes' : 'r²'} | ${f(r.defaults.score)}${r.defaults.warning ? ' ⚠' : ''} | ${r.defaults.seconds.toFixed(1)} s | ${r.defaults.optimizer} | ${r.defaults.model ?? '–'} | ${f(r.tuned.score)} | ${r.tuned.seconds.toFixed(1)} s | ${f(r.linear.score)} | ${f(s.linear)} | ${f(s.mlp)} | ${r.tunedOn ? 'yes' : 'no'} |`;
  }),
];
console.log(lines.join('\n'));
writeFileSync(join(root, 'bench/results/tables.json'), `${JSON.stringify({ env, results }, null, 2)}\n`);
writeFileSync(join(root, 'bench/results/tables.md'), `${lines.join('\n')}\n`);
