import { quadraticModelCoefficients } from '../../src/optim/quadratic-model';

// M(α, μ) = gᵀΔ + ½Δᵀ(F + λI)Δ over Δ = −α·p + μ·Δ_prev: ∂M/∂α = −gp + α·pFp + μ·pFd, ∂M/∂μ = gd + α·pFd + μ·dFd.
describe('quadraticModelCoefficients', () => {
  const model = { gp: 2.5, pFp: 4, previous: { pFd: -1.2, dFd: 3, gd: 0.7 } };

  test("'auto': α and μ make both partial derivatives of the model zero", () => {
    const { alpha, mu } = quadraticModelCoefficients(model, 'auto');
    const { gp, pFp, previous: { pFd, dFd, gd } } = model;
    expect(-gp + alpha * pFp + mu * pFd).toBeCloseTo(0, 14);
    expect(gd + alpha * pFd + mu * dFd).toBeCloseTo(0, 14);
  });

  test('a fixed μ: α minimises the model along p; no previous step: α = gᵀp / pᵀ(F + λI)p, μ = 0', () => {
    const { alpha, mu } = quadraticModelCoefficients(model, 0.5);
    expect(mu).toBe(0.5);
    expect(-model.gp + alpha * model.pFp + mu * model.previous.pFd).toBeCloseTo(0, 14);
    expect(quadraticModelCoefficients({ gp: 3, pFp: 4 }, 'auto')).toEqual({ alpha: 0.75, mu: 0 });
  });

  test('a numerically singular 2×2 system falls back to α alone', () => {
    const singular = { gp: 1, pFp: 2, previous: { pFd: 2, dFd: 2, gd: 1 } };
    expect(quadraticModelCoefficients(singular, 'auto')).toEqual({ alpha: 0.5, mu: 0 });
  });
});
