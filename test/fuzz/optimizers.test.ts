/**
 * Fuzz: the optimizers (ngd fixed/adaptive, kfac fixed/adaptive, gd, sgd, adam, sgd with the K-FAC
 * preconditioner) on both backends. Options are adversarial (unknown keys, wrong types, out of domain); a
 * built optimizer takes a valid warm-up step (which binds it to the net and allocates its workspace: that memory
 * must be back when the optimizer is disposed), then one adversarial call: a bad batch (NaN, wrong lengths,
 * labels out of range), a bad loss, a disposed net, a disposed optimizer, or a second net. Each call returns
 * statistics (finite loss, finite θ, θ untouched when not accepted) or throws a NatgradError after which the
 * parameters are byte-identical, no allocation is left behind, and the optimizer's state is untouched: its
 * next valid step equals, bit for bit, that of a twin that never saw the bad call.
 *
 * And with default options (issue 18), a full-batch run of ngd or kfac on finite data — inputs in [−1, 1] or
 * raw-scaled up to ×1000, squared error or softmax cross-entropy — ends at or below the loss it began with, or
 * throws a typed error with θ finite: their guard keeps every full-batch step at or below where the run began.
 * gd, sgd and adam have no such rule in their step (no trial loss; `train` with them is the raw method, which the
 * reproduction and the README's raw demo rely on): default gd and sgd do end above their start on such runs. Their
 * defaults path is `fit`, whose `belowStart` rule covers every optimizer: a fit with default options, of any of the
 * five, ends at or below the loss it began with, or throws a typed error.
 */
import fc from 'fast-check';
import { init, ngd, kfac, gd, sgd, adam, train, fit, evaluate, NatgradError, DivergenceError, type Optimizer, type Net, type LossSpec } from '../../src/index';
import { kernels, kfacPreconditioner } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { isDim, makeNet, netSpecArb } from './shared';
import {
  arrayKindArb, check, contract, countAllocations, dimArb, makeArray, numberOptionArb, optionsArb, expectSameBytes, type AllocationCounter,
} from './harness';

const lrArb = numberOptionArb(fc.constantFrom(1e-3, 0.1, 1));
const dampingArb = numberOptionArb(fc.constantFrom(1e-4, 1e-2, 1));
const guardArb = fc.constantFrom<unknown>(undefined, true, false, { factor: 2 }, { factor: 1 }, { factr: 2 }, 'on');
const adaptiveArb = fc.constantFrom<unknown>(undefined, true, false, { boost: 5 }, { boots: 5 }, { maxRetries: -1 }, 'yes');

const KINDS = {
  ngd: { make: (o: unknown) => ngd(o as never), options: { lr: lrArb, damping: dampingArb, adaptive: adaptiveArb, form: fc.constantFrom<unknown>('auto', 'gram', 'param', 'dual'), guard: guardArb } },
  kfac: {
    make: (o: unknown) => kfac(o as never),
    options: {
      lr: fc.oneof(lrArb, fc.constant<unknown>('auto')), damping: dampingArb, adaptive: adaptiveArb, guard: guardArb,
      momentum: fc.oneof(numberOptionArb(fc.constantFrom(0, 0.5)), fc.constant<unknown>('auto')),
      decay: numberOptionArb(fc.constantFrom(0, 0.95)), inverseEvery: fc.oneof(dimArb(3)), fisher: fc.constantFrom<unknown>('auto', 'exact', 'mc', 'empirical', 'true'),
    },
  },
  gd: { make: (o: unknown) => gd(o as never), options: { lr: lrArb } },
  sgd: { make: (o: unknown) => sgd(o as never), options: { lr: lrArb, momentum: numberOptionArb(fc.constantFrom(0, 0.9)), nesterov: fc.constantFrom<unknown>(true, false, 1) } },
  adam: { make: (o: unknown) => adam(o as never), options: { lr: lrArb, beta1: numberOptionArb(fc.constantFrom(0.9)), beta2: numberOptionArb(fc.constantFrom(0.999)), eps: numberOptionArb(fc.constantFrom(1e-8)) } },
  'sgd+kfac': { make: (o: unknown) => sgd({ lr: 0.1, preconditioner: kfacPreconditioner(o as never) }), options: { damping: dampingArb, decay: numberOptionArb(fc.constantFrom(0, 0.95)), inverseEvery: dimArb(3) } },
} as const;
type Kind = keyof typeof KINDS;

