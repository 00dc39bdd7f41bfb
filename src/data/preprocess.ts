/**
 * Preprocessing of raw tables, fitted on training rows and saved inside the model: empty input
 * cells imputed (median of a number column, most frequent value of a text column), text columns
 * one-hot encoded (a cap on categories; a mostly-unique, ID-like column refused), number columns
 * standardised (optional), regression targets scaled and predictions scaled back, class labels
 * encoded. Cells are strings as a CSV reader gives them; numbers are decimal or exponent notation.
 */
import { ArgumentError, FormatError } from '../errors.js';
import { LabelEncoder, Standardizer } from './index.js';
import { describe } from '../encoding/codec.js';
import type { Net } from '../nn/net.js';
import type { InputColumnJSON, TablePreprocessingJSON, TargetJSON } from '../nn/spec.js';

export type { InputColumnJSON, TablePreprocessingJSON, TargetJSON };

/** A number in decimal or exponent notation: `-1.5`, `.5`, `3.`, `2e-3` (not `0x1F`, `0b1`, `Infinity`, `1_000`). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether a cell is a finite number in decimal or exponent notation. */
export function isNumberCell(s: string): boolean {
  return DECIMAL.test(s) && Number.isFinite(Number(s));
}

/** Options of {@link TablePreprocessor.fit}. */
export interface TablePreprocessorOptions {
  /** The target column(s): one for classification, one or more for regression. */
  targets: string[];
  /** 'classification' or 'regression' (see {@link detectTask} for a guess). */
  task: 'classification' | 'regression';
  /** Columns to leave out of the inputs (IDs, free text). */
  ignore?: string[];
  /** z-score the number columns with the training rows' mean and std (default true). */
  standardize?: boolean;
  /** Scale regression targets to mean 0, std 1 (predictions are scaled back; default true). */
  scaleTargets?: boolean;
  /** Most one-hot columns a text column may take; rarer values share the last one (default 100). */
  maxCategories?: number;
}

/** An ArgumentError about one cell: `argument` is `row R, column "C"`, and `cell` says where (row 0-based in the rows given). */
export type CellError = ArgumentError & {
  /** Where the cell is. */
  cell: {
    /** The row, 0-based in the rows given. */
    row: number;
    /** The column's name. */
    column: string;
  };
};

function cellError(row: number, column: string, message: string): CellError {
  return Object.assign(new ArgumentError(`row ${row}, column ${JSON.stringify(column)}`, message), { cell: { row, column } });
}

const OTHER = '\u0000other';

/**
 * A guess of the task from a target column's non-empty cells: classes when a cell is not a number,
 * or when every value is an integer and there are few distinct ones (≤ 20 and ≤ a fifth of the
 * rows, at least 2); else regression. Empty cells are never read as a class.
 *
 * @param cells the target column's cells, as strings
 * @returns 'classification' or 'regression'
 * @example
 * detectTask(['setosa', 'virginica', '']); // 'classification'
 * detectTask(['1.5', '', '2.25', '7']);    // 'regression'
 */
export function detectTask(cells: readonly string[]): 'classification' | 'regression' {
  const present = cells.filter((s) => s !== '');
  if (present.some((s) => !isNumberCell(s))) return 'classification';
  const v = present.map(Number);
  const distinct = new Set(v).size;
  return v.every(Number.isInteger) && distinct <= Math.min(20, Math.max(2, Math.floor(present.length / 5))) ? 'classification' : 'regression';
}

/**
 * Columns are found by name, so a header that names one twice would read the first for both; a row of another
 * length would read `undefined` cells (review R3). Both are an ArgumentError.
 */
function checkTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const twice = header.find((h, j) => header.indexOf(h) !== j);
  if (twice !== undefined) throw new ArgumentError('header', `names column ${JSON.stringify(twice)} twice`);
  const i = rows.findIndex((r) => !Array.isArray(r) || r.length !== header.length);
  if (i >= 0) throw new ArgumentError(`rows[${i}]`, `has ${Array.isArray(rows[i]) ? rows[i].length : 'no'} cells, the header ${header.length}`);
}

