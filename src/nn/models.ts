/**
 * Network factories: the paper's two-layer ReLU network and general MLPs, built
 * on the active backend with seeded, backend-independent initial values.
 */
import { kernels } from '../backend/init.js';
import type { Kernels } from '../kernels/types.js';
import { ArgumentError, NatgradError, ShapeError } from '../errors.js';
import { checkFiniteNumber, checkOptions, got, type OptionShape } from '../validate.js';
import { activation as lookupActivation, type ActivationName } from './activations.js';
import { Net } from './net.js';
import type { DenseSpec } from './spec.js';
import { Rng } from './random.js';

/** Options of {@link twoLayerReLU}. */
export interface TwoLayerReLUOptions {
  /** d: input dimension. */
  inputDim: number;
  /** m: number of hidden ReLU units. */
  width: number;
  /** k: number of outputs (default 1); each output has its own ±1 weights a. */
  outputDim?: number;
  /** ν: the hidden weights are drawn from N(0, ν²I) (default 1). */
  nu?: number;
  /** Seed of the initial values (default 0). */
  seed?: number;
  /** Also train the output weights a (default false: only W trains, as in the paper). */
  trainOutputLayer?: boolean;
}

/**
 * The network of Zhang, Martens & Grosse (2019) and Du et al. (2019):
 * f(x) = (1/√m) Σ_r a_r relu(w_rᵀx), with w_r ~ N(0, ν²I) and a_r uniform in
 * {−1, +1}, no biases. Only W (m × d) trains unless `trainOutputLayer`, so the
 * flat parameter vector is W row-major (row r = w_r), then, if trained, a
 * (k × m row-major). Initial values: W is drawn first, row by row, then a, from
 * one seeded generator, so they are the same on every backend.
 *
 * @param options input dimension, width and outputs, the init scale ν, the seed, whether the output layer trains
 * @example
 * await init();
 * const net = twoLayerReLU({ inputDim: 16, width: 4096, seed: 1 });
 * net.numParams; // 65536
 */
export function twoLayerReLU(options: TwoLayerReLUOptions): Net {
  if (options === undefined) throw new ArgumentError('options', 'twoLayerReLU() needs { inputDim, width }');
  checkOptions('twoLayerReLU()', options, TWO_LAYER_OPTIONS);
  const { inputDim: d, width: m, outputDim: k = 1, nu = 1, seed = 0, trainOutputLayer = false } = options;
  checkPositiveInt('inputDim', d);
  checkPositiveInt('width', m);
  checkPositiveInt('outputDim', k);
  checkFiniteNumber('nu', nu);
  if (!(nu > 0)) throw new ArgumentError('nu', `must be > 0, got ${nu}`);
  checkSeed(seed);
  const k0 = kernels();
  checkModelSize(k0, m * d + k * m);
  const rng = new Rng(seed);
  const w = new Float64Array(m * d);
  for (let i = 0; i < w.length; i++) w[i] = nu * rng.normal();
  checkInitFinite('nu', nu, w);
  const a = new Float64Array(k * m);
  for (let i = 0; i < a.length; i++) a[i] = rng.sign();
  const specs: DenseSpec[] = [
    { inputs: d, outputs: m, bias: false, activation: 'relu', weightScale: 1, biasScale: 1, trainable: true },
    { inputs: m, outputs: k, bias: false, activation: 'identity', weightScale: 1 / Math.sqrt(m), biasScale: 1, trainable: !!trainOutputLayer },
  ];
  return new Net(k0, specs, [w, a]);
}

/**
 * How {@link mlp} draws initial weights. Biases start at 0 except under 'ntk'.
 * - 'he': N(0, 2/fan-in); 'glorot': N(0, 2/(fan-in + fan-out)); 'lecun': N(0, 1/fan-in);
 * - `{ normal: ν }`: N(0, ν²);
 * - 'ntk' or `{ ntk: { sigmaW, sigmaB } }`: the NTK parameterisation (Jacot et al.
 *   2018): W and b ~ N(0, 1), and the layer computes (σ_w/√fan-in)·W·h + σ_b·b
 *   (defaults σ_w = 1, σ_b = 0.1).
 */
