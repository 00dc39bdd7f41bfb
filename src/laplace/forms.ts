/**
 * The four shapes of the Laplace posterior's curvature, each behind one interface ({@link PosteriorForm}).
 * All of them start from the same training capture: the forward pass at θ*, the loss's Gauss–Newton
 * seeds (the columns of Mᵢ with MᵢMᵢᵀ = Λᵢ: Λᵢ = I for squared error, diag(p) − ppᵀ for softmax
 * cross-entropy) back-propagated, so that row (i, c) of the stacked rows J̃ is B_l[(i, c)] ⊗ A_l[i] on
 * trainable layer l, and J̃ᵀJ̃ = JᵀΛJ (the GGN at unit noise). With δ the prior precision and σ the noise
 * (σ ≡ 1 for cross-entropy), each form stands for a precision H = M/σ² + δI:
 *
 * - 'full': M = J̃ᵀJ̃ (P × P) is never formed. With G = J̃J̃ᵀ ((n·k)², from the captures) and s = σ²δ,
 *   Woodbury gives H⁻¹ = (1/δ)·[I − J̃ᵀ(sI + G)⁻¹J̃], so for test rows J* (identity seeds)
 *   J*H⁻¹J*ᵀ = (1/δ)·[J*J*ᵀ − Cᵀ(sI + G)⁻¹C],   C = J̃J*ᵀ (the cross-Gram),
 *   log det(I + M/s) = log det(sI + G) − n·k·log s (the nonzero eigenvalues of M are G's).
 * - 'kfac': per trainable layer, M_l = S_l ⊗ A_l with A_l = (1/n)·Σᵢ āᵢāᵢᵀ and S_l = Σ_rows g gᵀ (the
 *   back-propagated seed rows): K-FAC's 'loss' normalisation, exact for one linear layer. The factors'
 *   eigenbases diagonalise it: μ_{o,j} = s_o·α_j.
 * - 'diagonal': M = diag(J̃ᵀJ̃), μ_p = Σ_rows J̃[r, p]².
 * - 'last-layer': only the output layer's [W | b] is random (the rest stays at θ*), with its exact GGN
 *   block M_L = Σᵢ (MᵢMᵢᵀ) ⊗ āᵢāᵢᵀ (P_L × P_L, P_L = k·inA), eigendecomposed.
 * The last three are block-diagonal over layers; 'kfac' and 'diagonal' ignore every cross-layer term.
 *
 * Layers reach the forms through the layer seam (nn/layer.ts): a layer with `kronecker` structure (dense)
 * is read through (A_l, B_l) as above; any other kind through its Jacobian rows (`jacobianRows`,
 * `size` values per row): 'full' forms its Gram block and its cross-Gram block from them
 * ((n·k) × size scratch, and (nt·k) × size per test chunk), 'diagonal' squares them, and 'kfac'
 * gives such a layer the diagonal block (as the K-FAC estimator does). 'last-layer' needs a
 * Kronecker output layer (laplace() refuses another kind, naming it).
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import { ConvergenceError } from '../errors.js';
import { gramFromCaptures } from '../nn/gram.js';
import { jtv, jvpFromCapture } from '../nn/jacobian.js';
import type { Capture, Net } from '../nn/net.js';
import type { Rng } from '../nn/random.js';
import { logDetFromSpectrum } from './evidence.js';

/** The posterior's structure once 'auto' is resolved. */
export type ResolvedStructure = 'full' | 'kfac' | 'diagonal' | 'last-layer';

/** One shape of the posterior precision H = M/σ² + δI; see the module documentation. */
export interface PosteriorForm {
  readonly structure: ResolvedStructure;
  /** T = ‖θ*‖² over the parameters the posterior covers. */
  readonly weightNormSq: number;
  /** Sets δ and σ² (factors what depends on them). */
  setScale(delta: number, sigma2: number): void;
  /** log det(I + M/(σ²δ)) at the δ, σ² of the last {@link setScale}. */
  logDet(): number;
  /** The eigenvalues of M that can be nonzero (computed on first call, then kept). */
  spectrum(): Float64Array;
  /**
   * out[t·k² + c·k + c′] ← (J*H⁻¹J*ᵀ)[(t, c), (t, c′)] for the nt test inputs of `test` (a capture
   * of them with identity seeds, q = k): each input's k × k function covariance.
   */
  covariance(test: Capture, out: Float64Array): void;
  /** out (numParams, flat layout) ← one draw of N(0, H⁻¹), from `rng`. */
  sample(rng: Rng, out: Float64Array): void;
  /** Values of backend memory a test chunk of nt inputs needs beyond its capture (for sizing chunks). */
  chunkValues(nt: number): number;
  dispose(): void;
}

