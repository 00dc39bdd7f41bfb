/// <reference types="node" />
/**
 * A deterministic MNIST loader over the compact subset shipped for `natgrad reproduce`
 * (the first 100 images of the digits 4 and 9, for the paper's Figure 1; MNIST
 * database CC BY-SA 3.0, see the header of digits.ts). Node only (zlib), and
 * not part of the root entry: the library and its browser build never carry the
 * pixels. The pixel module is loaded on the first call.
 */
import { inflateRawSync } from 'node:zlib';
import { ArgumentError } from '../errors.js';

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /** Digits to load, a subset of the shipped ones (default [4, 9]). */
  digits?: number[];
  /** Images per digit, the first ones of the MNIST test set order (default all shipped: 100). */
  perDigit?: number;
  /** 'unit' (default): each image scaled to unit norm (the paper's Assumption 1); 'pixels': grey levels / 255. */
  normalize?: 'unit' | 'pixels';
}

/** Images and labels from {@link loadMnist}. */
export interface MnistData {
  /** n × 784 row-major. */
  X: Float64Array;
  /** Digit of each row. */
  labels: Int32Array;
  n: number;
  d: number;
}

/**
 * Loads shipped MNIST digits, interleaved by digit (the first rows are
 * digits[0], digits[1], …, digits[0], …), so any prefix is balanced. The same
 * call returns the same numbers everywhere.
 *
 * @example
 * const { X, labels, n } = await loadMnist({ digits: [4, 9], perDigit: 16 });
 */
export async function loadMnist(options: MnistOptions = {}): Promise<MnistData> {
  const { DIGITS, PER_DIGIT, PIXELS, DATA } = await import('./digits.js');
  const digits = options.digits ?? [...DIGITS], perDigit = options.perDigit ?? PER_DIGIT, normalize = options.normalize ?? 'unit';
  if (!Array.isArray(digits) || digits.length === 0) throw new ArgumentError('digits', 'must be a non-empty array');
  for (const g of digits) if (!DIGITS.includes(g)) throw new ArgumentError('digits', `digit ${g} is not shipped (available: ${DIGITS.join(', ')})`);
  if (!Number.isSafeInteger(perDigit) || perDigit < 1 || perDigit > PER_DIGIT) throw new ArgumentError('perDigit', `must be an integer in [1, ${PER_DIGIT}], got ${perDigit}`);
  if (normalize !== 'unit' && normalize !== 'pixels') throw new ArgumentError('normalize', `must be 'unit' or 'pixels', got ${String(normalize)}`);
  const bytes = inflateRawSync(Buffer.from(DATA, 'base64'));
  const n = digits.length * perDigit, X = new Float64Array(n * PIXELS), labels = new Int32Array(n);
  for (let t = 0; t < perDigit; t++) {
    digits.forEach((g, c) => {
      const row = t * digits.length + c, src = (DIGITS.indexOf(g) * PER_DIGIT + t) * PIXELS;
      labels[row] = g;
      let s = 0;
      for (let j = 0; j < PIXELS; j++) { const v = bytes[src + j] / 255; X[row * PIXELS + j] = v; s += v * v; }
      if (normalize === 'unit') { const norm = Math.sqrt(s); for (let j = 0; j < PIXELS; j++) X[row * PIXELS + j] /= norm; }
    });
  }
  return { X, labels, n, d: PIXELS };
}
