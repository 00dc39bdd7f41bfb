// `npm run bench [-- options]`: runs the benchmark suites chosen by --only (all by
// default), prints one Markdown report per suite and writes it to bench/results/
// as <suite>.md and <suite>.json. Progress goes to stderr, the report to stdout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT, USAGE, UsageError, environment, environmentMarkdown, parseOptions, targetsMarkdown, writeResults,
} from './lib.mjs';
import { loadCeiling } from './roofline.mjs';
import * as kernels from './kernels.mjs';
import * as ngd from './ngd.mjs';
import * as headline from './headline.mjs';
import * as kfacSuite from './kfac.mjs';
import * as mnist from './mnist.mjs';
import * as speed from './speed.mjs';
import * as native from './native.mjs';

/** Each suite module exports name, parts and run(ctx) → { data, markdown, targets }. */
const SUITES = [kernels, ngd, speed, native, headline, kfacSuite, mnist];

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(`${USAGE}\n  suites and parts: ${SUITES.map((s) => `${s.name} (${s.parts.join(', ')})`).join('; ')}`);
    return;
  }
  if (!existsSync(join(ROOT, 'dist/esm/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');

  const plan = select(options.only);
  const env = environment(options);
  const log = (line) => process.stderr.write(`${line}\n`);
  if (!globalThis.gc) log('note: run node with --expose-gc (npm run bench does) to collect garbage between measurements');

  const ceiling = await loadCeiling();
  ceiling.measure(options.profile, 'start');
  log(`SIMD ceiling at start: ${ceiling.rate.best.toFixed(2)} GFLOP/s (best)`);

  for (const { suite, parts } of plan) {
    const started = performance.now();
    const result = await suite.run({ parts, sizes: options.sizes, profile: options.profile, ceiling, log, natgrad: options.natgrad });
    const seconds = (performance.now() - started) / 1e3;
    const markdown = [
      `# natgrad benchmark: ${suite.name}`,
      '',
      ...environmentMarkdown(env),
      `- suite wall time: ${seconds.toFixed(0)} s`,
      '',
      'Cells are median / best over all samples; ratios use medians / best samples of the same run. ' +
        '`*` marks a cell with a note below its table.',
      '',
      '## WASM SIMD ceiling (register-only f64x2 loops: mul + add, and fused multiply-add where relaxed SIMD validates)',
      '',
      ceiling.markdown(),
      '',
      '## Tables',
      '',
      result.markdown,
      '',
      '## Targets',
      '',
      targetsMarkdown(result.targets),
    ].join('\n');
    console.log(`${markdown}\n`);
    if (options.write) {
      const data = { suite: suite.name, environment: env, wallSeconds: seconds, ceiling: ceiling.toJSON(), results: result.data, targets: result.targets };
      log(`wrote ${writeResults(options.out, suite.name, data, markdown).join(' and ')}`);
    }
  }
}

/** The suites to run and, within each, the parts (null = all) named by --only. */
function select(only) {
  if (!only) return SUITES.map((suite) => ({ suite, parts: null }));
  const known = new Set(SUITES.flatMap((s) => [s.name, ...s.parts]));
  const unknown = only.filter((x) => !known.has(x));
  if (unknown.length) throw new UsageError(`--only: unknown ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  return SUITES
    .map((suite) => ({ suite, parts: only.includes(suite.name) ? null : suite.parts.filter((p) => only.includes(p)) }))
    .filter(({ parts }) => parts === null || parts.length > 0);
}

main().catch((e) => {
  console.error(e instanceof UsageError ? `${e.message}\n\n${USAGE}` : e?.stack ?? e);
  process.exitCode = 1;
});
