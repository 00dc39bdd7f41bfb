import { init, mlp, twoLayerReLU, loadNet, parseJSON, FormatError, Standardizer } from '../../src/index';
import { type ModelJSON } from '../../src/advanced';
import { loadKernels } from '../../src/backend/init';
import { encodeF64 } from '../../src/encoding/codec';
import { BACKENDS } from '../helpers/backends';
import { randn } from '../helpers/random';

const bits = (a: Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe.each(BACKENDS)('%s backend', (backend) => {
  beforeEach(async () => { await init({ backend }); });

  test('toJSON → JSON text → loadNet: same parameters bit for bit, same predictions on both backends', async () => {
    const net = mlp({ sizes: [3, 7, 5, 2], activation: 'tanh', seed: 3, init: 'ntk', trainable: [true, false, true] });
    net.labels = ['no', 'yes'];
    net.columns = { inputs: ['a', 'b', 'c'], targets: ['y'] };
    net.preprocessing = Standardizer.fit(randn(1, 12), 4, 3).toJSON();
    const text = JSON.stringify(net);
    const X = randn(2, 6 * 3);
    for (const other of BACKENDS) {
      const back = loadNet(JSON.parse(text), { kernels: await loadKernels(other) });
      expect(back.kernels.backend).toBe(other);
      expect(bits(back.getParams())).toEqual(bits(net.getParams()));
      expect(back.labels).toEqual(['no', 'yes']);
      expect(back.columns).toEqual(net.columns);
      expect(back.preprocessing).toEqual(net.preprocessing);
      expect(JSON.stringify(back)).toBe(text);
      if (other === backend) expect(bits(back.predict(X, 6))).toEqual(bits(net.predict(X, 6)));
      else expect(Array.from(back.predict(X, 6)).every((u, i) => Math.abs(u - net.predict(X, 6)[i]) < 1e-12)).toBe(true);
      back.dispose();
    }
    const fromText = loadNet(text);
    expect(fromText.toString()).toBe(net.toString());
    fromText.dispose();
    net.dispose();
  });

  test('the paper net (no biases, frozen output layer, 1/√m scale) round-trips', () => {
    const net = twoLayerReLU({ inputDim: 4, width: 33, seed: 9 });
    const back = loadNet(net.toJSON());
    const X = randn(4, 20);
    expect(bits(back.predict(X, 5))).toEqual(bits(net.predict(X, 5)));
    net.dispose(); back.dispose();
  });

  describe('every corrupt file gets a FormatError naming the field', () => {
    const good = (): ModelJSON => {
      const net = mlp({ sizes: [2, 3, 2], seed: 1 });
      net.labels = ['a', 'b'];
      const j = JSON.parse(JSON.stringify(net)) as ModelJSON;
      net.dispose();
      return j;
    };
    type Case = [string, string, (j: any) => unknown];
    const cases: Case[] = [
      ['not an object', 'model', () => 42],
      ['wrong format', 'format', (j) => { j.format = 'keras'; return j; }],
      ['wrong version', 'version', (j) => { j.version = 3; return j; }],
      ['missing architecture', 'architecture', (j) => { delete j.architecture; return j; }],
      ['layers not an array', 'architecture.layers', (j) => { j.architecture.layers = {}; return j; }],
      ['no layers', 'architecture.layers', (j) => { j.architecture.layers = []; j.params.layers = []; return j; }],
      ['negative size', 'architecture.layers[0].outputs', (j) => { j.architecture.layers[0].outputs = -3; return j; }],
      ['fractional size', 'architecture.layers[1].inputs', (j) => { j.architecture.layers[1].inputs = 2.5; return j; }],
      ['huge size', 'architecture.layers[0].outputs', (j) => { j.architecture.layers[0].outputs = 2 ** 40; return j; }],
      ['inconsistent layers', 'architecture.layers[1].inputs', (j) => { j.architecture.layers[1].inputs = 4; return j; }],
      ['unknown activation', 'architecture.layers[0].activation', (j) => { j.architecture.layers[0].activation = 'swish'; return j; }],
      ['non-linear last layer', 'architecture.layers[1].activation', (j) => { j.architecture.layers[1].activation = 'relu'; return j; }],
      ['bias not boolean', 'architecture.layers[0].bias', (j) => { j.architecture.layers[0].bias = 'yes'; return j; }],
      ['non-finite scale', 'architecture.layers[0].weightScale', (j) => { j.architecture.layers[0].weightScale = null; return j; }],
      ['wrong dtype', 'params.dtype', (j) => { j.params.dtype = 'float32'; return j; }],
      ['missing layer params', 'params.layers', (j) => { j.params.layers.pop(); return j; }],
      ['truncated params', 'params.layers[0]', (j) => { j.params.layers[0] = j.params.layers[0].slice(0, -8); return j; }],
      ['corrupt params', 'params.layers[1]', (j) => { j.params.layers[1] = `*${j.params.layers[1].slice(1)}`; return j; }],
      ['params as numbers', 'params.layers[0]', (j) => { j.params.layers[0] = [1, 2, 3]; return j; }],
      ['wrong param count', 'params.layers[1]', (j) => { j.params.layers[1] = encodeF64(new Float64Array(7)); return j; }],
      ['NaN parameter', 'params.layers[0]', (j) => { j.params.layers[0] = encodeF64(new Float64Array(9).fill(NaN)); return j; }],
      ['Infinity parameter', 'params.layers[1]', (j) => { const v = new Float64Array(8); v[3] = Infinity; j.params.layers[1] = encodeF64(v); return j; }],
      ['labels of the wrong count', 'labels', (j) => { j.labels = ['a', 'b', 'c']; return j; }],
      ['labels not strings', 'labels[1]', (j) => { j.labels = ['a', 7]; return j; }],
      ['duplicate labels', 'labels', (j) => { j.labels = ['a', 'a']; return j; }],
      ['preprocessing of another size', 'preprocessing.mean', (j) => { j.preprocessing = Standardizer.fit(new Float64Array(6), 2).toJSON(); return j; }],
      ['columns of another size', 'columns.inputs', (j) => { j.columns = { inputs: ['x'], targets: ['y'] }; return j; }],
    ];
    test.each(cases)('%s → %s', (_name, field, corrupt) => {
      let err: unknown;
      try { loadNet(corrupt(good())); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FormatError);
      expect((err as FormatError).field).toBe(field);
      expect((err as FormatError).message).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `));
    });

    test('a missing field is reported as missing', () => {
      const j: Partial<ReturnType<typeof good>> = good();
      delete j.architecture;
      expect(() => loadNet(j)).toThrow(/^architecture: must be an object, got nothing$/);
    });

    test('JSON text that is not JSON', () => {
      expect(() => loadNet('{"format": "natgrad-model",')).toThrow(FormatError);
    });
  });

  test('a hostile file cannot reach Object.prototype', () => {
    const net = mlp({ sizes: [2, 2], seed: 1 });
    const j = JSON.stringify(net.toJSON());
    net.dispose();
    const hostile = j.replace('{', '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}},')
      .replace('"architecture":{', '"architecture":{"__proto__":{"layers":[]},');
    const back = loadNet(hostile);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    back.dispose();
    const parsed = parseJSON(hostile) as Record<string, unknown>;
    expect(Object.keys(parsed)).not.toContain('__proto__');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    // Even a plain JSON.parse result (own __proto__ key) is read without touching a prototype.
    const raw = JSON.parse(hostile);
    expect(Object.prototype.hasOwnProperty.call(raw, '__proto__')).toBe(true);
    loadNet(raw).dispose();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
