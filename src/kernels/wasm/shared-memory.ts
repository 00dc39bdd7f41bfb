/**
 * The shared-memory variant of a kernels module, derived from its private-memory bytes by
 * rewriting the limits of its `env.memory` import (flags 0x03: shared, with a maximum), so the
 * package embeds each SIMD build once. What asc emits with --sharedMemory differs from this only
 * in that import and in Binaryen's scheduling of `memory.size` inside the allocator's growth
 * path, which only the calling thread's instance ever runs (workers never allocate).
 */

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0, shift = 0, b: number;
  do {
    b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [value, at];
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

/** Skips a name (length-prefixed bytes). */
function skipName(bytes: Uint8Array, at: number): number {
  const [len, next] = readLeb(bytes, at);
  return next + len;
}

/** Skips a limits record (flags, min, and max when flags say so). */
function skipLimits(bytes: Uint8Array, at: number): number {
  const flags = bytes[at++];
  at = readLeb(bytes, at)[1];
  return flags & 1 ? readLeb(bytes, at)[1] : at;
}

/**
 * `bytes` with its memory import declared shared with maximum `maxPages`; throws if the module
 * imports no memory (not a kernels module).
 */
export function withSharedMemory(bytes: Uint8Array, maxPages: number): Uint8Array<ArrayBuffer> {
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, payload] = readLeb(bytes, at + 1);
    const end = payload + size;
    if (id === 2) {
      let p = payload;
      let count: number;
      [count, p] = readLeb(bytes, p);
      for (let i = 0; i < count; i++) {
        p = skipName(bytes, skipName(bytes, p));
        const kind = bytes[p++];
        if (kind === 0x00) p = readLeb(bytes, p)[1]; // function: type index
        else if (kind === 0x01) p = skipLimits(bytes, p + 1); // table: reftype, limits
        else if (kind === 0x03) p += 2; // global: valtype, mutability
        else if (kind === 0x02) {
          const limitsEnd = skipLimits(bytes, p);
          const min = readLeb(bytes, p + 1)[0];
          const limits = [0x03, ...leb(min), ...leb(maxPages)];
          const section = [...bytes.subarray(payload, p), ...limits, ...bytes.subarray(limitsEnd, end)];
          const out = new Uint8Array(at + 1 + leb(section.length).length + section.length + (bytes.length - end));
          out.set(bytes.subarray(0, at + 1));
          out.set(leb(section.length), at + 1);
          out.set(section, at + 1 + leb(section.length).length);
          out.set(bytes.subarray(end), at + 1 + leb(section.length).length + section.length);
          return out;
        } else break;
      }
    }
    at = end;
  }
  throw new Error('natgrad: the kernels module imports no memory');
}
