/**
 * Optimizer state in checkpoints, independent of any optimizer: a state tree of numbers,
 * strings, booleans, arrays, plain objects and Float64Arrays is written as JSON (typed
 * arrays as `{ f64: base64 }`, exact; NaN and ±Infinity as `{ num: 'NaN' }`), and read back
 * through a {@link StateReader} whose every accessor names the field in its FormatError.
 */
import { FormatError } from '../errors.js';
import { decodeF64, describe, encodeF64 } from './codec.js';

/** A value of an optimizer's state. */
export type StateValue = number | string | boolean | null | Float64Array | StateValue[] | { [key: string]: StateValue };

/** The JSON form of a state tree. */
export function encodeState(v: StateValue): unknown {
  if (v instanceof Float64Array) return { f64: encodeF64(v) };
  if (typeof v === 'number') return Number.isFinite(v) ? v : { num: String(v) };
  if (Array.isArray(v)) return v.map(encodeState);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) out[key] = encodeState(v[key]);
    return out;
  }
  return v;
}

/** Reads one (untrusted) state object; every failure is a FormatError naming `field.key`. */
export class StateReader {
  constructor(private readonly value: unknown, readonly field: string) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FormatError(field, `must be an object, got ${describe(value)}`);
  }

  private raw(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.value, key) ? (this.value as Record<string, unknown>)[key] : undefined;
  }

  private path(key: string): string {
    return `${this.field}.${key}`;
  }

  /** Whether `key` holds a value (null counts as absent). */
  has(key: string): boolean {
    return this.raw(key) != null;
  }

  /** The object's own keys. */
  keys(): string[] {
    return Object.keys(this.value as object);
  }

  /** A number (finite unless `nonFinite`), optionally within [min, max]. */
  number(key: string, range: { min?: number; max?: number; nonFinite?: boolean; integer?: boolean } = {}): number {
    let v = this.raw(key);
    if (range.nonFinite && v !== null && typeof v === 'object' && typeof (v as { num?: unknown }).num === 'string') {
      const s = (v as { num: string }).num;
      if (s === 'NaN' || s === 'Infinity' || s === '-Infinity') v = Number(s);
    }
    if (typeof v !== 'number' || (!range.nonFinite && !Number.isFinite(v))) throw new FormatError(this.path(key), `must be a ${range.nonFinite ? '' : 'finite '}number, got ${describe(v)}`);
    if (range.integer && !Number.isSafeInteger(v)) throw new FormatError(this.path(key), `must be an integer, got ${v}`);
    if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
      throw new FormatError(this.path(key), `must be in [${range.min ?? '−∞'}, ${range.max ?? '∞'}], got ${v}`);
    }
    return v;
  }

  integer(key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    return this.number(key, { min, max, integer: true });
  }

  boolean(key: string): boolean {
    const v = this.raw(key);
    if (typeof v !== 'boolean') throw new FormatError(this.path(key), `must be true or false, got ${describe(v)}`);
    return v;
  }

  /** A string among `choices`. */
  choice<T extends string>(key: string, choices: readonly T[]): T {
    const v = this.raw(key);
    if (typeof v !== 'string' || !choices.includes(v as T)) throw new FormatError(this.path(key), `must be one of ${choices.join(', ')}, got ${describe(v)}`);
    return v as T;
  }

  /** A float64 array of `length` values (finite unless `nonFinite`). */
  f64(key: string, length?: number, nonFinite = false): Float64Array {
    const v = this.raw(key);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(this.path(key), `must be { f64: base64 }, got ${describe(v)}`);
    return decodeF64((v as { f64?: unknown }).f64, this.path(key), length, nonFinite);
  }

  /** A nested state object. */
  object(key: string): StateReader {
    return new StateReader(this.raw(key), this.path(key));
  }

  /** A nested array of state objects of `length` entries. */
  objects(key: string, length: number): StateReader[] {
    const v = this.raw(key);
    if (!Array.isArray(v)) throw new FormatError(this.path(key), `must be an array, got ${describe(v)}`);
    if (v.length !== length) throw new FormatError(this.path(key), `has ${v.length} entries, expected ${length}`);
    return v.map((x, i) => new StateReader(x, `${this.path(key)}[${i}]`));
  }

  /** An array of numbers of `length` entries. */
  numbers(key: string, length: number): number[] {
    const v = this.raw(key);
    if (!Array.isArray(v) || v.length !== length || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new FormatError(this.path(key), `must be an array of ${length} finite numbers, got ${describe(v)}`);
    }
    return v as number[];
  }
}
