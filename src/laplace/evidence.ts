/**
 * The Laplace log marginal likelihood (the evidence) as a function of the prior precision δ and
 * the noise σ, and its maximiser over (log δ, log σ). Everything here works on numbers the
 * posterior has already reduced the data to:
 * - N = n·k observations, R = ‖y − f(θ*)‖² (squared error) or the summed loss L (cross-entropy),
 * - T = ‖θ*‖² over the parameters the posterior covers,
 * - μ_j, the eigenvalues of the posterior's curvature at unit noise (JᵀΛJ with Λ = I for squared
 *   error; the nonzero ones suffice, so the 'full' structure gives the n·k eigenvalues of the Gram).
 *
 * With s = σ²δ:
 *   log Z(δ, σ) = log p(y | θ*) − (δ/2)·T − ½·Σ_j log(1 + μ_j/s),
 *   log p(y | θ*) = −R/(2σ²) − (N/2)·log(2πσ²)   (squared error),   −L   (cross-entropy).
 * In u = log δ, v = log σ this is strictly concave when T > 0 and R > 0 (its Hessian is
 * −[[T·δ/2 + κ/2, κ], [κ, 2R/σ² + 2κ]] with κ = s·Σ μ_j/(μ_j + s)² ≥ 0), so Newton's method with
 * a backtracking line search finds the one maximiser. Its stationarity conditions are MacKay's
 * updates: δ = γ/T and σ² = R/(N − γ), γ = Σ_j μ_j/(μ_j + s) the effective number of parameters.
 */
import { ConvergenceError } from '../errors.js';

/** What the evidence depends on besides δ and σ. */
export interface EvidenceTerms {
  /** 'gaussian' (squared error: σ enters) or 'categorical' (cross-entropy: σ ≡ 1). */
  likelihood: 'gaussian' | 'categorical';
  /** N = n·k, the number of observed values. */
  count: number;
  /** R = ‖y − f‖² (gaussian) or L = −log p(y | θ*) (categorical). */
  misfit: number;
  /** T = ‖θ*‖² over the parameters the posterior covers. */
  weightNormSq: number;
}

/** log p(y | θ*) at noise σ. */
export function logLikelihood(t: EvidenceTerms, sigma: number): number {
  if (t.likelihood === 'categorical') return -t.misfit;
  return -t.misfit / (2 * sigma * sigma) - (t.count / 2) * Math.log(2 * Math.PI * sigma * sigma);
}

/** Σ_j log(1 + μ_j/s) = log det(I + M/s) for the curvature M with eigenvalues μ. */
export function logDetFromSpectrum(mu: Float64Array, s: number): number {
  let acc = 0;
  for (let j = 0; j < mu.length; j++) acc += Math.log1p(mu[j] / s);
  return acc;
}

/** The log marginal likelihood from its parts: log p(y | θ*) − (δ/2)·T − ½·logDet. */
export function logEvidence(t: EvidenceTerms, delta: number, sigma: number, logDet: number): number {
  return logLikelihood(t, sigma) - 0.5 * delta * t.weightNormSq - 0.5 * logDet;
}

/** γ = Σ μ/(μ + s), the effective number of parameters, and κ = s·Σ μ/(μ + s)². */
export function effectiveParameters(mu: Float64Array, s: number): { gamma: number; kappa: number } {
  let gamma = 0, kappa = 0;
  for (let j = 0; j < mu.length; j++) {
    const r = mu[j] / (mu[j] + s);
    gamma += r;
    kappa += r / (mu[j] + s);
  }
  return { gamma, kappa: kappa * s };
}

/** Options of {@link maximizeEvidence}. */
export interface EvidenceSearch {
  /** Tune δ. */
  prior: boolean;
  /** Tune σ (gaussian only). */
  noise: boolean;
  /** Newton iterations at most. */
  steps: number;
}

/** Largest |log δ|, |log σ| the search may reach: beyond it the maximiser is taken not to exist. */
const LOG_BOUND = 60;