/**
 * What 'kfac' and 'diagonal' keep after fitting (a saved posterior, src/cli/posterior-file.ts): per trainable
 * layer, in order, μ and, for 'kfac' on a dense layer, the eigenvectors of its two factors.
 */
export interface FactoredFactors {
  blocks: {
    /** The layer's index. */
    layer: number;
    /** The block's eigenvalues μ (m × inA; a layer of another kind: its size). */
    mu: Float64Array;
    /** inA × inA eigenvectors of A_l ('kfac', dense layers). */
    qa?: Float64Array;
    /** m × m eigenvectors of S_l ('kfac', dense layers). */
    qs?: Float64Array;
  }[];
}

/** What 'last-layer' keeps after fitting: the eigenvectors Q (P_L × P_L) and eigenvalues μ (P_L) of M_L. */
export interface LastLayerFactors {
  Q: Float64Array;
  mu: Float64Array;
}

/**
 * The state every form shares: the net, the number of examples and outputs, and a workspace, the
 * caller's: a form whose constructor throws never exists to be disposed, so the caller frees `ws` then.
 */
abstract class FormBase {
  protected readonly kernels: Kernels;
  protected delta = 1;
  protected sigma2 = 1;

  constructor(protected readonly net: Net, protected readonly ws: Workspace, protected readonly n: number, protected readonly k: number) {
    this.kernels = net.kernels;
  }

  dispose(): void {
    this.ws.dispose();
  }

  /** ‖θ*‖² over the trainable layers l with `which(l)`. */
  protected normSq(which: (l: number) => boolean): number {
    const h = this.kernels.f64(), p = this.net.paramsPtr >> 3;
    let s = 0;
    this.net.layers.forEach((L, l) => {
      if (!L.trainable || !which(l)) return;
      const o = p + L.paramOffset, len = L.size;
      for (let i = 0; i < len; i++) s += h[o + i] * h[o + i];
    });
    return s;
  }
}

/**
 * out[t·k² + c·k + c′] += Σ_o X[(t,c), o]·X[(t,c′), o]·W[t, o], X (nt·k) × m at element x, W nt × m at wt
 * (wstride = m) or one row m shared by every t (wstride = 0).
 */
function addBlocks(h: Float64Array, nt: number, k: number, m: number, x: number, wt: number, out: Float64Array, wstride = m): void {
  for (let t = 0; t < nt; t++) {
    const wrow = wt + t * wstride;
    for (let c = 0; c < k; c++) {
      const xc = x + (t * k + c) * m;
      for (let c2 = 0; c2 <= c; c2++) {
        const xd = x + (t * k + c2) * m;
        let s = 0;
        if (wt < 0) for (let o = 0; o < m; o++) s += h[xc + o] * h[xd + o];
        else for (let o = 0; o < m; o++) s += h[xc + o] * h[xd + o] * h[wrow + o];
        out[t * k * k + c * k + c2] += s;
        if (c2 !== c) out[t * k * k + c2 * k + c] += s;
      }
    }
  }
}

/** The largest block among the trainable layers without Kronecker structure (read through their Jacobian rows); 0 when none. */
export function rowsWidth(net: Net): number {
  let most = 0;
  for (const L of net.layers) if (L.trainable && !L.kronecker) most = Math.max(most, L.size);
  return most;
}

/** The 'full' GGN through the (n·k)² Gram and Woodbury's identity. */
export class FullForm extends FormBase implements PosteriorForm {
  readonly structure = 'full' as const;
  readonly weightNormSq: number;
  private readonly N: number;
  private readonly G: Ptr;
  private readonly L: Ptr;
  private eigen: Float64Array | undefined;

  constructor(net: Net, private readonly cap: Capture, ws: Workspace) {
    super(net, ws, cap.n, cap.q);
    this.N = this.n * this.k;
    this.weightNormSq = this.normSq(() => true);
    this.G = this.ws.get('G', this.N * this.N);
    this.L = this.ws.get('L', this.N * this.N);
    // The Gram's scratch (an (n·k)² block per trainable layer beyond the first) is freed at once:
    // what 'full' keeps is G, its factor and the eigenvectors, as values() counts.
    const scratch = new Workspace(net.kernels);
    try {
      gramFromCaptures(cap, cap, scratch, this.G);
    } finally {
      scratch.dispose();
    }
  }

