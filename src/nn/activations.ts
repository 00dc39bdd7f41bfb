/**
 * Elementwise activations φ and their derivatives φ′, both as functions of the
 * pre-activation z. ReLU, the paper's activation, runs as a kernel (`relu`,
 * `reluMask`: WASM SIMD or the plain-TypeScript reference); the others run in
 * TypeScript over views of the backend's memory. O(n·width) work, the same calls
 * on both backends.
 */
import { ArgumentError } from '../errors.js';
import type { Kernels, Ptr } from '../kernels/types.js';

/** The activation functions a dense layer can apply to its pre-activations. */
export type ActivationName = 'relu' | 'leaky-relu' | 'tanh' | 'sigmoid' | 'softplus' | 'gelu' | 'identity';

/** An activation: value and derivative at a pre-activation z. */
export interface Activation {
  /** Its name. */
  readonly name: ActivationName;
  /** φ(z). */
  f(z: number): number;
  /** φ′(z). */
  df(z: number): number;
}

// Module-level aliases: some hosts (jest's vm contexts) make every global `Math.` lookup in a hot loop slow.
const { abs, exp, log1p, max, sqrt, tanh, PI } = Math;

/** Slope of leaky-relu for z < 0. */
export const LEAKY_SLOPE = 0.01;

const GELU_C = sqrt(2 / PI);

function sigmoid(z: number): number {
  // Two branches keep exp's argument ≤ 0, so neither overflows.
  if (z >= 0) return 1 / (1 + exp(-z));
  const e = exp(z);
  return e / (1 + e);
}

const ACTIVATIONS: Record<ActivationName, Activation> = {
  // The derivative at 0 is taken as 1, the paper's 1{wᵀx ≥ 0}.
  relu: { name: 'relu', f: (z) => (z > 0 ? z : 0), df: (z) => (z >= 0 ? 1 : 0) },
  'leaky-relu': { name: 'leaky-relu', f: (z) => (z > 0 ? z : LEAKY_SLOPE * z), df: (z) => (z >= 0 ? 1 : LEAKY_SLOPE) },
  tanh: { name: 'tanh', f: tanh, df: (z) => { const t = tanh(z); return 1 - t * t; } },
  sigmoid: { name: 'sigmoid', f: sigmoid, df: (z) => { const s = sigmoid(z); return s * (1 - s); } },
  // log(1 + eᶻ) written so that neither branch overflows or loses precision.
  softplus: { name: 'softplus', f: (z) => max(z, 0) + log1p(exp(-abs(z))), df: sigmoid },
  // The tanh approximation ½z(1 + tanh(√(2/π)(z + 0.044715z³))), and its exact derivative.
  gelu: {
    name: 'gelu',
    f: (z) => 0.5 * z * (1 + tanh(GELU_C * (z + 0.044715 * z * z * z))),
    df: (z) => {
      const t = tanh(GELU_C * (z + 0.044715 * z * z * z));
      return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * z * z);
    },
  },
  identity: { name: 'identity', f: (z) => z, df: () => 1 },
};

/** The activation called `name`; ArgumentError naming `argument` for an unknown one. */
export function activation(name: ActivationName, argument = 'activation'): Activation {
  const a = Object.prototype.hasOwnProperty.call(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
  if (!a) throw new ArgumentError(argument, `unknown activation '${String(name)}'; expected one of ${Object.keys(ACTIVATIONS).join(', ')}`);
  return a;
}

/**
 * dst[i·ldd + j] = scale·φ(src[i·lds + j]) for an n×m block of k's memory (byte
 * pointers). ReLU and identity get their own paths: they are the paper's and the
 * output layer's; ReLU is the `relu` kernel, which computes (scale·z)·[z > 0].
 * With `masks` (a byte pointer, ReLU only) the same pass also packs the mask [z ≥ 0]
 * there (the `reluPack` kernel, n rows of ⌈m/64⌉ 64-bit words); returns whether it did.
 */
export function applyActivation(kernels: Kernels, act: Activation, n: number, m: number,
  srcPtr: Ptr, lds: number, scale: number, dstPtr: Ptr, ldd: number, masks: Ptr = 0): boolean {
  if (act.name === 'relu') {
    if (masks !== 0) kernels.reluPack(n, m, srcPtr, lds, scale, dstPtr, ldd, masks);
    else kernels.relu(n, m, srcPtr, lds, scale, dstPtr, ldd);
    return masks !== 0;
  }
  const h = kernels.f64(), src = srcPtr >> 3, dst = dstPtr >> 3;
  if (act.name === 'identity') {
    for (let i = 0; i < n; i++) {
      const s = src + i * lds, d = dst + i * ldd;
      for (let j = 0; j < m; j++) h[d + j] = scale * h[s + j];
    }
  } else {
    const f = act.f;
    for (let i = 0; i < n; i++) {
      const s = src + i * lds, d = dst + i * ldd;
      for (let j = 0; j < m; j++) h[d + j] = scale * f(h[s + j]);
    }
  }
  return false;
}

/**
 * Multiplies each row r of the (n·q)×m block at byte pointer `bPtr` by φ′ of row
 * ⌊r/q⌋ of the n×m pre-activations at `zPtr` (both in k's memory, contiguous):
 * back-propagation through φ for q stacked rows per example. ReLU is the
 * `reluMask` kernel (NaN in z masks like z < 0).
 */
export function scaleByDerivative(kernels: Kernels, act: Activation, n: number, q: number, m: number,
  zPtr: Ptr, bPtr: Ptr): void {
  if (act.name === 'identity') return;
  if (act.name === 'relu') {
    kernels.reluMask(n, q, m, zPtr, bPtr);
    return;
  }
  const h = kernels.f64(), z = zPtr >> 3, b = bPtr >> 3;
  const df = act.df;
  for (let i = 0; i < n; i++) {
    const zi = z + i * m;
    for (let c = 0; c < q; c++) {
      const br = b + (i * q + c) * m;
      for (let j = 0; j < m; j++) h[br + j] *= df(h[zi + j]);
    }
  }
}
