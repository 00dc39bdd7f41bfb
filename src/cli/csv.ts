/// <reference types="node" />
/**
 * The one CSV reader of the CLI, on `csv-parse`: a header row, quoted fields,
 * CRLF or LF, a UTF-8 BOM and empty lines are handled by the library; this file
 * turns cells into numbers and every problem into a one-line CliError naming the
 * file, the line and the column.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { isNumberCell } from '../data/preprocess.js';
import { CliError, closest } from './args.js';

/** A parsed table: the header and the records as strings, with each record's line number. */
export interface Table {
  file: string;
  header: string[];
  rows: string[][];
  /** 1-based line number of each row in the file. */
  lines: number[];
}

/** Reads and parses a CSV file with a header row; throws CliError for unreadable or malformed files. */
export function readCsv(file: string): Table {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (e) {
    throw new CliError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, info: true, trim: true }) as unknown as typeof records;
  } catch (e) {
    const err = e as Error & { lines?: number; code?: string; record?: string[] };
    const where = `${file}${err.lines ? ` line ${err.lines}` : ''}`;
    if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && err.record) {
      throw new CliError(`${where}: ${err.record.length} fields, but the first row has a different count`);
    }
    throw new CliError(`${where}: ${err.message.split('\n')[0]}`);
  }
  if (records.length === 0) throw new CliError(`${file}: the file is empty (a header row is needed)`);
  const header = records[0].record;
  const seen = new Set<string>();
  header.forEach((h, j) => {
    if (h === '') throw new CliError(`${file} line ${records[0].info.lines}: column ${j + 1} of the header has no name`);
    if (seen.has(h)) throw new CliError(`${file} line ${records[0].info.lines}: the header names column "${h}" twice`);
    seen.add(h);
  });
  const rows = records.slice(1).map((r) => r.record);
  if (rows.length === 0) throw new CliError(`${file}: no data rows after the header`);
  return { file, header, rows, lines: records.slice(1).map((r) => r.info.lines) };
}

/** Index of each of `names` in the header; a missing one is a CliError listing the available columns. */
export function columnIndex(t: Table, names: string[], flag: string): number[] {
  return names.map((name) => {
    const j = t.header.indexOf(name);
    if (j < 0) {
      const near = closest(name, t.header);
      throw new CliError(`${t.file}: no column "${name}" (${flag})${near ? `; did you mean "${near}"? The columns are` : '; the columns are'}: ${t.header.join(', ')}`);
    }
    return j;
  });
}

/** The cell at (row, column) as a finite number, or a CliError `file line L, column "c": "v" is not a number`. */
export function cellNumber(t: Table, row: number, col: number): number {
  const s = t.rows[row][col];
  const x = isNumberCell(s) ? Number(s) : NaN;
  if (!Number.isFinite(x)) {
    throw new CliError(`${t.file} line ${t.lines[row]}, column "${t.header[col]}": ${s === '' ? 'the cell is empty' : `${JSON.stringify(s)} is not a number`}`);
  }
  return x;
}

/** The columns `cols` of the rows `rows` (default all) as a row-major Float64Array (rows × cols.length). */
export function numericMatrix(t: Table, cols: number[], rows: readonly number[] = t.rows.map((_, i) => i)): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  rows.forEach((i, r) => { for (let j = 0; j < cols.length; j++) out[r * cols.length + j] = cellNumber(t, i, cols[j]); });
  return out;
}

/** Formats rows as CSV text (fields quoted when needed), CRLF-free. */
export function toCsv(header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => {
    const s = typeof v === 'number' ? String(v) : v;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[header, ...rows].map((r) => r.map(cell).join(',')).join('\n')}\n`;
}
