/**
 * Runs the experiments of `natgrad reproduce` and assembles results.json.
 */
import { backendInfo, VERSION } from '../index.js';
import type { BaseConfig, Experiment, ExperimentResult, Knob, Verdict } from './types.js';
import { EXPERIMENTS } from './experiments/index.js';

/** results.json */
export interface Results {
  version: string;
  env: { node: string; cpu: string; backend: string; simd: boolean; platform: string; date: string };
  config: BaseConfig & { only: string[] };
  /** Wall time of the run so far. */
  seconds: number;
  experiments: ExperimentResult[];
  /** False while experiments are still to run (results.json is rewritten as each one finishes). */
  complete: boolean;
}

const KNOBS: Knob[] = ['n', 'd', 'm', 'seed'];

/** The verdict of an experiment: outside the regime whatever the checks say; else PASS when every check passed. */
export function verdictOf(pass: boolean, regime: ExperimentResult['regime']): { verdict: Verdict; verdictText: string } {
  if (regime && !regime.inside) return { verdict: 'OUTSIDE', verdictText: `outside the theorem's regime (${regime.why})` };
  return pass ? { verdict: 'PASS', verdictText: 'PASS' } : { verdict: 'FAIL', verdictText: 'FAIL' };
}

/** "7 pass · 1 fail · 1 outside the theorem's regime" */
export function tally(results: Results): string {
  const count = (v: string) => results.experiments.filter((e) => e.verdict === v).length;
  const outside = count('OUTSIDE'), fail = count('FAIL');
  return [`${count('PASS')}/${results.experiments.length} pass`, ...(fail ? [`${fail} fail`] : []), ...(outside ? [`${outside} outside the theorem's regime (not judged)`] : [])].join(' · ');
}

/** Runs one experiment with the base overrides applied and times it. */
export function runExperiment(e: Experiment<object>, base: BaseConfig): ExperimentResult {
  const config = e.config(base);
  const ignored = KNOBS.filter((k) => base[k] !== undefined && !e.knobs.includes(k));
  const ignoredWhy: Partial<Record<Knob, string>> = {};
  for (const k of ignored) ignoredWhy[k] = e.noKnob[k] ?? 'this experiment has no such setting';
  const t = performance.now();
  const out = e.run(config);
  const seconds = (performance.now() - t) / 1000;
  const pass = out.checks.every((c) => c.pass);
  return {
    id: e.id, title: e.title, claim: e.claim, formula: e.formula, expected: e.expected, tolerance: e.tolerance,
    ...out, pass, ...verdictOf(pass, out.regime), seconds, config: config as Record<string, unknown>, choices: e.choices(config), ignored, ignoredWhy,
  };
}

/** Hooks of {@link runAll}. */
export interface RunHooks {
  /** Before experiment `index` of `total` starts. */
  onStart?(e: Experiment<object>, index: number, total: number): void;
  /** After each experiment, with results.json's content so far (complete: false until the last). */
  onDone?(results: Results): void | Promise<void>;
}

/**
 * Runs the experiments `only` (all when empty) one after another and returns results.json's content. Each
 * experiment frees the backend memory it allocated before the next starts.
 */
export async function runAll(base: BaseConfig, only: string[], env: { cpu: string }, hooks: RunHooks = {}): Promise<Results> {
  const list = only.length ? EXPERIMENTS.filter((e) => only.includes(e.id)) : EXPERIMENTS;
  const t = performance.now();
  const info = backendInfo();
  const results: Results = {
    version: VERSION,
    env: { node: process.versions.node, cpu: env.cpu, backend: info?.backend ?? 'none', simd: info?.simd ?? false, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString() },
    config: { ...base, only: list.map((e) => e.id) },
    seconds: 0,
    experiments: [],
    complete: false,
  };
  for (const [i, e] of list.entries()) {
    hooks.onStart?.(e, i, list.length);
    await e.prepare?.();
    // Let a progress bar repaint between experiments.
    await new Promise((ok) => setImmediate(ok));
    results.experiments.push(runExperiment(e, base));
    results.seconds = (performance.now() - t) / 1000;
    results.complete = i === list.length - 1;
    await hooks.onDone?.(results);
  }
  results.complete = true;
  return results;
}
