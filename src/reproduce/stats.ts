/** Small statistics and formatting helpers of the experiments. */
import type { Net } from '../index.js';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Least-squares slope and intercept of log y on log x (natural logs). */
export function logLogFit(x: number[], y: number[]): { slope: number; intercept: number } {
  const lx = x.map(Math.log), ly = y.map(Math.log), mx = mean(lx), my = mean(ly);
  let sxy = 0, sxx = 0;
  for (let i = 0; i < lx.length; i++) { sxy += (lx[i] - mx) * (ly[i] - my); sxx += (lx[i] - mx) ** 2; }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** ‖a‖² */
export const sq = (a: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * a[i]; return s; };

/** r = u(θ) − y on the training inputs. */
export function residual(net: Net, X: Float64Array, Y: Float64Array, n: number): Float64Array {
  const r = net.predict(X, n);
  for (let i = 0; i < r.length; i++) r[i] -= Y[i];
  return r;
}

/**
 * ‖r_k‖²/‖r_0‖² below which a per-step ratio is float64 noise: the residual then
 * sits near 1e-11 relative (‖r‖² near 1e-22), so we stop measuring ratios at 1e-20.
 */
export const FLOOR = 1e-20;

/**
 * Per-step ratios ‖r_{k+1}‖²/‖r_k‖² from a loss history, stopped where the loss
 * falls below FLOOR × the first loss.
 */
export function ratiosAboveFloor(losses: number[]): number[] {
  const out: number[] = [];
  for (let k = 1; k < losses.length; k++) {
    if (losses[k] < FLOOR * losses[0]) break;
    out.push(losses[k] / losses[k - 1]);
  }
  return out;
}

export const fmt = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e4 ? String(Number(x.toPrecision(digits))) : x.toExponential(digits - 1);
};

export const check = (name: string, expected: string, measured: string, pass: boolean) => ({ name, expected, measured, pass });
