/**
 * The derivative-carrying ("forward Laplacian") pass of an MLP: for n points it carries, layer by
 * layer, the value, the input gradient and a weighted Laplacian Σ_c w_c ∂²/∂x_c² of every unit,
 *   z = W̃a,  ∇z = W∇a,  Δz = WΔa;   a′ = σ(z),  ∇a′ = σ′(z)∇z,  Δa′ = σ′(z)Δz + σ″(z)Σ_c w_c (∂_c z)²,
 * and back-propagates per-point seeds on the output channels to the parameters: Jacobian rows of a
 * linear combination of u, ∂u/∂x_c and the Laplacian, or their seed-weighted sum (Jᵀs, a gradient).
 *
 * Each layer is one GEMM over a *channel block* (S = 1 + g + lap rows per point: value, g gradient
 * components, Laplacian), whose effective input carries the layer's bias column as β on value rows
 * and 0 on derivative rows; the nonlinear part is the kernels' taylorActivation / taylorBackward, and
 * Jacobian rows are rowOuterSum. Each layer takes part through its {@link TaylorHook} (the layer
 * seam's optional `taylor`; the dense layer has it) and its input record's shape (weight and bias
 * scale, bias column, activation); a net with a layer without the hook is refused, naming it. It
 * never changes the net. Scalar-output nets only (a PDE's u).
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import { TAYLOR_ACTIVATIONS } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import { ArgumentError, ShapeError } from '../errors.js';
import type { Net } from '../nn/net.js';
import type { TaylorHook } from '../nn/layer.js';

/** Which derivative channels a pass carries. */
export interface Channels {
  /** Carry the g = inputDim gradient components (needed for the Laplacian). */
  gradient: boolean;
  /**
   * Weights w_c of the second-derivative channel Σ_c w_c ∂²u/∂x_c² (inputDim values; all 1: the
   * Laplacian); omitted: no second-derivative channel.
   */
  laplacian?: readonly number[];
}

/** The activations a derivative pass can carry through: those with σ′, σ″, σ‴ in the kernels. */
export type SmoothActivation = keyof typeof TAYLOR_ACTIVATIONS;

/**
 * Checks that every layer of `net` has the derivative-carrying hook ({@link TaylorHook}) and every
 * hidden activation the derivatives the channels need: ArgumentError naming the layer otherwise (a
 * layer kind without the hook; ReLU under a Laplacian, which has no second derivative).
 */
export function checkSmooth(net: Net, needs: 'gradient' | 'laplacian'): void {
  if (net.outputDim !== 1) throw new ShapeError('net', `a PDE solution is scalar: the net has ${net.outputDim} outputs, expected 1`);
  for (let l = 0; l < net.layers.length; l++) {
    if (!net.layers[l].taylor) {
      throw new ArgumentError(`layers[${l}]`, `a '${net.layers[l].kind}' layer has no derivative-carrying pass (the layer seam's optional taylor hook), so a PDE residual cannot be computed through it; use dense layers`);
    }
  }
  for (let l = 0; l + 1 < net.layers.length; l++) {
    const name = net.layers[l].act.name;
    if (!Object.prototype.hasOwnProperty.call(TAYLOR_ACTIVATIONS, name)) {
      throw new ArgumentError(`layers[${l}].activation`, `'${name}' has no ${needs === 'laplacian' ? 'second' : 'smooth first'} derivative for the ${needs} this problem needs; use tanh, sigmoid or softplus`);
    }
  }
}

/**
 * Storage and passes of one channel configuration over a net; buffers live in a Workspace and are
 * reused while n does not grow. `dispose()` frees them.
 */
export class TaylorPass {
  /** Rows per point: 1 + g + lap. */
  readonly S: number;
  readonly g: number;
  readonly lap: number;
  private readonly ws: Workspace;
  private readonly kernels: Kernels;
  private n = 0;
  /** Per layer: effective inputs A_l ((n·S) × inA), pre-activations Z_l ((n·S) × outputs), σ′σ″σ‴ ((3n) × outputs). */
  private readonly a: Ptr[] = [];
  private readonly z: Ptr[] = [];
  private readonly d: Ptr[] = [];
  private readonly b: Ptr[] = [];
  private abar: Ptr = 0;
  private wts: Ptr = 0;
  private readonly acts: number[];
  /** Each layer's hook (checked present by the constructor). */
  private readonly hooks: TaylorHook[];

  constructor(readonly net: Net, channels: Channels) {
    this.kernels = net.kernels;
    const dim = net.inputDim;
    this.g = channels.gradient || channels.laplacian ? dim : 0;
    this.lap = channels.laplacian ? 1 : 0;
    this.S = 1 + this.g + this.lap;
    checkSmooth(net, this.lap ? 'laplacian' : 'gradient');
    this.acts = net.layers.map((L) => TAYLOR_ACTIVATIONS[L.act.name as SmoothActivation] ?? 0);
    this.hooks = net.layers.map((L) => L.taylor!);
    this.ws = new Workspace(net.kernels);
    this.wts = this.ws.get('wts', Math.max(dim, 1));
    const w = channels.laplacian ?? [];
    if (this.lap && w.length !== dim) throw new ShapeError('laplacian', `needs ${dim} weights (one per input), got ${w.length}`);
    const h = this.kernels.f64();
    for (let c = 0; c < dim; c++) h[(this.wts >> 3) + c] = this.lap ? w[c] : 0;
  }

