/**
 * The Laplace approximation of a trained network's posterior, and its linearised (GLM) predictive.
 *
 * ## Conventions (a contract; docs/laplace.md states the same)
 * - Likelihood, squared error: y ~ N(f(x; θ), σ²) for each of the k outputs, summed over the n examples
 *   (the loss's reduction is ignored: the likelihood is a sum). Cross-entropy: y ~ Categorical(softmax f).
 * - Prior: θ ~ N(0, δ⁻¹I) over the trainable parameters (frozen layers are constants).
 * - Posterior at θ* (the net's parameters when `laplace` is called): N(θ*, H⁻¹) with
 *   H = JᵀΛJ + δI, the generalised Gauss–Newton (GGN) precision; Λ = I/σ² for squared error and the
 *   softmax Hessian diag(p) − ppᵀ of each example for cross-entropy. J = ∂f/∂θ ((n·k) × P).
 * - Predictive at x*: mean f(x*; θ*), function variance diag(J* H⁻¹ J*ᵀ) (the linearised network);
 *   the predictive variance adds σ² (squared error). For cross-entropy the class probabilities are the
 *   probit approximation softmax(f/√(1 + π/8·diag(J*H⁻¹J*ᵀ))) or a Monte-Carlo average of softmax(f̃)
 *   over f̃ ~ N(f(x*), J*H⁻¹J*ᵀ).
 * - Log marginal likelihood (squared error):
 *     −‖y − f‖²/(2σ²) − (n·k/2)·log(2πσ²) − (δ/2)·‖θ*‖² − ½·log det(I + JJᵀ/(σ²δ));
 *   cross-entropy: −L(θ*) − (δ/2)·‖θ*‖² − ½·log det(I + J̃J̃ᵀ/δ), J̃ the rows with J̃ᵀJ̃ = JᵀΛJ.
 *   ('full' computes the determinant through the (n·k)² Gram; the other structures use their own
 *   approximation of JᵀΛJ in place of the exact one, and 'last-layer' counts only the last layer's θ.)
 */
import type { Kernels } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import { ArgumentError, OutOfMemoryError, StateError } from '../errors.js';
import { seedIdentity } from '../nn/jacobian.js';
import { resolveLoss, softmaxCrossEntropy, squaredError, type Loss, type LossSpec } from '../nn/losses.js';
import { Capture, type Batch, type Net } from '../nn/net.js';
import { Rng } from '../nn/random.js';
import { checkDim, checkOneOf, checkOptions, checkPositive, checkPositiveInteger, describeValue } from '../validate.js';
import { effectiveParameters, logEvidence, maximizeEvidence, type EvidenceTerms } from './evidence.js';
import {
  FactoredForm, FullForm, LastLayerForm, rowsWidth, type FactoredFactors, type LastLayerFactors, type PosteriorForm, type ResolvedStructure,
} from './forms.js';

/** How the posterior's precision is represented; see {@link LaplaceOptions.structure}. */
export type LaplaceStructure = 'auto' | 'full' | 'kfac' | 'diagonal' | 'last-layer';

/** Options of {@link laplace}. */
export interface LaplaceOptions {
  /** The likelihood: 'squared-error' (default, Gaussian noise σ) or 'cross-entropy' (softmax); a Loss object counts by its task (regression: Gaussian, classification: softmax). */
  loss?: LossSpec;
  /** δ > 0, the prior precision: θ ~ N(0, δ⁻¹I) (default 1). */
  prior?: number;
  /** σ > 0, the noise standard deviation of squared error (default 1); not an option of cross-entropy. */
  noise?: number;
  /**
   * How H = JᵀΛJ + δI is held:
   * - 'full': every weight, exactly, through the (n·k) × (n·k) Gram J̃J̃ᵀ and Woodbury's identity (never P × P);
   *   memory about 3·(n·k)² values;
   * - 'kfac': per layer S ⊗ A (K-FAC's factors in their eigenbases); a layer kind without Kronecker
   *   structure (not dense, see `registerLayer`) gets the diagonal block of its Jacobian rows;
   * - 'diagonal': the diagonal of JᵀΛJ;
   * - 'last-layer': the exact GGN of the output layer's weights only (the others fixed at θ*), (k·(h+1))² values;
   *   needs a dense output layer.
   * 'full', 'kfac' and 'diagonal' take any kind of layer through the layer seam (its Jacobian rows).
   * - 'auto' (default): 'full' while n·k ≤ 2048 and it fits in a quarter of the backend's memory, else 'kfac'
   *   when every layer is at most 2048 wide, else 'diagonal'.
   */
  structure?: LaplaceStructure;
}

