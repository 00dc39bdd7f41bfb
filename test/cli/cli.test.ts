/**
 * The CLI in-process through main(argv): fixture CSVs (quoted fields, CRLF, a BOM, empty lines,
 * string labels) train, predict and evaluate; every bad input exits 2 with its one-line message.
 */
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNet } from '../../src/index';
import { runCli as run } from '../helpers/cli';

const FIX = join(__dirname, '..', 'fixtures', 'cli');
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'natgrad-cli-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe.each(['wasm', 'js'])('%s backend', (backend) => {
  test('train → predict → evaluate on a CSV with a BOM, CRLF, quoted fields, empty lines and string labels', async () => {
    const model = join(dir, `classes-${backend}.json`);
    const t = await run('train', join(FIX, 'classes.csv'), '--target', 'label', '--hidden', '8', '--epochs', '12', '--optimizer', 'adam', '--lr', '0.05',
      '--standardize', '--seed', '1', '--out', model, '--backend', backend);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/60 rows of .*classes\.csv, 3 inputs → label \(classification, 3 classes\)/);
    expect(t.out.match(/^epoch +\d+\/12 +loss \S+ +accuracy \S+ +val_loss \S+ +val_accuracy \S+/gm)).toHaveLength(12);
    const net = loadNet(readFileSync(model, 'utf8'));
    expect(net.labels).toEqual(['setosa "wild"', 'versicolor, tall', 'virginica']);
    expect(net.columns).toEqual({ inputs: ['x1', 'x 2', 'x3'], targets: ['label'] });
    expect(net.preprocessing?.type).toBe('table');
    net.dispose();

    const preds = join(dir, `preds-${backend}.csv`);
    const p = await run('predict', model, join(FIX, 'classes.csv'), '--out', preds, '--proba', '--backend', backend);
    expect(p.code).toBe(0);
    const lines = readFileSync(preds, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('label,"p(setosa ""wild"")","p(versicolor, tall)",p(virginica)');
    expect(lines).toHaveLength(61);
    const truth = ['"setosa ""wild"""', '"versicolor, tall"', 'virginica'];
    const right = lines.slice(1).filter((l, i) => l.startsWith(`${truth[i % 3]},`)).length;
    expect(right / 60).toBeGreaterThanOrEqual(0.9);

    // Columns are matched by header name: reordered columns and an extra one give the same predictions.
    const src = readFileSync(join(FIX, 'classes.csv'), 'utf8').replace(/^\uFEFF/, '').split(/\r\n/).filter((l) => l !== '');
    const shuffled = join(dir, `shuffled-${backend}.csv`);
    writeFileSync(shuffled, src.map((line, i) => {
      const [x1, x2, x3, label] = line.match(/("[^"]*(?:""[^"]*)*"|[^,]+)/g)!;
      return [label, x3, i === 0 ? 'note' : `${i}`, x1, x2].join(',');
    }).join('\n'));
    const p2 = await run('predict', model, shuffled, '--proba', '--backend', backend);
    expect(p2.code).toBe(0);
    expect(p2.out.trim().split('\n')).toEqual(lines);

    const e = await run('evaluate', model, join(FIX, 'classes.csv'), '--backend', backend);
    expect(e.code).toBe(0);
    const acc = Number(/accuracy (\S+)/.exec(e.out)![1]);
    expect(acc).toBeCloseTo(right / 60, 4);
  });

  test('regression with two targets: metrics printed, predictions under the target names', async () => {
    const model = join(dir, `reg-${backend}.json`);
    const t = await run('train', join(FIX, 'regression.csv'), '--target', 'y1,y2', '--hidden', '16', '--epochs', '15', '--validation', '0.25',
      '--out', model, '--backend', backend);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/\(regression\)/);
    const last = t.out.match(/^epoch 15\/15 .*$/m)![0];
    expect(Number(/ r2 (\S+)/.exec(last)![1])).toBeGreaterThan(0.9);
    const p = await run('predict', model, join(FIX, 'regression.csv'), '--backend', backend);
    expect(p.out.split('\n')[0]).toBe('y1,y2');
    const e = await run('evaluate', model, join(FIX, 'regression.csv'), '--target', 'y1,y2', '--backend', backend);
    expect(e.out).toMatch(/^rmse \S+$/m);
    expect(e.out).toMatch(/^r2 \S+$/m);
  });
});

