/**
 * Exact float64 arrays in JSON: base64 of the little-endian IEEE-754 bytes, so
 * every value (−0, subnormals, the last bit) round-trips. Works in Node and in
 * browsers (no Buffer).
 */
import { FormatError } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;
const littleEndian = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/** base64 of the little-endian bytes of `values`. */
export function encodeF64(values: Float64Array): string {
  const bytes = leBytes(values);
  let s = '';
  const CHUNK = 3 * 4096;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    const parts: string[] = [];
    for (let i = start; i < end; i += 3) {
      const b0 = bytes[i], b1 = i + 1 < end ? bytes[i + 1] : 0, b2 = i + 2 < end ? bytes[i + 2] : 0;
      const w = (b0 << 16) | (b1 << 8) | b2;
      parts.push(ALPHABET[w >> 18] + ALPHABET[(w >> 12) & 63] + (i + 1 < end ? ALPHABET[(w >> 6) & 63] : '=') + (i + 2 < end ? ALPHABET[w & 63] : '='));
    }
    s += parts.join('');
  }
  return s;
}

/**
 * Decodes {@link encodeF64}'s output. Throws FormatError naming `field` when the
 * value is not a string, not canonical base64, not a whole number of float64s,
 * not `length` values (when given), or holds NaN/±Infinity (unless allowNonFinite).
 */
export function decodeF64(value: unknown, field: string, length?: number, allowNonFinite = false): Float64Array {
  if (typeof value !== 'string') throw new FormatError(field, `must be a base64 string of float64 values, got ${describe(value)}`);
  if (value.length % 4 !== 0) throw new FormatError(field, `is not base64 (length ${value.length} is not a multiple of 4): truncated?`);
  const pad = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  const nBytes = (value.length / 4) * 3 - pad;
  if (nBytes % 8 !== 0) throw new FormatError(field, `holds ${nBytes} bytes, not a whole number of float64 values: truncated?`);
  if (length !== undefined && nBytes / 8 !== length) throw new FormatError(field, `holds ${nBytes / 8} values, expected ${length}`);
  const bytes = new Uint8Array(nBytes);
  let o = 0;
  for (let i = 0; i < value.length; i += 4) {
    let w = 0;
    for (let j = 0; j < 4; j++) {
      const ch = value.charCodeAt(i + j);
      const v = ch === 61 && i + j >= value.length - pad ? 0 : ch < 128 ? LOOKUP[ch] : -1;
      if (v < 0) throw new FormatError(field, `is not base64: character ${i + j} is ${JSON.stringify(value[i + j])}`);
      w = (w << 6) | v;
    }
    if (o < nBytes) bytes[o++] = (w >> 16) & 255;
    if (o < nBytes) bytes[o++] = (w >> 8) & 255;
    if (o < nBytes) bytes[o++] = w & 255;
  }
  if (!littleEndian) for (let i = 0; i < nBytes; i += 8) bytes.subarray(i, i + 8).reverse();
  const out = new Float64Array(bytes.buffer);
  if (!allowNonFinite) {
    for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new FormatError(field, `element ${i} is ${out[i]}; values must be finite`);
  }
  return out;
}

function leBytes(values: Float64Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  if (!littleEndian) for (let i = 0; i < bytes.length; i += 8) bytes.subarray(i, i + 8).reverse();
  return bytes;
}

/** A short description of an untrusted value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
