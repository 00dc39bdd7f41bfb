// Builds the kernels twice from assembly/ — the baseline SIMD128 module and the
// relaxed-SIMD one (f64x2.relaxed_madd/nmadd: fused multiply-add in the GEMM, SYRK,
// Cholesky and triangular-solve micro-kernels) — then embeds both (scripts/embed-wasm.mjs).
// Worker threads use each with its memory import declared shared (derived at run time).
// init({ simd }) picks one at run time with a WebAssembly.validate probe.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const asc = fileURLToPath(new URL('../node_modules/assemblyscript/bin/asc.js', import.meta.url));
for (const target of ['release', 'relaxed']) {
  const r = spawnSync(process.execPath, [asc, 'assembly/index.ts', '--target', target], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
await import('./embed-wasm.mjs');
