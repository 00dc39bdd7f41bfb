/**
 * The one closeness check of the test suite: |actual[i] − expected[i]| ≤ atol + rtol·|expected[i]|
 * for every i, after checking lengths. On failure it throws naming the first bad
 * index (and its row/column when `cols` is given), both values and the bound.
 */
export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** Row length, to report a failing index as (row, col). */
  cols?: number;
  label?: string;
}

export function allClose(actual: ArrayLike<number>, expected: ArrayLike<number>, options: CloseOptions = {}): void {
  const { rtol = 1e-12, atol = 1e-12, cols, label = 'arrays' } = options;
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} differs from expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const bound = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= bound)) {
      const where = cols ? `index ${i} (row ${Math.floor(i / cols)}, col ${i % cols})` : `index ${i}`;
      throw new Error(`${label}: first mismatch at ${where}: actual ${a}, expected ${e}, |diff| ${Math.abs(a - e)} > ${bound} (rtol ${rtol}, atol ${atol})`);
    }
  }
}