/** What {@link LaplacePosterior.predict} returns: n × k row-major arrays. */
export interface LaplacePrediction {
  /** f(x; θ*), the network's outputs. */
  mean: Float64Array;
  /** Var f: diag(J* H⁻¹ J*ᵀ) per input and output. */
  functionVariance: Float64Array;
  /** functionVariance + σ² (squared error); the function variance itself for cross-entropy logits. */
  variance: Float64Array;
}

const OPTIONS = {
  loss: { kinds: ['string', 'object', 'instance'], expect: "'squared-error', 'cross-entropy' or a Loss" },
  prior: 'number', noise: 'number', structure: 'string',
} as const;

/** Values of backend memory a predict chunk may use (16 MiB). */
const CHUNK_VALUES = 1 << 21;

/** 'auto' chooses 'full' up to this n·k and 'kfac' up to this layer width. */
const AUTO_LIMIT = 2048;

/**
 * A Laplace posterior over a network's weights, from {@link laplace}. It keeps what prediction needs
 * (the training pass at θ*, the structure's factors) in the backend's memory: call {@link dispose}.
 * Every method evaluates the network at θ*, the parameters it had when the posterior was fitted
 * (setting them for the call and putting the current ones back when they have changed since).
 *
 * @example
 * const post = laplace(net, { X, Y, n });
 * post.optimize();
 * const { mean, variance } = post.predict(Xtest, nTest);
 * post.dispose();
 */
export class LaplacePosterior {
  private readonly kernels: Kernels;
  private readonly loss: Loss;
  private readonly terms: EvidenceTerms;
  private readonly thetaStar: Float64Array;
  private test: Capture | undefined;
  private delta: number;
  private sigma: number;
  private closed = false;

  /** @internal use {@link laplace} (`cap`: the training pass; none for a posterior restored from saved factors) */
  constructor(
    private readonly net: Net,
    private readonly cap: Capture | undefined,
    private readonly form: PosteriorForm,
    loss: Loss, terms: EvidenceTerms, delta: number, sigma: number,
  ) {
    this.kernels = net.kernels;
    this.loss = loss;
    this.terms = terms;
    this.delta = delta;
    this.sigma = sigma;
    this.thetaStar = net.getParams();
    form.setScale(delta, sigma * sigma);
  }

  /** The structure in use ('auto' resolved). */
  get structure(): Exclude<LaplaceStructure, 'auto'> {
    return this.form.structure;
  }

  /** δ, the prior precision (changed by {@link optimize}). */
  get prior(): number {
    return this.delta;
  }

  /** σ, the noise standard deviation (1 for cross-entropy). */
  get noise(): number {
    return this.sigma;
  }

  /** 'squared-error' or 'cross-entropy'. */
  get likelihood(): Loss['name'] {
    return this.loss.name;
  }

