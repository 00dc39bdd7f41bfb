/**
 * Injected faults (issue 8, item 5), on both backends: a singular Gram mid-training (duplicated inputs,
 * damping 0) is survived through damping escalation and the pseudo-inverse; a batch with NaN is refused with
 * the parameters untouched and training continues on the next batch.
 */
import { init, twoLayerReLU, mlp, ngd, kfac, adam, evaluate, NonFiniteError, type Optimizer, type Batch } from '../src/index';
import { BACKENDS } from './helpers/backends';
import { randn } from './helpers/random';
import { unitInputs } from './helpers/nets';

const n = 16, d = 6;
const X = unitInputs(1, n, d), Y = randn(2, n);
/** The same batch with every input duplicated (rows 2i and 2i+1 equal) and conflicting targets: G has rank ≤ n/2. */
function duplicated(): Batch {
  const Xd = new Float64Array(n * d), Yd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    Xd.set(X.subarray((i >> 1) * d, ((i >> 1) + 1) * d), i * d);
    Yd[i] = Y[i];
  }
  return { X: Xd, Y: Yd, n };
}

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  test.each([
    ['ngd, damping 0 (fixed): the pseudo-inverse', () => ngd({ damping: 0 }), 'eigh'],
    ['ngd, damping 0 (adaptive): damping escalation on rejection', () => ngd({ damping: 0, adaptive: true }), undefined],
  ] as [string, () => Optimizer, string | undefined][])('singular Gram mid-training, %s: the step is finite and training goes on', (_name, make, solver) => {
    const net = twoLayerReLU({ inputDim: d, width: 256, seed: 3 });
    const opt = make();
    for (let i = 0; i < 2; i++) opt.step(net, { X, Y, n });
    const bad = duplicated();
    const s = opt.step(net, bad);
    expect(Number.isFinite(s.loss)).toBe(true);
    expect(net.getParams().every(Number.isFinite)).toBe(true);
    if (solver) expect(s.solver).toBe(solver);
    // Adaptive: λ starts at its floor (1e-8) and any attempt that raised the loss was undone with more damping.
    else expect(s.lossAfter!).toBeLessThanOrEqual(s.loss);
    const after = evaluate(net, { X, Y, n });
    for (let i = 0; i < 3; i++) opt.step(net, { X, Y, n });
    expect(evaluate(net, { X, Y, n })).toBeLessThan(after + 1e-12);
    net.dispose(); opt.dispose();
  });

  test.each([
    ['ngd', () => ngd({ damping: 1e-3 })],
    ['ngd (adaptive)', () => ngd({ damping: 1e-3, adaptive: true })],
    ['kfac', () => kfac({ damping: 1e-2 })],
    ['adam', () => adam({ lr: 1e-2 })],
  ] as [string, () => Optimizer][])('%s: a batch with NaN is refused with θ untouched; the next batch trains', (_name, make) => {
    const net = mlp({ sizes: [d, 16, 1], activation: 'tanh', seed: 2 });
    const opt = make();
    opt.step(net, { X, Y, n });
    for (const where of ['X', 'Y'] as const) {
      const before = net.getParams();
      const Xb = Float64Array.from(X), Yb = Float64Array.from(Y);
      (where === 'X' ? Xb : Yb)[5] = NaN;
      expect(() => opt.step(net, { X: Xb, Y: Yb, n })).toThrow(NonFiniteError);
      expect(net.getParams()).toEqual(before);
    }
    // The optimizer state was not touched either: the next step equals a twin's that never saw the bad batch.
    const twin = mlp({ sizes: [d, 16, 1], activation: 'tanh', seed: 2 }), twinOpt = make();
    twinOpt.step(twin, { X, Y, n });
    const a = opt.step(net, { X, Y, n }), b = twinOpt.step(twin, { X, Y, n });
    expect(a.loss).toBe(b.loss);
    expect(net.getParams()).toEqual(twin.getParams());
    net.dispose(); twin.dispose(); opt.dispose(); twinOpt.dispose();
  });
});
