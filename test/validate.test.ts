/** The strict-options helper (issue 8, item 7) and the messages of the shared argument checks. */
import { checkOptions, closestKey, describeValue, editDistance, checkNonNegative, checkDim } from '../src/validate';
import {
  init, mlp, twoLayerReLU, ngd, kfac, gd, sgd, adam, train, evaluate, squaredError, softmaxCrossEntropy, ArgumentError,
  ShapeError, NatgradError,
} from '../src/index';
import { linalg, kfacPreconditioner } from '../src/advanced';

const SHAPE = { lr: 'number', damping: 'number', adaptive: ['boolean', 'object'], form: { kinds: ['string'], expect: "'auto', 'gram' or 'param'" } } as const;

function caught(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('checkOptions', () => {
  test('accepts undefined, {}, known keys of the right kind, and keys set to undefined', () => {
    expect(() => checkOptions('ngd()', undefined, SHAPE)).not.toThrow();
    expect(() => checkOptions('ngd()', {}, SHAPE)).not.toThrow();
    expect(() => checkOptions('ngd()', { lr: 0.5, adaptive: { boost: 2 }, form: 'gram', damping: undefined }, SHAPE)).not.toThrow();
    expect(() => checkOptions('ngd()', Object.create(null), SHAPE)).not.toThrow();
  });

  test('an unknown key is an ArgumentError (E_ARGUMENT) naming it and suggesting the closest valid key', () => {
    const e = caught(() => checkOptions('ngd()', { learningRate: 0.5 }, SHAPE)) as ArgumentError;
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.argument).toBe('learningRate');
    expect(e.message).toBe("learningRate: is not an option of ngd(); did you mean 'lr'? (options: lr, damping, adaptive, form)");
    expect(caught(() => checkOptions('ngd()', { dampnig: 1 }, SHAPE)).message).toMatch(/did you mean 'damping'\?/);
    expect(caught(() => checkOptions('ngd()', { Damping: 1 }, SHAPE)).message).toMatch(/did you mean 'damping'\?/);
    expect(caught(() => checkOptions('ngd()', { learning_rate: 1 }, SHAPE)).message).toMatch(/did you mean 'lr'\?/);
    // Nothing close: no guess, only the list.
    const far = caught(() => checkOptions('ngd()', { zzzzzz: 1 }, SHAPE)).message;
    expect(far).not.toMatch(/did you mean/);
    expect(far).toMatch(/options: lr, damping, adaptive, form/);
  });

  test('a nested object names its path', () => {
    const e = caught(() => checkOptions('ngd()', { boots: 2 }, { boost: 'number', lower: 'number' }, 'adaptive.')) as ArgumentError;
    expect(e.argument).toBe('adaptive.boots');
    expect(e.message).toMatch(/did you mean 'adaptive.boost'\?/);
    expect(caught(() => checkOptions('ngd()', 5, { boost: 'number' }, 'adaptive.')).message)
      .toBe('adaptive: ngd() takes an object of options, got the number 5');
  });

  test('a value of the wrong type is reported with its type', () => {
    expect(caught(() => checkOptions('ngd()', { lr: '0.5' }, SHAPE)).message).toBe('lr: must be a number, got the string "0.5"');
    expect(caught(() => checkOptions('ngd()', { lr: null }, SHAPE)).message).toBe('lr: must be a number, got null');
    expect(caught(() => checkOptions('ngd()', { adaptive: 'yes' }, SHAPE)).message).toBe('adaptive: must be a boolean or an object, got the string "yes"');
    expect(caught(() => checkOptions('ngd()', { form: 3 }, SHAPE)).message).toBe("form: must be 'auto', 'gram' or 'param', got the number 3");
    expect(caught(() => checkOptions('ngd()', { adaptive: [1] }, SHAPE)).message).toBe('adaptive: must be a boolean or an object, got an array of length 1');
  });

  test('options that are not a plain object are refused', () => {
    for (const bad of [null, 5, 'lr', [], new Float64Array(2), new Map()]) {
      const e = caught(() => checkOptions('ngd()', bad, SHAPE)) as ArgumentError;
      expect(e).toBeInstanceOf(ArgumentError);
      expect(e.argument).toBe('options');
      expect(e.message).toMatch(/^options: ngd\(\) takes an object of options, got /);
    }
  });
});

