/**
 * The contracts every optimizer shares, types only: the step interface and its statistics
 * (on a `Batch` of nn/net.ts), and the preconditioner a first-order optimizer can step with. The runtime
 * pieces they share live in prepare.ts (input checks, loss evaluation), step-safety.ts
 * (backup, restore, finiteness) and damped-step.ts (the tried, guarded and damped step of
 * ngd and kfac).
 */
import type { Loss, LossSpec } from '../nn/losses.js';
import type { Batch, Net } from '../nn/net.js';
import type { Ptr } from '../kernels/types.js';

/** Options of one {@link Optimizer.step}. */
export interface StepOptions {
  /** The loss (default 'squared-error', L = ½ Σ (u − y)²). */
  loss?: LossSpec;
}

/** What one step did. Norms are Euclidean norms over the flat trainable vector. */
export interface StepStats {
  /** The loss at the parameters before the step. */
  loss: number;
  /** ‖∇θL‖ at the parameters before the step. */
  gradNorm: number;
  /** ‖Δθ‖ of the applied step (0 when the step was rejected). */
  updateNorm: number;
  /** False when every attempt was rejected and the parameters were left untouched. */
  accepted: boolean;
  /** Wall time of the step in milliseconds. */
  timeMs: number;
  /** The loss after the step, when the optimizer evaluated it (NGD and K-FAC with the divergence guard or adaptive damping). */
  lossAfter?: number;
  /** NGD, K-FAC (also as a preconditioner): the damping λ the step used. */
  damping?: number;
  /** NGD and K-FAC with adaptive damping: reduction ratio ρ = actual / predicted loss decrease. */
  rho?: number;
  /** NGD, K-FAC: rejected attempts before this result (each with more damping). */
  retries?: number;
  /**
   * NGD, K-FAC: attempts the divergence guard undid because the loss after them exceeded
   * `guard.factor` × the loss before (or was not finite); they are counted in `retries` too.
   */
  guardTrips?: number;
  /** NGD: how the damped system was solved. */
  solver?: 'cholesky' | 'eigh';
  /** NGD: which form was used, Gram ((n·k)² system) or parameter (P² system). */
  form?: 'gram' | 'param';
}

/**
 * An optimizer: `step` updates the net's trainable parameters in place from one
 * batch. State (momentum, damping, workspaces) belongs to the optimizer and to the one
 * net it is bound to (the first it steps; {@link Optimizer.reset} rebinds).
 */
export interface Optimizer {
  /** 'ngd', 'kfac', 'gd', 'sgd', 'adam' or 'lbfgs'. */
  readonly name: string;
  /** One step on `batch`; returns its statistics. The parameters change only when `accepted`. */
  step(net: Net, batch: Batch, options?: StepOptions): StepStats;
  /**
   * Forgets accumulated state (momentum, moments, adapted damping); keeps memory for reuse. It is
   * also the explicit rebind: an optimizer is tied to the first net it steps, and stepping another
   * net throws StateError unless reset() was called in between.
   */
  reset(): void;
  /** Frees the optimizer's backend memory; any later step throws StateError (code 'E_STATE'). A second dispose() is a no-op. */
  dispose(): void;
  /**
   * Sets η for the following steps (what learning-rate schedules call; `fit`'s `lr` option).
   * Every natgrad optimizer but `lbfgs` (which has no learning rate) has it; an optimizer of your own may leave it out.
   */
  setLearningRate?(lr: number): void;
}

/** What a {@link Preconditioner} reports for one batch. */
export interface PreconditionStats {
  /** L(θ) on the batch. */
  loss: number;
  /** ‖∇θL‖ of the gradient before preconditioning. */
  gradNorm: number;
}

/**
 * Turns a batch's gradient into a preconditioned direction for a first-order optimizer:
 * `gd`, `sgd` and `adam` accept one as their `preconditioner` option and then step with
 * P⁻¹∇θL in place of ∇θL (their momentum and moments act on the preconditioned vector).
 * Its statistics fields (e.g. K-FAC's damping and per-layer blocks) are copied into the
 * optimizer's StepStats. The optimizer that owns it also resets and disposes it.
 */
export interface Preconditioner {
  /** The preconditioner's kind, e.g. 'kfac'. */
  readonly name: string;
  /**
   * Computes L(θ) and the preconditioned gradient for one batch at the net's current
   * parameters into `out` (numParams values at a byte pointer in the net's backend
   * memory, not overlapping the parameters), advancing any curvature statistics. The
   * parameters are not changed. Throws NonFiniteError for a non-finite loss, gradient or
   * direction. `batch` and `loss` are validated by the caller.
   */
  preconditionInto(net: Net, batch: Batch, loss: Loss, out: Ptr): PreconditionStats;
  /** Forgets accumulated statistics. */
  reset(): void;
  /** Frees backend memory (re-made on the next use). */
  dispose(): void;
}
