/**
 * Epoch-level training for real data sets: {@link fit} with seeded shuffled
 * mini-batches, validation, metrics, early stopping, callbacks and cancellation;
 * {@link evaluate} with metrics; {@link predictClasses} and {@link predictProba}
 * for classifiers. `train` (train.ts) stays the step-level loop.
 */
import { ArgumentError, DivergenceError, ShapeError } from '../errors.js';
import { copyRows, trainTestSplit } from '../data/index.js';
import { resolveLoss, type LossSpec } from '../nn/losses.js';
import type { Net } from '../nn/net.js';
import { Rng } from '../nn/random.js';
import type { Batch } from '../nn/net.js';
import type { Optimizer } from '../optim/types.js';
import { ngd } from '../optim/ngd.js';
import { kfac } from '../optim/kfac.js';
import { checkMetrics, evaluateWith, perExample, type Metric, type MetricValues } from './metrics.js';
import type { FitState, TrainRecord } from './types.js';
import { checkDim, checkOptions, type OptionShape } from '../validate.js';
import { resolveSchedule, type ScheduleSpec } from './schedules.js';
import { bayesianEpoch, bayesianStart, type BayesianRecord } from '../laplace/bayesian.js';

/** Early stopping on the validation loss. */
export interface EarlyStoppingOptions {
  /** Epochs without an improvement of more than `minDelta` before stopping (default 5). */
  patience?: number;
  /** Smallest decrease that counts as an improvement (default 0). */
  minDelta?: number;
  /** Put back the parameters of the best epoch when stopping or finishing (default true). */
  restoreBest?: boolean;
}

/** What {@link FitOptions.onEpoch} can do besides reading the record. */
export interface EpochContext {
  /** The state to resume from after this epoch (pass it to `saveCheckpoint`, or as `resume` to fit). */
  readonly state: FitState;
  /** Stops training after this epoch (same as returning false). */
  stop(): void;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /** Total epochs (with `resume`, training continues from the saved epoch up to this number). */
  epochs: number;
  /** The loss the optimizer minimises (default 'squared-error'). */
  loss?: LossSpec;
  /**
   * Examples per step (default: all of them, full batch). Mini-batches are consecutive slices of
   * a seeded permutation drawn afresh each epoch; the last one of an epoch may be smaller.
   */
  batchSize?: number;
  /** Seed of the data order and of a fractional validation split (default 0). */
  seed?: number;
  /**
   * A held-out set, or the fraction of `data` to hold out (a seeded split), e.g. 0.2. Default: 0.2 (with at
   * least 5 rows) when fit picks the optimizer, none when one is given; 0 holds out nothing.
   */
  validation?: Batch | number;
  /** Metrics to report on the training and validation sets each epoch. */
  metrics?: Metric[];
  /**
   * Stop when the validation loss (or the training loss without validation) stops improving. Default: on
   * (patience 5, the best epoch's weights put back) when fit picks the optimizer and holds out rows.
   */
  earlyStopping?: boolean | EarlyStoppingOptions;
  /**
   * Never return weights whose monitored loss (the validation loss with a validation set, else the training loss)
   * is above its value before training (default true): when a run would end above it, fit puts back the weights of
   * its lowest-monitored-loss epoch (0: the weights it began with) and says so in `bestEpoch`. This is what
   * makes every optimizer's default run, first-order ones included, end at or below where it began. Applies to
   * a run fit starts, not one it resumes, and, like `restoreBest`, where fit returns: a run continued from what
   * fit returned (its `state`) goes on from the weights put back, so a run split in two by a checkpoint equals
   * the whole only with `belowStart: false`, which returns the last weights.
   */
  belowStart?: boolean;
  /**
   * The learning rate as a function of the step: a number, a {@link ScheduleSpec}, or any
   * function `(step) => lr`. Needs an optimizer with `setLearningRate` (all of natgrad's but `lbfgs`, whose line search picks the step).
   */
  lr?: ScheduleSpec;
  /** Called after each epoch with its record; return false (or call ctx.stop()) to stop. */
  onEpoch?: (record: EpochRecord, ctx: EpochContext) => void | boolean;
  /** Called after each step; return false to stop at the end of the step. */
  onStep?: (record: TrainRecord) => void | boolean;
  /** Aborting stops training before the next step; fit returns what it has (stopReason 'aborted'). */
  signal?: AbortSignal;
  /** Continue a run from a checkpoint's `training` state (see `loadCheckpoint`). */
  resume?: FitState;
  /**
   * Bayesian regularisation (MacKay 1992, MATLAB's `trainbr`): after each epoch's steps the prior precision δ
   * and the noise σ are re-estimated from the evidence on the training set (γ = Σ μ/(μ + σ²δ) over the Gram's
   * eigenvalues, δ ← γ/‖θ‖², σ² ← ‖y − f‖²/(n·k − γ)) and one regularised Gauss–Newton step on
   * L + (σ²δ/2)‖θ‖² is taken through the Gram; the epoch's record reports them (`bayesian`). `true` starts
   * from δ = σ = 1; `{ prior, noise }` from other values. Needs the 'full' Laplace posterior on the training
   * set (n·k small enough for the (n·k)² Gram). See docs/laplace.md.
   */
  bayesian?: boolean | {
    /** The initial δ (default 1). */
    prior?: number;
    /** The initial σ (default 1; squared error only). */
    noise?: number;
  };
}

