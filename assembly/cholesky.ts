// Damped Cholesky factorisation and the solves built on it, float64, row-major.

/**
 * Lower Cholesky factor of (A + damping·I): L·Lᵀ = A + damping·I.
 * Only the lower triangle of A (n×n, lda ≥ n) is read. L is written to l (ldl ≥ n)
 * with zeros above the diagonal; l may be the same buffer as a (in place, lda = ldl),
 * otherwise it must not overlap a.
 * Returns 0 on success, or j + 1 when pivot j is not positive or not finite; L is
 * then incomplete and must not be used.
 */
export function potrf(n: i32, a: usize, lda: i32, damping: f64, l: usize, ldl: i32): i32 {
  for (let j = 0; j < n; j++) {
    for (let i = j; i < n; i++) {
      let s = load<f64>(a + (<usize>(i * lda + j) << 3));
      if (i == j) s += damping;
      for (let p = 0; p < j; p++) {
        s -= load<f64>(l + (<usize>(i * ldl + p) << 3)) * load<f64>(l + (<usize>(j * ldl + p) << 3));
      }
      if (i == j) {
        if (!(s > 0.0) || !isFinite(s)) return j + 1;
        store<f64>(l + (<usize>(j * ldl + j) << 3), Math.sqrt(s));
      } else {
        store<f64>(l + (<usize>(i * ldl + j) << 3), s / load<f64>(l + (<usize>(j * ldl + j) << 3)));
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) store<f64>(l + (<usize>(i * ldl + j) << 3), 0.0);
  }
  return 0;
}

/**
 * Solves L·X = B (trans = 0) or Lᵀ·X = B (trans = 1) in place: B (n×nrhs, ldb ≥ nrhs)
 * is overwritten by X. L is lower triangular n×n (ldl ≥ n); its upper triangle is not read.
 * B must not overlap L.
 */
export function trsm(trans: i32, n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  if (!trans) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < nrhs; c++) {
        let s = load<f64>(b + (<usize>(i * ldb + c) << 3));
        for (let p = 0; p < i; p++) s -= load<f64>(l + (<usize>(i * ldl + p) << 3)) * load<f64>(b + (<usize>(p * ldb + c) << 3));
        store<f64>(b + (<usize>(i * ldb + c) << 3), s / load<f64>(l + (<usize>(i * ldl + i) << 3)));
      }
    }
  } else {
    for (let i = n - 1; i >= 0; i--) {
      for (let c = 0; c < nrhs; c++) {
        let s = load<f64>(b + (<usize>(i * ldb + c) << 3));
        for (let p = i + 1; p < n; p++) s -= load<f64>(l + (<usize>(p * ldl + i) << 3)) * load<f64>(b + (<usize>(p * ldb + c) << 3));
        store<f64>(b + (<usize>(i * ldb + c) << 3), s / load<f64>(l + (<usize>(i * ldl + i) << 3)));
      }
    }
  }
}

/** Solves L·Lᵀ·X = B in place (B n×nrhs, ldb ≥ nrhs), L from potrf. B must not overlap L. */
export function potrs(n: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  trsm(0, n, nrhs, l, ldl, b, ldb);
  trsm(1, n, nrhs, l, ldl, b, ldb);
}

/**
 * out ← (L·Lᵀ)⁻¹, the full symmetric n×n inverse (ldo ≥ n), L from potrf.
 * out must not overlap L.
 */
export function potri(n: i32, l: usize, ldl: i32, out: usize, ldo: i32): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) store<f64>(out + (<usize>(i * ldo + j) << 3), i == j ? 1.0 : 0.0);
  }
  potrs(n, n, l, ldl, out, ldo);
}
