/// <reference types="node" />
/**
 * The one argument parser of every `natgrad` command: Node's `util.parseArgs` in
 * strict mode, so an unknown flag or a missing value is a usage error (exit 2)
 * naming it, plus typed readers for numbers and lists that name the flag.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage or input error: printed as one line `natgrad: <message>`, exit code `code` (default 2). */
export class CliError extends Error {
  constructor(message: string, readonly code = 2) {
    super(message);
    this.name = 'CliError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Flags every command accepts. */
export const COMMON: Options = {
  help: { type: 'boolean', short: 'h' },
  backend: { type: 'string' },
};

/**
 * Parses `argv` for `command` with `options` (plus the common ones): returns the flag values and
 * the positionals, checking their count. Throws CliError naming an unknown flag, a flag without
 * its value, or a wrong number of positionals (`usage` is the command's synopsis).
 */
export function parse(command: string, argv: string[], options: Options, positionals: { min: number; max: number; usage: string }): { values: Values; positionals: string[] } {
  let result: { values: Values; positionals: string[] };
  try {
    result = parseArgs({ args: argv, options: { ...COMMON, ...options }, strict: true, allowPositionals: true }) as typeof result;
  } catch (e) {
    throw new CliError(`${command}: ${usageMessage(e as Error & { code?: string }, Object.keys({ ...COMMON, ...options }))}`);
  }
  if (result.values.help) return result;
  const n = result.positionals.length;
  if (n < positionals.min) throw new CliError(`${command}: missing argument; usage: natgrad ${positionals.usage}`);
  if (n > positionals.max) throw new CliError(`${command}: unexpected argument "${result.positionals[positionals.max]}"; usage: natgrad ${positionals.usage}`);
  return result;
}

/** util.parseArgs's messages, shortened to one line that names the flag (and the closest known one). */
function usageMessage(e: Error & { code?: string }, known: string[]): string {
  const m = e.message;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const raw = /'([^']+)'/.exec(m)?.[1] ?? m;
    const flag = raw.startsWith('-') ? raw : `--${raw}`;
    const near = closest(flag.replace(/^-+/, '').replace(/=.*$/, ''), known);
    return `unknown flag ${flag}${near ? `; did you mean --${near}?` : ''}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /--[\w-]+/.exec(m)?.[0] ?? 'a flag';
    return /argument missing/.test(m) ? `${flag} needs a value` : `${flag} takes no value`;
  }
  return m.split('\n')[0];
}

/** A string flag's value, or `fallback`. */
export function str(values: Values, name: string, fallback?: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : fallback;
}

/** A number flag (finite, optionally an integer within [min, max]); throws CliError naming it. */
export function num(values: Values, name: string, fallback: number | undefined, rule: { int?: boolean; min?: number; max?: number; exclusiveMin?: boolean } = {}): number | undefined {
  const v = values[name];
  if (v === undefined) return fallback;
  const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  const what = rule.int ? 'an integer' : 'a number';
  if (!Number.isFinite(x) || (rule.int && !Number.isSafeInteger(x))) throw new CliError(`--${name} must be ${what}, got "${String(v)}"`);
  if (rule.min !== undefined && (rule.exclusiveMin ? !(x > rule.min) : !(x >= rule.min))) {
    throw new CliError(`--${name} must be ${rule.exclusiveMin ? '>' : '≥'} ${rule.min}, got ${x}`);
  }
  if (rule.max !== undefined && !(x <= rule.max)) throw new CliError(`--${name} must be ≤ ${rule.max}, got ${x}`);
  return x;
}

/** A flag that must be one of `choices`. */
export function choice<T extends string>(values: Values, name: string, choices: readonly T[], fallback: T): T {
  const v = str(values, name, fallback)!;
  if (!choices.includes(v as T)) throw new CliError(`--${name} must be one of ${choices.join(', ')}, got "${v}"`);
  return v as T;
}

/** A comma-separated list flag ("64,64"), each item checked by `item`. */
export function list<T>(values: Values, name: string, fallback: T[], item: (s: string) => T | undefined): T[] {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const parts = v.split(',').map((s) => s.trim());
  return parts.map((p) => {
    const x = p === '' ? undefined : item(p);
    if (x === undefined) throw new CliError(`--${name}: "${p}" in "${v}" is not valid`);
    return x;
  });
}

/** The `--backend` flag. */
export function backendFlag(values: Values): 'auto' | 'wasm' | 'js' {
  return choice(values, 'backend', ['auto', 'wasm', 'js'] as const, 'auto');
}

/**
 * The candidate closest to `word` (case-insensitive edit distance), when it is close enough to be
 * a likely typo: a case-only difference, or at most ⌈len/3⌉ edits (at least 1, at most 3).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  const limit = Math.min(3, Math.max(1, Math.ceil(w.length / 3)));
  return best !== undefined && bestD <= limit ? best : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
