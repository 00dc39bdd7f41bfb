// NGD evaluates each trial θ by a forward pass into a second capture that records θ and X; once
// the step is accepted, the next step on the same batch skips its own forward pass. These tests
// show the skip happens (one product fewer per step, and one input-Gram tile fewer: the first
// layer's A·Aᵀ is kept from the second step on the same X) and never changes a bit: every step equals
// the step a fresh optimizer (which has nothing to reuse) takes from the same θ, including after
// X was changed in place, θ was set, or another optimizer stepped in between.
import { init, mlp, ngd, adam, twoLayerReLU, squaredError, OutOfMemoryError, type Loss, type Net } from '../../src/index';
import { kernels } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';
import { unitInputs } from '../helpers/nets';

const bits = (x: Float64Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex');

/** Counts the backend's GEMM calls made while f runs. */
function gemmCalls(f: () => void): number {
  const k = kernels() as unknown as { gemm: (...a: number[]) => void };
  const own = Object.prototype.hasOwnProperty.call(k, 'gemm');
  const gemm = k.gemm;
  let calls = 0;
  k.gemm = (...a: number[]) => { calls++; gemm.apply(k, a); };
  try {
    f();
  } finally {
    if (own) k.gemm = gemm;
    else delete (k as { gemm?: unknown }).gemm;
  }
  return calls;
}

/** θ after one step from `theta` by a fresh ngd(options) on a fresh copy of the net. */
function freshStep(make: () => Net, theta: Float64Array, batch: { X: Float64Array; Y: Float64Array; n: number }, options: Parameters<typeof ngd>[0]): Float64Array {
  const net = make();
  net.setParams(theta);
  const opt = ngd(options);
  opt.step(net, { X: batch.X.slice(), Y: batch.Y, n: batch.n });
  const out = net.getParams();
  opt.dispose();
  net.dispose();
  return out;
}

describe.each(BACKENDS)('%s backend: NGD reuses its trial forward pass', (backend) => {
  beforeAll(() => init({ backend }));

  const cases = [
    { name: "the paper's net (mask Gram), default guard", make: () => twoLayerReLU({ inputDim: 5, width: 64, seed: 3 }), k: 1, options: {} },
    { name: 'a two-output MLP, damping 0.1', make: () => mlp({ sizes: [5, 16, 2], seed: 4 }), k: 2, options: { damping: 0.1 } },
  ];

  test.each(cases)('$name: consecutive steps skip one forward pass and match a fresh optimizer bit for bit', ({ make, k, options }) => {
    const n = 12, X = unitInputs(5, n, 5), Y = randn(6, n * k), batch = { X, Y, n };
    const net = make(), opt = ngd(options);
    const calls: number[] = [];
    for (let s = 0; s < 4; s++) {
      const before = net.getParams();
      let stats: ReturnType<typeof opt.step> | undefined;
      calls.push(gemmCalls(() => { stats = opt.step(net, batch); }));
      expect(stats!.accepted).toBe(true);
      expect(bits(net.getParams())).toBe(bits(freshStep(make, before, batch, options)));
    }
    // The first step runs its own forward pass; each later one reuses the accepted trial's. The
    // second build on the same X keeps the first layer's input Gram, so from the third step on
    // its tile (one: n ≤ TILE) is not computed either.
    const L = net.layers.length;
    expect(calls.slice(1)).toEqual([calls[0] - L, calls[0] - L - 1, calls[0] - L - 1]);
    opt.dispose();
    net.dispose();
  });

  test('adaptive damping: the accepted trial is reused too, with the same bits as a fresh optimizer at the adapted damping', () => {
    const make = () => mlp({ sizes: [5, 16, 1], seed: 7 });
    const n = 10, X = unitInputs(8, n, 5), Y = randn(9, n), batch = { X, Y, n };
    const net = make(), opt = ngd({ adaptive: true, damping: 0.5 });
    const calls: number[] = [];
    for (let s = 0; s < 3; s++) {
      const before = net.getParams(), damping = opt.currentDamping;
      let accepted = false;
      calls.push(gemmCalls(() => { accepted = opt.step(net, batch).accepted; }));
      expect(accepted).toBe(true);
      expect(bits(net.getParams())).toBe(bits(freshStep(make, before, batch, { adaptive: true, damping })));
    }
    expect(calls.slice(1)).toEqual([calls[0] - net.layers.length, calls[0] - net.layers.length - 1]);
    opt.dispose();
    net.dispose();
  });

  test('nothing stale is reused: X changed in place, θ set, another optimizer in between', () => {
    const make = () => twoLayerReLU({ inputDim: 5, width: 64, seed: 11 });
    const n = 12, X = unitInputs(12, n, 5), Y = randn(13, n), batch = { X, Y, n };
    const net = make(), opt = ngd();
    opt.step(net, batch);
    const check = (what: string) => {
      const before = net.getParams();
      const calls = gemmCalls(() => opt.step(net, batch));
      expect({ what, same: bits(net.getParams()) === bits(freshStep(make, before, batch, {})) }).toEqual({ what, same: true });
      return calls;
    };
    check('step after a step');
    // X changed in place: the same array object, other values.
    X[3] += 0.25;
    const afterX = check('X changed in place');
    // θ set from outside (a value the trial never had).
    net.setParams(net.getParams().map((v, i) => (i % 5 === 0 ? v * 0.5 : v)));
    const afterSet = check('θ set');
    // Another optimizer moved θ.
    const other = adam({ lr: 0.01 });
    other.step(net, batch);
    const afterOther = check('adam stepped');
    // Each of those steps had to run its own forward pass again: one more product per layer than a
    // reusing step. New inputs also remade the first layer's input Gram (one tile), and so did the
    // next build, the second on those inputs, which keeps it; a new θ did not touch it.
    const reusing = check('plain next step');
    expect([afterX, afterSet, afterOther]).toEqual([reusing + net.layers.length + 1, reusing + net.layers.length + 1, reusing + net.layers.length]);
    other.dispose();
    opt.dispose();
    net.dispose();
  });

  test('the kept input Gram follows the batch: other sizes and other rows in between, bit for bit as a fresh optimizer', () => {
    const make = () => mlp({ sizes: [5, 16, 1], seed: 21 });
    // belowStart off: its start (the first batch's loss) is not a fresh optimizer's on another batch.
    const options = { damping: 0.05, guard: { belowStart: false } };
    const net = make(), opt = ngd(options);
    const batchOf = (seed: number, n: number) => ({ X: unitInputs(seed, n, 5), Y: randn(seed + 1, n), n });
    // 70 rows: two tiles of the input Gram, kept from the second step on them; 7 rows: a smaller Gram in the
    // same blocks (other rows, then the first 7 rows of the kept ones: the same bits up front, another
    // layout); new rows of the first size, kept in turn, then the first rows again.
    const first = batchOf(30, 70), head = { X: first.X.slice(0, 7 * 5), Y: first.Y.slice(0, 7), n: 7 };
    const other = batchOf(50, 70);
    for (const [i, batch] of [first, first, first, batchOf(40, 7), first, first, head, first, other, other, first].entries()) {
      const before = net.getParams();
      expect(opt.step(net, batch).accepted).toBe(true);
      expect({ step: i, same: bits(net.getParams()) === bits(freshStep(make, before, batch, options)) }).toEqual({ step: i, same: true });
    }
    opt.dispose();
    net.dispose();
  });

  test('only the first trainable layer keeps its input Gram: a layer above it, whose input moves with θ, keeps no n² block', () => {
    const n = 100;
    const net = mlp({ sizes: [4, 24, 24, 24, 1], activation: 'tanh', seed: 2 });
    const opt = ngd({ damping: 0.1, form: 'gram' });
    const batch = { X: unitInputs(7, n, 4), Y: randn(8, n), n };
    for (let s = 0; s < 2; s++) expect(opt.step(net, batch).accepted).toBe(true);
    const ws = (opt as unknown as { bound: { ws: { entries(): { name: string; count: number }[] } } }).bound.ws;
    const kept = ws.entries().filter((e) => e.name.startsWith('gram.aa'));
    expect(kept.map((e) => `${e.name}:${e.count}`).sort()).toEqual([`gram.aa.0:${n * n}`, `gram.aa.key.0:${n * 5}`]);
    opt.dispose();
    net.dispose();
  });

  test('the trial pass allocates before θ moves: once θ has changed, a step allocates nothing', () => {
    const net = twoLayerReLU({ inputDim: 5, width: 64, seed: 3 });
    const n = 12, X = unitInputs(5, n, 5), Y = randn(6, n), batch = { X, Y, n };
    net.predict(X, n);
    const before = net.getParams();
    const k = kernels();
    const alloc = k.alloc.bind(k);
    // Any allocation once θ has left its starting value fails, as a full memory would.
    const spy = jest.spyOn(k, 'alloc').mockImplementation((count: number) => {
      if (bits(net.getParams()) !== bits(before)) throw new OutOfMemoryError(count * 8, 'simulated');
      return alloc(count);
    });
    const opt = ngd();
    try {
      opt.step(net, batch);
    } finally {
      spy.mockRestore();
    }
    expect(bits(net.getParams())).not.toBe(bits(before));
    opt.dispose();
    net.dispose();
  });

  test('a failure in the trial pass (a backend error mid-product) puts θ back before it propagates', () => {
    const net = twoLayerReLU({ inputDim: 5, width: 64, seed: 3 });
    const n = 12, X = unitInputs(5, n, 5), Y = randn(6, n), batch = { X, Y, n };
    const before = net.getParams();
    const spy = jest.spyOn(net, 'forwardHeld').mockImplementation(() => { throw new Error('simulated worker failure'); });
    const opt = ngd();
    try {
      expect(() => opt.step(net, batch)).toThrow('simulated worker failure');
    } finally {
      spy.mockRestore();
    }
    expect(bits(net.getParams())).toBe(bits(before));
    opt.dispose();
    net.dispose();
  });

  test.each([['the divergence guard', {}], ['adaptive damping', { adaptive: true }]])('%s: a custom Loss.value that throws at the trial θ leaves θ untouched', (_name, options) => {
    const net = twoLayerReLU({ inputDim: 5, width: 16, seed: 3 });
    const n = 12, X = unitInputs(5, n, 5), Y = randn(6, n);
    const before = net.getParams();
    const base = squaredError();
    const loss: Loss = Object.create(base);
    (loss as { value: Loss['value'] }).value = (...a: Parameters<Loss['value']>) => {
      if (bits(net.getParams()) !== bits(before)) throw new Error('user loss failed');
      return base.value(...a);
    };
    const opt = ngd(options);
    expect(() => opt.step(net, { X, Y, n }, { loss })).toThrow('user loss failed');
    expect(bits(net.getParams())).toBe(bits(before));
    opt.dispose();
    net.dispose();
  });
});

