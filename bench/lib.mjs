// Shared machinery of the benchmark suites (one file per suite, dispatched by
// bench/run.mjs): options, environment stamp, Benchmark.js timing, verified
// measurement of competing implementations, seeded inputs, closeness checks,
// tables, targets and result files.
import Benchmark from 'benchmark';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** The repository root (bench/..), with a trailing slash. */
export const ROOT = new URL('..', import.meta.url).pathname;

// ------------------------------------------------------------------ options

export const DEFAULT_SIZES = [64, 128, 256, 512, 1024];

/**
 * Timing budgets.
 * - rounds: interleaved passes over the implementations at one size; samples are pooled.
 * - minSamples, maxTime, minTime (seconds): Benchmark.js options for each pass. Every
 *   sample is the mean over as many calls as fill minTime.
 * - warmup: seconds of untimed calls after the verification call.
 * - slowCall: an implementation whose verification call took longer is timed in the
 *   first pass only, with about slowBudget seconds of one-call samples (at least one).
 * - maxCall: a peer (ml-matrix, tfjs) whose call is predicted from the previous size to
 *   take longer is skipped; the reference (the oracle) and natgrad's kernels never are.
 * - trainCap (seconds): the headline suite stops a training run that has not reached
 *   its target after this much training time.
 */
export const PROFILES = {
  full: { rounds: 2, minSamples: 5, maxTime: 0.5, minTime: 0.05, warmup: 0.25, slowCall: 0.5, slowBudget: 4, maxCall: 60, trainCap: 30 },
  quick: { rounds: 1, minSamples: 3, maxTime: 0.1, minTime: 0.02, warmup: 0.1, slowCall: 0.2, slowBudget: 1, maxCall: 5, trainCap: 6 },
};

export const USAGE = `usage: npm run bench [-- options]   (or: node --expose-gc bench/run.mjs [options])
  --sizes 64,128      matrix sizes n (default ${DEFAULT_SIZES.join(',')})
  --only gemm,eigh    suites or parts of suites to run (default: everything)
  --quick             short timing budgets (smoke runs); default is the full profile
  --rounds R          interleaved timing passes per size (full: ${PROFILES.full.rounds}, quick: ${PROFILES.quick.rounds})
  --max-call S        skip a peer predicted to take more than S seconds per call (full: ${PROFILES.full.maxCall}, quick: ${PROFILES.quick.maxCall})
  --threads T         natgrad threads for the headline suite: a number or auto (default auto: the fastest configuration)
  --simd B            natgrad WASM build for the headline suite: auto, relaxed or baseline (default auto: relaxed where it validates)
  --out DIR           where results are written (default bench/results)
  --no-write          print only`;

/** An error in the command line: reported with the usage text, without a stack. */
export class UsageError extends Error {}

/** Parses argv (without node and the script) into the run's options; throws UsageError on anything unknown. */
export function parseOptions(argv) {
  try {
    return parse(argv);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(e.message);
  }
}

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      sizes: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      'max-call': { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
      threads: { type: 'string', default: 'auto' },
      simd: { type: 'string', default: 'auto' },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const profile = { ...PROFILES[values.quick ? 'quick' : 'full'] };
  if (values.rounds !== undefined) profile.rounds = positive('--rounds', values.rounds, true);
  if (values['max-call'] !== undefined) profile.maxCall = positive('--max-call', values['max-call'], false);
  const sizes = values.sizes === undefined ? DEFAULT_SIZES : list(values.sizes).map((s) => positive('--sizes', s, true));
  const threads = values.threads === 'auto' ? 'auto' : positive('--threads', values.threads, true);
  if (!['auto', 'relaxed', 'baseline'].includes(values.simd)) throw new UsageError(`--simd: expected auto, relaxed or baseline, got '${values.simd}'`);
  return {
    help: values.help,
    natgrad: { threads, simd: values.simd },
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    only: values.only === undefined ? null : list(values.only),
    quick: values.quick,
    profile,
    out: values.out,
    write: !values['no-write'],
  };
}

