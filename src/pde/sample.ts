/**
 * Point sets of a box domain and of its boundary: tensor grids and seeded uniform samples,
 * as n × d row-major Float64Arrays.
 */
import { ArgumentError } from '../errors.js';
import { Rng } from '../nn/random.js';
import { got } from '../validate.js';

/** How to place points: a tensor grid of `grid` points per coordinate, or `random` uniform points from `seed`. */
export type Sampler = {
  /** Points per coordinate of a tensor grid. */
  grid: number;
} | {
  /** Number of uniform random points. */
  random: number;
  /** Their seed (default 0). */
  seed?: number;
};

/** An axis-aligned box [lower₁, upper₁] × … × [lower_d, upper_d]. */
export interface Box {
  /** The lower end of each coordinate. */
  lower: readonly number[];
  /** The upper end of each coordinate (> lower). */
  upper: readonly number[];
}

/** Points: n rows of d coordinates. */
export interface Points {
  X: Float64Array;
  n: number;
}

/** The most points one sampler may make. */
const MAX_POINTS = 1 << 21;

/** Checks a box: same lengths ≥ 1, finite, lower < upper in every coordinate (ArgumentError naming `name`). */
export function checkBox(name: string, box: Box): void {
  if (!box || !Array.isArray(box.lower) || !Array.isArray(box.upper)) throw new ArgumentError(name, 'needs { lower: number[], upper: number[] }');
  if (box.lower.length === 0 || box.lower.length !== box.upper.length) {
    throw new ArgumentError(name, `lower and upper need the same number (≥ 1) of coordinates, got ${box.lower.length} and ${box.upper.length}`);
  }
  for (let c = 0; c < box.lower.length; c++) {
    const a = box.lower[c], b = box.upper[c];
    if (!(Number.isFinite(a) && Number.isFinite(b) && a < b)) {
      throw new ArgumentError(name, `coordinate ${c} is [${got(a)}, ${got(b)}]: an empty or degenerate interval (need finite lower < upper)`);
    }
  }
}

/** Validates a sampler; returns its point count per grid axis or its random count. */
function checkSampler(name: string, s: Sampler | undefined): void {
  if (!s || typeof s !== 'object') throw new ArgumentError(name, 'needs { grid: m } or { random: n, seed? }');
  const count = 'grid' in s ? s.grid : (s as { random: number }).random;
  if (!Number.isSafeInteger(count) || count < 1) throw new ArgumentError(name, `needs at least one point, got ${got(count)}`);
  if ('random' in s && s.seed !== undefined && !Number.isSafeInteger(s.seed)) throw new ArgumentError(`${name}.seed`, `must be an integer, got ${got(s.seed)}`);
}

function checkCount(name: string, n: number): void {
  if (n > MAX_POINTS) throw new ArgumentError(name, `would make ${n} points, more than ${MAX_POINTS}; use fewer grid points or a random sampler`);
}

/**
 * Interior points of `box`: a grid of m points per coordinate at the cell centres of m + 1 equal
 * steps (lower + (k + 1)·(upper − lower)/(m + 1), boundary excluded), or `random` uniform points.
 */
export function sampleInterior(name: string, box: Box, s: Sampler): Points {
  checkSampler(name, s);
  const d = box.lower.length;
  if ('grid' in s) {
    const m = s.grid, n = m ** d;
    checkCount(name, n);
    const X = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      let r = i;
      for (let c = d - 1; c >= 0; c--) {
        const k = r % m;
        r = (r - k) / m;
        X[i * d + c] = box.lower[c] + ((k + 1) * (box.upper[c] - box.lower[c])) / (m + 1);
      }
    }
    return { X, n };
  }
  const n = s.random;
  checkCount(name, n);
  const rng = new Rng(s.seed ?? 0), X = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) {
    const c = i % d;
    X[i] = box.lower[c] + rng.uniform() * (box.upper[c] - box.lower[c]);
  }
  return { X, n };
}

/**
 * Points on the faces {x_c = lower_c} and {x_c = upper_c} of `box` for each coordinate c of `faces`.
 * A grid puts on each face a tensor grid of m points per remaining coordinate, ends included
 * (for d = 2: m points per side); `random` spreads n uniform points over the faces, each face
 * drawn with probability proportional to its measure.
 */
export function sampleFaces(name: string, box: Box, faces: readonly number[], sides: readonly (0 | 1)[], s: Sampler): Points {
  checkSampler(name, s);
  const d = box.lower.length;
  const pick = (c: number, side: 0 | 1) => (side === 0 ? box.lower[c] : box.upper[c]);
  const list: [number, 0 | 1][] = [];
  for (const c of faces) for (const side of sides) list.push([c, side]);
  if ('grid' in s) {
    const m = s.grid, per = m ** (d - 1), n = per * list.length;
    checkCount(name, n);
    const X = new Float64Array(n * d);
    let i = 0;
    for (const [c, side] of list) {
      for (let p = 0; p < per; p++, i++) {
        let r = p;
        for (let e = d - 1; e >= 0; e--) {
          if (e === c) { X[i * d + e] = pick(c, side); continue; }
          const k = r % m;
          r = (r - k) / m;
          X[i * d + e] = m === 1 ? (box.lower[e] + box.upper[e]) / 2 : box.lower[e] + (k * (box.upper[e] - box.lower[e])) / (m - 1);
        }
      }
    }
    return { X, n };
  }
  const n = s.random;
  checkCount(name, n);
  const rng = new Rng(s.seed ?? 0), X = new Float64Array(n * d);
  const measure = list.map(([c]) => {
    let v = 1;
    for (let e = 0; e < d; e++) if (e !== c) v *= box.upper[e] - box.lower[e];
    return v;
  });
  const total = measure.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform() * total, f = 0;
    while (f + 1 < list.length && u >= measure[f]) u -= measure[f++];
    const [c, side] = list[f];
    for (let e = 0; e < d; e++) X[i * d + e] = e === c ? pick(c, side) : box.lower[e] + rng.uniform() * (box.upper[e] - box.lower[e]);
  }
  return { X, n };
}
