import { init, mlp, twoLayerReLU, ShapeError, NonFiniteError, type ActivationName } from '../../src/index';
import { gramMatrix } from '../../src/diagnostics/index';
import { jacobian, vjp } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { matmul, transpose } from '../helpers/naive';
import { randn } from '../helpers/random';
import { fdJacobian, relErr, unitInputs } from '../helpers/nets';

const ACTIVATIONS: ActivationName[] = ['relu', 'leaky-relu', 'tanh', 'sigmoid', 'softplus', 'gelu', 'identity'];

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test.each(ACTIVATIONS)('jacobian matches central finite differences (%s, bias, 2 outputs)', (act) => {
    const net = mlp({ sizes: [3, 5, 4, 2], activation: act, seed: 3 });
    const n = 4, X = randn(11, n * 3);
    const J = jacobian(net, X, n);
    expect(J.length).toBe(n * 2 * net.numParams);
    allClose(J, fdJacobian(net, X, n), { rtol: 1e-6, atol: 1e-7, cols: net.numParams, label: `J ${act}` });
    net.dispose();
  });

  test('jacobian of the two-layer ReLU net is (1/√m)·a_r·1{w_rᵀx ≥ 0}·x (only W trains)', () => {
    const d = 3, m = 7, n = 5;
    const net = twoLayerReLU({ inputDim: d, width: m, seed: 5, trainOutputLayer: true });
    const p = net.getParams();
    const W = p.subarray(0, m * d), a = p.subarray(m * d);
    const frozenNet = twoLayerReLU({ inputDim: d, width: m, seed: 5 });
    const X = unitInputs(2, n, d);
    const J = jacobian(frozenNet, X, n);
    expect(frozenNet.numParams).toBe(m * d);
    const expected = new Float64Array(n * m * d);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < m; r++) {
        let z = 0;
        for (let j = 0; j < d; j++) z += W[r * d + j] * X[i * d + j];
        for (let j = 0; j < d; j++) expected[i * m * d + r * d + j] = z >= 0 ? a[r] * X[i * d + j] / Math.sqrt(m) : 0;
      }
    }
    allClose(J, expected, { rtol: 1e-14, atol: 1e-15 });
    net.dispose(); frozenNet.dispose();
  });

  test('frozen layers and the NTK parameterisation: jacobian still matches finite differences', () => {
    const net = mlp({ sizes: [4, 6, 5, 3], activation: 'tanh', init: 'ntk', trainable: [false, true, true], seed: 9 });
    const n = 3, X = randn(4, n * 4);
    expect(net.numParams).toBe(5 * 7 + 3 * 6);
    allClose(jacobian(net, X, n), fdJacobian(net, X, n), { rtol: 1e-6, atol: 1e-7, cols: net.numParams });
    const first = mlp({ sizes: [4, 6, 5, 3], activation: 'tanh', init: 'ntk', trainable: [true, false, false], seed: 9 });
    allClose(jacobian(first, X, n), fdJacobian(first, X, n), { rtol: 1e-6, atol: 1e-7, cols: first.numParams });
    net.dispose(); first.dispose();
  });

  test.each([[1, 6], [3, 5], [2, 17]])('matrix-free Gram equals J·Jᵀ from the explicit J to 1e-10 (k = %i, n = %i)', (k, n) => {
    const net = mlp({ sizes: [5, 9, 7, k], activation: 'softplus', seed: k + n });
    const X = randn(n, n * 5);
    const J = jacobian(net, X, n), N = n * k, P = net.numParams;
    const G = gramMatrix(net, X, n);
    const expected = matmul(J, transpose(J, N, P), N, P, N);
    expect(relErr(G, expected)).toBeLessThan(1e-10);
    allClose(G, transpose(G, N, N), { rtol: 0, atol: 0, label: 'G symmetric' });
    net.dispose();
  });

  test('matrix-free Gram of the wide two-layer net equals J·Jᵀ to 1e-10', () => {
    const n = 8, d = 4, net = twoLayerReLU({ inputDim: d, width: 256, seed: 1 });
    const X = unitInputs(3, n, d), P = net.numParams;
    const J = jacobian(net, X, n);
    expect(relErr(gramMatrix(net, X, n), matmul(J, transpose(J, n, P), n, P, n))).toBeLessThan(1e-10);
    net.dispose();
  });

  test.each([[1, 5], [3, 4], [2, 9]])('vjp equals Jᵀv from the explicit J to 1e-10 (k = %i, n = %i)', (k, n) => {
    const net = mlp({ sizes: [4, 8, 6, k], activation: 'gelu', seed: 2 * k + n });
    const X = randn(n + 1, n * 4), v = randn(n + 2, n * k);
    const J = jacobian(net, X, n), P = net.numParams;
    expect(relErr(vjp(net, X, n, v), matmul(v, J, 1, n * k, P))).toBeLessThan(1e-10);
    net.dispose();
  });

  test('bad arguments are typed errors naming the argument', () => {
    const net = mlp({ sizes: [2, 3, 1] });
    expect(() => jacobian(net, new Float64Array(3), 2)).toThrow(ShapeError);
    expect(() => jacobian(net, new Float64Array(3), 2)).toThrow(/^X:/);
    expect(() => vjp(net, new Float64Array(4), 2, new Float64Array(3))).toThrow(/^v:/);
    expect(() => vjp(net, new Float64Array(4), 2, new Float64Array([1, NaN]))).toThrow(NonFiniteError);
    net.dispose();
  });
});
