/**
 * Error names survive minification: bundlers that minify (esbuild, Vite) rename classes, so an
 * error named after its class at run time would read `e.name === 'E'`. Each class carries its
 * name as a literal; a minified esbuild bundle run in a fresh Node process proves it.
 */
import { buildSync } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as natgrad from '../src/index';
import { runNode, tempDir } from './helpers/fresh';

test('every exported error class is named by a literal equal to its export name', () => {
  const classes = Object.entries(natgrad).filter(([, v]) => typeof v === 'function' && (v === natgrad.NatgradError || v.prototype instanceof natgrad.NatgradError));
  expect(classes.length).toBeGreaterThanOrEqual(9);
  // Every constructor takes (string | number, string, …); the arguments only shape the message.
  for (const [exported, C] of classes) expect([exported, (new (C as new (...a: unknown[]) => Error)('x', 'y', 0)).name]).toEqual([exported, exported]);
});

test('a minified esbuild bundle keeps error names: gd({ lr: -1 }) throws e.name === "ArgumentError"', () => {
  const { dir, cleanup } = tempDir('natgrad-minified-');
  const result = buildSync({
    stdin: {
      contents: `
        import { gd, ArgumentError } from './src/index';
        try { gd({ lr: -1 }); console.log('no error'); } catch (e) {
          console.log(JSON.stringify({ name: e.name, instance: e instanceof ArgumentError, text: String(e).split(':')[0], stack: e.stack.split(':')[0] }));
        }`,
      resolveDir: resolve(__dirname, '..'), loader: 'ts', sourcefile: 'minified.ts',
    },
    bundle: true, minify: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'silent',
    external: ['@tensorflow/*'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const file = join(dir, 'minified.mjs');
  writeFileSync(file, result.outputFiles[0].contents);
  // The bundle really is minified: the class is not called ArgumentError in it.
  expect(result.outputFiles[0].text).not.toMatch(/class ArgumentError\b/);
  const out = JSON.parse(runNode(file, []));
  expect(out).toEqual({ name: 'ArgumentError', instance: true, text: 'ArgumentError', stack: 'ArgumentError' });
  cleanup();
});
