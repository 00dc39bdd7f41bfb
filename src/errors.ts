import type { TrainRecord } from './train.js';

/** Base class of every error natgrad throws on purpose; `code` is stable for programmatic handling. */
export class NatgradError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A length, dimension or shape argument does not fit; `argument` names it. */
export class ShapeError extends NatgradError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('E_SHAPE', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** An input holds NaN or ±Infinity; `argument` names it and `index` is the first bad element. */
export class NonFiniteError extends NatgradError {
  readonly argument: string;
  readonly index: number;
  constructor(argument: string, index: number, value: number) {
    super('E_NONFINITE', `${argument}: element ${index} is ${value}; inputs must be finite`);
    this.argument = argument;
    this.index = index;
  }

  /**
   * The error of an optimizer step whose `what` ('update', 'direction') was not finite, with
   * θ left unchanged: "`what`: `step` is not finite; the parameters were left unchanged (`remedy`)".
   * The one constructor every optimizer and preconditioner uses for it.
   *
   * @example
   * throw NonFiniteError.step('update', `the NGD step with damping ${lambda}`, 'raise the damping or use adaptive');
   */
  static step(what: string, step: string, remedy: string): NonFiniteError {
    const e = new NonFiniteError(what, 0, NaN);
    e.message = `${what}: ${step} is not finite; the parameters were left unchanged (${remedy})`;
    return e;
  }
}

/**
 * The (damped) matrix is not numerically positive definite: Cholesky met a
 * non-positive or non-finite pivot. `pivot` is its 0-based index.
 */
export class NotPositiveDefiniteError extends NatgradError {
  readonly pivot: number;
  constructor(pivot: number, what = 'matrix') {
    super('E_NOT_PD', `${what} is not positive definite (Cholesky failed at pivot ${pivot})`);
    this.pivot = pivot;
  }
}

/** An iterative algorithm (the symmetric eigensolver) did not converge. */
export class ConvergenceError extends NatgradError {
  constructor(message: string) {
    super('E_CONVERGENCE', message);
  }
}

/**
 * Training diverged: the loss at the current parameters is not finite (or an optimizer found no step
 * that keeps it finite) although the data are. Thrown by a step instead of a NonFiniteError about the
 * inputs; {@link train} fills `step` (the index of the step that could not start) and `history` (the
 * records of the steps before it) so the run is not lost. Code 'E_DIVERGED'.
 */
export class DivergenceError extends NatgradError {
  /** The loss that was not finite. */
  readonly loss: number;
  /** Index of the step that met the divergence (set by `train`). */
  step?: number;
  /** The training records up to that step (set by `train`). */
  history?: TrainRecord[];
  constructor(loss: number, message: string) {
    super('E_DIVERGED', message);
    this.loss = loss;
  }
}

/** An option or argument has a value outside its domain; `argument` names it. */
export class ArgumentError extends NatgradError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('E_ARGUMENT', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** A function that needs the numeric core ran before `await init()`, or a disposed object was used. */
export class StateError extends NatgradError {
  constructor(message: string) {
    super('E_STATE', message);
  }
}
