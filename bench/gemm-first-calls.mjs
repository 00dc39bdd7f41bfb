// The fixed cost of the public linalg.gemm from a fresh process (issue 22 item 1), for the `native`
// suite's fixed-costs part: after init(), the first `calls` pairs of (the kernel on resident data,
// linalg.gemm(a, b, n, n, n, { c }) on plain arrays), alternating from the first call, each timed.
// Input: one JSON argument { n, calls, threads }. Output: one JSON line { kernel: [s…], public: [s…] }.
import { init } from '../dist/esm/index.js';
import { kernels, linalg } from '../dist/esm/advanced.js';

const { n, calls, threads } = JSON.parse(process.argv[2]);
await init({ backend: 'wasm', threads });
const a = new Float64Array(n * n).map((_, i) => Math.sin(i)), b = new Float64Array(n * n).map((_, i) => Math.cos(i)), c = new Float64Array(n * n);
const k = kernels(), pa = k.alloc(n * n), pb = k.alloc(n * n), pc = k.alloc(n * n);
k.f64().set(a, pa >> 3);
k.f64().set(b, pb >> 3);
const kernel = [], pub = [];
for (let i = 0; i < calls; i++) {
  let t = performance.now();
  k.gemm(0, 0, n, n, n, 1, pa, n, pb, n, 0, pc, n);
  kernel.push((performance.now() - t) / 1e3);
  t = performance.now();
  linalg.gemm(a, b, n, n, n, { c });
  pub.push((performance.now() - t) / 1e3);
}
process.stdout.write(`${JSON.stringify({ kernel, public: pub })}\n`);