const callArb = fc.constantFrom('batch', 'loss', 'disposed-net', 'disposed-optimizer', 'other-net', 'valid');

const DEFAULTS: Record<string, () => Optimizer> = { ngd: () => ngd(), kfac: () => kfac() };
const FIT_DEFAULTS: Record<string, () => Optimizer> = { ...DEFAULTS, gd: () => gd(), sgd: () => sgd(), adam: () => adam() };

describe.each(BACKENDS)('%s backend', (backend) => {
  let counter: AllocationCounter;
  beforeAll(async () => {
    await init({ backend });
    counter = countAllocations(kernels());
  });

  for (const kind of Object.keys(KINDS) as Kind[]) {
    test(`${kind}: options, then a valid step and an adversarial call: stats or a typed error with θ, state and memory untouched`, () => {
      const arb = fc.record({
        options: optionsArb(KINDS[kind].options as Record<string, fc.Arbitrary<unknown>>),
        net: netSpecArb, call: callArb, n: dimArb(5), kx: arrayKindArb, ky: arrayKindArb,
        loss: fc.constantFrom<unknown>(undefined, 'squared-error', 'cross-entropy', 'hinge', null, { name: 'fake' }),
        seed: fc.nat(),
      });
      check(`${kind} (${backend})`, arb, (c) => {
        const live0 = counter.live;
        const built = contract(`${kind}(options)`, counter, [], () => KINDS[kind].make(c.options));
        if (!built.ok) return;
        const opt = built.value as Optimizer;
        const net = makeNet(c.net), twin = makeNet(c.net);
        const twinOpt = KINDS[kind].make(c.options) as Optimizer;
        const n = 6, X = makeArray('ok', n * net.inputDim, c.seed) as Float64Array, Y = makeArray('ok', n * net.outputDim, c.seed + 1) as Float64Array;
        const valid = { X, Y, n };
        // The first step binds the optimizer to the net (its workspace, owned until dispose): its allocations are
        // checked by the count after dispose below, not per call.
        const owned = { live: 0 };
        const warm = contract(`${kind} warm-up step`, owned, [net], () => opt.step(net, valid));
        const twinWarm = contract(`${kind} twin warm-up`, owned, [twin], () => twinOpt.step(twin, valid));
        expect(warm.ok).toBe(twinWarm.ok);
        let other: Net | undefined;
        if (warm.ok) {
          const nn = isDim(c.n) && c.n <= 64 ? c.n : 3;
          const bx = makeArray(c.kx, nn * net.inputDim, c.seed + 2), by = makeArray(c.ky, nn * net.outputDim, c.seed + 3);
          if (c.call === 'disposed-net') net.dispose();
          if (c.call === 'other-net') other = makeNet(c.net);
          if (c.call === 'disposed-optimizer') opt.dispose();
          const before = net.disposed ? undefined : net.getParams();
          const out = contract(`${kind} ${c.call}`, counter, [net, other], () => {
            switch (c.call) {
              case 'batch': return opt.step(net, { X: bx as Float64Array, Y: by as Float64Array, n: c.n as number });
              case 'loss': return opt.step(net, valid, { loss: c.loss as never });
              case 'other-net': return opt.step(other!, valid);
              case 'disposed-optimizer': return opt.step(net, valid);
              default: return opt.step(net, valid);
            }
          });
          if (c.call === 'disposed-net' || c.call === 'disposed-optimizer') expect(out.ok).toBe(false);
          if (out.ok) {
            expect(Number.isFinite(out.value.loss)).toBe(true);
            const stepped = c.call === 'other-net' ? other! : net;
            expect(stepped.getParams().every(Number.isFinite)).toBe(true);
            if (!out.value.accepted && c.call !== 'other-net' && before) expectSameBytes(new Uint8Array(before.buffer), new Uint8Array(net.getParams().buffer), `${kind}: a step that was not accepted`);
          } else if (!net.disposed && c.call !== 'disposed-optimizer' && c.call !== 'other-net') {
            // State untouched: the next valid step matches the twin's bit for bit.
            const a = contract(`${kind} step after the refused call`, counter, [net], () => opt.step(net, valid));
            const b = contract(`${kind} twin step`, counter, [twin], () => twinOpt.step(twin, valid));
            expect(a.ok).toBe(b.ok);
            if (a.ok && b.ok) {
              expect(a.value.loss).toBe(b.value.loss);
              expectSameBytes(new Uint8Array(twin.getParams().buffer), new Uint8Array(net.getParams().buffer), `${kind}: θ after the refused call and one step vs the twin's`);
            }
          }
        }
        opt.dispose(); twinOpt.dispose();
        if (!net.disposed) net.dispose();
        twin.dispose(); other?.dispose();
        expect(counter.live).toBe(live0);
      }, 500);
    });
  }

  /** A net and raw-scaled data of the "ends at or below where it began" properties: classes for cross-entropy. */
  function raw(c: { net: Parameters<typeof makeNet>[0]; n: number; scale: number; loss: string; seed: number }) {
    const ce = c.loss === 'cross-entropy';
    const net = makeNet({ ...c.net, k: ce ? Math.max(2, c.net.k) : c.net.k });
    const k = net.outputDim, n = c.n;
    const X = (makeArray('ok', n * net.inputDim, c.seed) as Float64Array).map((v) => v * c.scale);
    const Y = ce ? Float64Array.from({ length: n }, (_, i) => (c.seed + 7 * i) % k) : (makeArray('ok', n * k, c.seed + 1) as Float64Array);
    return { net, data: { X, Y, n }, loss: c.loss as LossSpec };
  }

  for (const name of Object.keys(DEFAULTS)) {
    test(`${name}() with default options: a full-batch run ends at or below where it began, or throws a typed error`, () => {
      const arb = fc.record({
        net: netSpecArb, n: fc.integer({ min: 1, max: 12 }), steps: fc.integer({ min: 1, max: 20 }), scale: fc.constantFrom(1, 10, 100, 1000),
        loss: fc.constantFrom('squared-error', 'cross-entropy'), seed: fc.nat(),
      });
      check(`${name} default run (${backend})`, arb, (c) => {
        const { net, data, loss } = raw(c), opt = DEFAULTS[name]();
        try {
          const start = evaluate(net, data, { loss });
          try {
            train(net, data, opt, { steps: c.steps, loss });
            expect(evaluate(net, data, { loss })).toBeLessThanOrEqual(start);
          } catch (e) {
            if (!(e instanceof NatgradError)) throw e;
            expect(net.getParams().every(Number.isFinite)).toBe(true);
          }
        } finally {
          opt.dispose();
          net.dispose();
        }
      }, 40);
    });
  }

  for (const name of Object.keys(FIT_DEFAULTS)) {
    test(`fit with ${name}() and default options: the run ends at or below where it began, or throws a typed error`, () => {
      const arb = fc.record({
        net: netSpecArb, n: fc.integer({ min: 1, max: 12 }), epochs: fc.integer({ min: 1, max: 20 }), scale: fc.constantFrom(1, 10, 100, 1000),
        loss: fc.constantFrom('squared-error', 'cross-entropy'), seed: fc.nat(), batchSize: fc.constantFrom(undefined, 1, 3),
      });
      check(`fit ${name} default run (${backend})`, arb, (c) => {
        const { net, data, loss } = raw(c), opt = FIT_DEFAULTS[name]();
        try {
          const start = evaluate(net, data, { loss });
          try {
            fit(net, data, opt, { epochs: c.epochs, loss, batchSize: c.batchSize });
            expect(evaluate(net, data, { loss })).toBeLessThanOrEqual(start);
          } catch (e) {
            if (!(e instanceof NatgradError)) throw e;
            expect(net.getParams().every(Number.isFinite)).toBe(true);
            // A diverging fit puts back the weights of its lowest loss first (review R23).
            if (e instanceof DivergenceError) expect(evaluate(net, data, { loss })).toBeLessThanOrEqual(start);
          }
        } finally {
          opt.dispose();
          net.dispose();
        }
      }, 40);
    });
  }
});