export type InitSpec = 'he' | 'glorot' | 'lecun' | 'ntk'
  | {
    /** ν: weights ~ N(0, ν²). */
    normal: number;
  }
  | {
    /** The NTK parameterisation's scales. */
    ntk: {
      /** σ_w (default 1): the layer computes (σ_w/√fan-in)·W·h. */
      sigmaW?: number;
      /** σ_b (default 0.1): the bias enters as σ_b·b. */
      sigmaB?: number;
    };
  };

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** `[d, h1, …, k]`: input dimension, hidden widths, outputs (at least `[d, k]`). */
  sizes: number[];
  /** Hidden-layer activation (default 'relu'); the output layer is linear. */
  activation?: ActivationName;
  /** Give every layer a bias (default true). */
  bias?: boolean;
  /** Default 'he' for relu, leaky-relu, gelu and softplus, else 'glorot'. */
  init?: InitSpec;
  /** Seed of the initial values (default 0). */
  seed?: number;
  /** One flag per layer (sizes.length − 1 of them): which layers train (default all). */
  trainable?: boolean[];
}

/**
 * A multilayer perceptron of dense layers: sizes [d, h1, …, k], one activation
 * on every hidden layer and a linear output. Flat parameter order: layer by
 * layer, each layer's [W | b] (outputs × (inputs + 1)) row-major; initial values
 * are drawn in that order from one seeded generator.
 *
 * @param options layer sizes, hidden activation, biases, initialisation, seed and per-layer trainable flags
 * @example
 * await init();
 * const net = mlp({ sizes: [4, 32, 32, 3], activation: 'tanh', seed: 7 });
 * net.numParams; // (4+1)·32 + (32+1)·32 + (32+1)·3 = 1315
 */
export function mlp(options: MlpOptions): Net {
  if (options === undefined) throw new ArgumentError('options', 'mlp() needs { sizes }');
  checkOptions('mlp()', options, MLP_OPTIONS);
  const { sizes, activation = 'relu', bias = true, seed = 0, trainable } = options;
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new ArgumentError('sizes', 'must be an array [inputDim, …hidden, outputDim] of at least 2 sizes');
  }
  sizes.forEach((s, i) => checkPositiveInt(`sizes[${i}]`, s));
  lookupActivation(activation);
  checkSeed(seed);
  const nLayers = sizes.length - 1;
  if (trainable !== undefined && (!Array.isArray(trainable) || trainable.length !== nLayers)) {
    throw new ArgumentError('trainable', `must have one flag per layer (${nLayers})`);
  }
  const init = options.init ?? (['relu', 'leaky-relu', 'gelu', 'softplus'].includes(activation) ? 'he' : 'glorot');
  const scheme = resolveInit(init);
  const k0 = kernels();
  let total = 0;
  for (let l = 0; l < nLayers; l++) total += sizes[l + 1] * (sizes[l] + (bias ? 1 : 0));
  checkModelSize(k0, total);
  const rng = new Rng(seed);
  const specs: DenseSpec[] = [];
  const values: Float64Array[] = [];
  for (let l = 0; l < nLayers; l++) {
    const fanIn = sizes[l], fanOut = sizes[l + 1];
    const inA = fanIn + (bias ? 1 : 0);
    const std = scheme.std(fanIn, fanOut);
    const v = new Float64Array(fanOut * inA);
    for (let o = 0; o < fanOut; o++) {
      for (let j = 0; j < fanIn; j++) v[o * inA + j] = std * rng.normal();
      if (bias && scheme.ntk) v[o * inA + fanIn] = rng.normal();
    }
    specs.push({
      inputs: fanIn, outputs: fanOut, bias,
      activation: l + 1 < nLayers ? activation : 'identity',
      weightScale: scheme.ntk ? scheme.sigmaW / Math.sqrt(fanIn) : 1,
      biasScale: scheme.ntk ? scheme.sigmaB : 1,
      trainable: trainable ? !!trainable[l] : true,
    });
    checkInitFinite('init', scheme.std(fanIn, fanOut), v);
    values.push(v);
  }
  return new Net(k0, specs, values);
}