  /**
   * The linearised predictive at n inputs X (n × inputDim row-major): mean f(x; θ*), function variance
   * diag(J* H⁻¹ J*ᵀ) and predictive variance (+ σ² for squared error), each n × k row-major.
   *
   * @param X the inputs, n × inputDim row-major
   * @param n the number of inputs
   * @example
   * const post = laplace(net, { X, Y, n }, { prior: 1, noise: 0.1 });
   * const { mean, variance } = post.predict(Xtest, nTest);
   */
  predict(X: Float64Array, n: number): LaplacePrediction {
    const { mean, cov } = this.moments(X, n);
    const k = this.net.outputDim, fv = new Float64Array(n * k), v = new Float64Array(n * k);
    const noise = this.terms.likelihood === 'gaussian' ? this.sigma * this.sigma : 0;
    for (let t = 0; t < n; t++) {
      for (let c = 0; c < k; c++) {
        fv[t * k + c] = Math.max(cov[t * k * k + c * k + c], 0);
        v[t * k + c] = fv[t * k + c] + noise;
      }
    }
    return { mean, functionVariance: fv, variance: v };
  }

  /**
   * Class probabilities (n × k row-major) of a cross-entropy posterior at n inputs: 'probit' (default)
   * softmax(f/√(1 + π/8·Var f)) per class, or 'mc' the average of softmax(f̃) over `samples` (default 100)
   * draws f̃ ~ N(f, J*H⁻¹J*ᵀ) from `seed` (default 0).
   *
   * @param X the inputs, n × inputDim row-major
   * @param n the number of inputs
   * @param options the method, and the draws of 'mc'
   * @example
   * const post = laplace(net, { X, Y: labels, n }, { loss: 'cross-entropy' });
   * const p = post.predictProba(Xtest, nTest);              // probit
   */
  predictProba(X: Float64Array, n: number, options: {
    /** 'probit' (default) or 'mc'. */
    method?: 'probit' | 'mc';
    /** Draws of 'mc' (default 100). */
    samples?: number;
    /** Seed of 'mc' (default 0). */
    seed?: number;
  } = {}): Float64Array {
    checkOptions('predictProba()', options, { method: 'string', samples: 'number', seed: 'number' });
    const { method = 'probit', samples = 100, seed = 0 } = options ?? {};
    checkOneOf('method', method, ['probit', 'mc']);
    checkPositiveInteger('samples', samples);
    if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${describeValue(seed)}`);
    if (this.terms.likelihood !== 'categorical') {
      throw new ArgumentError('predictProba', "needs a cross-entropy posterior; a squared-error posterior's predictive is predict()");
    }
    const { mean, cov } = this.moments(X, n);
    const k = this.net.outputDim, out = new Float64Array(n * k), f = new Float64Array(k);
    if (method === 'probit') {
      for (let t = 0; t < n; t++) {
        for (let c = 0; c < k; c++) f[c] = mean[t * k + c] / Math.sqrt(1 + (Math.PI / 8) * Math.max(cov[t * k * k + c * k + c], 0));
        softmaxInto(f, out, t * k);
      }
      return out;
    }
    const rng = new Rng(seed), L = new Float64Array(k * k), z = new Float64Array(k), p = new Float64Array(k);
    for (let t = 0; t < n; t++) {
      choleskySemidefinite(cov.subarray(t * k * k, (t + 1) * k * k), k, L);
      for (let s = 0; s < samples; s++) {
        for (let c = 0; c < k; c++) z[c] = rng.normal();
        for (let c = 0; c < k; c++) {
          let v = mean[t * k + c];
          for (let j = 0; j <= c; j++) v += L[c * k + j] * z[j];
          f[c] = v;
        }
        softmaxInto(f, p, 0);
        for (let c = 0; c < k; c++) out[t * k + c] += p[c] / samples;
      }
    }
    return out;
  }

  /**
   * The Laplace log marginal likelihood at the current δ and σ (see the module's conventions): for squared
   * error −‖y − f‖²/(2σ²) − (n·k/2)·log(2πσ²) − (δ/2)·‖θ*‖² − ½·log det(I + JJᵀ/(σ²δ)).
   *
   * @example
   * const before = post.logMarginalLikelihood();
   * post.optimize();
   * post.logMarginalLikelihood() >= before; // true
   */
  logMarginalLikelihood(): number {
    this.live();
    return logEvidence(this.terms, this.delta, this.sigma, this.form.logDet());
  }

  /**
   * Maximises the log marginal likelihood over log δ (`prior`, default true) and log σ (`noise`, default
   * true for squared error; cross-entropy has no σ) by Newton's method on the closed form in the curvature's
   * eigenvalues (for 'full', the n·k eigenvalues of the Gram); the objective is concave in (log δ, log σ),
   * so the maximiser it reports is the global one. Sets δ and σ and returns them with the value reached.
   * Throws ConvergenceError (δ, σ unchanged) when there is no finite maximiser or `steps` (default 100)
   * iterations do not reach it.
   *
   * @param options which of δ and σ to tune, and the iteration limit
   * @example
   * const { prior, noise } = post.optimize();
   */
  optimize(options: {
    /** Tune δ (default true). */
    prior?: boolean;
    /** Tune σ (default true for squared error). */
    noise?: boolean;
    /** Newton iterations at most (default 100). */
    steps?: number;
  } = {}): {
    /** δ reached. */
    prior: number;
    /** σ reached (1 for cross-entropy). */
    noise: number;
    /** log Z at the new δ, σ. */
    logMarginalLikelihood: number;
    /** Newton iterations used. */
    steps: number;
  } {
    this.live();
    checkOptions('optimize()', options, { prior: 'boolean', noise: 'boolean', steps: 'number' });
    const gaussian = this.terms.likelihood === 'gaussian';
    const { prior = true, noise = gaussian, steps = 100 } = options ?? {};
    checkPositiveInteger('steps', steps);
    if (noise && !gaussian) throw new ArgumentError('noise', 'cross-entropy has no noise σ to tune');
    const res = maximizeEvidence(this.terms, this.form.spectrum(), this.delta, this.sigma, { prior, noise, steps });
    this.rescale(res.delta, res.sigma);
    return { prior: this.delta, noise: this.sigma, logMarginalLikelihood: this.logMarginalLikelihood(), steps: res.steps };
  }

  /**
   * `count` draws θ ~ N(θ*, H⁻¹) as a count × numParams row-major array (flat parameter layout; under
   * 'last-layer' only the output layer's block varies). Seeded (default 0).
   *
   * @param count the number of draws
   * @param seed the generator's seed
   * @example
   * const draws = post.sample(10, 1);
   * net.setParams(draws.subarray(0, net.numParams)); // one plausible network
   */
  sample(count: number, seed = 0): Float64Array {
    this.live();
    checkPositiveInteger('count', count);
    if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${describeValue(seed)}`);
    const P = this.net.numParams, out = new Float64Array(count * P), rng = new Rng(seed), eps = new Float64Array(P);
    this.atMode(() => {
      for (let s = 0; s < count; s++) {
        this.form.sample(rng, eps);
        for (let i = 0; i < P; i++) out[s * P + i] = this.thetaStar[i] + eps[i];
      }
    });
    return out;
  }

  /**
   * One MacKay update of δ and σ at θ*: γ = Σ_j μ_j/(μ_j + σ²δ), δ ← γ/‖θ*‖², σ² ← ‖y − f‖²/(n·k − γ) (squared
   * error; a zero ‖θ*‖ or residual keeps the old value). Returns γ. fit's `bayesian` mode.
   * @internal
   */
  mackayUpdate(): number {
    this.live();
    const t = this.terms, { gamma } = effectiveParameters(this.form.spectrum(), this.sigma * this.sigma * this.delta);
    let delta = this.delta, sigma = this.sigma;
    if (t.weightNormSq > 0 && gamma > 0) delta = gamma / t.weightNormSq;
    if (t.likelihood === 'gaussian' && t.misfit > 0 && t.count > gamma) sigma = Math.sqrt(t.misfit / (t.count - gamma));
    this.rescale(delta, sigma);
    return gamma;
  }

  /**
   * What a saved posterior holds besides the training data of 'full': the evidence's terms, and the
   * factors of 'kfac', 'diagonal' and 'last-layer' (copies). See src/cli/posterior-file.ts.
   * @internal
   */
  savedState(): { terms: EvidenceTerms; factors?: FactoredFactors | LastLayerFactors } {
    this.live();
    const form = this.form;
    const factors = form instanceof FactoredForm || form instanceof LastLayerForm ? form.factors() : undefined;
    return { terms: { ...this.terms }, ...(factors ? { factors } : {}) };
  }

  /** Sets δ and σ; when the form cannot be refactored at them it is put back at the old ones and the error rethrown. */
  private rescale(delta: number, sigma: number): void {
    try {
      this.form.setScale(delta, sigma * sigma);
    } catch (e) {
      this.form.setScale(this.delta, this.sigma * this.sigma);
      throw e;
    }
    this.delta = delta;
    this.sigma = sigma;
  }

  /**
   * (J̃ᵀJ̃ + σ²δI)⁻¹v for v of numParams values ('full' only): the regularised Gauss–Newton solve of fit's
   * `bayesian` mode, through the Gram.
   * @internal
   */
  shiftedSolve(v: Float64Array): Float64Array {
    this.live();
    const form = this.form;
    if (!(form instanceof FullForm)) throw new ArgumentError('structure', "the regularised solve needs the 'full' structure");
    return this.atMode(() => form.solve(v));
  }

  /** Frees the posterior's backend memory; later calls throw StateError. A second dispose is a no-op. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.form.dispose();
    this.cap?.dispose();
    this.test?.dispose();
  }

  /** Mean (n × k) and function covariance blocks (n × k × k) at n inputs, in chunks of bounded memory. */
  private moments(X: Float64Array, n: number): { mean: Float64Array; cov: Float64Array } {
    this.live();
    this.net.checkInput(X, n);
    const net = this.net, k = net.outputDim, d = net.inputDim;
    const mean = new Float64Array(n * k), cov = new Float64Array(n * k * k);
    let perInput = this.form.chunkValues(1);
    for (const L of net.layers) perInput += L.inA + L.outputs * (1 + k);
    const chunk = Math.max(1, Math.min(n, Math.floor(CHUNK_VALUES / perInput)));
    this.test ??= new Capture(net);
    const test = this.test;
    this.atMode(() => {
      for (let t0 = 0; t0 < n; t0 += chunk) {
        const nt = Math.min(chunk, n - t0);
        net.forward(test, X.subarray(t0 * d, (t0 + nt) * d), nt, k);
        const h = this.kernels.f64(), u = test.output >> 3;
        mean.set(h.subarray(u, u + nt * k), t0 * k);
        seedIdentity(test);
        net.backward(test);
        this.form.covariance(test, cov.subarray(t0 * k * k, (t0 + nt) * k * k));
      }
    });
    return { mean, cov };
  }

  /** Runs `fn` with the net at θ* (its parameters put back afterwards if they had changed). */
  private atMode<T>(fn: () => T): T {
    const net = this.net, h = this.kernels.f64(), p = net.paramsPtr >> 3, P = net.numParams, th = this.thetaStar;
    let same = true;
    for (let i = 0; i < P; i++) if (h[p + i] !== th[i]) { same = false; break; }
    if (same) return fn();
    const current = net.getParams();
    net.setParams(th);
    try {
      return fn();
    } finally {
      net.setParams(current);
    }
  }

  private live(): void {
    if (this.closed) throw new StateError('LaplacePosterior used after dispose()');
  }
}

