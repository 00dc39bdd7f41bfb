/**
 * The Laplace posterior in the CLI: `train --laplace` saves it in the model (the bytes it adds said and
 * checked), `predict --uncertainty` writes mean and standard-deviation columns (target units) or
 * calibrated probabilities, `evaluate` adds the calibration metrics, and a model saved without a posterior
 * asked for uncertainty exits 2 with a clear message.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, init, loadNet, parseJSON, type Net } from '../../src/index';
import { TablePreprocessor } from '../../src/advanced';
import { decodePosterior, restorePosterior } from '../../src/cli/posterior-file';
import { readCsv } from '../../src/cli/csv';
import { runCli as run } from '../helpers/cli';

const FIX = join(__dirname, '..', 'fixtures', 'cli');
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'natgrad-laplace-cli-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** The model file's net and its posterior, rebuilt by the library. */
function loadBoth(file: string) {
  const text = readFileSync(file, 'utf8');
  const net = loadNet(text);
  return { net, post: restorePosterior(net, decodePosterior((parseJSON(text) as { posterior: unknown }).posterior, net)) };
}

/** The table's inputs (and targets) in the net's terms, through the model's own preprocessing. */
function encode(net: Net, file: string) {
  const t = readCsv(file), p = TablePreprocessor.fromJSON(net.preprocessing!, 'preprocessing', net.inputDim, net.outputDim);
  return { X: p.encodeInputs(t.header, t.rows), Y: p.encodeTargets(t.header, t.rows), n: t.rows.length };
}

function csvRows(text: string): number[][] {
  return text.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
}

