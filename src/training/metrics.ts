/**
 * Scoring a trained net on a data set: {@link evaluate} (the loss, or the loss per
 * example and metrics), {@link predictClasses} and {@link predictProba} for
 * classifiers; {@link fit} reports the same metrics per epoch through the helpers here.
 */
import { ArgumentError } from '../errors.js';
import { resolveLoss, type Loss, type LossSpec } from '../nn/losses.js';
import type { Batch, Net } from '../nn/net.js';
import { checkOptions, checkResult } from '../validate.js';

/** Metrics {@link fit} and {@link evaluate} can report. */
export type Metric = 'accuracy' | 'rmse' | 'mae' | 'r2';

/** Metric values by name. */
export type MetricValues = Partial<Record<Metric, number>>;

/**
 * The loss of `net` on a data set (default ½ Σ (u − y)²), from a forward pass on
 * the net's own scratch memory. With `metrics`, returns the loss per example
 * and the metrics instead (see {@link evaluateMetrics}).
 *
 * @param net the network
 * @param data the set `{ X, Y, n }` to evaluate on
 * @param options the loss (default 'squared-error'); use the one you trained with
 * @example
 * const before = evaluate(net, { X, Y, n });
 * const { loss, metrics } = evaluate(net, test, { loss: 'cross-entropy', metrics: ['accuracy'] });
 */
export function evaluate(net: Net, data: Batch, options: EvaluateOptions & { metrics: Metric[] }): Evaluation;
export function evaluate(net: Net, data: Batch, options?: { loss?: LossSpec }): number;
export function evaluate(net: Net, data: Batch, options: EvaluateOptions = {}): number | Evaluation {
  checkOptions('evaluate()', options, { loss: ['string', 'object'], metrics: 'array' });
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
}

/** The loss per example and the metrics of the metrics form of {@link evaluate}. */
export interface Evaluation {
  /** Mean loss per example (L/n for a 'sum' loss). */
  loss: number;
  /** The requested metrics. */
  metrics: MetricValues;
}

/**
 * The metrics form of `evaluate`: the loss per example and the requested metrics on a data set.
 * (`evaluate(net, data, { loss })` without `metrics` keeps returning the loss as defined, a number.)
 *
 * @param net the network
 * @param data the set `{ X, Y, n }` to evaluate on
 * @param options the loss and the metrics to report
 * @returns the loss per example and the metrics
 * @example
 * const { loss, metrics } = evaluateMetrics(net, test, { loss: 'cross-entropy', metrics: ['accuracy'] });
 */
export function evaluateMetrics(net: Net, data: Batch, options: EvaluateOptions = {}): Evaluation {
  const loss = resolveLoss(options.loss);
  const metrics = options.metrics ?? [];
  checkMetrics(metrics, net, loss);
  if (!data || typeof data !== 'object') throw new ArgumentError('data', 'must be { X, Y, n }');
  net.checkInput(data.X, data.n);
  loss.checkTargets(data.Y, data.n, net.outputDim);
  return evaluateWith(net, data, loss, metrics);
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
  const P = net.predict(X, n);
  for (let i = 0; i < n; i++) {
    let max = -Infinity, s = 0;
    for (let j = 0; j < k; j++) max = Math.max(max, P[i * k + j]);
    for (let j = 0; j < k; j++) s += (P[i * k + j] = Math.exp(P[i * k + j] - max));
    for (let j = 0; j < k; j++) P[i * k + j] /= s;
  }
  return P;
}

export function perExample(loss: Loss, value: number, n: number): number {
  return loss.reduction === 'sum' ? value / n : value;
}

export function checkMetrics(metrics: Metric[], net: Net, loss: Loss): void {
  if (!Array.isArray(metrics)) throw new ArgumentError('metrics', "must be an array such as ['accuracy']");
  for (const m of metrics) {
    if (m !== 'accuracy' && m !== 'rmse' && m !== 'mae' && m !== 'r2') {
      throw new ArgumentError('metrics', `unknown metric ${JSON.stringify(m)}; expected 'accuracy', 'rmse', 'mae' or 'r2'`);
    }
    if (m === 'accuracy' && (net.outputDim < 2 || loss.task !== 'classification')) {
      throw new ArgumentError('metrics', `'accuracy' is for classifiers (a classification loss such as cross-entropy, ≥ 2 outputs); the loss is ${loss.name}`);
    }
    if (m !== 'accuracy' && loss.task !== 'regression') {
      throw new ArgumentError('metrics', `'${m}' is a regression metric (a regression loss such as squared-error); the loss is ${loss.name}`);
    }
  }
}

/** Loss per example and metrics on a data set. */
export function evaluateWith(net: Net, data: Batch, loss: Loss, metrics: Metric[]): { loss: number; metrics: MetricValues } {
  const { X, Y, n } = data;
  const k = net.outputDim;
  const U = net.predict(X, n);
  const value = loss.value(U, 0, Y, n, k);
  const out: MetricValues = {};
  for (const m of metrics) out[m] = metric(m, U, Y, n, k);
  return { loss: perExample(loss, value, n), metrics: out };
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
