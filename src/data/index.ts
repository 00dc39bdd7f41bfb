/**
 * Data helpers for training on real tables: one-hot targets, a seeded train/test
 * split, feature standardisation and string class labels. Everything is plain
 * TypeScript over row-major Float64Arrays (n rows × d columns), backend-free.
 */
import { ArgumentError, FormatError, ShapeError } from '../errors.js';
import { Rng } from '../nn/random.js';
import type { Batch } from '../nn/net.js';
import type { StandardizerJSON } from '../nn/spec.js';
import { checkArray, checkDim, checkFinite } from '../validate.js';
import { decodeF64, encodeF64 } from '../encoding/codec.js';

/**
 * One-hot rows: an n × k matrix with row i all 0 except column labels[i].
 *
 * @param labels n class indices, integers in [0, k)
 * @param k the number of classes (columns)
 * @returns a new n × k row-major Float64Array
 * @throws ArgumentError for a label that is not an integer in [0, k)
 * @example
 * oneHot([2, 0], 3); // Float64Array [0, 0, 1, 1, 0, 0]
 */
export function oneHot(labels: ArrayLike<number>, k: number): Float64Array {
  if (!labels || typeof labels.length !== 'number') throw new ArgumentError('labels', 'must be an array of class indices');
  checkDim('k', k);
  if (k < 1) throw new ShapeError('k', 'needs at least one class');
  const n = labels.length;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= k) throw new ArgumentError('labels', `element ${i} is ${c}; class indices must be integers in [0, ${k})`);
    out[i * k + c] = 1;
  }
  return out;
}

/** Options of {@link trainTestSplit}. */
export interface SplitOptions {
  /** Fraction of the rows held out, in (0, 1) (default 0.2); at least one row goes to each side. */
  testSize?: number;
  /** Seed of the shuffle (default 0): the same seed gives the same split on every machine. */
  seed?: number;
}

/** What {@link trainTestSplit} returns: the two sets and which original rows went where. */
export interface Split {
  /** The training rows (copies). */
  train: Batch;
  /** The held-out rows (copies). */
  test: Batch;
  /** Original row numbers of `train`, ascending. */
  trainIndex: Uint32Array;
  /** Original row numbers of `test`, ascending. */
  testIndex: Uint32Array;
}

/**
 * Splits n examples into a training and a held-out set by a seeded shuffle.
 * X is n × d and Y is n × c (any c ≥ 1, e.g. class indices or one-hot rows),
 * both row-major; rows keep their X/Y pairing. The test rows are the first
 * ⌈testSize·n⌉ (clamped to [1, n − 1]) of the permutation, in original order.
 *
 * @param data the examples `{ X, Y, n }` (not modified)
 * @param options the held-out fraction and the seed of the shuffle
 * @returns copies of the two sets and the original row numbers of each
 * @throws ArgumentError for a testSize outside (0, 1) or a non-integer seed; ShapeError for fewer than 2 rows or arrays that are not n × something
 * @example
 * const { train, test } = trainTestSplit({ X, Y, n }, { testSize: 0.25, seed: 1 });
 */