/** A text column with more distinct values than this, in more than half the rows, is refused as ID-like. */
const ID_LIKE_DISTINCT = 20;

/**
 * Fitted preprocessing of a table (see the file comment). Fit it on the training rows only, then
 * encode any rows with the same header by name; `toJSON` travels in a saved model as `preprocessing`.
 *
 * @example
 * const p = TablePreprocessor.fit(header, trainRows, { targets: ['species'], task: 'classification' });
 * const X = p.encodeInputs(header, testRows);   // n × p.inputDim, standardised, one-hot
 * const y = p.encodeTargets(header, testRows);  // class indices
 */
export class TablePreprocessor {
  private constructor(
    /** The fitted preprocessing, as saved in a model file. */
    readonly json: TablePreprocessingJSON,
  ) {}

  /** Width of an encoded input row. */
  get inputDim(): number {
    return this.json.inputs.reduce((s, c) => s + (c.kind === 'number' ? 1 : c.categories.length), 0);
  }

  /** Number of outputs a net needs: classes, or target columns. */
  get outputDim(): number {
    return this.json.target.kind === 'classes' ? this.json.target.classes.length : this.json.target.names.length;
  }

  /** Names of the input columns the encoding reads. */
  get inputColumns(): string[] {
    return this.json.inputs.map((c) => c.name);
  }

  /** Names of the target columns. */
  get targetColumns(): string[] {
    return this.json.target.kind === 'classes' ? [this.json.target.name] : [...this.json.target.names];
  }

  /** Class names of a classifier. */
  get classes(): string[] | undefined {
    return this.json.target.kind === 'classes' ? [...this.json.target.classes] : undefined;
  }