  /** Values of backend memory 'full' holds for n·k = N beyond the capture: G, its factor, the eigenvectors optimize() makes. */
  static values(N: number): number {
    return 3 * N * N + 2 * N;
  }

  setScale(delta: number, sigma2: number): void {
    this.delta = delta; this.sigma2 = sigma2;
    const N = this.N, info = this.kernels.potrf(N, this.G, N, sigma2 * delta, this.L, N);
    if (info !== 0) throw new ConvergenceError(`laplace: σ²δI + G is not numerically positive definite (pivot ${info - 1}); raise the prior precision`);
  }

  logDet(): number {
    const h = this.kernels.f64(), N = this.N, L = this.L >> 3;
    let s = 0;
    for (let i = 0; i < N; i++) s += Math.log(h[L + i * N + i]);
    return 2 * s - N * Math.log(this.sigma2 * this.delta);
  }

  spectrum(): Float64Array {
    if (this.eigen) return this.eigen;
    const N = this.N, w = this.ws.get('eig.w', N), V = this.ws.get('eig.V', N * N);
    const info = this.kernels.syev(N, this.G, N, w, V, N);
    if (info !== 0) throw new ConvergenceError(`laplace: the eigendecomposition of the Gram matrix failed (code ${info})`);
    const h = this.kernels.f64();
    this.eigen = Float64Array.from(h.subarray(w >> 3, (w >> 3) + N), (v) => Math.max(v, 0));
    return this.eigen;
  }

  chunkValues(nt: number): number {
    const Nt = nt * this.k;
    return 2 * this.N * Nt + this.n * nt + Nt * rowsWidth(this.net);
  }

  covariance(test: Capture, out: Float64Array): void {
    const kernels = this.kernels, net = this.net, N = this.N, k = this.k, nt = test.n, Nt = nt * k, n = this.n;
    // Every block is allocated before the loop takes its views: an allocation can grow memory.
    const C = this.ws.get('C', N * Nt), Bx = this.ws.get('Bx', N * Nt), Ax = this.ws.get('Ax', n * nt), norms = this.ws.get('an', nt);
    const width = rowsWidth(net);
    const Jr = width > 0 ? this.ws.get('Jr', N * width) : 0, Jt = width > 0 ? this.ws.get('Jt', Nt * width) : 0;
    out.fill(0);
    let first = true;
    for (let l = 0; l < net.layers.length; l++) {
      const Ly = net.layers[l];
      if (!Ly.trainable) continue;
      if (!Ly.kronecker) {
        // Any other kind of layer, through its Jacobian rows: C (+)= J̃_l J*_lᵀ, and J*_l J*_lᵀ's diagonal blocks.
        const P = Ly.size;
        Ly.jacobianRows(kernels, n, k, this.cap.a[l], this.cap.b[l], Jr, P);
        Ly.jacobianRows(kernels, nt, k, test.a[l], test.b[l], Jt, P);
        kernels.gemm(0, 1, N, Nt, P, 1, Jr, P, Jt, P, first ? 0 : 1, C, Nt);
        first = false;
        addBlocks(kernels.f64(), nt, k, P, Jt >> 3, -1, out, 0);
        continue;
      }
      const m = Ly.outputs, inA = Ly.inA;
      // C += (A_train A_testᵀ ⊗ 1_{k×k}) ∘ (B_train B_testᵀ): the cross-Gram J̃J*ᵀ, layer by layer.
      kernels.gemm(0, 1, N, Nt, m, 1, this.cap.b[l], m, test.b[l], m, 0, Bx, Nt);
      kernels.gemm(0, 1, n, nt, inA, 1, this.cap.a[l], inA, test.a[l], inA, 0, Ax, nt);
      const h = kernels.f64(), c0 = C >> 3, b0 = Bx >> 3, a0 = Ax >> 3;
      for (let r = 0; r < N; r++) {
        const i = Math.floor(r / k), crow = c0 + r * Nt, brow = b0 + r * Nt, arow = a0 + i * nt;
        for (let t = 0; t < nt; t++) {
          const a = h[arow + t];
          for (let c = 0; c < k; c++) {
            const v = a * h[brow + t * k + c];
            h[crow + t * k + c] = first ? v : h[crow + t * k + c] + v;
          }
        }
      }
      first = false;
      // J*J*ᵀ's diagonal blocks: (ā_t·ā_t)·B_test[(t,c)]·B_test[(t,c′)].
      const A = test.a[l] >> 3, An = norms >> 3;
      for (let t = 0; t < nt; t++) {
        let s = 0;
        for (let j = 0; j < inA; j++) s += h[A + t * inA + j] * h[A + t * inA + j];
        h[An + t] = s;
      }
      addBlocksScaledRows(h, nt, k, m, test.b[l] >> 3, An, out);
    }
    if (first) return;
    // W = L⁻¹C, so Cᵀ(sI + G)⁻¹C = WᵀW.
    kernels.trsm(0, N, Nt, this.L, N, C, Nt);
    const h = kernels.f64(), W = C >> 3, kk = k * k;
    const acc = new Float64Array(nt * kk);
    for (let r = 0; r < N; r++) {
      const row = W + r * Nt;
      for (let t = 0; t < nt; t++) {
        for (let c = 0; c < k; c++) {
          const x = h[row + t * k + c];
          if (x === 0) continue;
          for (let c2 = 0; c2 < k; c2++) acc[t * kk + c * k + c2] += x * h[row + t * k + c2];
        }
      }
    }
    const inv = 1 / this.delta;
    for (let i = 0; i < out.length; i++) out[i] = inv * (out[i] - acc[i]);
  }

