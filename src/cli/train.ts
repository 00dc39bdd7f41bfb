/// <reference types="node" />
/**
 * `natgrad train <data.csv> --target <col>[,<col>…] …`: reads a table, trains an MLP with
 * `fit`, prints one line per epoch (and a progress bar on TTYs), writes the model whole or
 * not at all; optionally a checkpoint after every epoch, resumable bit for bit.
 */
import {
  adam, fit, gd, init, NatgradError, OutOfMemoryError, kfac, LabelEncoder, mlp, ngd, sgd, softmaxCrossEntropy, squaredError, Standardizer, trainTestSplit,
  loadCheckpoint, saveCheckpoint, VERSION,
  type ActivationName, type Batch, type EpochRecord, type FitResult, type Metric, type Net, type Optimizer, type FitState,
} from '../index.js';
import { backendFlag, choice, CliError, list, num, parse, str, type Values } from './args.js';
import { columnIndex, numericMatrix, readCsv, type Table } from './csv.js';
import { fmt, libraryError, loadJsonFile } from './common.js';
import { progressBar, writeAtomic } from './output.js';
import { checkTfjs, exportTfjs } from './tfjs-export.js';

export const TRAIN_HELP = `Usage: natgrad train <data.csv> --target <col>[,<col>…] [options]

Trains a multilayer perceptron on a CSV table (header row; every other column is an input) and writes it.

  --target cols        target column(s) (required unless --resume)
  --task t             auto (default), regression or classification; auto reads a non-numeric
                       or few-valued integer target as classes
  --hidden 64,64       hidden layer widths (default 32)
  --activation a       relu (default), leaky-relu, tanh, sigmoid, softplus, gelu
  --optimizer o        ngd (default; adaptive damping), kfac, adam, sgd or gd
  --lr x               learning rate (defaults: ngd 1, kfac 1, adam 0.01, sgd 0.05, gd 0.1)
  --damping x          damping of ngd and kfac (default 1e-3)
  --epochs N           total epochs (default 100); with --resume, training continues up to N
  --batch-size N       examples per step (default: all when the training rows are ≤ 1024, else 256)
  --validation f       fraction held out for validation (default 0.2; 0 for none)
  --standardize        z-score the inputs (mean/std of the training rows, saved with the model)
  --seed N             seed of the weights, the split and the batch order (default 0)
  --out model.json     where to write the model (default model.json)
  --checkpoint c.json  write a checkpoint after every epoch
  --resume c.json      continue from a checkpoint (its settings; --epochs is the new total)
  --export-tfjs DIR    also write a TF.js layers model (needs @tensorflow/tfjs-core, -layers, -backend-cpu)
  --backend b          auto (default), wasm or js
`;

const OPTIONS = {
  target: { type: 'string' }, task: { type: 'string' }, hidden: { type: 'string' }, activation: { type: 'string' },
  optimizer: { type: 'string' }, lr: { type: 'string' }, damping: { type: 'string' }, epochs: { type: 'string' },
  'batch-size': { type: 'string' }, validation: { type: 'string' }, standardize: { type: 'boolean' }, seed: { type: 'string' },
  out: { type: 'string' }, checkpoint: { type: 'string' }, resume: { type: 'string' }, 'export-tfjs': { type: 'string' },
} as const;

const ACTIVATIONS: ActivationName[] = ['relu', 'leaky-relu', 'tanh', 'sigmoid', 'softplus', 'gelu'];
const OPTIMIZERS = ['ngd', 'kfac', 'adam', 'sgd', 'gd'] as const;
type OptimizerName = typeof OPTIMIZERS[number];