function list(s) {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

function positive(flag, text, integer) {
  const x = Number(text);
  if (!(x > 0) || (integer && !Number.isInteger(x))) throw new UsageError(`${flag}: expected a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
  return x;
}

// ------------------------------------------------------------- environment

/** What the numbers were measured on and with: printed and saved with every result. */
export function environment(options) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpuModel(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    git: gitDescription(),
    natgradWasm: fileStamp(join(ROOT, 'build/natgrad.wasm')),
    natgradBuilds: builds(),
    packages: Object.fromEntries(['benchmark', 'ml-matrix', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'assemblyscript']
      .map((name) => [name, packageVersion(name)])),
    options: { sizes: options.sizes, only: options.only, quick: options.quick, natgrad: options.natgrad, ...options.profile },
  };
}

/**
 * Which natgrad WASM build init() picks on this engine (relaxed where WebAssembly.validate accepts
 * the relaxed-SIMD module) and whether threads can run (SharedArrayBuffer); suites name the build
 * and thread count of each row themselves.
 */
function builds() {
  const validates = (file) => {
    try {
      return WebAssembly.validate(readFileSync(join(ROOT, 'build', file)));
    } catch {
      return false;
    }
  };
  const relaxed = validates('natgrad.relaxed.wasm');
  return {
    default: relaxed ? 'relaxed' : 'baseline',
    relaxedValidates: relaxed,
    sharedMemory: typeof SharedArrayBuffer === 'function',
    hardwareThreads: os.availableParallelism?.() ?? os.cpus().length,
  };
}

function cpuModel() {
  const model = os.cpus()[0]?.model?.trim() || 'unknown';
  // Virtual machines often report only a family name ("AMD EPYC"); family/model/stepping pin it down.
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name) => info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1];
    const [family, mdl, stepping] = ['cpu family', 'model', 'stepping'].map(field);
    if (family !== undefined) return `${model} (family ${family}, model ${mdl}, stepping ${stepping})`;
  } catch { /* not Linux */ }
  return model;
}

function gitDescription() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return git('rev-parse', '--short', 'HEAD') + (dirty ? '-dirty' : '');
  } catch {
    return 'unknown';
  }
}

function fileStamp(path) {
  if (!existsSync(path)) return null;
  const bytes = readFileSync(path);
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex').slice(0, 16) };
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

/** The environment as Markdown lines. */
export function environmentMarkdown(env) {
  const o = env.options;
  return [
    `- date: ${env.date}; git ${env.git}; natgrad.wasm ${env.natgradWasm ? `${env.natgradWasm.bytes} bytes, sha256 ${env.natgradWasm.sha256}…` : 'not built'}`,
    `- Node ${env.node}, V8 ${env.v8}; ${env.platform}`,
    ...(env.natgradBuilds ? [`- natgrad WASM: default build ${env.natgradBuilds.default} (relaxed SIMD ${env.natgradBuilds.relaxedValidates ? 'validates' : 'does not validate'} here); ` +
      `threads ${env.natgradBuilds.sharedMemory ? `available (${env.natgradBuilds.hardwareThreads} logical processors)` : 'unavailable'}; rows name their build and thread count`] : []),
    `- CPU: ${env.cpu}; ${env.cores} cores; load average at start ${env.loadAverage.join(' / ')}`,
    `- packages: ${Object.entries(env.packages).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `- options: sizes ${o.sizes.join(',')}; only ${o.only ? o.only.join(',') : 'all'}; ${o.quick ? 'quick' : 'full'} profile ` +
      `(rounds ${o.rounds}, ≥ ${o.minSamples} samples of ≥ ${o.minTime} s within ${o.maxTime} s per pass, warm-up ${o.warmup} s, ` +
      `slow call > ${o.slowCall} s → ~${o.slowBudget} s of samples once, skip peers > ${o.maxCall} s per call, training runs capped at ${o.trainCap} s)`,
  ];
}

// ------------------------------------------------------------------ timing

/**
 * Times `fn` with Benchmark.js (synchronously) and returns its samples: seconds per
 * call, each the mean over one Benchmark.js cycle.
 */
export function time(fn, { minSamples, maxTime, minTime }) {
  const bench = new Benchmark({ fn, minSamples, maxTime, minTime, initCount: 1 });
  bench.run();
  if (bench.error) throw bench.error;
  return bench.stats.sample.slice();
}

/**
 * Times one call of `run` at a time (for calls long against the clock, ≳ 10 ms):
 * `warmup` untimed calls, then at least `minSamples` timed ones, more while fewer
 * than `seconds` have passed (at most `maxSamples`). `before` runs before every
 * call, outside the timing (e.g. to reset the state a call changes); garbage is
 * collected before every timed call. Returns the samples in seconds.
 */
export function timeCalls(run, { warmup = 0, minSamples = 1, seconds = 0, maxSamples = 100, before } = {}) {
  for (let i = 0; i < warmup; i++) {
    before?.();
    run();
  }
  const samples = [];
  const start = now();
  while (samples.length < minSamples || (now() - start < seconds && samples.length < maxSamples)) {
    before?.();
    gc();
    const t = now();
    run();
    samples.push(now() - t);
  }
  return samples;
}

/** Median and best (minimum) of samples in seconds. */
export function summarize(samples) {
  const s = samples.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, best: s[0], count: s.length };
}

function now() {
  return performance.now() / 1e3;
}

/**
 * Verifies, then times, competing implementations of one computation at one size.
 *
 * Each case is { id, label, reference?, peer?, check?, prepare() → { run(), output(), dispose?() } }:
 * prepare puts the inputs where the implementation wants them (outside the timing);
 * run does one timed call and may return a non-zero number, a kernel failure code;
 * output returns the last result for `check(output, expected)` (the case's own check
 * if it has one), which returns null when it is correct and a message otherwise.
 * `expected` is the output of the first case that passed, reference cases going
 * first, or null when none has; `check` must then verify by itself (identities) or
 * return a message. A reference case is checked only by its own check.
 *
 * Only cases that passed are timed: a fast but wrong implementation posts no number.
 * `predict(id)` may return an estimated call time from the previous size, used to
 * skip a peer (a case marked `peer`, never the reference or the implementation under
 * test) that would take longer than profile.maxCall.
 *
 * Returns { cells, expected }: cells is { [id]: cell } with cell = { status, median?,
 * best?, count?, samples?, firstCall?, note? } (times in seconds) and status one of
 * ok | failed | wrong | error | skipped; expected is the output every other case was checked against.
 */
export function measureCases(cases, { check, profile, predict = () => undefined, progress = () => {} }) {
  const cells = {};
  const live = [];
  let expected = null;
  let haveExpected = false;
  for (const c of [...cases.filter((x) => x.reference), ...cases.filter((x) => !x.reference)]) {
    const guess = predict(c.id);
    if (c.peer && guess > profile.maxCall) {
      cells[c.id] = { status: 'skipped', note: `skipped: ≈ ${fmtSeconds(guess)} per call predicted (limit ${profile.maxCall} s)` };
      progress(c, cells[c.id]);
      continue;
    }
    let inst;
    try {
      inst = c.prepare();
      gc();
      const t = now();
      const code = inst.run();
      const firstCall = now() - t;
      if (typeof code === 'number' && code !== 0) {
        cells[c.id] = { status: 'failed', note: `returned failure code ${code}` };
      } else {
        const out = inst.output();
        // The reference is the oracle: only its own check (identities) can reject it.
        const checker = c.check ?? (c.reference ? null : check);
        const problem = checker?.(out, haveExpected ? expected : null);
        if (problem) {
          cells[c.id] = { status: 'wrong', note: `wrong result: ${problem}` };
        } else {
          if (!haveExpected) [expected, haveExpected] = [out, true];
          cells[c.id] = { status: 'ok', firstCall, samples: [] };
          live.push({ c, inst, slow: firstCall > profile.slowCall, firstCall });
          inst = null;
        }
      }
    } catch (e) {
      cells[c.id] = { status: 'error', note: `threw: ${e?.message ?? e}` };
    } finally {
      inst?.dispose?.();
    }
    if (cells[c.id].status !== 'ok') progress(c, cells[c.id]);
  }

  for (let round = 0; round < profile.rounds; round++) {
    for (const l of live) {
      const cell = cells[l.c.id];
      if (cell.status !== 'ok' || (l.slow && round > 0)) continue;
      const plan = l.slow
        ? { minSamples: Math.max(1, Math.min(profile.minSamples, Math.floor(profile.slowBudget / l.firstCall))), maxTime: 0, minTime: 0 }
        : profile;
      try {
        if (round === 0 && !l.slow) {
          for (const t = now(); now() - t < profile.warmup;) l.inst.run();
        }
        gc();
        cell.samples.push(...time(l.inst.run, plan));
      } catch (e) {
        Object.assign(cell, { status: 'error', note: `threw while timed: ${e?.message ?? e}` });
      }
    }
  }
  for (const l of live) {
    l.inst.dispose?.();
    const cell = cells[l.c.id];
    if (cell.status === 'ok') {
      Object.assign(cell, summarize(cell.samples));
      if (l.slow) cell.note = `slow: ${cell.count} one-call sample${cell.count > 1 ? 's' : ''}, one pass`;
    }
    progress(l.c, cell);
  }
  return { cells, expected };
}

/** Collects garbage when node runs with --expose-gc (npm run bench does). */
export function gc() {
  globalThis.gc?.();
}

// ------------------------------------------------------------------ inputs

/** mulberry32: the same seeded uniform generator as test/helpers/random.ts. */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` standard normal values (Box–Muller), seeded as in test/helpers/random.ts. */
export function randn(seed, count) {
  const u = rng(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/**
 * The regression of issue 3 and the paper's experiments: n inputs drawn uniformly on
 * the unit sphere of R^d (rows of seeded N(0, I) samples, each divided by its norm)
 * and targets y ~ N(0, 1), one per input. Returns { X (n×d row-major), Y (n) }.
 */
export function unitSphereRegression({ n, d, seed }) {
  const X = randn(seed, n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j] ** 2;
    const r = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) X[i * d + j] *= r;
  }
  return { X, Y: randn(seed + 1, n) };
}

/**
 * A symmetric positive definite n×n matrix M·Mᵀ/n + shift·I with M standard normal:
 * its eigenvalues lie in about [shift, shift + 4], like a damped Gram matrix.
 */
export function randomSPD(seed, n, shift = 1) {
  const m = randn(seed, n * n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0, ri = i * n, rj = j * n; p < n; p++) s += m[ri + p] * m[rj + p];
      a[i * n + j] = a[j * n + i] = s / n + (i === j ? shift : 0);
    }
  }
  return a;
}

// ---------------------------------------------------------------- checking

/**
 * The closeness rule of test/helpers/allclose.ts, |actual[i] − expected[i]| ≤ atol + rtol·|expected[i]|,
 * returning the first failure as a message (or null) instead of throwing.
 */
export function mismatch(actual, expected, { rtol = 1e-12, atol = 1e-12, cols } = {}) {
  if (actual.length !== expected.length) return `length ${actual.length} differs from expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const bound = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= bound)) {
      const where = cols ? `index ${i} (row ${Math.floor(i / cols)}, col ${i % cols})` : `index ${i}`;
      return `first mismatch at ${where}: actual ${a}, expected ${e}, |diff| ${Math.abs(a - e).toExponential(2)} > ${bound.toExponential(2)}`;
    }
  }
  return null;
}

