import { KERNEL_VARIANTS, kernelsFor } from '../helpers/backends';
import { allClose } from '../helpers/allclose';
import { randn } from '../helpers/random';
import type { Kernels } from '../../src/kernels/types';

/** Pre-activations with exact zeros, NaN and ±Infinity sprinkled in (the edge cases of [z ≥ 0]). */
function preActivations(seed: number, n: number, m: number): Float64Array {
  const z = randn(seed, n * m);
  for (let i = 0; i < z.length; i += 17) z[i] = 0;
  for (let i = 5; i < z.length; i += 97) z[i] = -0;
  for (let i = 11; i < z.length; i += 101) z[i] = NaN;
  for (let i = 3; i < z.length; i += 113) z[i] = i % 2 ? Infinity : -Infinity;
  return z;
}

describe.each(KERNEL_VARIANTS)('bit-mask Gram on %s', (name) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await kernelsFor(name);
  });

  test.each([[1, 1], [3, 63], [5, 64], [7, 65], [9, 130], [33, 200]])('packMask n=%i m=%i: bit j of row i is [z ≥ 0], padding bits 0', (n, m) => {
    const ldz = m + 3, words = Math.ceil(m / 64);
    const z = preActivations(n * 100 + m, n, m);
    const pz = k.alloc(n * ldz), pm = k.alloc(n * words + 1);
    const h = k.f64();
    h.fill(NaN, pz / 8, pz / 8 + n * ldz);
    for (let i = 0; i < n; i++) h.set(z.subarray(i * m, (i + 1) * m), pz / 8 + i * ldz);
    h[pm / 8 + n * words] = -7; // guard after the masks
    k.packMask(n, m, pz, ldz, pm);
    const bytes = new Uint8Array(k.f64().buffer, pm, n * words * 8);
    const got: number[] = [], want: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < words * 64; j++) {
        got.push((bytes[i * words * 8 + (j >> 3)] >> (j & 7)) & 1);
        want.push(j < m && z[i * m + j] >= 0 ? 1 : 0);
      }
    }
    allClose(got, want, { rtol: 0, atol: 0, cols: words * 64, label: 'mask bits' });
    expect(k.f64()[pm / 8 + n * words]).toBe(-7);
    k.free(pz);
    k.free(pm);
  });

  test.each([[1, 1], [4, 64], [5, 65], [8, 127], [13, 300], [64, 1000]])(
    'maskGram n=%i m=%i equals the general path (syrk of the ±c·mask matrix) to 1e-12 relative', (n, m) => {
      const words = Math.ceil(m / 64);
      const c = 1 / Math.sqrt(m);
      const z = preActivations(7 * n + m, n, m);
      const sign = randn(99, m).map((s) => (s >= 0 ? c : -c));
      // The back-propagated factor of a ReLU layer under a fixed ±c head: B[i, r] = [z ≥ 0]·(±c).
      const B = new Float64Array(n * m);
      for (let i = 0; i < n; i++) for (let r = 0; r < m; r++) B[i * m + r] = z[i * m + r] >= 0 ? sign[r] : 0;
      const pz = k.alloc(n * m), pm = k.alloc(n * words), pb = k.alloc(n * m);
      const ldo = n + 2;
      const pg = k.alloc(n * ldo), pr = k.alloc(n * n);
      k.f64().set(z, pz / 8);
      k.f64().set(B, pb / 8);
      k.f64().fill(-3, pg / 8, pg / 8 + n * ldo);
      k.packMask(n, m, pz, m, pm);
      k.maskGram(n, words, pm, c * c, pg, ldo);
      k.syrk(0, n, m, 1, pb, m, 0, pr, n);
      const h = k.f64();
      const got = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        got.set(h.subarray(pg / 8 + i * ldo, pg / 8 + i * ldo + n), i * n);
        // Padding columns of out are not written.
        expect([h[pg / 8 + i * ldo + n], h[pg / 8 + i * ldo + n + 1]]).toEqual([-3, -3]);
      }
      const want = h.slice(pr / 8, pr / 8 + n * n);
      allClose(got, want, { rtol: 1e-12, atol: 0, cols: n, label: 'mask Gram' });
      // Exact: every entry is c²·(an integer count), and the matrix is symmetric.
      const counts = got.map((v) => v / (c * c));
      allClose(counts, counts.map(Math.round), { rtol: 1e-14, atol: 0, cols: n, label: 'counts' });
      const transposed = got.map((_, t) => got[(t % n) * n + Math.floor(t / n)]);
      allClose(got, transposed, { rtol: 0, atol: 0, cols: n, label: 'symmetry' });
      for (const p of [pz, pm, pb, pg, pr]) k.free(p);
    });

  test('counts are exact: the diagonal is the number of active units', () => {
    const n = 6, m = 200, words = 4;
    const z = preActivations(5, n, m);
    const pz = k.alloc(n * m), pm = k.alloc(n * words), pg = k.alloc(n * n);
    k.f64().set(z, pz / 8);
    k.packMask(n, m, pz, m, pm);
    k.maskGram(n, words, pm, 1, pg, n);
    for (let i = 0; i < n; i++) {
      let active = 0;
      for (let r = 0; r < m; r++) active += z[i * m + r] >= 0 ? 1 : 0;
      expect(k.f64()[pg / 8 + i * n + i]).toBe(active);
    }
    for (const p of [pz, pm, pg]) k.free(p);
  });
});
