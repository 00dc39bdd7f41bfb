/**
 * The input-derivative kernels on awkward sizes against naive loops written here (the complex-step
 * checks of the formulas themselves are test/pde/taylor.test.ts), on every backend and WASM build.
 */
import { allClose } from '../helpers/allclose';
import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';
import { randn } from '../helpers/random';
import type { Kernels } from '../../src/kernels/types';

function put(k: Kernels, v: ArrayLike<number>): number {
  const p = k.alloc(Math.max(v.length, 1));
  k.f64().set(v as Float64Array, p >> 3);
  return p;
}
const get = (k: Kernels, p: number, len: number) => k.f64().slice(p >> 3, (p >> 3) + len);

describe.each(KERNEL_VARIANTS)('%s: input-derivative kernels', (variant) => {
  test.each([[3, 1, 5, 7], [4, 3, 2, 1], [2, 5, 3, 9]])('rowOuterSum n=%i S=%i mo=%i k=%i against a naive sum', async (n, S, mo, kk) => {
    const k = await kernelsFor(variant);
    const b = randn(1, n * S * mo), a = randn(2, n * S * kk), ldo = mo * kk + 3;
    const pb = put(k, b), pa = put(k, a), po = put(k, new Float64Array(n * ldo).fill(7));
    k.rowOuterSum(n, S, mo, kk, pb, pa, po, ldo);
    const expected = new Float64Array(n * ldo).fill(7);
    for (let i = 0; i < n; i++) for (let r = 0; r < mo; r++) for (let c = 0; c < kk; c++) {
      let s = 0;
      for (let t = 0; t < S; t++) s += b[(i * S + t) * mo + r] * a[(i * S + t) * kk + c];
      expected[i * ldo + r * kk + c] = s;
    }
    allClose(get(k, po, n * ldo), expected, { rtol: 1e-14, atol: 1e-14, cols: ldo });
    k.free(pb); k.free(pa); k.free(po);
  });

  test.each([[1, 'tanh'], [2, 'sigmoid'], [3, 'softplus'], [0, 'identity']] as const)('taylorActivation and taylorBackward (code %i, %s) against naive loops, g = 2, leading dimension padded', async (act, name) => {
    const k = await kernelsFor(variant);
    const n = 3, g = 2, S = 4, m = 5, ldh = 7, scale = 0.6, w = [0.3, -1.1];
    const z = randn(3, n * S * m), hb = randn(4, n * S * ldh);
    const pz = put(k, z), pw = put(k, w), ph = put(k, new Float64Array(n * S * ldh).fill(9)), pd = k.alloc(3 * n * m);
    const phb = put(k, hb), pzb = k.alloc(n * S * m);
    k.taylorActivation(act, n, g, 1, m, pz, pw, scale, ph, ldh, pd);
    k.taylorBackward(n, g, 1, m, pz, pd, pw, scale, phb, ldh, pzb);
    const sig = (t: number) => 1 / (1 + Math.exp(-t));
    const d = (t: number): [number, number, number, number] => {
      if (name === 'tanh') { const y = Math.tanh(t); return [y, 1 - y * y, -2 * y * (1 - y * y), -2 * (1 - y * y) * (1 - 3 * y * y)]; }
      if (name === 'sigmoid') { const s = sig(t), s1 = s * (1 - s); return [s, s1, s1 * (1 - 2 * s), s1 * (1 - 6 * s + 6 * s * s)]; }
      if (name === 'softplus') { const s = sig(t); return [Math.log1p(Math.exp(t)), s, s * (1 - s), s * (1 - s) * (1 - 2 * s)]; }
      return [t, 1, 0, 0];
    };
    const h = new Float64Array(n * S * ldh).fill(9), zb = new Float64Array(n * S * m), der = new Float64Array(3 * n * m);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
      const Z = (s: number) => z[(i * S + s) * m + j], A = (s: number) => scale * hb[(i * S + s) * ldh + j];
      const [f, s1, s2, s3] = d(Z(0));
      der[3 * i * m + j] = s1; der[(3 * i + 1) * m + j] = s2; der[(3 * i + 2) * m + j] = s3;
      const q = w[0] * Z(1) ** 2 + w[1] * Z(2) ** 2;
      h[i * S * ldh + j] = scale * f;
      for (let c = 1; c <= g; c++) h[(i * S + c) * ldh + j] = scale * s1 * Z(c);
      h[(i * S + 3) * ldh + j] = scale * (s1 * Z(3) + s2 * q);
      zb[i * S * m + j] = s1 * A(0) + s2 * (Z(1) * A(1) + Z(2) * A(2)) + (s2 * Z(3) + s3 * q) * A(3);
      for (let c = 1; c <= g; c++) zb[(i * S + c) * m + j] = s1 * A(c) + 2 * w[c - 1] * s2 * Z(c) * A(3);
      zb[(i * S + 3) * m + j] = s1 * A(3);
    }
    allClose(get(k, ph, h.length), h, { rtol: 1e-13, atol: 1e-14, cols: ldh, label: 'h' });
    allClose(get(k, pd, der.length), der, { rtol: 1e-13, atol: 1e-14, cols: m, label: 'σ′σ″σ‴' });
    allClose(get(k, pzb, zb.length), zb, { rtol: 1e-12, atol: 1e-13, cols: m, label: 'zb' });
    for (const p of [pz, pw, ph, pd, phb, pzb]) k.free(p);
  });
});
