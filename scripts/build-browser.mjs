// Builds dist/natgrad.browser.js: the whole library as one ES module (the names of the three
// entries natgrad, natgrad/diagnostics and natgrad/advanced side by side), with its one
// runtime dependency (@assemblyscript/loader) and the WASM kernels inside, so a plain
// <script type="module"> can import it by path with no bundler and no import map.
// Bundlers keep using dist/esm (the package's "import" entry), which tree-shakes better.
import { build } from 'esbuild';
import { readFileSync, statSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const version = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version;
const ENTRIES = ['index', 'diagnostics/index', 'advanced'];

await build({
  stdin: {
    contents: ENTRIES.map((e) => `export * from './src/${e}.ts';\n`).join(''),
    resolveDir: root, sourcefile: 'natgrad.browser.ts', loader: 'ts',
  },
  outfile: `${root}dist/natgrad.browser.js`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  // A linked map whose sourcesContent holds the TypeScript (the tarball ships no src/).
  sourcemap: 'linked',
  sourcesContent: true,
  legalComments: 'eof',
  banner: { js: `/*! natgrad ${version} | MIT | browser build: one ES module, no bare imports */` },
  logLevel: 'warning',
});
// The map embeds every TypeScript source whole except binary.ts, the generated base64 of the two
// WASM builds (~57 KB of text nobody steps through): there each long string literal is replaced by
// a note of its length, on the same line, so the map's lines still point where they did.
const mapFile = `${root}dist/natgrad.browser.js.map`;
const map = JSON.parse(readFileSync(mapFile, 'utf8'));
map.sourcesContent = map.sources.map((source, i) => {
  const text = map.sourcesContent[i];
  if (!source.endsWith('kernels/wasm/binary.ts')) return text;
  return text.replace(/(['"])([A-Za-z0-9+/=]{256,})\1/g, (_, q, b64) => `${q}<${b64.length} base64 characters of a WASM build, elided here: see scripts/embed-wasm.mjs>${q}`);
});
writeFileSync(mapFile, JSON.stringify(map));
// dist/ root holds only the browser build: mark it as ESM for Node and TypeScript
// (dist/esm and dist/cjs carry their own package.json).
writeFileSync(`${root}dist/package.json`, '{ "type": "module" }\n');
writeFileSync(`${root}dist/natgrad.browser.d.ts`, ENTRIES.map((e) => `export * from './esm/${e}.js';\n`).join(''));
const kb = (statSync(`${root}dist/natgrad.browser.js`).size / 1024).toFixed(1);
console.log(`built dist/natgrad.browser.js (${kb} KiB)`);
