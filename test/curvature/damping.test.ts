import {
  clampDamping, LEVENBERG_MARQUARDT_DEFAULTS, levenbergMarquardt, piDamping, resolveLevenbergMarquardt,
} from '../../src/curvature/damping';
import { emaStep } from '../../src/curvature/ema';
import { ArgumentError } from '../../src/errors';

describe('piDamping', () => {
  test('π from mean traces; the factor dampings multiply to λ', () => {
    const r = piDamping(12, 3, 10, 5, 0.09); // means 4 and 2
    expect(r.pi).toBeCloseTo(Math.SQRT2, 15);
    expect(r.dampingA).toBeCloseTo(Math.SQRT2 * 0.3, 15);
    expect(r.dampingS).toBeCloseTo(0.3 / Math.SQRT2, 15);
    expect(r.dampingA * r.dampingS).toBeCloseTo(0.09, 15);
  });

  test('rescaling (A, S) → (tA, S/t) scales π by t and keeps each damped factor proportional', () => {
    const base = piDamping(7, 4, 3, 2, 0.5), t = 13;
    const scaled = piDamping(7 * t, 4, 3 / t, 2, 0.5);
    expect(scaled.pi / base.pi).toBeCloseTo(t, 12);
    expect(scaled.dampingA / base.dampingA).toBeCloseTo(t, 12);
    expect(scaled.dampingS / base.dampingS).toBeCloseTo(1 / t, 12);
  });

  test('a zero, infinite or NaN trace falls back to π = 1', () => {
    for (const [ta, ts] of [[0, 3], [3, 0], [0, 0], [Infinity, 1], [1, NaN]]) {
      const r = piDamping(ta, 2, ts, 2, 0.04);
      expect(r.pi).toBe(1);
      expect(r.dampingA).toBeCloseTo(0.2, 15);
      expect(r.dampingS).toBeCloseTo(0.2, 15);
    }
  });

  test('λ = 0 gives zero damping; negative λ is refused', () => {
    const r = piDamping(1, 1, 4, 1, 0);
    expect(r.dampingA).toBe(0);
    expect(r.dampingS).toBe(0);
    expect(() => piDamping(1, 1, 1, 1, -1)).toThrow(ArgumentError);
  });
});

describe('levenbergMarquardt', () => {
  test('raises below 0.25, lowers above 0.75, keeps in between', () => {
    expect(levenbergMarquardt(1, 0.1)).toBe(1.5);
    expect(levenbergMarquardt(1, -3)).toBe(1.5);
    expect(levenbergMarquardt(1, 0.9)).toBeCloseTo(2 / 3, 15);
    expect(levenbergMarquardt(1, 0.5)).toBe(1);
    expect(levenbergMarquardt(1, 0.25)).toBe(1);
    expect(levenbergMarquardt(1, 0.75)).toBe(1);
  });

  test('NaN ρ (a step that produced a NaN loss) raises λ', () => {
    expect(levenbergMarquardt(2, NaN)).toBe(3);
  });

  test("accepts the NGD optimizer's option object (extra step-rejection fields ignored)", () => {
    const ngdOptions = { lower: 0.25, upper: 0.75, increase: 2, decrease: 0.5, boost: 10, min: 1e-8, max: 1e8, maxRetries: 10 };
    expect(levenbergMarquardt(1, 0, ngdOptions)).toBe(2);
    expect(levenbergMarquardt(1, 1, ngdOptions)).toBe(0.5);
  });

  test('clamps to [min, max], including from λ = 0', () => {
    expect(levenbergMarquardt(1e-8, 0.99)).toBe(1e-8);
    expect(levenbergMarquardt(1e8, 0)).toBe(1e8);
    expect(levenbergMarquardt(0, 0, { min: 1e-6 })).toBe(1e-6);
    expect(levenbergMarquardt(5, 0.9, { min: 4, decrease: 0.5 })).toBe(4);
  });

  test('custom thresholds and factor', () => {
    const o = { lower: 0.1, upper: 0.5, increase: 10, decrease: 0.1 };
    expect(levenbergMarquardt(1, 0.2, o)).toBe(1);
    expect(levenbergMarquardt(1, 0.6, o)).toBeCloseTo(0.1, 15);
    expect(levenbergMarquardt(1, 0.05, o)).toBe(10);
  });

  test('refuses bad options', () => {
    expect(() => levenbergMarquardt(1, 0.5, { increase: 1 })).toThrow(ArgumentError);
    expect(() => levenbergMarquardt(1, 0.5, { decrease: 1 })).toThrow(ArgumentError);
    expect(() => levenbergMarquardt(1, 0.5, { lower: 0.8, upper: 0.2 })).toThrow(ArgumentError);
    expect(() => levenbergMarquardt(1, 0.5, { min: 2, max: 1 })).toThrow(ArgumentError);
    expect(() => levenbergMarquardt(-1, 0.5)).toThrow(ArgumentError);
  });
});

