/**
 * The damped-step driver of the curvature optimizers ({@link ngd}, {@link kfac}). An optimizer
 * only proposes: for a given damping it computes its curvature, solves, and returns a direction
 * with that step's statistics. The driver owns the rest, one set of rules for both: the backup of
 * θ, the finiteness check, the divergence guard, rejection, the Levenberg–Marquardt adaptation of
 * the damping and the retries.
 *
 * One attempt: propose(damping) → θ ← θ + Δ → θ finite? → L(θ + Δ) → verdict.
 * - Fixed damping (no `adaptive`): a non-finite step raises NonFiniteError with θ restored. With
 *   the guard, a step that multiplies the loss by more than `guard.factor`, or raises it above the
 *   loss where the run began (`guard.belowStart`: the first step's loss), is undone and retried
 *   (with damping × `guard.boost` when the proposal's curvature was fresh, else with the same
 *   damping and fresh curvature), up to `guard.maxRetries`; the raised damping serves that step only.
 * - Adaptive: a non-finite step, a guard trip, or (with `rejection`) any rise of the loss is undone
 *   and retried with damping × `adaptive.boost` up to `adaptive.maxRetries` (or until the damping
 *   reaches `adaptive.max`); then the step is refused (θ bit-for-bit as before, `accepted: false`).
 *   On an adaptation step ρ = actual / predicted decrease is reported for every judged attempt, and
 *   the accepted one sets the next step's damping by {@link levenbergMarquardt}.
 * On a full batch, either way, a run never ends above where it began (with `rejection`, or with the
 * guard and its `belowStart`).
 */
import { clampDamping, levenbergMarquardt, type LevenbergMarquardtOptions } from '../curvature/damping.js';
import { NonFiniteError } from '../errors.js';
import type { Ptr } from '../kernels/types.js';
import type { Workspace } from '../backend/matrix.js';
import type { Net } from '../nn/net.js';
import { guardTripped, StepGuard, type DivergenceGuardOptions } from './step-safety.js';
import type { StepStats } from './types.js';

/** How a {@link DampedStep} judges and adapts: the optimizer's resolved options. */
export interface DampedStepSettings {
  /** The damping the first step starts from (and a reset returns to). */
  damping: number;
  /** Levenberg–Marquardt adaptation with rejection; undefined for a fixed damping. */
  adaptive: Required<LevenbergMarquardtOptions> | undefined;
  /** With `adaptive`: whether any rise of the loss is rejected (else only guard trips and non-finite steps). */
  rejection: boolean;
  /** The divergence guard; undefined when off. */
  guard: Required<DivergenceGuardOptions> | undefined;
}

/** One proposed step, as {@link DampedProposal.propose} returns it. */
export interface DampedAttempt<S extends StepStats> {
  /** The attempt's statistics (loss before the step, damping used, the optimizer's own fields); the driver completes them. */
  stats: S;
  /** Whether a finite direction was found (false: the solve failed, or the direction is not finite). */
  ok: boolean;
  /** The damping the next retry starts from (a proposal may have raised it itself, e.g. NGD's failed Cholesky). */
  damping: number;
  /** The quadratic model's predicted change of the loss, gᵀΔ + ½ΔᵀFΔ, when the proposal computed it. */
  modelChange?: number;
  /** Whether the curvature behind the direction is fresh: a guard retry on stale curvature refreshes it before raising the damping. */
  fresh: boolean;
}

/** What an optimizer gives the driver for one step. */
export interface DampedProposal<S extends StepStats> {
  /** Names the step in a NonFiniteError, e.g. 'the NGD step'. */
  readonly label: string;
  /** Curvature → solve → direction with `damping`; `attempt` counts from 0 within the step. */
  propose(damping: number, attempt: number): DampedAttempt<S>;
  /** θ ← θ + Δ for the last proposal (if it throws, θ is restored). */
  apply(): void;
  /** L at the trial θ (if it throws, θ is restored). */
  trialLoss(): number;
  /** Sizes what {@link DampedProposal.trialLoss} needs before θ first moves (an allocation that fails must find θ unchanged). */
  reserveTrial?(): void;
  /** The accepted trial's evaluation may be kept (NGD reuses its forward pass). */
  keepTrial?(): void;
}

/** Options of one {@link DampedStep.run}. */
export interface DampedStepOptions {
  /** `performance.now()` when the step began (for `timeMs`). */
  start: number;
  /** Whether this step adapts the damping from ρ (default true; K-FAC adapts every `every` steps). */
  adapt?: boolean;
  /** O(P) optimizer state blocks the proposal changes, restored with θ when an attempt is undone. */
  state?: readonly Ptr[];
}

