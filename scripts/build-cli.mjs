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
  sourcemap: true,
  external: ['@tensorflow/*'],
  // Bundled CommonJS dependencies (cli-progress) call require() for Node built-ins.
  banner: { js: "import { createRequire as __natgradCreateRequire } from 'node:module'; const require = __natgradCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
console.log('built dist/cli.mjs');
