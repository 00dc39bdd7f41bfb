import { init, mlp, ngd, squaredError, twoLayerReLU, ArgumentError } from '../../src/index';
import { kernels, maskGramApplies, Workspace } from '../../src/advanced';
import { Capture } from '../../src/nn/net';
import { gramFromCaptures } from '../../src/nn/gram';
import { BACKENDS } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { unitInputs } from '../helpers/nets';
import { randn } from '../helpers/random';
import type { Net } from '../../src/nn/net';

/** The Gram J̃J̃ᵀ of net at X with every example's loss factor `beta`, by the mask path or the float path; and whether maskGram ran. */
function gram(net: Net, X: Float64Array, n: number, beta: (i: number) => number, maskGram: boolean): { g: Float64Array; masked: boolean } {
  const k = net.kernels;
  const cap = new Capture(net);
  const ws = new Workspace(k);
  cap.ensure(n, 1);
  net.forward(cap, X, n, 1);
  const b = cap.b[cap.b.length - 1] >> 3;
  for (let i = 0; i < n; i++) k.f64()[b + i] = beta(i);
  net.backward(cap);
  const out = ws.get('out', n * n);
  const original = k.maskGramLower;
  let masked = false;
  (k as { maskGramLower: typeof original }).maskGramLower = (...args) => { masked = true; original.apply(k, args); };
  try {
    gramFromCaptures(cap, cap, ws, out, { maskGram });
  } finally {
    (k as { maskGramLower: typeof original }).maskGramLower = original;
  }
  const g = k.f64().slice(out >> 3, (out >> 3) + n * n);
  ws.dispose();
  cap.dispose();
  return { g, masked };
}