  sample(rng: Rng, out: Float64Array): void {
    // v = √δ·z₁ + J̃ᵀz₂/σ has covariance δI + J̃ᵀJ̃/σ² = H, so H⁻¹v ~ N(0, H⁻¹).
    const N = this.N, P = this.net.numParams;
    const v = this.ws.get('s.v', P), z = this.ws.get('s.z', N);
    const h = this.kernels.f64();
    const sd = Math.sqrt(this.delta), V = v >> 3, Z = z >> 3;
    for (let i = 0; i < P; i++) h[V + i] = sd * rng.normal();
    for (let i = 0; i < N; i++) h[Z + i] = rng.normal();
    jtv(this.cap, this.ws, z, 1 / Math.sqrt(this.sigma2), v, 1);
    this.shiftedSolve(v);
    // H⁻¹ = σ²·(J̃ᵀJ̃ + sI)⁻¹.
    const h2 = this.kernels.f64();
    for (let i = 0; i < P; i++) out[i] = this.sigma2 * h2[V + i];
  }

  /**
   * v (numParams, in place) ← (J̃ᵀJ̃ + sI)⁻¹v, s = σ²δ, by Woodbury: (1/s)·[v − J̃ᵀ(sI + G)⁻¹J̃v]. The net must be at θ*.
   */
  shiftedSolve(v: Ptr): void {
    const kernels = this.kernels, N = this.N, P = this.net.numParams, k = this.k;
    const x = this.ws.get('s.x', N), ju = this.ws.get('s.ju', N);
    // x = J̃v: Jv (n × k) by forward mode, then each example's seeds: (J̃v)[(i,c)] = Σ_j B_last[(i,c), j]·(Jv)[i, j].
    jvpFromCapture(this.cap, this.ws, v, ju);
    let h = kernels.f64();
    const Bl = this.cap.b[this.cap.b.length - 1] >> 3, JU = ju >> 3, X = x >> 3;
    for (let i = 0; i < this.n; i++) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += h[Bl + (i * k + c) * k + j] * h[JU + i * k + j];
        h[X + i * k + c] = s;
      }
    }
    kernels.potrs(N, 1, this.L, N, x, 1);
    jtv(this.cap, this.ws, x, -1, v, 1);
    h = kernels.f64();
    const inv = 1 / (this.sigma2 * this.delta), V = v >> 3;
    for (let i = 0; i < P; i++) h[V + i] *= inv;
  }

  /** (J̃ᵀJ̃ + σ²δI)⁻¹v for a plain array v (numParams): {@link shiftedSolve} through the workspace. */
  solve(v: Float64Array): Float64Array {
    const P = this.net.numParams, p = this.ws.get('s.in', P);
    this.kernels.f64().set(v, p >> 3);
    this.shiftedSolve(p);
    return this.kernels.f64().slice(p >> 3, (p >> 3) + P);
  }
}

