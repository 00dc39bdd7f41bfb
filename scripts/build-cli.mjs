// Bundles the `natgrad` command (src/cli/main.ts) into dist/cli.mjs with esbuild: the CLI-only
// libraries (csv-parse, cli-progress, …) go into the bundle, so they stay devDependencies and a
// library user never installs them. TF.js stays external: --export-tfjs imports it when asked.
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
await build({
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: `${root}dist/cli.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Whitespace and syntax minified, identifiers kept, so stack traces still name the functions;
  // no source map: one with its sources embedded (the only kind the package ships) would add
  // ~0.8 MB to the tarball for a command-line tool. The report's plotting stack (Observable Plot,
  // linkedom) is most of the bundle.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  sourcemap: false,
  external: ['@tensorflow/*'],
  // Bundled CommonJS dependencies (cli-progress) call require() for Node built-ins.
  banner: { js: "import { createRequire as __natgradCreateRequire } from 'node:module'; const require = __natgradCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
console.log('built dist/cli.mjs');
