/**
 * The K-FAC preconditioner alone ({@link kfacPreconditioner}): the {@link KfacEstimator}'s
 * preconditioned gradient F̃⁻¹g with a fixed damping, handed to a first-order optimizer
 * (`sgd({ preconditioner })`, `adam({ preconditioner })`); the self-contained optimizer is
 * {@link kfac} (kfac.ts). Also the curvature statistics both report.
 */
import type { Ptr } from '../kernels/types.js';
import {
  KFAC_CURVATURE_OPTIONS, KfacEstimator, resolveKfacCurvature, type FisherType, type KfacBlockStats, type KfacCurvatureOptions, type KfacCurvatureSettings,
} from '../curvature/kfac-estimator.js';
import { NonFiniteError } from '../errors.js';
import type { Loss } from '../nn/losses.js';
import type { Batch, Net } from '../nn/net.js';
import { checkOptions } from '../validate.js';
import { dot } from '../backend/vectors.js';
import { prepareStep } from './prepare.js';
import type { Preconditioner, PreconditionStats, StepOptions } from './types.js';

/** Options of {@link kfacPreconditioner}: the curvature options, with a fixed damping. */
export type KfacPreconditionerOptions = KfacCurvatureOptions;

/** What the curvature estimate did in one `kfac` step or {@link KfacPreconditioner} call. */
export interface KfacCurvatureStats {
  /** λ of the inverses the applied (or last attempted) step used. */
  damping: number;
  /** The Fisher type the factors estimate. */
  fisher: FisherType;
  /** Whether this step updated the factor statistics. */
  factorsUpdated: boolean;
  /** Whether this step recomputed the inverses. */
  inverseUpdated: boolean;
  /** One entry per trainable layer, as of the last inverse refresh (the same array until the next one). */
  blocks: KfacBlockStats[];
}

/** Statistics of one {@link KfacPreconditioner} call. */
export interface KfacPreconditionStats extends PreconditionStats, KfacCurvatureStats {}

/** A K-FAC preconditioner; pass it to `gd`, `sgd` or `adam` as `preconditioner`, or call {@link precondition} yourself. */
export interface KfacPreconditioner extends Preconditioner {
  preconditionInto(net: Net, batch: Batch, loss: Loss, out: Ptr): KfacPreconditionStats;
  /**
   * The preconditioned gradient F̃⁻¹∇θL for one batch as plain arrays (allocates them),
   * also advancing the factor statistics like a step would. The parameters are not changed.
   */
  precondition(net: Net, batch: Batch, options?: StepOptions): {
    /** ∇θL, numParams values. */
    gradient: Float64Array;
    /** F̃⁻¹∇θL, numParams values. */
    direction: Float64Array;
    /** The call's statistics. */
    stats: KfacPreconditionStats;
  };
}


class KfacPreconditionerImpl implements KfacPreconditioner {
  readonly name = 'kfac';
  private readonly estimator: KfacEstimator;

  constructor(readonly settings: KfacCurvatureSettings) {
    this.estimator = new KfacEstimator(settings);
  }

  preconditionInto(net: Net, batch: Batch, loss: Loss, out: Ptr): KfacPreconditionStats {
    const est = this.estimator, P = net.numParams;
    est.bind(net);
    const seen = est.observe(net, batch, loss);
    if (seen.inverseDue) est.refreshInverses(this.settings.damping);
    est.precondition(est.gradient, out);
    if (net.kernels.firstNonFinite(P, out) >= 0) {
      throw NonFiniteError.step('direction', `the K-FAC preconditioned gradient with damping ${this.settings.damping}`, 'raise the damping');
    }
    return {
      loss: seen.loss, gradNorm: Math.sqrt(dot(net.kernels.f64(), est.gradient, est.gradient, P)), damping: est.inverseDamping,
      fisher: est.fisher, factorsUpdated: seen.factorsUpdated, inverseUpdated: seen.inverseDue, blocks: est.blockStats,
    };
  }

  precondition(net: Net, batch: Batch, options?: StepOptions): { gradient: Float64Array; direction: Float64Array; stats: KfacPreconditionStats } {
    const loss = prepareStep(net, batch, options);
    this.estimator.bind(net);
    const out = this.estimator.vec('kfac.out');
    const stats = this.preconditionInto(net, batch, loss, out);
    const h = net.kernels.f64(), P = net.numParams, g = this.estimator.gradient >> 3;
    return { gradient: h.slice(g, g + P), direction: h.slice(out >> 3, (out >> 3) + P), stats };
  }

  reset(): void {
    this.estimator.reset();
    this.estimator.bound.release();
  }

  dispose(): void {
    this.estimator.dispose();
  }

  toString(): string {
    const s = this.settings;
    return `kfacPreconditioner(damping=${s.damping}, fisher=${s.fisher}, normalization=${s.normalization}, decay=${s.decay}, ` +
      `factorsEvery=${s.factorsEvery}, inverseEvery=${s.inverseEvery}, ${s.inversion}/${s.dampingForm})`;
  }
}

/**
 * The K-FAC preconditioner alone: for each batch it computes the gradient g, advances the
 * factor statistics and inverses on their schedules (as `kfac` does) and returns
 * F̃⁻¹g with a fixed damping; a first-order optimizer then takes the step. This composes
 * K-FAC with momentum or Adam the way kfac-pytorch's preconditioner does (no
 * Levenberg–Marquardt, rejection or KL clip here: those need the step itself).
 *
 * @param options the curvature options of `kfac` (damping, Fisher type, normalisation, decay, periods, inversion)
 * @example
 * const opt = sgd({ lr: 0.1, momentum: 0.9, preconditioner: kfacPreconditioner({ damping: 1e-2 }) });
 * train(net, data, opt, { steps: 100, batchSize: 128, loss: 'cross-entropy' });
 *
 * @example
 * // Or take the preconditioned gradient yourself:
 * const pre = kfacPreconditioner({ damping: 1e-3 });
 * const { gradient, direction, stats } = pre.precondition(net, { X, Y, n });
 */
export function kfacPreconditioner(options: KfacPreconditionerOptions = {}): KfacPreconditioner {
  checkOptions('kfacPreconditioner()', options, KFAC_CURVATURE_OPTIONS);
  return new KfacPreconditionerImpl(resolveKfacCurvature(options));
}
