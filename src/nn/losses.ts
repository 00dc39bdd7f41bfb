/**
 * Losses over a network's n × k outputs U and targets Y, with the pieces the
 * optimizers need: the value, ∂L/∂U, and a Gauss–Newton factor.
 *
 * Conventions (state them in any result you report):
 * - squared error, reduction 'sum' (default, the paper's): L = ½ Σᵢⱼ (uᵢⱼ − yᵢⱼ)²;
 *   'mean': L = ½ (1/n) Σᵢⱼ (uᵢⱼ − yᵢⱼ)² (mean over examples, sum over outputs);
 * - softmax cross-entropy, 'sum' (default): L = −Σᵢ Σⱼ yᵢⱼ log softmax(uᵢ)ⱼ; 'mean' divides by n.
 *   Y is either n class indices or n probability rows (n × k, each summing to 1).
 *
 * Gauss–Newton factor. The output Hessian of example i is Hᵢ = Mᵢ Mᵢᵀ with
 * Mᵢ = √w·I for squared error and Mᵢ = √w·diag(√p)(I − √p√pᵀ) for softmax
 * cross-entropy (p = softmax(uᵢ), w = 1 or 1/n). Stacking the k rows Mᵢᵀ Jᵢ of
 * every example gives J̃ ((n·k) × P) with J̃ᵀJ̃ = Σᵢ Jᵢᵀ Hᵢ Jᵢ, the Gauss–Newton
 * (= Fisher) matrix, and a vector c with J̃ᵀc = ∇θL. For cross-entropy each
 * Mᵢ has rank k − 1 (√p spans its null space), so J̃J̃ᵀ is singular: damping
 * λ > 0 is required there.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { checkArray, checkFinite, checkOptions, describeValue } from '../validate.js';
import type { Rng } from './random.js';

/** 'sum' (default) or 'mean' over examples. */
export type Reduction = 'sum' | 'mean';

/** Options of the loss factories. */
export interface LossOptions {
  /** 'sum' (default) or 'mean' over the n examples. */
  reduction?: Reduction;
}

/**
 * A loss function. The methods work on views of backend memory: `h` is the
 * backend's Float64Array and u, g, b, c are element offsets into it.
 */
export interface Loss {
  /** Which loss: 'squared-error' or 'cross-entropy'. */
  readonly name: 'squared-error' | 'cross-entropy';
  /** 'sum' or 'mean' over the examples. */
  readonly reduction: Reduction;
  /**
   * The task the loss trains for, which decides the metrics that apply: 'classification'
   * (targets are class indices; `accuracy`) or 'regression' (real targets; `rmse`, `mae`, `r2`).
   */
  readonly task: 'classification' | 'regression';
  /** Throws ShapeError/ArgumentError naming 'Y' unless Y fits n examples of k outputs. */
  checkTargets(Y: Float64Array, n: number, k: number): void;
  /**
   * L(U, Y) for the n × k outputs at u. Reads U only: ngd() keeps the forward pass it evaluated
   * (U included) for the next step, so a loss that wrote into U would corrupt that step.
   */
  value(h: Float64Array, u: number, Y: Float64Array, n: number, k: number): number;
  /** Returns L and writes ∂L/∂U (n × k) at g. */
  gradient(h: Float64Array, u: number, Y: Float64Array, n: number, k: number, g: number): number;
  /**
   * Returns L and writes the Gauss–Newton factor: at b the (n·k) × k rows
   * (row i·k + c is column c of Mᵢ, i.e. the seed of J̃'s row for back-propagation),
   * and at c the n·k vector with J̃ᵀc = ∇θL.
   */
  gaussNewton(h: Float64Array, u: number, Y: Float64Array, n: number, k: number, b: number, c: number): number;
  /**
   * Whether J̃J̃ᵀ is singular for every batch (softmax cross-entropy: each Mᵢ has rank
   * k − 1), so that an exact natural-gradient step needs damping λ > 0.
   */
  readonly singularGaussNewton: boolean;
  /**
   * The Fisher estimate K-FAC uses under `fisher: 'auto'`: 'exact' when the Gauss–Newton
   * factor is cheap to back-propagate (k identical-weight rows), 'mc' when one sampled row
   * per example estimates it better per cost.
   */
  readonly defaultFisher: 'exact' | 'mc';
  /**
   * Monte-Carlo Fisher rows: for each example i and sample s < `samples` (default 1),
   * √w·∇ᵤℓ(uᵢ, ŷ) at a target ŷ drawn from the model's predictive distribution at the n × k
   * outputs at u (w = 1, or 1/n under 'mean'), written at out + i·ld + s·k (k values).
   * Its outer products average to the Gauss–Newton/Fisher matrix of the loss. Draws from
   * `rng` in the order (example, sample).
   */
  sampleFisher(h: Float64Array, u: number, n: number, k: number, rng: Rng, out: number, ld: number, samples?: number): void;
}