  /**
   * Fits on training rows: which columns are numbers or text (a column whose cells are mostly
   * numbers is a number column, and a cell in it that is not one a {@link CellError}), medians and most frequent values,
   * categories, means and standard deviations, classes or target scales. Rows whose target is empty
   * must be dropped first; a target cell that is empty or (regression) not a number is a {@link CellError}.
   * A text column with more than 20 distinct values that are mostly unique (more than half the rows)
   * is an ArgumentError suggesting to ignore it.
   */
  static fit(header: readonly string[], rows: readonly (readonly string[])[], options: TablePreprocessorOptions): TablePreprocessor {
    const { targets, task, ignore = [], standardize = true, scaleTargets = true, maxCategories = 100 } = options;
    if (rows.length < 1) throw new ArgumentError('rows', 'fitting needs at least one row');
    checkTable(header, rows);
    if (!Number.isSafeInteger(maxCategories) || maxCategories < 2) throw new ArgumentError('maxCategories', `must be an integer ≥ 2, got ${maxCategories}`);
    const col = (name: string, what: string) => {
      const j = header.indexOf(name);
      if (j < 0) throw new ArgumentError(what, `no column ${JSON.stringify(name)}`);
      return j;
    };
    const targetCols = targets.map((t) => col(t, 'targets'));
    const ignored = new Set(ignore.map((c) => col(c, 'ignore')));
    const inputs: InputColumnJSON[] = [];
    const numberCols: number[] = [];
    header.forEach((name, j) => {
      if (targetCols.includes(j) || ignored.has(j)) return;
      const cells = rows.map((r) => r[j]);
      const present = cells.filter((s) => s !== '');
      if (present.length === 0) throw new ArgumentError(`column ${JSON.stringify(name)}`, 'every training cell is empty; ignore the column');
      const numbers = present.filter(isNumberCell).length;
      if (numbers > present.length / 2 && numbers < present.length) {
        // Mostly numbers: the others are typos or another notation (0x1F), not categories.
        const i = cells.findIndex((x) => x !== '' && !isNumberCell(x));
        throw cellError(i, name, `${JSON.stringify(cells[i])} is not a number`);
      }
      if (numbers === present.length) {
        const v = Float64Array.from(present, Number).sort();
        const h = v.length >> 1;
        const median = v.length % 2 ? v[h] : v[h - 1] / 2 + v[h] / 2;
        inputs.push({ name, kind: 'number', impute: median, mean: 0, std: 1 });
        numberCols.push(j);
        return;
      }
      const counts = new Map<string, number>();
      for (const s of present) counts.set(s, (counts.get(s) ?? 0) + 1);
      // Decided apart from the cap: a cap of 20 threw away gapminder's 63 countries (held-out r² 0.81 → 0.97 with them).
      if (counts.size > ID_LIKE_DISTINCT && counts.size > present.length / 2) {
        throw new ArgumentError(`column ${JSON.stringify(name)}`, `is text with ${counts.size} distinct values in ${present.length} rows, like an ID or free text; leave it out (--ignore ${name})`);
      }
      const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const kept = byCount.slice(0, counts.size > maxCategories ? maxCategories - 1 : maxCategories).map(([c]) => c).sort();
      if (counts.size > maxCategories) kept.push(OTHER);
      inputs.push({ name, kind: 'category', impute: byCount[0][0], categories: kept });
    });
    if (inputs.length === 0) throw new ArgumentError('columns', 'no input columns besides the target and the ignored ones');
    const p = new TablePreprocessor({ type: 'table', inputs, target: { kind: 'numbers', names: [], mean: [], std: [] } });
    if (standardize && numberCols.length > 0) {
      // Standardise the imputed number columns (imputed cells count at the median, as they will be read).
      const numbers = inputs.filter((c) => c.kind === 'number');
      const n = rows.length, d = numbers.length;
      const X = new Float64Array(n * d);
      rows.forEach((r, i) => numberCols.forEach((j, k) => { X[i * d + k] = r[j] === '' ? (numbers[k] as { impute: number }).impute : Number(r[j]); }));
      const s = Standardizer.fit(X, n, d, numbers.map((c) => c.name));
      numbers.forEach((c, k) => { (c as { mean: number }).mean = s.mean[k]; (c as { std: number }).std = s.std[k]; });
    }
    if (task === 'classification') {
      if (targetCols.length !== 1) throw new ArgumentError('targets', 'classification takes one target column');
      const cells = rows.map((r, i) => nonEmpty(r[targetCols[0]], i, targets[0]));
      const enc = LabelEncoder.fit(cells);
      if (enc.classes.length < 2) throw new ArgumentError('targets', `column ${JSON.stringify(targets[0])} has a single class`);
      p.json.target = { kind: 'classes', name: targets[0], classes: [...enc.classes] };
    } else {
      const n = rows.length, k = targetCols.length;
      const Y = new Float64Array(n * k);
      rows.forEach((r, i) => targetCols.forEach((j, c) => { Y[i * k + c] = numberAt(r[j], i, targets[c]); }));
      const s = scaleTargets ? Standardizer.fit(Y, n, k, targets) : undefined;
      p.json.target = { kind: 'numbers', names: [...targets], mean: s ? Array.from(s.mean) : new Array(k).fill(0), std: s ? Array.from(s.std) : new Array(k).fill(1) };
    }
    return p;
  }

