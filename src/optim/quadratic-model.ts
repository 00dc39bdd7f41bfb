/**
 * The quadratic model of the loss around θ that second-order optimizers minimise over a
 * few directions (Martens & Grosse 2015 §7): pure arithmetic on inner products the
 * optimizer has computed with the exact Gauss–Newton matrix.
 */

/**
 * The quadratic model M(Δ) = gᵀΔ + ½Δᵀ(F + λI)Δ restricted to Δ = −α·p + μ·Δ_prev, p = F̃⁻¹g:
 * its inner products (F the exact Gauss–Newton, λ the damping of the inverses).
 */
export interface QuadraticModel {
  /** gᵀp. */
  gp: number;
  /** pᵀ(F + λI)p. */
  pFp: number;
  /** With momentum: −pᵀ(F + λI)Δ_prev, Δ_prevᵀ(F + λI)Δ_prev and gᵀΔ_prev. */
  previous?: { pFd: number; dFd: number; gd: number };
}

/**
 * The step coefficients (α, μ) of Martens & Grosse 2015 §7: the minimiser of the quadratic
 * model over α alone (no previous step), over α with μ fixed, or over both from the 2×2
 * system (`momentum` 'auto'; when that system is numerically singular, α alone and μ = 0).
 */
export function quadraticModelCoefficients(model: QuadraticModel, momentum: number | 'auto'): { alpha: number; mu: number } {
  const { gp, pFp, previous } = model;
  if (!previous) return { alpha: gp / pFp, mu: 0 };
  const { pFd, dFd } = previous, b1 = -gp, b2 = previous.gd;
  if (momentum !== 'auto') return { alpha: -(b1 + momentum * pFd) / pFp, mu: momentum };
  const det = pFp * dFd - pFd * pFd;
  if (det > 1e-12 * pFp * dFd && Number.isFinite(det)) {
    return { alpha: -(dFd * b1 - pFd * b2) / det, mu: -(pFp * b2 - pFd * b1) / det };
  }
  return { alpha: gp / pFp, mu: 0 };
}
