/**
 * `natgrad pde`: runs a problem, reports iterations, loss, relative L² and H¹ errors and time,
 * writes a net that loadNet reads back and whose predict gives u; usage errors name the flag.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, loadNet } from '../../src/index';
import { runCli } from '../helpers/cli';

describe('natgrad pde', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'natgrad-pde-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('poisson with ENGD: a line per 5 iterations, the final errors, and a model whose predict is u', async () => {
    const out = join(dir, 'u.json');
    const r = await runCli('pde', 'poisson', '--iterations', '10', '--every', '5', '--hidden', '8', '--eval-points', '500', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\[2, 8, 1\] tanh net \(33 parameters\), 900 interior \+ 120 boundary points, engd, seed 0/);
    expect(r.out).toMatch(/iteration +loss +rel\. L2 +rel\. H1 +time \(s\)\n +5 .*\n +10 /);
    const done = /done: 10 iterations in [\d.]+ s; loss (\S+), relative L2 error (\S+), H1 error (\S+) on 500 evaluation points/.exec(r.out);
    expect(done).not.toBeNull();
    await init();
    const net = loadNet(readFileSync(out, 'utf8'));
    const X = new Float64Array([0.3, 0.6, 0.5, 0.5]);
    const u = net.predict(X, 2);
    expect(u.length).toBe(2);
    // The saved net's predictions are its u: within the reported error scale of sin πx sin πy.
    const exact = [Math.sin(0.3 * Math.PI) * Math.sin(0.6 * Math.PI), 1];
    for (let i = 0; i < 2; i++) expect(Math.abs(u[i] - exact[i])).toBeLessThan(5 * Number(done![2]) + 0.05);
    net.dispose();
  });

  test('heat and the nonlinear problem with Adam and L-BFGS run', async () => {
    const h = await runCli('pde', 'heat', '--optimizer', 'adam', '--iterations', '4', '--every', '2', '--hidden', '6', '--eval-points', '200');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/900 interior \+ 60 boundary \+ 30 initial points, adam/);
    const n = await runCli('pde', 'nonlinear', '--optimizer', 'lbfgs', '--iterations', '3', '--hidden', '6', '--eval-points', '200');
    expect(n.code).toBe(0);
    expect(n.out).toMatch(/done: 3 iterations/);
  });

  test('usage errors name the flag or the problem (exit 2)', async () => {
    expect((await runCli('pde', 'wave')).err).toMatch(/unknown problem "wave"/);
    const d = await runCli('pde', 'poisson', '--dim', '3');
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/--dim must be 2 or 5, got 3/);
    expect((await runCli('pde', 'heat', '--dim', '5')).err).toMatch(/--dim applies to poisson only/);
    expect((await runCli('pde', 'poisson', '--optimizer', 'sgd')).err).toMatch(/--optimizer must be one of engd, adam, lbfgs, gd/);
  });
});
