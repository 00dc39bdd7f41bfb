import { init, mlp, twoLayerReLU, ShapeError, NonFiniteError, type Net } from '../../src/index';
import { jacobian, jvp } from '../../src/advanced';
import { allClose } from '../helpers/allclose';
import { BACKENDS } from '../helpers/backends';
import { matmul } from '../helpers/naive';
import { randn } from '../helpers/random';
import { unitInputs } from '../helpers/nets';

describe.each(BACKENDS)('jvp on %s', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  const cases: [string, () => Net, number][] = [
    ['mlp tanh with biases', () => mlp({ sizes: [3, 7, 5, 2], activation: 'tanh', seed: 1 }), 6],
    ['mlp softplus, a frozen middle layer', () => mlp({ sizes: [4, 6, 5, 3], activation: 'softplus', seed: 2, trainable: [true, false, true] }), 5],
    ['mlp gelu, only the last layer trains', () => mlp({ sizes: [2, 9, 3], activation: 'gelu', seed: 3, trainable: [false, true] }), 4],
    ['mlp, only the first layer trains (NTK init)', () => mlp({ sizes: [3, 8, 8, 2], activation: 'relu', init: 'ntk', seed: 4, trainable: [true, false, false] }), 7],
    ['paper net (only W)', () => twoLayerReLU({ inputDim: 5, width: 33, seed: 5 }), 9],
    ['paper net, both layers, k = 2', () => twoLayerReLU({ inputDim: 4, width: 17, outputDim: 2, seed: 6, trainOutputLayer: true }), 3],
    ['one linear layer', () => mlp({ sizes: [5, 3], seed: 7 }), 1],
  ];

  test.each(cases)('%s: J·v equals the explicit Jacobian times v', (_, make, n) => {
    const net = make();
    const X = unitInputs(10 + n, n, net.inputDim), P = net.numParams, N = n * net.outputDim;
    for (const seed of [1, 2]) {
      const v = randn(20 + seed, P);
      const expected = matmul(jacobian(net, X, n), v, N, P, 1);
      allClose(jvp(net, X, n, v), expected, { rtol: 1e-12, atol: 1e-12, label: 'J·v' });
    }
    net.dispose();
  });

  test('J·v is the directional derivative of predict (central differences)', () => {
    const net = mlp({ sizes: [3, 6, 2], activation: 'sigmoid', seed: 8 });
    const n = 4, X = randn(1, n * 3), v = randn(2, net.numParams), p = net.getParams(), eps = 1e-6;
    net.setParams(p.map((x, i) => x + eps * v[i])); const up = net.predict(X, n);
    net.setParams(p.map((x, i) => x - eps * v[i])); const dn = net.predict(X, n);
    net.setParams(p);
    allClose(jvp(net, X, n, v), up.map((u, i) => (u - dn[i]) / (2 * eps)), { rtol: 1e-7, atol: 1e-8, label: 'finite differences' });
    net.dispose();
  });

  test('bad tangents are typed errors', () => {
    const net = mlp({ sizes: [3, 4, 2], seed: 1 });
    const X = randn(1, 6);
    expect(() => jvp(net, X, 2, new Float64Array(3))).toThrow(ShapeError);
    const bad = new Float64Array(net.numParams); bad[4] = NaN;
    expect(() => jvp(net, X, 2, bad)).toThrow(NonFiniteError);
    net.dispose();
  });
});
