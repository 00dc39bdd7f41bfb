/**
 * The fuzz suite's harness (issue 8, item 2). Every property draws adversarial arguments with fast-check
 * from one fixed seed and checks the library's contract for a call:
 *
 * - it returns a correct result (checked against an independent computation by the caller), or
 * - it throws a NatgradError (never a raw engine error: RangeError, TypeError, a WebAssembly trap), and then
 *   the net's parameters are byte-identical to before and the backend's count of live allocations is back
 *   where it was (no leak on the error path).
 *
 * Seed and size: FUZZ_SEED (default below) and FUZZ_RUNS (overrides every property's case count; `npm run
 * fuzz` sets it high). A failure prints the seed, the counterexample's path and how to replay it.
 */
import fc from 'fast-check';
import { NatgradError } from '../../src/errors';
import type { Kernels } from '../../src/kernels/types';
import type { Net } from '../../src/nn/net';

/** The fixed seed of `npm test`'s fuzz run. */
export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20261130;
const RUNS_OVERRIDE = process.env.FUZZ_RUNS !== undefined ? Number(process.env.FUZZ_RUNS) : undefined;

/** Cases per property: `base` in `npm test`, FUZZ_RUNS when set. */
export function runs(base: number): number {
  return RUNS_OVERRIDE ?? base;
}

/** Cases each property ran, by name (for the report in the README). */
export const casesRun = new Map<string, number>();

/**
 * Checks `predicate` on `runs(base)` cases of `arb` from the fixed seed. On failure the error names the seed
 * and path, and the command that replays exactly that case.
 */