/** out[t·k² + c·k + c′] += w_t·Σ_o X[(t,c), o]·X[(t,c′), o] with w_t = h[wt + t]. */
function addBlocksScaledRows(h: Float64Array, nt: number, k: number, m: number, x: number, wt: number, out: Float64Array): void {
  for (let t = 0; t < nt; t++) {
    const w = h[wt + t];
    for (let c = 0; c < k; c++) {
      const xc = x + (t * k + c) * m;
      for (let c2 = 0; c2 <= c; c2++) {
        const xd = x + (t * k + c2) * m;
        let s = 0;
        for (let o = 0; o < m; o++) s += h[xc + o] * h[xd + o];
        out[t * k * k + c * k + c2] += w * s;
        if (c2 !== c) out[t * k * k + c2 * k + c] += w * s;
      }
    }
  }
}

/**
 * One trainable layer of a factored form: optional eigenbases of its two factors and the m × inA eigenvalues of
 * its block. A layer without Kronecker structure has a diagonal block of its `size` values (m = size, inA = 1).
 */
interface FactoredBlock {
  layer: number;
  /** Whether the block is read through the layer's Jacobian rows (no Kronecker structure). */
  rows: boolean;
  m: number;
  inA: number;
  /** inA × inA eigenvectors (columns) of A_l, or 0 (identity: 'diagonal'). */
  qa: Ptr;
  /** m × m eigenvectors (columns) of S_l, or 0. */
  qs: Ptr;
  /** μ (m × inA, the parameter block's layout): the block's eigenvalues. */
  mu: Ptr;
  /** 1/(μ/σ² + δ) at the current scale. */
  d: Ptr;
}

/** 'kfac' (Kronecker factors in their eigenbases) and 'diagonal' (the identity basis). */
export class FactoredForm extends FormBase implements PosteriorForm {
  readonly weightNormSq: number;
  private readonly blocks: FactoredBlock[] = [];
  private eigen: Float64Array | undefined;

  /** Fitted from the training capture `source`, or restored from saved factors (checked by the caller against the net). */
  constructor(net: Net, source: Capture | FactoredFactors, ws: Workspace, readonly structure: 'kfac' | 'diagonal') {
    super(net, ws, 'blocks' in source ? 0 : source.n, net.outputDim);
    this.weightNormSq = this.normSq(() => true);
    if ('blocks' in source) {
      for (const saved of source.blocks) this.restoreBlock(saved);
      return;
    }
    const cap = source;
    const kernels = this.kernels, n = this.n, k = this.k, N = n * k;
    net.layers.forEach((Ly, l) => {
      if (!Ly.trainable) return;
      if (!Ly.kronecker) {
        // diag(J̃_lᵀJ̃_l) from the layer's Jacobian rows, in a scratch freed at once.
        const P = Ly.size, mu = this.ws.get(`mu${l}`, P), d = this.ws.get(`d${l}`, P), scratch = new Workspace(kernels);
        try {
          const J = scratch.get('rows', N * P);
          Ly.jacobianRows(kernels, n, k, cap.a[l], cap.b[l], J, P);
          const h = kernels.f64(), J0 = J >> 3, MU = mu >> 3;
          h.fill(0, MU, MU + P);
          for (let r = 0; r < N; r++) for (let p = 0; p < P; p++) { const x = h[J0 + r * P + p]; h[MU + p] += x * x; }
        } finally {
          scratch.dispose();
        }
        this.blocks.push({ layer: l, rows: true, m: P, inA: 1, qa: 0, qs: 0, mu, d });
        return;
      }
      const m = Ly.outputs, inA = Ly.inA;
      const mu = this.ws.get(`mu${l}`, m * inA), d = this.ws.get(`d${l}`, m * inA);
      let qa = 0, qs = 0;
      if (structure === 'kfac') {
        const fa = this.ws.get('fa', inA * inA), fs = this.ws.get('fs', m * m);
        const wa = this.ws.get('wa', inA), wsv = this.ws.get('ws', m);
        qa = this.ws.get(`qa${l}`, inA * inA);
        qs = this.ws.get(`qs${l}`, m * m);
        kernels.syrk(1, inA, n, 1 / n, cap.a[l], inA, 0, fa, inA);
        kernels.syrk(1, m, N, 1, cap.b[l], m, 0, fs, m);
        let info = kernels.syev(inA, fa, inA, wa, qa, inA);
        if (info === 0) info = kernels.syev(m, fs, m, wsv, qs, m);
        if (info !== 0) throw new ConvergenceError(`laplace: the eigendecomposition of layer ${l}'s Kronecker factor failed (code ${info})`);
        const h = kernels.f64(), MU = mu >> 3, WA = wa >> 3, WS = wsv >> 3;
        for (let o = 0; o < m; o++) {
          const so = Math.max(h[WS + o], 0);
          for (let j = 0; j < inA; j++) h[MU + o * inA + j] = so * Math.max(h[WA + j], 0);
        }
      } else {
        // diag(J̃ᵀJ̃) on layer l: μ[o, j] = Σᵢ (Σ_c B[(i,c), o]²)·A[i, j]², one GEMM.
        const bs = this.ws.get('bsq', n * m), as = this.ws.get('asq', n * inA);
        const h = kernels.f64(), B = cap.b[l] >> 3, A = cap.a[l] >> 3, BS = bs >> 3, AS = as >> 3;
        for (let i = 0; i < n; i++) {
          for (let o = 0; o < m; o++) {
            let s = 0;
            for (let c = 0; c < k; c++) { const x = h[B + (i * k + c) * m + o]; s += x * x; }
            h[BS + i * m + o] = s;
          }
          for (let j = 0; j < inA; j++) { const x = h[A + i * inA + j]; h[AS + i * inA + j] = x * x; }
        }
        kernels.gemm(1, 0, m, inA, n, 1, bs, m, as, inA, 0, mu, inA);
      }
      this.blocks.push({ layer: l, rows: false, m, inA, qa, qs, mu, d });
    });
  }

