/**
 * laplace through the layer seam: a kind of layer defined only in the tests (the element-wise scale of
 * test/helpers/scale-layer.ts, no Kronecker structure) between two dense layers. 'full' and 'diagonal'
 * read it through its Jacobian rows and agree with the dense reference (J explicit, P × P H); 'kfac'
 * gives it the diagonal block; 'last-layer' refuses a net whose output layer is of that kind, naming it.
 */
import { init, laplace, ArgumentError } from '../../src/index';
import { kernels } from '../../src/advanced';
import { Net } from '../../src/nn/net';
import { BACKENDS } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { randn } from '../helpers/random';
import { scaleNet } from '../helpers/scale-layer';
import { denseLaplace } from './dense';

describe.each(BACKENDS)('laplace with a layer of another kind (%s)', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  describe.each(['full', 'diagonal'] as const)('%s agrees with its dense form to 1e-8', (structure) => {
    test.each([['se', true, 0.7, 0.3], ['se', false, 2, 1.1], ['ce', true, 0.5, 1]] as const)('%s, scale layer trainable %p, δ = %p, σ = %p', (kind, trainScale, delta, sigma) => {
      const gaussian = kind === 'se', n = 8, nt = 6, d = 3, k = gaussian ? 2 : 3;
      const net = scaleNet(d, 4, k, 5, trainScale);
      const X = randn(1, n * d), Xt = randn(2, nt * d).map((x) => 2 * x);
      const Y = gaussian ? randn(3, n * k) : Float64Array.from({ length: n }, (_, i) => i % k);
      const post = laplace(net, { X, Y, n }, { loss: gaussian ? 'squared-error' : 'cross-entropy', prior: delta, ...(gaussian ? { noise: sigma } : {}), structure });
      const ref = denseLaplace(net, X, Y, n, Xt, nt, { gaussian, delta, sigma: gaussian ? sigma : 1, structure });
      const pred = post.predict(Xt, nt);
      allClose(pred.functionVariance, ref.fvar, { rtol: 1e-8, atol: 0, label: 'functionVariance' });
      allClose([post.logMarginalLikelihood()], [ref.logML], { rtol: 1e-8, atol: 0, label: 'log marginal likelihood' });
      if (!gaussian) {
        const p = post.predictProba(Xt, nt);
        for (let t = 0; t < nt; t++) expect(p[t * k] + p[t * k + 1] + p[t * k + 2]).toBeCloseTo(1, 12);
      }
      post.dispose();
      net.dispose();
    });
  });

  test("'kfac' gives the scale layer its diagonal block: with it the only trainable layer, 'kfac' and 'diagonal' are one posterior", () => {
    const n = 7, d = 2, k = 2, width = 5;
    const dense = (inputs: number, outputs: number, act: 'tanh' | 'identity') => ({ inputs, outputs, bias: true, activation: act, weightScale: 1, biasScale: 1, trainable: false });
    const net = new Net(kernels(), [dense(d, width, 'tanh'), { kind: 'scale', inputs: width, outputs: width, activation: 'tanh', trainable: true }, dense(width, k, 'identity')],
      [randn(1, width * (d + 1)), randn(2, width).map((x) => 1 + 0.3 * x), randn(3, k * (width + 1))]);
    const X = randn(4, n * d), Y = randn(5, n * k), Xt = randn(6, 4 * d);
    const a = laplace(net, { X, Y, n }, { prior: 0.8, noise: 0.4, structure: 'kfac' });
    const b = laplace(net, { X, Y, n }, { prior: 0.8, noise: 0.4, structure: 'diagonal' });
    const ref = denseLaplace(net, X, Y, n, Xt, 4, { gaussian: true, delta: 0.8, sigma: 0.4, structure: 'diagonal' });
    allClose(a.predict(Xt, 4).functionVariance, ref.fvar, { rtol: 1e-8, atol: 0, label: 'kfac functionVariance' });
    allClose(b.predict(Xt, 4).functionVariance, ref.fvar, { rtol: 1e-8, atol: 0, label: 'diagonal functionVariance' });
    allClose([a.logMarginalLikelihood()], [ref.logML], { rtol: 1e-8, atol: 0, label: 'log marginal likelihood' });
    a.dispose(); b.dispose(); net.dispose();
  });

  test("'kfac' on the dense-scale-dense net: Kronecker blocks for the dense layers, the diagonal one for the scale layer; 'auto' takes the net", () => {
    const n = 10, net = scaleNet(3, 6, 2, 9), X = randn(7, n * 3), Y = randn(8, n * 2);
    const post = laplace(net, { X, Y, n }, { prior: 1, noise: 0.5, structure: 'kfac' });
    const { functionVariance } = post.predict(randn(9, 5 * 3), 5);
    for (const v of functionVariance) expect(v > 0 && Number.isFinite(v)).toBe(true);
    expect(Number.isFinite(post.optimize().logMarginalLikelihood)).toBe(true);
    const draws = post.sample(2, 1);
    expect(draws.length).toBe(2 * net.numParams);
    post.dispose();
    const auto = laplace(net, { X, Y, n });
    expect(auto.structure).toBe('full');
    auto.dispose();
    net.dispose();
  });

  test("'last-layer' refuses an output layer of another kind with an ArgumentError naming it and the structures that take it", () => {
    const net = new Net(kernels(), [
      { inputs: 2, outputs: 3, bias: true, activation: 'tanh', weightScale: 1, biasScale: 1, trainable: true },
      { kind: 'scale', inputs: 3, outputs: 3, activation: 'identity', trainable: true },
    ], [randn(1, 9), randn(2, 3)]);
    const X = randn(3, 8), Y = randn(4, 12);
    let err: unknown;
    try { laplace(net, { X, Y, n: 4 }, { structure: 'last-layer' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as Error).message).toMatch(/kind 'scale'.*'full', 'kfac' or 'diagonal'/);
    const full = laplace(net, { X, Y, n: 4 }, { structure: 'full' });
    expect(full.predict(X, 4).functionVariance.every((v) => v >= 0)).toBe(true);
    full.dispose();
    net.dispose();
  });
});
