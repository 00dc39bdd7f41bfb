/**
 * Runs the experiments of `natgrad reproduce` and assembles results.json.
 */
import { backendInfo, VERSION } from '../index.js';
import type { BaseConfig, Experiment, ExperimentResult, Knob } from './types.js';
import { EXPERIMENTS } from './experiments/index.js';

/** results.json */
export interface Results {
  version: string;
  env: { node: string; cpu: string; backend: string; simd: boolean; platform: string; date: string };
  config: BaseConfig & { only: string[] };
  /** Wall time of the whole run. */
  seconds: number;
  experiments: ExperimentResult[];
}

/** Runs one experiment with the base overrides applied and times it. */
export function runExperiment(e: Experiment<object>, base: BaseConfig): ExperimentResult {
  const config = e.config(base);
  const ignored = (['n', 'd', 'm', 'seed'] as Knob[]).filter((k) => base[k] !== undefined && !e.knobs.includes(k));
  const t = performance.now();
  const out = e.run(config);
  const seconds = (performance.now() - t) / 1000;
  return {
    id: e.id, title: e.title, claim: e.claim, formula: e.formula, expected: e.expected, tolerance: e.tolerance,
    ...out, pass: out.checks.every((c) => c.pass), seconds, config: config as Record<string, unknown>, ignored, choices: e.choices,
  };
}

/** Runs the experiments `only` (all when empty) and returns results.json's content. */
export async function runAll(base: BaseConfig, only: string[], env: { cpu: string }, onStart?: (e: Experiment<object>, index: number, total: number) => void): Promise<Results> {
  const list = only.length ? EXPERIMENTS.filter((e) => only.includes(e.id)) : EXPERIMENTS;
  const t = performance.now();
  const experiments: ExperimentResult[] = [];
  for (const [i, e] of list.entries()) {
    onStart?.(e, i, list.length);
    await e.prepare?.();
    // Let a progress bar repaint between experiments.
    await new Promise((ok) => setImmediate(ok));
    experiments.push(runExperiment(e, base));
  }
  const info = backendInfo();
  return {
    version: VERSION,
    env: { node: process.versions.node, cpu: env.cpu, backend: info?.backend ?? 'none', simd: info?.simd ?? false, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString() },
    config: { ...base, only: list.map((e) => e.id) },
    seconds: (performance.now() - t) / 1000,
    experiments,
  };
}
