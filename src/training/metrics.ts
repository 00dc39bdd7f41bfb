/**
 * Scoring a trained net on a data set: {@link evaluate} (the loss, or the loss per
 * example and metrics), {@link predictClasses} and {@link predictProba} for
 * classifiers; {@link fit} reports the same metrics per epoch through the helpers here.
 */
import { ArgumentError } from '../errors.js';
import { resolveLoss, type Loss, type LossSpec } from '../nn/losses.js';
import type { Batch, Net } from '../nn/net.js';
import { checkArray, checkFinite, checkOptions, checkResult } from '../validate.js';
import type { LaplacePosterior } from '../laplace/laplace.js';

/**
 * Metrics {@link fit} and {@link evaluate} can report. Calibration: 'nll' is the negative log-likelihood per example
 * (classifiers: −log p of the observed class; regressors: the Gaussian ½·log(2πv) + (y − μ)²/(2v) per value, which
 * needs predictive variances), 'ece' the expected calibration error of a classifier over 15 equal-width confidence
 * bins, 'coverage' the fraction of a regressor's targets inside their central 95% interval μ ± 1.96·√v (needs
 * variances). Variances and calibrated probabilities come from a Laplace posterior ({@link EvaluateOptions}).
 */
export type Metric = 'accuracy' | 'rmse' | 'mae' | 'r2' | 'nll' | 'ece' | 'coverage';

/** Metric values by name. */
export type MetricValues = Partial<Record<Metric, number>>;

/**
 * The loss of `net` on a data set (default ½ Σ (u − y)²), from a forward pass on
 * the net's own scratch memory. With `metrics` (an empty list too), returns the loss
 * per example (L/n for a 'sum' loss) and the requested metrics instead.
 *
 * @param net the network
 * @param data the set `{ X, Y, n }` to evaluate on
 * @param options the loss (default 'squared-error'; use the one you trained with) and the metrics to report
 * @example
 * const before = evaluate(net, { X, Y, n });
 * const { loss, metrics } = evaluate(net, test, { loss: 'cross-entropy', metrics: ['accuracy'] });
 */
export function evaluate(net: Net, data: Batch, options: EvaluateOptions & { metrics: Metric[] }): Evaluation;
export function evaluate(net: Net, data: Batch, options?: { loss?: LossSpec }): number;
export function evaluate(net: Net, data: Batch, options: EvaluateOptions = {}): number | Evaluation {
  checkOptions('evaluate()', options, { loss: ['string', 'object'], metrics: 'array', posterior: 'instance', variance: 'Float64Array' });
  if (options && options.metrics !== undefined) return evaluateMetrics(net, data, options);
  const loss = resolveLoss(options?.loss);
  if (!data || typeof data !== 'object') throw new ArgumentError('data', 'must be { X, Y, n }');
  const { X, Y, n } = data;
  net.checkInput(X, n);
  loss.checkTargets(Y, n, net.outputDim);
  const cap = net.evaluate(X, n);
  const value = loss.value(net.kernels.f64(), cap.output >> 3, Y, n, net.outputDim);
  checkResult('loss', [value]);
  return value;
}

/** Options of the metrics form of {@link evaluate}. */
export interface EvaluateOptions {
  /** The loss to report (default 'squared-error'); use the one you trained with. */
  loss?: LossSpec;
  /** The metrics to compute ('accuracy' needs a classifier and a cross-entropy loss). */
  metrics?: Metric[];
  /**
   * A Laplace posterior of the net (from `laplace`): 'nll' and 'ece' of a classifier then use its calibrated
   * class probabilities (probit), 'nll' and 'coverage' of a regressor its predictive variances.
   */
  posterior?: LaplacePosterior;
  /** Predictive variances of a regressor's outputs (n × k, each > 0), for 'nll' and 'coverage' without a posterior. */
  variance?: Float64Array;
}

/** The loss per example and the metrics of the metrics form of {@link evaluate}. */
export interface Evaluation {
  /** Mean loss per example (L/n for a 'sum' loss). */
  loss: number;
  /** The requested metrics. */
  metrics: MetricValues;
}

/** The metrics form of `evaluate` (its checks, then the loss per example and the metrics). */
function evaluateMetrics(net: Net, data: Batch, options: EvaluateOptions = {}): Evaluation {
  const loss = resolveLoss(options.loss);
  const metrics = options.metrics ?? [];
  const { posterior, variance } = options;
  checkMetrics(metrics, net, loss, posterior !== undefined || variance !== undefined);
  if (!data || typeof data !== 'object') throw new ArgumentError('data', 'must be { X, Y, n }');
  net.checkInput(data.X, data.n);
  loss.checkTargets(data.Y, data.n, net.outputDim);
  if (posterior !== undefined && typeof posterior.predict !== 'function') throw new ArgumentError('posterior', 'must be a posterior from laplace()');
  if (variance !== undefined) {
    checkArray('variance', variance, data.n * net.outputDim, `n×outputDim = ${data.n}×${net.outputDim}`);
    checkFinite('variance', variance);
    const bad = variance.findIndex((v) => !(v > 0));
    if (bad >= 0) throw new ArgumentError('variance', `element ${bad} is ${variance[bad]}; variances must be > 0`);
  }
  return evaluateWith(net, data, loss, metrics, { posterior, variance });
}

