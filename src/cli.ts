/// <reference types="node" />
/**
 * The `natgrad` command (Node only; the library entry never imports this file).
 */
import { init, linalg, VERSION } from './index.js';

const HELP = `natgrad ${VERSION}: natural gradient descent and K-FAC on a WebAssembly SIMD float64 core

Usage: natgrad <command> [options]

Commands:
  demo              a short tour of the numeric core on the active backend (default)

Options:
  --backend <name>  auto (default), wasm or js
  -h, --help        show this help
  -v, --version     print the version
`;

export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.includes('-v') || args.includes('--version')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  let backend: 'auto' | 'wasm' | 'js' = 'auto';
  const bi = args.indexOf('--backend');
  if (bi >= 0) {
    const v = args[bi + 1];
    if (v !== 'auto' && v !== 'wasm' && v !== 'js') {
      process.stderr.write(`natgrad: --backend must be auto, wasm or js, got ${v ?? 'nothing'}\n`);
      return 2;
    }
    backend = v;
    args.splice(bi, 2);
  }
  const command = args[0] ?? 'demo';
  if (command !== 'demo') {
    process.stderr.write(`natgrad: unknown command '${command}'\n\n${HELP}`);
    return 2;
  }
  await demo(backend);
  return 0;
}

async function demo(backend: 'auto' | 'wasm' | 'js'): Promise<void> {
  const info = await init({ backend });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`natgrad ${VERSION} on Node ${process.versions.node}: backend ${info.backend}${info.simd ? ' (WASM f64x2 SIMD)' : ''}`);
  const n = 256;
  const a = new Float64Array(n * n);
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) - 0.5;
  for (let i = 0; i < a.length; i++) a[i] = rand();
  const time = (f: () => void) => { const t = performance.now(); f(); return performance.now() - t; };
  let g: Float64Array = new Float64Array(0);
  linalg.gram(a, n, n);
  const tg = time(() => { g = linalg.gram(a, n, n); });
  out(`gram      G = A·Aᵀ, ${n}×${n}: ${tg.toFixed(2)} ms (${(n ** 3 / tg / 1e6).toFixed(2)} GFLOP/s)`);
  const b = new Float64Array(n).fill(1);
  let x: Float64Array = new Float64Array(0);
  const ts = time(() => { x = linalg.solveSPD(g, b, n, 1, { damping: 1e-3 }); });
  const r = linalg.gemm(g, x, n, n, 1);
  let res = 0;
  for (let i = 0; i < n; i++) res = Math.max(res, Math.abs(r[i] + 1e-3 * x[i] - 1));
  out(`solveSPD  (G + 1e-3·I)x = 1: ${ts.toFixed(2)} ms, max residual ${res.toExponential(2)}`);
  try {
    const { values } = linalg.eigh(g, n);
    out(`eigh      λ_min(G) = ${values[0].toExponential(3)}, λ_max(G) = ${values[n - 1].toExponential(3)}, condition ${(values[n - 1] / values[0]).toExponential(2)}`);
  } catch (e) {
    out(`eigh      ${(e as Error).message}`);
  }
}