  /** The block of a saved layer, its arrays copied into the workspace. */
  private restoreBlock(saved: FactoredFactors['blocks'][number]): void {
    const l = saved.layer, Ly = this.net.layers[l], rows = !Ly.kronecker;
    const m = rows ? Ly.size : Ly.outputs, inA = rows ? 1 : Ly.inA;
    const mu = this.ws.get(`mu${l}`, m * inA), d = this.ws.get(`d${l}`, m * inA);
    const qa = saved.qa ? this.ws.get(`qa${l}`, inA * inA) : 0, qs = saved.qs ? this.ws.get(`qs${l}`, m * m) : 0;
    const h = this.kernels.f64();
    h.set(saved.mu, mu >> 3);
    if (saved.qa) h.set(saved.qa, qa >> 3);
    if (saved.qs) h.set(saved.qs, qs >> 3);
    this.blocks.push({ layer: l, rows, m, inA, qa, qs, mu, d });
  }

  /** The factors prediction needs (copies), for a saved posterior. */
  factors(): FactoredFactors {
    const h = this.kernels.f64(), copy = (p: Ptr, len: number) => h.slice(p >> 3, (p >> 3) + len);
    return {
      blocks: this.blocks.map((b) => ({
        layer: b.layer, mu: copy(b.mu, b.m * b.inA),
        ...(b.qa !== 0 ? { qa: copy(b.qa, b.inA * b.inA) } : {}),
        ...(b.qs !== 0 ? { qs: copy(b.qs, b.m * b.m) } : {}),
      })),
    };
  }

  setScale(delta: number, sigma2: number): void {
    this.delta = delta; this.sigma2 = sigma2;
    const h = this.kernels.f64();
    for (const b of this.blocks) {
      const MU = b.mu >> 3, D = b.d >> 3;
      for (let i = 0; i < b.m * b.inA; i++) h[D + i] = 1 / (h[MU + i] / sigma2 + delta);
    }
  }

  logDet(): number {
    return logDetFromSpectrum(this.spectrum(), this.sigma2 * this.delta);
  }

  spectrum(): Float64Array {
    if (this.eigen) return this.eigen;
    const h = this.kernels.f64(), parts: number[] = [];
    for (const b of this.blocks) for (let i = 0; i < b.m * b.inA; i++) parts.push(Math.max(h[(b.mu >> 3) + i], 0));
    this.eigen = Float64Array.from(parts);
    return this.eigen;
  }

  chunkValues(nt: number): number {
    let most = 0;
    for (const b of this.blocks) most = Math.max(most, b.rows ? nt * this.k * b.m : nt * this.k * b.m + 2 * nt * b.inA + nt * b.m);
    return most;
  }