describe.each(['wasm', 'js'])('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend: backend as 'wasm' | 'js' }); });

  test('regression, two scaled targets: train --laplace, predict --uncertainty (std in target units), evaluate (nll, coverage95)', async () => {
    const data = join(FIX, 'regression.csv'), plain = join(dir, `reg-plain-${backend}.json`), model = join(dir, `reg-${backend}.json`);
    const common = ['--target', 'y1,y2', '--hidden', '8', '--epochs', '8', '--seed', '2', '--backend', backend];
    expect((await run('train', data, ...common, '--out', plain)).code).toBe(0);
    const t = await run('train', data, ...common, '--laplace', '--out', model);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const said = /laplace: 'full' posterior on the (\d+) training rows, prior δ \S+, noise σ \S+ by the evidence .*; it adds (\d+) bytes to the model file/.exec(t.out);
    expect(said).not.toBeNull();
    // The same run without --laplace writes the same weights: the file grows by exactly the bytes said.
    expect(statSync(model).size - statSync(plain).size).toBe(Number(said![2]));
    const saved = JSON.parse(readFileSync(model, 'utf8'));
    expect(saved.version).toBe(2);
    expect(saved.posterior).toMatchObject({ format: 'natgrad-laplace', version: 1, structure: 'full', likelihood: 'gaussian' });
    expect(saved.posterior.data.n).toBe(Number(said![1]));

    const p0 = await run('predict', plain, data, '--backend', backend);
    const p = await run('predict', model, data, '--uncertainty', '--backend', backend);
    expect(p.err).toBe('');
    expect(p.code).toBe(0);
    expect(p.out.split('\n')[0]).toBe('y1,y1_std,y2,y2_std');
    const rows = csvRows(p.out), means = csvRows(p0.out);
    expect(rows).toHaveLength(40);
    expect(rows.map((r) => [r[0], r[2]])).toEqual(means);

    const { net, post } = loadBoth(model);
    const { X, Y, n } = encode(net, data);
    const v = post.predict(X, n).variance, std = (net.preprocessing as { target: { std: number[] } }).target.std;
    expect(std[0]).not.toBeCloseTo(1, 1);
    rows.forEach((r, i) => {
      expect(r[1]).toBeCloseTo(Math.sqrt(v[i * 2]) * std[0], 10);
      expect(r[3]).toBeCloseTo(Math.sqrt(v[i * 2 + 1]) * std[1], 10);
      expect(r[1]).toBeGreaterThanOrEqual(post.noise * std[0] * (1 - 1e-12));
    });

    const e = await run('evaluate', model, data, '--backend', backend);
    expect(e.code).toBe(0);
    const cov = Number(/coverage95 (\S+)/.exec(e.out)![1]), nll = Number(/nll (\S+) \(Laplace 'full', Gaussian per value, target units\)/.exec(e.out)![1]);
    const ref = evaluate(net, { X, Y, n }, { loss: 'squared-error', metrics: ['nll', 'coverage'], posterior: post });
    expect(cov).toBeCloseTo(ref.metrics.coverage!, 4);
    expect(nll).toBeCloseTo(ref.metrics.nll! + (Math.log(std[0]) + Math.log(std[1])) / 2, 3);
    const e0 = await run('evaluate', plain, data, '--backend', backend);
    expect(e0.out).not.toMatch(/nll|coverage/);
    post.dispose(); net.dispose();
  });

  test("classifier with --laplace-structure kfac: calibrated probabilities, evaluate's nll and ece", async () => {
    const data = join(FIX, 'classes.csv'), model = join(dir, `cls-${backend}.json`);
    const t = await run('train', data, '--target', 'label', '--hidden', '6', '--epochs', '6', '--seed', '1', '--laplace-structure', 'kfac', '--out', model, '--backend', backend);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/laplace: 'kfac' posterior on the \d+ training rows, prior δ \S+ by the evidence/);
    expect(t.out).not.toMatch(/noise σ/);
    const p = await run('predict', model, data, '--uncertainty', '--backend', backend);
    expect(p.code).toBe(0);
    const lines = p.out.trim().split('\n');
    expect(lines[0]).toBe('label,"p(setosa ""wild"")","p(versicolor, tall)",p(virginica)');
    const { net, post } = loadBoth(model);
    const { X, Y, n } = encode(net, data);
    const P = post.predictProba(X, n);
    lines.slice(1).forEach((line, i) => {
      const probs = line.split(',').slice(-3).map(Number);
      probs.forEach((q, c) => expect(q).toBeCloseTo(P[i * 3 + c], 12));
    });
    const e = await run('evaluate', model, data, '--backend', backend);
    const ref = evaluate(net, { X, Y, n }, { loss: 'cross-entropy', metrics: ['nll', 'ece'], posterior: post });
    expect(Number(/nll (\S+) \(Laplace 'kfac'/.exec(e.out)![1])).toBeCloseTo(ref.metrics.nll!, 4);
    const ece = /ece (\S+) \(15 bins; the net's own softmax: (\S+)\)/.exec(e.out)!;
    expect(Number(ece[1])).toBeCloseTo(ref.metrics.ece!, 4);
    expect(Number(ece[2])).toBeCloseTo(evaluate(net, { X, Y, n }, { loss: 'cross-entropy', metrics: ['ece'] }).metrics.ece!, 4);
    post.dispose(); net.dispose();
  });
});

test('--uncertainty of a model saved without --laplace exits 2 naming the flag and the fix; a bad --laplace-structure exits 2', async () => {
  const data = join(FIX, 'regression.csv'), model = join(dir, 'no-posterior.json');
  expect((await run('train', data, '--target', 'y1', '--hidden', '4', '--epochs', '2', '--out', model)).code).toBe(0);
  const p = await run('predict', model, data, '--uncertainty');
  expect(p.code).toBe(2);
  expect(p.err).toMatch(/--uncertainty: .*no-posterior\.json has no Laplace posterior \(it was trained without --laplace\); train it again with natgrad train --laplace/);
  const t = await run('train', data, '--target', 'y1', '--laplace-structure', 'huge', '--out', join(dir, 'x.json'));
  expect(t.code).toBe(2);
  expect(t.err).toMatch(/--laplace-structure/);
});
