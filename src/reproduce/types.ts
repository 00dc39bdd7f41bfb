/**
 * The shape every experiment of `natgrad reproduce` shares: a pure function of
 * its config returning the measured series, the summary numbers, the claim in
 * words and as a formula, the expectation with its tolerance, and pass/fail.
 */

/** The knobs the command can override in every experiment that has them. */
export type Knob = 'n' | 'd' | 'm' | 'seed';

/** What the command passes to each experiment's config builder. */
export interface BaseConfig {
  /** Reduced sizes (`--quick`, what `npm start` runs). */
  quick: boolean;
  /** Overrides from --n, --d, --m, --seed (absent when not given). */
  n?: number;
  d?: number;
  m?: number;
  seed?: number;
}

/** One sub-check of an experiment: all of them must pass for the experiment to pass. */
export interface Check {
  name: string;
  expected: string;
  measured: string;
  pass: boolean;
}

/** Rows of one plot's data: plain objects of numbers and strings. */
export type Series = Record<string, number | string | null>[];

/** What an experiment's run returns. */
export interface Outcome {
  /** The headline number, in the units `expected` states. */
  measured: number;
  /** The headline formatted as in the table (e.g. "2.1e-4"). */
  measuredText: string;
  checks: Check[];
  /** Other summary numbers, by name. */
  summary: Record<string, number>;
  /** Plot data, by plot name. */
  series: Record<string, Series>;
  /** Measured observations and explanations shown in the report. */
  notes: string[];
}

/** What an experiment states: its stable id, the claim in words and as a formula, the expectation. */
export interface Description {
  /** Stable id: E1 … E8, F1. */
  id: string;
  title: string;
  claim: string;
  formula: string;
  expected: string;
  tolerance: string;
  /** Settings chosen where the paper is silent (shown in the report). */
  choices: string[];
}

/** The stored result of one experiment (an entry of results.json's `experiments`). */
export interface ExperimentResult extends Outcome, Description {
  pass: boolean;
  seconds: number;
  config: Record<string, unknown>;
  /** Overrides the experiment has no knob for. */
  ignored: Knob[];
}

/** An experiment: its description and a pure function of its config. */
export interface Experiment<C extends object = Record<string, unknown>> extends Description {
  /** The base knobs this experiment has. */
  knobs: Knob[];
  /** The config at the defaults (quick or full) with the base overrides applied. */
  config(base: BaseConfig): C;
  /** Loads constant data the experiment needs (e.g. the shipped MNIST digits) before `run`. */
  prepare?(): Promise<void>;
  run(config: C): Outcome;
}
