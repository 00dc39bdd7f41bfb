/**
 * Fuzz: the losses with `evaluate` on both backends: labels out of range, fractional or negative, probability
 * rows that do not sum to 1, NaN, wrong lengths and types, bad reductions. Each call gives the plain-loop
 * loss value (finite) or a NatgradError with θ untouched and nothing leaked.
 */
import fc from 'fast-check';
import { init, evaluate, squaredError, softmaxCrossEntropy } from '../../src/index';
import { kernels } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { isDim, makeNet, naiveLoss, netSpecArb } from './shared';
import { arrayKindArb, check, contract, countAllocations, dimArb, makeArray, optionsArb, type AllocationCounter } from './harness';

describe.each(BACKENDS)('%s backend', (backend) => {
  let counter: AllocationCounter;
  beforeAll(async () => {
    await init({ backend });
    counter = countAllocations(kernels());
  });

  test('losses and evaluate: the plain-loop loss value, or a typed error (labels out of range, bad rows, bad options)', () => {
    const arb = fc.record({
      net: netSpecArb, loss: fc.constantFrom('squared-error', 'cross-entropy', 'object'),
      lossName: fc.constantFrom('squared', 'ce'),
      lossOptions: optionsArb({ reduction: fc.oneof(fc.constantFrom('sum', 'mean'), fc.constantFrom<unknown>('avg', 1)) }),
      n: dimArb(4), kx: arrayKindArb,
      y: fc.constantFrom('ok', 'labels', 'label-out', 'label-frac', 'label-neg', 'probs', 'probs-bad', 'nan', 'short', 'plain', 'null'),
      seed: fc.nat(),
    });
    check(`losses + evaluate (${backend})`, arb, (c) => {
      const net = makeNet(c.net);
      net.predict(new Float64Array(4 * net.inputDim), 4);
      const n = c.n, k = net.outputDim, nn = isDim(n) && n <= 64 ? n : 3;
      const X = makeArray(c.kx, nn * net.inputDim, c.seed);
      let Y: unknown;
      switch (c.y) {
        case 'ok': Y = makeArray('ok', nn * k, c.seed + 1); break;
        case 'labels': Y = Float64Array.from({ length: nn }, (_, i) => (i + c.seed) % k); break;
        case 'label-out': Y = Float64Array.from({ length: nn }, () => k); break;
        case 'label-frac': Y = Float64Array.from({ length: nn }, () => 0.5); break;
        case 'label-neg': Y = Float64Array.from({ length: nn }, () => -1); break;
        case 'probs': Y = Float64Array.from({ length: nn * k }, () => 1 / k); break;
        case 'probs-bad': Y = Float64Array.from({ length: nn * k }, () => 0.9); break;
        default: Y = makeArray(c.y as 'nan', nn * k, c.seed + 1);
      }
      const out = contract('evaluate', counter, [net], () => {
        const loss = c.loss === 'object'
          ? (c.lossName === 'squared' ? squaredError(c.lossOptions as never) : softmaxCrossEntropy(c.lossOptions as never))
          : c.loss;
        return { value: evaluate(net, { X: X as Float64Array, Y: Y as Float64Array, n: n as number }, { loss: loss as never }), loss };
      });
      if (out.ok) {
        const name = out.value.loss === 'squared-error' || out.value.loss === 'cross-entropy' ? out.value.loss : (out.value.loss as { name: string }).name;
        const reduction = typeof out.value.loss === 'object' ? (out.value.loss as { reduction: string }).reduction : 'sum';
        const U = net.predict(X as Float64Array, n as number);
        const ref = naiveLoss(name, reduction, U, Y as Float64Array, n as number, k);
        expect(Number.isFinite(out.value.value)).toBe(true);
        expect(Math.abs(out.value.value - ref)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(ref)));
      }
      net.dispose();
    }, 1500);
  });

});