  /**
   * Encodes the input columns of `rows` (matched by name in `header`) into an n × inputDim
   * row-major matrix; `onImpute` is called once per empty cell filled in. A cell of a number
   * column that is not a number is a CellError; an unseen category encodes as all zeros.
   */
  encodeInputs(header: readonly string[], rows: readonly (readonly string[])[], onImpute?: (row: number, column: string) => void): Float64Array {
    checkTable(header, rows);
    const cols = this.json.inputs.map((c) => {
      const j = header.indexOf(c.name);
      if (j < 0) throw new ArgumentError('header', `no column ${JSON.stringify(c.name)} (an input of the model)`);
      return j;
    });
    const d = this.inputDim, n = rows.length;
    const X = new Float64Array(n * d);
    const index = this.json.inputs.map((c) => (c.kind === 'category' ? new Map(c.categories.map((v, i) => [v, i])) : undefined));
    for (let i = 0; i < n; i++) {
      let o = i * d;
      this.json.inputs.forEach((c, k) => {
        let s = rows[i][cols[k]];
        if (s === '') { onImpute?.(i, c.name); }
        if (c.kind === 'number') {
          const x = s === '' ? c.impute : numberAt(s, i, c.name);
          const z = (x - c.mean) / c.std;
          if (!Number.isFinite(z)) throw cellError(i, c.name, `${s} is too far outside the training range to standardise`);
          X[o++] = z;
        } else {
          if (s === '') s = c.impute;
          const m = index[k]!;
          const at = m.get(s) ?? m.get(OTHER);
          if (at !== undefined) X[o + at] = 1;
          o += c.categories.length;
        }
      });
    }
    return X;
  }

  /**
   * The targets of `rows` in the net's terms: class indices for a classifier, else n × k scaled
   * numbers. An empty cell, an unknown class or a non-number is a CellError naming row and column.
   */
  encodeTargets(header: readonly string[], rows: readonly (readonly string[])[]): Float64Array {
    checkTable(header, rows);
    const t = this.json.target;
    const cols = this.targetColumns.map((name) => {
      const j = header.indexOf(name);
      if (j < 0) throw new ArgumentError('header', `no column ${JSON.stringify(name)} (a target of the model)`);
      return j;
    });
    if (t.kind === 'classes') {
      const index = new Map(t.classes.map((c, i) => [c, i]));
      return Float64Array.from(rows, (r, i) => {
        const c = index.get(nonEmpty(r[cols[0]], i, t.name));
        if (c === undefined) throw cellError(i, t.name, `${JSON.stringify(r[cols[0]])} is not one of the model's classes (${t.classes.join(', ')})`);
        return c;
      });
    }
    const k = cols.length;
    const Y = new Float64Array(rows.length * k);
    rows.forEach((r, i) => cols.forEach((j, c) => { Y[i * k + c] = (numberAt(r[j], i, t.names[c]) - t.mean[c]) / t.std[c]; }));
    return Y;
  }

  /** Regression outputs (n × k, scaled) back in the targets' units, in place; returns U. */
  decodeOutputs(U: Float64Array): Float64Array {
    const t = this.json.target;
    if (t.kind === 'classes') return U;
    const k = t.names.length;
    for (let i = 0; i < U.length; i++) U[i] = U[i] * t.std[i % k] + t.mean[i % k];
    return U;
  }

  /** A deep copy of the JSON form. */
  toJSON(): TablePreprocessingJSON {
    return JSON.parse(JSON.stringify(this.json)) as TablePreprocessingJSON;
  }

