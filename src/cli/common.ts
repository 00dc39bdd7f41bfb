/// <reference types="node" />
/** What train, predict and evaluate share: loading a model file and reading a table in a model's terms. */
import { readFileSync } from 'node:fs';
import { FormatError, NatgradError, Standardizer, loadNet, parseJSON, type Net } from '../index.js';
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

/** The model's input columns of `t` (matched by header name), standardised as the model was: n × inputDim. */
export function inputsFor(net: Net, t: Table): Float64Array {
  if (!net.columns) throw new CliError('the model has no column names (it was not trained by the CLI); use the library API');
  const X = numericMatrix(t, columnIndex(t, net.columns.inputs, 'an input of the model'));
  return net.preprocessing ? Standardizer.fromJSON(net.preprocessing).transform(X, t.rows.length) : X;
}

/** The targets of `t` in the model's terms: class indices for a classifier (labels by name), else n × k numbers. */
export function targetsFor(net: Net, t: Table, targets: string[]): Float64Array {
  const cols = columnIndex(t, targets, '--target');
  if (!net.labels) {
    if (cols.length !== net.outputDim) throw new CliError(`--target names ${cols.length} columns, the model has ${net.outputDim} outputs`);
    return numericMatrix(t, cols);
  }
  if (cols.length !== 1) throw new CliError('--target: a classifier has one target column');
  const index = new Map(net.labels.map((c, i) => [c, i]));
  return Float64Array.from(t.rows, (row, i) => {
    const c = index.get(row[cols[0]]);
    if (c === undefined) {
      throw new CliError(`${t.file} line ${t.lines[i]}, column "${t.header[cols[0]]}": ${JSON.stringify(row[cols[0]])} is not one of the model's classes (${net.labels!.join(', ')})`);
    }
    return c;
  });
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