describe('emaStep', () => {
  test('the first step takes the batch whole; weights follow w ← decay·w + 1', () => {
    const s = emaStep(0.95, 0);
    expect(s).toEqual({ weight: 1, oldScale: 0, newScale: 1 });
    const t = emaStep(0.95, 1);
    expect(t.weight).toBeCloseTo(1.95, 15);
    expect(t.oldScale + t.newScale).toBeCloseTo(1, 15);
  });

  test('scalar closed form: Σ decay^(k−j) x_j / Σ decay^(k−j)', () => {
    const xs = [3, -1, 4, 1, 5], decay = 0.8;
    let w = 0, f = 0;
    for (const x of xs) {
      const s = emaStep(decay, w);
      f = s.oldScale * f + s.newScale * x;
      w = s.weight;
    }
    let num = 0, den = 0;
    xs.forEach((x, j) => { const c = decay ** (xs.length - 1 - j); num += c * x; den += c; });
    expect(f).toBeCloseTo(num / den, 14);
    expect(w).toBeCloseTo(den, 14);
  });

  test('decay outside [0, 1] is refused', () => {
    expect(() => emaStep(-0.1, 0)).toThrow(ArgumentError);
    expect(() => emaStep(1.01, 0)).toThrow(ArgumentError);
    expect(() => emaStep(NaN, 0)).toThrow(ArgumentError);
  });
});

describe('resolveLevenbergMarquardt', () => {
  test('fills the defaults, keeps a caller\'s extra fields, and names a bad field as adaptive.<field>', () => {
    const lm = resolveLevenbergMarquardt({ boost: 4 }, { ...LEVENBERG_MARQUARDT_DEFAULTS, every: 3 });
    expect(lm).toEqual({ ...LEVENBERG_MARQUARDT_DEFAULTS, boost: 4, every: 3 });
    expect(resolveLevenbergMarquardt(true, { ...LEVENBERG_MARQUARDT_DEFAULTS })).toEqual(LEVENBERG_MARQUARDT_DEFAULTS);
    for (const [bad, name] of [
      [{ boost: 1 }, 'boost'], [{ increase: Infinity }, 'increase'], [{ decrease: 1 }, 'decrease'], [{ lower: 0.8, upper: 0.5 }, 'lower'],
      [{ min: -1 }, 'min'], [{ max: 1e-9 }, 'max'], [{ maxRetries: 1.5 }, 'maxRetries'],
    ] as const) {
      expect(() => resolveLevenbergMarquardt(bad, { ...LEVENBERG_MARQUARDT_DEFAULTS })).toThrow(ArgumentError);
      expect(() => resolveLevenbergMarquardt(bad, { ...LEVENBERG_MARQUARDT_DEFAULTS })).toThrow(new RegExp(`^adaptive\\.${name}:`));
    }
    expect(clampDamping(1e9, lm)).toBe(1e8);
    expect(clampDamping(0, lm)).toBe(1e-8);
  });
});
