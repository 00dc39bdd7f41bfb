/**
 * Lifecycle rules (issue 8, item 3): a disposed net or optimizer refuses use with an 'E_STATE' error, a
 * second dispose() is a no-op, init() with another backend keeps the nets made before working on their own
 * backend, and one optimizer on two nets is refused unless reset() rebinds it explicitly.
 */
import { init, backendInfo, mlp, twoLayerReLU, ngd, gd, sgd, adam, kfac, train, evaluate, StateError } from '../src/index';
import { gramMatrix, gramSpectrum, jacobianDrift, weightMovement } from '../src/diagnostics/index';
import { kfacPreconditioner, jacobian, vjp, jvp } from '../src/advanced';
import { BACKENDS } from './helpers/backends';
import { randn } from './helpers/random';

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  const n = 4, d = 3, X = randn(1, n * d), Y = randn(2, n);

  test('every use of a disposed net is a StateError naming the net; its shape stays readable; double dispose is a no-op', () => {
    const net = mlp({ sizes: [d, 5, 1], seed: 1 });
    const p0 = net.getParams();
    net.dispose();
    expect(net.disposed).toBe(true);
    expect(() => net.dispose()).not.toThrow();
    const uses: [string, () => unknown][] = [
      ['predict', () => net.predict(X, n)],
      ['getParams', () => net.getParams()],
      ['setParams', () => net.setParams(p0)],
      ['layout', () => net.layout()],
      ['evaluate', () => evaluate(net, { X, Y, n })],
      ['train', () => train(net, { X, Y, n }, gd({ lr: 0.1 }), { steps: 1 })],
      ['ngd step', () => ngd().step(net, { X, Y, n })],
      ['jacobian', () => jacobian(net, X, n)],
      ['vjp', () => vjp(net, X, n, new Float64Array(n))],
      ['jvp', () => jvp(net, X, n, p0)],
      ['gramMatrix', () => gramMatrix(net, X, n)],
      ['gramSpectrum', () => gramSpectrum(net, X, n)],
      ['jacobianDrift', () => jacobianDrift(net, X, n, p0)],
      ['weightMovement', () => weightMovement(net, p0)],
    ];
    for (const [what, use] of uses) {
      let error: unknown;
      try { use(); } catch (e) { error = e; }
      if (!(error instanceof StateError)) throw new Error(`${what} on a disposed net: expected StateError, got ${String(error)}`);
      expect(error.code).toBe('E_STATE');
      expect(error.message).toMatch(/^Net.* used after dispose\(\)/);
    }
    expect(net.inputDim).toBe(d);
    expect(net.numParams).toBe(26);
    expect(String(net)).toMatch(/disposed/);
  });

  test('disposing one net leaves the others working', () => {
    const a = twoLayerReLU({ inputDim: d, width: 8, seed: 1 });
    const b = twoLayerReLU({ inputDim: d, width: 8, seed: 1 });
    const u = b.predict(X, n);
    a.dispose();
    expect(b.predict(X, n)).toEqual(u);
    b.dispose();
  });
});

describe('init() with another backend while nets are alive: they keep working on their own backend', () => {
  test('a net made on one backend predicts and trains the same after init() switches to the other', async () => {
    const n = 6, d = 3, X = randn(3, n * d), Y = randn(4, n);
    for (const [first, second] of [['wasm', 'js'], ['js', 'wasm']] as const) {
      await init({ backend: first });
      const old = mlp({ sizes: [d, 7, 1], seed: 2 });
      const twin = mlp({ sizes: [d, 7, 1], seed: 2 });
      const u = old.predict(X, n);
      await init({ backend: second });
      expect(backendInfo()!.backend).toBe(second);
      const fresh = mlp({ sizes: [d, 7, 1], seed: 2 });
      expect(old.kernels.backend).toBe(first);
      expect(fresh.kernels.backend).toBe(second);
      expect(old.predict(X, n)).toEqual(u);
      // Training the old net after the switch gives exactly what it gives without a switch.
      const h = train(old, { X, Y, n }, ngd({ damping: 1e-2 }), { steps: 3 });
      await init({ backend: first });
      const ref = train(twin, { X, Y, n }, ngd({ damping: 1e-2 }), { steps: 3 });
      expect(h.map((r) => r.loss)).toEqual(ref.map((r) => r.loss));
      expect(old.getParams()).toEqual(twin.getParams());
      old.dispose(); twin.dispose(); fresh.dispose();
    }
  });
});

describe.each(BACKENDS)('%s backend: optimizer lifecycle', (backend) => {
  beforeAll(async () => { await init({ backend }); });
  const n = 4, d = 3, X = randn(5, n * d), Y = randn(6, n);
  const makers: [string, () => import('../src/index').Optimizer][] = [
    ['ngd', () => ngd()], ['kfac', () => kfac()], ['gd', () => gd()], ['sgd', () => sgd({ momentum: 0.5 })], ['adam', () => adam()],
    ['sgd + kfacPreconditioner', () => sgd({ preconditioner: kfacPreconditioner() })],
  ];

  test.each(makers)('%s: a disposed optimizer refuses with a StateError naming it; double dispose is a no-op', (_name, make) => {
    const net = mlp({ sizes: [d, 5, 1], seed: 1 });
    const opt = make();
    opt.step(net, { X, Y, n });
    opt.dispose();
    expect(() => opt.dispose()).not.toThrow();
    const before = net.getParams();
    let error: unknown;
    try { opt.step(net, { X, Y, n }); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).code).toBe('E_STATE');
    expect((error as Error).message).toMatch(/used after dispose\(\)/);
    expect(net.getParams()).toEqual(before);
    net.dispose();
  });

  test.each(makers)('%s: one optimizer on two nets is refused unless reset() rebinds it explicitly', (_name, make) => {
    const a = mlp({ sizes: [d, 5, 1], seed: 1 }), b = mlp({ sizes: [d, 5, 1], seed: 2 });
    const opt = make();
    opt.step(a, { X, Y, n });
    const before = b.getParams();
    expect(() => opt.step(b, { X, Y, n })).toThrow(StateError);
    expect(() => opt.step(b, { X, Y, n })).toThrow(/is bound to Net\(.*\), not Net\(.*\).*reset\(\)/);
    expect(b.getParams()).toEqual(before);
    // Still bound to a: stepping it works; reset() is the explicit rebind, after which b trains like with a fresh optimizer.
    opt.step(a, { X, Y, n });
    opt.reset();
    const viaReset = opt.step(b, { X, Y, n });
    const twin = mlp({ sizes: [d, 5, 1], seed: 2 }), fresh = make();
    const viaFresh = fresh.step(twin, { X, Y, n });
    expect(viaReset.loss).toBe(viaFresh.loss);
    expect(b.getParams()).toEqual(twin.getParams());
    for (const x of [a, b, twin]) x.dispose();
    opt.dispose(); fresh.dispose();
  });
});
