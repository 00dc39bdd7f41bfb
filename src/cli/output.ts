/// <reference types="node" />
/** Output for the CLI: atomic file writes and a progress bar on TTYs. */
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { CliError } from './args.js';

/**
 * Writes `data` to `file` so that the file appears whole or not at all: into a temporary
 * file in the same folder, then renamed over the target.
 */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CliError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Writes a folder of files atomically per file: all are written to a temporary folder first, then moved in. */
export function writeFolderAtomic(dir: string, files: Record<string, string | Uint8Array>): void {
  let tmp: string | undefined;
  try {
    mkdirSync(dirname(dir), { recursive: true });
    tmp = mkdtempSync(join(dirname(dir), `.${basename(dir)}.tmp-`));
    for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
    let exists = false;
    try { exists = statSync(dir).isDirectory(); } catch { /* absent */ }
    if (!exists) renameSync(tmp, dir);
    else {
      for (const name of readdirSync(tmp)) renameSync(join(tmp, name), join(dir, name));
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    throw new CliError(`${dir}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A per-epoch step bar on stderr, only when stderr is a terminal (nothing in pipes, CI or logs). */
export interface Progress {
  start(total: number, label: string): void;
  update(value: number): void;
  stop(): void;
}

export function progressBar(): Progress {
  if (!process.stderr.isTTY) return { start() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr, format: '{label} [{bar}] {value}/{total} steps', clearOnComplete: true, hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  let running = false;
  return {
    start(total, label) { bar.start(total, 0, { label }); running = true; },
    update(v) { if (running) bar.update(v); },
    stop() { if (running) bar.stop(); running = false; },
  };
}
