/**
 * Runs TypeScript in a fresh Node process: the script is bundled from src/ with esbuild (so
 * the child runs the current sources, not a stale dist/) into a temporary .mjs, then executed.
 */
import { buildSync } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const TEST_DIR = resolve(__dirname, '..');

/** Bundles `source` (TypeScript; imports relative to test/) into a runnable .mjs file; returns its path. */
export function bundle(source: string, dir: string, name = 'script'): string {
  const out = join(dir, `${name}.mjs`);
  const result = buildSync({
    stdin: { contents: source, resolveDir: TEST_DIR, loader: 'ts', sourcefile: `${name}.ts` },
    bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent',
    external: ['@tensorflow/*'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  writeFileSync(out, result.outputFiles[0].contents);
  return out;
}

/** A temporary folder for one test, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `node file args…` in a fresh process and returns its stdout (throws on a non-zero exit, with stderr). */
export function runNode(file: string, args: string[], cwd?: string): string {
  return execFileSync(process.execPath, [file, ...args], { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}
