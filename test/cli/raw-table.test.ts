/**
 * Raw tables train with the defaults (issue 18): a text input column is one-hot encoded, empty input
 * cells filled in (counted), rows with an empty target left out (counted), an ID-like column refused
 * with a pointer to --ignore; the preprocessing travels in the model, so predict and evaluate read raw
 * rows too. Old (version-1) model files still predict. A model no better than the constant predictor
 * says so; a diverging run exits non-zero and leaves the model file as it was.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, mlp, Standardizer, loadNet } from '../../src/index';
import { runCli as run } from '../helpers/cli';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'natgrad-raw-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** 240 rows: y depends on a number, a text column (island) and a noise column; some cells empty. */
function rawTable(): string {
  const islands = ['Biscoe', 'Dream', 'Torgersen'];
  const lines = ['id,size,island,noise,kind,y'];
  for (let i = 0; i < 240; i++) {
    const size = Math.sin(i * 1.7) * 10 + 50, island = islands[i % 3], noise = Math.cos(i * 2.3);
    const kind = size + 10 * (i % 3) > 60 ? 'big' : 'small';
    const y = 0.3 * size + 5 * (i % 3) + 0.1 * noise;
    lines.push([`row-${i}`, i % 17 === 3 ? '' : size.toFixed(3), i % 23 === 5 ? '' : island, noise.toFixed(3), kind, i % 41 === 7 ? '' : y.toFixed(4)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

describe.each(['wasm', 'js'])('%s backend', (backend) => {
  test('a raw table with a text column, empty cells and an ID column: refused with --ignore suggested, then trains and predicts', async () => {
    const data = join(dir, `raw-${backend}.csv`);
    writeFileSync(data, rawTable());
    const refused = await run('train', data, '--target', 'y', '--backend', backend, '--out', join(dir, 'never.json'));
    expect(refused.code).toBe(2);
    expect(refused.err.trim()).toMatch(/column "id": is text with 187 distinct values in 187 rows, like an ID or free text; leave it out \(--ignore id\)$/);

    const model = join(dir, `raw-${backend}.json`);
    const t = await run('train', data, '--target', 'y', '--ignore', 'id', '--backend', backend, '--out', model);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/^natgrad \S+ train: 240 rows of .*, 4 inputs → y \(regression\)$/m);
    expect(t.out).toMatch(/^left out 6 of 240 rows whose target is empty$/m);
    expect(t.out).toMatch(/^filled in \d+ empty input cells \(median of a number column, most frequent value of a text column, from the training rows\)$/m);
    expect(t.out).toMatch(/^optimizer auto → (ngd|kfac): Gram system \d+×\d+/m);
    const heldOut = /^held-out rows \(47\): r2 (\S+) /m.exec(t.out);
    expect(Number(heldOut![1])).toBeGreaterThan(0.9);
    const net = loadNet(readFileSync(model, 'utf8'));
    expect(net.preprocessing?.type).toBe('table');
    expect(net.columns?.inputs).toEqual(['size', 'island', 'noise', 'kind']);
    net.dispose();

    // predict and evaluate read raw rows (empty cells, text) through the saved preprocessing, in y's units.
    const p = await run('predict', model, data, '--backend', backend);
    expect(p.code).toBe(0);
    const preds = p.out.trim().split('\n');
    expect(preds[0]).toBe('y');
    expect(preds).toHaveLength(241);
    const truth = rawTable().trim().split('\n').slice(1).map((l) => l.split(',')[5]);
    const errs = preds.slice(1).map((u, i) => (truth[i] === '' ? 0 : Math.abs(Number(u) - Number(truth[i]))));
    // (a row whose island was empty gets the most frequent one, up to 10 off; the rest are close)
    expect(errs.sort((a, b) => a - b)[Math.floor(errs.length * 0.9)]).toBeLessThan(1);
    const held = join(dir, `held-${backend}.csv`);
    writeFileSync(held, rawTable().split('\n').filter((l, i) => i === 0 || (l !== '' && !/,$/.test(l))).join('\n'));
    const e = await run('evaluate', model, held, '--backend', backend);
    expect(e.code).toBe(0);
    expect(Number(/^r2 (\S+)$/m.exec(e.out)![1])).toBeGreaterThan(0.9);
  });
});

test('task detection never reads a target with empty cells as classes; --drop-missing; --no-standardize', async () => {
  const data = join(dir, 'gaps.csv');
  const lines = ['a,b,y'];
  for (let i = 0; i < 128; i++) lines.push([i % 9 === 0 ? '' : String(i), String((i * 7) % 13), i === 5 ? '' : String((i % 128) + 0.5)].join(','));
  writeFileSync(data, lines.join('\n'));
  const t = await run('train', data, '--target', 'y', '--drop-missing', '--no-standardize', '--epochs', '3', '--backend', 'js', '--out', join(dir, 'gaps.json'));
  expect(t.err).toBe('');
  expect(t.out).toMatch(/→ y \(regression\)/);
  expect(t.out).toMatch(/^left out 1 of 128 rows whose target is empty$/m);
  expect(t.out).toMatch(/^left out 15 rows with an empty input cell \(--drop-missing\)$/m);
  const net = loadNet(readFileSync(join(dir, 'gaps.json'), 'utf8'));
  const inputs = (net.preprocessing as { inputs: { mean: number; std: number }[] }).inputs;
  expect(inputs.map((c) => [c.mean, c.std])).toEqual([[0, 1], [0, 1]]);
  net.dispose();
});

test('a version-1 model file (Standardizer, no checksum) still predicts and evaluates', async () => {
  await init({ backend: 'js' });
  const net = mlp({ sizes: [2, 4, 1], seed: 3 });
  net.columns = { inputs: ['a', 'b'], targets: ['y'] };
  net.preprocessing = Standardizer.fit(new Float64Array([1, 2, 3, 4, 5, 7]), 3).toJSON();
  const { checksum: _c, ...json } = net.toJSON() as unknown as Record<string, unknown>;
  const file = join(dir, 'v1.json');
  writeFileSync(file, JSON.stringify({ ...json, version: 1 }));
  const X = Standardizer.fromJSON(net.preprocessing).transform(new Float64Array([1, 2, 3, 4]), 2);
  const want = net.predict(X, 2);
  net.dispose();
  const data = join(dir, 'v1.csv');
  writeFileSync(data, 'a,b,y\n1,2,0.5\n3,4,1.5\n');
  const p = await run('predict', file, data, '--backend', 'js');
  expect(p.code).toBe(0);
  expect(p.out.trim().split('\n').slice(1).map(Number)).toEqual(Array.from(want));
  const e = await run('evaluate', file, data, '--backend', 'js');
  expect(e.code).toBe(0);
  expect(e.out).toMatch(/^r2 \S+$/m);
});

test('a model no better than the majority class says so; a diverging run exits 1 and leaves the model file as it was', async () => {
  const data = join(dir, 'noise.csv');
  const lines = ['a,b,label'];
  // Labels unrelated to the inputs, 75% one class: nothing beats predicting it.
  for (let i = 0; i < 200; i++) lines.push([Math.sin(i * 12.9898) * 43758 % 1, Math.cos(i * 78.233) * 12345 % 1, (i * 7919) % 4 === 0 ? 'rare' : 'common'].join(','));
  writeFileSync(data, lines.join('\n'));
  const t = await run('train', data, '--target', 'label', '--backend', 'js', '--out', join(dir, 'noise.json'));
  expect(t.code).toBe(0);
  expect(t.out).toMatch(/^warning: the model does no better than always predicting the majority class "common" on the held-out rows \(accuracy \S+ vs \S+\)$/m);

  const model = join(dir, 'kept.json');
  writeFileSync(model, 'the previous model');
  const d = await run('train', data, '--target', 'label', '--optimizer', 'sgd', '--lr', '1e6', '--backend', 'js', '--out', model);
  expect(d.code).toBe(1);
  expect(d.err.trim()).toMatch(/^natgrad: training diverged: epoch \d+ ended at loss \S+, .*; .*kept\.json was not written/);
  expect(readFileSync(model, 'utf8')).toBe('the previous model');
});