describe('usage and input errors exit 2 with one line naming the problem', () => {
  const reg = join(FIX, 'regression.csv');
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /^natgrad: unknown command "frobnicate"; the commands are: .*train/],
    ['unknown flag', ['train', reg, '--target', 'y1', '--learning-rate', '3'], /^natgrad: train: unknown flag --learning-rate$/],
    ['flag without its value', ['train', reg, '--target'], /^natgrad: train: --target needs a value$/],
    ['bad number', ['train', reg, '--target', 'y1', '--epochs', 'ten'], /^natgrad: --epochs must be an integer, got "ten"$/],
    ['bad choice', ['train', reg, '--target', 'y1', '--optimizer', 'lbfgs'], /^natgrad: --optimizer must be one of auto, ngd, kfac, adam, sgd, gd, got "lbfgs"$/],
    ['bad backend', ['evaluate', 'm.json', reg, '--backend', 'gpu'], /^natgrad: --backend must be one of auto, wasm, js, got "gpu"$/],
    ['missing --target', ['train', reg], /--target <col> is required/],
    ['missing file', ['train', join(FIX, 'nope.csv'), '--target', 'y'], /nope\.csv: cannot read \(ENOENT\)/],
    ['missing target column', ['train', reg, '--target', 'price'], /regression\.csv: no column "price" \(--target\); the columns are: a, b, y1, y2$/],
    ['not a number', ['train', join(FIX, 'bad-number.csv'), '--target', 'y1'], /bad-number\.csv line 17, column "b": "abc" is not a number$/],
    ['ragged row', ['train', join(FIX, 'bad-ragged.csv'), '--target', 'y1'], /bad-ragged\.csv line 6: 5 fields/],
    ['unclosed quote', ['train', join(FIX, 'bad-quote.csv'), '--target', 'y1'], /bad-quote\.csv line 3: Quote Not Closed/],
    ['header only', ['train', join(FIX, 'header-only.csv'), '--target', 'y1'], /no data rows after the header/],
    ['extra argument', ['predict', 'a.json', reg, 'more.csv'], /unexpected argument "more\.csv"/],
    ['a flag one letter off', ['train', reg, '--target', 'y1', '--epoch', '3'], /^natgrad: train: unknown flag --epoch; did you mean --epochs\?$/],
    ['a column in the wrong case', ['train', reg, '--target', 'Y1'], /no column "Y1" \(--target\); did you mean "y1"\? The columns are: a, b, y1, y2$/],
    ['a repeated target', ['train', reg, '--target', 'y1,y2,y1'], /^natgrad: --target: "y1,y2,y1" names column "y1" twice$/],
    ['layers that cannot fit in memory', ['train', reg, '--target', 'y1', '--hidden', '1048576,1048576'], /^natgrad: --hidden 1048576,1048576: out of memory: .*choose smaller layers$/],
  ];
  test.each(cases)('%s', async (_name, argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err.trim()).toMatch(message);
  });

  test('numbers only in decimal or exponent notation: 0x1F, 0b1, Infinity, 1_000 are named by file, line and column', async () => {
    for (const cell of ['0x1F', '0b1', '0o7', 'Infinity', '1_000', '1e', '--1']) {
      const file = join(dir, 'notation.csv');
      writeFileSync(file, `a,b,y\n1,2,3\n4,${cell},6\n7,8,9\n1.5e-3,.5,-2.\n`);
      const r = await run('train', file, '--target', 'y', '--out', join(dir, 'never.json'));
      expect([cell, r.code]).toEqual([cell, 2]);
      expect(r.err.trim()).toBe(`natgrad: ${file} line 3, column "b": ${JSON.stringify(cell)} is not a number`);
    }
  });

  test('a corrupt model file names the file and the field; nothing is half-written', async () => {
    const bad = join(dir, 'bad-model.json');
    writeFileSync(bad, JSON.stringify({ format: 'natgrad-model', version: 7 }));
    const r = await run('predict', bad, join(FIX, 'regression.csv'));
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`natgrad: ${bad}: version: unsupported version number 7; this natgrad reads versions 1 and 2`);
    // A failing train writes no model and leaves no temporary file.
    const out = join(dir, 'never.json');
    const t = await run('train', join(FIX, 'bad-number.csv'), '--target', 'y1', '--out', out);
    expect(t.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  test('--help of each command, --version', async () => {
    for (const c of ['train', 'predict', 'evaluate', 'demo']) {
      const r = await run(c, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: natgrad ${c}`));
    }
    expect((await run('--version')).out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