export function maxAbs(x) {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

// ------------------------------------------------------------- formatting

/** A rate or ratio with three significant digits. */
export function fmtNumber(x) {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a === 0) return '0';
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : a >= 1e-3 ? x.toPrecision(2) : x.toExponential(1);
}

export function fmtSeconds(s) {
  if (!Number.isFinite(s)) return '–';
  if (s >= 1) return `${fmtNumber(s)} s`;
  if (s >= 1e-3) return `${fmtNumber(s * 1e3)} ms`;
  return `${fmtNumber(s * 1e6)} µs`;
}

export function fmtPercent(x) {
  return Number.isFinite(x) ? `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%` : '–';
}

/** A Markdown table with padded columns (readable as plain text too); the first column is left-aligned. */
export function markdownTable(header, rows) {
  rows = rows.map((r) => r.map((c) => String(c).replaceAll('|', '\\|')));
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => String(r[j]).length)));
  const line = (cells) => `| ${cells.map((c, j) => (j === 0 ? String(c).padEnd(widths[j]) : String(c).padStart(widths[j]))).join(' | ')} |`;
  const rule = `|${widths.map((w, j) => (j === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

// ----------------------------------------------------------------- targets

/**
 * One target check. `value` is { median, best } of a ratio, or null when it could
 * not be measured; pass/fail is judged on the median ratio, as the issues state their
 * targets ("medians of one run"); the best-sample ratio is reported beside it.
 * `broken` (a reason) fails the target whatever the value:
 * the implementation under test failed or was wrong. `why` explains an n/a.
 */
export function target(name, n, value, { min, max, unit = '×', why, broken, note: always } = {}) {
  let result = 'n/a';
  if (broken) result = 'FAIL';
  else if (value && Number.isFinite(value.median)) {
    result = (min === undefined || value.median >= min) && (max === undefined || value.median <= max) ? 'PASS' : 'FAIL';
  }
  const note = [broken ?? (result === 'n/a' ? why : undefined), always].filter(Boolean).join('; ');
  return { name, n, median: value?.median ?? null, best: value?.best ?? null, min, max, unit, result, ...(note ? { why: note } : {}) };
}

export function targetsMarkdown(targets) {
  const fmt = (x, unit) => (x === null || x === undefined ? '–' : unit === '%' ? fmtPercent(x) : `${fmtNumber(x)}×`);
  const rows = targets.map((t) => [
    t.name, t.n ?? '', fmt(t.median, t.unit), fmt(t.best, t.unit),
    t.min !== undefined ? `≥ ${fmt(t.min, t.unit)}` : `≤ ${fmt(t.max, t.unit)}`,
    t.result + (t.why ? ` (${t.why})` : ''),
  ]);
  const tally = ['PASS', 'FAIL', 'n/a'].map((r) => `${targets.filter((t) => t.result === r).length} ${r}`).join(', ');
  return `${markdownTable(['target', 'n', 'median', 'best', 'required', 'result'], rows)}\n\n${tally}. Pass/fail is judged on the median ratio.`;
}

// ------------------------------------------------------------------ output

/** Writes `<dir>/<name>.json` and `<dir>/<name>.md`; returns their paths. */
export function writeResults(dir, name, data, markdown) {
  const abs = dir.startsWith('/') ? dir : join(ROOT, dir);
  mkdirSync(abs, { recursive: true });
  const json = join(abs, `${name}.json`), md = join(abs, `${name}.md`);
  writeFileSync(json, `${JSON.stringify(data, null, 1)}\n`);
  writeFileSync(md, `${markdown}\n`);
  return [json, md];
}