/**
 * Maximises log Z over (log δ, log σ) from the starting values by Newton's method with a backtracking
 * (Armijo) line search; returns the maximiser and the iterations used. Throws ConvergenceError when
 * the iterations run out or the search leaves e^±60 (no finite maximiser: T = 0, or R = 0 with σ tuned).
 */
export function maximizeEvidence(t: EvidenceTerms, mu: Float64Array, delta0: number, sigma0: number, search: EvidenceSearch): { delta: number; sigma: number; steps: number } {
  const tuneB = search.noise && t.likelihood === 'gaussian';
  const tuneA = search.prior;
  let a = Math.log(delta0), b = Math.log(sigma0);
  const value = (ua: number, ub: number): number => {
    const d = Math.exp(ua), sg = Math.exp(ub);
    return logEvidence(t, d, sg, logDetFromSpectrum(mu, d * sg * sg));
  };
  let f = value(a, b);
  for (let it = 0; it < search.steps; it++) {
    const d = Math.exp(a), s = d * Math.exp(2 * b);
    const { gamma, kappa } = effectiveParameters(mu, s);
    const ga = tuneA ? -0.5 * t.weightNormSq * d + 0.5 * gamma : 0;
    const gb = tuneB ? t.misfit * Math.exp(-2 * b) - t.count + gamma : 0;
    const haa = -0.5 * t.weightNormSq * d - 0.5 * kappa;
    const hab = -kappa;
    const hbb = -2 * t.misfit * Math.exp(-2 * b) - 2 * kappa;
    let da = 0, db = 0;
    if (tuneA && tuneB) {
      const det = haa * hbb - hab * hab;
      da = -(hbb * ga - hab * gb) / det;
      db = -(-hab * ga + haa * gb) / det;
    } else if (tuneA) {
      da = -ga / haa;
    } else if (tuneB) {
      db = -gb / hbb;
    }
    // gᵀΔ = −gᵀH⁻¹g ≥ 0: the Newton decrement; half of it estimates how far log Z is below its maximum.
    const decrement = ga * da + gb * db;
    if (!(decrement >= 0) || !Number.isFinite(decrement)) break;
    if (decrement / 2 <= 1e-13 * (1 + Math.abs(f))) return { delta: d, sigma: Math.exp(b), steps: it };
    const scale = Math.min(1, 5 / Math.max(Math.abs(da), Math.abs(db)));
    let step = scale, next = f, na = a, nb = b;
    for (let tries = 0; tries < 60; tries++) {
      na = a + step * da; nb = b + step * db;
      next = value(na, nb);
      if (next >= f + 1e-4 * step * decrement) break;
      step /= 2;
    }
    if (!(next >= f)) break;
    a = na; b = nb; f = next;
    if (Math.abs(a) > LOG_BOUND || Math.abs(b) > LOG_BOUND) {
      throw new ConvergenceError(`laplace: optimize() found no finite maximiser of the log marginal likelihood (it rises without bound as ${Math.abs(a) > LOG_BOUND ? 'δ' : 'σ'} → ${(Math.abs(a) > LOG_BOUND ? a : b) > 0 ? '∞' : '0'}: ‖θ*‖ = ${Math.sqrt(t.weightNormSq)}, misfit ${t.misfit}); δ and σ were left unchanged`);
    }
  }
  // One last check: the line search may stall only at the maximiser (to rounding).
  const d = Math.exp(a), s = d * Math.exp(2 * b);
  const { gamma } = effectiveParameters(mu, s);
  const ga = tuneA ? -0.5 * t.weightNormSq * d + 0.5 * gamma : 0;
  const gb = tuneB ? t.misfit * Math.exp(-2 * b) - t.count + gamma : 0;
  const scaleA = 0.5 * t.weightNormSq * d + 0.5 * gamma + 1, scaleB = t.misfit * Math.exp(-2 * b) + t.count + 1;
  if (Math.abs(ga) <= 1e-8 * scaleA && Math.abs(gb) <= 1e-8 * scaleB) return { delta: d, sigma: Math.exp(b), steps: search.steps };
  throw new ConvergenceError(`laplace: optimize() did not converge in ${search.steps} Newton steps (gradient ${ga}, ${gb} in log δ, log σ); δ and σ were left unchanged`);
}
