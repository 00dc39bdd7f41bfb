/**
 * Seeded data generators for the paper's experiments: inputs on the unit
 * sphere (Assumption 1: ‖xᵢ‖ = 1, no two parallel), near-parallel pairs (a tiny
 * λ₀), and targets that are Gaussian or vary smoothly over the inputs. The same
 * seed gives the same numbers on every backend and platform.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { Rng } from '../nn/random.js';
import { checkDim, checkFinite, checkFiniteNumber } from '../validate.js';

/** Options of {@link unitSphere}. */
export interface UnitSphereOptions {
  /**
   * α ≥ 0 (default 0: uniform on the sphere): coordinate j of the Gaussian draw is
   * scaled by (j + 1)^(−α) before normalising, so XᵀX is ill-conditioned and the
   * leverage scores spread.
   */
  anisotropy?: number;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${seed}`);
}

function checkPositive(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new ShapeError(name, `must be a positive integer, got ${v}`);
}

function normalizeRows(X: Float64Array, n: number, d: number): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j] ** 2;
    const norm = Math.sqrt(s);
    for (let j = 0; j < d; j++) X[i * d + j] /= norm;
  }
  return X;
}

/**
 * n inputs on the unit sphere in d dimensions (n × d, row-major): normalised
 * Gaussian draws.
 *
 * @example
 * const X = unitSphere(32, 16, 1);
 * @param n number of inputs
 * @param d dimension
 * @param seed seed of the draws
 * @param options anisotropy α
 */
export function unitSphere(n: number, d: number, seed: number, options: UnitSphereOptions = {}): Float64Array {
  checkDim('n', n); checkPositive('d', d); checkSeed(seed);
  const alpha = options.anisotropy ?? 0;
  checkFiniteNumber('anisotropy', alpha);
  if (alpha < 0) throw new ArgumentError('anisotropy', `must be ≥ 0, got ${alpha}`);
  const rng = new Rng(seed), X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] = rng.normal() * (j + 1) ** -alpha;
  return normalizeRows(X, n, d);
}

/**
 * n/2 pairs of unit inputs (n even, d ≥ 2), the two of a pair at angle `angle`
 * (radians) from each other, the pairs' directions random: rows 2p and 2p + 1
 * form pair p. λ_min of G shrinks roughly like the angle (the arc-cosine kernel is not smooth at 0), so small angles give the
 * paper's tiny λ₀ while Assumption 1 (no two parallel) still holds.
 *
 * @example
 * const X = nearParallelPairs(32, 16, 0.01, 1); // λ_min(G) ≈ 1e-3 at m = 4096
 * @param n number of inputs (even)
 * @param d dimension (≥ 2)
 * @param angle angle within a pair, radians
 * @param seed seed of the draws
 */
export function nearParallelPairs(n: number, d: number, angle: number, seed: number): Float64Array {
  checkDim('n', n); checkSeed(seed);
  if (n % 2 !== 0) throw new ShapeError('n', `must be even (pairs), got ${n}`);
  if (!Number.isSafeInteger(d) || d < 2) throw new ShapeError('d', `must be an integer ≥ 2, got ${d}`);
  checkFiniteNumber('angle', angle);
  if (!(angle > 0 && angle < Math.PI)) throw new ArgumentError('angle', `must be in (0, π), got ${angle}`);
  const rng = new Rng(seed), X = new Float64Array(n * d);
  const u = new Float64Array(d), v = new Float64Array(d);
  for (let p = 0; p < n / 2; p++) {
    for (let j = 0; j < d; j++) { u[j] = rng.normal(); v[j] = rng.normal(); }
    normalizeRows(u, 1, d);
    // v ⟂ u, unit: the pair is cos(±angle/2)·u ± sin(angle/2)·v.
    let dot = 0;
    for (let j = 0; j < d; j++) dot += u[j] * v[j];
    for (let j = 0; j < d; j++) v[j] -= dot * u[j];
    normalizeRows(v, 1, d);
    const c = Math.cos(angle / 2), s = Math.sin(angle / 2);
    for (let j = 0; j < d; j++) {
      X[2 * p * d + j] = c * u[j] + s * v[j];
      X[(2 * p + 1) * d + j] = c * u[j] - s * v[j];
    }
  }
  return X;
}

/**
 * n (× k) standard normal targets: the paper's "random labels".
 * @param n number of examples
 * @param seed seed of the draws
 * @param k outputs per example (default 1)
 *
 * @example
 * const Y = gaussianTargets(32, 2); // 32 × 1
 */
export function gaussianTargets(n: number, seed: number, k = 1): Float64Array {
  checkDim('n', n); checkPositive('k', k); checkSeed(seed);
  const rng = new Rng(seed);
  return Float64Array.from({ length: n * k }, () => rng.normal());
}

/**
 * Targets that vary smoothly over the inputs: yᵢ = √2·sin(2·vᵀxᵢ + φ) with a
 * seeded random unit v and phase φ (RMS about 1 on the sphere). Nearby inputs
 * get nearby targets, so the residual lies mostly on the top eigen-directions
 * of G: the labels for which NGD's rate survives a tiny λ₀.
 *
 * @example
 * const X = nearParallelPairs(32, 16, 0.01, 1), Y = smoothTarget(X, 32, 2);
 * @param X inputs, n × d row-major
 * @param n number of inputs
 * @param seed seed of v and φ
 */
export function smoothTarget(X: Float64Array, n: number, seed: number): Float64Array {
  checkDim('n', n); checkSeed(seed);
  if (n < 1 || !(X instanceof Float64Array) || X.length % n !== 0) throw new ShapeError('X', `must be a Float64Array of n × d values (n = ${n})`);
  checkFinite('X', X);
  const d = X.length / n, rng = new Rng(seed), v = new Float64Array(d);
  for (let j = 0; j < d; j++) v[j] = rng.normal();
  normalizeRows(v, 1, d);
  const phase = 2 * Math.PI * rng.uniform();
  const Y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < d; j++) t += v[j] * X[i * d + j];
    Y[i] = Math.SQRT2 * Math.sin(2 * t + phase);
  }
  return Y;
}
