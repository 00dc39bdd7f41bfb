/**
 * The built package's CLI bundle and its natgrad/tfjs entry, as users get them (dist/ from `npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });

test('the library\'s runtime dependencies stay @assemblyscript/loader; TF.js is an optional peer', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  expect(Object.keys(pkg.dependencies)).toEqual(['@assemblyscript/loader']);
  for (const dep of ['csv-parse', 'cli-progress', 'esbuild']) expect(pkg.devDependencies[dep]).toBeDefined();
  for (const peer of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']) expect(pkg.peerDependenciesMeta[peer]).toEqual({ optional: true });
  expect(pkg.exports['./tfjs']).toEqual({
    import: { types: './dist/esm/tfjs.d.ts', default: './dist/esm/tfjs.js' },
    require: { types: './dist/cjs/tfjs.d.ts', default: './dist/cjs/tfjs.js' },
  });
  for (const cond of Object.values(pkg.exports['./tfjs']) as Record<string, string>[]) {
    for (const f of Object.values(cond)) expect(existsSync(join(root, f))).toBe(true);
  }
});

test('bin/natgrad.js runs the bundle dist/cli.mjs, which carries csv-parse and cli-progress inside', () => {
  const bundle = readFileSync(join(root, 'dist/cli.mjs'), 'utf8');
  expect(bundle).not.toMatch(/from\s*['"](csv-parse|cli-progress)/);
  expect(run(['bin/natgrad.js', 'train', '--help'])).toMatch(/^Usage: natgrad train/);
});

test('natgrad/tfjs imports as ESM and CommonJS without loading TF.js', () => {
  const esm = run(['--input-type=module', '-e', `
    import { fromTfjs, toTfjs } from 'natgrad/tfjs';
    console.log(typeof fromTfjs, typeof toTfjs);`]);
  const cjs = run(['-e', `const t = require('natgrad/tfjs'); console.log(typeof t.fromTfjs, typeof t.toTfjs);`]);
  expect(esm.trim()).toBe('function function');
  expect(cjs.trim()).toBe('function function');
  const src = readFileSync(join(root, 'dist/esm/tfjs.js'), 'utf8');
  expect(src).not.toMatch(/^(import|export)\b[^\n]*['"]@tensorflow|import\(\s*['"]@tensorflow|require\(\s*['"]@tensorflow/m);
});
