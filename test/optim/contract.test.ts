/**
 * The optimizer contract, one table over every optimizer on both backends: a rejected step
 * leaves θ bit-identical, a non-finite step is a typed error (θ bit-identical), a
 * steady-state step allocates nothing, dispose() frees everything the optimizer allocated,
 * and bad options are typed errors naming the option. A new optimizer (or a new option)
 * joins by adding a row.
 */
import {
  init, mlp, twoLayerReLU, ngd, kfac, gd, sgd, adam, squaredError, softmaxCrossEntropy, ArgumentError, NonFiniteError,
  DivergenceError, StateError, type Loss, type Net, type Optimizer, type StepStats,
} from '../../src/index';
import { kernels, kfacPreconditioner } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';
import { randomLabels, unitInputs } from '../helpers/nets';

interface Row {
  name: string;
  /** A well-behaved configuration. */
  make: () => Optimizer;
  /** A configuration whose update overflows: fixed ones throw, adaptive ones reject. */
  overflow: () => Optimizer;
  /** Whether `overflow` adapts its damping (and so answers with a rejected step rather than an error). */
  adaptive?: true;
  /** Adaptive rows: a configuration whose every retry is rejected (lr 50 on a tanh net, maxRetries 2). */
  rejecting?: () => Optimizer & { readonly currentDamping: number };
  /** Option sets that must throw ArgumentError, with the message each must start with. */
  badOptions: [() => unknown, RegExp][];
}

const ROWS: Row[] = [
  {
    name: 'ngd (fixed damping)',
    make: () => ngd({ damping: 1e-3 }),
    overflow: () => ngd({ lr: 1e308, damping: 1e-6 }),
    badOptions: [
      [() => ngd({ lr: 0 }), /^lr:/],
      [() => ngd({ damping: -1 }), /^damping:/],
      [() => ngd({ form: 'dual' as 'gram' }), /^form:/],
    ],
  },
  {
    name: 'ngd (adaptive)',
    make: () => ngd({ lr: 0.5, damping: 1e-2, adaptive: true }),
    overflow: () => ngd({ lr: 1e308, damping: 1e-6, adaptive: { maxRetries: 1 } }),
    adaptive: true,
    rejecting: () => ngd({ lr: 50, damping: 1e-6, adaptive: { maxRetries: 2 } }),
    badOptions: [
      [() => ngd({ adaptive: { decrease: 2 } }), /^adaptive\.decrease:/],
      [() => ngd({ adaptive: { increase: 1 } }), /^adaptive\.increase:/],
      [() => ngd({ adaptive: { min: 0 } }), /^adaptive\.min:/],
      [() => ngd({ adaptive: { maxRetries: -1 } }), /^adaptive\.maxRetries:/],
    ],
  },
  {
    name: 'kfac (fixed damping, dual factors)',
    make: () => kfac({ damping: 1e-3, decay: 0, inverseEvery: 1, adaptive: false }),
    overflow: () => kfac({ lr: 1e308, damping: 1e-6, adaptive: false }),
    badOptions: [
      [() => kfac({ lr: 0 }), /^lr:/],
      [() => kfac({ damping: -1 }), /^damping:/],
      [() => kfac({ momentum: 1 }), /^momentum:/],
      [() => kfac({ momentum: 'auto' }), /^momentum:.*lr 'auto'/],
      [() => kfac({ lr: 'auto', klClip: 1e-3 }), /^klClip:/],
      [() => kfac({ klClip: 0 }), /^klClip:/],
      [() => kfac({ fisher: 'true' as 'mc' }), /^fisher:/],
      [() => kfac({ normalization: 'mean' as 'sum' }), /^normalization:/],
      [() => kfac({ decay: 1.5 }), /^decay:/],
      [() => kfac({ inverseEvery: 0 }), /^inverseEvery:/],
      [() => kfac({ factorsEvery: 1.5 }), /^factorsEvery:/],
      [() => kfac({ dampingForm: 'exact' }), /^dampingForm:.*eigen/],
      [() => kfac({ form: 'dual' }), /^form:.*decay 0/],
      [() => kfacPreconditioner({ seed: 0.5 }), /^seed:/],
    ],
  },
  {
    name: 'kfac (adaptive, KL clip)',
    make: () => kfac({ lr: 0.3, damping: 1e-2, adaptive: { every: 2 }, klClip: 1e-2 }),
    overflow: () => kfac({ lr: 1e308, damping: 1e-6, adaptive: { maxRetries: 1 } }),
    adaptive: true,
    rejecting: () => kfac({ lr: 50, damping: 1e-6, adaptive: { maxRetries: 2 } }),
    badOptions: [
      [() => kfac({ adaptive: { every: 0 } }), /^adaptive\.every:/],
      [() => kfac({ adaptive: { decrease: 2 } }), /^adaptive\.decrease:/],
    ],
  },
  {
    name: 'kfac (auto lr and momentum, eigen)',
    make: () => kfac({ lr: 'auto', momentum: 'auto', inversion: 'eigen', inverseEvery: 2, adaptive: true }),
    overflow: () => kfac({ lr: 1e308, damping: 1e-6, inversion: 'eigen', adaptive: { maxRetries: 1 } }),
    adaptive: true,
    badOptions: [[() => kfac({ inversion: 'lu' as 'eigen' }), /^inversion:/]],
  },
  {
    name: 'gd',
    make: () => gd({ lr: 0.05 }),
    overflow: () => gd({ lr: 1e308 }),
    badOptions: [
      [() => gd({ lr: -1 }), /^lr:/],
      [() => gd({ preconditioner: {} as never }), /^preconditioner:/],
    ],
  },
  {
    name: 'sgd',
    make: () => sgd({ lr: 0.05, momentum: 0.5 }),
    overflow: () => sgd({ lr: 1e308, momentum: 0.9 }),
    badOptions: [
      [() => sgd({ momentum: 1 }), /^momentum:/],
      [() => sgd({ nesterov: true }), /^momentum:/],
      [() => sgd({ preconditioner: {} as never }), /^preconditioner:/],
    ],
  },
  {
    name: 'adam',
    make: () => adam({ lr: 1e-2 }),
    overflow: () => adam({ lr: 1e308 }),
    badOptions: [
      [() => adam({ beta2: 1.5 }), /^beta2:/],
      [() => adam({ eps: 0 }), /^eps:/],
    ],
  },
  {
    name: 'sgd + kfacPreconditioner (empirical Fisher)',
    make: () => sgd({ lr: 0.1, momentum: 0.9, preconditioner: kfacPreconditioner({ fisher: 'empirical', inverseEvery: 2 }) }),
    overflow: () => sgd({ lr: 1e308, preconditioner: kfacPreconditioner() }),
    badOptions: [],
  },
];

