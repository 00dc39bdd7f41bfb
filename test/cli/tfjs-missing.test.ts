/**
 * `--export-tfjs` checks that TF.js loads before training starts: without it the command exits 2 at
 * once, naming the packages, and trains nothing (no epoch line, no model file).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli as run } from '../helpers/cli';

jest.mock('@tensorflow/tfjs-layers', () => { throw new Error("Cannot find module '@tensorflow/tfjs-layers'"); });

test('--export-tfjs without TF.js installed: exit 2 before the first epoch, nothing written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'natgrad-tfjs-missing-'));
  const model = join(dir, 'model.json');
  const r = await run('train', join(__dirname, '..', 'fixtures', 'cli', 'regression.csv'), '--target', 'y1', '--epochs', '3',
    '--out', model, '--export-tfjs', join(dir, 'tfjs'), '--backend', 'js');
  expect(r.code).toBe(2);
  expect(r.err.trim()).toBe('natgrad: --export-tfjs needs TF.js: npm install @tensorflow/tfjs-core @tensorflow/tfjs-layers @tensorflow/tfjs-backend-cpu');
  expect(r.out).not.toMatch(/epoch/);
  expect(existsSync(model)).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});