  /** Rebuilds from {@link TablePreprocessor.toJSON} (untrusted); throws FormatError naming the field. */
  static fromJSON(json: unknown, field = 'preprocessing', inputDim?: number, outputDim?: number): TablePreprocessor {
    const o = obj(json, field);
    if (o.type !== 'table') throw new FormatError(`${field}.type`, `must be 'table', got ${describe(o.type)}`);
    if (!Array.isArray(o.inputs) || o.inputs.length === 0) throw new FormatError(`${field}.inputs`, `must be a non-empty array, got ${describe(o.inputs)}`);
    const inputs: InputColumnJSON[] = o.inputs.map((raw: unknown, k: number) => {
      const f = `${field}.inputs[${k}]`;
      const c = obj(raw, f);
      const name = str(c.name, `${f}.name`);
      if (c.kind === 'number') {
        const std = num(c.std, `${f}.std`);
        if (!(std > 0)) throw new FormatError(`${f}.std`, `must be > 0, got ${std}`);
        return { name, kind: 'number', impute: num(c.impute, `${f}.impute`), mean: num(c.mean, `${f}.mean`), std };
      }
      if (c.kind === 'category') {
        const categories = strs(c.categories, `${f}.categories`);
        if (categories.length === 0 || new Set(categories).size !== categories.length) throw new FormatError(`${f}.categories`, 'must be distinct strings, at least one');
        return { name, kind: 'category', impute: str(c.impute, `${f}.impute`), categories };
      }
      throw new FormatError(`${f}.kind`, `must be 'number' or 'category', got ${describe(c.kind)}`);
    });
    const t = obj(o.target, `${field}.target`);
    let target: TargetJSON;
    if (t.kind === 'classes') {
      const classes = strs(t.classes, `${field}.target.classes`);
      if (classes.length < 2 || new Set(classes).size !== classes.length) throw new FormatError(`${field}.target.classes`, 'must be at least 2 distinct class names');
      target = { kind: 'classes', name: str(t.name, `${field}.target.name`), classes };
    } else if (t.kind === 'numbers') {
      const names = strs(t.names, `${field}.target.names`);
      const mean = nums(t.mean, `${field}.target.mean`, names.length), std = nums(t.std, `${field}.target.std`, names.length);
      if (names.length === 0) throw new FormatError(`${field}.target.names`, 'must name at least one column');
      std.forEach((s, i) => { if (!(s > 0)) throw new FormatError(`${field}.target.std`, `element ${i} is ${s}; must be > 0`); });
      target = { kind: 'numbers', names, mean, std };
    } else throw new FormatError(`${field}.target.kind`, `must be 'classes' or 'numbers', got ${describe(t.kind)}`);
    const p = new TablePreprocessor({ type: 'table', inputs, target });
    if (inputDim !== undefined && p.inputDim !== inputDim) throw new FormatError(`${field}.inputs`, `encode ${p.inputDim} features, the net has ${inputDim} inputs`);
    if (outputDim !== undefined && p.outputDim !== outputDim) throw new FormatError(`${field}.target`, `gives ${p.outputDim} outputs, the net has ${outputDim}`);
    return p;
  }
}

function nonEmpty(s: string, row: number, column: string): string {
  if (s === '') throw cellError(row, column, 'the cell is empty');
  return s;
}

