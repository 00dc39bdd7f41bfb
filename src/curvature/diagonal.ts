/**
 * K-FAC's fallback block for a layer without Kronecker structure (a layer of the seam, nn/layer.ts,
 * whose Jacobian rows are not B ⊗ A): the diagonal of its Gauss–Newton block,
 *
 *     D = c · Σ_rows (J̃_r)²   (entrywise; J̃_r the layer's columns of one stacked Fisher row),
 *
 * folded into the same weighted moving average as the Kronecker factors (ema.ts), damped and
 * inverted entrywise: (D + λ)⁻¹. c is 1 under the K-FAC estimator's 'loss' normalisation (D is
 * then the exact diagonal of the loss's Gauss–Newton block for the Fisher rows given) and n under
 * 'sum' (the factors' convention there, n times the loss's). It depends only on the rows handed
 * to it, never on a model.
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import { Workspace } from '../backend/matrix.js';
import type { StateReader, StateValue } from '../encoding/state.js';
import { ArgumentError, FormatError, NonFiniteError, StateError } from '../errors.js';
import { checkNonNegative } from '../validate.js';
import { emaStep } from './ema.js';
import type { KroneckerConditionNumbers } from './kronecker.js';

/** What the cached inverse of a {@link DiagonalBlock} was built with. */
export interface DiagonalInverseInfo {
  /** λ given to updateInverse. */
  damping: number;
  /** updateFactors calls the inverse reflects. */
  updates: number;
}

/** The diagonal Gauss–Newton block of one layer's `size` parameters. */
export class DiagonalBlock {
  private readonly ws: Workspace;
  private readonly diag: Ptr;
  private readonly inv: Ptr;
  private emaWeight = 0;
  private updatesCount = 0;
  private info: DiagonalInverseInfo | undefined;
  private disposed = false;

  /**
   * @param kernels the backend whose memory holds the block
   * @param size the layer's number of parameters
   * @param decay the moving average's decay ∈ [0, 1]
   */
  constructor(readonly kernels: Kernels, readonly size: number, readonly decay: number) {
    this.ws = new Workspace(kernels);
    this.diag = this.ws.get('D', size);
    this.inv = this.ws.get('inv', size);
    // The first update scales D by 0: it must not hold a NaN left by the memory's last owner.
    kernels.f64().fill(0, this.diag >> 3, (this.diag >> 3) + size);
  }

  /**
   * Folds one batch into D: rows r = first, first + step, … (count of them) of the row-major
   * rows at `rows` (leading dimension `size`), each scaled by c: D ← oldScale·D + newScale·c·Σ J̃_r².
   * NonFiniteError (nothing changed) when a row holds NaN or ±∞.
   */
  update(rows: Ptr, first: number, step: number, count: number, c: number): void {
    this.live();
    const k = this.kernels, P = this.size;
    for (let j = 0; j < count; j++) {
      const r = rows + 8 * (first + j * step) * P;
      const bad = k.firstNonFinite(P, r);
      if (bad >= 0) throw new NonFiniteError('jacobian rows', j * P + bad, k.f64()[(r >> 3) + bad]);
    }
    const s = emaStep(this.decay, this.emaWeight);
    const h = k.f64(), D = this.diag >> 3, R = rows >> 3, a = s.newScale * c;
    for (let p = 0; p < P; p++) h[D + p] *= s.oldScale;
    for (let j = 0; j < count; j++) {
      const row = R + (first + j * step) * P;
      for (let p = 0; p < P; p++) h[D + p] += a * h[row + p] * h[row + p];
    }
    this.emaWeight = s.weight;
    this.updatesCount++;
  }

  /** Caches (D + λ)⁻¹. ArgumentError when an entry of D + λ is not > 0 (λ = 0 on a zero entry: raise λ). */
  updateInverse(damping: number): void {
    this.live();
    checkNonNegative('damping', damping);
    if (this.updatesCount === 0) throw new StateError('updateInverse before any update');
    this.info = undefined;
    const h = this.kernels.f64(), D = this.diag >> 3, I = this.inv >> 3;
    for (let p = 0; p < this.size; p++) {
      const e = h[D + p] + damping;
      if (!(e > 0)) throw new ArgumentError('damping', `the damped diagonal block is singular at parameter ${p} (entry ${h[D + p]}, damping ${damping}); use damping > 0`);
      h[I + p] = 1 / e;
    }
    this.info = { damping, updates: this.updatesCount };
  }

  /** What the cached inverse was built with, or undefined before the first updateInverse. */
  get inverse(): DiagonalInverseInfo | undefined {
    return this.info && { ...this.info };
  }

  /** dst (size) ← (D + λ)⁻¹ ∘ src; dst may be src. */
  multiplyInverse(src: Ptr, dst: Ptr): void {
    this.live();
    if (!this.info) throw new StateError('multiplyInverse before updateInverse');
    this.kernels.hadamard(this.size, this.inv, src, dst);
  }

  /** κ of D + λ (exact: max/min entry); reported as the block's and as A's, S's is 1. */
  conditionNumbers(): KroneckerConditionNumbers {
    this.live();
    if (!this.info) throw new StateError('conditionNumbers before updateInverse');
    const h = this.kernels.f64(), I = this.inv >> 3;
    let lo = Infinity, hi = 0;
    for (let p = 0; p < this.size; p++) {
      lo = Math.min(lo, h[I + p]);
      hi = Math.max(hi, h[I + p]);
    }
    const block = hi / lo;
    return { a: block, s: 1, block, exact: true };
  }

  /** The block's whole state (checkpoints). */
  saveState(): { [key: string]: StateValue } {
    this.live();
    const h = this.kernels.f64();
    return {
      kind: 'diagonal', emaWeight: this.emaWeight, updatesCount: this.updatesCount, info: this.info ? { ...this.info } : null,
      D: h.slice(this.diag >> 3, (this.diag >> 3) + this.size), inv: h.slice(this.inv >> 3, (this.inv >> 3) + this.size),
    };
  }

  /** Restores {@link DiagonalBlock.saveState}; a bad field throws FormatError naming it. */
  loadState(r: StateReader): void {
    this.live();
    if (r.choice('kind', ['diagonal'] as const) !== 'diagonal') throw new FormatError(`${r.field}.kind`, "must be 'diagonal'");
    const emaWeight = r.number('emaWeight', { min: 0 }), updatesCount = r.integer('updatesCount');
    let info: DiagonalInverseInfo | undefined;
    if (r.has('info')) {
      const i = r.object('info');
      info = { damping: i.number('damping', { min: 0 }), updates: i.integer('updates') };
    }
    const D = r.f64('D', this.size), inv = r.f64('inv', this.size, true);
    const h = this.kernels.f64();
    h.set(D, this.diag >> 3);
    h.set(inv, this.inv >> 3);
    this.emaWeight = emaWeight;
    this.updatesCount = updatesCount;
    this.info = info;
  }

  /** Frees the block's memory (idempotent). */
  dispose(): void {
    if (this.disposed) return;
    this.ws.dispose();
    this.disposed = true;
    this.info = undefined;
  }

  private live(): void {
    if (this.disposed) throw new StateError('DiagonalBlock used after dispose()');
  }
}
