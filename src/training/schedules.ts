/**
 * Learning-rate schedules: functions from the 0-based step index to η. `fit`
 * (option `lr`) sets the optimizer's rate from one before every step; they are
 * plain functions, so `train` users can call `optimizer.setLearningRate(s(k))` too.
 */
import { ArgumentError } from '../errors.js';

/** η as a function of the 0-based step. */
export type Schedule = (step: number) => number;

/** A schedule as data (what the CLI and checkpoints can carry), a constant, or any function. */
export type ScheduleSpec =
  | number
  | Schedule
  | {
    /** {@link constantLr}. */
    type: 'constant';
    /** η. */
    lr: number;
  }
  | {
    /** {@link stepLr}. */
    type: 'step';
    /** The initial η. */
    lr: number;
    /** Steps between drops. */
    every: number;
    /** Multiplier at each drop (default 0.1). */
    factor?: number;
  }
  | {
    /** {@link exponentialLr}. */
    type: 'exponential';
    /** The initial η. */
    lr: number;
    /** Multiplier per step, in (0, 1]. */
    decay: number;
  }
  | {
    /** {@link cosineLr}. */
    type: 'cosine';
    /** The peak η. */
    lr: number;
    /** Steps of warm-up plus annealing. */
    steps: number;
    /** The final η (default 0). */
    min?: number;
    /** Steps of linear warm-up (default 0). */
    warmup?: number;
  };

/**
 * η constant.
 *
 * @param lr η, a finite number > 0
 * @example
 * const s = constantLr(0.1);
 * s(0); // 0.1
 * s(1000); // 0.1
 */
export function constantLr(lr: number): Schedule {
  positive('lr', lr);
  return () => lr;
}

/**
 * η·factor^⌊step/every⌋ (default factor 0.1): drops by `factor` every `every` steps.
 *
 * @param lr the initial η, a finite number > 0
 * @param every steps between drops, a positive integer
 * @param factor multiplier at each drop, > 0 (default 0.1)
 * @example
 * const s = stepLr(1, 10, 0.5);
 * s(9);  // 1
 * s(10); // 0.5
 * s(25); // 0.25
 */
export function stepLr(lr: number, every: number, factor = 0.1): Schedule {
  positive('lr', lr);
  if (!Number.isSafeInteger(every) || every < 1) throw new ArgumentError('every', `must be a positive integer, got ${every}`);
  positive('factor', factor);
  return (step) => lr * factor ** Math.floor(step / every);
}

/**
 * η·decay^step.
 *
 * @param lr the initial η, a finite number > 0
 * @param decay multiplier per step, in (0, 1]
 * @example
 * const s = exponentialLr(1, 0.5);
 * s(0); // 1
 * s(3); // 0.125
 */
export function exponentialLr(lr: number, decay: number): Schedule {
  positive('lr', lr);
  if (!(decay > 0 && decay <= 1)) throw new ArgumentError('decay', `must be in (0, 1], got ${decay}`);
  return (step) => lr * decay ** step;
}

/**
 * Cosine annealing from η to `min` (default 0) over `steps` steps, after a linear warm-up of
 * `warmup` steps (default 0) from η/warmup; η stays at `min` after `steps`.
 *
 * @param lr the peak η, a finite number > 0
 * @param steps steps of warm-up plus annealing, a positive integer
 * @param min the final η, in [0, lr) (default 0)
 * @param warmup steps of linear warm-up, an integer in [0, steps) (default 0)
 * @example
 * const s = cosineLr(1, 100, 0, 10);
 * s(0);   // 0.1 (warm-up)
 * s(10);  // 1 (peak)
 * s(100); // 0 (stays at min)
 * fit(net, data, adam(), { epochs: 100, lr: s });
 */
export function cosineLr(lr: number, steps: number, min = 0, warmup = 0): Schedule {
  positive('lr', lr);
  if (!Number.isSafeInteger(steps) || steps < 1) throw new ArgumentError('steps', `must be a positive integer, got ${steps}`);
  if (!(min >= 0 && min < lr)) throw new ArgumentError('min', `must be in [0, lr), got ${min}`);
  if (!Number.isSafeInteger(warmup) || warmup < 0 || warmup >= steps) throw new ArgumentError('warmup', `must be an integer in [0, steps), got ${warmup}`);
  return (step) => {
    if (step < warmup) return (lr * (step + 1)) / warmup;
    const t = Math.min(1, (step - warmup) / (steps - warmup));
    return min + 0.5 * (lr - min) * (1 + Math.cos(Math.PI * t));
  };
}

/** The schedule of a spec; a function is wrapped so that a non-positive or non-finite η is an error. */
export function resolveSchedule(spec: ScheduleSpec): Schedule {
  if (typeof spec === 'number') return constantLr(spec);
  if (typeof spec === 'function') {
    return (step) => {
      const lr = spec(step);
      if (typeof lr !== 'number' || !Number.isFinite(lr) || !(lr > 0)) throw new ArgumentError('lr', `the schedule returned ${lr} at step ${step}; η must be a finite number > 0`);
      return lr;
    };
  }
  if (!spec || typeof spec !== 'object') throw new ArgumentError('lr', 'must be a number, a schedule function or { type, … }');
  switch (spec.type) {
    case 'constant': return constantLr(spec.lr);
    case 'step': return stepLr(spec.lr, spec.every, spec.factor);
    case 'exponential': return exponentialLr(spec.lr, spec.decay);
    case 'cosine': return cosineLr(spec.lr, spec.steps, spec.min, spec.warmup);
    default: throw new ArgumentError('lr.type', `must be 'constant', 'step', 'exponential' or 'cosine', got ${JSON.stringify((spec as { type: unknown }).type)}`);
  }
}

function positive(name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw new ArgumentError(name, `must be a finite number > 0, got ${v}`);
}