/**
 * The predicted class of each of n inputs: the index of the largest output (X is n × inputDim).
 *
 * @param net a classifier (≥ 2 outputs)
 * @param X n inputs, row-major n × inputDim
 * @param n the number of inputs
 * @returns n class indices
 * @example
 * const names = LabelEncoder.fit(species).decode(predictClasses(net, X, n));
 */
export function predictClasses(net: Net, X: Float64Array, n: number): Int32Array {
  const k = net.outputDim;
  if (k < 2) throw new ArgumentError('net', `predictClasses needs a classifier with ≥ 2 outputs, this net has ${k}`);
  const U = net.predict(X, n);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = argmax(U, i * k, k);
  return out;
}

/**
 * Class probabilities softmax(u_i) of n inputs: an n × k row-major matrix whose rows sum to 1.
 *
 * @param net a classifier (≥ 2 outputs) whose outputs are logits, as trained with 'cross-entropy'
 * @param X n inputs, row-major n × inputDim
 * @param n the number of inputs
 * @returns a new n × k Float64Array
 * @example
 * const P = predictProba(net, X, n);
 * const pFirstRowClass1 = P[1]; // row 0, class 1
 */
export function predictProba(net: Net, X: Float64Array, n: number): Float64Array {
  const k = net.outputDim;
  if (k < 2) throw new ArgumentError('net', `predictProba needs a classifier with ≥ 2 outputs, this net has ${k}`);
  return softmaxRows(net.predict(X, n), n, k);
}

export function perExample(loss: Loss, value: number, n: number): number {
  return loss.reduction === 'sum' ? value / n : value;
}

/**
 * Throws ArgumentError for an unknown metric or one the task cannot have; `variances` says whether predictive
 * variances are at hand (a posterior or an array), which a regressor's 'nll' and 'coverage' need.
 */
export function checkMetrics(metrics: Metric[], net: Net, loss: Loss, variances = false): void {
  if (!Array.isArray(metrics)) throw new ArgumentError('metrics', "must be an array such as ['accuracy']");
  for (const m of metrics) {
    if (!(METRICS as readonly string[]).includes(m)) {
      throw new ArgumentError('metrics', `unknown metric ${JSON.stringify(m)}; expected ${METRICS.map((x) => `'${x}'`).join(', ')}`);
    }
    if ((m === 'accuracy' || m === 'ece') && (net.outputDim < 2 || loss.task !== 'classification')) {
      throw new ArgumentError('metrics', `'${m}' is for classifiers (a classification loss such as cross-entropy, ≥ 2 outputs); the loss is ${loss.name}`);
    }
    if ((m === 'coverage' || m === 'nll') && loss.task === 'regression' && !variances) {
      throw new ArgumentError('metrics', `'${m}' of a regressor needs predictive variances: evaluate with { posterior } (from laplace()) or { variance }`);
    }
    if (m !== 'accuracy' && m !== 'ece' && m !== 'nll' && loss.task !== 'regression') {
      throw new ArgumentError('metrics', `'${m}' is a regression metric (a regression loss such as squared-error); the loss is ${loss.name}`);
    }
  }
}

const METRICS = ['accuracy', 'rmse', 'mae', 'r2', 'nll', 'ece', 'coverage'] as const;

/** Loss per example and metrics on a data set; the calibration metrics from `uncertainty` when given. */
export function evaluateWith(net: Net, data: Batch, loss: Loss, metrics: Metric[],
  uncertainty: { posterior?: LaplacePosterior; variance?: Float64Array } = {}): { loss: number; metrics: MetricValues } {
  const { X, Y, n } = data;
  const k = net.outputDim;
  const U = net.predict(X, n);
  const value = loss.value(U, 0, Y, n, k);
  const out: MetricValues = {};
  let probabilities: Float64Array | undefined, variance = uncertainty.variance;
  for (const m of metrics) {
    if (m !== 'nll' && m !== 'ece' && m !== 'coverage') { out[m] = metric(m, U, Y, n, k); continue; }
    if (loss.task === 'classification') {
      probabilities ??= uncertainty.posterior ? uncertainty.posterior.predictProba(X, n) : softmaxRows(U, n, k);
      out[m] = m === 'nll' ? classNll(probabilities, Y, n, k) : expectedCalibrationError(probabilities, Y, n, k);
    } else {
      variance ??= uncertainty.posterior!.predict(X, n).variance;
      out[m] = m === 'nll' ? gaussianNll(U, variance, Y) : coverage95(U, variance, Y);
    }
  }
  return { loss: perExample(loss, value, n), metrics: out };
}

