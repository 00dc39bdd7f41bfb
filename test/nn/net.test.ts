import { init, mlp, twoLayerReLU, ArgumentError, ShapeError, NonFiniteError, StateError, type ActivationName } from '../../src/index';
import { kernels } from '../../src/advanced';
import { Rng } from '../../src/nn/random';
import { BACKENDS } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { randn } from '../helpers/random';
import { naiveForward, unitInputs } from '../helpers/nets';

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test('twoLayerReLU computes (1/√m) Σ a_r relu(w_rᵀx) with w_r ~ νN(0, I) and a_r = ±1 drawn from the seed', () => {
    const d = 5, m = 33, n = 7, nu = 0.5;
    const net = twoLayerReLU({ inputDim: d, width: m, nu, seed: 42, trainOutputLayer: true });
    expect(net.numParams).toBe(m * d + m);
    const p = net.getParams();
    const rng = new Rng(42);
    const W = Float64Array.from({ length: m * d }, () => nu * rng.normal());
    const a = Float64Array.from({ length: m }, () => rng.sign());
    allClose(p, Float64Array.from([...W, ...a]), { rtol: 0, atol: 0, label: 'init values' });
    const X = unitInputs(1, n, d);
    const expected = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < m; r++) {
        let z = 0;
        for (let j = 0; j < d; j++) z += W[r * d + j] * X[i * d + j];
        expected[i] += a[r] * Math.max(z, 0) / Math.sqrt(m);
      }
    }
    allClose(net.predict(X, n), expected, { rtol: 1e-13, atol: 1e-14 });
    net.dispose();
  });

  test('twoLayerReLU trains only W by default; several outputs have their own ±1 weights', () => {
    const net = twoLayerReLU({ inputDim: 3, width: 10, outputDim: 2, seed: 1 });
    expect(net.numParams).toBe(30);
    expect(net.outputDim).toBe(2);
    expect(net.layout()).toEqual([{ layer: 0, offset: 0, rows: 10, cols: 3, bias: false }]);
    const both = twoLayerReLU({ inputDim: 3, width: 10, outputDim: 2, seed: 1, trainOutputLayer: true });
    const a = both.getParams().subarray(30);
    expect(a.length).toBe(20);
    expect([...a].every((v) => v === 1 || v === -1)).toBe(true);
    const X = randn(2, 4 * 3);
    allClose(net.predict(X, 4), both.predict(X, 4), { rtol: 0, atol: 0 });
    net.dispose(); both.dispose();
  });

  test.each<ActivationName>(['relu', 'leaky-relu', 'tanh', 'sigmoid', 'softplus', 'gelu', 'identity'])(
    'mlp predict equals a plain-loop forward pass (%s)', (act) => {
      const net = mlp({ sizes: [3, 17, 9, 2], activation: act, seed: 4 });
      const X = randn(8, 5 * 3);
      allClose(net.predict(X, 5), naiveForward(net, net.getParams(), [], X, 5), { rtol: 1e-12, atol: 1e-13 });
      net.dispose();
    });

  test('mlp layout: [W | b] per layer, row o = weights into unit o then its bias', () => {
    const net = mlp({ sizes: [2, 3, 1], seed: 0 });
    expect(net.numParams).toBe(3 * 3 + 1 * 4);
    expect(net.layout()).toEqual([
      { layer: 0, offset: 0, rows: 3, cols: 3, bias: true },
      { layer: 1, offset: 9, rows: 1, cols: 4, bias: true },
    ]);
    const p = new Float64Array(13);
    p.set([1, 2, 0.5, /* unit 1 */ 0, 0, -1, /* unit 2 */ -1, 1, 0]); // layer 0
    p.set([1, 1, 1, 0.25], 9); // layer 1
    net.setParams(p);
    // x = (1, 1): z = (3.5, −1, 0) → relu (3.5, 0, 0) → u = 3.5 + 0.25
    allClose(net.predict(new Float64Array([1, 1]), 1), [3.75]);
    allClose(net.getParams(), p, { rtol: 0, atol: 0 });
    net.dispose();
  });

  test('inits: he / glorot / lecun / normal(ν) scale the weights, biases start at 0; ntk draws biases and scales by 1/√fan-in', () => {
    const std = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    const weights = (net: ReturnType<typeof mlp>) => {
      const p = net.getParams(), w: number[] = [], b: number[] = [];
      for (let o = 0; o < 400; o++) { for (let j = 0; j < 100; j++) w.push(p[o * 101 + j]); b.push(p[o * 101 + 100]); }
      return { w: Float64Array.from(w), b: Float64Array.from(b) };
    };
    const cases: [Parameters<typeof mlp>[0]['init'], number][] = [
      ['he', Math.sqrt(2 / 100)], ['glorot', Math.sqrt(2 / 500)], ['lecun', Math.sqrt(1 / 100)], [{ normal: 0.3 }, 0.3], ['ntk', 1],
    ];
    for (const [init, expected] of cases) {
      const net = mlp({ sizes: [100, 400, 1], init, seed: 5 });
      const { w, b } = weights(net);
      expect(Math.abs(std(w) / expected - 1)).toBeLessThan(0.02);
      if (init === 'ntk') {
        expect(Math.abs(std(b) - 1)).toBeLessThan(0.15);
        expect(net.layers[0].weightScale).toBeCloseTo(1 / 10, 15);
        expect(net.layers[0].biasScale).toBe(0.1);
      } else expect(std(b)).toBe(0);
      net.dispose();
    }
  });

  test('seeded: the same seed gives the same parameters and outputs; another seed differs', () => {
    const a = mlp({ sizes: [4, 8, 2], activation: 'tanh', seed: 11 });
    const b = mlp({ sizes: [4, 8, 2], activation: 'tanh', seed: 11 });
    const c = mlp({ sizes: [4, 8, 2], activation: 'tanh', seed: 12 });
    allClose(a.getParams(), b.getParams(), { rtol: 0, atol: 0 });
    expect(a.getParams()[0]).not.toBe(c.getParams()[0]);
    a.dispose(); b.dispose(); c.dispose();
  });

  test('predict on n = 0 and n = 1', () => {
    const net = mlp({ sizes: [2, 3, 2] });
    expect(net.predict(new Float64Array(0), 0)).toEqual(new Float64Array(0));
    expect(net.predict(new Float64Array([0.5, -1]), 1).length).toBe(2);
    net.dispose();
  });

  test('bad arguments are typed errors naming the argument', () => {
    expect(() => mlp({ sizes: [3] })).toThrow(ArgumentError);
    expect(() => mlp({ sizes: [3, 0, 1] })).toThrow(/sizes\[1\]/);
    expect(() => mlp({ sizes: [3, 2], activation: 'swish' as ActivationName })).toThrow(/activation/);
    expect(() => mlp({ sizes: [3, 2], init: 'xavier' as 'he' })).toThrow(/init/);
    expect(() => mlp({ sizes: [3, 2, 1], trainable: [true] })).toThrow(/trainable/);
    expect(() => twoLayerReLU({ inputDim: 0, width: 3 })).toThrow(ShapeError);
    expect(() => twoLayerReLU({ inputDim: 2, width: 3, nu: 0 })).toThrow(/nu/);
    const net = mlp({ sizes: [2, 3, 1] });
    expect(() => net.predict(new Float64Array(3), 2)).toThrow(/^X:/);
    expect(() => net.predict(new Float64Array([1, NaN]), 1)).toThrow(NonFiniteError);
    expect(() => net.setParams(new Float64Array(5))).toThrow(/^p:/);
    expect(() => net.setParams(new Float64Array(net.numParams).fill(Infinity))).toThrow(NonFiniteError);
    net.dispose();
    expect(() => net.predict(new Float64Array(2), 1)).toThrow(StateError);
    expect(() => net.getParams()).toThrow(StateError);
  });

  test('dispose frees the memory: creating, using and disposing nets in a loop does not grow it', () => {
    const k = kernels(), X = randn(1, 256 * 2); // each cycle uses ~17 MB of activations, so a leak would grow memory
    const cycle = () => { const net = mlp({ sizes: [2, 4096, 1], seed: 1 }); net.predict(X, 256); net.dispose(); };
    // The WASM allocator (TLSF) may place the second cycle's blocks differently from the first's; after that it settles.
    for (let i = 0; i < 3; i++) cycle();
    const bytes = k.memoryBytes();
    for (let i = 0; i < 10; i++) cycle();
    expect(k.memoryBytes()).toBe(bytes);
    const net = mlp({ sizes: [8, 64, 1], seed: 1 });
    expect(String(net)).toMatch(/^Net\(8→64→1, relu, 641 trainable params, /);
    net.dispose();
  });
});

test('the same seed gives the same numbers on both backends', async () => {
  const outs: Float64Array[] = [];
  for (const backend of BACKENDS) {
    await init({ backend });
    const net = mlp({ sizes: [6, 20, 20, 3], activation: 'gelu', seed: 8 });
    outs.push(Float64Array.from([...net.getParams(), ...net.predict(randn(3, 10 * 6), 10)]));
    net.dispose();
  }
  allClose(outs[0], outs[1], { rtol: 1e-13, atol: 1e-14 });
});
