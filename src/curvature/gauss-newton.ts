/**
 * The exact curvature of natural gradient descent: the damped Gauss–Newton system
 * an NGD step solves, in its two forms, and the solver with its fallback chain.
 * (The Kronecker-factored approximation of the same matrix is kronecker.ts.)
 *
 * With J̃ the stacked Gauss–Newton rows ((n·k) × P, see losses.ts) and c the
 * vector with J̃ᵀc = g = ∇θL, the damped natural-gradient direction is
 *   d = −(J̃ᵀJ̃ + λI)⁻¹ g = −J̃ᵀ(J̃J̃ᵀ + λI)⁻¹ c        (push-through identity).
 * - Gram form: solve (G + λI)x = c with G = J̃J̃ᵀ ((n·k)², matrix-free), d = −J̃ᵀx.
 * - Parameter form: solve (F + λI)x = g with F = J̃ᵀJ̃ (P², via explicit J̃), d = −x.
 * The Gram form is the paper's Eq. 3 (λ → 0: d = −J̃⁺ c, the minimum-norm step).
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import type { Workspace } from '../backend/matrix.js';
import { ConvergenceError } from '../errors.js';
import { gramFromCaptures, type GramOptions } from '../nn/gram.js';
import { jtv, writeJacobian } from '../nn/jacobian.js';
import type { Loss } from '../nn/losses.js';
import type { Batch, Capture, Net } from '../nn/net.js';
import { dot } from '../backend/vectors.js';

/** Quantities of a solution x that the step statistics and the quadratic model need. */
export interface DirectionMeasures {
  /** ‖g‖². */
  gradSq: number;
  /** gᵀd (< 0 for a descent direction). */
  gDotD: number;
  /** dᵀFd, F = J̃ᵀJ̃ the undamped Gauss–Newton matrix. */
  dFd: number;
}

/**
 * One form of the system M x = b: built from a batch, then solved for any
 * damping. The solvers factor M in place (no second N² buffer); a retry or the
 * eigh fallback first calls `restore()`, which rebuilds M from what the build
 * kept (the captured A_l, B_l, or the explicit J̃) without a new forward pass.
 */
export interface GaussNewtonSystem {
  readonly form: 'gram' | 'param';
  /** N: the system's order. */
  readonly size: number;
  /** N × N symmetric M; overwritten by its Cholesky factor while `intact` is false. */
  readonly matrix: Ptr;
  /** The right-hand side b (N). */
  readonly rhs: Ptr;
  /** Whether `matrix` holds M (true after build and restore). */
  intact: boolean;
  /** Forward, Gauss–Newton factor, backward and M, b for the batch; returns L(θ). */
  build(net: Net, cap: Capture, ws: Workspace, batch: Batch, loss: Loss): number;
  /** Rebuilds M into `matrix` after a factorisation overwrote it. */
  restore(): void;
  /** θ ← θ + alpha·d(x) in place, d(x) = −J̃ᵀx (Gram) or −x (parameter). */
  apply(x: Ptr, alpha: number): void;
  /** The measures of d(x), given mx = M·x. */
  measure(x: Ptr, mx: Ptr): DirectionMeasures;
}

/**
 * Forward (skipped when `cap` already holds this θ's pass on this batch, as after an accepted
 * step whose loss was evaluated in it), loss factor at (b_last, c), backward: the shared first
 * half of both builds.
 */
function factorPass(net: Net, cap: Capture, batch: Batch, loss: Loss, c: Ptr): number {
  const { X, Y, n } = batch, k = net.outputDim;
  net.forwardUnlessHeld(cap, X, n, k);
  const value = loss.gaussNewton(net.kernels.f64(), cap.output >> 3, Y, n, k, cap.b[cap.b.length - 1] >> 3, c >> 3);
  net.backward(cap);
  return value;
}


/** M·v into out (N), by GEMM. */
function matvec(kernels: Kernels, N: number, M: Ptr, v: Ptr, out: Ptr): void {
  kernels.gemm(0, 0, N, 1, N, 1, M, N, v, 1, 0, out, 1);
}

