/**
 * Damping rules shared by the curvature blocks and the optimizers: the π-adjusted
 * split of a Tikhonov term across two Kronecker factors, and the Levenberg–Marquardt
 * adaptation of λ from the reduction ratio ρ. Both are small pure functions.
 */
import { ArgumentError } from '../errors.js';
import { checkNonNegative } from '../validate.js';

/** Result of {@link piDamping}: how λ is split between the two factors. */
export interface PiDamping {
  /** π = √((tr A / dim A) / (tr S / dim S)), or 1 when either trace is not positive and finite. */
  pi: number;
  /** π·√λ, added to A's diagonal. */
  dampingA: number;
  /** √λ / π, added to S's diagonal. */
  dampingS: number;
}

/**
 * Factored Tikhonov damping with the π (trace-norm) split of Martens & Grosse 2015
 * ("Optimizing Neural Networks with Kronecker-factored Approximate Curvature",
 * arXiv:1503.05671, §6.3): the damped block A ⊗ S + λI is approximated by
 * (A + π√λ·I) ⊗ (S + (√λ/π)·I), with π = √((tr A/dim A) / (tr S/dim S)) chosen so that
 * each factor receives damping in proportion to its average eigenvalue.
 *
 * The product of the two factor dampings is always λ, and the split is invariant to
 * rescaling the pair (A, S) → (tA, S/t), which leaves A ⊗ S unchanged: π becomes tπ and
 * the damped product is the same matrix. When a trace is zero (a dead layer, a zero
 * residual) or not finite, π = 1 (the plain √λ split), so the result is always finite
 * for finite λ.
 *
 * @param traceA tr A (≥ 0), dimA its dimension (> 0); likewise traceS, dimS.
 * @param damping λ ≥ 0.
 *
 * @example
 * const { pi, dampingA, dampingS } = piDamping(trA, dA, trS, dS, 1e-3);
 * // invert (A + dampingA·I) and (S + dampingS·I)
 */
export function piDamping(traceA: number, dimA: number, traceS: number, dimS: number, damping: number): PiDamping {
  checkNonNegative('damping', damping);
  const meanA = traceA / dimA, meanS = traceS / dimS;
  let pi = Math.sqrt(meanA / meanS);
  if (!(meanA > 0 && meanS > 0) || !Number.isFinite(pi) || pi === 0) pi = 1;
  const r = Math.sqrt(damping);
  return { pi, dampingA: pi * r, dampingS: r / pi };
}

/**
 * The parameters of {@link levenbergMarquardt}. Names and defaults are those of the NGD
 * optimizer's `LevenbergMarquardtOptions` (which adds step-rejection settings), so that
 * object can be passed here as is.
 */
export interface LevenbergMarquardtRule {
  /** ρ below this (or ρ NaN) raises λ. Default 0.25. */
  lower?: number;
  /** ρ above this lowers λ. Default 0.75. */
  upper?: number;
  /** Factor (> 1) on λ when ρ < lower. Default 1.5. */
  increase?: number;
  /** Factor (in (0, 1)) on λ when ρ > upper. Default 2/3. */
  decrease?: number;
  /** Lower clamp of λ. Default 1e-8. */
  min?: number;
  /** Upper clamp of λ. Default 1e8. */
  max?: number;
}

/**
 * The Levenberg–Marquardt damping rule (Martens & Grosse 2015 §6.5; the thresholds of
 * KFAC-JAX and tensorflow/kfac): given the reduction ratio
 * ρ = (L(θ) − L(θ + δ)) / (M(0) − M(δ)) of the actual to the quadratic model's predicted
 * decrease, return the next λ:
 * - ρ < lower, or ρ NaN (a step that produced a NaN or ±∞ loss): λ·increase;
 * - ρ > upper: λ·decrease;
 * - otherwise λ unchanged;
 * then clamped to [min, max]. Applying it every T steps with increase = ω⁻ᵀ and
 * decrease = ωᵀ reproduces the "decay^interval" schedules of those libraries.
 *
 * @example
 * damping = levenbergMarquardt(damping, rho);                                   // 0.25 / 0.75, ×1.5, ×2/3
 * damping = levenbergMarquardt(damping, rho, { increase: 0.95 ** -5, decrease: 0.95 ** 5, min: 1e-6 });
 */
export function levenbergMarquardt(damping: number, rho: number, rule: LevenbergMarquardtRule = {}): number {
  const { lower = 0.25, upper = 0.75, increase = 1.5, decrease = 2 / 3, min = 1e-8, max = 1e8 } = rule;
  checkNonNegative('damping', damping);
  checkNonNegative('min', min);
  if (!(increase > 1) || !Number.isFinite(increase)) throw new ArgumentError('increase', `must be a finite number > 1, got ${increase}`);
  if (!(decrease > 0 && decrease < 1)) throw new ArgumentError('decrease', `must be in (0, 1), got ${decrease}`);
  if (!(lower <= upper)) throw new ArgumentError('lower', `must be ≤ upper (${upper}), got ${lower}`);
  if (!(max >= min)) throw new ArgumentError('max', `must be ≥ min (${min}), got ${max}`);
  let next = damping;
  if (!(rho >= lower)) next = damping * increase;
  else if (rho > upper) next = damping * decrease;
  return Math.min(max, Math.max(min, next));
}
