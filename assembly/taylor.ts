// Input-derivative ("Taylor-mode") kernels of an MLP: the activation that carries the value,
// the input gradient and a weighted Laplacian through a layer, its adjoint, and the per-row
// sum of outer products that turns the adjoints into Jacobian rows. The plain-TypeScript
// reference is src/kernels/js/taylor.ts, with the same arithmetic in the same order.
//
// A "channel block" of n examples has S = 1 + g + lap rows per example, contiguous:
// row i·S is the value, rows i·S + 1 … i·S + g the g input-gradient components, and row
// i·S + g + 1 (when lap = 1) the weighted Laplacian Σ_c w_c ∂²/∂x_c².

// Activation codes (src/kernels/types.ts TAYLOR_ACTIVATIONS): 0 identity, 1 tanh, 2 sigmoid, 3 softplus.

@inline function sigmoidOf(z: f64): f64 {
  if (z >= 0.0) return 1.0 / (1.0 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1.0 + e);
}

/**
 * tanh by one exponential: (1 − e)/(1 + e)·sign z with e = exp(−2|z|) (about twice as fast as the
 * library's expm1-based tanh here; the absolute error stays within a few ulps of 1, which is what the
 * derivative channels σ′ = 1 − t², σ″ = −2tσ′ see).
 */
@inline function tanhOf(z: f64): f64 {
  const e = Math.exp(-2.0 * Math.abs(z));
  const t = (1.0 - e) / (1.0 + e);
  return z < 0.0 ? -t : t;
}

/** σ(z) of activation `act`; also stores σ′, σ″, σ‴ at d, d + row, d + 2·row (bytes). */
@inline function activate(act: i32, z: f64, d: usize, row: usize): f64 {
  let f: f64, s1: f64, s2: f64, s3: f64;
  if (act == 1) {
    const t = tanhOf(z);
    s1 = 1.0 - t * t;
    s2 = -2.0 * t * s1;
    s3 = -2.0 * s1 * (1.0 - 3.0 * t * t);
    f = t;
  } else if (act == 2) {
    const s = sigmoidOf(z);
    s1 = s * (1.0 - s);
    s2 = s1 * (1.0 - 2.0 * s);
    s3 = s1 * (1.0 - 6.0 * s + 6.0 * s * s);
    f = s;
  } else if (act == 3) {
    const s = sigmoidOf(z);
    s1 = s;
    s2 = s * (1.0 - s);
    s3 = s2 * (1.0 - 2.0 * s);
    f = (z > 0.0 ? z : 0.0) + Math.log1p(Math.exp(-Math.abs(z)));
  } else {
    s1 = 1.0;
    s2 = 0.0;
    s3 = 0.0;
    f = z;
  }
  store<f64>(d, s1);
  store<f64>(d + row, s2);
  store<f64>(d + 2 * row, s3);
  return f;
}

/**
 * Forward through σ for a channel block: z is (n·S) × m (contiguous), h is (n·S) × m written with
 * leading dimension ldh (columns m … ldh − 1 untouched), deriv is (3n) × m (rows 3i, 3i + 1, 3i + 2:
 * σ′, σ″, σ‴ at the value row), wts the g Laplacian weights. With v = z[iS], ∂_c = z[iS + c], L = z[iS + g + 1]:
 *   h[iS] = scale·σ(v),  h[iS + c] = scale·σ′(v)·∂_c,  h[iS + g + 1] = scale·(σ′(v)·L + σ″(v)·Σ_c w_c ∂_c²).
 * No output may overlap an input.
 */
export function taylorActivation(act: i32, n: i32, g: i32, lap: i32, m: i32, z: usize, wts: usize, scale: f64,
  h: usize, ldh: i32, deriv: usize): void {
  const S = 1 + g + lap;
  const row = <usize>m << 3, hrow = <usize>ldh << 3;
  for (let i = 0; i < n; i++) {
    const zi = z + <usize>(i * S) * row, hi = h + <usize>(i * S) * hrow, di = deriv + <usize>(3 * i) * row;
    for (let j = 0; j < m; j++) {
      const o = <usize>j << 3;
      const f = activate(act, load<f64>(zi + o), di + o, row);
      const s1 = load<f64>(di + o), s2 = load<f64>(di + o + row);
      store<f64>(hi + o, scale * f);
      let q = 0.0;
      for (let c = 1; c <= g; c++) {
        const dz = load<f64>(zi + <usize>c * row + o);
        store<f64>(hi + <usize>c * hrow + o, scale * (s1 * dz));
        q += load<f64>(wts + (<usize>(c - 1) << 3)) * (dz * dz);
      }
      if (lap) {
        const L = <usize>(g + 1);
        store<f64>(hi + L * hrow + o, scale * (s1 * load<f64>(zi + L * row + o) + s2 * q));
      }
    }
  }
}

