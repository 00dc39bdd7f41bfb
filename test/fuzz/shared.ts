/** Nets and oracles shared by the fuzz properties. */
import fc from 'fast-check';
import { mlp, twoLayerReLU, type Net } from '../../src/index';

export const isDim = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
export const finite = (a: ArrayLike<number>): boolean => { for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false; return true; };
export const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])))) return false;
  return true;
};

/** A small valid net drawn from `spec` (the nets the method properties call into). */
export const netSpecArb = fc.record({
  kind: fc.constantFrom('two-layer', 'mlp'),
  d: fc.integer({ min: 1, max: 4 }), h: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 1, max: 3 }),
  activation: fc.constantFrom('relu', 'tanh', 'gelu', 'sigmoid'), seed: fc.nat(1000),
});

export function makeNet(s: { kind: string; d: number; h: number; k: number; activation: string; seed: number }): Net {
  return s.kind === 'two-layer'
    ? twoLayerReLU({ inputDim: s.d, width: s.h, outputDim: s.k, seed: s.seed, trainOutputLayer: s.seed % 2 === 0 })
    : mlp({ sizes: [s.d, s.h, s.k], activation: s.activation as 'relu', seed: s.seed });
}

/** Plain-loop losses: ½Σ(u − y)² and Σ −log softmax(u)_y (or the mean). */
export function naiveLoss(name: string, reduction: string, U: Float64Array, Y: Float64Array, n: number, k: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (name === 'squared-error') {
      for (let j = 0; j < k; j++) s += 0.5 * (U[i * k + j] - Y[i * k + j]) ** 2;
    } else {
      const row = Array.from(U.subarray(i * k, (i + 1) * k)), max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, u) => a + Math.exp(u - max), 0));
      if (Y.length === n) s += lse - row[Y[i]];
      else for (let j = 0; j < k; j++) s += Y[i * k + j] * (lse - row[j]);
    }
  }
  return reduction === 'mean' ? s / n : s;
}

