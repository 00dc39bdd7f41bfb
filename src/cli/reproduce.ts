/// <reference types="node" />
/**
 * `natgrad reproduce`: runs the paper's experiments, prints a PASS/FAIL table, writes DIR/results.json and the
 * self-contained DIR/index.html. Exit codes: 0 done (and, with --check, every prediction held); 1 a prediction
 * failed under --check; 2 bad input (the message names the flag).
 */
import { parseArgs } from 'node:util';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { init } from '../index.js';
import { IDS } from '../reproduce/experiments/index.js';
import { runAll, type Results } from '../reproduce/runner.js';
import type { BaseConfig } from '../reproduce/types.js';

export const REPRODUCE_HELP = `Usage: natgrad reproduce [options]

Measures the predictions of Zhang, Martens & Grosse (2019) and Figure 1 (${IDS.join(', ')}), prints a PASS/FAIL
table and writes DIR/results.json, DIR/index.html and each plot as DIR/figures/ID-k.svg.

Options:
  --quick           reduced sizes (what \`npm start\` runs; ≤ 2 minutes on 2 cores)
  --only <ids>      comma-separated experiment ids, e.g. E1,E5,F1 (default: all)
  --seed <N>        base seed of data and initial weights (default 1)
  --n <N>           number of training inputs, in every experiment that has that knob
  --d <N>           input dimension, likewise
  --m <N>           width, likewise (sweeps end at it)
  --out <DIR>       report directory (default natgrad-report)
  --check           exit 1 when any prediction fails
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

/** The PASS/FAIL table printed on stdout. */
export function formatTable(results: Results): string {
  const rows = [['id', 'claim', 'expected', 'measured', 'verdict', 'seconds'],
    ...results.experiments.map((e) => [e.id, e.title, e.expected, e.measuredText, e.pass ? 'PASS' : 'FAIL', e.seconds.toFixed(1)])];
  const width = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  const line = (r: string[]) => r.map((cell, c) => cell + ' '.repeat(width[c] - [...cell].length)).join('  ').trimEnd();
  const env = results.env;
  return [line(rows[0]), width.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '',
    `${results.experiments.filter((e) => e.pass).length}/${results.experiments.length} pass · ${results.config.quick ? 'quick' : 'full'} mode · ${results.seconds.toFixed(1)} s · Node ${env.node} · ${env.cpu} · ${env.backend}${env.simd ? ' (SIMD)' : ''}`].join('\n');
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
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    process.stderr.write(`natgrad reproduce: --out: cannot write to ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n`);
    return 2;
  }
  await init({ backend: opts.backend });
  const cpuList = cpus();
  const cpu = `${cpuList[0]?.model?.trim() ?? 'unknown CPU'} × ${cpuList.length}`;
  const bar = await progressBar();
  const results = await runAll(opts.base, opts.only, { cpu }, (e, i, total) => bar?.update(i, total, `${e.id} ${e.title}`));
  bar?.stop(results.experiments.length);
  const json = JSON.stringify(results, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1);
  writeFileSync(join(dir, 'results.json'), json);
  const { renderReport } = await import('../reproduce/report.js');
  const report = await renderReport(results);
  writeFileSync(join(dir, 'index.html'), report.html);
  mkdirSync(join(dir, 'figures'), { recursive: true });
  for (const f of report.figures) writeFileSync(join(dir, 'figures', f.name), f.svg);
  if (opts.json) process.stdout.write(`${json}\n`);
  else process.stdout.write(`${formatTable(results)}\nreport: ${join(dir, 'index.html')}\nresults: ${join(dir, 'results.json')}\n`);
  return opts.check && results.experiments.some((e) => !e.pass) ? 1 : 0;
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
