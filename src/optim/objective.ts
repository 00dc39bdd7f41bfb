/**
 * A least-squares objective over a net's parameters, L(θ) = ½‖r(θ)‖², described by what the
 * optimizers that do not take a data batch need of it: its value, its gradient, and its
 * linearisation (residuals and Jacobian rows). A PDE problem (src/pde) is one; `engd` uses the
 * linearisation, `lbfgs` and the first-order loops the gradient. Types only: the optimizers know
 * nothing of how the residuals are made.
 */
import type { Ptr } from '../kernels/types.js';
import type { Net } from '../nn/net.js';

/** A least-squares objective L(θ) = ½‖r(θ)‖² over a net's parameters (see the module comment). */
export interface ResidualObjective {
  /** N: the number of residuals. */
  readonly residuals: number;
  /** L(θ) at the net's current parameters. Throws NonFiniteError when it is not finite. */
  loss(net: Net): number;
  /** L(θ) and ∇θL into `grad` (numParams values at a byte pointer of the net's backend). */
  lossAndGradient(net: Net, grad: Ptr): number;
  /**
   * The residuals r (N values at `r`) and their Jacobian J = ∂r/∂θ (N × numParams, row-major, leading
   * dimension `ldj`, at `J`) at the current parameters, so that ∇θL = Jᵀr; returns L(θ). For a
   * nonlinear residual this is its Gauss–Newton linearisation.
   */
  linearize(net: Net, r: Ptr, J: Ptr, ldj: number): number;
  /** Frees what the objective keeps in the backend's memory (re-made on the next use). */
  dispose(): void;
}
