/**
 * `natgrad train` with the default layers chooses between its MLP and a linear model on the validation rows by
 * the one-standard-error rule (issue 18: diabetes, where the MLP's small win on 71 validation rows was a loss on
 * the test rows): the MLP is kept only when it is better by more than one standard error of the paired per-row
 * difference. A linear regression it keeps is then refitted on every training row, to the least-squares solution.
 * One-hot encoding keeps up to 100 categories (gapminder's 63 countries), an ID-like column is still refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, solve } from 'ml-matrix';
import { init } from '../../src/index';
import { TablePreprocessor } from '../../src/advanced';
import { runCli as run } from '../helpers/cli';
import { linearVerdict } from '../../src/cli/train';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'natgrad-choice-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** A deterministic stand-in for N(0, 1) noise. */
const noise = (i: number) => (Math.sin(i * 12.9898 + 1) * 43758.5453 % 1) * 2;

function table(n: number, y: (a: number, b: number, c: number, i: number) => number): { csv: string; rows: number[][] } {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const a = Math.sin(i * 1.3) * 2, b = Math.cos(i * 0.7) * 3, c = ((i * 37) % 11) / 5;
    rows.push([a, b, c, y(a, b, c, i)]);
  }
  return { csv: `a,b,c,y\n${rows.map((r) => r.join(',')).join('\n')}\n`, rows };
}