/** The state both forms keep: the system's buffers in the optimizer's workspace and the net they were built for. */
abstract class SystemBuffers {
  size = 0;
  matrix: Ptr = 0;
  rhs: Ptr = 0;
  intact = false;
  protected net!: Net;
}

/** The Gram form: G = J̃J̃ᵀ ((n·k)²) as a sum of Hadamard products of per-layer Grams; b = c. */
export class GramSystem extends SystemBuffers implements GaussNewtonSystem {
  readonly form = 'gram' as const;
  /** How G's per-layer blocks are assembled (the bit-mask Gram where it applies, unless turned off). */
  constructor(private readonly gramOptions: GramOptions = {}) {
    super();
  }
  private cap!: Capture;
  private ws!: Workspace;
  /** G·c, taken while G is intact: ‖g‖² = cᵀGc. */
  private mb: Ptr = 0;

  build(net: Net, cap: Capture, ws: Workspace, batch: Batch, loss: Loss): number {
    const N = batch.n * net.outputDim;
    this.net = net; this.cap = cap; this.ws = ws; this.size = N;
    this.matrix = ws.get('gram.G', N * N);
    this.rhs = ws.get('gram.c', N);
    this.mb = ws.get('gram.Gc', N);
    const value = factorPass(net, cap, batch, loss, this.rhs);
    this.fill(false);
    matvec(net.kernels, N, this.matrix, this.rhs, this.mb);
    return value;
  }

  restore(): void {
    this.fill(true);
  }

  /** G into `matrix`; `rebuild` when the build's own G is made again (a retry), not a new batch's. */
  private fill(rebuild: boolean): void {
    gramFromCaptures(this.cap, this.cap, this.ws, this.matrix, this.gramOptions, rebuild);
    this.intact = true;
  }

  apply(x: Ptr, alpha: number): void {
    jtv(this.cap, this.ws, x, -alpha, this.net.paramsPtr, 1);
  }

  measure(x: Ptr, mx: Ptr): DirectionMeasures {
    const h = this.net.kernels.f64(), N = this.size;
    // g = J̃ᵀc, d = −J̃ᵀx: every inner product reduces to one with G.
    return {
      gradSq: dot(h, this.rhs, this.mb, N),
      gDotD: -dot(h, this.rhs, mx, N),
      dFd: dot(h, mx, mx, N),
    };
  }
}

/** The parameter form: F = J̃ᵀJ̃ (P²) from the explicit J̃ ((n·k) × P, small nets only); b = g = J̃ᵀc. */
export class ParamSystem extends SystemBuffers implements GaussNewtonSystem {
  readonly form = 'param' as const;
  private J: Ptr = 0;
  private rows = 0;

  build(net: Net, cap: Capture, ws: Workspace, batch: Batch, loss: Loss): number {
    const N = batch.n * net.outputDim, P = net.numParams;
    this.net = net; this.size = P; this.rows = N;
    this.matrix = ws.get('param.F', P * P);
    this.rhs = ws.get('param.g', P);
    this.J = ws.get('param.J', N * P);
    const c = ws.get('param.c', N);
    const value = factorPass(net, cap, batch, loss, c);
    writeJacobian(cap, this.J);
    net.kernels.gemm(1, 0, P, 1, N, 1, this.J, P, c, 1, 0, this.rhs, 1);
    this.restore();
    return value;
  }

  restore(): void {
    const P = this.size;
    this.net.kernels.syrk(1, P, this.rows, 1, this.J, P, 0, this.matrix, P);
    this.intact = true;
  }

  apply(x: Ptr, alpha: number): void {
    const h = this.net.kernels.f64(), t = this.net.paramsPtr >> 3, xi = x >> 3;
    for (let i = 0; i < this.size; i++) h[t + i] -= alpha * h[xi + i];
  }

