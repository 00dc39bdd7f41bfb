/**
 * Ctrl-C (or SIGTERM) during `natgrad train`: training is synchronous, so the signal can only be heard
 * between epochs; the run stops there, says so, writes the model of the completed epochs and exits
 * 130 (143 for SIGTERM).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, tempDir } from '../helpers/fresh';

test.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s stops training at the next epoch boundary: message, model and checkpoint written, exit %d', async (signal, exitCode) => {
  const { dir, cleanup } = tempDir('natgrad-sigint-');
  const cli = bundle(`import { main } from '../src/cli/main'; main(process.argv.slice(2)).then((c) => { process.exitCode = c; });`, dir, 'cli');
  const rows = ['a,b,c,y'];
  for (let i = 0; i < 400; i++) {
    const a = Math.sin(i), b = Math.cos(1.3 * i), c = Math.sin(0.7 * i);
    rows.push([a, b, c, a * b + c].join(','));
  }
  writeFileSync(join(dir, 'data.csv'), rows.join('\n'));
  const model = join(dir, 'model.json'), ckpt = join(dir, 'ckpt.json');
  // Far more epochs than the test waits for: an ignored Ctrl-C would run them all (and exit 0).
  const child = spawn(process.execPath, [cli, 'train', join(dir, 'data.csv'), '--target', 'y', '--optimizer', 'adam', '--hidden', '16',
    '--batch-size', '8', '--epochs', '100000', '--backend', 'js', '--checkpoint', ckpt, '--out', model], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let sent = false;
  child.stdout.on('data', (s: Buffer) => {
    out += String(s);
    if (!sent && /^epoch +2\//m.test(out)) { sent = true; child.kill(signal); }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
  const code = await new Promise<number | null>((ok) => child.on('close', (c) => ok(c)));
  clearTimeout(timer);
  expect(code).toBe(exitCode);
  const done = Number(/interrupted(?: \(SIGTERM\))? after epoch (\d+)/.exec(out)![1]);
  expect(done).toBeGreaterThanOrEqual(2);
  expect(out).toMatch(new RegExp(`^epoch +${done}/100000 `, 'm'));
  expect(out).not.toMatch(new RegExp(`^epoch +${done + 1}/`, 'm'));
  expect(existsSync(model)).toBe(true);
  expect(JSON.parse(readFileSync(ckpt, 'utf8')).training.epoch).toBe(done);
  cleanup();
});
