import { oneHot, trainTestSplit, takeRows, Standardizer, LabelEncoder, ArgumentError, FormatError, ShapeError } from '../src/index';
import { decodeF64, encodeF64 } from '../src/encoding/codec';

test('oneHot rows, and out-of-range labels are refused', () => {
  expect(Array.from(oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
  expect(() => oneHot([3], 3)).toThrow(ArgumentError);
  expect(() => oneHot([0.5], 3)).toThrow(/element 0 is 0.5/);
});

test('trainTestSplit is seeded, keeps X/Y pairs, and covers every row once', () => {
  const n = 10, X = Float64Array.from({ length: n * 2 }, (_, i) => i), Y = Float64Array.from({ length: n }, (_, i) => 100 + i);
  const a = trainTestSplit({ X, Y, n }, { testSize: 0.3, seed: 4 });
  const b = trainTestSplit({ X, Y, n }, { testSize: 0.3, seed: 4 });
  const c = trainTestSplit({ X, Y, n }, { testSize: 0.3, seed: 5 });
  expect(Array.from(a.testIndex)).toEqual(Array.from(b.testIndex));
  expect(Array.from(a.testIndex)).not.toEqual(Array.from(c.testIndex));
  expect(a.test.n).toBe(3);
  expect(a.train.n).toBe(7);
  expect([...a.trainIndex, ...a.testIndex].sort((p, q) => p - q)).toEqual([...Array(n).keys()]);
  a.testIndex.forEach((i, r) => {
    expect(a.test.Y[r]).toBe(100 + i);
    expect(Array.from(a.test.X.subarray(2 * r, 2 * r + 2))).toEqual([2 * i, 2 * i + 1]);
  });
  expect(() => trainTestSplit({ X, Y, n }, { testSize: 1 })).toThrow(ArgumentError);
});

test('takeRows gathers rows in order; a row number outside [0, n) or not an integer is refused', () => {
  const data = { X: new Float64Array([0, 1, 2, 3, 4, 5]), Y: new Float64Array([10, 20, 30]), n: 3 };
  const t = takeRows(data, [2, 0, 2]);
  expect(t.n).toBe(3);
  expect(Array.from(t.X)).toEqual([4, 5, 0, 1, 4, 5]);
  expect(Array.from(t.Y)).toEqual([30, 10, 30]);
  // These used to come back as rows of zeros, or as a row straddling two examples.
  expect(() => takeRows(data, [3])).toThrow(/element 0 is 3/);
  expect(() => takeRows(data, [0, -1])).toThrow(ArgumentError);
  expect(() => takeRows(data, [0.5])).toThrow(/element 0 is 0.5/);
  expect(() => takeRows({ ...data, Y: new Float64Array(4) }, [0])).toThrow(ShapeError);
});

test('Standardizer: fitted numbers, transform of another set, a constant column, exact JSON round trip', () => {
  const X = new Float64Array([1, 5, 3, 5, 5, 5]); // column 1 constant
  const s = Standardizer.fit(X, 3);
  expect(Array.from(s.mean)).toEqual([3, 5]);
  expect(s.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 15);
  expect(s.std[1]).toBe(1);
  const t = s.transform(new Float64Array([3, 6]), 1);
  expect(t[0]).toBe(0);
  expect(t[1]).toBe(1);
  const back = Standardizer.fromJSON(JSON.parse(JSON.stringify(s)));
  expect(back.mean).toEqual(s.mean);
  expect(back.std).toEqual(s.std);
  expect(() => Standardizer.fromJSON({ type: 'standardize', mean: s.toJSON().mean, std: encodeF64(new Float64Array([1, 0])) })).toThrow(FormatError);
});

test('Standardizer: columns near ±1e308 and around 1e-300 standardise to mean 0, std 1 (no overflow, no std fallback)', () => {
  const n = 6;
  const cols = [
    [1e200, -1e200, 3e200, -2e200, 5e199, 0],
    [1.5e308, -1.7e308, 1e308, -1e308, 1.2e308, -0.9e308],
    [1e-300, 2e-300, 3e-300, 4e-300, 5e-300, 6e-300],
    [1 + 1e-9, 1 + 2e-9, 1, 1 + 3e-9, 1 - 1e-9, 1],
  ];
  const d = cols.length;
  const X = new Float64Array(n * d);
  cols.forEach((c, j) => c.forEach((x, i) => { X[i * d + j] = x; }));
  const s = Standardizer.fit(X, n);
  const Z = s.transform(X, n);
  for (let j = 0; j < d; j++) {
    const z = Array.from({ length: n }, (_, i) => Z[i * d + j]);
    const m = z.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - m) ** 2, 0) / n);
    // (column 3: the mean itself is only known to an ulp of 1, i.e. 2e-7 of its spread)
    expect([j, Math.abs(m) < 1e-6, Math.abs(sd - 1) < 1e-9]).toEqual([j, true, true]);
    expect(Number.isFinite(s.mean[j]) && s.std[j] !== 1).toBe(true);
  }
  // A spread float64 cannot hold (subnormal) is a typed error naming the column.
  const sub = new Float64Array([5e-324, 1e-323, 5e-324, 1e-323]);
  expect(() => Standardizer.fit(sub, 4, 1, ['tiny'])).toThrow(/X column "tiny": its spread .* is too small/);
  expect(() => Standardizer.fit(sub, 4, 1)).toThrow(ArgumentError);
  // A value far outside the fitted range whose z-score overflows is named, not turned into Infinity.
  expect(() => Standardizer.fit(new Float64Array([1e-300, 2e-300]), 2).transform(new Float64Array([1e300]), 1)).toThrow(/row 0, column 0: 1e\+300 is too far outside the fitted range to standardise \(z-score overflows\)/);
});

test('LabelEncoder: sorted classes (numeric when numbers), encode/decode, unknown labels named', () => {
  const e = LabelEncoder.fit(['virginica', 'setosa', 'versicolor', 'setosa']);
  expect(e.classes).toEqual(['setosa', 'versicolor', 'virginica']);
  expect(Array.from(e.encode(['virginica', 'setosa']))).toEqual([2, 0]);
  expect(e.decode([1, 0])).toEqual(['versicolor', 'setosa']);
  expect(LabelEncoder.fit(['10', '9', '2']).classes).toEqual(['2', '9', '10']);
  expect(() => e.encode(['rose'])).toThrow(/"rose"/);
});

test('float64 codec: every bit pattern round-trips; truncated and corrupt text is a FormatError', () => {
  const v = new Float64Array([0, -0, 1 / 3, Number.MIN_VALUE, -Number.MAX_VALUE, 2 ** -1074 * 3, Math.PI]);
  const back = decodeF64(encodeF64(v), 'x');
  expect(new Uint8Array(back.buffer)).toEqual(new Uint8Array(v.buffer));
  expect(Object.is(back[1], -0)).toBe(true);
  for (const len of [0, 1, 2, 3]) {
    const w = new Float64Array(len).fill(1.5);
    expect(decodeF64(encodeF64(w), 'x')).toEqual(w);
  }
  const text = encodeF64(v);
  expect(() => decodeF64(text.slice(0, -4), 'p')).toThrow(/not a whole number|truncated/);
  expect(() => decodeF64(`${text.slice(0, 8)}!${text.slice(9)}`, 'p')).toThrow(/character 8/);
  expect(() => decodeF64(encodeF64(new Float64Array([NaN])), 'p')).toThrow(/element 0 is NaN/);
  expect(() => decodeF64(text, 'p', 3)).toThrow(/expected 3/);
});
