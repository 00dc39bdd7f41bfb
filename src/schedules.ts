/**
 * Learning-rate schedules: functions from the 0-based step index to η. `fit`
 * (option `lr`) sets the optimizer's rate from one before every step; they are
 * plain functions, so `train` users can call `optimizer.setLearningRate(s(k))` too.
 */
import { ArgumentError } from './errors.js';

/** η as a function of the 0-based step. */
export type Schedule = (step: number) => number;

/** A schedule as data (what the CLI and checkpoints can carry), a constant, or any function. */
export type ScheduleSpec =
  | number
  | Schedule
  | { type: 'constant'; lr: number }
  | { type: 'step'; lr: number; every: number; factor?: number }
  | { type: 'exponential'; lr: number; decay: number }
  | { type: 'cosine'; lr: number; steps: number; min?: number; warmup?: number };

/** η constant. */
export function constantLr(lr: number): Schedule {
  positive('lr', lr);
  return () => lr;
}

/** η·factor^⌊step/every⌋ (default factor 0.1): drops by `factor` every `every` steps. */
export function stepLr(lr: number, every: number, factor = 0.1): Schedule {
  positive('lr', lr);
  if (!Number.isSafeInteger(every) || every < 1) throw new ArgumentError('every', `must be a positive integer, got ${every}`);
  positive('factor', factor);
  return (step) => lr * factor ** Math.floor(step / every);
}

/** η·decay^step. */
export function exponentialLr(lr: number, decay: number): Schedule {
  positive('lr', lr);
  if (!(decay > 0 && decay <= 1)) throw new ArgumentError('decay', `must be in (0, 1], got ${decay}`);
  return (step) => lr * decay ** step;
}

/**
 * Cosine annealing from η to `min` (default 0) over `steps` steps, after a linear warm-up of
 * `warmup` steps (default 0) from η/warmup; η stays at `min` after `steps`.
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