/** One epoch of {@link fit}. Losses are per example (L/n for a 'sum' loss) so training and validation compare. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean loss per example on the whole training set after the epoch. */
  loss: number;
  /** Mean of the steps' per-example batch losses during the epoch (before each step). */
  batchLoss: number;
  /** Mean loss per example on the validation set after the epoch. */
  valLoss?: number;
  /** Training-set metrics after the epoch. */
  metrics: MetricValues;
  /** Validation-set metrics after the epoch. */
  valMetrics?: MetricValues;
  /** Steps in this epoch. */
  steps: number;
  /** Of them, the rejected ones (parameters left untouched). */
  rejected: number;
  /** The learning rate of the epoch's last step, when a schedule is set. */
  lr?: number;
  /** Wall time of the epoch (steps and evaluation) in milliseconds. */
  timeMs: number;
  /** With `bayesian`: the epoch's δ, σ, effective number of parameters γ and log marginal likelihood. */
  bayesian?: BayesianRecord;
}

/** What {@link fit} returns. */
export interface FitResult {
  /** One record per epoch run (in this call). */
  history: EpochRecord[];
  /** Why training ended. */
  stopReason: 'epochs' | 'early-stopping' | 'callback' | 'aborted';
  /**
   * The epoch whose parameters the net holds when fit put back an earlier one's: early stopping's best, or, when
   * the run would have ended above the loss it began with (`belowStart`), the lowest monitored loss's (0: the
   * weights it began with).
   */
  bestEpoch?: number;
  /** The state after the last completed epoch. */
  state: FitState;
  /** With the 'auto' optimizer: the one chosen and why ({@link chooseOptimizer}). */
  optimizer?: {
    /** The optimizer chosen. */
    name: 'ngd' | 'kfac';
    /** One line saying why, from the measured cost model. */
    reason: string;
  };
}

/**
 * Trains `net` for `epochs` passes over `data` with `optimizer`, evaluating the
 * training (and validation) loss and metrics after every epoch.
 *
 * Without an optimizer (or with `'auto'`), fit picks one by size ({@link chooseOptimizer}: exact
 * NGD while its Gram system is small, K-FAC above it, both with adaptive damping); `result.optimizer`
 * says what it picked, and it then holds out a fifth of the rows for validation and stops early
 * keeping the best epoch's weights unless the options say otherwise (`validation: 0` holds out
 * nothing). Whichever optimizer runs, fit never returns weights whose monitored loss (validation's,
 * else training's) is above where it began (`belowStart`; `false` keeps the last weights).
 *
 * @param net the network to train, in place
 * @param data the training set `{ X, Y, n }` (X n × inputDim, Y n × outputDim, row-major)
 * @param optimizer any natgrad optimizer (ngd, kfac, gd, sgd, adam), or 'auto'; or, in its place, the
 *   options (the optimizer is then 'auto')
 * @param options epochs, loss, batch size, validation, metrics, early stopping, schedule, callbacks
 * @returns the per-epoch history, why training stopped and the state to resume from
 * @throws DivergenceError when an epoch ends with a loss that is not finite or more than
 *   DIVERGENCE_FACTOR (100) times the loss before training; the weights are put back first: those
 *   of the lowest monitored loss, the start included (`belowStart`), else the best epoch's when early
 *   stopping keeps them
 * @example
 * const { history } = fit(net, train, adam({ lr: 1e-2 }), {
 *   epochs: 50, batchSize: 32, loss: 'cross-entropy', validation: 0.2, metrics: ['accuracy'],
 * });
 * console.log(history.at(-1)?.valMetrics?.accuracy);
 * const auto = fit(net, train, { epochs: 100, loss: 'cross-entropy' }); // optimizer, validation, early stopping by default
 * console.log(auto.optimizer?.name, auto.bestEpoch);
 */
