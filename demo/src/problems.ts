/**
 * The demo's data sets: deterministic (seeded) so every optimizer, every reload and
 * every test sees the same numbers. Nothing here knows about natgrad.
 */

/** A small seeded generator (mulberry32) with Box–Muller normals. */
export class Random {
  private s: number;
  private spare: number | undefined;
  constructor(seed: number) { this.s = (seed >>> 0) || 1; }
  uniform(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    if (this.spare !== undefined) { const v = this.spare; this.spare = undefined; return v; }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u)), a = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}

export type Geometry = 'sphere' | 'near-parallel';

/** The paper's data: n unit-norm inputs in d dimensions, targets y ~ N(0, 1). */
export interface PaperSpec { n: number; d: number; geometry: Geometry; spread: number; seed: number }

/**
 * 'sphere': uniform on the unit sphere. 'near-parallel': xᵢ = normalise(u + spread·gᵢ) around one
 * direction u, so the inputs are nearly parallel and λ_min of the Gram matrix G = JJᵀ is tiny —
 * gradient descent slows with the conditioning, NGD does not (the paper's point).
 */
export function paperData({ n, d, geometry, spread, seed }: PaperSpec): { X: Float64Array; Y: Float64Array } {
  const rng = new Random(seed);
  const X = new Float64Array(n * d), Y = new Float64Array(n);
  const u = new Float64Array(d);
  for (let j = 0; j < d; j++) u[j] = rng.normal();
  normalise(u, 0, d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) X[i * d + j] = geometry === 'near-parallel' ? u[j] + spread * rng.normal() : rng.normal();
    normalise(X, i * d, d);
    Y[i] = rng.normal();
  }
  return { X, Y };
}

function normalise(v: Float64Array, at: number, d: number): void {
  let s = 0;
  for (let j = 0; j < d; j++) s += v[at + j] * v[at + j];
  const r = 1 / Math.sqrt(s);
  for (let j = 0; j < d; j++) v[at + j] *= r;
}

export type Shape = 'moons' | 'spirals';

/** Two interleaved classes in the plane, inside [−1.5, 1.5]²; Y holds class indices 0/1. */
export function classificationData(shape: Shape, n: number, noise: number, seed: number): { X: Float64Array; Y: Float64Array } {
  const rng = new Random(seed);
  const X = new Float64Array(n * 2), Y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2, t = rng.uniform();
    let x: number, y: number;
    if (shape === 'moons') {
      const a = Math.PI * t;
      x = c === 0 ? Math.cos(a) - 0.5 : 0.5 - Math.cos(a);
      y = c === 0 ? Math.sin(a) - 0.25 : 0.25 - Math.sin(a);
      x *= 0.9; y *= 0.9;
    } else {
      const r = 0.15 + 1.1 * t, a = 3.2 * Math.PI * t + c * Math.PI;
      x = r * Math.cos(a);
      y = r * Math.sin(a);
    }
    X[2 * i] = x + noise * rng.normal();
    X[2 * i + 1] = y + noise * rng.normal();
    Y[i] = c;
  }
  return { X, Y };
}

/** n noisy samples of y = sin(3x) + 0.3x on [−1.5, 1.5] (sorted by x). */
export function regressionData(n: number, noise: number, seed: number): { X: Float64Array; Y: Float64Array } {
  const rng = new Random(seed);
  const X = new Float64Array(n), Y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = -1.5 + (3 * (i + rng.uniform())) / n;
    X[i] = x;
    Y[i] = regressionTarget(x) + noise * rng.normal();
  }
  return { X, Y };
}

export function regressionTarget(x: number): number {
  return Math.sin(3 * x) + 0.3 * x;
}

/** A g × g grid over [lo, hi]², row-major from the top row (y = hi) down, as n × 2 inputs. */
export function grid2d(g: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(g * g * 2);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      const i = r * g + c;
      out[2 * i] = lo + ((hi - lo) * (c + 0.5)) / g;
      out[2 * i + 1] = hi - ((hi - lo) * (r + 0.5)) / g;
    }
  }
  return out;
}

/** g points evenly over [lo, hi] as n × 1 inputs. */
export function grid1d(g: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(g);
  for (let i = 0; i < g; i++) out[i] = lo + ((hi - lo) * i) / (g - 1);
  return out;
}
