/**
 * Named configurations of the optimizers. Presets only choose options of the
 * public optimizers; they add no behaviour of their own.
 */
import { kfac, type KfacOptimizer } from './kfac.js';

/** Options of {@link kfacPaper}: the step size and, if wanted, a different tiny damping. */
export interface KfacPaperOptions {
  /** η (default 1). */
  lr?: number;
  /** λ (default 1e-12: the undamped limit, A⁻¹ and S⁺, while keeping the factor solves defined). */
  damping?: number;
}

/**
 * K-FAC as Zhang, Martens & Grosse (2019, §4) analyse it, one documented
 * configuration of {@link kfac}:
 * - `normalization: 'sum'`: A = Σᵢ xᵢxᵢᵀ and S = Σᵢ gᵢgᵢᵀ (with 'loss' the step is n times longer, the
 *   "normalisation trap");
 * - `decay: 0`: the factors of the current batch only (no moving average);
 * - `inverseEvery: 1`: inverted every step;
 * - `damping: 1e-12`: the undamped limit.
 * For a wide net this moves the outputs by Δuᵢ = −η·hᵢ·rᵢ, hᵢ the leverage
 * scores of X ({@link leverageScores}), and exactly like NGD when d ≥ n.
 *
 * @example
 * const history = train(net, data, kfacPaper({ lr: 0.5 }), { steps: 6 });
 * @param options η and, if wanted, a different damping
 */
export function kfacPaper(options: KfacPaperOptions = {}): KfacOptimizer {
  return kfac({ lr: options.lr ?? 1, damping: options.damping ?? 1e-12, normalization: 'sum', decay: 0, inverseEvery: 1 });
}
