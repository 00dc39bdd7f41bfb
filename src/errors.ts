/**
 * Base class of every error natgrad throws on purpose; `code` is stable for programmatic handling.
 *
 * @example
 * try {
 *   linalg.cholesky(new Float64Array([1, 2, 2, 1]), 2);
 * } catch (e) {
 *   if (e instanceof NatgradError) console.log(e.code, e.message); // 'E_NOT_PD', '… pivot 1 …'
 *   else throw e;
 * }
 */
export class NatgradError extends Error {
  /** The class's name as a literal, so it survives minifiers that rename classes. */
  override name = 'NatgradError';
  /** A stable identifier of the error's kind: 'E_SHAPE', 'E_NONFINITE', 'E_NOT_PD', 'E_CONVERGENCE', 'E_ARGUMENT' or 'E_STATE'. */
  readonly code: string;
  /**
   * @param code the stable {@link NatgradError.code}
   * @param message what went wrong, naming the argument at fault
   */
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A length, dimension or shape argument does not fit; `argument` names it.
 *
 * @example
 * try {
 *   linalg.gemm(new Float64Array(6), new Float64Array(6), 2, 3, 3); // b should be 3 × 3
 * } catch (e) {
 *   if (e instanceof ShapeError) console.log(e.argument); // 'b'
 * }
 */
export class ShapeError extends NatgradError {
  /** The class's name as a literal (survives minification). */
  override name = 'ShapeError';
  /** The name of the argument at fault, as in the function's signature or options. */
  readonly argument: string;
  /**
   * @param argument the name of the argument at fault
   * @param message what is wrong with it
   */
  constructor(argument: string, message: string) {
    super('E_SHAPE', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/**
 * An input holds NaN or ±Infinity; `argument` names it and `index` is the first bad element.
 * Optimizers also throw it when a step's loss or update is not finite (the parameters are left unchanged).
 *
 * @example
 * try {
 *   linalg.gram(new Float64Array([1, NaN]), 1, 2);
 * } catch (e) {
 *   if (e instanceof NonFiniteError) console.log(e.argument, e.index); // 'a' 1
 * }
 */
export class NonFiniteError extends NatgradError {
  /** The class's name as a literal (survives minification). */
  override name = 'NonFiniteError';
  /** The name of the argument that holds the non-finite value. */
  readonly argument: string;
  /** The 0-based index of its first non-finite element. */
  readonly index: number;
  /**
   * @param argument the name of the argument at fault
   * @param index the 0-based index of its first non-finite element
   * @param value that element (NaN, Infinity or -Infinity)
   */
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
 *
 * @example
 * try {
 *   linalg.cholesky(new Float64Array([1, 2, 2, 1]), 2);       // eigenvalues 3 and −1
 * } catch (e) {
 *   if (e instanceof NotPositiveDefiniteError) console.log(e.pivot); // 1
 * }
 * linalg.cholesky(new Float64Array([1, 2, 2, 1]), 2, { damping: 2 }); // A + 2I is positive definite
 */
export class NotPositiveDefiniteError extends NatgradError {
  /** The class's name as a literal (survives minification). */
  override name = 'NotPositiveDefiniteError';
  /** The 0-based index of the pivot where the factorisation failed. */
  readonly pivot: number;
  /**
   * @param pivot the 0-based index of the failing pivot
   * @param what the matrix's name in the message
   */
  constructor(pivot: number, what = 'matrix') {
    super('E_NOT_PD', `${what} is not positive definite (Cholesky failed at pivot ${pivot})`);
    this.pivot = pivot;
  }
}

/**
 * An iterative algorithm (the symmetric eigensolver) did not converge.
 *
 * @example
 * try {
 *   const { values } = linalg.eigh(a, n);
 * } catch (e) {
 *   if (e instanceof ConvergenceError) console.warn('eigh did not converge:', e.message);
 * }
 */
export class ConvergenceError extends NatgradError {
  /** The class's name as a literal (survives minification). */
  override name = 'ConvergenceError';
  /** @param message what did not converge */
  constructor(message: string) {
    super('E_CONVERGENCE', message);
  }
}

/**
 * Training diverged: the loss at the current parameters is not finite (or an optimizer found no step
 * that keeps it finite) although the data are. Thrown by a step instead of a NonFiniteError about the
 * inputs; {@link train} fills `step` (the index of the step that could not start) and `history` (the
 * records of the steps before it, typed as `TrainRecord[]` where training declares the records) so the
 * run is not lost. Code 'E_DIVERGED'.
 *
 * @example
 * try {
 *   train(net, data, ngd({ lr: 1e160, guard: false }), { steps: 10 });
 * } catch (e) {
 *   if (e instanceof DivergenceError) console.log(e.step, e.history?.length); // the records before the divergence
 *   else throw e;
 * }
 */
export class DivergenceError extends NatgradError {
  /** The class's name as a literal (survives minification). */
  override name = 'DivergenceError';
  /** The loss that was not finite. */
  readonly loss: number;
  /** Index of the step that met the divergence (set by `train`). */
  step?: number;
  constructor(loss: number, message: string) {
    super('E_DIVERGED', message);
    this.loss = loss;
  }
}

/**
 * An option or argument has a value outside its domain; `argument` names it.
 *
 * @example
 * try {
 *   ngd({ lr: -1 });
 * } catch (e) {
 *   if (e instanceof ArgumentError) console.log(e.argument); // 'lr'
 * }
 */
export class ArgumentError extends NatgradError {
  /** The class's name as a literal (survives minification). */
  override name = 'ArgumentError';
  /** The name of the option or argument at fault (nested options as `adaptive.boost`). */
  readonly argument: string;
  /**
   * @param argument the name of the option or argument at fault
   * @param message what is wrong with its value
   */
  constructor(argument: string, message: string) {
    super('E_ARGUMENT', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/**
 * A function that needs the numeric core ran before `await init()`, or a disposed object was used.
 *
 * @example
 * const net = mlp({ sizes: [2, 1] });   // StateError: natgrad is not initialised: call `await init()` first
 */
export class StateError extends NatgradError {
  /** The class's name as a literal (survives minification). */
  override name = 'StateError';
  /** @param message what was used in the wrong state */
  constructor(message: string) {
    super('E_STATE', message);
  }
}

/**
 * Memory for a buffer could not be had: the request exceeds the backend's maximum
 * (`init({ maxMemoryBytes })`, the 2 GiB default ceiling, or the largest single
 * block) or the engine refused to grow. `bytes` is what was asked for. Nothing was
 * allocated; after the caller frees something, allocation works again.
 *
 * @example
 * await init({ maxMemoryBytes: 16 << 20 });
 * try {
 *   new Mat(kernels(), 4096, 4096);       // 128 MiB
 * } catch (e) {
 *   if (e instanceof OutOfMemoryError) console.log(e.code, e.bytes);   // 'OUT_OF_MEMORY' 134217728
 * }
 */
export class OutOfMemoryError extends NatgradError {
  override name = 'OutOfMemoryError';
  /** The bytes the failed allocation asked for. */
  readonly bytes: number;
  /**
   * @param bytes what the allocation asked for
   * @param detail why it could not be had
   */
  constructor(bytes: number, detail: string) {
    super('OUT_OF_MEMORY', `out of memory: ${bytes} bytes asked for; ${detail}`);
    this.bytes = bytes;
  }
}

/**
 * The numeric core could not be loaded: a module without a kernel the TypeScript side binds, or of
 * another ABI version (a stale or foreign build). Raised by {@link init} at load, never at first call.
 *
 * @example
 * try {
 *   await init();
 * } catch (e) {
 *   if (e instanceof BackendError) console.error(e.message);   // e.g. "the WASM module lacks the export gemm; …"
 * }
 */
export class BackendError extends NatgradError {
  override name = 'BackendError';
  /** @param message what is wrong with the module */
  constructor(message: string) {
    super('E_BACKEND', message);
  }
}

/**
 * A saved model, checkpoint or data file is not what it claims to be (wrong format or version, wrong sizes,
 * corrupt or non-finite numbers, an architecture mismatch). `field` names the offending field as a path,
 * e.g. `params.layers[1]` or `architecture.layers[0].outputs`.
 *
 * @example
 * try {
 *   loadNet(readFileSync('model.json', 'utf8'));
 * } catch (e) {
 *   if (e instanceof FormatError) console.error(`model.json is damaged at ${e.field}`);
 *   else throw e;
 * }
 */
export class FormatError extends NatgradError {
  /** The class's name as a literal (survives minification). */
  override name = 'FormatError';
  /** The offending field, as a path. */
  readonly field: string;
  constructor(field: string, message: string) {
    super('E_FORMAT', `${field}: ${message}`);
    this.field = field;
  }
}
