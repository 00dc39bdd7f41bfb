/**
 * First-order baselines behind the {@link Optimizer} interface: gradient descent,
 * SGD with (Nesterov) momentum, and Adam. The gradient is one forward and one
 * backward pass (a GEMM per layer); the updates are O(P) loops over views of
 * backend memory, with their state (velocity, moments) in the same memory.
 */
import type { Ptr } from '../kernels/types.js';
import { ArgumentError, NonFiniteError } from '../errors.js';
import { gradientFromCapture } from '../nn/jacobian.js';
import type { Loss } from '../nn/losses.js';
import { NetBinding } from '../nn/binding.js';
import type { Batch, Capture, Net } from '../nn/net.js';
import { checkLoss, checkNonNegative, checkOptions, checkPositive, checkUnit, type OptionRule } from '../validate.js';

/** A preconditioner is an object made by a factory (kfacPreconditioner()), not a plain literal: any non-null object passes here. */
const PRECONDITIONER: OptionRule = { kinds: ['object', 'instance'], expect: 'a Preconditioner (e.g. kfacPreconditioner())' };
import { dot } from '../backend/vectors.js';
import { prepareStep } from './prepare.js';
import { StepGuard } from './step-safety.js';
import type { StateReader, StateValue } from '../encoding/state.js';
import type { Optimizer, Preconditioner, StepOptions, StepStats } from './types.js';

// A module-level alias: global `Math.` lookups in a hot loop are slow in some hosts (jest's vm contexts).
const { sqrt } = Math;

/**
 * L(θ) and ∇θL into `grad` (numParams values) for one batch: forward, ∂L/∂U,
 * backward, one GEMM per trainable layer. Throws NonFiniteError if either is not finite.
 */
export function lossAndGradient(net: Net, cap: Capture, batch: Batch, loss: Loss, grad: Ptr): number {
  const { X, Y, n } = batch;
  net.forward(cap, X, n, 1);
  const kernels = net.kernels;
  const value = loss.gradient(kernels.f64(), cap.output >> 3, Y, n, net.outputDim, cap.b[cap.b.length - 1] >> 3);
  checkLoss('loss', value);
  net.backward(cap);
  gradientFromCapture(cap, grad);
  const bad = kernels.firstNonFinite(net.numParams, grad);
  if (bad >= 0) throw new NonFiniteError('gradient', bad, kernels.f64()[(grad >> 3) + bad]);
  return value;
}

/**
 * The shared step of the first-order methods: gradient, then `update` over the
 * views (θ at element offset t, ∇ at g, state blocks at s). The state an optimizer
 * owns is the step count `t` and the named O(P) blocks of `stateBlocks` in its workspace.
 */
abstract class FirstOrder implements Optimizer {
  abstract readonly name: string;
  protected readonly bound = new NetBinding(() => `${this.name}()`);
  private readonly guard = new StepGuard();
  /** Steps taken since the last reset (Adam's bias correction reads it). */
  protected t = 0;

  /** Names of the O(P) state blocks this method keeps (velocity, moments). */
  protected abstract readonly stateBlocks: readonly string[];

  protected abstract update(h: Float64Array, t: number, g: number, s: readonly number[], P: number): void;

  /** η, the learning rate of the next step ({@link FirstOrder.setLearningRate} changes it). */
  abstract lr: number;

  constructor(readonly preconditioner: Preconditioner | undefined) {}

  /** Sets η for the following steps (learning-rate schedules). */
  setLearningRate(lr: number): void {
    checkPositive('lr', lr);
    this.lr = lr;
  }

  /** The factory options, η included, as JSON data (for checkpoints). */
  protected abstract options(): Record<string, number | boolean>;

  /** The options that rebuild this optimizer with its factory (checkpoints). */
  checkpointConfig(): Record<string, unknown> {
    if (this.preconditioner) throw new ArgumentError('optimizer', `${this.name} with a preconditioner cannot be checkpointed`);
    return this.options();
  }

  /** The step count and the state blocks (velocity, moments) as copies. */
  saveState(): { [key: string]: StateValue } {
    const state: { [key: string]: StateValue } = { t: this.t };
    const net = this.bound.net, ws = this.bound.ws;
    if (this.t > 0 && net && ws) {
      const P = net.numParams;
      for (const name of this.stateBlocks) {
        const p = ws.get(name, P) >> 3;
        state[name] = net.kernels.f64().slice(p, p + P);
      }
    }
    return state;
  }

  /** Restores {@link FirstOrder.saveState} on `net`. */
  loadState(net: Net, state: StateReader): void {
    const t = state.integer('t');
    const P = net.numParams;
    const blocks = t > 0 ? this.stateBlocks.map((name) => state.f64(name, P)) : [];
    this.bound.bind(net);
    const ws = this.bound.ws!;
    blocks.forEach((values, i) => {
      // The block is allocated first: allocating can grow memory, which invalidates earlier views.
      const p = ws.get(this.stateBlocks[i], P);
      net.kernels.f64().set(values, p >> 3);
    });
    this.t = t;
  }

