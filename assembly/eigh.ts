// Symmetric eigendecomposition, float64, row-major.

/**
 * Eigen-decomposition of the symmetric n×n matrix A (lda ≥ n; only the lower
 * triangle is read, A is not modified): A = V·diag(w)·Vᵀ.
 * w (n values) receives the eigenvalues in ascending order; V (ldv ≥ n) receives
 * orthonormal eigenvectors, eigenvector j in column j. w and V must not overlap A or each other.
 * Returns 0 on success, or a positive code when the iteration did not converge.
 */
export function syev(n: i32, a: usize, lda: i32, w: usize, v: usize, ldv: i32): i32 {
  // Placeholder until the tridiagonal QL implementation lands; callers see a failure code.
  return n > 0 ? 1 : 0;
}
