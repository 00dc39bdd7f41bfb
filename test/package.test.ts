/**
 * The built package in this checkout: dist/ is produced by `npm run build`, which
 * `npm test` and `npm start` run first when dist/ is missing or stale (scripts/ensure-built.mjs).
 * test/tarball.test.ts checks the packed tarball as a user installs it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const run = (args: string[], cwd = root) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' });

beforeAll(() => {
  if (!existsSync(join(root, 'dist/esm/index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
});

test('imports as ESM and as CommonJS, and computes', () => {
  const esm = run(['--input-type=module', '-e', `
    import { init } from 'natgrad';
    import { linalg } from 'natgrad/advanced';
    const info = await init();
    const c = linalg.gemm(new Float64Array([1, 2, 3, 4]), new Float64Array([5, 6, 7, 8]), 2, 2, 2);
    console.log(JSON.stringify({ info, c: Array.from(c) }));`]);
  const cjs = run(['-e', `
    const { init } = require('natgrad');
    const { linalg } = require('natgrad/advanced');
    init({ backend: 'js' }).then((info) => {
      const c = linalg.gemm(new Float64Array([1, 2, 3, 4]), new Float64Array([5, 6, 7, 8]), 2, 2, 2);
      console.log(JSON.stringify({ info, c: Array.from(c) }));
    });`]);
  const build = Number(process.versions.node.split('.')[0]) >= 22 ? 'relaxed' : 'baseline';
  const rest = { maxMemoryBytes: 2 ** 31, threads: 1, threadsUnavailable: null };
  expect(JSON.parse(esm)).toEqual({ info: { backend: 'wasm', simd: true, simdBuild: build, ...rest }, c: [19, 22, 43, 50] });
  expect(JSON.parse(cjs)).toEqual({ info: { backend: 'js', simd: false, simdBuild: null, ...rest }, c: [19, 22, 43, 50] });
});

test('ships type declarations for the root entry and natgrad/advanced', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  expect(existsSync(join(root, pkg.types))).toBe(true);
  const dts = readFileSync(join(root, pkg.types), 'utf8');
  expect(dts).toMatch(/export \{ init/);
  expect(readFileSync(join(root, pkg.exports['./advanced'].require.types), 'utf8')).toMatch(/linalg/);
});

test('the three library entries pull in no Node built-ins (whole ESM import graph)', () => {
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const seen = new Set<string>();
  const external: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else external.push(spec);
    }
    expect(src).not.toMatch(/\brequire\(|\bprocess\.|__dirname|Buffer\./);
  };
  for (const entry of ['index.js', 'diagnostics/index.js', 'advanced.js']) visit(join(root, 'dist/esm', entry));
  expect(seen.size).toBeGreaterThan(3);
  for (const spec of external) expect(builtins.has(spec)).toBe(false);
  // The one runtime dependency's ESM build is itself free of Node built-ins.
  expect(new Set(external)).toEqual(new Set(['@assemblyscript/loader']));
  const loader = readFileSync(join(root, 'node_modules/@assemblyscript/loader/index.js'), 'utf8');
  expect(loader).not.toMatch(/from\s*['"](node:)?(fs|path|url|module)['"]/);
});

test('the CLI answers --help and --version', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  expect(run(['bin/natgrad.js', '--version']).trim()).toBe(pkg.version);
  expect(run(['bin/natgrad.js', '--help'])).toMatch(/Usage: natgrad/);
  expect(() => execFileSync(process.execPath, ['bin/natgrad.js', 'frobnicate'], { cwd: root, stdio: 'pipe' })).toThrow();
});
