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

/**
 * Whether a configuration lies inside the regime the prediction needs, decided BEFORE training from quantities
 * measured at initialisation (λ₀ = λ_min(G(θ₀)), the width, the labels). Outside it a failed check is not
 * evidence against the library or the theory, so the verdict reads "outside the theorem's regime (why)".
 */
export interface Regime {
  inside: boolean;
  /** Why, with the numbers. */
  why: string;
  /** λ_min(G(θ₀)) of the configuration the regime is judged on. */
  lambda0: number;
  /** λ_max(G(θ₀)). */
  lambdaMax: number;
  /** ‖r₀‖²/(r₀ᵀG₀⁻¹r₀): the curvature the initial residual sees (λ₀ ≤ λ_eff ≤ λ_max). */
  lambdaEff: number;
  /** The width judged. */
  m: number;
  /** √(r₀ᵀG₀⁻¹r₀): the weight displacement the NGD path needs (≤ ‖r₀‖/√λ₀). */
  displacement: number;
  /** ρ = √(2/π)·displacement/(ν√m): the estimated fraction of ReLUs whose sign flips on an input along the path. */
  flipFraction: number;
  /** ξ = ρ·λ_max/λ_eff: the Gram's expected drift against the curvature the residual needs. */
  index: number;
  /** The largest ρ and ξ at which this prediction's tolerance is expected to hold. */
  maxFlipFraction: number;
  maxIndex: number;
}

/** PASS / FAIL inside the regime, OUTSIDE when the configuration is outside it (whatever the checks say). */
export type Verdict = 'PASS' | 'FAIL' | 'OUTSIDE';

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
  /** Whether the configuration is inside the regime the prediction needs (absent: no width condition applies). */
  regime?: Regime;
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
}

/** The stored result of one experiment (an entry of results.json's `experiments`). */
export interface ExperimentResult extends Outcome, Description {
  /** Every check passed. */
  pass: boolean;
  /** OUTSIDE when the regime says so, else PASS or FAIL from the checks. */
  verdict: Verdict;
  /** The verdict in words: "PASS", "FAIL" or "outside the theorem's regime (why)". */
  verdictText: string;
  seconds: number;
  /** The config that ran. */
  config: Record<string, unknown>;
  /** Settings chosen where the paper is silent, written from the config that ran. */
  choices: string[];
  /** Overrides the experiment has no knob for. */
  ignored: Knob[];
  /** Why each ignored override is ignored. */
  ignoredWhy: Partial<Record<Knob, string>>;
}

/** An experiment: its description and a pure function of its config. */
export interface Experiment<C extends object = Record<string, unknown>> extends Description {
  /** The base knobs this experiment has. */
  knobs: Knob[];
  /** Why it has no knob for the others (shown in the report when one is given). */
  noKnob: Partial<Record<Knob, string>>;
  /** Settings chosen where the paper is silent, in words, from the config that runs. */
  choices(config: C): string[];
  /** The config at the defaults (quick or full) with the base overrides applied. */
  config(base: BaseConfig): C;
  /** Loads constant data the experiment needs (e.g. the shipped MNIST digits) before `run`. */
  prepare?(): Promise<void>;
  run(config: C): Outcome;
}
