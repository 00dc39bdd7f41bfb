/**
 * One step-safety vocabulary for every optimizer: θ (and any O(P) optimizer state) is
 * saved before a step, the step is checked finite, and a failed or rejected step is undone
 * bit-for-bit. A failed step raises `NonFiniteError.step(…)`; nothing non-finite ever
 * stays in the parameters.
 *
 * A step that is tried and judged (ngd, kfac) goes through the damped-step driver
 * (damped-step.ts), which calls `restore()` and retries from the same saved θ; `moved()`
 * measures the accepted step on the parameters themselves. The divergence guard's options
 * are defined here, its verdicts in the driver.
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import type { Workspace } from '../backend/matrix.js';
import type { Net } from '../nn/net.js';
import { ArgumentError } from '../errors.js';
import { checkOptions, got } from '../validate.js';

/**
 * A backup of θ and of the optimizer state blocks a step changes, in the optimizer's
 * workspace (block 'guard.backup', reused across steps: a steady-state step allocates
 * nothing).
 *
 * @example
 * guard.save(net, ws, [velocity]);
 * applyUpdate();
 * if (!guard.paramsFinite()) { guard.restore(); throw NonFiniteError.step('update', 'the sgd step', 'lower the learning rate'); }
 */
export class StepGuard {
  private kernels: Kernels | undefined;
  private blocks: Ptr[] = [];
  private backup: Ptr = 0;
  private count = 0;

  /** Saves θ (numParams values) and every block of `state` (numParams values each) into `ws`. */
  save(net: Net, ws: Workspace, state: readonly Ptr[] = []): void {
    const P = net.numParams;
    this.kernels = net.kernels;
    this.count = P;
    this.blocks = [net.paramsPtr, ...state];
    this.backup = ws.get('guard.backup', P * this.blocks.length);
    const h = net.kernels.f64();
    for (let i = 0; i < this.blocks.length; i++) h.copyWithin(this.saved(i) >> 3, this.blocks[i] >> 3, (this.blocks[i] >> 3) + P);
  }

  /** Writes θ and the state blocks back as saved: the step is undone bit-for-bit. */
  restore(): void {
    const h = this.kernels!.f64(), P = this.count;
    for (let i = 0; i < this.blocks.length; i++) h.copyWithin(this.blocks[i] >> 3, this.saved(i) >> 3, (this.saved(i) >> 3) + P);
  }

  /** Whether θ holds only finite values (the firstNonFinite kernel). */
  paramsFinite(): boolean {
    return this.kernels!.firstNonFinite(this.count, this.blocks[0]) < 0;
  }

  /**
   * ‖θ − θ_saved‖, measured on the parameters: in Gram space ‖d‖² = xᵀGx cancels
   * catastrophically when G spans many orders of magnitude.
   */
  moved(): number {
    return Math.sqrt(this.kernels!.sqDistance(this.count, this.blocks[0], this.backup));
  }

  /** Byte pointer of the saved copy of block i (0 = θ). */
  private saved(i: number): Ptr {
    return this.backup + 8 * this.count * i;
  }
}

/**
 * The divergence guard of the curvature optimizers ({@link ngd}, {@link kfac}), on by default.
 * Two rules judge each attempted step on its own batch:
 * - per step: the loss may grow by at most `factor` (and must stay finite);
 * - where it began (`belowStart`): a step may raise the loss only while it stays at or below the
 *   loss of the optimizer's first step (since it was bound to the net, reset, or loaded), so a
 *   full-batch run never ends above where it began. A step that lowers its batch's loss always passes.
 * An attempt that breaks a rule is undone, and retried — K-FAC first with inverses recomputed from
 * the current factors when the step used stale ones, then (and NGD always) with the damping
 * multiplied by `boost` — up to `maxRetries` times; then the step is refused: `accepted: false`,
 * θ bit-for-bit unchanged. Each undone attempt counts in the step's `guardTrips` (and `retries`).
 * With fixed damping the raised λ serves that step only; the next step starts from the configured
 * λ again. `guard: false` gives the raw method for experiments that need it.
 *
 * On mini-batches the losses of different batches are not comparable: the guarantee is the full
 * batch's; on a mini-batch whose loss starts above the first step's, a step must not raise it.
 */
export interface DivergenceGuardOptions {
  /** A step may multiply its batch's loss by at most this (finite, > 1; default 1.5). */
  factor?: number;
  /** Factor on λ for each retry (finite, > 1; default 10). */
  boost?: number;
  /** Retries before the step is refused (integer ≥ 0; default 10). */
  maxRetries?: number;
  /** A step may raise the loss only while it stays at or below the first step's loss (default true). */
  belowStart?: boolean;
}

/** The defaults of {@link DivergenceGuardOptions}. */
export const DIVERGENCE_GUARD_DEFAULTS: Readonly<Required<DivergenceGuardOptions>> = Object.freeze({ factor: 1.5, boost: 10, maxRetries: 10, belowStart: true });

/**
 * Resolves an optimizer's `guard` option (default on; `false` turns it off) and validates it
 * once, naming a bad field `guard.<field>`.
 */
export function resolveDivergenceGuard(guard: boolean | DivergenceGuardOptions | undefined): Required<DivergenceGuardOptions> | undefined {
  if (guard === false) return undefined;
  checkOptions('the guard option', guard === true ? undefined : guard, { factor: 'number', boost: 'number', maxRetries: 'number', belowStart: 'boolean' }, 'guard.');
  const g = { ...DIVERGENCE_GUARD_DEFAULTS, ...(guard === true || guard === undefined ? {} : guard) };
  for (const key of ['factor', 'boost'] as const) {
    if (!(g[key] > 1) || !Number.isFinite(g[key])) throw new ArgumentError(`guard.${key}`, `must be a finite number > 1, got ${got(g[key])}`);
  }
  if (!Number.isSafeInteger(g.maxRetries) || g.maxRetries < 0) throw new ArgumentError('guard.maxRetries', `must be a non-negative integer, got ${got(g.maxRetries)}`);
  return g;
}

/**
 * Whether a step from `before` to `after` trips the guard: the loss grew by more than the factor,
 * or is not finite, or (with `belowStart`) rose above `start`, the loss where the run began.
 */
export function guardTripped(guard: Required<DivergenceGuardOptions>, before: number, after: number, start = Infinity): boolean {
  return !(after <= guard.factor * before) || (guard.belowStart && after > before && after > start);
}