  measure(x: Ptr, mx: Ptr): DirectionMeasures {
    const h = this.net.kernels.f64(), P = this.size;
    return {
      gradSq: dot(h, this.rhs, this.rhs, P),
      gDotD: -dot(h, this.rhs, x, P),
      dFd: dot(h, x, mx, P),
    };
  }
}

/**
 * Estimated flops of one step in each form, for form 'auto': the Gram form
 * costs two SYRKs per trainable dense layer (one over its Jacobian rows for another kind) plus an (n·k)³/3 Cholesky, the parameter
 * form a P²·(n·k) SYRK plus a P³/3 Cholesky.
 */
export function preferredForm(net: Net, n: number): 'gram' | 'param' {
  const N = n * net.outputDim, P = net.numParams;
  let gram = N * N * N / 3;
  for (const L of net.layers) {
    if (!L.trainable) continue;
    // A Kronecker (dense) layer's block is two Grams and a Hadamard product; another layer's is
    // formed from its Jacobian rows, J̃_l J̃_lᵀ.
    gram += L.kronecker ? n * n * L.inA + N * N * L.outputs + 2 * N * L.outputs * L.inA : N * N * L.size + N * L.size;
  }
  const param = N * P * P + P * P * P / 3 + 2 * N * P;
  return param < gram ? 'param' : 'gram';
}

/**
 * x ← (M + λI)⁻¹ b by Cholesky, factoring M in place, and mx ← M·x = b − λx;
 * false when M + λI is not numerically positive definite (x undefined).
 */
export function choleskySolve(kernels: Kernels, sys: GaussNewtonSystem, damping: number, x: Ptr, mx: Ptr): boolean {
  const N = sys.size;
  if (!sys.intact) sys.restore();
  sys.intact = false;
  if (kernels.potrf(N, sys.matrix, N, damping, sys.matrix, N) !== 0) return false;
  const h = kernels.f64();
  h.copyWithin(x >> 3, sys.rhs >> 3, (sys.rhs >> 3) + N);
  kernels.potrs(N, 1, sys.matrix, N, x, 1);
  const h2 = kernels.f64(), X = x >> 3, MX = mx >> 3, B = sys.rhs >> 3;
  for (let i = 0; i < N; i++) h2[MX + i] = h2[B + i] - damping * h2[X + i];
  return true;
}

/**
 * x ← (M + λI)⁺ b and mx ← M·x through the eigendecomposition M = V diag(w) Vᵀ,
 * dropping eigenvalues w_i + λ ≤ N·ε·max|w + λ| (numerically zero or negative):
 * the minimum-norm solution, for singular or slightly indefinite M. Throws
 * ConvergenceError if the eigensolver fails.
 */
export function eighSolve(kernels: Kernels, ws: Workspace, sys: GaussNewtonSystem, damping: number, x: Ptr, mx: Ptr): void {
  const N = sys.size;
  if (!sys.intact) sys.restore();
  const w = ws.get('eig.w', N), V = ws.get('eig.V', N * N), t = ws.get('eig.t', N), wt = ws.get('eig.wt', N);
  const info = kernels.syev(N, sys.matrix, N, w, V, N);
  if (info !== 0) throw new ConvergenceError(`ngd: the damped curvature is not positive definite and its eigendecomposition failed (code ${info})`);
  kernels.gemm(1, 0, N, 1, N, 1, V, N, sys.rhs, 1, 0, t, 1);
  const h = kernels.f64(), W = w >> 3, T = t >> 3, WT = wt >> 3;
  let top = 0;
  for (let i = 0; i < N; i++) top = Math.max(top, Math.abs(h[W + i] + damping));
  const tol = N * Number.EPSILON * top;
  for (let i = 0; i < N; i++) {
    const e = h[W + i] + damping;
    const y = e > tol ? h[T + i] / e : 0;
    h[T + i] = y;
    h[WT + i] = h[W + i] * y;
  }
  kernels.gemm(0, 0, N, 1, N, 1, V, N, t, 1, 0, x, 1);
  kernels.gemm(0, 0, N, 1, N, 1, V, N, wt, 1, 0, mx, 1);
}