interface InitScheme {
  std(fanIn: number, fanOut: number): number;
  ntk: boolean;
  sigmaW: number;
  sigmaB: number;
}

function resolveInit(init: InitSpec): InitScheme {
  const plain = (std: InitScheme['std']): InitScheme => ({ std, ntk: false, sigmaW: 1, sigmaB: 1 });
  if (init === 'he') return plain((fi) => Math.sqrt(2 / fi));
  if (init === 'glorot') return plain((fi, fo) => Math.sqrt(2 / (fi + fo)));
  if (init === 'lecun') return plain((fi) => Math.sqrt(1 / fi));
  if (init === 'ntk') return { std: () => 1, ntk: true, sigmaW: 1, sigmaB: 0.1 };
  if (typeof init === 'object' && init !== null && 'normal' in init) {
    const nu = init.normal;
    checkFiniteNumber('init.normal', nu);
    if (!(nu >= 0)) throw new ArgumentError('init.normal', `must be ≥ 0, got ${nu}`);
    return plain(() => nu);
  }
  if (typeof init === 'object' && init !== null && 'ntk' in init) {
    const { sigmaW = 1, sigmaB = 0.1 } = init.ntk ?? {};
    checkFiniteNumber('init.ntk.sigmaW', sigmaW);
    checkFiniteNumber('init.ntk.sigmaB', sigmaB);
    return { std: () => 1, ntk: true, sigmaW, sigmaB };
  }
  throw new ArgumentError('init', `unknown init ${JSON.stringify(init)}; expected 'he', 'glorot', 'lecun', 'ntk', { normal: ν } or { ntk: {…} }`);
}

/** Refuses initial values that overflowed (a scale like ν = 1e308): a net never starts with ±Infinity. */
function checkInitFinite(name: string, scale: number, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new ArgumentError(name, `a weight scale of ${scale} makes the initial values overflow (value ${i} is ${values[i]})`);
  }
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new ShapeError(name, `must be a positive integer, got ${got(v)}`);
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${got(seed)}`);
}

const TWO_LAYER_OPTIONS: OptionShape = {
  inputDim: 'number', width: 'number', outputDim: 'number', nu: 'number', seed: 'number', trainOutputLayer: 'boolean',
};

const MLP_OPTIONS: OptionShape = {
  sizes: 'array', activation: 'string', bias: 'boolean', init: { kinds: ['string', 'object'], expect: "an init name ('he', 'glorot', 'lecun', 'ntk') or { normal } / { ntk }" },
  seed: 'number', trainable: 'array',
};

/**
 * The most bytes a net's parameters may take: the backend's memory ceiling (2 GiB, the most a
 * 32-bit WASM pointer that stays a non-negative int32 can address).
 */
const MAX_PARAM_BYTES = 2 ** 31;

/**
 * Refuses, before anything is allocated, a net whose parameters alone cannot fit in the backend's
 * memory (an engine would raise a raw RangeError while building the initial values).
 */
function checkModelSize(k: Kernels, values: number): void {
  const ceiling = (k as Kernels & { maxMemoryBytes?: number }).maxMemoryBytes ?? MAX_PARAM_BYTES;
  const bytes = 8 * values, max = Math.min(MAX_PARAM_BYTES, ceiling);
  if (bytes > max) {
    throw new NatgradError('OUT_OF_MEMORY', `out of memory: ${bytes} bytes asked for; a net of ${values} parameters does not fit in the backend's memory (at most ${max} bytes)`);
  }
}