/** out[o .. o + k) ← softmax(f). */
function softmaxInto(f: Float64Array, out: Float64Array, o: number): void {
  const k = f.length;
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, f[c]);
  let s = 0;
  for (let c = 0; c < k; c++) { const e = Math.exp(f[c] - max); out[o + c] = e; s += e; }
  for (let c = 0; c < k; c++) out[o + c] /= s;
}

/** L (k × k, lower) with L·Lᵀ = A for a positive semi-definite A: a pivot ≤ 0 (to rounding) gives a zero column. */
function choleskySemidefinite(A: Float64Array, k: number, L: Float64Array): void {
  L.fill(0);
  let scale = 0;
  for (let c = 0; c < k; c++) scale = Math.max(scale, Math.abs(A[c * k + c]));
  const tol = k * Number.EPSILON * scale;
  for (let j = 0; j < k; j++) {
    let s = A[j * k + j];
    for (let m = 0; m < j; m++) s -= L[j * k + m] * L[j * k + m];
    if (!(s > tol)) continue;
    const r = Math.sqrt(s);
    L[j * k + j] = r;
    for (let i = j + 1; i < k; i++) {
      let v = A[i * k + j];
      for (let m = 0; m < j; m++) v -= L[i * k + m] * L[j * k + m];
      L[i * k + j] = v / r;
    }
  }
}

