/**
 * Fuzz: model factories, net methods, losses with `evaluate`, the diagnostics and `train` (with the
 * first-order optimizers) on both backends. Adversarial shapes, arrays, labels, options, disposed nets.
 * Each call returns a correct result (checked against plain loops or a second code path) or throws a
 * NatgradError leaving the parameters byte-identical and no allocation behind.
 */
import fc from 'fast-check';
import { init, mlp, twoLayerReLU, train, gd, sgd, adam, type Net } from '../../src/index';
import { gramMatrix, gramSpectrum, limitingGram, jacobianDrift, weightMovement } from '../../src/diagnostics/index';
import { kernels, jacobian, vjp, jvp, linalg } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { matmul } from '../helpers/naive';
import { naiveForward } from '../helpers/nets';
import { close, finite, isDim, makeNet, netSpecArb } from './shared';
import {
  arrayKindArb, check, contract, countAllocations, dimArb, makeArray, numberOptionArb, optionsArb, type AllocationCounter,
} from './harness';

describe.each(BACKENDS)('%s backend', (backend) => {
  let counter: AllocationCounter;
  beforeAll(async () => {
    await init({ backend });
    counter = countAllocations(kernels());
  });

  test('twoLayerReLU and mlp: a working net of the right size, or a typed error with nothing allocated', () => {
    const arb = fc.record({
      which: fc.constantFrom('two-layer', 'mlp'),
      two: optionsArb({
        inputDim: dimArb(4), width: dimArb(8), outputDim: dimArb(3), nu: numberOptionArb(fc.constantFrom(0.5, 1, 2)),
        seed: numberOptionArb(fc.integer({ min: -5, max: 5 })), trainOutputLayer: fc.oneof(fc.boolean(), fc.constant<unknown>('yes')),
      }),
      mlp: optionsArb({
        sizes: fc.oneof(fc.array(dimArb(5), { minLength: 0, maxLength: 4 }), fc.constantFrom<unknown>('2,1', null, [2 ** 20, 2 ** 20, 1])),
        activation: fc.oneof(fc.constantFrom('relu', 'tanh', 'leaky-relu', 'softplus', 'identity'), fc.constantFrom<unknown>('swish', 3)),
        bias: fc.oneof(fc.boolean(), fc.constant<unknown>(1)),
        init: fc.oneof(fc.constantFrom<unknown>('he', 'glorot', 'lecun', 'ntk', { normal: 0.1 }, { ntk: { sigmaW: 2 } }), fc.constantFrom<unknown>('xavier', { normal: -1 }, { normal: NaN }, null)),
        seed: numberOptionArb(fc.integer({ min: 0, max: 9 })),
        trainable: fc.oneof(fc.constant<unknown>(undefined), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 })),
      }),
      n: fc.integer({ min: 1, max: 3 }),
    });
    check(`models (${backend})`, arb, (c) => {
      const live = counter.live;
      const out = contract('model factory', counter, [], () => (c.which === 'two-layer' ? twoLayerReLU(c.two as never) : mlp(c.mlp as never)));
      if (!out.ok) return;
      const net = out.value;
      const sizes = [net.inputDim, ...net.layers.map((L) => L.outputs)];
      if (c.which === 'mlp') expect(sizes).toEqual((c.mlp as { sizes: number[] }).sizes);
      let P = 0;
      for (const L of net.layers) if (L.trainable) P += L.outputs * L.inA;
      expect(net.numParams).toBe(P);
      const p = net.getParams();
      expect(finite(p)).toBe(true);
      const X = makeArray('ok', c.n * net.inputDim, 3) as Float64Array;
      const u = net.predict(X, c.n);
      const frozen = net.layers.filter((L) => !L.trainable).map((L) => kernels().f64().slice(L.ptr >> 3, (L.ptr >> 3) + L.outputs * L.inA));
      expect(close(u, naiveForward(net, p, frozen, X, c.n), 1e-10)).toBe(true);
      net.dispose();
      expect(counter.live).toBe(live);
    }, 1500);
  });

  test('net methods (predict, get/setParams, layout, jacobian, vjp, jvp) with adversarial arguments or after dispose', () => {
    const arb = fc.record({
      net: netSpecArb, dispose: fc.integer({ min: 0, max: 9 }),
      method: fc.constantFrom('predict', 'getParams', 'setParams', 'layout', 'jacobian', 'vjp', 'jvp'),
      n: dimArb(4), kx: arrayKindArb, kv: arrayKindArb, seed: fc.nat(),
    });
    check(`net methods (${backend})`, arb, (c) => {
      const net = makeNet(c.net);
      net.predict(new Float64Array(4 * net.inputDim), 4); // warm the net's own scratch (reused, not leaked)
      if (c.dispose === 0) net.dispose();
      const n = c.n, P = net.numParams, k = net.outputDim;
      const X = makeArray(c.kx, isDim(n) ? n * net.inputDim : 3, c.seed);
      const vLen = c.method === 'vjp' ? (isDim(n) ? n * k : 3) : P;
      const v = makeArray(c.kv, vLen, c.seed + 1);
      const out = contract(`net.${c.method}`, counter, [net], () => {
        switch (c.method) {
          case 'predict': return net.predict(X as Float64Array, n as number);
          case 'getParams': return net.getParams(c.kv === 'ok' ? undefined : v as Float64Array);
          case 'setParams': return net.setParams(v as Float64Array);
          case 'layout': return net.layout();
          case 'jacobian': return jacobian(net, X as Float64Array, n as number);
          case 'vjp': return vjp(net, X as Float64Array, n as number, v as Float64Array);
          default: return jvp(net, X as Float64Array, n as number, v as Float64Array);
        }
      });
      if (out.ok) {
        expect(net.disposed).toBe(false);
        const N = (n as number) * k;
        if (c.method === 'predict') expect(close(out.value as Float64Array, naiveForward(net, net.getParams(), net.layers.filter((L) => !L.trainable).map((L) => net.kernels.f64().slice(L.ptr >> 3, (L.ptr >> 3) + L.outputs * L.inA)), X as Float64Array, n as number), 1e-10)).toBe(true);
        if (c.method === 'setParams') expect(Array.from(net.getParams())).toEqual(Array.from(v as Float64Array));
        if (c.method === 'jacobian' || c.method === 'vjp' || c.method === 'jvp') {
          // Three code paths agree: J·w = jvp(w) and vᵀJ = vjp(v).
          const J = jacobian(net, X as Float64Array, n as number);
          expect(finite(J)).toBe(true);
          if (c.method === 'jvp') expect(close(out.value as Float64Array, matmul(J, v as Float64Array, N, P, 1), 1e-9)).toBe(true);
          if (c.method === 'vjp') expect(close(out.value as Float64Array, matmul(v as Float64Array, J, 1, N, P), 1e-9)).toBe(true);
        }
      }
      net.dispose();
    }, 1500);
  });

  test('diagnostics: G = JJᵀ, its spectrum, G∞, drift and movement, or typed errors', () => {
    const arb = fc.record({
      net: netSpecArb, op: fc.constantFrom('gramMatrix', 'gramSpectrum', 'limitingGram', 'jacobianDrift', 'weightMovement'),
      n: dimArb(4), kx: fc.oneof(arrayKindArb, fc.constant<'zero-row'>('zero-row')), kp: arrayKindArb, dispose: fc.integer({ min: 0, max: 9 }), seed: fc.nat(),
    });
    check(`diagnostics (${backend})`, arb, (c) => {
      const net = makeNet(c.net);
      net.predict(new Float64Array(4 * net.inputDim), 4);
      if (c.dispose === 0) net.dispose();
      const n = c.n, nn = isDim(n) && n <= 64 ? n : 3;
      const X = c.kx === 'zero-row' ? new Float64Array(nn * net.inputDim) : makeArray(c.kx, nn * net.inputDim, c.seed);
      const p0 = makeArray(c.kp, net.numParams, c.seed + 1);
      const out = contract(c.op, counter, [net], () => {
        switch (c.op) {
          case 'gramMatrix': return gramMatrix(net, X as Float64Array, n as number);
          case 'gramSpectrum': return gramSpectrum(net, X as Float64Array, n as number);
          case 'limitingGram': return limitingGram(X as Float64Array, n as number);
          case 'jacobianDrift': return jacobianDrift(net, X as Float64Array, n as number, p0 as Float64Array);
          default: return weightMovement(net, p0 as Float64Array);
        }
      });
      if (!out.ok) { if (!net.disposed) net.dispose(); return; }
      const N = (n as number) * net.outputDim;
      if (c.op === 'gramMatrix' || c.op === 'gramSpectrum') {
        const J = jacobian(net, X as Float64Array, n as number), G = matmul(J, J, N, net.numParams, N, false, true);
        if (c.op === 'gramMatrix') expect(close(out.value as Float64Array, G, 1e-9)).toBe(true);
        else {
          const s = out.value as { eigenvalues: Float64Array; lambdaMin: number; lambdaMax: number };
          const scale = 1 + Math.max(0, ...Array.from(G, Math.abs));
          const ref = N ? linalg.eigh(G, N).values : new Float64Array(0);
          for (let i = 0; i < N; i++) expect(Math.abs(s.eigenvalues[i] - ref[i])).toBeLessThanOrEqual(1e-9 * scale);
        }
      } else if (c.op === 'weightMovement') {
        const p = net.getParams(), q = p0 as Float64Array;
        const scale = Math.max(...Array.from(p, (x, i) => Math.abs(x - q[i])), 1e-300);
        const ref = scale * Math.sqrt(p.reduce((a, x, i) => a + ((x - q[i]) / scale) ** 2, 0));
        expect(Math.abs((out.value as number) - ref)).toBeLessThanOrEqual(1e-12 * (1 + ref));
      } else if (c.op === 'jacobianDrift') {
        expect(Number.isFinite(out.value as number)).toBe(true);
        expect(out.value as number).toBeGreaterThanOrEqual(0);
      } else {
        const g = (out.value as { gram: Float64Array }).gram;
        expect(finite(g)).toBe(true);
      }
      net.dispose();
    }, 1000);
  });

  test('train with gd, sgd and adam: a history of finite records, or a typed error with θ untouched', () => {
    const arb = fc.record({
      net: netSpecArb, opt: fc.constantFrom('gd', 'sgd', 'adam', 'not-an-optimizer'),
      lr: numberOptionArb(fc.constantFrom(1e-3, 0.1)),
      options: optionsArb({
        steps: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom<unknown>(-1, 1.5, NaN, Infinity, '2', null)), batchSize: fc.oneof(fc.constant<unknown>(undefined), dimArb(5)), seed: numberOptionArb(fc.integer({ min: 0, max: 3 })),
        loss: fc.constantFrom<unknown>(undefined, 'squared-error', 'cross-entropy', 'hinge'),
        onStep: fc.constantFrom<unknown>(undefined, () => undefined, () => false),
      }),
      n: dimArb(5), kx: arrayKindArb, ky: arrayKindArb, seed: fc.nat(),
    });
    check(`train (${backend})`, arb, (c) => {
      const net = makeNet(c.net);
      net.predict(new Float64Array(4 * net.inputDim), 4);
      const n = c.n, nn = isDim(n) && n <= 64 ? n : 3;
      const X = makeArray(c.kx, nn * net.inputDim, c.seed);
      const ce = (c.options as { loss?: unknown } | null)?.loss === 'cross-entropy';
      const Y = ce && c.ky === 'ok' ? Float64Array.from({ length: nn }, (_, i) => i % net.outputDim) : makeArray(c.ky, nn * net.outputDim, c.seed + 1);
      const out = contract('train', counter, [net], () => {
        const opt = c.opt === 'gd' ? gd({ lr: c.lr as number }) : c.opt === 'sgd' ? sgd({ lr: c.lr as number, momentum: 0.5 })
          : c.opt === 'adam' ? adam({ lr: c.lr as number }) : ({ step: 1 } as never);
        try {
          return train(net, { X: X as Float64Array, Y: Y as Float64Array, n: n as number }, opt, c.options as never);
        } finally {
          if (typeof opt.dispose === 'function') opt.dispose();
        }
      });
      if (out.ok) {
        const steps = (c.options as { steps: number }).steps;
        expect(out.value.length).toBeLessThanOrEqual(steps);
        for (const r of out.value) expect(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm)).toBe(true);
        expect(finite(net.getParams())).toBe(true);
      }
      net.dispose();
    }, 1000);
  });
});