function numberAt(s: string, row: number, column: string): number {
  if (!isNumberCell(s)) throw cellError(row, column, s === '' ? 'the cell is empty' : `${JSON.stringify(s)} is not a number`);
  return Number(s);
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(field, `must be an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new FormatError(field, `must be a string, got ${describe(v)}`);
  return v;
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(field, `must be a finite number, got ${describe(v)}`);
  return v;
}

function strs(v: unknown, field: string): string[] {
  if (!Array.isArray(v)) throw new FormatError(field, `must be an array of strings, got ${describe(v)}`);
  return v.map((s, i) => str(s, `${field}[${i}]`));
}

function nums(v: unknown, field: string, length: number): number[] {
  if (!Array.isArray(v) || v.length !== length) throw new FormatError(field, `must be an array of ${length} numbers, got ${describe(v)}`);
  return v.map((x, i) => num(x, `${field}[${i}]`));
}

/** The table preprocessing a net carries, or an ArgumentError saying it has none. */
export function tablePreprocessing(net: Net): TablePreprocessor {
  const p = net.preprocessing;
  if (!p || p.type !== 'table') throw new ArgumentError('net', 'carries no table preprocessing (train it with the CLI, or set net.preprocessing = TablePreprocessor.fit(…).toJSON())');
  return TablePreprocessor.fromJSON(p, 'net.preprocessing', net.inputDim, net.outputDim);
}

/** What {@link predictTable} returns. */
export interface TablePredictions {
  /** A classifier's predicted class names, one per row. */
  classes?: string[];
  /** A classifier's class probabilities (n × k, rows sum to 1), or a regression's predictions in the targets' units (n × k). */
  values: Float64Array;
}

/**
 * Predictions for raw table rows through the preprocessing the net carries (`net.preprocessing`
 * of type 'table'): inputs matched by column name, imputed, one-hot encoded and standardised as in
 * training; class names (and probabilities) for a classifier, values in the targets' units else.
 *
 * @param net a net trained on a {@link TablePreprocessor}'s encoding
 * @param header the column names of `rows`
 * @param rows the cells, as strings
 * @returns class names and probabilities, or target values
 * @example
 * const { classes } = predictTable(net, ['bill_length_mm', 'island'], [['39.1', 'Torgersen']]);
 */
export function predictTable(net: Net, header: readonly string[], rows: readonly (readonly string[])[]): TablePredictions {
  const p = tablePreprocessing(net);
  const n = rows.length, k = net.outputDim;
  const U = net.predict(p.encodeInputs(header, rows), n);
  const classes = p.classes;
  if (!classes) return { values: p.decodeOutputs(U) };
  const names: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0, max = -Infinity, s = 0;
    for (let j = 0; j < k; j++) if (U[i * k + j] > max) { max = U[i * k + j]; best = j; }
    for (let j = 0; j < k; j++) s += (U[i * k + j] = Math.exp(U[i * k + j] - max));
    for (let j = 0; j < k; j++) U[i * k + j] /= s;
    names[i] = classes[best];
  }
  return { classes: names, values: U };
}

/** What {@link evaluateTable} returns: accuracy for a classifier, rmse, mae and r² (in the targets' units) for a regression. */
export interface TableScores {
  /** Rows scored. */
  n: number;
  /** A classifier: the fraction of rows whose predicted class is the target's. */
  accuracy?: number;
  /** A regression: the root mean squared error, in the targets' units. */
  rmse?: number;
  /** A regression: the mean absolute error, in the targets' units. */
  mae?: number;
  /** A regression: the coefficient of determination, 1 − SSE/SST. */
  r2?: number;
}

/**
 * Scores a net on raw table rows that include the target column(s), through its table preprocessing.
 *
 * @param net a net trained on a {@link TablePreprocessor}'s encoding
 * @param header the column names of `rows`
 * @param rows the cells, as strings, targets included
 * @returns accuracy, or rmse, mae and r² in the targets' units (r² averaged over target columns)
 * @example
 * const { accuracy } = evaluateTable(net, header, testRows);
 */
export function evaluateTable(net: Net, header: readonly string[], rows: readonly (readonly string[])[]): TableScores {
  const p = tablePreprocessing(net);
  const n = rows.length;
  const Y = p.encodeTargets(header, rows);
  const pred = predictTable(net, header, rows);
  if (pred.classes) {
    const classes = p.classes!;
    let hits = 0;
    for (let i = 0; i < n; i++) if (pred.classes[i] === classes[Y[i]]) hits++;
    return { n, accuracy: hits / n };
  }
  const truth = p.decodeOutputs(Y);
  return { n, ...regressionScores(pred.values, truth, n, p.outputDim) };
}

/** rmse and mae over all values, r² averaged over the k columns (1 − SSE/SST per column). */
export function regressionScores(U: Float64Array, Y: Float64Array, n: number, k: number): { rmse: number; mae: number; r2: number } {
  let se = 0, ae = 0, r2 = 0;
  for (let c = 0; c < k; c++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += Y[i * k + c] / n;
    let sse = 0, sst = 0;
    for (let i = 0; i < n; i++) {
      const e = U[i * k + c] - Y[i * k + c];
      sse += e * e; ae += Math.abs(e);
      sst += (Y[i * k + c] - mean) ** 2;
    }
    se += sse;
    r2 += (sst > 0 ? 1 - sse / sst : sse === 0 ? 1 : 0) / k;
  }
  return { rmse: Math.sqrt(se / (n * k)), mae: ae / (n * k), r2 };
}
