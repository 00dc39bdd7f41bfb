/**
 * fit(…, { bayesian: true }) across a checkpoint: δ and σ are part of the training state a checkpoint
 * saves, so a run stopped after epoch 3 and resumed from the file continues the uninterrupted run's
 * δ, σ trajectory (and its parameters) exactly.
 */
import { init, mlp, ngd, fit, loadCheckpoint, saveCheckpoint, FormatError } from '../../src/index';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';

/** y = sin(3x) + ε, ε ~ N(0, 0.1²), x ∈ [−1, 1]. */
function noisySine(n: number, seed: number) {
  const X = new Float64Array(n), Y = new Float64Array(n), e = randn(seed, n);
  for (let i = 0; i < n; i++) { X[i] = -1 + 2 * i / (n - 1); Y[i] = Math.sin(3 * X[i]) + 0.1 * e[i]; }
  return { X, Y, n };
}

describe.each(BACKENDS)('a bayesian run resumed from a checkpoint (%s)', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test('continues the δ, σ trajectory of the uninterrupted run bit for bit', () => {
    const data = noisySine(40, 5), options = { batchSize: 16, seed: 3, bayesian: { prior: 0.5, noise: 0.7 } };
    const whole = mlp({ sizes: [1, 12, 1], activation: 'tanh', seed: 1 }), opt = ngd({ damping: 1e-3 });
    const all = fit(whole, data, opt, { epochs: 6, ...options }).history.map((r) => r.bayesian!);

    const first = mlp({ sizes: [1, 12, 1], activation: 'tanh', seed: 1 }), opt1 = ngd({ damping: 1e-3 });
    const head = fit(first, data, opt1, { epochs: 3, ...options });
    const file = JSON.stringify(saveCheckpoint(first, opt1, undefined, head.state));
    expect(JSON.parse(file).training.bayesian).toEqual({ prior: all[2].prior, noise: all[2].noise });
    const { net, optimizer, training } = loadCheckpoint(file);
    expect(training!.bayesian).toEqual(head.state.bayesian);
    const tail = fit(net, data, optimizer, { epochs: 6, ...options, resume: training }).history.map((r) => r.bayesian!);
    expect(tail).toHaveLength(3);
    // The trajectory moves: a resumed run that restarted from { prior: 0.5, noise: 0.7 } could not match it.
    expect(all[3].prior).not.toBe(options.bayesian.prior);
    for (let e = 0; e < 3; e++) {
      expect(tail[e].prior).toBe(all[3 + e].prior);
      expect(tail[e].noise).toBe(all[3 + e].noise);
      expect(tail[e].logMarginalLikelihood).toBe(all[3 + e].logMarginalLikelihood);
    }
    expect(Array.from(net.getParams())).toEqual(Array.from(whole.getParams()));
    for (const x of [whole, first, net]) x.dispose();
    for (const x of [opt, opt1, optimizer]) x.dispose();
  });

  test('a saved δ or σ that is not a finite number > 0 is a FormatError naming it; a checkpoint without them still loads', () => {
    const net = mlp({ sizes: [1, 3, 1], seed: 0 }), opt = ngd();
    const json = saveCheckpoint(net, opt, undefined, { epoch: 1, step: 1, rng: 7, bayesian: { prior: 2, noise: 0.25 } }) as unknown as Record<string, any>;
    for (const [key, bad] of [['prior', 0], ['noise', -1], ['prior', 'x']] as const) {
      const copy = JSON.parse(JSON.stringify(json));
      copy.training.bayesian[key] = bad;
      let err: unknown;
      try { loadCheckpoint(copy); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FormatError);
      expect((err as FormatError).field).toBe(`training.bayesian.${key}`);
    }
    const plain = saveCheckpoint(net, opt, undefined, { epoch: 1, step: 1, rng: 7 });
    expect(JSON.stringify(plain)).not.toContain('bayesian');
    const loaded = loadCheckpoint(JSON.stringify(plain));
    expect(loaded.training!.bayesian).toBeUndefined();
    loaded.net.dispose(); loaded.optimizer.dispose(); net.dispose(); opt.dispose();
  });
});