function softmaxRows(U: Float64Array, n: number, k: number): Float64Array {
  const P = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let max = -Infinity, s = 0;
    for (let j = 0; j < k; j++) max = Math.max(max, U[i * k + j]);
    for (let j = 0; j < k; j++) s += (P[i * k + j] = Math.exp(U[i * k + j] - max));
    for (let j = 0; j < k; j++) P[i * k + j] /= s;
  }
  return P;
}

function metric(m: Metric, U: Float64Array, Y: Float64Array, n: number, k: number): number {
  if (m === 'accuracy') {
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const want = Y.length === n ? Y[i] : argmax(Y, i * k, k);
      if (argmax(U, i * k, k) === want) hits++;
    }
    return hits / n;
  }
  const N = n * k;
  if (m === 'rmse' || m === 'mae') {
    let s = 0;
    for (let i = 0; i < N; i++) { const r = U[i] - Y[i]; s += m === 'rmse' ? r * r : Math.abs(r); }
    return m === 'rmse' ? Math.sqrt(s / N) : s / N;
  }
  // r2: 1 − SS_res / SS_tot, each output column around its own mean, summed over columns.
  let res = 0, tot = 0;
  for (let c = 0; c < k; c++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += Y[i * k + c];
    mean /= n;
    for (let i = 0; i < n; i++) {
      res += (U[i * k + c] - Y[i * k + c]) ** 2;
      tot += (Y[i * k + c] - mean) ** 2;
    }
  }
  return tot > 0 ? 1 - res / tot : res === 0 ? 1 : -Infinity;
}

function argmax(a: Float64Array, off: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[off + j] > a[off + best]) best = j;
  return best;
}

/** z with Φ(z) = 0.975: the half-width of the central 95% interval in standard deviations. */
const Z95 = 1.959963984540054;

/** Bins of the expected calibration error. */
const ECE_BINS = 15;

/** yᵢⱼ of class-index or probability-row targets. */
function target(Y: Float64Array, n: number, k: number, i: number, j: number): number {
  return Y.length === n ? (Y[i] === j ? 1 : 0) : Y[i * k + j];
}

/** −(1/n)·Σᵢ Σⱼ yᵢⱼ·log pᵢⱼ for class probabilities P (n × k); a zero probability of an observed class gives Infinity. */
function classNll(P: Float64Array, Y: Float64Array, n: number, k: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) {
    const y = target(Y, n, k, i, j);
    if (y !== 0) s -= y * Math.log(P[i * k + j]);
  }
  return s / n;
}

/**
 * Expected calibration error with 15 equal-width confidence bins: Σ_b (|B_b|/n)·|acc(B_b) − conf(B_b)|, the
 * confidence of an input being its largest class probability and its bin ⌈15·conf⌉ (confidence 0 in the first).
 */
function expectedCalibrationError(P: Float64Array, Y: Float64Array, n: number, k: number): number {
  const count = new Float64Array(ECE_BINS), hits = new Float64Array(ECE_BINS), conf = new Float64Array(ECE_BINS);
  for (let i = 0; i < n; i++) {
    const pred = argmax(P, i * k, k), c = P[i * k + pred];
    const want = Y.length === n ? Y[i] : argmax(Y, i * k, k);
    const b = Math.min(ECE_BINS - 1, Math.max(0, Math.ceil(c * ECE_BINS) - 1));
    count[b]++;
    conf[b] += c;
    if (pred === want) hits[b]++;
  }
  let e = 0;
  for (let b = 0; b < ECE_BINS; b++) if (count[b] > 0) e += Math.abs(hits[b] - conf[b]) / n;
  return e;
}

/** Gaussian negative log-likelihood per value: mean over the n·k values of ½·log(2πv) + (y − μ)²/(2v). */
function gaussianNll(mu: Float64Array, v: Float64Array, Y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < mu.length; i++) s += 0.5 * Math.log(2 * Math.PI * v[i]) + (Y[i] - mu[i]) ** 2 / (2 * v[i]);
  return s / mu.length;
}

/** Fraction of the values inside their central 95% interval μ ± 1.96·√v. */
function coverage95(mu: Float64Array, v: Float64Array, Y: Float64Array): number {
  let inside = 0;
  for (let i = 0; i < mu.length; i++) if (Math.abs(Y[i] - mu[i]) <= Z95 * Math.sqrt(v[i])) inside++;
  return inside / mu.length;
}