  covariance(test: Capture, out: Float64Array): void {
    const kernels = this.kernels, k = this.k, nt = test.n, Nt = nt * k;
    out.fill(0);
    for (const b of this.blocks) {
      const { m, inA } = b;
      if (b.rows) {
        // Σ_p J*[(t,c), p]·J*[(t,c′), p]·d[p] from the layer's Jacobian rows at the test inputs.
        const L = this.net.layers[b.layer], Jt = this.ws.get('Jt', Nt * m);
        L.jacobianRows(kernels, nt, k, test.a[b.layer], test.b[b.layer], Jt, m);
        addBlocks(kernels.f64(), nt, k, m, Jt >> 3, b.d >> 3, out, 0);
        continue;
      }
      // In the eigenbases, row (t, c) of J* on this layer is B̂[(t,c)] ⊗ Â[t] with B̂ = B·Q_S, Â = A·Q_A, and
      // H_l⁻¹ is diagonal there: the covariance block is Σ_o B̂[(t,c),o]·B̂[(t,c′),o]·Σ_j Â[t,j]²·d[o,j].
      let ahat = test.a[b.layer], bhat = test.b[b.layer];
      if (b.qa !== 0) {
        const t1 = this.ws.get('ahat', nt * inA);
        kernels.gemm(0, 0, nt, inA, inA, 1, ahat, inA, b.qa, inA, 0, t1, inA);
        ahat = t1;
      }
      if (b.qs !== 0) {
        const t2 = this.ws.get('bhat', Nt * m);
        kernels.gemm(0, 0, Nt, m, m, 1, bhat, m, b.qs, m, 0, t2, m);
        bhat = t2;
      }
      const asq = this.ws.get('asq2', nt * inA), w = this.ws.get('w', nt * m);
      let h = kernels.f64();
      const S = ahat >> 3, AQ = asq >> 3;
      for (let i = 0; i < nt * inA; i++) h[AQ + i] = h[S + i] * h[S + i];
      kernels.gemm(0, 1, nt, m, inA, 1, asq, inA, b.d, inA, 0, w, m);
      h = kernels.f64();
      addBlocks(h, nt, k, m, bhat >> 3, w >> 3, out);
    }
  }

  sample(rng: Rng, out: Float64Array): void {
    const kernels = this.kernels;
    out.fill(0);
    for (const b of this.blocks) {
      const { m, inA } = b, size = m * inA;
      const e = this.ws.get('s.e', size), t = this.ws.get('s.t', size), r = this.ws.get('s.r', size);
      let h = kernels.f64();
      const E = e >> 3, D = b.d >> 3;
      for (let i = 0; i < size; i++) h[E + i] = Math.sqrt(h[D + i]) * rng.normal();
      // ε_l = Q_S·(√d ∘ Z)·Q_Aᵀ: the eigenbasis draw rotated back to the layer's [W | b].
      let res = e;
      if (b.qs !== 0) {
        kernels.gemm(0, 0, m, inA, m, 1, b.qs, m, e, inA, 0, t, inA);
        kernels.gemm(0, 1, m, inA, inA, 1, t, inA, b.qa, inA, 0, r, inA);
        res = r;
      }
      h = kernels.f64();
      const off = this.net.layers[b.layer].paramOffset;
      out.set(h.subarray(res >> 3, (res >> 3) + size), off);
    }
  }
}

/** 'last-layer': the output layer's exact GGN block, P_L × P_L, eigendecomposed. */
export class LastLayerForm extends FormBase implements PosteriorForm {
  readonly structure = 'last-layer' as const;
  readonly weightNormSq: number;
  private readonly layer: number;
  private readonly inA: number;
  private readonly PL: number;
  private readonly Q: Ptr;
  private readonly mu: Float64Array;
  private readonly d: Float64Array;

