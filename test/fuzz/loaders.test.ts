/**
 * Fuzz: the saved-model and checkpoint loaders (`parseJSON`, `loadNet`, `loadCheckpoint`) on both backends.
 * Valid files (from `net.toJSON()` and `saveCheckpoint` after a few steps of ngd, kfac and adam) are mutated:
 * one value anywhere in the tree replaced by an adversarial one (NaN, negative, huge, fractional, a string,
 * null, an array, an object, a deleted key), or the JSON text truncated. Each load returns a net that predicts
 * finite outputs (and, for a checkpoint, an optimizer that can take a step), or throws a NatgradError with
 * no allocation left behind.
 */
import fc from 'fast-check';
import { init, mlp, ngd, kfac, adam, train, loadNet, loadCheckpoint, parseJSON, saveCheckpoint, type Optimizer } from '../../src/index';
import { kernels } from '../../src/advanced';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';
import { check, contract, countAllocations, type AllocationCounter } from './harness';

/** Every path (array of keys) to a value in a JSON tree. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

const REPLACEMENTS: unknown[] = [NaN, -1, 0, 1.5, 1e308, 2 ** 31, 2 ** 53, -0, 'x', '', 'AAAA', null, [], [1, 2], {}, { a: 1 }, true, undefined];

function mutate(json: unknown, pathIndex: number, replacement: number): unknown {
  const copy = JSON.parse(JSON.stringify(json));
  const all = paths(copy);
  const path = all[pathIndex % all.length];
  if (path.length === 0) return REPLACEMENTS[replacement % REPLACEMENTS.length];
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1];
  const value = REPLACEMENTS[replacement % REPLACEMENTS.length];
  if (value === undefined && !Array.isArray(parent)) delete parent[last];
  else parent[last] = value;
  return copy;
}

describe.each(BACKENDS)('%s backend', (backend) => {
  let counter: AllocationCounter;
  const n = 6, X = randn(1, n * 3), Y = randn(2, n);
  const files: { kind: 'model' | 'checkpoint'; json: unknown }[] = [];

  beforeAll(async () => {
    await init({ backend });
    counter = countAllocations(kernels());
    const net = mlp({ sizes: [3, 5, 1], activation: 'tanh', seed: 1 });
    files.push({ kind: 'model', json: net.toJSON() });
    for (const make of [() => ngd({ damping: 1e-2, adaptive: true }), () => kfac({ damping: 1e-2 }), () => adam({ lr: 1e-2 })] as (() => Optimizer)[]) {
      const trained = mlp({ sizes: [3, 5, 1], activation: 'tanh', seed: 2 });
      const opt = make();
      train(trained, { X, Y, n }, opt, { steps: 3 });
      files.push({ kind: 'checkpoint', json: JSON.parse(JSON.stringify(saveCheckpoint(trained, opt))) });
      opt.dispose(); trained.dispose();
    }
    net.dispose();
  });

  test('loadNet and loadCheckpoint on mutated files: a working net (and optimizer), or a typed error with nothing leaked', () => {
    const arb = fc.record({ file: fc.nat(), path: fc.nat(), replacement: fc.nat(), truncate: fc.oneof(fc.constant(-1), fc.nat()) });
    check(`loaders (${backend})`, arb, (c) => {
      const { kind, json } = files[c.file % files.length];
      const live = counter.live;
      const out = contract(`load ${kind}`, counter, [], () => {
        let data: unknown;
        if (c.truncate >= 0) {
          const text = JSON.stringify(json);
          data = parseJSON(text.slice(0, c.truncate % text.length));
        } else {
          data = mutate(json, c.path, c.replacement);
        }
        return kind === 'model' ? { net: loadNet(data), optimizer: undefined } : loadCheckpoint(data);
      });
      if (!out.ok) return;
      const { net, optimizer } = out.value;
      const u = net.predict(new Float64Array(2 * net.inputDim).fill(0.5), 2);
      expect(u.every(Number.isFinite)).toBe(true);
      expect(net.getParams().every(Number.isFinite)).toBe(true);
      if (optimizer) {
        // A loaded optimizer takes a step on its net (or refuses with a typed error), θ finite either way.
        const step = contract('step after loadCheckpoint', { live: 0 }, [net], () => optimizer.step(net, { X: randn(3, 2 * net.inputDim), Y: randn(4, 2 * net.outputDim), n: 2 }));
        if (step.ok) expect(net.getParams().every(Number.isFinite)).toBe(true);
        optimizer.dispose();
      }
      net.dispose();
      expect(counter.live).toBe(live);
    }, 1000);
  });
});
