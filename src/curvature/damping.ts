/**
 * Damping rules shared by the curvature blocks and the optimizers: the π-adjusted
 * split of a Tikhonov term across two Kronecker factors, and the Levenberg–Marquardt
 * adaptation of λ from the reduction ratio ρ. Both are small pure functions.
 */
import { ArgumentError } from '../errors.js';
import { checkNonNegative, checkOptions, type OptionKind } from '../validate.js';

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
 * @param traceA tr A (≥ 0), the trace of the input-side factor
 * @param dimA the dimension of A (> 0)
 * @param traceS tr S (≥ 0), the trace of the output-side factor
 * @param dimS the dimension of S (> 0)
 * @param damping λ ≥ 0, the damping of the Kronecker product to split
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
 * The parameters of {@link levenbergMarquardt}. {@link LevenbergMarquardtOptions} extends it
 * with the step-rejection settings of the optimizers, so that object can be passed here as is.
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
 * @param damping the current λ
 * @param rho the reduction ratio ρ = actual / predicted loss decrease of the last step
 * @param rule thresholds, factors and clamp (defaults: lower 0.25, upper 0.75, increase 1.5, decrease 2/3, [1e-8, 1e8])
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

/**
 * Levenberg–Marquardt damping adaptation as the optimizers (`ngd`, `kfac`) use it: the rule
 * of {@link levenbergMarquardt} from the reduction ratio
 * ρ = (L(θ) − L(θ + Δ)) / (L(θ) − m(Δ)), m the Gauss–Newton quadratic model (undamped
 * curvature): λ grows by `increase` when ρ < `lower`, shrinks by `decrease` when ρ > `upper`,
 * and stays within [min, max]. A step that raises the loss or makes it non-finite is undone
 * and retried with λ·`boost`.
 */
export interface LevenbergMarquardtOptions extends LevenbergMarquardtRule {
  /** Factor on λ after a rejected step or a failed Cholesky (default 10). */
  boost?: number;
  /** Rejected attempts per step before giving up and leaving θ untouched (default 10). */
  maxRetries?: number;
}

/** The defaults of {@link LevenbergMarquardtOptions} (those of `ngd`; `kfac` overrides increase and decrease). */
export const LEVENBERG_MARQUARDT_DEFAULTS: Readonly<Required<LevenbergMarquardtOptions>> = Object.freeze({
  lower: 0.25, upper: 0.75, increase: 1.5, decrease: 2 / 3, boost: 10, min: 1e-8, max: 1e8, maxRetries: 10,
});

/**
 * Resolves an optimizer's `adaptive` option (`true` or an options object) over `defaults`
 * and validates every field once, naming a bad one `adaptive.<field>` in an ArgumentError.
 * `defaults` may carry extra fields (e.g. K-FAC's `every`); they are kept, and validated by
 * the caller.
 */
export function resolveLevenbergMarquardt<T extends Required<LevenbergMarquardtOptions>>(
  adaptive: true | Partial<T>, defaults: T,
): T {
  if (adaptive !== true) {
    // The allowed keys are the defaults' (K-FAC's add `every` and `rejection`), each of its default's type.
    const shape = Object.fromEntries(Object.entries(defaults).map(([key, v]) => [key, typeof v as OptionKind]));
    checkOptions('the adaptive option', adaptive, shape, 'adaptive.');
  }
  const lm: T = { ...defaults, ...(adaptive === true ? {} : adaptive) };
  for (const key of ['increase', 'boost'] as const) {
    if (!(lm[key] > 1) || !Number.isFinite(lm[key])) throw new ArgumentError(`adaptive.${key}`, `must be a finite number > 1, got ${lm[key]}`);
  }
  if (!(lm.decrease > 0 && lm.decrease < 1)) throw new ArgumentError('adaptive.decrease', `must be in (0, 1), got ${lm.decrease}`);
  if (!(lm.lower <= lm.upper)) throw new ArgumentError('adaptive.lower', `must be ≤ upper (${lm.upper}), got ${lm.lower}`);
  if (typeof lm.min !== 'number' || !Number.isFinite(lm.min) || !(lm.min > 0)) {
    throw new ArgumentError('adaptive.min', `must be a finite number > 0, got ${lm.min}`);
  }
  if (!(lm.max >= lm.min)) throw new ArgumentError('adaptive.max', `must be ≥ min (${lm.min}), got ${lm.max}`);
  if (!Number.isInteger(lm.maxRetries) || lm.maxRetries < 0) throw new ArgumentError('adaptive.maxRetries', `must be a non-negative integer, got ${lm.maxRetries}`);
  return lm;
}

/** λ clamped to the [min, max] of resolved Levenberg–Marquardt options. */
export function clampDamping(damping: number, lm: Required<LevenbergMarquardtRule>): number {
  return Math.min(lm.max, Math.max(lm.min, damping));
}