/** The problems every row runs on: a tanh MLP (squared error), an MLP on cross-entropy, a wide two-layer ReLU net, and a net with fewer parameters than outputs (NGD's parameter form). */
const PROBLEMS: { name: string; net: () => Net; X: Float64Array; Y: Float64Array; n: number; loss: Loss }[] = [
  { name: 'tanh MLP, squared error', net: () => mlp({ sizes: [3, 16, 2], activation: 'tanh', seed: 3 }), X: randn(5, 8 * 3), Y: randn(6, 8 * 2), n: 8, loss: squaredError() },
  { name: 'MLP, cross-entropy', net: () => mlp({ sizes: [5, 12, 9, 3], seed: 1 }), X: randn(1, 16 * 5), Y: randomLabels(2, 16, 3), n: 16, loss: softmaxCrossEntropy({ reduction: 'mean' }) },
  { name: 'wide two-layer ReLU', net: () => twoLayerReLU({ inputDim: 4, width: 64, seed: 3 }), X: unitInputs(5, 12, 4), Y: randn(6, 12), n: 12, loss: squaredError() },
  { name: 'P < n·k', net: () => mlp({ sizes: [2, 4, 1], seed: 2 }), X: randn(3, 60), Y: randn(4, 30), n: 30, loss: squaredError({ reduction: 'mean' }) },
];

/** θ as raw bytes: equal exactly when every value is bit-for-bit the same (−0 and NaN payloads included). */
function bits(net: Net): Buffer {
  return Buffer.from(net.getParams().buffer);
}

