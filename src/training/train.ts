/**
 * The training loop: steps of any {@link Optimizer} over full batches or seeded
 * mini-batches, with one record of statistics per step.
 */
import { ArgumentError, DivergenceError, ShapeError } from '../errors.js';
import { resolveLoss, type LossSpec } from '../nn/losses.js';
import type { Net } from '../nn/net.js';
import { Rng } from '../nn/random.js';
import { copyRows } from '../data/index.js';
import type { Batch } from '../nn/net.js';
import type { Optimizer, StepStats } from '../optim/types.js';
import { checkDim, checkOptions, type OptionShape } from '../validate.js';
import type { TrainRecord } from './types.js';

/** Options of {@link train}. */
export interface TrainOptions {
  /** Number of steps (optimizer calls). */
  steps: number;
  /** The loss (default 'squared-error', ½ Σ (u − y)²). */
  loss?: LossSpec;
  /**
   * Examples per step (default: all n, full batch). Smaller batches are
   * consecutive slices of a seeded random permutation, re-drawn every epoch;
   * the n mod batchSize examples left at an epoch's end wait for the next one.
   */
  batchSize?: number;
  /** Seed of the mini-batch order (default 0). */
  seed?: number;
  /** Called after every step; return false to stop early. */
  onStep?: (record: TrainRecord) => void | boolean;
  /** Record each step's starting outputs on all n training inputs in `outputs` (default false): the output-space trajectory. */
  recordOutputs?: boolean;
}

/**
 * Trains `net` in place with `optimizer` and returns the history, one record
 * per step: loss (before the step), ratio to the previous loss, damping, ρ,
 * gradient and update norms, wall time.
 *
 * @param net the network to train (its parameters change in place)
 * @param data the training set `{ X, Y, n }`: X n × inputDim and Y n × outputDim row-major
 *   (for cross-entropy, Y may hold n class indices)
 * @param optimizer any {@link Optimizer}: {@link ngd}, {@link kfac}, {@link gd}, {@link sgd}, {@link adam}
 * @param options the number of steps, the loss, mini-batch size and seed, a per-step callback
 * @example
 * await init();
 * const net = twoLayerReLU({ inputDim: 16, width: 1024, seed: 1 });
 * const history = train(net, { X, Y, n: 64 }, ngd({ damping: 1e-6 }), { steps: 5 });
 * console.log(history.map((r) => r.loss));
 */
export function train(net: Net, data: Batch, optimizer: Optimizer, options: TrainOptions): TrainRecord[] {
  if (!optimizer || typeof optimizer.step !== 'function') throw new ArgumentError('optimizer', 'must be an Optimizer (ngd, kfac, gd, sgd, adam)');
  if (!options || typeof options !== 'object') throw new ArgumentError('options', 'must be { steps, … }');
  checkOptions('train()', options, TRAIN_OPTIONS);
  const { steps, loss, batchSize, seed = 0, onStep, recordOutputs = false } = options;
  checkDim('steps', steps);
  if (!data || typeof data !== 'object') throw new ArgumentError('data', 'must be { X, Y, n }');
  const { X, Y, n } = data;
  net.checkInput(X, n);
  const lossFn = resolveLoss(loss);
  lossFn.checkTargets(Y, n, net.outputDim);
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${seed}`);
  const batches = batchSize === undefined || batchSize >= n ? fullBatch(data) : miniBatches(data, net.inputDim, batchSize, seed);

  const history: TrainRecord[] = [];
  for (let step = 0; step < steps; step++) {
    const outputs = recordOutputs ? net.predict(X, n) : undefined;
    let stats: StepStats;
    try {
      stats = optimizer.step(net, batches(), { loss: lossFn });
    } catch (e) {
      // Keep the run: the records so far travel with the error (θ is as the last accepted step left it).
      if (e instanceof DivergenceError) {
        e.step = step;
        e.history = history;
      }
      throw e;
    }
    const prev = history.length ? history[history.length - 1].loss : NaN;
    const record: TrainRecord = { ...stats, step, ratio: stats.loss / prev };
    if (outputs) record.outputs = outputs;
    history.push(record);
    if (onStep && onStep(record) === false) break;
  }
  return history;
}

const TRAIN_OPTIONS: OptionShape = {
  steps: 'number', loss: { kinds: ['string', 'object'], expect: "'squared-error', 'cross-entropy' or a Loss" }, batchSize: 'number',
  seed: 'number', onStep: 'function', recordOutputs: 'boolean',
};

function fullBatch(data: Batch): () => Batch {
  return () => data;
}

/** A generator of mini-batches gathered into two reused arrays. */
function miniBatches(data: Batch, d: number, size: number, seed: number): () => Batch {
  if (!Number.isSafeInteger(size) || size < 1) throw new ShapeError('batchSize', `must be a positive integer, got ${size}`);
  const { Y, n } = data;
  const yCols = Y.length / n;
  const rng = new Rng(seed);
  const perm = new Float64Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let cursor = n;
  const batch: Batch = { X: new Float64Array(size * d), Y: new Float64Array(size * yCols), n: size };
  return () => {
    if (cursor + size > n) {
      rng.shuffle(perm);
      cursor = 0;
    }
    copyRows(data, perm, cursor, batch);
    cursor += size;
    return batch;
  };
}