/** A loss or the name of one with its default (sum) reduction. */
export type LossSpec = Loss | 'squared-error' | 'cross-entropy';

/**
 * Squared error, ½ Σ (u − y)² (the paper's convention) or its mean over examples.
 *
 * @param options `reduction`: 'sum' (default, ½Σ(u − y)²) or 'mean' (divided by n)
 * @example
 * optimizer.step(net, { X, Y, n }, { loss: squaredError({ reduction: 'mean' }) });
 */
export function squaredError(options: LossOptions = {}): Loss {
  checkOptions('squaredError()', options, { reduction: 'string' });
  const reduction = checkReduction(options?.reduction);
  return {
    name: 'squared-error',
    reduction,
    task: 'regression',
    checkTargets(Y, n, k) {
      checkArray('Y', Y, n * k, `n×outputDim = ${n}×${k}`);
      checkFinite('Y', Y);
    },
    value(h, u, Y, n, k) {
      let s = 0;
      for (let i = 0; i < n * k; i++) { const r = h[u + i] - Y[i]; s += r * r; }
      return 0.5 * weight(reduction, n) * s;
    },
    gradient(h, u, Y, n, k, g) {
      const w = weight(reduction, n);
      let s = 0;
      for (let i = 0; i < n * k; i++) { const r = h[u + i] - Y[i]; s += r * r; h[g + i] = w * r; }
      return 0.5 * w * s;
    },
    gaussNewton(h, u, Y, n, k, b, c) {
      const w = weight(reduction, n), sw = Math.sqrt(w);
      let s = 0;
      for (let i = 0; i < n * k; i++) {
        const r = h[u + i] - Y[i];
        s += r * r;
        h[c + i] = sw * r;
      }
      h.fill(0, b, b + n * k * k);
      for (let r = 0; r < n * k; r++) h[b + r * k + (r % k)] = sw;
      return 0.5 * w * s;
    },
    singularGaussNewton: false,
    defaultFisher: 'exact',
    sampleFisher(h, _u, n, k, rng, out, ld, samples = 1) {
      // ŷ ~ N(u, I): ∇ᵤ½‖u − ŷ‖² = u − ŷ = −ε, and ε is symmetric, so the row is √w·ε.
      const sw = sqrt(weight(reduction, n));
      for (let i = 0; i < n; i++) {
        for (let q = 0; q < samples; q++) {
          const r = out + i * ld + q * k;
          for (let j = 0; j < k; j++) h[r + j] = sw * rng.normal();
        }
      }
    },
  };
}

// Module-level aliases: global `Math.` lookups in hot loops are slow in some hosts (jest's vm contexts).
const { exp, sqrt } = Math;

/**
 * The Gauss–Newton factor and right-hand side are built from p̃ = max(p, P_FLOOR) renormalised: a class whose
 * probability underflowed to 0 would otherwise drop out of the factor's range, so M·c could not equal ∇ℓ and a
 * confidently wrong label would get a zero step. The change to ∇ℓ is below k·P_FLOOR.
 */
