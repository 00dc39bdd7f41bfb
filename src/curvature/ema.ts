/**
 * The weighted (debiased) exponential moving average used for curvature statistics.
 */
import { ArgumentError } from '../errors.js';

/** Coefficients of one {@link emaStep}: F ← oldScale·F + newScale·F_batch. */
export interface EmaStep {
  /** The running weight after this step, decay·w + 1. */
  weight: number;
  /** decay·w / (decay·w + 1): the weight of the previous average (0 on the first step). */
  oldScale: number;
  /** 1 / (decay·w + 1): the weight of the new batch statistic. */
  newScale: number;
}

/**
 * One step of the weighted moving average with running weight w (0 before the first
 * step): w' = decay·w + 1 and F' = (decay·w·F + F_batch) / w'. After k steps
 * F_k = Σ_j decay^(k−j)·B_j / Σ_j decay^(k−j), a true weighted average of the batch
 * statistics B_j, so the first step returns B_1 exactly and early averages are not
 * pulled toward the zero (or identity) they would start from in a plain EMA
 * (KFAC-JAX's WeightedMovingAverage; tensorflow/kfac's zero-debiasing to the same effect).
 *
 * decay ∈ [0, 1]: 0 keeps only the latest batch, 1 is the plain cumulative mean.
 *
 * @param decay the moving average's decay ∈ [0, 1] (0 keeps only the new value)
 * @param weight the accumulated weight of the average before this step (0 at the start)
 * @example
 * const { weight, oldScale, newScale } = emaStep(0.95, w);
 * k.syrk(1, d, n, newScale / c, x, d, oldScale, f, d); // F ← oldScale·F + newScale·XᵀX/c
 * w = weight;
 */
export function emaStep(decay: number, weight: number): EmaStep {
  checkDecay(decay);
  const old = decay * weight;
  const next = old + 1;
  return { weight: next, oldScale: old / next, newScale: 1 / next };
}

/** Throws ArgumentError unless decay is a number in [0, 1]. */
export function checkDecay(decay: number): void {
  if (typeof decay !== 'number' || !(decay >= 0 && decay <= 1)) {
    throw new ArgumentError('decay', `must be a number in [0, 1], got ${decay}`);
  }
}
