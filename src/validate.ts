import { ArgumentError, NonFiniteError, ShapeError } from './errors.js';

/** Throws ShapeError unless `value` is a non-negative safe integer. */
export function checkDim(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ShapeError(name, `must be a non-negative integer, got ${value}`);
  }
}

/** Throws ShapeError unless `data` is a Float64Array of exactly `length` elements (finiteness is checked apart). */
export function checkArray(name: string, data: unknown, length: number, what: string): asserts data is Float64Array {
  if (!(data instanceof Float64Array)) {
    throw new ShapeError(name, `must be a Float64Array (${what}), got ${data === null ? 'null' : typeof data === 'object' ? (data as object).constructor?.name : typeof data}`);
  }
  if (data.length !== length) {
    throw new ShapeError(name, `expected length ${length} (${what}), got ${data.length}`);
  }
}

/** Throws NonFiniteError naming the first NaN or ±Infinity in `data`. */
export function checkFinite(name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    // x - x is NaN exactly for NaN and ±Infinity: one test in the hot loop.
    if (x - x !== 0) throw new NonFiniteError(name, i, x);
  }
}

/** Throws ArgumentError unless `value` is a finite number ≥ 0. */
export function checkNonNegative(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ArgumentError(name, `must be a finite number ≥ 0, got ${value}`);
  }
}

/** Throws ArgumentError unless `value` is a finite number. */
export function checkFiniteNumber(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArgumentError(name, `must be a finite number, got ${value}`);
  }
}

/** Throws ArgumentError unless `value` is a finite number > 0. */
export function checkPositive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new ArgumentError(name, `must be a finite number > 0, got ${value}`);
  }
}

/** Throws ArgumentError unless 0 ≤ value < 1. */
export function checkUnit(name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ArgumentError(name, `must be in [0, 1), got ${value}`);
  }
}

/** Throws ArgumentError unless `value` is a positive safe integer. */
export function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new ArgumentError(name, `must be a positive integer, got ${value}`);
}

/** Throws ArgumentError unless `value` is one of `allowed` (named in the message as 'a', 'b' or 'c'). */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    const list = allowed.map((a) => `'${a}'`);
    const words = list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}` : list[0];
    throw new ArgumentError(name, `must be ${words}, got ${String(value)}`);
  }
}

/** Throws NonFiniteError naming `what` unless the (loss) value is finite. */
export function checkLoss(what: string, value: number): void {
  if (!Number.isFinite(value)) throw new NonFiniteError(what, 0, value);
}
