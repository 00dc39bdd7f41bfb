/// <reference types="node" />
/**
 * `natgrad reproduce`: runs the paper's experiments, prints a PASS/FAIL table, writes DIR/results.json and the
 * self-contained DIR/index.html (both rewritten as each experiment finishes). Exit codes: 0 done (and, with
 * --check, no prediction failed inside its regime); 1 a prediction failed inside its regime under --check; 2 bad
 * input (the message names the flag). An experiment whose configuration is outside the theorem's regime is
 * reported as such and does not fail --check.
 */
import { parseArgs } from 'node:util';
import { accessSync, constants, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { init } from '../index.js';
import { IDS } from '../reproduce/experiments/index.js';
import { runAll, tally, type Results } from '../reproduce/runner.js';
import type { BaseConfig } from '../reproduce/types.js';

export const REPRODUCE_HELP = `Usage: natgrad reproduce [options]

Measures the predictions of Zhang, Martens & Grosse (2019) and Figure 1 (${IDS.join(', ')}) with the paper's raw
methods (fixed step and damping, no divergence guard), prints a PASS/FAIL table and writes DIR/results.json,
DIR/index.html and each plot as DIR/figures/ID-k.svg, rewritten as each experiment finishes. A configuration
too narrow for its measured λ₀ is reported "outside the theorem's regime", not PASS or FAIL.

Options:
  --quick           reduced sizes (what \`npm start\` runs; ≤ 2 minutes on 2 cores)
  --only <ids>      comma-separated experiment ids, e.g. E1,E5,F1 (default: all)
  --seed <N>        base seed of data and initial weights (default 1)
  --n <N>           number of training inputs, in every experiment that has that knob
  --d <N>           input dimension, likewise
  --m <N>           width, likewise (sweeps end at it); the report names any experiment
                    that ignores a flag, and why
  --out <DIR>       report directory (default natgrad-report)
  --check           exit 1 when a prediction fails inside its regime
  --json            print results.json to stdout instead of the table
  --backend <name>  auto (default), wasm or js
  -h, --help        show this help
`;

class UsageError extends Error {}

function integer(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new UsageError(`--${flag} must be an integer ≥ ${min}, got '${v}'`);
  return Number(v);
}

/** Parses and validates the flags; throws UsageError naming the flag. */
function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        quick: { type: 'boolean' }, only: { type: 'string' }, seed: { type: 'string' }, n: { type: 'string' }, d: { type: 'string' }, m: { type: 'string' },
        out: { type: 'string' }, check: { type: 'boolean' }, json: { type: 'boolean' }, backend: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  const only = v.only === undefined ? [] : v.only.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  if (v.only !== undefined && only.length === 0) throw new UsageError('--only needs at least one experiment id');
  for (const id of only) if (!IDS.includes(id)) throw new UsageError(`--only: unknown experiment '${id}' (known: ${IDS.join(', ')})`);
  const backend = v.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'wasm' && backend !== 'js') throw new UsageError(`--backend must be auto, wasm or js, got '${backend}'`);
  const base: BaseConfig = { quick: !!v.quick };
  const seed = integer('seed', v.seed, 0), n = integer('n', v.n, 4), d = integer('d', v.d, 2), m = integer('m', v.m, 16);
  if (seed !== undefined) base.seed = seed;
  if (n !== undefined) base.n = n;
  if (d !== undefined) base.d = d;
  if (m !== undefined) base.m = m;
  return { base, only, backend: backend as 'auto' | 'wasm' | 'js', out: v.out ?? 'natgrad-report', check: !!v.check, json: !!v.json, help: !!v.help };
}

/** The PASS/FAIL table printed on stdout, with the reason under it for each experiment outside the regime. */
export function formatTable(results: Results): string {
  const rows = [['id', 'claim', 'expected', 'measured', 'verdict', 'seconds'],
    ...results.experiments.map((e) => [e.id, e.title, e.expected, e.measuredText, e.verdict === 'OUTSIDE' ? 'outside regime' : e.verdict, e.seconds.toFixed(1)])];
  const width = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  const line = (r: string[]) => r.map((cell, c) => cell + ' '.repeat(width[c] - [...cell].length)).join('  ').trimEnd();
  const env = results.env;
  const outside = results.experiments.filter((e) => e.verdict === 'OUTSIDE').map((e) => `${e.id}: ${e.verdictText}`);
  return [line(rows[0]), width.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), ...(outside.length ? ['', ...outside] : []), '',
    `${tally(results)} · ${results.config.quick ? 'quick' : 'full'} mode · ${results.seconds.toFixed(1)} s · Node ${env.node} · ${env.cpu} · ${env.backend}${env.simd ? ' (SIMD)' : ''}`].join('\n');
}

/** --check's exit code: 1 when a prediction failed inside its regime; outside the regime is not a failure. */
export const checkExitCode = (results: Results): number => (results.experiments.some((e) => e.verdict === 'FAIL') ? 1 : 0);

/** Writes `text` to `file` through a temporary file and a rename, so a crash never leaves half a file. */
function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** Runs `natgrad reproduce` with the arguments after the command name; resolves to the exit code. */
export async function reproduceCommand(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(argv);
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`natgrad reproduce: ${e.message}\n`); return 2; }
    throw e;
  }
  if (opts.help) { process.stdout.write(REPRODUCE_HELP); return 0; }
  const dir = resolve(opts.out);
  try {
    mkdirSync(join(dir, 'figures'), { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    process.stderr.write(`natgrad reproduce: --out: cannot write to ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n`);
    return 2;
  }
  await init({ backend: opts.backend });
  const cpuList = cpus();
  const cpu = `${cpuList[0]?.model?.trim() ?? 'unknown CPU'} × ${cpuList.length}`;
  const bar = await progressBar();
  const { ReportWriter } = await import('../reproduce/report.js');
  const report = await ReportWriter.create();
  const toJson = (r: Results) => JSON.stringify(r, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1);
  // Written after every experiment: a crash (or Ctrl-C) keeps what already ran, marked complete: false.
  // The figures and the page first, results.json last: once results.json names an experiment, its report is there.
  const save = (r: Results) => {
    const rendered = report.render(r);
    for (const f of rendered.newFigures) writeFileSync(join(dir, 'figures', f.name), f.svg);
    writeAtomic(join(dir, 'index.html'), rendered.html);
    writeAtomic(join(dir, 'results.json'), toJson(r));
  };
  const results = await runAll(opts.base, opts.only, { cpu }, { onStart: (e, i, total) => bar?.update(i, total, `${e.id} ${e.title}`), onDone: save });
  bar?.stop(results.experiments.length);
  if (opts.json) process.stdout.write(`${toJson(results)}\n`);
  else process.stdout.write(`${formatTable(results)}\nreport: ${join(dir, 'index.html')}\nresults: ${join(dir, 'results.json')}\n`);
  return opts.check ? checkExitCode(results) : 0;
}

/** A cli-progress bar on stderr, only when stderr is a terminal. */
async function progressBar(): Promise<{ update(i: number, total: number, label: string): void; stop(done: number): void } | undefined> {
  if (!process.stderr.isTTY) return undefined;
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({ stream: process.stderr, format: 'reproduce [{bar}] {value}/{total} {label}', hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
  let started = false;
  return {
    update(i, total, label) {
      if (!started) { bar.start(total, i, { label }); started = true; } else bar.update(i, { label });
    },
    stop(done) { if (started) { bar.update(done, { label: 'done' }); bar.stop(); } },
  };
}
