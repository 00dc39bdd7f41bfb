/**
 * Named configurations of the optimizers. Presets only choose options of the
 * public optimizers; they add no behaviour of their own.
 */
import { ArgumentError } from '../errors.js';
import { kfac, type KfacOptimizer, type KfacOptions } from './kfac.js';
import { describeValue, isPlainObject } from '../validate.js';

/**
 * Options of {@link kfacPaper}: every option of {@link kfac}. The preset's own choices (below) are defaults a
 * key given here replaces.
 */
export type KfacPaperOptions = KfacOptions;

/**
 * K-FAC as Zhang, Martens & Grosse (2019, §4) analyse it, one documented
 * configuration of {@link kfac}:
 * - `normalization: 'sum'`: A = Σᵢ xᵢxᵢᵀ and S = Σᵢ gᵢgᵢᵀ (with 'loss' the step is n times longer, the
 *   "normalisation trap");
 * - `decay: 0`: the factors of the current batch only (no moving average);
 * - `inverseEvery: 1`: inverted every step;
 * - `damping: 1e-12`: the undamped limit, A⁻¹ and S⁺, while keeping the factor solves defined, and fixed
 *   (`adaptive: false`: Levenberg–Marquardt would clamp it to ≥ 1e-8);
 * - `lr: 1`.
 * For a wide net this moves the outputs by Δuᵢ = −η·hᵢ·rᵢ, hᵢ the leverage
 * scores of X ({@link leverageScores}), and exactly like NGD when d ≥ n.
 *
 * Every other option of {@link kfac} is honoured and keeps kfac's default; in particular the divergence guard
 * stays on unless `guard: false` is given (the paper's method has none: `natgrad reproduce` passes
 * `guard: false`). Options are strict like every other options object: an unknown key or a value of the wrong
 * type throws {@link ArgumentError} naming it.
 *
 * @example
 * const history = train(net, data, kfacPaper({ lr: 0.5 }), { steps: 6 });
 * @example
 * const raw = kfacPaper({ lr: 0.5, guard: false }); // the paper's raw method: a step that raises the loss stays
 * raw.dispose();
 * @param options any option of {@link kfac}; the preset's choices above are the defaults
 */
export function kfacPaper(options: KfacPaperOptions = {}): KfacOptimizer {
  if (!isPlainObject(options)) throw new ArgumentError('options', `kfacPaper() takes an object of options, got ${describeValue(options)}`);
  return kfac({ lr: 1, damping: 1e-12, normalization: 'sum', decay: 0, inverseEvery: 1, adaptive: false, ...options });
}
