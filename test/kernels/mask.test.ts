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

  test.each([[1, 1, 0, 0], [1, 64, 2, 1], [3, 63, 1, 3], [5, 65, 0, 2], [7, 130, 3, 0], [4, 191, 1, 1], [33, 200, 0, 0]])(
    'reluPack n=%i m=%i (lds m+%i, ldd m+%i): bit for bit relu then packMask, and a naive reference', (n, m, padS, padD) => {
      const lds = m + padS, ldd = m + padD, words = Math.ceil(m / 64), scale = 0.375;
      const z = preActivations(n * 31 + m, n, m);
      const pz = k.alloc(n * lds), pd = k.alloc(n * ldd + 1), pm = k.alloc(n * words + 1);
      const qd = k.alloc(n * ldd + 1), qm = k.alloc(n * words + 1);
      const h = k.f64();
      h.fill(NaN, pz / 8, pz / 8 + n * lds);
      for (let i = 0; i < n; i++) h.set(z.subarray(i * m, (i + 1) * m), pz / 8 + i * lds);
      for (const p of [pd, qd]) h.fill(-5, p / 8, p / 8 + n * ldd + 1);
      for (const p of [pm, qm]) h.fill(-7, p / 8, p / 8 + n * words + 1);
      k.reluPack(n, m, pz, lds, scale, pd, ldd, pm);
      k.relu(n, m, pz, lds, scale, qd, ldd);
      k.packMask(n, m, pz, lds, qm);
      const bits = (p: number) => new Uint8Array(k.f64().slice(p / 8, p / 8 + n * ldd + 1).buffer);
      expect(Buffer.from(bits(pd)).equals(Buffer.from(bits(qd)))).toBe(true);
      const maskBytes = (p: number) => Buffer.from(k.f64().slice(p / 8, p / 8 + n * words + 1).buffer);
      expect(maskBytes(pm).equals(maskBytes(qm))).toBe(true);
      // The naive reference: (scale·z)·[z > 0] (−0 for z ≤ 0 at z = −0 or < 0) and bit [z ≥ 0], padding untouched.
      const got: number[] = [], want: number[] = [];
      const hv = k.f64(), bytes = new Uint8Array(hv.buffer, pm, n * words * 8);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < ldd; j++) {
          const zz = z[i * m + j];
          got.push(hv[pd / 8 + i * ldd + j]);
          want.push(j < m ? (zz > 0 ? scale * zz : Number.isNaN(zz) || zz === -Infinity ? NaN : zz === 0 && Object.is(zz, 0) ? 0 : -0) : -5);
        }
        for (let j = 0; j < words * 64; j++) {
          got.push((bytes[i * words * 8 + (j >> 3)] >> (j & 7)) & 1);
          want.push(j < m && z[i * m + j] >= 0 ? 1 : 0);
        }
      }
      // Exact comparison that tells NaN, ±Infinity and −0 apart (allClose's |a − e| cannot).
      const code = (v: number) => (Number.isNaN(v) ? 1e300 : v === Infinity ? 2e300 : v === -Infinity ? -2e300 : Object.is(v, -0) ? -1e-300 : v);
      allClose(got.map(code), want.map(code), { rtol: 0, atol: 0, label: 'reluPack values and bits' });
      expect(hv[pm / 8 + n * words]).toBe(-7);
      expect(hv[pd / 8 + n * ldd]).toBe(-5);
      for (const p of [pz, pd, pm, qd, qm]) k.free(p);
    });

  test('reluPack in place (dst = src) gives relu in place and the mask of the values before', () => {
    const n = 3, m = 70, words = 2;
    const z = preActivations(4, n, m);
    const pz = k.alloc(n * m), pq = k.alloc(n * m), pm = k.alloc(n * words), qm = k.alloc(n * words);
    k.f64().set(z, pz / 8);
    k.f64().set(z, pq / 8);
    k.packMask(n, m, pq, m, qm);
    k.relu(n, m, pq, m, 2, pq, m);
    k.reluPack(n, m, pz, m, 2, pz, m, pm);
    const h = k.f64();
    expect(Buffer.from(h.slice(pz / 8, pz / 8 + n * m).buffer).equals(Buffer.from(h.slice(pq / 8, pq / 8 + n * m).buffer))).toBe(true);
    expect(Buffer.from(h.slice(pm / 8, pm / 8 + n * words).buffer).equals(Buffer.from(h.slice(qm / 8, qm / 8 + n * words).buffer))).toBe(true);
    for (const p of [pz, pq, pm, qm]) k.free(p);
  });

  test.each([[1, 1], [5, 65], [13, 300], [64, 1000]])('maskGramLower n=%i m=%i: maskGram\'s lower triangle, the strict upper untouched', (n, m) => {
    const words = Math.ceil(m / 64), ldo = n + 1;
    const z = preActivations(3 * n + m, n, m);
    const pz = k.alloc(n * m), pm = k.alloc(n * words), pl = k.alloc(n * ldo), pf = k.alloc(n * ldo);
    k.f64().set(z, pz / 8);
    k.f64().fill(-3, pl / 8, pl / 8 + n * ldo);
    k.packMask(n, m, pz, m, pm);
    k.maskGramLower(n, words, pm, 0.5, pl, ldo);
    k.maskGram(n, words, pm, 0.5, pf, ldo);
    const h = k.f64(), got: number[] = [], want: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < ldo; j++) {
        got.push(h[pl / 8 + i * ldo + j]);
        let count = 0;
        for (let r = 0; r < m; r++) count += z[i * m + r] >= 0 && z[j * m + r] >= 0 ? 1 : 0;
        want.push(j <= i ? 0.5 * count : -3);
        if (j <= i) expect(h[pl / 8 + i * ldo + j]).toBe(h[pf / 8 + i * ldo + j]);
      }
    }
    allClose(got, want, { rtol: 0, atol: 0, cols: ldo, label: 'lower mask Gram' });
    for (const p of [pz, pm, pl, pf]) k.free(p);
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