  step(net: Net, batch: Batch, options?: StepOptions): StepStats {
    const start = performance.now();
    const loss = prepareStep(net, batch, options);
    if (this.bound.bind(net)) this.t = 0;
    const ws = this.bound.ws!, P = net.numParams;
    const grad = ws.get('grad', P);
    const state = this.stateBlocks.map((name) => ws.get(name, P));
    if (this.t === 0) for (const s of state) net.kernels.f64().fill(0, s >> 3, (s >> 3) + P);

    // With a preconditioner, `grad` holds P⁻¹∇L and the rule below steps with it.
    let value: number, gradNorm: number, extra: object | undefined;
    if (this.preconditioner) {
      const { loss: l, gradNorm: gn, ...rest } = this.preconditioner.preconditionInto(net, batch, loss, grad);
      value = l; gradNorm = gn; extra = rest;
    } else {
      value = lossAndGradient(net, this.bound.cap!, batch, loss, grad);
      gradNorm = Math.sqrt(dot(net.kernels.f64(), grad, grad, P));
    }
    // θ and the state are kept aside so that a step that overflows can be undone whole.
    this.guard.save(net, ws, state);
    this.t++;
    this.update(net.kernels.f64(), net.paramsPtr >> 3, grad >> 3, state.map((s) => s >> 3), P);
    const updateNorm = this.guard.moved();
    if (!Number.isFinite(updateNorm) || !this.guard.paramsFinite()) {
      this.guard.restore();
      this.t--;
      throw NonFiniteError.step('update', `the ${this.name} step`, 'lower the learning rate');
    }
    const stats: StepStats = { loss: value, gradNorm, updateNorm, accepted: true, timeMs: 0 };
    if (extra) Object.assign(stats, extra);
    stats.timeMs = performance.now() - start;
    return stats;
  }

  reset(): void {
    this.t = 0;
    this.bound.release();
    this.preconditioner?.reset();
  }

  dispose(): void {
    this.bound.dispose();
    this.t = 0;
    this.preconditioner?.dispose();
  }

  /** ', preconditioner=…' for toString, or ''. */
  protected preconditionerText(): string {
    return this.preconditioner ? `, preconditioner=${String(this.preconditioner)}` : '';
  }
}

/** Throws ArgumentError unless `p` is undefined or looks like a {@link Preconditioner}. */
function checkPreconditioner(p: Preconditioner | undefined): void {
  if (p !== undefined && (typeof p !== 'object' || p === null || typeof p.preconditionInto !== 'function')) {
    throw new ArgumentError('preconditioner', 'must be a Preconditioner (e.g. from kfacPreconditioner)');
  }
}

/** Options of {@link gd}. */
export interface GdOptions {
  /** η (default 0.1). */
  lr?: number;
  /**
   * Step with P⁻¹∇θL from this preconditioner instead of ∇θL (e.g. `kfacPreconditioner()`);
   * it is reset and disposed with the optimizer. Default none.
   */
  preconditioner?: Preconditioner;
}

class GradientDescent extends FirstOrder {
  readonly name = 'gd';
  protected readonly stateBlocks = [];
  constructor(public lr: number, preconditioner?: Preconditioner) { super(preconditioner); }

  protected options(): Record<string, number | boolean> { return { lr: this.lr }; }

  protected update(h: Float64Array, t: number, g: number, _s: readonly number[], P: number): void {
    const lr = this.lr;
    for (let i = 0; i < P; i++) h[t + i] -= lr * h[g + i];
  }

  override toString(): string { return `gd(lr=${this.lr}${this.preconditionerText()})`; }
}

/**
 * Gradient descent, θ ← θ − η∇θL. With the default squared-error loss the
 * outputs follow r ← (I − ηG)r to first order, G = JJᵀ: stable for η < 2/λ_max(G).
 *
 * @param options learning rate η (default 0.1), optional preconditioner
 * @example
 * const opt = gd({ lr: 0.5 });
 * const stats = opt.step(net, { X, Y, n });
 */
export function gd(options: GdOptions = {}): Optimizer {
  checkOptions('gd()', options, { lr: 'number', preconditioner: PRECONDITIONER });
  const { lr = 0.1, preconditioner } = options ?? {};
  checkPositive('lr', lr);
  checkPreconditioner(preconditioner);
  return new GradientDescent(lr, preconditioner);
}

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** η (default 0.01). */
  lr?: number;
  /** μ in [0, 1) (default 0). */
  momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
  /**
   * Step with P⁻¹∇θL from this preconditioner instead of ∇θL (e.g. `kfacPreconditioner()`);
   * it is reset and disposed with the optimizer. Default none.
   */
  preconditioner?: Preconditioner;
}

class Sgd extends FirstOrder {
  readonly name = 'sgd';
  protected readonly stateBlocks = ['velocity'];
  constructor(public lr: number, readonly momentum: number, readonly nesterov: boolean, preconditioner?: Preconditioner) { super(preconditioner); }

  protected options(): Record<string, number | boolean> { return { lr: this.lr, momentum: this.momentum, nesterov: this.nesterov }; }

