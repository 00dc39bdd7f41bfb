/**
 * Bayesian regularisation during training (MacKay 1992; MATLAB's `trainbr`, Foresee & Hagan 1997):
 * the prior precision δ and the noise σ are re-estimated from the evidence once per epoch, and the
 * prior θ ~ N(0, δ⁻¹I) enters training as a regularised Gauss–Newton step on the whole training set.
 *
 * One epoch's update, at the parameters θ the optimizer's steps left (the 'full' Laplace posterior there):
 * 1. MacKay's updates from the Gram's eigenvalues μ_j (the nonzero eigenvalues of JᵀΛJ at unit noise)
 *    at the current δ, σ:
 *      γ = Σ_j μ_j/(μ_j + σ²δ)   (the effective number of parameters),
 *      δ ← γ/‖θ‖²,   σ² ← ‖y − f‖²/(n·k − γ)   (squared error; cross-entropy has no σ).
 * 2. The regularised Gauss–Newton step on E(θ) = L(θ) + (ρ/2)·‖θ‖² with ρ = σ²δ (σ ≡ 1 for cross-entropy),
 *    L the loss summed over examples (E is σ² times the negative log posterior):
 *      Δ = −(J̃ᵀJ̃ + ρI)⁻¹·(∇L + ρθ),
 *    solved through the (n·k)² Gram by Woodbury (never P × P); the step is θ + tΔ for the first
 *    t ∈ {1, ½, …, 1/128} that lowers E, or no step.
 */
import { ArgumentError } from '../errors.js';
import { checkOptions } from '../validate.js';
import { vjp } from '../nn/jacobian.js';
import { softmaxCrossEntropy, squaredError, type Loss } from '../nn/losses.js';
import type { Batch, Net } from '../nn/net.js';
import { laplace } from './laplace.js';

/** The evidence-based regularisation of one epoch of `fit(…, { bayesian: true })`. */
export interface BayesianRecord {
  /** δ after the epoch's update. */
  prior: number;
  /** σ after the update (1 for cross-entropy). */
  noise: number;
  /** γ = Σ μ/(μ + σ²δ), the effective number of parameters, at the update. */
  effectiveParameters: number;
  /** The log marginal likelihood at the new δ, σ and the parameters before the regularised step. */
  logMarginalLikelihood: number;
  /** Step length t of the regularised Gauss–Newton step (0: no step lowered the objective). */
  step: number;
}

/**
 * Runs one epoch's Bayesian regularisation on `net` (in place) and returns the new δ, σ. Needs the
 * 'full' posterior on `data` (n·k small enough for the Gram).
 */
export function bayesianEpoch(net: Net, data: Batch, loss: Loss, prior: number, noise: number): BayesianRecord {
  const gaussian = loss.task === 'regression';
  const post = laplace(net, data, { loss: loss.name, prior, ...(gaussian ? { noise } : {}), structure: 'full' });
  try {
    const gamma = post.mackayUpdate();
    const logML = post.logMarginalLikelihood();
    const rho = post.noise * post.noise * post.prior;
    const { X, Y, n } = data, k = net.outputDim, N = n * k;
    const sum = gaussian ? squaredError() : softmaxCrossEntropy();
    const theta = net.getParams(), P = theta.length;
    const objective = (p: Float64Array): number => {
      let w = 0;
      for (let i = 0; i < P; i++) w += p[i] * p[i];
      net.setParams(p);
      return sum.value(net.predict(X, n), 0, Y, n, k) + 0.5 * rho * w;
    };
    // ∇L = Jᵀ·∂L/∂U (sum reduction), then v = ∇L + ρθ.
    const ug = new Float64Array(2 * N);
    ug.set(net.predict(X, n));
    sum.gradient(ug, 0, Y, n, k, N);
    const v = vjp(net, X, n, ug.subarray(N));
    for (let i = 0; i < P; i++) v[i] += rho * theta[i];
    const delta = post.shiftedSolve(v);
    const before = objective(theta), trial = new Float64Array(P);
    let step = 0;
    for (let t = 1; t >= 1 / 128; t /= 2) {
      for (let i = 0; i < P; i++) trial[i] = theta[i] - t * delta[i];
      const e = objective(trial);
      if (e < before) { step = t; break; }
    }
    net.setParams(step > 0 ? trial : theta);
    return { prior: post.prior, noise: post.noise, effectiveParameters: gamma, logMarginalLikelihood: logML, step };
  } finally {
    post.dispose();
  }
}

/** The initial δ and σ of `bayesian: true | { prior, noise }`, validated. */
export function bayesianStart(option: boolean | { prior?: number; noise?: number }, loss: Loss): { prior: number; noise: number } {
  const o = option === true ? {} : option;
  if (!o || typeof o !== 'object') throw new ArgumentError('bayesian', 'must be true or { prior?, noise? }');
  checkOptions('bayesian', o, { prior: 'number', noise: 'number' }, 'bayesian.');
  const { prior = 1, noise = 1 } = o;
  if (!(typeof prior === 'number' && prior > 0 && Number.isFinite(prior))) throw new ArgumentError('bayesian.prior', `must be a finite number > 0, got ${String(prior)}`);
  if (!(typeof noise === 'number' && noise > 0 && Number.isFinite(noise))) throw new ArgumentError('bayesian.noise', `must be a finite number > 0, got ${String(noise)}`);
  if (o.noise !== undefined && loss.task !== 'regression') throw new ArgumentError('bayesian.noise', 'is the σ of squared error; cross-entropy has none');
  return { prior, noise };
}