export function fit(net: Net, data: Batch, optimizer: Optimizer | 'auto' | FitOptions, options?: FitOptions): FitResult {
  const isOptimizer = (x: unknown): x is Optimizer => !!x && typeof (x as Optimizer).step === 'function';
  const given = isOptimizer(optimizer);
  // With an optimizer given, its options are the caller's: no rows held out unless asked (see the README's fit
  // section: early stopping by default cut the full-batch Adam demo's 2000 epochs short, r² 0.99998 → 0.60).
  if (given) return fitWith(net, data, optimizer, options as FitOptions);
  if (optimizer !== 'auto' && options !== undefined) throw new ArgumentError('optimizer', "must be an Optimizer (ngd, kfac, gd, sgd, adam) or 'auto'");
  options = (optimizer === 'auto' ? options : optimizer) as FitOptions;
  if (!options || typeof options !== 'object') throw new ArgumentError('options', 'must be { epochs, … }');
  if (!data || typeof data !== 'object' || !Number.isSafeInteger(data.n)) throw new ArgumentError('data', 'must be { X, Y, n }');
  // The defaults of a run whose optimizer fit picks: a fifth held out, early stopping that keeps the best epoch.
  const opts: FitOptions = { ...options };
  if (opts.validation === undefined && data.n >= 5) opts.validation = 0.2;
  if (opts.validation === 0) delete opts.validation;
  if (opts.earlyStopping === undefined && opts.validation !== undefined) opts.earlyStopping = true;
  checkDim('epochs', opts.epochs);
  const trainRows = typeof opts.validation === 'number' ? data.n - Math.min(data.n - 1, Math.max(1, Math.ceil(opts.validation * data.n))) : data.n;
  const rows = Math.max(1, Math.min(opts.batchSize ?? trainRows, trainRows));
  const choice = chooseOptimizer({ rows, outputs: net.outputDim, params: Math.max(1, net.numParams), epochs: opts.epochs, stepsPerEpoch: Math.ceil(trainRows / rows) });
  const picked = choice.optimizer === 'ngd' ? ngd({ adaptive: true }) : kfac({ adaptive: true });
  try {
    const result = fitWith(net, data, picked, opts);
    result.optimizer = { name: choice.optimizer, reason: choice.reason };
    return result;
  } finally {
    picked.dispose();
  }
}

/** Every key of {@link FitOptions}: a misspelt one is an ArgumentError with the closest key, not ignored. */
const FIT_OPTIONS: OptionShape = {
  epochs: 'number', loss: ['string', 'instance'], batchSize: 'number', seed: 'number', validation: ['number', 'instance'],
  metrics: 'array', earlyStopping: ['boolean', 'object'], belowStart: 'boolean', lr: ['number', 'function', 'instance'],
  onEpoch: 'function', onStep: 'function', signal: 'instance', resume: 'instance', bayesian: ['boolean', 'object'],
};

