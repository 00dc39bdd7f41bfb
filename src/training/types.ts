/**
 * The records training writes and the files read back, with no behaviour: a step's
 * {@link TrainRecord} (`train`, `fit`, and a `DivergenceError`'s history) and the
 * {@link FitState} a checkpoint stores to resume `fit`. Training and io/ both stand on
 * this module, so neither imports the other for a type.
 */
import type { StepStats } from '../optim/types.js';

/** One step's record: the optimizer's {@link StepStats} plus its index and the loss ratio. */
export interface TrainRecord extends StepStats {
  /** 0-based step index. */
  step: number;
  /**
   * loss / previous step's loss (NaN on step 0). For the default ½Σ squared
   * error this is ‖r_k‖²/‖r_{k−1}‖², the paper's per-step contraction.
   */
  ratio: number;
  /** u(θ_k) on the training inputs (n × outputDim), the outputs whose loss is `loss`; only with `recordOutputs`. */
  outputs?: Float64Array;
}

/** Where {@link fit} stands after an epoch: enough to resume it exactly (checkpoints store it). */
export interface FitState {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** State of the data-order generator at the start of the next epoch. */
  rng: number;
  /** Early-stopping bookkeeping, when enabled. */
  best?: {
    /** The best monitored loss so far. */
    loss: number;
    /** The epoch that reached it. */
    epoch: number;
    /** Epochs since then without an improvement. */
    wait: number;
    /** That epoch's parameters, kept when `restoreBest` is on. */
    params?: Float64Array;
  };
  /** δ and σ of Bayesian regularisation after the epoch, when `fit`'s `bayesian` is on (saved in checkpoints: a resumed run continues with them). */
  bayesian?: {
    /** The prior precision δ. */
    prior: number;
    /** The noise σ. */
    noise: number;
  };
}

declare module '../errors.js' {
  interface DivergenceError {
    /** The training records up to that step (set by `train`). */
    history?: TrainRecord[];
  }
}
