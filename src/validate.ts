import { ArgumentError, DivergenceError, NatgradError, NonFiniteError, ShapeError } from './errors.js';

/** Throws ShapeError unless `value` is a non-negative safe integer. */
export function checkDim(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ShapeError(name, `must be a non-negative integer, got ${got(value)}`);
  }
}

/** Throws ShapeError unless `data` is a Float64Array of exactly `length` elements (finiteness is checked apart). */
export function checkArray(name: string, data: unknown, length: number, what: string): asserts data is Float64Array {
  if (!(data instanceof Float64Array)) {
    throw new ShapeError(name, `must be a Float64Array (${what}), got ${describeValue(data)}`);
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
    throw new ArgumentError(name, `must be a finite number ≥ 0, got ${got(value)}`);
  }
}

/** Throws ArgumentError unless `value` is a finite number. */
export function checkFiniteNumber(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArgumentError(name, `must be a finite number, got ${got(value)}`);
  }
}

/** How a message shows a value that failed a numeric check: numbers as they are, anything else with its type. */
export function got(value: unknown): string {
  return typeof value === 'number' ? String(value) : describeValue(value);
}

// ---- strict options ---------------------------------------------------------------------------

/** A JavaScript type an option value may have ('integer' is a number that is a safe integer). */
/** 'object' is a plain `{…}` literal; 'instance' any other non-null, non-array object (made by a factory or a class). */
export type OptionKind = 'number' | 'integer' | 'boolean' | 'string' | 'object' | 'instance' | 'function' | 'array' | 'Float64Array';

/**
 * The rule for one option key: the kinds its value may have, optionally with the phrase used in the
 * error message (e.g. `{ kinds: ['number', 'string'], expect: "a number > 0 or 'auto'" }`). A value's
 * domain (range, allowed strings) is checked by the caller after {@link checkOptions}.
 */
export type OptionRule = OptionKind | readonly OptionKind[] | { readonly kinds: readonly OptionKind[]; readonly expect: string };

/** Every option key of a function with its rule. */
export type OptionShape = Readonly<Record<string, OptionRule>>;

const ARTICLE: Record<OptionKind, string> = {
  number: 'a number', integer: 'an integer', boolean: 'a boolean', string: 'a string', object: 'an object', function: 'a function', array: 'an array', Float64Array: 'a Float64Array',
  instance: 'an object',
};

/**
 * Strict options: throws ArgumentError unless `options` is undefined or a plain object whose every key is
 * in `shape` and whose every defined value has one of its key's kinds. An unknown key's error suggests the
 * closest valid key (`learningRate` → "did you mean 'lr'?"); a wrong type names the value's own type
 * (`got the string "0.5"`). `where` names the function (`ngd()`); `prefix` the path of a nested object
 * (`adaptive.`), so errors name `adaptive.boost`.
 *
 * @example
 * checkOptions('ngd()', options, { lr: 'number', damping: 'number', adaptive: ['boolean', 'object'] });
 */
export function checkOptions(where: string, options: unknown, shape: OptionShape, prefix = ''): void {
  if (options === undefined) return;
  const name = prefix ? prefix.slice(0, -1) : 'options';
  if (!isPlainObject(options)) {
    throw new ArgumentError(name, `${where} takes an object of options, got ${describeValue(options)}`);
  }
  const valid = Object.keys(shape);
  for (const key of Object.keys(options)) {
    if (!Object.prototype.hasOwnProperty.call(shape, key)) {
      const near = closestKey(key, valid);
      const hint = near ? `; did you mean '${prefix}${near}'?` : '';
      throw new ArgumentError(`${prefix}${key}`, `is not an option of ${where}${hint} (options: ${valid.join(', ')})`);
    }
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const rule = shape[key];
    const kinds: readonly OptionKind[] = typeof rule === 'string' ? [rule] : 'kinds' in rule ? rule.kinds : rule;
    if (!kinds.some((k) => hasKind(value, k))) {
      const expect = typeof rule === 'object' && 'expect' in rule ? rule.expect : kinds.map((k) => ARTICLE[k]).join(' or ');
      throw new ArgumentError(`${prefix}${key}`, `must be ${expect}, got ${describeValue(value)}`);
    }
  }
}