  /** Sizes the buffers for n points. */
  private ensure(n: number): void {
    if (n === this.n) return;
    const S = this.S, layers = this.net.layers;
    let widest = 1;
    for (let l = 0; l < layers.length; l++) {
      const L = layers[l];
      this.a[l] = this.ws.get(`a${l}`, n * S * L.inA);
      this.z[l] = this.ws.get(`z${l}`, n * S * L.outputs);
      this.d[l] = this.ws.get(`d${l}`, 3 * n * L.outputs);
      this.b[l] = this.ws.get(`b${l}`, n * S * L.outputs);
      widest = Math.max(widest, L.inA);
    }
    this.abar = this.ws.get('abar', n * S * widest);
    this.n = n;
  }

  /**
   * The forward pass at the net's current parameters for n points X (n × inputDim). Returns the
   * byte pointer of the output channels: (n·S) values, point i's value at i·S, its gradient at
   * i·S + 1 … i·S + g, its weighted Laplacian at i·S + g + 1. Valid until the next call.
   */
  forward(X: Float64Array, n: number): Ptr {
    this.ensure(n);
    const k = this.kernels, layers = this.net.layers, S = this.S, g = this.g, dim = this.net.inputDim;
    const first = layers[0], inA0 = first.inA, s0 = first.weightScale;
    let h = k.f64();
    const a0 = this.a[0] >> 3;
    h.fill(0, a0, a0 + n * S * inA0);
    for (let i = 0; i < n; i++) {
      const r = a0 + i * S * inA0;
      for (let c = 0; c < dim; c++) {
        h[r + c] = s0 * X[i * dim + c];
        if (c < g) h[r + (1 + c) * inA0 + c] = s0;
      }
      if (first.bias) h[r + dim] = first.biasScale;
    }
    for (let l = 0; l < layers.length; l++) {
      const L = layers[l];
      this.hooks[l].forward(k, n * S, this.a[l], this.z[l]);
      if (l + 1 === layers.length) break;
      const next = layers[l + 1];
      k.taylorActivation(this.acts[l], n, g, this.lap, L.outputs, this.z[l], this.wts, next.weightScale,
        this.a[l + 1], next.inA, this.d[l]);
      if (next.bias) {
        h = k.f64();
        const base = this.a[l + 1] >> 3, col = next.inputs;
        for (let r = 0; r < n * S; r++) h[base + r * next.inA + col] = r % S === 0 ? next.biasScale : 0;
      }
    }
    return this.z[layers.length - 1];
  }

  /**
   * Back-propagates seeds on the output channels of the last {@link TaylorPass.forward}: `seeds`
   * is (n·S) values at a byte pointer (seed of point i's channel s at i·S + s). Afterwards each
   * trainable layer's adjoints are ready for {@link TaylorPass.jacobianRows} and {@link TaylorPass.gradient}.
   */
  backward(seeds: Ptr): void {
    const k = this.kernels, layers = this.net.layers, n = this.n, S = this.S;
    const last = layers.length - 1;
    const h = k.f64();
    h.copyWithin(this.b[last] >> 3, seeds >> 3, (seeds >> 3) + n * S);
    for (let l = last; l > this.net.firstTrainable && l > 0; l--) {
      const L = layers[l], prev = layers[l - 1];
      // Ā = B_l·∂Z_l/∂A_l: the adjoint of the effective input's channels (its bias column is never read).
      this.hooks[l].inputVjp(k, n * S, this.b[l], this.abar);
      k.taylorBackward(n, this.g, this.lap, prev.outputs, this.z[l - 1], this.d[l - 1], this.wts, L.weightScale,
        this.abar, L.inA, this.b[l - 1]);
    }
  }

  /**
   * Writes the n Jacobian rows of the seeded output combination into J: row i (at J + 8·i·ldj) gets,
   * in each trainable layer's columns (its offset in the flat parameter vector), Σ_s B_s ⊗ A_s.
   */
  jacobianRows(J: Ptr, ldj: number): void {
    const layers = this.net.layers;
    for (let l = this.net.firstTrainable; l < layers.length; l++) {
      const L = layers[l];
      if (L.paramOffset < 0) continue;
      this.hooks[l].jacobianRows(this.kernels, this.n, this.S, this.a[l], this.b[l], J + 8 * L.paramOffset, ldj);
    }
  }

  /**
   * The seeded combination's gradient Σ_i (Jacobian row i) into out (numParams values; beta = 1
   * accumulates onto out, 0 overwrites): one GEMM per trainable layer, B_lᵀ·A_l over all channel rows.
   */
  gradient(out: Ptr, beta: 0 | 1): void {
    const layers = this.net.layers;
    for (let l = this.net.firstTrainable; l < layers.length; l++) {
      const L = layers[l];
      if (L.paramOffset < 0) continue;
      this.hooks[l].gradient(this.kernels, this.n * this.S, this.a[l], this.b[l], out + 8 * L.paramOffset, beta);
    }
  }

  /** Frees the buffers. */
  dispose(): void {
    this.ws.dispose();
    this.n = 0;
  }
}
