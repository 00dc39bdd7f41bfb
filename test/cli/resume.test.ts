/**
 * `natgrad train --resume` edge cases: the checkpoint's settings are the run's settings, whatever
 * table is given; a checkpoint whose saved settings are damaged is a one-line error, exit 2.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli as run } from '../helpers/cli';
import { checksumOf } from '../../src/encoding/checksum';

const FIX = join(__dirname, '..', 'fixtures', 'cli');
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'natgrad-resume-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

test('--resume on another table standardises with the checkpoint\'s mean/std, the ones saved in the model', async () => {
  const ckpt = join(dir, 'std.ckpt.json'), model = join(dir, 'std.model.json');
  const common = ['--target', 'y1,y2', '--optimizer', 'adam', '--validation', '0', '--standardize', '--hidden', '8', '--backend', 'js'];
  const first = await run('train', join(FIX, 'regression.csv'), ...common, '--epochs', '2', '--checkpoint', ckpt, '--out', join(dir, 'half.json'));
  expect(first.code).toBe(0);
  // The same rows with the inputs rescaled: a table whose own mean/std differ from the checkpoint's.
  const [header, ...rows] = readFileSync(join(FIX, 'regression.csv'), 'utf8').trim().split('\n');
  const moved = join(dir, 'moved.csv');
  writeFileSync(moved, [header, ...rows.map((l) => {
    const [a, b, y1, y2] = l.split(',').map(Number);
    return [3 * a + 1, 3 * b - 2, y1, y2].join(',');
  })].join('\n'));
  const resumed = await run('train', moved, '--resume', ckpt, '--epochs', '3', '--out', model, '--backend', 'js');
  expect(resumed.err).toBe('');
  expect(resumed.code).toBe(0);
  // The last epoch's training loss (all rows, as the net saw them) equals the saved model's loss on the
  // same table, which applies the saved preprocessing: the run and the model scale inputs alike.
  const trained = /^epoch 3\/3 +loss (\S+)/m.exec(resumed.out)![1];
  const e = await run('evaluate', model, moved, '--backend', 'js');
  expect(e.code).toBe(0);
  expect(/^loss (\S+)/m.exec(e.out)![1]).toBe(trained);
});

test('--resume with a checkpoint whose saved run settings are damaged: one line naming the field, exit 2', async () => {
  const ckpt = join(dir, 'cfg.ckpt.json');
  const t = await run('train', join(FIX, 'regression.csv'), '--target', 'y1', '--optimizer', 'sgd', '--hidden', '4', '--epochs', '1',
    '--checkpoint', ckpt, '--out', join(dir, 'cfg.json'), '--backend', 'js');
  expect(t.code).toBe(0);
  const good = JSON.parse(readFileSync(ckpt, 'utf8'));
  const cases: [string, (c: Record<string, unknown>) => void][] = [
    ['targets', (c) => { c.targets = 5; }],
    ['hidden', (c) => { c.hidden = [4, -1]; }],
    ['optimizer', (c) => { c.optimizer = 'lbfgs'; }],
    ['validation', (c) => { c.validation = 3; }],
    ['batchSize', (c) => { c.batchSize = 'all'; }],
    ['seed', (c) => { delete c.seed; }],
  ];
  const wrongVersion = join(dir, 'bad-version.json');
  writeFileSync(wrongVersion, JSON.stringify({ ...good, version: 9 }));
  const v = await run('train', join(FIX, 'regression.csv'), '--resume', wrongVersion, '--epochs', '3', '--backend', 'js');
  expect(v.code).toBe(2);
  expect(v.err.trim()).toBe(`natgrad: ${wrongVersion}: version: unsupported version number 9; this natgrad reads versions 1 and 2`);
  for (const [field, corrupt] of cases) {
    const bad = JSON.parse(JSON.stringify(good));
    corrupt(bad.extra.natgradTrain);
    bad.checksum = checksumOf(bad); // re-signed: this test is about the settings' own checks
    const file = join(dir, `bad-${field}.json`);
    writeFileSync(file, JSON.stringify(bad));
    const r = await run('train', join(FIX, 'regression.csv'), '--resume', file, '--epochs', '3', '--out', join(dir, 'never.json'), '--backend', 'js');
    expect([field, r.code]).toEqual([field, 2]);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`extra.natgradTrain.${field}`);
  }
});
