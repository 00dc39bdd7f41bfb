/**
 * The checksum of saved models and checkpoints: CRC-32 (IEEE 802.3) of the UTF-8 bytes of the
 * object's canonical JSON text, i.e. `JSON.stringify` of every member but `checksum` itself, in
 * the file's own order. CRC-32 detects every error confined to 32 consecutive bits, so any single
 * changed byte of the payload is caught. Plain TypeScript: works in Node and in browsers.
 */
import { FormatError } from '../errors.js';
import { describe } from './codec.js';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes` as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PREFIX = 'crc32:';
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** The canonical JSON text of `o` without its `checksum` member (keys a loader never reads are dropped). */
function payload(o: Record<string, unknown>): string {
  return JSON.stringify(o, function (this: unknown, key, value) {
    if (FORBIDDEN.has(key)) return undefined;
    if (this === o && key === 'checksum') return undefined;
    return value;
  });
}

/** The `checksum` value of a model or checkpoint object: `crc32:` and 8 lower-case hex digits. */
export function checksumOf(o: Record<string, unknown>): string {
  return PREFIX + crc32(new TextEncoder().encode(payload(o))).toString(16).padStart(8, '0');
}

/**
 * Checks `o.checksum` against the payload (`prefix` names the object in errors, e.g. 'model.').
 * A file without one loads when `required` is false (files written before checksums existed).
 * When `text` (the file as read) is given and has exactly the canonical text's length, it must be
 * that text: a changed byte that still parses to the same values (`1e-7` → `1E-7`, the 17th digit
 * of a number) is a corrupt file too. Throws FormatError naming `checksum`.
 */
export function verifyChecksum(o: Record<string, unknown>, required: boolean, prefix = '', text?: string): void {
  const field = `${prefix}checksum`;
  if (o.checksum === undefined) {
    if (required) throw new FormatError(field, 'is missing (this format version always has one): the file was altered');
    return;
  }
  if (typeof o.checksum !== 'string' || !/^crc32:[0-9a-f]{8}$/.test(o.checksum)) {
    throw new FormatError(field, `must be 'crc32:' and 8 hex digits, got ${describe(o.checksum)}`);
  }
  const want = checksumOf(o);
  if (o.checksum !== want) throw new FormatError(field, `mismatch (stored ${o.checksum}, the content gives ${want}): the file is corrupt or was edited`);
  if (text !== undefined) {
    const body = text.replace(/^\uFEFF/, '').trim();
    const canonical = JSON.stringify(o);
    if (body.length === canonical.length && body !== canonical) {
      let i = 0;
      while (body[i] === canonical[i]) i++;
      throw new FormatError(field, `the text differs from what was written at character ${i}: the file is corrupt`);
    }
  }
}
