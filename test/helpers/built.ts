import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root. */
export const root = resolve(__dirname, '../..');

/**
 * Throws, saying why, unless dist/ is built from the current sources
 * (scripts/ensure-built.mjs --check; `npm test` builds first when needed).
 */
export function assertBuilt(): void {
  try {
    execFileSync(process.execPath, ['scripts/ensure-built.mjs', '--check'], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    throw new Error(String((e as { stderr?: string }).stderr || e));
  }
}
