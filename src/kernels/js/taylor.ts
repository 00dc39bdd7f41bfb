// Plain-TypeScript reference for assembly/taylor.ts: same contract (offsets in elements), the
// same arithmetic in the same order. Channel blocks: S = 1 + g + lap rows per example (value,
// g gradient components, the weighted Laplacian).

const { exp, log1p, abs } = Math;

function sigmoidOf(z: number): number {
  if (z >= 0) return 1 / (1 + exp(-z));
  const e = exp(z);
  return e / (1 + e);
}

/** tanh as assembly/taylor.ts computes it: (1 − e)/(1 + e)·sign z with e = exp(−2|z|). */
function tanhOf(z: number): number {
  const e = exp(-2 * abs(z));
  const t = (1 - e) / (1 + e);
  return z < 0 ? -t : t;
}

/** σ(z) of activation `act` (0 identity, 1 tanh, 2 sigmoid, 3 softplus); σ′, σ″, σ‴ into h[d], h[d + row], h[d + 2·row]. */
function activate(h: Float64Array, act: number, z: number, d: number, row: number): number {
  let f: number, s1: number, s2: number, s3: number;
  if (act === 1) {
    const t = tanhOf(z);
    s1 = 1 - t * t;
    s2 = -2 * t * s1;
    s3 = -2 * s1 * (1 - 3 * t * t);
    f = t;
  } else if (act === 2) {
    const s = sigmoidOf(z);
    s1 = s * (1 - s);
    s2 = s1 * (1 - 2 * s);
    s3 = s1 * (1 - 6 * s + 6 * s * s);
    f = s;
  } else if (act === 3) {
    const s = sigmoidOf(z);
    s1 = s;
    s2 = s * (1 - s);
    s3 = s2 * (1 - 2 * s);
    f = (z > 0 ? z : 0) + log1p(exp(-abs(z)));
  } else {
    s1 = 1;
    s2 = 0;
    s3 = 0;
    f = z;
  }
  h[d] = s1;
  h[d + row] = s2;
  h[d + 2 * row] = s3;
  return f;
}

/** See Kernels.taylorActivation. */
export function taylorActivation(h: Float64Array, act: number, n: number, g: number, lap: number, m: number, z: number, wts: number,
  scale: number, out: number, ldh: number, deriv: number): void {
  const S = 1 + g + lap;
  for (let i = 0; i < n; i++) {
    const zi = z + i * S * m, hi = out + i * S * ldh, di = deriv + 3 * i * m;
    for (let j = 0; j < m; j++) {
      const f = activate(h, act, h[zi + j], di + j, m);
      const s1 = h[di + j], s2 = h[di + j + m];
      h[hi + j] = scale * f;
      let q = 0;
      for (let c = 1; c <= g; c++) {
        const dz = h[zi + c * m + j];
        h[hi + c * ldh + j] = scale * (s1 * dz);
        q += h[wts + c - 1] * (dz * dz);
      }
      if (lap) {
        const L = g + 1;
        h[hi + L * ldh + j] = scale * (s1 * h[zi + L * m + j] + s2 * q);
      }
    }
  }
}

/** See Kernels.taylorBackward. */
export function taylorBackward(h: Float64Array, n: number, g: number, lap: number, m: number, z: number, deriv: number, wts: number,
  scale: number, hb: number, ldhb: number, zb: number): void {
  const S = 1 + g + lap, L = g + 1;
  for (let i = 0; i < n; i++) {
    const zi = z + i * S * m, hi = hb + i * S * ldhb, di = deriv + 3 * i * m, bi = zb + i * S * m;
    for (let j = 0; j < m; j++) {
      const s1 = h[di + j], s2 = h[di + j + m], s3 = h[di + j + 2 * m];
      const aL = lap ? scale * h[hi + L * ldhb + j] : 0;
      let v = s1 * (scale * h[hi + j]);
      let q = 0;
      for (let c = 1; c <= g; c++) {
        const dz = h[zi + c * m + j], ac = scale * h[hi + c * ldhb + j];
        const w = h[wts + c - 1];
        v += s2 * (dz * ac);
        q += w * (dz * dz);
        h[bi + c * m + j] = s1 * ac + 2 * w * s2 * dz * aL;
      }
      if (lap) {
        v += (s2 * h[zi + L * m + j] + s3 * q) * aL;
        h[bi + L * m + j] = s1 * aL;
      }
      h[bi + j] = v;
    }
  }
}

/** See Kernels.rowOuterSum. */
export function rowOuterSum(h: Float64Array, n: number, S: number, mo: number, k: number, b: number, a: number, out: number, ldo: number): void {
  for (let i = 0; i < n; i++) {
    const oi = out + i * ldo;
    for (let r = 0; r < mo; r++) {
      const orow = oi + r * k;
      for (let c = 0; c < k; c++) {
        let acc = 0;
        for (let s = 0; s < S; s++) {
          const rs = i * S + s;
          acc += h[b + rs * mo + r] * h[a + rs * k + c];
        }
        h[orow + c] = acc;
      }
    }
  }
}