describe.each(BACKENDS)('%s backend: the optimizer contract', (backend) => {
  beforeAll(async () => { await init({ backend }); });

  describe.each(ROWS)('$name', (row) => {
    test.each(PROBLEMS)('on $name: a steady-state step allocates nothing, and dispose() frees everything it allocated', ({ net: makeNet, X, Y, n, loss }) => {
      const k = kernels();
      const net = makeNet();
      net.predict(X, n); // the net's own evaluation scratch, not the optimizer's
      const alloc = jest.spyOn(k, 'alloc'), free = jest.spyOn(k, 'free');
      try {
        const opt = row.make();
        for (let i = 0; i < 3; i++) opt.step(net, { X, Y, n }, { loss });
        const steady = alloc.mock.calls.length, bytes = k.memoryBytes();
        for (let i = 0; i < 5; i++) opt.step(net, { X, Y, n }, { loss });
        expect(alloc.mock.calls.length).toBe(steady);
        expect(k.memoryBytes()).toBe(bytes);
        opt.dispose();
        const live = new Map<number, number>();
        for (const r of alloc.mock.results) live.set(r.value as number, (live.get(r.value as number) ?? 0) + 1);
        for (const [p] of free.mock.calls) if (p !== 0) live.set(p as number, (live.get(p as number) ?? 0) - 1);
        expect([...live.entries()].filter(([, c]) => c !== 0)).toEqual([]);
        // A disposed optimizer refuses like a disposed net (issue 8); a second dispose is a no-op.
        expect(() => opt.step(net, { X, Y, n }, { loss })).toThrow(StateError);
        expect(() => opt.step(net, { X, Y, n }, { loss })).toThrow(/used after dispose\(\)/);
        expect(() => opt.dispose()).not.toThrow();
      } finally {
        alloc.mockRestore(); free.mockRestore();
        net.dispose();
      }
    });

    test('an overflowing update is a typed error (fixed) or a rejected step (adaptive), with θ bit-identical', () => {
      const { net: makeNet, X, Y, n } = PROBLEMS[0];
      const net = makeNet(), before = bits(net);
      const opt = row.overflow();
      if (row.adaptive) {
        const stats: StepStats = opt.step(net, { X, Y, n });
        expect(stats.accepted).toBe(false);
        expect(stats.updateNorm).toBe(0);
      } else {
        expect(() => opt.step(net, { X, Y, n })).toThrow(NonFiniteError);
        expect(() => opt.step(net, { X, Y, n })).toThrow(/^(update|direction): .* is not finite; the parameters were left unchanged \(/);
      }
      expect(bits(net)).toEqual(before);
      opt.dispose(); net.dispose();
    });

    test('a loss that overflows is a DivergenceError naming the loss (not the inputs), with θ bit-identical', () => {
      const net = mlp({ sizes: [3, 4, 1], seed: 1 });
      net.setParams(net.getParams().map((v) => v * 1e200));
      const before = bits(net), X = randn(1, 6), Y = randn(2, 2);
      const opt = row.make();
      expect(() => opt.step(net, { X, Y, n: 2 })).toThrow(DivergenceError);
      expect(() => opt.step(net, { X, Y, n: 2 })).toThrow(/^loss: training diverged/);
      expect(bits(net)).toEqual(before);
      opt.dispose(); net.dispose();
    });

    if (row.rejecting) {
      const rejecting = row.rejecting;
      test('when every retry is rejected, θ is bit-identical and the step says so', () => {
        const n = 6, X = randn(7, n * 3), Y = randn(8, n);
        const net = mlp({ sizes: [3, 8, 1], activation: 'tanh', seed: 2 }), before = bits(net);
        const opt = rejecting();
        const s = opt.step(net, { X, Y, n });
        expect(s.accepted).toBe(false);
        expect(s.retries).toBe(3);
        expect(s.updateNorm).toBe(0);
        expect(opt.currentDamping).toBeCloseTo(1e-4, 15); // 1e-6 · 10², the last λ tried
        expect(bits(net)).toEqual(before);
        opt.dispose(); net.dispose();
      });
    }

    if (row.badOptions.length > 0) {
      test('bad options are ArgumentErrors naming the option', () => {
        for (const [make, message] of row.badOptions) {
          expect(make).toThrow(ArgumentError);
          expect(make).toThrow(message);
        }
      });
    }
  });
});