test('a noisy linear table: the linear model is kept and refitted to least squares on every row', async () => {
  const { csv, rows } = table(150, (a, b, c, i) => 2 * a - b + 0.5 * c + 3 * noise(i));
  const data = join(dir, 'linear.csv'), model = join(dir, 'linear.json');
  writeFileSync(data, csv);
  const t = await run('train', data, '--target', 'y', '--backend', 'js', '--out', model);
  expect(t.err).toBe('');
  expect(t.code).toBe(0);
  expect(t.out).toMatch(/^a linear model \(no hidden layer\) does as well on the validation rows \(val_loss \S+ vs the MLP's \S+, a difference within one standard error \S+\): it is the model written$/m);
  expect(t.out).toMatch(/^refitted the linear model on all 150 training and validation rows/m);
  // Least squares on all 150 rows (with an intercept), in the target's units: the written model predicts it.
  const X = new Matrix(rows.map((r) => [1, r[0], r[1], r[2]])), y = Matrix.columnVector(rows.map((r) => r[3]));
  const want = X.mmul(solve(X.transpose().mmul(X), X.transpose().mmul(y))).to1DArray();
  const p = await run('predict', model, data, '--backend', 'js');
  expect(p.code).toBe(0);
  const got = p.out.trim().split('\n').slice(1).map(Number);
  const scale = Math.max(...want.map(Math.abs));
  expect(Math.max(...got.map((u, i) => Math.abs(u - want[i])))).toBeLessThan(1e-3 * scale);
});

test('--laplace on a refitted linear model: the posterior is of the rows it was refitted on (review R21)', async () => {
  const { csv } = table(150, (a, b, c, i) => 2 * a - b + 0.5 * c + 3 * noise(i));
  const data = join(dir, 'linear-laplace.csv'), model = join(dir, 'linear-laplace.json');
  writeFileSync(data, csv);
  const t = await run('train', data, '--target', 'y', '--laplace', '--backend', 'js', '--out', model);
  expect(t.err).toBe('');
  expect(t.code).toBe(0);
  expect(t.out).toMatch(/^refitted the linear model on all 150 training and validation rows/m);
  expect(t.out).toMatch(/^laplace: '[a-z-]+' posterior on the 150 training rows/m);
  const saved = JSON.parse(readFileSync(model, 'utf8'));
  if (saved.posterior.data) expect(saved.posterior.data.n).toBe(150);
});

test('the linear-model line says "better" only when the linear model wins by more than one standard error (review R22)', () => {
  expect(linearVerdict({ a: 0.9, b: 0.5, difference: 0.4, standardError: 0.05 })).toMatch(/does better on the validation rows \(val_loss 0\.5000 vs the MLP's 0\.9000, by more than one standard error 0\.0500\)/);
  expect(linearVerdict({ a: 0.52, b: 0.5, difference: 0.02, standardError: 0.05 })).toMatch(/does as well on the validation rows .* a difference within one standard error 0\.0500/);
});

test('a nonlinear table with little noise: the MLP is kept', async () => {
  const { csv } = table(200, (a, b, c, i) => Math.abs(a) * 3 + b * b - 2 * c + 0.05 * noise(i));
  const data = join(dir, 'curved.csv');
  writeFileSync(data, csv);
  const t = await run('train', data, '--target', 'y', '--backend', 'js', '--out', join(dir, 'curved.json'));
  expect(t.code).toBe(0);
  expect(t.out).not.toMatch(/linear model/);
  expect(Number(/^held-out rows \(40\): r2 (\S+) /m.exec(t.out)![1])).toBeGreaterThan(0.9);
});

test('one-hot keeps up to 100 categories; a mostly-unique text column is still refused', async () => {
  await init({ backend: 'js' });
  const header = ['country', 'x', 'y'];
  const rows = Array.from({ length: 240 }, (_, i) => [`c${i % 60}`, String(i % 7), String(i)]);
  const p = TablePreprocessor.fit(header, rows, { targets: ['y'], task: 'regression' });
  expect(p.inputDim).toBe(61);
  const ids = Array.from({ length: 40 }, (_, i) => [`id${i % 30}`, String(i % 7), String(i)]);
  expect(() => TablePreprocessor.fit(header, ids, { targets: ['y'], task: 'regression' })).toThrow(/is text with 30 distinct values in 40 rows, like an ID/);
});

test('--validation 0 trains on every row (fit reads validation 0 as none, whichever optimizer runs)', async () => {
  const { csv } = table(60, (a, b, c, i) => a + b + 0.1 * noise(i));
  const data = join(dir, 'noval.csv');
  writeFileSync(data, csv);
  const t = await run('train', data, '--target', 'y', '--validation', '0', '--epochs', '3', '--backend', 'js', '--out', join(dir, 'noval.json'));
  expect(t.err).toBe('');
  expect(t.code).toBe(0);
  expect(t.out).toMatch(/, 60 training \/ 0 validation rows/);
  expect(t.out).not.toMatch(/val_loss/);
});

test('TablePreprocessor refuses a header that names a column twice and a row of another length (review R3)', async () => {
  await init({ backend: 'js' });
  const rows = [['1', '100', 'c'], ['2', '200', 'd'], ['3', '300', 'c'], ['4', '400', 'd']];
  expect(() => TablePreprocessor.fit(['a', 'a', 'y'], rows, { targets: ['y'], task: 'classification' })).toThrow(/header: names column "a" twice/);
  const header = ['a', 'b', 'y'];
  expect(() => TablePreprocessor.fit(header, [...rows, ['3']], { targets: ['y'], task: 'classification' })).toThrow(/rows\[4\]: has 1 cells, the header 3/);
  const p = TablePreprocessor.fit(header, rows, { targets: ['y'], task: 'classification' });
  expect(() => p.encodeInputs(header, [['1', '2']])).toThrow(/rows\[0\]/);
  expect(() => p.encodeTargets(['a', 'y', 'y'], rows)).toThrow(/names column "y" twice/);
});

test('a run interrupted and resumed writes the same model as the whole run, the linear-model choice included (review R10)', async () => {
  const { csv } = table(150, (a, b, c, i) => 2 * a - b + 0.5 * c + 3 * noise(i));
  const data = join(dir, 'resume.csv'), ckpt = join(dir, 'resume-ckpt.json');
  writeFileSync(data, csv);
  const whole = await run('train', data, '--target', 'y', '--epochs', '6', '--patience', '0', '--backend', 'js', '--out', join(dir, 'whole.json'));
  expect(whole.out).toMatch(/^a linear model \(no hidden layer\) does as well/m);
  const first = await run('train', data, '--target', 'y', '--epochs', '3', '--patience', '0', '--backend', 'js', '--checkpoint', ckpt, '--out', join(dir, 'part.json'));
  expect(first.code).toBe(0);
  const rest = await run('train', data, '--resume', ckpt, '--epochs', '6', '--backend', 'js', '--out', join(dir, 'resumed.json'));
  expect(rest.err).toBe('');
  expect(rest.out).toMatch(/^a linear model \(no hidden layer\) does as well/m);
  expect(readFileSync(join(dir, 'resumed.json'), 'utf8')).toBe(readFileSync(join(dir, 'whole.json'), 'utf8'));
});