function fitWith(net: Net, data: Batch, optimizer: Optimizer, options: FitOptions): FitResult {
  if (!optimizer || typeof optimizer.step !== 'function') throw new ArgumentError('optimizer', "must be an Optimizer (ngd, kfac, gd, sgd, adam) or 'auto'");
  if (!options || typeof options !== 'object') throw new ArgumentError('options', 'must be { epochs, … }');
  checkOptions('fit()', options, FIT_OPTIONS);
  const { epochs, batchSize, seed = 0, metrics = [], onEpoch, onStep, signal, resume } = options;
  checkDim('epochs', epochs);
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${seed}`);
  const loss = resolveLoss(options.loss);
  checkMetrics(metrics, net, loss);
  if (!data || typeof data !== 'object') throw new ArgumentError('data', 'must be { X, Y, n }');
  net.checkInput(data.X, data.n);
  loss.checkTargets(data.Y, data.n, net.outputDim);

  let trainSet = data, valSet: Batch | undefined;
  if (options.validation === 0) {
    // 0 holds out nothing.
  } else if (typeof options.validation === 'number') {
    const split = trainTestSplit(data, { testSize: options.validation, seed });
    trainSet = split.train;
    valSet = split.test;
  } else if (options.validation !== undefined) {
    valSet = options.validation;
    if (!valSet || typeof valSet !== 'object') throw new ArgumentError('validation', 'must be { X, Y, n } or a fraction in (0, 1)');
    net.checkInput(valSet.X, valSet.n);
    loss.checkTargets(valSet.Y, valSet.n, net.outputDim);
  }
  const n = trainSet.n;
  const size = batchSize === undefined ? n : batchSize;
  if (!Number.isSafeInteger(size) || size < 1) throw new ShapeError('batchSize', `must be a positive integer, got ${batchSize}`);
  const schedule = options.lr === undefined ? undefined : resolveSchedule(options.lr);
  if (schedule && typeof (optimizer as Partial<Scheduled>).setLearningRate !== 'function') {
    throw new ArgumentError('lr', `${optimizer.name} has no setLearningRate; a schedule needs one`);
  }
  const es = resolveEarlyStopping(options.earlyStopping);

  const rng = new Rng(0).setState(resume ? checkResume(resume, net).rng : new Rng(seed + 1).getState());
  const state: FitState = resume
    ? { ...resume, best: resume.best && { ...resume.best, params: resume.best.params && resume.best.params.slice() } }
    : { epoch: 0, step: 0, rng: rng.getState() };
  if (es && !state.best) state.best = { loss: Infinity, epoch: 0, wait: 0 };
  if (options.bayesian) state.bayesian ??= bayesianStart(options.bayesian, loss);
  else delete state.bayesian;

  // The loss before training (a fresh run): an epoch that ends DIVERGENCE_FACTOR times above it has diverged.
  const initialLoss = resume ? undefined : evaluateWith(net, trainSet, loss, []).loss;
  // belowStart: the lowest monitored loss so far (validation's when there is a validation set, else the training
  // loss) and its weights, from the weights the run began with (epoch 0).
  const monitoredLoss = () => evaluateWith(net, valSet ?? trainSet, loss, []).loss;
  const startLoss = initialLoss !== undefined && options.belowStart !== false ? (valSet ? monitoredLoss() : initialLoss) : undefined;
  const floor = startLoss !== undefined ? { loss: startLoss, epoch: 0, params: net.getParams() } : undefined;
  const perm = new Uint32Array(n);
  const sizes = Math.min(size, n);
  const batch: Batch = { X: new Float64Array(sizes * net.inputDim), Y: new Float64Array(sizes * (trainSet.Y.length / n)), n: sizes };
  const history: FitResult['history'] = [];
  let stopReason: FitResult['stopReason'] = 'epochs';
  let stopRequested = false;

  while (state.epoch < epochs) {
    if (signal?.aborted) { stopReason = 'aborted'; break; }
    const start = performance.now();
    for (let i = 0; i < n; i++) perm[i] = i;
    if (size < n) rng.shuffle(perm);
    let steps = 0, rejected = 0, batchLossSum = 0, lr: number | undefined;
    for (let from = 0; from < n; from += size) {
      if (signal?.aborted) { stopReason = 'aborted'; break; }
      const m = Math.min(size, n - from);
      const b = size >= n ? trainSet : gather(trainSet, perm, from, m, batch, net.inputDim);
      if (schedule) (optimizer as unknown as Scheduled).setLearningRate((lr = schedule(state.step)));
      const stats = optimizer.step(net, b, { loss });
      const record: TrainRecord = { ...stats, step: state.step, ratio: NaN };
      state.step++;
      steps++;
      if (!stats.accepted) rejected++;
      batchLossSum += perExample(loss, stats.loss, m);
      if (onStep && onStep(record) === false) { stopReason = 'callback'; stopRequested = true; break; }
    }
    if (stopReason === 'aborted') break;
    state.epoch++;
    state.rng = rng.getState();
    const bayes = state.bayesian && bayesianEpoch(net, trainSet, loss, state.bayesian.prior, state.bayesian.noise);
    if (bayes) state.bayesian = { prior: bayes.prior, noise: bayes.noise };
    const trainEval = evaluateWith(net, trainSet, loss, metrics);
    const record: EpochRecord = {
      epoch: state.epoch, loss: trainEval.loss, batchLoss: batchLossSum / Math.max(steps, 1), metrics: trainEval.metrics,
      steps, rejected, timeMs: 0,
    };
    if (lr !== undefined) record.lr = lr;
    if (bayes) record.bayesian = bayes;
    if (!Number.isFinite(record.loss) || (initialLoss !== undefined && record.loss > DIVERGENCE_FACTOR * initialLoss)) {
      // belowStart's lowest monitored loss (the start included) is at least as low as early stopping's best.
      const back = floor?.params ?? (es?.restoreBest ? state.best?.params : undefined);
      if (back) net.setParams(back);
      throw new DivergenceError(record.loss, `epoch ${state.epoch} ended at loss ${record.loss}, ${Number.isFinite(record.loss) ? `more than ${DIVERGENCE_FACTOR}× the ${initialLoss} before training` : 'not a finite number'}`);
    }
    if (valSet) {
      const v = evaluateWith(net, valSet, loss, metrics);
      record.valLoss = v.loss;
      record.valMetrics = v.metrics;
    }
    const monitored = record.valLoss ?? record.loss;
    if (floor && monitored < floor.loss) Object.assign(floor, { loss: monitored, epoch: state.epoch, params: net.getParams() });
    let earlyStop = false;
    if (es && state.best) {
      if (monitored < state.best.loss - es.minDelta) {
        state.best = { loss: monitored, epoch: state.epoch, wait: 0, params: es.restoreBest ? net.getParams() : undefined };
      } else if (++state.best.wait >= es.patience) earlyStop = true;
    }
    record.timeMs = performance.now() - start;
    history.push(record);
    let stop = stopRequested;
    const ctx: EpochContext = { state: snapshot(state), stop: () => { stop = true; } };
    if (onEpoch && onEpoch(record, ctx) === false) stop = true;
    if (earlyStop) { stopReason = 'early-stopping'; break; }
    if (stop) { stopReason = 'callback'; break; }
  }
  const result: FitResult = { history, stopReason, state: snapshot(state) };
  if (es?.restoreBest && state.best?.params && state.best.epoch !== state.epoch) {
    net.setParams(state.best.params);
    result.bestEpoch = state.best.epoch;
  } else if (es && state.best && state.best.epoch > 0) result.bestEpoch = state.best.epoch;
  // A run that would end above where it began ends at its lowest training loss instead (belowStart).
  if (floor && !(monitoredLoss() <= startLoss!)) {
    net.setParams(floor.params);
    result.bestEpoch = floor.epoch;
  }
  return result;
}

/** An epoch whose training loss ends this many times above the loss before training has diverged ({@link fit}). */
export const DIVERGENCE_FACTOR = 100;

/** An optimizer whose learning rate a schedule can set. */
interface Scheduled {
  setLearningRate(lr: number): void;
}

function snapshot(s: FitState): FitState {
  const copy: FitState = { epoch: s.epoch, step: s.step, rng: s.rng };
  if (s.best) copy.best = { ...s.best, params: s.best.params?.slice() };
  if (s.bayesian) copy.bayesian = { ...s.bayesian };
  return copy;
}

function checkResume(r: FitState, net: Net): FitState {
  if (!r || typeof r !== 'object') throw new ArgumentError('resume', 'must be the training state of a checkpoint');
  for (const key of ['epoch', 'step', 'rng'] as const) {
    if (!Number.isSafeInteger(r[key]) || r[key] < 0) throw new ArgumentError(`resume.${key}`, `must be a non-negative integer, got ${r[key]}`);
  }
  if (r.best?.params && r.best.params.length !== net.numParams) throw new ArgumentError('resume.best.params', `expected ${net.numParams} values`);
  return r;
}

function resolveEarlyStopping(o: FitOptions['earlyStopping']): Required<EarlyStoppingOptions> | undefined {
  if (!o) return undefined;
  const { patience = 5, minDelta = 0, restoreBest = true } = o === true ? {} : o;
  if (!Number.isSafeInteger(patience) || patience < 1) throw new ArgumentError('earlyStopping.patience', `must be a positive integer, got ${patience}`);
  if (!(minDelta >= 0) || !Number.isFinite(minDelta)) throw new ArgumentError('earlyStopping.minDelta', `must be a finite number ≥ 0, got ${minDelta}`);
  return { patience, minDelta, restoreBest: !!restoreBest };
}

function gather(data: Batch, perm: Uint32Array, from: number, m: number, batch: Batch, d: number): Batch {
  const b = m === batch.n ? batch : { X: new Float64Array(m * d), Y: new Float64Array(m * (data.Y.length / data.n)), n: m };
  return copyRows(data, perm, from, b);
}

/** What {@link chooseOptimizer} weighs. */
export interface OptimizerChoiceInput {
  /** Examples per step (the batch). */
  rows: number;
  /** Outputs per example (classes, or target columns). */
  outputs: number;
  /** Trainable parameters of the net. */
  params: number;
  /** Epochs the run may take. */
  epochs: number;
  /** Steps per epoch: ⌈training rows / rows⌉ with mini-batches (default 1, full batch). */
  stepsPerEpoch?: number;
}

/** {@link chooseOptimizer}'s verdict. */
export interface OptimizerChoice {
  /** 'ngd' (exact natural gradient) or 'kfac'. */
  optimizer: 'ngd' | 'kfac';
  /** One line saying why, with the estimate. */
  reason: string;
  /** The estimated seconds of one exact-NGD step on this kind of machine. */
  ngdStepSeconds: number;
}

/**
 * The cost model behind `optimizer: 'auto'`, measured on the project's machine (AMD EPYC Zen 5,
 * 2 cores shared with other work, load average ≈ 25, Node 20.20.2, WASM SIMD; bench/auto-cost.mjs,
 * fastest of 5 adaptive-NGD steps on 9 MLPs, m 300–1500, P 451–4810): an exact NGD step on
 * m = rows × outputs Gram rows costs about NGD_GRAM_S · m²·P (forming J·Jᵀ) + NGD_SOLVE_S · m³
 * (Cholesky, solves, the damping's retries) seconds; the m³ term dominates at these sizes. Exact NGD
 * is picked while that, times the epochs, stays within AUTO_BUDGET_S and the Gram matrix within
 * AUTO_MAX_GRAM rows; K-FAC (whose step is linear in the rows) above.
 */
export const NGD_GRAM_S = 7.4e-12;
/** Seconds per m³ of an exact NGD step's factorisation and solves (see NGD_GRAM_S). */
export const NGD_SOLVE_S = 2.0e-10;
/** The time an 'auto' run may spend in exact NGD steps, in seconds. */
export const AUTO_BUDGET_S = 15;
/** The largest Gram system 'auto' hands to exact NGD (m × m doubles: 4096 rows are 128 MiB). */
export const AUTO_MAX_GRAM = 4096;

/**
 * Exact NGD while its Gram system is small, K-FAC above it: the choice `optimizer: 'auto'` makes,
 * from the cost model of NGD_GRAM_S.
 *
 * @param c the batch rows, outputs per example, trainable parameters and epochs
 * @returns the optimizer's name and one line saying why
 * @example
 * chooseOptimizer({ rows: 120, outputs: 3, params: 259, epochs: 100 }).optimizer; // 'ngd'
 */
export function chooseOptimizer(c: OptimizerChoiceInput): OptimizerChoice {
  for (const key of ['rows', 'outputs', 'params', 'epochs', 'stepsPerEpoch'] as const) {
    if (key === 'stepsPerEpoch' && c?.[key] === undefined) continue;
    if (!Number.isSafeInteger(c?.[key]) || c[key]! < 1) throw new ArgumentError(key, `must be a positive integer, got ${c?.[key]}`);
  }
  const m = c.rows * c.outputs, steps = c.stepsPerEpoch ?? 1;
  const step = NGD_GRAM_S * m * m * c.params + NGD_SOLVE_S * m ** 3;
  const total = step * c.epochs * steps;
  const what = `Gram system ${m}×${m} (${c.rows} rows × ${c.outputs} outputs), ${c.params} parameters: an exact NGD step ≈ ${fmtSeconds(step)}`;
  if (m > AUTO_MAX_GRAM) return { optimizer: 'kfac', reason: `${what}; more than ${AUTO_MAX_GRAM} Gram rows, so K-FAC`, ngdStepSeconds: step };
  const epochs = steps > 1 ? `${c.epochs} epochs of ${steps} steps` : `${c.epochs} epochs`;
  if (total > AUTO_BUDGET_S) return { optimizer: 'kfac', reason: `${what}, ${epochs} ≈ ${fmtSeconds(total)} > ${AUTO_BUDGET_S} s, so K-FAC`, ngdStepSeconds: step };
  return { optimizer: 'ngd', reason: `${what}, ${epochs} ≈ ${fmtSeconds(total)} ≤ ${AUTO_BUDGET_S} s, so exact NGD`, ngdStepSeconds: step };
}

function fmtSeconds(s: number): string {
  if (s < 0.01) return `${(s * 1e3).toPrecision(2)} ms`;
  return s < 1 ? `${Math.round(s * 1e3)} ms` : s < 100 ? `${s.toPrecision(2)} s` : `${Math.round(s)} s`;
}