const P_FLOOR = 1e-20;

/**
 * Softmax cross-entropy on raw outputs (logits), summed or averaged over examples.
 * Its Gauss–Newton matrix uses the exact output-Hessian factor diag(√p)(I − √p√pᵀ).
 *
 * @param options `reduction`: 'sum' (default) or 'mean' (divided by n)
 * @example
 * const labels = new Float64Array([0, 2, 1]);           // class indices, or n × k probabilities
 * ngd({ damping: 1e-3 }).step(net, { X, Y: labels, n: 3 }, { loss: softmaxCrossEntropy() });
 */
export function softmaxCrossEntropy(options: LossOptions = {}): Loss {
  checkOptions('softmaxCrossEntropy()', options, { reduction: 'string' });
  const reduction = checkReduction(options?.reduction);
  /** Writes softmax(uᵢ) into p (a TS scratch of length k) and returns log Σ exp(uᵢ). */
  const softmax = (h: Float64Array, ui: number, k: number, p: Float64Array): number => {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, h[ui + j]);
    let s = 0;
    for (let j = 0; j < k; j++) { p[j] = exp(h[ui + j] - max); s += p[j]; }
    for (let j = 0; j < k; j++) p[j] /= s;
    return max + Math.log(s);
  };
  let scratch = new Float64Array(0);
  const probs = (k: number): Float64Array => (scratch.length >= k ? scratch : (scratch = new Float64Array(k)));
  /** yᵢⱼ for class-index or probability-row targets. */
  const target = (Y: Float64Array, n: number, k: number, i: number, j: number): number =>
    Y.length === n ? (Y[i] === j ? 1 : 0) : Y[i * k + j];
  const rowLoss = (h: Float64Array, ui: number, Y: Float64Array, n: number, k: number, i: number, lse: number): number => {
    let l = 0;
    for (let j = 0; j < k; j++) {
      const y = target(Y, n, k, i, j);
      if (y !== 0) l -= y * (h[ui + j] - lse);
    }
    return l;
  };
  return {
    name: 'cross-entropy',
    reduction,
    task: 'classification',
    checkTargets(Y, n, k) {
      if (k < 2) throw new ArgumentError('loss', `softmax cross-entropy needs at least 2 outputs, the net has ${k}`);
      if (!(Y instanceof Float64Array)) throw new ShapeError('Y', 'must be a Float64Array of class indices (n) or probabilities (n×k)');
      if (Y.length === n) {
        for (let i = 0; i < n; i++) {
          if (!Number.isInteger(Y[i]) || Y[i] < 0 || Y[i] >= k) {
            throw new ArgumentError('Y', `element ${i} is ${Y[i]}; class indices must be integers in [0, ${k})`);
          }
        }
        return;
      }
      if (Y.length !== n * k) throw new ShapeError('Y', `expected length n = ${n} (class indices) or n×k = ${n * k} (probabilities), got ${Y.length}`);
      checkFinite('Y', Y);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) {
          const y = Y[i * k + j];
          if (y < 0) throw new ArgumentError('Y', `element ${i * k + j} is ${y}; probabilities must be ≥ 0`);
          s += y;
        }
        if (Math.abs(s - 1) > 1e-8) throw new ArgumentError('Y', `row ${i} sums to ${s}; probability rows must sum to 1`);
      }
    },
    value(h, u, Y, n, k) {
      const p = probs(k);
      let s = 0;
      for (let i = 0; i < n; i++) s += rowLoss(h, u + i * k, Y, n, k, i, softmax(h, u + i * k, k, p));
      return weight(reduction, n) * s;
    },
    gradient(h, u, Y, n, k, g) {
      const p = probs(k), w = weight(reduction, n);
      let s = 0;
      for (let i = 0; i < n; i++) {
        const lse = softmax(h, u + i * k, k, p);
        s += rowLoss(h, u + i * k, Y, n, k, i, lse);
        for (let j = 0; j < k; j++) h[g + i * k + j] = w * (p[j] - target(Y, n, k, i, j));
      }
      return w * s;
    },
    gaussNewton(h, u, Y, n, k, b, c) {
      const p = probs(k), sw = Math.sqrt(weight(reduction, n));
      let s = 0;
      for (let i = 0; i < n; i++) {
        const lse = softmax(h, u + i * k, k, p);
        s += rowLoss(h, u + i * k, Y, n, k, i, lse);
        let total = 0;
        for (let j = 0; j < k; j++) total += (p[j] = p[j] > P_FLOOR ? p[j] : P_FLOOR);
        for (let j = 0; j < k; j++) p[j] /= total;
        for (let col = 0; col < k; col++) {
          // Row i·k + col of the factor is column col of Mᵢ = diag(√p)(I − √p√pᵀ): √p_j δ_j,col − p_j √p_col.
          const row = b + (i * k + col) * k, sc = sqrt(p[col]);
          for (let j = 0; j < k; j++) h[row + j] = sw * ((j === col ? sc : 0) - p[j] * sc);
          // Mᵢ cᵢ = ∇ℓᵢ = p − y with cᵢ ⊥ √p: cᵢ = √p − y/√p.
          h[c + i * k + col] = sw * (sc - target(Y, n, k, i, col) / sc);
        }
      }
      return weight(reduction, n) * s;
    },
    singularGaussNewton: true,
    defaultFisher: 'mc',
    sampleFisher(h, u, n, k, rng, out, ld, samples = 1) {
      // ŷ ~ softmax(uᵢ): the row is √w·(p − e_ŷ), with p staged in the row itself.
      const sw = sqrt(weight(reduction, n));
      for (let i = 0; i < n; i++) {
        const ui = u + i * k;
        for (let q = 0; q < samples; q++) {
          const r = out + i * ld + q * k;
          let max = -Infinity;
          for (let j = 0; j < k; j++) if (h[ui + j] > max) max = h[ui + j];
          let z = 0;
          for (let j = 0; j < k; j++) { const e = exp(h[ui + j] - max); h[r + j] = e; z += e; }
          const draw = rng.uniform() * z;
          let acc = 0, label = k - 1;
          for (let j = 0; j < k; j++) {
            acc += h[r + j];
            if (draw < acc) { label = j; break; }
          }
          for (let j = 0; j < k; j++) h[r + j] = sw * (h[r + j] / z - (j === label ? 1 : 0));
        }
      }
    },
  };
}

/** The losses that names resolve to, made once (a step then allocates nothing for them). */
const defaults: { squared?: Loss; crossEntropy?: Loss } = {};

/** The Loss for a spec; default squared error with reduction 'sum'. */
export function resolveLoss(spec: LossSpec | undefined): Loss {
  if (spec === undefined || spec === 'squared-error') return (defaults.squared ??= squaredError());
  if (spec === 'cross-entropy') return (defaults.crossEntropy ??= softmaxCrossEntropy());
  if (typeof spec === 'object' && spec !== null && typeof spec.gaussNewton === 'function' && typeof spec.sampleFisher === 'function') return spec;
  throw new ArgumentError('loss', `expected 'squared-error', 'cross-entropy' or a Loss object, got ${typeof spec === 'string' ? `'${spec}'` : describeValue(spec)}`);
}

function weight(reduction: Reduction, n: number): number {
  return reduction === 'mean' ? 1 / n : 1;
}

function checkReduction(r: Reduction | undefined): Reduction {
  if (r === undefined) return 'sum';
  if (r !== 'sum' && r !== 'mean') throw new ArgumentError('reduction', `must be 'sum' or 'mean', got ${String(r)}`);
  return r;
}