/**
 * The adjoint of {@link taylorActivation}: given hb, the adjoint of the effective-input channels
 * ((n·S) × ldhb; columns 0 … m − 1 read), writes zb ((n·S) × m, contiguous), the adjoint of the
 * pre-activation channels z, using σ′, σ″, σ‴ from deriv. With a = scale·hb:
 *   zb[iS] = σ′·a_v + σ″·Σ_c ∂_c a_c + (σ″·L + σ‴·Σ_c w_c ∂_c²)·a_L,
 *   zb[iS + c] = σ′·a_c + 2 w_c σ″ ∂_c a_L,   zb[iS + g + 1] = σ′·a_L.
 * zb must not overlap the inputs.
 */
export function taylorBackward(n: i32, g: i32, lap: i32, m: i32, z: usize, deriv: usize, wts: usize, scale: f64,
  hb: usize, ldhb: i32, zb: usize): void {
  const S = 1 + g + lap;
  const row = <usize>m << 3, hrow = <usize>ldhb << 3;
  const L = <usize>(g + 1);
  for (let i = 0; i < n; i++) {
    const zi = z + <usize>(i * S) * row, hi = hb + <usize>(i * S) * hrow, di = deriv + <usize>(3 * i) * row;
    const bi = zb + <usize>(i * S) * row;
    for (let j = 0; j < m; j++) {
      const o = <usize>j << 3;
      const s1 = load<f64>(di + o), s2 = load<f64>(di + o + row), s3 = load<f64>(di + o + 2 * row);
      const aL = lap ? scale * load<f64>(hi + L * hrow + o) : 0.0;
      let v = s1 * (scale * load<f64>(hi + o));
      let q = 0.0;
      for (let c = 1; c <= g; c++) {
        const dz = load<f64>(zi + <usize>c * row + o), ac = scale * load<f64>(hi + <usize>c * hrow + o);
        const w = load<f64>(wts + (<usize>(c - 1) << 3));
        v += s2 * (dz * ac);
        q += w * (dz * dz);
        store<f64>(bi + <usize>c * row + o, s1 * ac + 2.0 * w * s2 * dz * aL);
      }
      if (lap) {
        v += (s2 * load<f64>(zi + L * row + o) + s3 * q) * aL;
        store<f64>(bi + L * row + o, s1 * aL);
      }
      store<f64>(bi + o, v);
    }
  }
}

/**
 * Jacobian rows from a channel block's adjoints: out[i, r·k + c] = Σ_{s<S} b[iS + s, r]·a[iS + s, c]
 * (out's leading dimension ldo) for b (n·S) × mo and a (n·S) × k, both
 * contiguous: row i of out is Σ_s b_sᵀ ⊗ a_s, the derivative of example i's output with respect to a
 * layer's mo × k weight block (row-major). out must not overlap a or b. The inner loop over c runs
 * two lanes at a time.
 */
export function rowOuterSum(n: i32, S: i32, mo: i32, k: i32, b: usize, a: usize, out: usize, ldo: i32): void {
  const brow = <usize>mo << 3, arow = <usize>k << 3;
  for (let i = 0; i < n; i++) {
    const oi = out + <usize>i * (<usize>ldo << 3);
    for (let r = 0; r < mo; r++) {
      const orow = oi + <usize>r * arow;
      let c = 0;
      for (; c + 2 <= k; c += 2) {
        let acc = f64x2.splat(0.0);
        for (let s = 0; s < S; s++) {
          const rs = <usize>(i * S + s);
          const bv = f64x2.splat(load<f64>(b + rs * brow + (<usize>r << 3)));
          acc = f64x2.add(acc, f64x2.mul(bv, v128.load(a + rs * arow + (<usize>c << 3))));
        }
        v128.store(orow + (<usize>c << 3), acc);
      }
      for (; c < k; c++) {
        let acc = 0.0;
        for (let s = 0; s < S; s++) {
          const rs = <usize>(i * S + s);
          acc += load<f64>(b + rs * brow + (<usize>r << 3)) * load<f64>(a + rs * arow + (<usize>c << 3));
        }
        store<f64>(orow + (<usize>c << 3), acc);
      }
    }
  }
}