/** Everything that decides the run; saved in the checkpoint so that --resume repeats it exactly. */
interface RunConfig {
  data: string;
  targets: string[];
  /** 'auto' until the table is read (prepare resolves it). */
  task: 'auto' | 'regression' | 'classification';
  hidden: number[];
  activation: ActivationName;
  optimizer: OptimizerName;
  lr?: number;
  damping?: number;
  batchSize?: number;
  validation: number;
  standardize: boolean;
  seed: number;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('train', argv, OPTIONS, { min: 1, max: 1, usage: 'train <data.csv> --target <col> [options]' });
  if (values.help) { process.stdout.write(TRAIN_HELP); return 0; }
  const epochs = num(values, 'epochs', 100, { int: true, min: 1 })!;
  const out = str(values, 'out', 'model.json')!;
  const checkpointFile = str(values, 'checkpoint');
  const tfjsDir = str(values, 'export-tfjs');
  await init({ backend: backendFlag(values) });
  if (tfjsDir) await checkTfjs();

  const resumeFile = str(values, 'resume');
  let config: RunConfig, net: Net, optimizer: Optimizer, resume: FitState | undefined;
  if (resumeFile) {
    ({ config, net, optimizer, resume } = resumeFrom(resumeFile, positionals[0]));
    if (resume!.epoch >= epochs) throw new CliError(`--resume: ${resumeFile} is at epoch ${resume!.epoch}, --epochs ${epochs} asks for no more`);
  } else config = configFrom(values, positionals[0]);

  const table = readCsv(config.data);
  // A resumed net was trained on inputs scaled by the checkpoint's mean/std, which its saved model keeps:
  // the rest of the run scales by them too, not by statistics refitted on the table given now.
  const scaler = resumeFile && net!.preprocessing ? Standardizer.fromJSON(net!.preprocessing) : undefined;
  const prepared = prepare(table, config, scaler);
  // Full batch keeps small tables exact and fast; larger ones would make NGD's Gram matrix n × n.
  if (config.batchSize === undefined && prepared.train.n > 1024) config.batchSize = 256;
  if (!resumeFile) {
    try {
      net = mlp({ sizes: [prepared.train.X.length / prepared.train.n, ...config.hidden, prepared.outputs], activation: config.activation, seed: config.seed });
    } catch (e) {
      if (e instanceof OutOfMemoryError || (e instanceof NatgradError && e.code === 'OUT_OF_MEMORY')) throw new CliError(`--hidden ${config.hidden.join(',')}: ${e.message}; choose smaller layers`);
      throw e;
    }
    net.columns = { inputs: prepared.inputs, targets: config.targets };
    if (prepared.labels) net.labels = prepared.labels;
    if (prepared.scaler) net.preprocessing = prepared.scaler.toJSON();
    optimizer = makeOptimizer(config);
  } else {
    checkSameTable(net!, prepared);
  }
  const classifier = config.task === 'classification';
  const loss = classifier ? softmaxCrossEntropy({ reduction: 'mean' }) : squaredError({ reduction: 'mean' });
  const metrics: Metric[] = classifier ? ['accuracy'] : ['rmse', 'r2'];
  const say = (s: string) => process.stdout.write(`${s}\n`);
  say(`natgrad ${VERSION} train: ${table.rows.length} rows of ${config.data}, ${prepared.inputs.length} inputs → ${config.targets.join(', ')} (${config.task}${prepared.labels ? `, ${prepared.labels.length} classes` : ''})`);
  say(`${net!.toString()}, ${config.optimizer}${config.lr !== undefined ? ` lr ${config.lr}` : ''}, ${prepared.train.n} training / ${prepared.validation?.n ?? 0} validation rows${resume ? `, resuming at epoch ${resume.epoch}` : ''}`);

