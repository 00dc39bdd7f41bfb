/**
 * Step safety that depends on the state of backend memory, in a file of its own so
 * each backend starts with fresh, small memory (jest gives every test file its own
 * module registry): the first trial-loss evaluation of a fresh net then grows memory,
 * which a view taken before it would not see.
 */
import { init, mlp, twoLayerReLU, ngd, kfac, gd, softmaxCrossEntropy } from '../../src/index';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  const n = 64, d = 16;
  const X = randn(11, n * d), Y = randn(12, n);
  const make = () => twoLayerReLU({ inputDim: d, width: 8192, seed: 5 });

  test.each([
    ['ngd', () => ngd({ lr: 1, damping: 1e-3, adaptive: true })],
    ['kfac', () => kfac({ lr: 0.5, damping: 1e-2, decay: 0, adaptive: { every: 1 } })],
  ])('%s with adaptive damping: the first step of a fresh net equals the step of a net that ran before', (_name, makeOpt) => {
    const fresh = make();
    const a = makeOpt().step(fresh, { X, Y, n });
    const warmed = make();
    warmed.predict(X, n);
    const b = makeOpt().step(warmed, { X, Y, n });
    expect(a.retries).toBe(b.retries);
    expect(a.lossAfter).toBe(b.lossAfter);
    expect(a.damping).toBe(b.damping);
    expect(fresh.getParams()).toEqual(warmed.getParams());
    fresh.dispose(); warmed.dispose();
  });
});

describe.each(BACKENDS)('%s backend: cross-entropy with an underflowed label probability', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test('the Gauss-Newton right-hand side still carries the gradient: NGD and K-FAC (exact) take a real step', () => {
    // One linear layer, logits W·x + b; the label's logit is 1600 below the others, so its softmax probability is 0.
    const X = new Float64Array([1, 0, 0, 1]), Y = new Float64Array([2, 2]), n = 2;
    const make = () => {
      const net = mlp({ sizes: [2, 3], activation: 'identity', seed: 1 });
      net.setParams(new Float64Array([800, 0, 0, /**/ 0, 800, 0, /**/ -800, -800, 0]));
      return net;
    };
    const loss = softmaxCrossEntropy();
    const ref = make();
    const g = gd({ lr: 1e-9 }).step(ref, { X, Y, n }, { loss });
    for (const opt of [ngd({ damping: 1e-3 }), kfac({ damping: 1e-3, fisher: 'exact' })]) {
      const net = make();
      const before = net.getParams();
      const s = opt.step(net, { X, Y, n }, { loss });
      expect(s.gradNorm).toBeGreaterThan(0.5 * g.gradNorm);
      expect(s.gradNorm).toBeLessThan(2 * g.gradNorm);
      expect(s.updateNorm).toBeGreaterThan(0);
      const after = net.getParams();
      expect(after.every(Number.isFinite)).toBe(true);
      expect(after).not.toEqual(before);
      net.dispose();
    }
    ref.dispose();
  });
});