  protected update(h: Float64Array, t: number, g: number, s: readonly number[], P: number): void {
    const { lr, momentum: mu, nesterov } = this;
    const v = s[0];
    for (let i = 0; i < P; i++) {
      const gi = h[g + i];
      const vi = mu * h[v + i] + gi;
      h[v + i] = vi;
      h[t + i] -= lr * (nesterov ? gi + mu * vi : vi);
    }
  }

  override toString(): string { return `sgd(lr=${this.lr}, momentum=${this.momentum}${this.nesterov ? ', nesterov' : ''}${this.preconditionerText()})`; }
}

/**
 * Stochastic gradient descent with momentum, in PyTorch's convention:
 * v ← μv + g, then θ ← θ − η·v, or θ ← θ − η·(g + μv) with Nesterov. The
 * mini-batches come from {@link train}'s `batchSize`.
 *
 * @param options learning rate, momentum μ, Nesterov, optional preconditioner
 * @example
 * train(net, data, sgd({ lr: 0.05, momentum: 0.9, nesterov: true }), { steps: 200, batchSize: 32 });
 */
export function sgd(options: SgdOptions = {}): Optimizer {
  checkOptions('sgd()', options, { lr: 'number', momentum: 'number', nesterov: 'boolean', preconditioner: PRECONDITIONER });
  const { lr = 0.01, momentum = 0, nesterov = false, preconditioner } = options ?? {};
  checkPreconditioner(preconditioner);
  checkPositive('lr', lr);
  checkUnit('momentum', momentum);
  if (nesterov && momentum === 0) checkPositive('momentum', momentum);
  return new Sgd(lr, momentum, !!nesterov, preconditioner);
}

/** Options of {@link adam}. */
export interface AdamOptions {
  /** η (default 1e-3). */
  lr?: number;
  /** β₁ (default 0.9). */
  beta1?: number;
  /** β₂ (default 0.999). */
  beta2?: number;
  /** ε (default 1e-8). */
  eps?: number;
  /**
   * λ ≥ 0, decoupled weight decay (AdamW, Loshchilov & Hutter 2019; default 0): each step
   * first shrinks θ ← θ·(1 − η·λ), then takes the Adam step (PyTorch's AdamW rule).
   */
  weightDecay?: number;
  /**
   * Step with P⁻¹∇θL from this preconditioner instead of ∇θL (e.g. `kfacPreconditioner()`);
   * it is reset and disposed with the optimizer. Default none.
   */
  preconditioner?: Preconditioner;
}

class Adam extends FirstOrder {
  readonly name = 'adam';
  protected readonly stateBlocks = ['m', 'v'];
  constructor(public lr: number, readonly beta1: number, readonly beta2: number, readonly eps: number, readonly weightDecay: number, preconditioner?: Preconditioner) { super(preconditioner); }

  protected options(): Record<string, number | boolean> {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  protected update(h: Float64Array, t: number, g: number, s: readonly number[], P: number): void {
    const { lr, beta1: b1, beta2: b2, eps } = this;
    const m = s[0], v = s[1];
    const c1 = 1 - Math.pow(b1, this.t), c2 = 1 - Math.pow(b2, this.t);
    if (this.weightDecay > 0) {
      const shrink = 1 - lr * this.weightDecay;
      for (let i = 0; i < P; i++) h[t + i] *= shrink;
    }
    for (let i = 0; i < P; i++) {
      const gi = h[g + i];
      const mi = b1 * h[m + i] + (1 - b1) * gi;
      const vi = b2 * h[v + i] + (1 - b2) * gi * gi;
      h[m + i] = mi;
      h[v + i] = vi;
      h[t + i] -= lr * (mi / c1) / (sqrt(vi / c2) + eps);
    }
  }

  override toString(): string {
    return `adam(lr=${this.lr}, beta1=${this.beta1}, beta2=${this.beta2}, eps=${this.eps}${this.weightDecay ? `, weightDecay=${this.weightDecay}` : ''}${this.preconditionerText()})`;
  }
}

/**
 * Adam (Kingma & Ba 2015) with bias correction:
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η·m̂/(√v̂ + ε),
 * m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), t the step count since the last reset.
 * With `weightDecay` λ > 0 it is AdamW: θ ← θ·(1 − ηλ) before each Adam step.
 *
 * @param options learning rate (default 1e-3), β₁, β₂, ε, optional preconditioner
 * @example
 * train(net, data, adam({ lr: 1e-2 }), { steps: 500 });
 * fit(net, data, adam({ lr: 1e-3, weightDecay: 1e-2 }), { epochs: 20, batchSize: 64 }); // AdamW
 */
export function adam(options: AdamOptions = {}): Optimizer {
  checkOptions('adam()', options, { lr: 'number', beta1: 'number', beta2: 'number', eps: 'number', weightDecay: 'number', preconditioner: PRECONDITIONER });
  const { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, preconditioner } = options ?? {};
  checkPreconditioner(preconditioner);
  checkPositive('lr', lr);
  checkUnit('beta1', beta1);
  checkUnit('beta2', beta2);
  checkPositive('eps', eps);
  checkNonNegative('weightDecay', weightDecay);
  return new Adam(lr, beta1, beta2, eps, weightDecay, preconditioner);
}