  const bar = progressBar();
  const stepsPerEpoch = config.batchSize ? Math.ceil(prepared.train.n / config.batchSize) : 1;
  let stepInEpoch = 0;
  const controller = new AbortController();
  // SIGTERM (a scheduler, `kill`, a container stop) ends the run like Ctrl-C: at the epoch boundary, model and checkpoint kept.
  let signalName: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => { signalName ??= sig; controller.abort(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result!: FitResult;
  let state = resume;
  try {
    bar.start(stepsPerEpoch, `epoch ${(resume?.epoch ?? 0) + 1}/${epochs}`);
    // fit is synchronous, so a SIGINT is only delivered when the event loop runs: one epoch per call,
    // yielding in between (resuming from the epoch state continues the run exactly, bit for bit).
    for (;;) {
      result = fit(net!, prepared.train, optimizer!, {
        epochs: (state?.epoch ?? 0) + 1, loss, metrics, batchSize: config.batchSize, seed: config.seed, validation: prepared.validation,
        resume: state, signal: controller.signal,
        onStep: () => { bar.update(++stepInEpoch); },
        onEpoch: (r, ctx) => {
          bar.stop();
          say(epochLine(r, epochs, metrics));
          if (checkpointFile) writeAtomic(checkpointFile, JSON.stringify(saveCheckpoint(net, optimizer, { natgradTrain: config }, ctx.state)));
          stepInEpoch = 0;
          if (r.epoch < epochs) bar.start(stepsPerEpoch, `epoch ${r.epoch + 1}/${epochs}`);
        },
      });
      state = result.state;
      if (result.stopReason !== 'epochs' || state.epoch >= epochs) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (e) {
    bar.stop();
    if (e instanceof OutOfMemoryError || (e instanceof NatgradError && e.code === 'OUT_OF_MEMORY')) {
      const flags = `--hidden ${config.hidden.join(',')}${config.batchSize ? ` and --batch-size ${config.batchSize}` : ''}`;
      throw new CliError(`out of memory during training with ${flags}: ${e.message}; choose smaller values (or --optimizer kfac)`);
    }
    libraryError(e);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  bar.stop();
  if (result.stopReason === 'aborted') say(`interrupted${signalName === 'SIGTERM' ? ' (SIGTERM)' : ''} after epoch ${result.state.epoch}${checkpointFile ? `; resume with --resume ${checkpointFile}` : ''}`);
  writeAtomic(out, JSON.stringify(net!));
  say(`wrote ${out}`);
  if (tfjsDir) {
    await exportTfjs(net!, tfjsDir);
    say(`wrote a TF.js layers model to ${tfjsDir}/ (model.json, weights.bin)`);
  }
  net!.dispose();
  optimizer!.dispose();
  return result.stopReason === 'aborted' ? (signalName === 'SIGTERM' ? 143 : 130) : 0;
}

function epochLine(r: EpochRecord, epochs: number, metrics: Metric[]): string {
  const w = String(epochs).length;
  const parts = [`epoch ${String(r.epoch).padStart(w)}/${epochs}`, `loss ${fmt(r.loss)}`];
  for (const m of metrics) parts.push(`${m} ${fmt(r.metrics[m])}`);
  if (r.valLoss !== undefined) {
    parts.push(`val_loss ${fmt(r.valLoss)}`);
    for (const m of metrics) parts.push(`val_${m} ${fmt(r.valMetrics?.[m])}`);
  }
  if (r.rejected) parts.push(`${r.rejected} rejected`);
  parts.push(`${r.timeMs.toFixed(0)} ms`);
  return parts.join('  ');
}

function configFrom(values: Values, data: string): RunConfig {
  const target = str(values, 'target');
  if (!target) throw new CliError('train: --target <col> is required (the column to predict)');
  const optimizer = choice(values, 'optimizer', OPTIMIZERS, 'ngd');
  const config: RunConfig = {
    data,
    targets: target.split(',').map((s) => s.trim()),
    task: choice(values, 'task', ['auto', 'regression', 'classification'] as const, 'auto'),
    hidden: list(values, 'hidden', [32], (s) => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 1 << 20 ? Number(s) : undefined)),
    activation: choice(values, 'activation', ACTIVATIONS, 'relu'),
    optimizer,
    validation: num(values, 'validation', 0.2, { min: 0, max: 0.9 })!,
    standardize: !!values.standardize,
    seed: num(values, 'seed', 0, { int: true, min: 0 })!,
  };
  if (config.targets.some((t) => t === '')) throw new CliError(`--target: "${target}" has an empty column name`);
  const twice = config.targets.find((t, i) => config.targets.indexOf(t) !== i);
  if (twice !== undefined) throw new CliError(`--target: "${target}" names column "${twice}" twice`);
  const lr = num(values, 'lr', undefined, { min: 0, exclusiveMin: true });
  if (lr !== undefined) config.lr = lr;
  const damping = num(values, 'damping', undefined, { min: 0 });
  if (damping !== undefined) {
    if (optimizer !== 'ngd' && optimizer !== 'kfac') throw new CliError(`--damping is for ngd and kfac, not ${optimizer}`);
    config.damping = damping;
  }
  const batchSize = num(values, 'batch-size', undefined, { int: true, min: 1 });
  if (batchSize !== undefined) config.batchSize = batchSize;
  return config;
}

function makeOptimizer(c: RunConfig): Optimizer {
  switch (c.optimizer) {
    case 'ngd': return ngd({ lr: c.lr ?? 1, damping: c.damping ?? 1e-3, adaptive: true });
    case 'kfac': return kfac({ lr: c.lr ?? 1, damping: c.damping ?? 1e-3, adaptive: true });
    case 'adam': return adam({ lr: c.lr ?? 0.01 });
    case 'sgd': return sgd({ lr: c.lr ?? 0.05, momentum: 0.9 });
    case 'gd': return gd({ lr: c.lr ?? 0.1 });
  }
}

interface Prepared {
  inputs: string[];
  outputs: number;
  labels?: string[];
  scaler?: Standardizer;
  train: Batch;
  validation?: Batch;
}

/**
 * The table in training terms: inputs, targets (class indices or numbers), the split and the scaling
 * (`scaler` when given, else fitted on the training rows when `c.standardize`).
 */
function prepare(t: Table, c: RunConfig, given?: Standardizer): Prepared {
  const targetCols = columnIndex(t, c.targets, '--target');
  const inputCols = t.header.map((_, j) => j).filter((j) => !targetCols.includes(j));
  if (inputCols.length === 0) throw new CliError(`${t.file}: no input columns besides the target`);
  const n = t.rows.length;
  if (c.task === 'auto') c.task = looksCategorical(t, targetCols) ? 'classification' : 'regression';
  const X = numericMatrix(t, inputCols);
  let Y: Float64Array, labels: string[] | undefined, outputs: number;
  if (c.task === 'classification') {
    if (targetCols.length !== 1) throw new CliError('--target: classification takes one target column');
    const enc = LabelEncoder.fit(t.rows.map((r) => r[targetCols[0]]));
    if (enc.classes.length < 2) throw new CliError(`${t.file}: column "${c.targets[0]}" has a single class`);
    Y = enc.encode(t.rows.map((r) => r[targetCols[0]]));
    labels = [...enc.classes];
    outputs = labels.length;
  } else {
    Y = numericMatrix(t, targetCols);
    outputs = targetCols.length;
  }
  const all: Batch = { X, Y, n };
  let train = all, validation: Batch | undefined;
  if (c.validation > 0) {
    if (n < 2) throw new CliError(`${t.file}: one row cannot be split for validation; use --validation 0`);
    const s = trainTestSplit(all, { testSize: c.validation, seed: c.seed });
    train = s.train;
    validation = s.test;
  }
  let scaler: Standardizer | undefined;
  if (c.standardize) {
    scaler = given ?? Standardizer.fit(train.X, train.n);
    train = { ...train, X: scaler.transform(train.X, train.n) };
    if (validation) validation = { ...validation, X: scaler.transform(validation.X, validation.n) };
  }
  return { inputs: inputCols.map((j) => t.header[j]), outputs, labels, scaler, train, validation };
}

/** A non-numeric target, or a single integer target with few distinct values. */
function looksCategorical(t: Table, cols: number[]): boolean {
  const cells = t.rows.map((r) => cols.map((j) => r[j]));
  if (cells.some((r) => r.some((s) => s === '' || !Number.isFinite(Number(s))))) return true;
  if (cols.length !== 1) return false;
  const v = cells.map((r) => Number(r[0]));
  const distinct = new Set(v).size;
  return v.every(Number.isInteger) && distinct <= Math.min(20, Math.max(2, Math.floor(t.rows.length / 5)));
}

function resumeFrom(file: string, data: string | undefined): { config: RunConfig; net: Net; optimizer: Optimizer; resume: FitState } {
  const loaded = loadJsonFile(file, (_json, text) => loadCheckpoint(text));
  const extra = loaded.extra as { natgradTrain?: unknown } | undefined;
  let config: RunConfig;
  try {
    if (!extra?.natgradTrain || typeof extra.natgradTrain !== 'object' || !loaded.training) throw new CliError(`${file}: not a checkpoint written by natgrad train --checkpoint`);
    config = savedConfig(extra.natgradTrain as Record<string, unknown>, `${file}: extra.natgradTrain`);
  } catch (e) {
    loaded.net.dispose();
    loaded.optimizer.dispose();
    throw e;
  }
  if (data !== undefined) config.data = data;
  return { config, net: loaded.net, optimizer: loaded.optimizer, resume: loaded.training };
}

/** The run settings saved in a checkpoint (untrusted JSON), checked field by field into a fresh RunConfig. */
function savedConfig(c: Record<string, unknown>, where: string): RunConfig {
  const bad = (field: string, what: string): never => {
    throw new CliError(`${where}.${field} must be ${what}, got ${JSON.stringify(c[field]) ?? 'nothing'}`);
  };
  const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  const strings = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== '');
  if (typeof c.data !== 'string') bad('data', 'a file name');
  if (!strings(c.targets)) bad('targets', 'a non-empty list of column names');
  if (c.task !== 'regression' && c.task !== 'classification') bad('task', "'regression' or 'classification'");
  if (!Array.isArray(c.hidden) || !c.hidden.every((w) => isInt(w, 1) && (w as number) <= 1 << 20)) bad('hidden', 'a list of layer widths');
  if (!ACTIVATIONS.includes(c.activation as ActivationName)) bad('activation', `one of ${ACTIVATIONS.join(', ')}`);
  if (!OPTIMIZERS.includes(c.optimizer as OptimizerName)) bad('optimizer', `one of ${OPTIMIZERS.join(', ')}`);
  if (!(typeof c.validation === 'number' && c.validation >= 0 && c.validation <= 0.9)) bad('validation', 'a fraction in [0, 0.9]');
  if (typeof c.standardize !== 'boolean') bad('standardize', 'true or false');
  if (!isInt(c.seed, 0)) bad('seed', 'a non-negative integer');
  const config: RunConfig = {
    data: c.data as string, targets: [...(c.targets as string[])], task: c.task as RunConfig['task'], hidden: [...(c.hidden as number[])],
    activation: c.activation as ActivationName, optimizer: c.optimizer as OptimizerName, validation: c.validation as number,
    standardize: c.standardize as boolean, seed: c.seed as number,
  };
  if (c.lr !== undefined) {
    if (!(typeof c.lr === 'number' && Number.isFinite(c.lr) && c.lr > 0)) bad('lr', 'a number > 0');
    config.lr = c.lr as number;
  }
  if (c.damping !== undefined) {
    if (!(typeof c.damping === 'number' && Number.isFinite(c.damping) && c.damping >= 0)) bad('damping', 'a number ≥ 0');
    config.damping = c.damping as number;
  }
  if (c.batchSize !== undefined) {
    if (!isInt(c.batchSize, 1)) bad('batchSize', 'a positive integer');
    config.batchSize = c.batchSize as number;
  }
  return config;
}

function checkSameTable(net: Net, p: Prepared): void {
  const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (!same(net.columns?.inputs, p.inputs)) throw new CliError('--resume: the data has other input columns than the checkpoint');
  if (!same(net.labels, p.labels)) throw new CliError('--resume: the data has other classes than the checkpoint');
}