  /** Fitted from the training capture `source`, or restored from saved factors (checked by the caller against the net). */
  constructor(net: Net, source: Capture | LastLayerFactors, ws: Workspace) {
    super(net, ws, 'Q' in source ? 0 : source.n, net.outputDim);
    const l = net.layers.length - 1, Ly = net.layers[l], n = this.n, k = this.k, inA = Ly.inA, PL = k * inA;
    this.layer = l; this.inA = inA; this.PL = PL;
    this.weightNormSq = this.normSq((i) => i === l);
    this.d = new Float64Array(PL);
    if ('Q' in source) {
      this.Q = this.ws.get('Q', PL * PL);
      this.kernels.f64().set(source.Q, this.Q >> 3);
      this.mu = source.mu.slice();
      return;
    }
    const cap = source;
    const kernels = this.kernels;
    const M = this.ws.get('M', PL * PL), S = this.ws.get('S', n * inA), w = this.ws.get('w', PL);
    this.Q = this.ws.get('Q', PL * PL);
    // Block (o, o′) of M_L = Σᵢ (MᵢMᵢᵀ)[o, o′]·āᵢāᵢᵀ, with (MᵢMᵢᵀ)[o, o′] = Σ_c B[(i,c), o]·B[(i,c), o′].
    for (let o = 0; o < k; o++) {
      for (let o2 = 0; o2 <= o; o2++) {
        const h = kernels.f64(), B = cap.b[l] >> 3, A = cap.a[l] >> 3, SS = S >> 3;
        for (let i = 0; i < n; i++) {
          let wi = 0;
          for (let c = 0; c < k; c++) wi += h[B + (i * k + c) * k + o] * h[B + (i * k + c) * k + o2];
          for (let j = 0; j < inA; j++) h[SS + i * inA + j] = wi * h[A + i * inA + j];
        }
        kernels.gemm(1, 0, inA, inA, n, 1, S, inA, cap.a[l], inA, 0, M + 8 * (o * inA * PL + o2 * inA), PL);
      }
    }
    const info = kernels.syev(PL, M, PL, w, this.Q, PL);
    if (info !== 0) throw new ConvergenceError(`laplace: the eigendecomposition of the last layer's GGN failed (code ${info})`);
    const h = kernels.f64();
    this.mu = Float64Array.from(h.subarray(w >> 3, (w >> 3) + PL), (v) => Math.max(v, 0));
  }

  /** The factors prediction needs (copies), for a saved posterior. */
  factors(): LastLayerFactors {
    const h = this.kernels.f64(), Q = this.Q >> 3;
    return { Q: h.slice(Q, Q + this.PL * this.PL), mu: this.mu.slice() };
  }

  /** Values of backend memory 'last-layer' holds for a last layer of P_L parameters beyond the capture. */
  static values(PL: number, n: number, inA: number): number {
    return 2 * PL * PL + n * inA + PL;
  }

  setScale(delta: number, sigma2: number): void {
    this.delta = delta; this.sigma2 = sigma2;
    for (let j = 0; j < this.PL; j++) this.d[j] = 1 / (this.mu[j] / sigma2 + delta);
  }

  logDet(): number {
    return logDetFromSpectrum(this.mu, this.sigma2 * this.delta);
  }

  spectrum(): Float64Array {
    return this.mu;
  }

  chunkValues(nt: number): number {
    return this.k * nt * this.PL;
  }

  covariance(test: Capture, out: Float64Array): void {
    const kernels = this.kernels, k = this.k, nt = test.n, PL = this.PL, inA = this.inA;
    // Row (t, c) of J*_L is e_c ⊗ ā_t, so J*_L·Q's row (t, c) is ā_t·Q[c·inA .. (c+1)·inA, :].
    const R = this.ws.get('R', k * nt * PL);
    for (let c = 0; c < k; c++) {
      kernels.gemm(0, 0, nt, PL, inA, 1, test.a[this.layer], inA, this.Q + 8 * c * inA * PL, PL, 0, R + 8 * c * nt * PL, PL);
    }
    const h = kernels.f64(), R0 = R >> 3, d = this.d;
    for (let t = 0; t < nt; t++) {
      for (let c = 0; c < k; c++) {
        const rc = R0 + (c * nt + t) * PL;
        for (let c2 = 0; c2 <= c; c2++) {
          const rd = R0 + (c2 * nt + t) * PL;
          let s = 0;
          for (let j = 0; j < PL; j++) s += h[rc + j] * h[rd + j] * d[j];
          out[t * k * k + c * k + c2] = s;
          out[t * k * k + c2 * k + c] = s;
        }
      }
    }
  }

  sample(rng: Rng, out: Float64Array): void {
    const kernels = this.kernels, PL = this.PL;
    const e = this.ws.get('s.e', PL), r = this.ws.get('s.r', PL);
    let h = kernels.f64();
    const E = e >> 3;
    for (let j = 0; j < PL; j++) h[E + j] = Math.sqrt(this.d[j]) * rng.normal();
    kernels.gemm(0, 0, PL, 1, PL, 1, this.Q, PL, e, 1, 0, r, 1);
    h = kernels.f64();
    out.fill(0);
    out.set(h.subarray(r >> 3, (r >> 3) + PL), this.net.layers[this.layer].paramOffset);
  }
}