describe('helpers', () => {
  test('describeValue names the type', () => {
    expect(describeValue('0.5')).toBe('the string "0.5"');
    expect(describeValue(NaN)).toBe('the number NaN');
    expect(describeValue(true)).toBe('the boolean true');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(10n)).toBe('the bigint 10n');
    expect(describeValue([1, 2, 3])).toBe('an array of length 3');
    expect(describeValue(new Float32Array(4))).toBe('a Float32Array of length 4');
    expect(describeValue({})).toBe('an object');
    expect(describeValue(new Map())).toBe('an instance of Map');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue('x'.repeat(100))).toMatch(/^the string "x{40}…"$/);
  });

  test('editDistance counts insertions, deletions, substitutions and adjacent swaps', () => {
    expect(editDistance('damping', 'damping')).toBe(0);
    expect(editDistance('dampnig', 'damping')).toBe(1);
    expect(editDistance('dampin', 'damping')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  test('closestKey prefers initials, then the smallest distance, and gives up when nothing is close', () => {
    expect(closestKey('learningRate', ['lr', 'damping'])).toBe('lr');
    expect(closestKey('momentun', ['lr', 'momentum', 'damping'])).toBe('momentum');
    expect(closestKey('xyz', ['lr', 'momentum', 'damping'])).toBeUndefined();
  });

  test('numeric checks report a non-number with its type', () => {
    expect(caught(() => checkNonNegative('damping', '0.5' as never)).message).toBe('damping: must be a finite number ≥ 0, got the string "0.5"');
    expect(caught(() => checkNonNegative('damping', -1)).message).toBe('damping: must be a finite number ≥ 0, got -1');
    expect(caught(() => checkDim('n', '3' as never))).toBeInstanceOf(ShapeError);
  });
});

describe('strict options at the public entry points that own them', () => {
  beforeAll(async () => { await init({ backend: 'js' }); });

  test('twoLayerReLU and mlp refuse unknown keys and wrong types', () => {
    expect(caught(() => twoLayerReLU({ inputDim: 2, widht: 4 } as never)).message).toMatch(/^widht: is not an option of twoLayerReLU\(\); did you mean 'width'\?/);
    expect(caught(() => twoLayerReLU({ inputDim: 2, width: '4' } as never)).message).toBe('width: must be a number, got the string "4"');
    expect(caught(() => mlp({ sizes: [2, 1], activaton: 'tanh' } as never)).message).toMatch(/did you mean 'activation'\?/);
    expect(caught(() => mlp({ sizes: '2,1' } as never)).message).toBe('sizes: must be an array, got the string "2,1"');
    expect(caught(() => mlp(undefined as never))).toBeInstanceOf(ArgumentError);
  });

  test('linalg options are strict', () => {
    const a = new Float64Array([2, 0, 0, 2]);
    expect(caught(() => linalg.cholesky(a, 2, { dampng: 1 } as never)).message).toMatch(/did you mean 'damping'\?/);
    expect(caught(() => linalg.gemm(a, a, 2, 2, 2, { transa: true } as never)).message).toMatch(/did you mean 'transA'\?/);
    expect(caught(() => linalg.gemm(a, a, 2, 2, 2, { c: [0, 0, 0, 0] } as never)).message).toBe('c: must be a Float64Array, got an array of length 4');
  });

  test('a net whose parameters cannot fit is OUT_OF_MEMORY before anything is allocated, with the bytes asked for', () => {
    const e = caught(() => twoLayerReLU({ inputDim: 4096, width: 2 ** 26 })) as NatgradError;
    expect(e).toBeInstanceOf(NatgradError);
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(new RegExp(`${8 * (4096 * 2 ** 26 + 2 ** 26)} bytes`));
    expect((caught(() => mlp({ sizes: [2 ** 20, 2 ** 20, 1] })) as NatgradError).code).toBe('OUT_OF_MEMORY');
  });
});

describe('strict options in the optimizers, train, evaluate and the losses', () => {
  beforeAll(async () => { await init({ backend: 'js' }); });

  test("ngd({ learningRate: 0.5 }) is an ARGUMENT error suggesting 'lr' (the issue's example)", () => {
    const e = caught(() => ngd({ learningRate: 0.5 } as never)) as ArgumentError;
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.message).toMatch(/^learningRate: is not an option of ngd\(\); did you mean 'lr'\?/);
    expect(caught(() => ngd({ lr: '0.5' } as never)).message).toBe('lr: must be a number, got the string "0.5"');
  });

  test.each([
    ['kfac', () => kfac({ dampnig: 1 } as never), /did you mean 'damping'\?/],
    ['kfac lr', () => kfac({ lr: '1' } as never), /^lr: must be a finite number > 0, got the string "1"$/],
    ['kfac adaptive', () => kfac({ adaptive: { evrey: 2 } } as never), /^adaptive\.evrey: .*did you mean 'adaptive\.every'\?/],
    ['ngd adaptive', () => ngd({ adaptive: { boots: 2 } } as never), /^adaptive\.boots: .*did you mean 'adaptive\.boost'\?/],
    ['ngd adaptive type', () => ngd({ adaptive: { boost: '2' } } as never), /^adaptive\.boost: must be a number, got the string "2"$/],
    ['ngd guard', () => ngd({ guard: { factr: 2 } } as never), /^guard\.factr: .*did you mean 'guard\.factor'\?/],
    ['kfacPreconditioner', () => kfacPreconditioner({ lr: 1 } as never), /^lr: is not an option of kfacPreconditioner\(\)/],
    ['gd', () => gd({ learning_rate: 1 } as never), /did you mean 'lr'\?/],
    ['sgd', () => sgd({ momentun: 0.9 } as never), /did you mean 'momentum'\?/],
    ['sgd nesterov', () => sgd({ nesterov: 'yes' } as never), /^nesterov: must be a boolean, got the string "yes"$/],
    ['adam', () => adam({ beta_1: 0.9 } as never), /^beta_1: is not an option of adam\(\)/],
    ['squaredError', () => squaredError({ reduce: 'mean' } as never), /did you mean 'reduction'\?/],
    ['softmaxCrossEntropy', () => softmaxCrossEntropy('mean' as never), /^options: softmaxCrossEntropy\(\) takes an object of options, got the string "mean"$/],
  ] as [string, () => unknown, RegExp][])('%s', (_name, make, message) => {
    const e = caught(make);
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.message).toMatch(message);
  });

  test('train and evaluate options are strict', () => {
    const net = mlp({ sizes: [2, 3, 1], seed: 1 });
    const data = { X: new Float64Array(4), Y: new Float64Array(2), n: 2 };
    expect(caught(() => train(net, data, gd(), { steps: 1, batchsize: 1 } as never)).message).toMatch(/did you mean 'batchSize'\?/);
    expect(caught(() => train(net, data, gd(), { steps: '3' } as never)).message).toBe('steps: must be a number, got the string "3"');
    expect(caught(() => train(net, data, gd(), { steps: 1, onStep: 5 } as never)).message).toBe('onStep: must be a function, got the number 5');
    expect(caught(() => evaluate(net, data, { los: 'cross-entropy' } as never)).message).toMatch(/did you mean 'loss'\?/);
    net.dispose();
  });
});
