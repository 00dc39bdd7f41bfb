/**
 * One step-safety vocabulary for every optimizer: θ (and any O(P) optimizer state) is
 * saved before a step, the step is checked finite, and a failed or rejected step is undone
 * bit-for-bit. A failed step raises `NonFiniteError.step(…)`; nothing non-finite ever
 * stays in the parameters.
 *
 * The guard is the place for anything that must wrap a trial step: an optimizer that
 * retries (more damping, fresh inverses) calls `restore()` and tries again from the same
 * saved θ; `moved()` measures the accepted step on the parameters themselves.
 */
import type { Kernels, Ptr } from '../kernels/types.js';
import type { Workspace } from '../matrix.js';
import type { Net } from '../nn/net.js';

/**
 * A backup of θ and of the optimizer state blocks a step changes, in the optimizer's
 * workspace (block 'guard.backup', reused across steps: a steady-state step allocates
 * nothing).
 *
 * @example
 * guard.save(net, ws, [velocity]);
 * applyUpdate();
 * if (!guard.paramsFinite()) { guard.restore(); throw NonFiniteError.step('update', 'the sgd step', 'lower the learning rate'); }
 */
export class StepGuard {
  private kernels: Kernels | undefined;
  private blocks: Ptr[] = [];
  private backup: Ptr = 0;
  private count = 0;

  /** Saves θ (numParams values) and every block of `state` (numParams values each) into `ws`. */
  save(net: Net, ws: Workspace, state: readonly Ptr[] = []): void {
    const P = net.numParams;
    this.kernels = net.kernels;
    this.count = P;
    this.blocks = [net.paramsPtr, ...state];
    this.backup = ws.get('guard.backup', P * this.blocks.length);
    const h = net.kernels.f64();
    for (let i = 0; i < this.blocks.length; i++) h.copyWithin(this.saved(i) >> 3, this.blocks[i] >> 3, (this.blocks[i] >> 3) + P);
  }

  /** Writes θ and the state blocks back as saved: the step is undone bit-for-bit. */
  restore(): void {
    const h = this.kernels!.f64(), P = this.count;
    for (let i = 0; i < this.blocks.length; i++) h.copyWithin(this.blocks[i] >> 3, this.saved(i) >> 3, (this.saved(i) >> 3) + P);
  }

  /** Whether θ holds only finite values (the firstNonFinite kernel). */
  paramsFinite(): boolean {
    return this.kernels!.firstNonFinite(this.count, this.blocks[0]) < 0;
  }

  /**
   * ‖θ − θ_saved‖, measured on the parameters: in Gram space ‖d‖² = xᵀGx cancels
   * catastrophically when G spans many orders of magnitude.
   */
  moved(): number {
    const h = this.kernels!.f64(), t = this.blocks[0] >> 3, b = this.backup >> 3;
    let s = 0;
    for (let i = 0; i < this.count; i++) {
      const d = h[t + i] - h[b + i];
      s += d * d;
    }
    return Math.sqrt(s);
  }

  /** Byte pointer of the saved copy of block i (0 = θ). */
  private saved(i: number): Ptr {
    return this.backup + 8 * this.count * i;
  }
}