export function check<T>(name: string, arb: fc.Arbitrary<T>, predicate: (value: T) => void, base: number): void {
  const numRuns = runs(base);
  const details = fc.check(fc.property(arb, (v) => { predicate(v); }), {
    seed: FUZZ_SEED, numRuns, path: process.env.FUZZ_PATH, endOnFailure: true,
  });
  casesRun.set(name, details.numRuns);
  if (details.failed) {
    const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} FUZZ_RUNS=1`;
    const message = `fuzz property "${name}" failed (seed ${details.seed}, path ${details.counterexamplePath}; replay with ${replay})\n` +
      `counterexample: ${fc.stringify(details.counterexample)}\n${details.errorInstance instanceof Error ? details.errorInstance.stack : String(details.errorInstance)}`;
    // eslint-disable-next-line no-console
    console.error(message);
    throw new Error(message);
  }
}

/** Live-allocation counting on one backend instance: alloc and free are wrapped once, in place. */
export interface AllocationCounter {
  readonly live: number;
}

const counters = new WeakMap<Kernels, { live: number }>();

/** Counts live blocks of `k` from now on (idempotent per backend instance). */
export function countAllocations(k: Kernels): AllocationCounter {
  let c = counters.get(k);
  if (c) return c;
  const state = { live: 0 };
  const alloc = k.alloc.bind(k), free = k.free.bind(k);
  const target = k as { alloc: Kernels['alloc']; free: Kernels['free'] };
  target.alloc = (count: number) => {
    const p = alloc(count);
    state.live++;
    return p;
  };
  target.free = (ptr: number) => {
    free(ptr);
    if (ptr !== 0) state.live--;
  };
  counters.set(k, state);
  c = state;
  return c;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `f`, capturing its result or what it threw. */
export function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Fails unless `error` is a NatgradError with a code (a raw engine error is reported with its stack). */
export function expectTyped(error: unknown, what: string): asserts error is NatgradError {
  if (!(error instanceof NatgradError) || typeof error.code !== 'string' || error.code.length === 0) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error);
    throw new Error(`${what} threw a raw error, not a NatgradError: ${detail}`);
  }
}

/** The bytes of a net's parameters (or undefined for a disposed or non-net value). */
export function paramBytes(net: unknown): Uint8Array | undefined {
  if (!net || typeof net !== 'object' || !('getParams' in net) || (net as Net).disposed) return undefined;
  return new Uint8Array((net as Net).getParams().buffer);
}

/** Fails unless a and b are equal byte for byte. */
export function expectSameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined, what: string): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined || b === undefined || a.length !== b.length) throw new Error(`${what}: changed shape`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) throw new Error(`${what}: byte ${i} changed (${a[i]} → ${b[i]}) by a call that threw`);
  }
}

/**
 * The contract of one call: runs it; when it throws, the error must be typed and the parameters of every
 * net in `nets` and the live-allocation count of `counter` must be as before. Returns the outcome so the
 * caller checks a result's correctness.
 */
export function contract<T>(what: string, counter: AllocationCounter, nets: readonly unknown[], call: () => T): Outcome<T> {
  const before = nets.map(paramBytes), live = counter.live;
  const out = attempt(call);
  if (!out.ok) {
    expectTyped(out.error, what);
    nets.forEach((net, i) => expectSameBytes(before[i], paramBytes(net), `${what}: parameters of net ${i}`));
    if (counter.live !== live) throw new Error(`${what}: threw ${(out.error as Error).message} with ${counter.live - live} allocation(s) left behind`);
  }
  return out;
}

// ---- adversarial values ----------------------------------------------------------------------

/** A dimension: small valid sizes most of the time, else 0, negative, fractional, NaN, ±Inf, huge, or not a number. */
export const dimArb = (max = 5): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max }) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 40, 2 ** 53, '3', null, undefined, true, [2]) },
);

/** How an array argument is built once its expected length is known. */
export type ArrayKind = 'ok' | 'nan' | 'inf' | 'short' | 'long' | 'plain' | 'f32' | 'null' | 'string' | 'undefined' | 'huge';

export const arrayKindArb: fc.Arbitrary<ArrayKind> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<ArrayKind>('ok') },
  { weight: 4, arbitrary: fc.constantFrom<ArrayKind>('nan', 'inf', 'short', 'long', 'plain', 'f32', 'null', 'string', 'undefined', 'huge') },
);

/** A value for an array argument of `length` elements (when that is a valid length) drawn as `kind`, seeded by `seed`. */
export function makeArray(kind: ArrayKind, length: unknown, seed: number): unknown {
  const len = Number.isSafeInteger(length) && (length as number) >= 0 && (length as number) <= 1 << 16 ? (length as number) : 3;
  const ok = () => {
    const a = new Float64Array(len);
    let s = seed >>> 0;
    for (let i = 0; i < len; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      a[i] = (s / 2 ** 32) * 2 - 1;
    }
    return a;
  };
  switch (kind) {
    case 'ok': return ok();
    case 'nan': case 'inf': {
      const a = ok();
      if (len === 0) return a;
      a[seed % len] = kind === 'nan' ? NaN : (seed & 1 ? Infinity : -Infinity);
      return a;
    }
    case 'huge': {
      const a = ok();
      for (let i = 0; i < len; i++) a[i] *= 1e300;
      return a;
    }
    case 'short': return new Float64Array(Math.max(0, len - 1));
    case 'long': return new Float64Array(len + 1);
    case 'plain': return Array.from(ok());
    case 'f32': return Float32Array.from(ok());
    case 'null': return null;
    case 'string': return 'not an array';
    case 'undefined': return undefined;
  }
}

/** A value for a numeric option: usually fine for `good`, else outside any domain or of the wrong type. */
export const numberOptionArb = (good: fc.Arbitrary<number>): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 4, arbitrary: good },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(undefined, 0, -1, NaN, Infinity, -Infinity, 1e308, -1e-300, '0.5', null, true, {}, [1]) },
);

/** An options object: known keys with values from `known`, sometimes an unknown key or not an object at all. */
export function optionsArb(known: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const record = fc.record(known, { requiredKeys: [] });
  return fc.oneof(
    { weight: 8, arbitrary: record },
    { weight: 1, arbitrary: fc.tuple(record, fc.constantFrom('learningRate', 'dampnig', 'lR', '__proto__x', 'steps2', 'seeds')).map(([r, k]) => ({ ...r, [k]: 1 })) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 5, 'fast', [], new Float64Array(1)) },
  );
}