/**
 * Drives the damped steps of one optimizer: holds the damping the next step starts from (the
 * adapted state, saved in checkpoints) and the backup of θ.
 */
export class DampedStep {
  private readonly backup = new StepGuard();
  /** The damping the next step starts from (adapted when `adaptive`). */
  damping: number;
  /** The loss of the first step since binding or reset: where the run began (the guard's `belowStart`); undefined before it. */
  startLoss: number | undefined;

  constructor(readonly settings: DampedStepSettings) {
    this.damping = settings.damping;
  }

  /** Back to the configured damping; the next step is where the run begins. */
  reset(): void {
    this.damping = this.settings.damping;
    this.startLoss = undefined;
  }

  /**
   * One step: attempts until one is accepted, refused, or raises. θ and the optimizer's
   * `state` blocks (numParams values each, restored with θ) are backed up into `ws` first.
   * Returns the accepted (or refused) attempt's statistics, completed.
   */
  run<S extends StepStats>(net: Net, ws: Workspace, proposal: DampedProposal<S>, step: DampedStepOptions): S {
    const { adaptive, rejection, guard } = this.settings, backup = this.backup, { start, adapt = true } = step;
    backup.save(net, ws, step.state);
    if (guard || adaptive) proposal.reserveTrial?.();
    const trialLoss = (): number => {
      try {
        return proposal.trialLoss();
      } catch (e) {
        backup.restore();
        throw e;
      }
    };

    let damping = this.damping, guardTrips = 0, startLoss = this.startLoss;
    for (let attempt = 0; ; attempt++) {
      const tried = proposal.propose(damping, attempt);
      const stats = tried.stats, before = stats.loss;
      startLoss ??= before;
      damping = tried.damping;
      stats.retries = attempt;
      stats.guardTrips = guardTrips;

      // θ ← θ + Δ, checked finite; undone from the backup otherwise.
      if (tried.ok) {
        try {
          proposal.apply();
        } catch (e) {
          backup.restore();
          throw e;
        }
      }
      const applied = tried.ok && backup.paramsFinite();
      if (!applied) backup.restore();

      if (!adaptive) {
        if (!applied) throw NonFiniteError.step('update', `${proposal.label} with damping ${stats.damping}`, 'raise the damping or use adaptive');
        if (!guard) return this.finish(stats, start, true);
        const after = trialLoss();
        if (!guardTripped(guard, before, after, startLoss)) {
          stats.lossAfter = after;
          proposal.keepTrial?.();
          return this.finish(stats, start, true);
        }
        backup.restore();
        stats.guardTrips = ++guardTrips;
        if (attempt >= guard.maxRetries) return this.refuse(stats, attempt, start);
        if (tried.fresh) damping = damping > 0 ? damping * guard.boost : 1e-8;
        continue;
      }

      const after = applied ? trialLoss() : NaN;
      if (adapt && tried.modelChange !== undefined) stats.rho = (before - after) / -tried.modelChange;
      // An attempt the finiteness check undid (no loss evaluated) is a retry, not a guard trip; with rejection
      // a rise is rejected anyway, so the guard's where-it-began rule has nothing to add.
      const tripped = guard !== undefined && applied && guardTripped(guard, before, after, rejection ? Infinity : startLoss);
      if (!applied || tripped || (rejection && !(after <= before))) {
        if (applied) backup.restore();
        if (tripped) stats.guardTrips = ++guardTrips;
        if (attempt >= adaptive.maxRetries || damping >= adaptive.max) {
          this.damping = damping;
          return this.refuse(stats, attempt, start);
        }
        damping = clampDamping(damping * adaptive.boost, adaptive);
        continue;
      }
      stats.lossAfter = after;
      this.damping = stats.rho !== undefined ? levenbergMarquardt(damping, stats.rho, adaptive) : damping;
      proposal.keepTrial?.();
      return this.finish(stats, start, true);
    }
  }

  /** A step that ends with θ as it was: every attempt was undone. */
  private refuse<S extends StepStats>(stats: S, attempt: number, start: number): S {
    stats.retries = attempt + 1;
    stats.lossAfter = stats.loss;
    return this.finish(stats, start, false);
  }

  /** Completes the statistics: accepted or not, how far θ moved, the wall time. */
  private finish<S extends StepStats>(stats: S, start: number, accepted: boolean): S {
    this.startLoss ??= stats.loss;
    stats.accepted = accepted;
    stats.updateNorm = accepted ? this.backup.moved() : 0;
    stats.timeMs = performance.now() - start;
    return stats;
  }
}
