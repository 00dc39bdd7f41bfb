/** natgrad/tfjs on TF.js's cpu backend: weights carried both ways, predictions equal to float32 precision, --export-tfjs loads. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, mlp, twoLayerReLU, ArgumentError, type Net, type ActivationName } from '../src/index';
import { fromTfjs, toTfjs, type TfLike, type TfModelLike } from '../src/tfjs';
import { main } from '../src/cli/main';
import { BACKENDS } from './helpers/backends';
import { randn } from './helpers/random';

const TF = { ...tfl, tensor: tf.tensor } as unknown as TfLike;
type Seq = tfl.Sequential & TfModelLike;

beforeAll(async () => { await tf.setBackend('cpu'); });

function tfPredict(model: tfl.LayersModel, X: Float64Array, n: number, d: number): Float64Array {
  const x = tf.tensor2d(Float32Array.from(X), [n, d]);
  const y = model.predict(x) as tf.Tensor;
  const out = Float64Array.from(y.dataSync());
  x.dispose(); y.dispose();
  return out;
}

/** |a − b| ≤ tol·(1 + |b|) elementwise. */
function expectClose(a: Float64Array, b: Float64Array, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  expect(worst).toBeLessThan(tol);
}

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test.each(['relu', 'tanh', 'sigmoid', 'softplus', 'gelu', 'leaky-relu'] as ActivationName[])('toTfjs then fromTfjs with %s', (activation) => {
    const net = mlp({ sizes: [5, 9, 7, 3], activation, seed: 4, init: 'ntk' });
    const X = randn(1, 11 * 5);
    const model = toTfjs<Seq>(net, TF);
    const want = net.predict(X, 11);
    expectClose(tfPredict(model, X, 11, 5), want, 1e-5);
    const back = fromTfjs(model);
    // The float32 weights come back exactly; the nets then agree to float32 rounding of the weights.
    expectClose(back.predict(X, 11), want, 1e-5);
    expectClose(back.predict(X, 11), tfPredict(model, X, 11, 5), 1e-5);
    model.dispose();
    net.dispose(); back.dispose();
  });

  test('fromTfjs on a model built in TF.js (InputLayer, softmax head) and on the paper net without biases', () => {
    const model = tfl.sequential({ layers: [
      tfl.layers.inputLayer({ inputShape: [4] }),
      tfl.layers.dense({ units: 6, activation: 'tanh' }),
      tfl.layers.dense({ units: 3, activation: 'softmax' }),
    ] });
    const net: Net = fromTfjs(model as unknown as TfModelLike);
    expect(net.toString()).toMatch(/4→6→3, tanh/);
    const X = randn(2, 8 * 4);
    const logits = net.predict(X, 8);
    const probs = tfPredict(model, X, 8, 4);
    for (let i = 0; i < 8; i++) {
      const row = Array.from(logits.subarray(3 * i, 3 * i + 3));
      const m = Math.max(...row), s = row.reduce((t, u) => t + Math.exp(u - m), 0);
      for (let j = 0; j < 3; j++) expect(Math.abs(Math.exp(row[j] - m) / s - probs[3 * i + j])).toBeLessThan(1e-6);
    }
    net.dispose(); model.dispose();
    const paper = twoLayerReLU({ inputDim: 3, width: 64, seed: 2 });
    const m2 = toTfjs<Seq>(paper, TF);
    expectClose(tfPredict(m2, randn(3, 15), 5, 3), paper.predict(randn(3, 15), 5), 1e-5);
    paper.dispose(); m2.dispose();
  });

  test('unsupported layers and activations are named', () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [2], activation: 'elu' }), tfl.layers.dense({ units: 1 })] });
    expect(() => fromTfjs(model as unknown as TfModelLike)).toThrow(/model\.layers\[0\].*activation.*'elu'/);
    const conv = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [2] }), tfl.layers.dropout({ rate: 0.5 })] });
    expect(() => fromTfjs(conv as unknown as TfModelLike)).toThrow(ArgumentError);
    model.dispose(); conv.dispose();
  });
});

test('natgrad train --export-tfjs DIR writes a layers model that tf.loadLayersModel loads, with the same predictions', async () => {
  await init({ backend: 'wasm' });
  const dir = mkdtempSync(join(tmpdir(), 'natgrad-tfjs-'));
  const out = join(dir, 'model.json'), tfdir = join(dir, 'tfjs');
  const csv = join(__dirname, 'fixtures', 'cli', 'regression.csv');
  let log = '';
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { log += String(s); return true; });
  const code = await main(['train', csv, '--target', 'y1', '--epochs', '3', '--hidden', '8', '--out', out, '--export-tfjs', tfdir]).finally(() => so.mockRestore());
  expect(code).toBe(0);
  expect(log).toMatch(/wrote a TF.js layers model/);
  const json = JSON.parse(readFileSync(join(tfdir, 'model.json'), 'utf8'));
  const weights = readFileSync(join(tfdir, 'weights.bin'));
  const model = await tfl.loadLayersModel({
    load: async () => tf.io.getModelArtifactsForJSON(json, async (manifest) => [manifest[0].weights, new Uint8Array(weights).buffer]),
  });
  const { loadNet } = await import('../src/index');
  const net = loadNet(readFileSync(out, 'utf8'));
  const X = randn(5, 10 * 3).map((x) => x * 0.5);
  expectClose(tfPredict(model, X, 10, 3), net.predict(X, 10), 1e-5);
  net.dispose(); model.dispose();
  rmSync(dir, { recursive: true, force: true });
});
