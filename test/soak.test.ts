/**
 * Long runs with flat memory (issue 8, item 4), short version of `npm run soak`: ngd (adaptive), kfac and
 * adam train with mini-batches; after a warm-up the backend's memory and live allocation count do not move
 * and the JS heap (after a full GC) stays within a small bound.
 */
import { init, mlp, ngd, kfac, adam, train, type Optimizer } from '../src/index';
import { kernels } from '../src/advanced';
import { BACKENDS } from './helpers/backends';
import { randn } from './helpers/random';
import { countAllocations } from './fuzz/harness';

const n = 512, d = 8, batchSize = 32, X = randn(1, n * d), Y = randn(2, n).map(Math.tanh);

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test.each([
    ['ngd (adaptive)', () => ngd({ damping: 1e-2, adaptive: true })],
    ['kfac', () => kfac({ lr: 0.1, damping: 1e-2, adaptive: false })],
    ['adam', () => adam({ lr: 1e-3 })],
  ] as [string, () => Optimizer][])('%s: 800 mini-batch steps, memory flat after the first 200', (_name, make) => {
    const k = kernels(), counter = countAllocations(k);
    const live0 = counter.live;
    const net = mlp({ sizes: [d, 64, 64, 1], activation: 'tanh', seed: 1 });
    const opt = make();
    const samples: { memory: number; live: number; heap: number }[] = [];
    for (let chunk = 0; chunk < 4; chunk++) {
      const history = train(net, { X, Y, n }, opt, { steps: 200, batchSize, seed: chunk });
      expect(history).toHaveLength(200);
      for (const r of history) expect(Number.isFinite(r.loss)).toBe(true);
      gc?.();
      samples.push({ memory: k.memoryBytes(), live: counter.live, heap: process.memoryUsage().heapUsed });
    }
    for (const s of samples.slice(1)) {
      expect(s.memory).toBe(samples[0].memory);
      expect(s.live).toBe(samples[0].live);
    }
    // The JS heap: allow noise (JIT, jest), not growth proportional to steps (a leak of even 100 B/step is 60 KB here).
    if (gc) expect(samples[3].heap - samples[1].heap).toBeLessThan(512 * 1024);
    opt.dispose();
    net.dispose();
    expect(counter.live).toBe(live0);
  });
});