describe.each(BACKENDS)('the bit-mask Gram in exact NGD on %s', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });

  test.each([[24, 8, 300], [50, 5, 64], [7, 3, 1000]])('paper net n=%i d=%i m=%i: the mask Gram equals the float path to 1e-12 relative', (n, d, m) => {
    const net = twoLayerReLU({ inputDim: d, width: m, seed: n + m });
    expect(maskGramApplies(net)).toBe(true);
    const X = unitInputs(n, n, d);
    const mask = gram(net, X, n, () => 1, true), general = gram(net, X, n, () => 1, false);
    expect(mask.masked).toBe(true);
    expect(general.masked).toBe(false);
    const scale = Math.max(...general.g.map(Math.abs));
    allClose(mask.g, general.g, { rtol: 1e-12, atol: 1e-12 * scale, cols: n, label: 'J̃J̃ᵀ' });
    net.dispose();
  });

  test('a loss factor that differs between examples, or a head of unequal magnitudes, takes the float path', () => {
    const n = 10, d = 4, m = 70;
    const net = twoLayerReLU({ inputDim: d, width: m, seed: 3 });
    const X = unitInputs(5, n, d);
    expect(gram(net, X, n, (i) => 1 + i, true).masked).toBe(false);
    expect(gram(net, X, n, () => -2, true).masked).toBe(true);
    const params = net.layers[1];
    kernels().f64()[(params.ptr >> 3) + 5] *= 1.5; // one head weight of another magnitude
    expect(maskGramApplies(net)).toBe(false);
    expect(gram(net, X, n, () => 1, true).masked).toBe(false);
    net.dispose();
    const deep = mlp({ sizes: [4, 16, 16, 1], activation: 'relu', seed: 1 });
    expect(maskGramApplies(deep)).toBe(false);
    deep.dispose();
    const tanhNet = mlp({ sizes: [4, 16, 1], activation: 'tanh', seed: 1, trainable: [true, false] });
    expect(maskGramApplies(tanhNet)).toBe(false);
    tanhNet.dispose();
  });

  test('the forward pass packs the hidden layer\'s mask into the capture: packMask(Z) bit for bit, valid until Z may move', () => {
    const n = 13, d = 5, m = 131, words = Math.ceil(m / 64);
    const net = twoLayerReLU({ inputDim: d, width: m, seed: 4 });
    const k = net.kernels, cap = new Capture(net), ws = new Workspace(k);
    const ref = ws.get('ref', n * words);
    for (const seed of [1, 2]) {
      net.forward(cap, unitInputs(seed, n, d), n, 1);
      expect(cap.masksValid[0]).toBe(true);
      expect(cap.masks[1]).toBe(0);
      k.packMask(n, m, cap.z[0], m, ref);
      const bytes = (p: number) => Buffer.from(k.f64().slice(p >> 3, (p >> 3) + n * words).buffer);
      expect(bytes(cap.masks[0]).equals(bytes(ref))).toBe(true);
    }
    net.backward(cap);
    expect(cap.masksValid[0]).toBe(true); // backward does not touch Z
    cap.ensure(n + 1, 1);
    expect(cap.masksValid[0]).toBe(false); // other sizes: the buffers may have moved
    ws.dispose();
    cap.dispose();
    // Only the ReLU layer directly under a one-output head keeps a mask.
    const deep = mlp({ sizes: [4, 16, 16, 1], activation: 'relu', seed: 1 });
    const capDeep = new Capture(deep);
    deep.forward(capDeep, unitInputs(3, 5, 4), 5, 1);
    expect([capDeep.masks[0], capDeep.masks[2]]).toEqual([0, 0]);
    expect(capDeep.masksValid).toEqual([false, true, false]);
    capDeep.dispose();
    deep.dispose();
    const tanhNet = mlp({ sizes: [4, 16, 1], activation: 'tanh', seed: 1 });
    const capTanh = new Capture(tanhNet);
    tanhNet.forward(capTanh, unitInputs(3, 5, 4), 5, 1);
    expect(capTanh.masks).toEqual([0, 0]);
    expect(capTanh.masksValid).toEqual([false, false]);
    capTanh.dispose();
    tanhNet.dispose();
    net.dispose();
  });

  test('the Gram block reads the captured mask while it is valid, and packs Z again when it is not', () => {
    const n = 9, d = 3, m = 100, words = 2;
    const net = twoLayerReLU({ inputDim: d, width: m, seed: 8 });
    const k = net.kernels, X = unitInputs(6, n, d);
    const want = gram(net, X, n, () => 1, false).g;
    const cap = new Capture(net), ws = new Workspace(k), out = ws.get('out', n * n);
    net.forward(cap, X, n, 1);
    k.f64().fill(1, cap.b[1] >> 3, (cap.b[1] >> 3) + n);
    net.backward(cap);
    const read = () => k.f64().slice(out >> 3, (out >> 3) + n * n);
    const scale = Math.max(...want.map(Math.abs));
    gramFromCaptures(cap, cap, ws, out);
    allClose(read(), want, { rtol: 1e-12, atol: 1e-12 * scale, cols: n, label: 'J̃J̃ᵀ from the captured mask' });
    // Every unit active in the captured mask: the block then counts m per pair, so the Gram changes.
    new Uint32Array(k.f64().buffer, cap.masks[0], 2 * n * words).fill(0xffffffff);
    gramFromCaptures(cap, cap, ws, out);
    expect(read()).not.toEqual(want);
    // Marked stale, the same scribbled mask is ignored: packed from Z again.
    cap.masksValid[0] = false;
    gramFromCaptures(cap, cap, ws, out);
    allClose(read(), want, { rtol: 1e-12, atol: 1e-12 * scale, cols: n, label: 'J̃J̃ᵀ from Z' });
    ws.dispose();
    cap.dispose();
    net.dispose();
  });

  test('ngd() steps that alternate batches (no held pass to reuse) and repeat one (the trial pass reused) match the float path', () => {
    const n = 24, d = 4, m = 200;
    const batches = [1, 2].map((s) => ({ X: unitInputs(30 + s, n, d), Y: randn(40 + s, n), n }));
    const order = [0, 1, 1, 1, 0, 0];
    const runs = [true, false].map((maskGram) => {
      const net = twoLayerReLU({ inputDim: d, width: m, seed: 5 });
      const opt = ngd({ lr: 0.5, damping: 1e-4, form: 'gram', maskGram });
      for (const b of order) opt.step(net, batches[b], { loss: squaredError() });
      const theta = net.getParams();
      opt.dispose();
      net.dispose();
      return theta;
    });
    const scale = Math.max(...runs[1].map(Math.abs));
    allClose(runs[0], runs[1], { rtol: 1e-10, atol: 1e-10 * scale, label: 'θ after six steps' });
  });

  test('one ngd() step with and without maskGram moves θ the same way (to 1e-10 relative)', () => {
    const n = 32, d = 6, m = 512;
    const X = unitInputs(11, n, d), Y = randn(12, n);
    const steps = [true, false].map((maskGram) => {
      const net = twoLayerReLU({ inputDim: d, width: m, seed: 21 });
      const theta0 = net.getParams();
      const opt = ngd({ lr: 1, damping: 1e-6, form: 'gram', maskGram });
      opt.step(net, { X, Y, n }, { loss: squaredError() });
      const delta = net.getParams().map((x, i) => x - theta0[i]);
      opt.dispose();
      net.dispose();
      return delta;
    });
    const scale = Math.max(...steps[1].map(Math.abs));
    allClose(steps[0], steps[1], { rtol: 1e-10, atol: 1e-10 * scale, label: 'Δθ' });
    expect(() => ngd({ maskGram: 'yes' as never })).toThrow(ArgumentError);
  });
});