/** True for `{…}` literals and objects with a null prototype (not arrays, typed arrays, class instances). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function hasKind(value: unknown, kind: OptionKind): boolean {
  switch (kind) {
    case 'number': return typeof value === 'number';
    case 'integer': return Number.isSafeInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'string': return typeof value === 'string';
    case 'function': return typeof value === 'function';
    case 'array': return Array.isArray(value);
    case 'Float64Array': return value instanceof Float64Array;
    case 'instance': return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'object': return isPlainObject(value);
  }
}

/**
 * A value as an error message names it: `the string "0.5"`, `the number NaN`, `null`, `an array of length 3`,
 * `a Float32Array of length 4`, `an instance of Map`.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined': return 'undefined';
    case 'string': {
      const s = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
      return `the string ${s}`;
    }
    case 'number': return `the number ${value}`;
    case 'boolean': return `the boolean ${value}`;
    case 'bigint': return `the bigint ${value}n`;
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  // A typed array of any realm (a test runner's or a worker's): its tag, not instanceof.
  const tag = /^\[object (\w+(?:Array|Array64))\]$/.exec(Object.prototype.toString.call(value))?.[1];
  if (tag && tag !== 'Array') return `a ${tag} of length ${(value as { length: number }).length}`;
  if (isPlainObject(value)) return 'an object';
  const ctor = (value as object).constructor?.name;
  return ctor ? `an instance of ${ctor}` : 'an object';
}

/**
 * The valid key closest to `key`, or undefined when none is close: a key whose camel-case initials or
 * snake_case initials spell it (`learningRate`, `learning_rate` → `lr`), else the smallest
 * case-insensitive edit distance (Damerau–Levenshtein, adjacent swaps count 1; a shared stem of at least
 * 60% of the shorter name counts 1) within about a third of the longer name.
 */
export function closestKey(key: string, valid: readonly string[]): string | undefined {
  const initials = (key.match(/(^[a-z])|[A-Z]|(?<=_)[a-z]/g) ?? []).join('').toLowerCase();
  const byInitials = valid.find((v) => initials.length > 1 && v.toLowerCase() === initials);
  if (byInitials) return byInitials;
  let best: string | undefined, bestD = Infinity;
  for (const v of valid) {
    const a = key.toLowerCase(), b = v.toLowerCase();
    let prefix = 0;
    while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
    // A long shared stem ('reduce' for 'reduction') counts as one edit.
    const d = prefix >= Math.max(3, 0.6 * Math.min(a.length, b.length)) ? Math.min(1, editDistance(a, b)) : editDistance(a, b);
    if (d < bestD && d <= Math.max(1, Math.ceil(Math.max(key.length, v.length) / 3))) {
      best = v;
      bestD = d;
    }
  }
  return best;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => [i, ...new Array<number>(n).fill(0)]);
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

/**
 * Throws NonFiniteError naming the first NaN or ±Infinity of a computed result whose inputs were
 * finite (an overflow): a result never carries a silent non-finite value.
 */
export function checkResult(name: string, data: ArrayLike<number>, hint = 'the inputs or parameters are finite but too large: the result overflows double precision'): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) {
      const e = new NonFiniteError(name, i, x);
      e.message = `${name}: element ${i} is ${x}; ${hint}`;
      throw e;
    }
  }
}

/** Throws ArgumentError unless `value` is a finite number > 0. */
export function checkPositive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new ArgumentError(name, `must be a finite number > 0, got ${got(value)}`);
  }
}

/** Throws ArgumentError unless 0 ≤ value < 1. */
export function checkUnit(name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ArgumentError(name, `must be in [0, 1), got ${got(value)}`);
  }
}

/** Throws ArgumentError unless `value` is a positive safe integer. */
export function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new ArgumentError(name, `must be a positive integer, got ${got(value)}`);
}

/** Throws ArgumentError unless `value` is one of `allowed` (named in the message as 'a', 'b' or 'c'). */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    const list = allowed.map((a) => `'${a}'`);
    const words = list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}` : list[0];
    throw new ArgumentError(name, `must be ${words}, got ${typeof value === 'string' ? `'${value}'` : describeValue(value)}`);
  }
}

/**
 * Throws DivergenceError unless the loss at the current parameters is finite. The batch was checked
 * finite before, so a non-finite loss means the parameters diverged (earlier steps grew them until
 * the loss overflows), not that the inputs are bad.
 */
export function checkLoss(what: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new DivergenceError(value, `${what}: training diverged: the loss at the current parameters is ${value} although the batch is finite ` +
      '(earlier steps grew the parameters until the loss overflows); the parameters were left unchanged. Lower the learning rate or raise the ' +
      "damping, and keep ngd's and kfac's divergence guard on (the default)");
  }
}

/**
 * The most bytes one buffer of the numeric core may take: 2 GiB, the backends' memory ceiling (a
 * WASM pointer that stays a non-negative int32).
 */
export const MAX_BUFFER_BYTES = 2 ** 31;

/**
 * Throws an 'OUT_OF_MEMORY' NatgradError, before anything is allocated, when `values` float64 values
 * (a result or a scratch buffer named `what`) cannot fit in the backend's memory; the message gives
 * the bytes asked for.
 */
export function checkAllocatable(what: string, values: number): void {
  const bytes = 8 * values;
  if (!(bytes <= MAX_BUFFER_BYTES)) {
    throw new NatgradError('OUT_OF_MEMORY', `out of memory: ${bytes} bytes asked for (${what}); the backend's memory holds at most ${MAX_BUFFER_BYTES} bytes`);
  }
}
