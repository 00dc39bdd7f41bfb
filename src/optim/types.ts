/**
 * What every optimizer shares: the step interface, its statistics, and the
 * per-network state binding (workspace + capture, sized on the first step and
 * reused after, so a steady-state step allocates no backend memory).
 */
import { ArgumentError, NonFiniteError, ShapeError, StateError } from '../errors.js';
import { Workspace } from '../matrix.js';
import { resolveLoss, type Loss, type LossSpec } from '../nn/losses.js';
import { Capture, type Net } from '../nn/net.js';
import type { Ptr } from '../kernels/types.js';
import { checkDim } from '../validate.js';

/** A batch of training data: X is n × inputDim, Y is n × outputDim (or n class indices for cross-entropy). */
export interface Batch {
  X: Float64Array;
  Y: Float64Array;
  n: number;
}

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
  /** The loss after the step, when the optimizer evaluated it (NGD and K-FAC with adaptive damping). */
  lossAfter?: number;
  /** NGD, K-FAC (also as a preconditioner): the damping λ the step used. */
  damping?: number;
  /** NGD and K-FAC with adaptive damping: reduction ratio ρ = actual / predicted loss decrease. */
  rho?: number;
  /** NGD, K-FAC: rejected attempts before this result (each with more damping). */
  retries?: number;
  /** NGD: how the damped system was solved. */
  solver?: 'cholesky' | 'eigh';
  /** NGD: which form was used, Gram ((n·k)² system) or parameter (P² system). */
  form?: 'gram' | 'param';
}

/**
 * An optimizer: `step` updates the net's trainable parameters in place from one
 * batch. State (momentum, damping, workspaces) belongs to the optimizer and is
 * re-created when it is given a different net.
 */
export interface Optimizer {
  readonly name: string;
  /** One step on `batch`; returns its statistics. The parameters change only when `accepted`. */
  step(net: Net, batch: Batch, options?: StepOptions): StepStats;
  /** Forgets accumulated state (momentum, moments, adapted damping); keeps memory for reuse. */
  reset(): void;
  /** Frees the optimizer's backend memory; it can be used again afterwards (memory is re-made). */
  dispose(): void;
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

/**
 * The optimizer's view of one net: a workspace and a capture on the net's
 * backend. `bind` returns true when the net changed, so the caller resets state.
 */
export class NetBinding {
  net: Net | undefined;
  ws: Workspace | undefined;
  cap: Capture | undefined;

  bind(net: Net): boolean {
    if (this.net === net && this.ws) return false;
    this.dispose();
    this.net = net;
    this.ws = new Workspace(net.kernels);
    this.cap = new Capture(net);
    return true;
  }

  dispose(): void {
    this.cap?.dispose();
    this.ws?.dispose();
    this.net = this.cap = this.ws = undefined;
  }
}

/** Validates the net, batch and loss of a step; returns the loss. */
export function prepareStep(net: Net, batch: Batch, options: StepOptions | undefined): Loss {
  if (!net || typeof net.predict !== 'function') throw new ArgumentError('net', 'must be a Net (from twoLayerReLU or mlp)');
  if (net.disposed) throw new StateError('Net used after dispose()');
  if (net.numParams === 0) throw new ArgumentError('net', 'has no trainable parameters');
  if (!batch || typeof batch !== 'object') throw new ArgumentError('batch', 'must be { X, Y, n }');
  const { X, Y, n } = batch;
  checkDim('n', n);
  if (n < 1) throw new ShapeError('n', 'a step needs at least one example');
  net.checkInput(X, n);
  const loss = resolveLoss(options?.loss);
  loss.checkTargets(Y, n, net.outputDim);
  return loss;
}

/** Throws NonFiniteError naming `what` unless the loss value is finite. */
export function checkLoss(what: string, value: number): void {
  if (!Number.isFinite(value)) throw new NonFiniteError(what, 0, value);
}

/** Throws ArgumentError unless `value` is a finite number > 0. */
export function checkPositive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new ArgumentError(name, `must be a finite number > 0, got ${value}`);
  }
}

/** Throws ArgumentError unless 0 ≤ value < 1. */
export function checkUnit(name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ArgumentError(name, `must be in [0, 1), got ${value}`);
  }
}

/** The loss at the net's current parameters on `batch` (a forward pass on the net's own scratch). */
export function lossAt(net: Net, batch: Batch, loss: Loss): number {
  const out = net.evaluate(batch.X, batch.n).output;
  // Read the memory only after evaluate(): its first call allocates and may grow memory, detaching older views.
  return loss.value(net.kernels.f64(), out >> 3, batch.Y, batch.n, net.outputDim);
}

/** Σ h[a+i]·h[b+i] over `len` values at byte pointers a and b (the optimizers' inner products and norms). */
export function dot(h: Float64Array, a: Ptr, b: Ptr, len: number): number {
  let s = 0;
  const x = a >> 3, y = b >> 3;
  for (let i = 0; i < len; i++) s += h[x + i] * h[y + i];
  return s;
}
