// Writes examples/regression/friedman1.csv: Friedman's #1 regression benchmark (Friedman 1991,
// "Multivariate adaptive regression splines"), a standard test function for regressors:
//   y = 10 sin(π x1 x2) + 20 (x3 − 0.5)² + 10 x4 + 5 x5 + ε,  x_j ~ U(0, 1), ε ~ N(0, 1),
// with a sixth input x6 that y does not depend on. 500 rows from a fixed seed.
import { writeFileSync } from 'node:fs';

let s = 20260 >>> 0;
const uniform = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());

const rows = ['x1,x2,x3,x4,x5,x6,y'];
for (let i = 0; i < 500; i++) {
  const x = Array.from({ length: 6 }, uniform);
  const y = 10 * Math.sin(Math.PI * x[0] * x[1]) + 20 * (x[2] - 0.5) ** 2 + 10 * x[3] + 5 * x[4] + normal();
  rows.push([...x.map((v) => v.toFixed(4)), y.toFixed(4)].join(','));
}
const out = new URL('./friedman1.csv', import.meta.url);
writeFileSync(out, `${rows.join('\n')}\n`);
console.log(`wrote ${out.pathname} (500 rows)`);