/** The structure 'auto' stands for on this net and data; see {@link LaplaceOptions.structure}. */
function resolveStructure(net: Net, N: number, structure: LaplaceStructure): ResolvedStructure {
  if (structure !== 'auto') return structure;
  if (N <= AUTO_LIMIT && 8 * FullForm.values(N) <= net.kernels.maxMemoryBytes / 4) return 'full';
  const narrow = net.layers.every((L) => !L.trainable || !L.kronecker || (L.inA <= AUTO_LIMIT && L.outputs <= AUTO_LIMIT));
  return narrow ? 'kfac' : 'diagonal';
}

/** Throws OutOfMemoryError before anything is allocated when a structure cannot fit in the backend's memory. */
function checkFits(net: Net, structure: ResolvedStructure, n: number): void {
  const k = net.outputDim, N = n * k, max = net.kernels.maxMemoryBytes;
  let values = 0, hint = '';
  if (structure === 'full') {
    // A layer of another kind adds its Jacobian rows: (n·k) × size for the Gram and the cross-Gram.
    values = FullForm.values(N) + N * rowsWidth(net);
    hint = `'full' holds the (n·k)² Gram twice for n·k = ${N}; use structure 'kfac' or 'last-layer', or fewer examples`;
  } else if (structure === 'last-layer') {
    const L = net.layers[net.layers.length - 1], PL = k * L.inA;
    values = LastLayerForm.values(PL, n, L.inA);
    hint = `'last-layer' holds two ${PL} × ${PL} matrices; use structure 'kfac' or 'diagonal'`;
  } else {
    for (const L of net.layers) {
      if (L.trainable) values += L.kronecker ? L.inA * L.inA + L.outputs * L.outputs + 2 * L.outputs * L.inA : 2 * L.size;
    }
    values += N * rowsWidth(net);
    hint = `'${structure}' holds each layer's factors; use structure 'diagonal'`;
  }
  if (8 * values > max) throw new OutOfMemoryError(8 * values, `the backend's memory holds at most ${max} bytes: ${hint}`);
}