export function trainTestSplit(data: Batch, options: SplitOptions = {}): Split {
  const { X, Y, n } = checkBatch(data);
  const { testSize = 0.2, seed = 0 } = options;
  if (typeof testSize !== 'number' || !(testSize > 0 && testSize < 1)) throw new ArgumentError('testSize', `must be in (0, 1), got ${testSize}`);
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${seed}`);
  if (n < 2) throw new ShapeError('n', 'a split needs at least 2 examples');
  const nTest = Math.min(n - 1, Math.max(1, Math.ceil(testSize * n)));
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  new Rng(seed).shuffle(perm);
  const testIndex = perm.slice(0, nTest).sort();
  const trainIndex = perm.slice(nTest).sort();
  return { train: takeRows(data, trainIndex), test: takeRows(data, testIndex), trainIndex, testIndex };
}

/**
 * The rows `index` of a batch, X and Y gathered alike, in the order of `index` (rows may repeat).
 *
 * @param data the examples `{ X, Y, n }` (not modified)
 * @param index row numbers, integers in [0, n)
 * @returns a new batch of `index.length` rows
 * @throws ArgumentError for a row number that is not an integer in [0, n); ShapeError for arrays that are not n × something
 * @example
 * const data = { X: new Float64Array([0, 1, 2, 3]), Y: new Float64Array([10, 20]), n: 2 };
 * takeRows(data, [1]); // { X: Float64Array [2, 3], Y: Float64Array [20], n: 1 }
 */
export function takeRows(data: Batch, index: ArrayLike<number>): Batch {
  const { X, Y, n } = checkBatch(data);
  if (!index || typeof index.length !== 'number') throw new ArgumentError('index', 'must be an array of row numbers');
  const m = index.length;
  for (let r = 0; r < m; r++) {
    const i = index[r];
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new ArgumentError('index', `element ${r} is ${i}; row numbers must be integers in [0, ${n})`);
  }
  return copyRows(data, index, 0, { X: new Float64Array(m * (X.length / n)), Y: new Float64Array(m * (Y.length / n)), n: m });
}

/**
 * Copies rows `index[from]`, …, `index[from + out.n − 1]` of `data` (X and Y row-major) into `out`, which must
 * have room for `out.n` rows of the same widths, and returns `out`. Unchecked: the one row gatherer behind
 * {@link takeRows} (which validates) and the mini-batch loops of `train` and `fit` (which reuse `out`).
 */
export function copyRows(data: Batch, index: ArrayLike<number>, from: number, out: Batch): Batch {
  const d = data.X.length / data.n, c = data.Y.length / data.n;
  for (let r = 0; r < out.n; r++) {
    const i = index[from + r];
    out.X.set(data.X.subarray(i * d, (i + 1) * d), r * d);
    out.Y.set(data.Y.subarray(i * c, (i + 1) * c), r * c);
  }
  return out;
}

function checkBatch(data: Batch): Batch {
  if (!data || typeof data !== 'object') throw new ArgumentError('data', 'must be { X, Y, n }');
  const { X, Y, n } = data;
  checkDim('n', n);
  if (!(X instanceof Float64Array) || n === 0 || X.length % n !== 0) throw new ShapeError('X', `must be a Float64Array of n×d values (n = ${n})`);
  if (!(Y instanceof Float64Array) || Y.length % n !== 0) throw new ShapeError('Y', `must be a Float64Array of n×c values (n = ${n})`);
  return data;
}

/**
 * z-scores features with the mean and standard deviation of the data it was fitted on:
 * x′ = (x − mean) / std per column (population std; a constant column gets std 1), safe on
 * columns of any magnitude (±1e300 or 1e-300).
 * Fit on the training features only, then transform any set with the same numbers;
 * `toJSON` carries them inside a saved model.
 *
 * @example
 * const scaler = Standardizer.fit(train.X, train.n);
 * const Xs = scaler.transform(test.X, test.n);
 */
export class Standardizer {
  private constructor(
    /** Column means. */
    readonly mean: Float64Array,
    /** Column standard deviations (population), all > 0. */
    readonly std: Float64Array,
  ) {}

  /**
   * Fits on n rows of X (n × d, row-major); d defaults to X.length / n. Each column's sums are
   * taken on the column divided by a power of two near its largest magnitude (an exact scaling),
   * so columns near ±1e308 do not overflow and tiny ones (1e-300) keep their precision; the mean
   * gets one refinement pass, so a spread far below the magnitude (1 ± 1e-9) is resolved. A column whose spread is below 1e-13 of its
   * magnitude (constant up to rounding) is only centred (std 1). A spread that float64 cannot
   * represent is an ArgumentError naming the column (`columns[j]` when given, else its index).
   */
  static fit(X: Float64Array, n: number, d = n > 0 ? X.length / n : 0, columns?: readonly string[]): Standardizer {
    checkDim('n', n);
    if (n < 1) throw new ShapeError('n', 'fitting a Standardizer needs at least one row');
    checkDim('d', d);
    checkArray('X', X, n * d, `n×d = ${n}×${d}`);
    checkFinite('X', X);
    const mean = new Float64Array(d), std = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(X[i * d + j]));
      if (max === 0) { std[j] = 1; continue; }
      const p = 2 ** Math.min(1023, Math.max(-1074, Math.ceil(Math.log2(max))));
      let m = 0;
      for (let i = 0; i < n; i++) m += X[i * d + j] / p;
      m /= n;
      // One refinement pass: the rounding error of the mean matters for columns whose spread is far below their size.
      let c = 0;
      for (let i = 0; i < n; i++) c += X[i * d + j] / p - m;
      m += c / n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (X[i * d + j] / p - m) ** 2;
      const r = Math.sqrt(v / n);
      mean[j] = m * p;
      if (!(r > 1e-13 * (max / p))) { std[j] = 1; continue; }
      const sd = r * p;
      if (!(sd >= 2.2250738585072014e-308 && Number.isFinite(sd))) {
        throw new ArgumentError(`X column ${columns?.[j] !== undefined ? JSON.stringify(columns[j]) : j}`, `its spread (${sd}) is too small to standardise in float64; rescale the column`);
      }
      std[j] = sd;
    }
    return new Standardizer(mean, std);
  }

  /** Number of columns. */
  get dim(): number {
    return this.mean.length;
  }

  /**
   * (X − mean) / std for n rows, into a new array. A value whose z-score overflows float64 (far
   * outside what the scaler was fitted on) is an ArgumentError naming the row and column.
   */
  transform(X: Float64Array, n: number): Float64Array {
    const d = this.dim;
    checkDim('n', n);
    checkArray('X', X, n * d, `n×d = ${n}×${d}`);
    const out = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const x = X[i * d + j];
        let z = (x - this.mean[j]) / this.std[j];
        if (!Number.isFinite(z)) z = x / this.std[j] - this.mean[j] / this.std[j];
        if (!Number.isFinite(z) && Number.isFinite(x)) throw new ArgumentError('X', `row ${i}, column ${j}: ${x} is too far outside the fitted range to standardise (z-score overflows)`);
        out[i * d + j] = z;
      }
    }
    return out;
  }

  /** The mean and std as exact JSON data (what a saved model stores as `preprocessing`). */
  toJSON(): StandardizerJSON {
    return { type: 'standardize', mean: encodeF64(this.mean), std: encodeF64(this.std) };
  }

  /** Rebuilds from {@link Standardizer.toJSON}; `field` names the object in errors. Throws FormatError. */
  static fromJSON(json: unknown, field = 'preprocessing', dim?: number): Standardizer {
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new FormatError(field, 'must be an object');
    const o = json as Record<string, unknown>;
    if (o.type !== 'standardize') throw new FormatError(`${field}.type`, `must be 'standardize', got ${JSON.stringify(o.type)}`);
    const mean = decodeF64(o.mean, `${field}.mean`, dim);
    const std = decodeF64(o.std, `${field}.std`, mean.length);
    for (let j = 0; j < std.length; j++) if (!(std[j] > 0)) throw new FormatError(`${field}.std`, `element ${j} is ${std[j]}; must be > 0`);
    return new Standardizer(mean, std);
  }
}

/**
 * Maps string class labels to indices 0…k−1 and back. Classes are sorted
 * (numerically when all of them are numbers, else by code point), so the mapping
 * does not depend on row order; it travels with a saved model as `labels`.
 *
 * @example
 * const enc = LabelEncoder.fit(['setosa', 'virginica', 'setosa']);
 * enc.classes;                  // ['setosa', 'virginica']
 * enc.encode(['virginica']);    // Float64Array [1]
 */
export class LabelEncoder {
  private readonly index: Map<string, number>;

  /**
   * An encoder for these classes, in this order (index i ↔ classes[i]); {@link LabelEncoder.fit} sorts them for you.
   *
   * @param classes distinct class names
   */
  constructor(
    /** The class names; index i encodes classes[i]. */
    readonly classes: readonly string[],
  ) {
    if (!Array.isArray(classes) || classes.length === 0) throw new ArgumentError('classes', 'must be a non-empty array of strings');
    this.index = new Map();
    classes.forEach((c, i) => {
      if (typeof c !== 'string') throw new ArgumentError('classes', `element ${i} is not a string`);
      if (this.index.has(c)) throw new ArgumentError('classes', `"${c}" appears twice`);
      this.index.set(c, i);
    });
  }

  /** The sorted distinct values of `values`. */
  static fit(values: readonly string[]): LabelEncoder {
    const distinct = [...new Set(values.map(String))];
    const numeric = distinct.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
    distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return new LabelEncoder(distinct);
  }

  /** Class indices of `values`; an unseen value throws ArgumentError naming it. */
  encode(values: readonly string[]): Float64Array {
    const out = new Float64Array(values.length);
    values.forEach((v, i) => {
      const c = this.index.get(String(v));
      if (c === undefined) throw new ArgumentError('labels', `element ${i} is "${v}", not one of the ${this.classes.length} known classes`);
      out[i] = c;
    });
    return out;
  }

  /** Class names of indices. */
  decode(indices: ArrayLike<number>): string[] {
    return Array.from(indices, (c, i) => {
      const name = this.classes[c];
      if (name === undefined) throw new ArgumentError('indices', `element ${i} is ${c}, not a class index in [0, ${this.classes.length})`);
      return name;
    });
  }
}
