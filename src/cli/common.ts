/// <reference types="node" />
/** What train, predict and evaluate share: loading a model file and reading a table in a model's terms. */
import { readFileSync } from 'node:fs';
import { ArgumentError, FormatError, NatgradError, Standardizer, loadNet, parseJSON, type Net } from '../index.js';
import { TablePreprocessor, type CellError, type StandardizerJSON, type TablePreprocessingJSON } from '../advanced.js';
import { CliError } from './args.js';
import { columnIndex, numericMatrix, type Table } from './csv.js';

/**
 * Reads a JSON file (a saved model or a checkpoint) and decodes it with `load`; an unreadable file or
 * a FormatError is a one-line CliError naming the file (and the field).
 */
export function loadJsonFile<T>(file: string, load: (json: unknown, text: string) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return load(parseJSON(text, file), text);
  } catch (e) {
    if (e instanceof FormatError) throw new CliError(e.field === file ? e.message : `${file}: ${e.message}`);
    throw e;
  }
}

/** Reads and validates a saved model on the active backend; a bad file is a one-line CliError naming it and the field. */
export function loadModelFile(file: string): Net {
  return loadJsonFile(file, (_json, text) => loadNet(text));
}

/**
 * How a model reads a table and what its outputs mean: the table preprocessing it carries
 * (version-2 models trained by the CLI), or, for older models, its input columns as numbers
 * (standardised when it has a Standardizer) and its labels. Every method takes row numbers of `t`.
 */
export interface Codec {
  inputDim: number;
  outputDim: number;
  inputColumns: string[];
  labels?: string[];
  /** What the model stores as `preprocessing`. */
  json?: TablePreprocessingJSON | StandardizerJSON;
  /** With one scaled regression target: its std (a scaled error × std is in the target's units). */
  targetStd?: number;
  /** n × inputDim features of `rows`; `onImpute` is called for each empty cell filled in. */
  inputs(t: Table, rows: readonly number[], onImpute?: () => void): Float64Array;
  /** The targets of `rows` in the net's terms (class indices, or scaled values) from the columns `targets`. */
  targets(t: Table, rows: readonly number[], targets: readonly string[]): Float64Array;
  /** Regression outputs in the targets' units (in place). */
  decode(U: Float64Array): Float64Array;
}

/** A table preprocessing's codec; a bad cell becomes a CliError naming file, line and column. */
export function tableCodec(p: TablePreprocessor): Codec {
  const json = p.toJSON();
  const t = json.target;
  return {
    inputDim: p.inputDim, outputDim: p.outputDim, inputColumns: p.inputColumns, labels: p.classes, json,
    targetStd: t.kind === 'numbers' && t.std.length === 1 ? t.std[0] : undefined,
    inputs(table, rows, onImpute) {
      columnIndex(table, p.inputColumns, 'an input of the model');
      try {
        return p.encodeInputs(table.header, rows.map((i) => table.rows[i]), onImpute && (() => onImpute()));
      } catch (e) { throw cliCellError(e, table, rows); }
    },
    targets(table, rows, targets) {
      if (JSON.stringify(targets) !== JSON.stringify(p.targetColumns)) {
        columnIndex(table, [...targets], '--target');
        throw new CliError(`--target ${targets.join(',')}: the model predicts ${p.targetColumns.join(', ')}`);
      }
      columnIndex(table, p.targetColumns, '--target');
      try {
        return p.encodeTargets(table.header, rows.map((i) => table.rows[i]));
      } catch (e) { throw cliCellError(e, table, rows); }
    },
    decode: (U) => p.decodeOutputs(U),
  };
}

/** The codec of a loaded model (see {@link Codec}). */
export function codecOf(net: Net, t?: Table): Codec {
  if (!net.columns) throw new CliError('the model has no column names (it was not trained by the CLI); use the library API');
  if (net.preprocessing?.type === 'table') return tableCodec(TablePreprocessor.fromJSON(net.preprocessing, 'preprocessing', net.inputDim, net.outputDim));
  void t;
  const columns = net.columns.inputs, labels = net.labels;
  const scaler = net.preprocessing ? Standardizer.fromJSON(net.preprocessing) : undefined;
  return {
    inputDim: net.inputDim, outputDim: net.outputDim, inputColumns: columns, labels, json: net.preprocessing,
    inputs(table, rows) {
      const X = numericMatrix(table, columnIndex(table, columns, 'an input of the model'), rows);
      return scaler ? scaler.transform(X, rows.length) : X;
    },
    targets(table, rows, targets) {
      const cols = columnIndex(table, [...targets], '--target');
      if (!labels) {
        if (cols.length !== net.outputDim) throw new CliError(`--target names ${cols.length} columns, the model has ${net.outputDim} outputs`);
        return numericMatrix(table, cols, rows);
      }
      if (cols.length !== 1) throw new CliError('--target: a classifier has one target column');
      const index = new Map(labels.map((c, i) => [c, i]));
      return Float64Array.from(rows, (i) => {
        const c = index.get(table.rows[i][cols[0]]);
        if (c === undefined) {
          throw new CliError(`${table.file} line ${table.lines[i]}, column "${table.header[cols[0]]}": ${JSON.stringify(table.rows[i][cols[0]])} is not one of the model's classes (${labels.join(', ')})`);
        }
        return c;
      });
    },
    decode: (U) => U,
  };
}

/** A library error about one cell of `rows` (a {@link CellError}) as a CliError naming file, line and column. */
export function cliCellError(e: unknown, t: Table, rows: readonly number[]): unknown {
  const cell = (e as Partial<CellError>)?.cell;
  if (e instanceof ArgumentError && cell) {
    const message = e.message.slice(e.argument.length + 2);
    return new CliError(`${t.file} line ${t.lines[rows[cell.row]]}, column "${cell.column}": ${message}`);
  }
  if (e instanceof ArgumentError) return new CliError(`${t.file}: ${e.message}`);
  return e;
}

/** A library error during a command: one line, exit 1 (the input was accepted; the computation failed). */
export function libraryError(e: unknown): never {
  if (e instanceof NatgradError) throw new CliError(e.message, 1);
  throw e;
}


/** Formats a number for the epoch table. */
export function fmt(x: number | undefined): string {
  if (x === undefined) return '';
  if (x === 0) return '0';
  return Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toFixed(4);
}