/**
 * Fits a Laplace posterior N(θ*, H⁻¹), H = JᵀΛJ + δI, to a trained network at its current parameters θ*
 * on the data it was trained on; the network is not changed. See the module documentation for the
 * conventions (likelihood, prior, the GGN, the linearised predictive, the log marginal likelihood).
 *
 * Throws ArgumentError for a prior or noise that is not a finite number > 0, noise with cross-entropy, an
 * unknown structure, 'last-layer' on a net whose last layer is frozen, or a net with no trainable
 * parameter; ShapeError/ArgumentError naming X or Y for data that does not fit the net (or the loss);
 * OutOfMemoryError (suggesting a smaller structure) when the structure cannot fit in the backend's memory.
 *
 * @param net the trained network (its parameters are θ*)
 * @param data the training data { X, Y, n } (Y: n × k targets, or n class indices for cross-entropy)
 * @param options likelihood, δ, σ and the structure
 * @example
 * const post = laplace(net, { X, Y, n }, { prior: 1, noise: 0.1, structure: 'full' });
 * post.optimize();                                  // δ and σ by the evidence
 * const { mean, variance } = post.predict(Xtest, nTest);
 * post.dispose();
 */
export function laplace(net: Net, data: Batch, options: LaplaceOptions = {}): LaplacePosterior {
  checkOptions('laplace()', options, OPTIONS);
  const o = options ?? {};
  // The likelihood follows the loss's task: Gaussian for regression (squared error), categorical for classification.
  const gaussian = resolveLoss(o.loss).task === 'regression';
  const delta = o.prior ?? 1;
  checkPositive('prior', delta);
  if (o.noise !== undefined && !gaussian) throw new ArgumentError('noise', 'is the σ of squared error; cross-entropy has none');
  const sigma = o.noise ?? 1;
  checkPositive('noise', sigma);
  const requested = o.structure ?? 'auto';
  checkOneOf('structure', requested, ['auto', 'full', 'kfac', 'diagonal', 'last-layer']);
  if (data === null || typeof data !== 'object') {
    throw new ArgumentError('data', `must be { X, Y, n }, got ${describeValue(data)}`);
  }
  const { X, Y, n } = data;
  checkDim('n', n);
  if (n < 1) throw new ArgumentError('n', 'needs at least one example');
  net.checkInput(X, n);
  const k = net.outputDim;
  // The likelihood is a sum over examples whatever the loss's reduction.
  const loss = gaussian ? squaredError() : softmaxCrossEntropy();
  loss.checkTargets(Y, n, k);
  if (net.numParams === 0) throw new ArgumentError('net', 'has no trainable parameters: there is no posterior to fit');
  const structure = resolveStructure(net, n * k, requested);
  const last = net.layers[net.layers.length - 1];
  if (structure === 'last-layer' && !last.trainable) {
    throw new ArgumentError('structure', "'last-layer' needs a trainable output layer; this net's is frozen (use 'full', 'kfac' or 'diagonal')");
  }
  if (structure === 'last-layer' && !last.kronecker) {
    throw new ArgumentError('structure', `'last-layer' needs a dense output layer; layer ${net.layers.length - 1} is of kind '${last.kind}' (use 'full', 'kfac' or 'diagonal', which take any kind of layer)`);
  }
  checkFits(net, structure, n);

  const cap = new Capture(net), ws = new Workspace(net.kernels), formWs = new Workspace(net.kernels);
  try {
    net.forward(cap, X, n, k);
    const c = ws.get('c', n * k);
    const value = loss.gaussNewton(net.kernels.f64(), cap.output >> 3, Y, n, k, cap.b[cap.b.length - 1] >> 3, c >> 3);
    net.backward(cap);
    const form: PosteriorForm = structure === 'full' ? new FullForm(net, cap, formWs)
      : structure === 'last-layer' ? new LastLayerForm(net, cap, formWs)
        : new FactoredForm(net, cap, formWs, structure);
    const terms: EvidenceTerms = { likelihood: gaussian ? 'gaussian' : 'categorical', count: n * k, misfit: gaussian ? 2 * value : value, weightNormSq: form.weightNormSq };
    return new LaplacePosterior(net, cap, form, loss, terms, delta, sigma);
  } catch (e) {
    formWs.dispose();
    cap.dispose();
    if (e instanceof OutOfMemoryError && !e.message.includes('structure')) {
      throw new OutOfMemoryError(e.bytes, `${e.message.replace(/^out of memory: \d+ bytes asked for; /, '')}; the '${structure}' posterior does not fit: use structure ${structure === 'full' ? "'kfac' or 'last-layer'" : "'diagonal'"}`);
    }
    throw e;
  } finally {
    ws.dispose();
  }
}
