#!/usr/bin/env node
/**
 * What natgrad adds to a browser bundle, minified and gzipped: the consumer fixture
 * (test/fixtures/consumer: init + twoLayerReLU + ngd + evaluate) bundled with esbuild and with
 * Vite exactly as the bundler test does, and with esbuild the whole public API (`export *`).
 * natgrad's share is the bundle minus the same app built with natgrad left external; the
 * embedded WASM module and the AssemblyScript loader are listed from esbuild's metafile.
 *
 *   node scripts/bundle-size.mjs          (needs dist/: npm run build)
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

const work = mkdtempSync(join(tmpdir(), 'natgrad-size-'));
try {
  cpSync(join(root, 'test/fixtures/consumer'), work, { recursive: true });
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(root, join(work, 'node_modules/natgrad'), 'dir');

  const esb = async (entry, external = []) => {
    const r = await build({
      entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', write: false,
      metafile: true, outdir: join(work, 'out'), absWorkingDir: work, external, logLevel: 'silent',
    });
    const js = r.outputFiles.find((f) => f.path.endsWith('.js'));
    const inputs = Object.values(r.metafile.outputs).find((o) => o.entryPoint)?.inputs ?? {};
    return { bytes: js.contents.length, gzip: gz(js.contents), inputs };
  };
  const rows = [];
  const share = (what, full, bare) => rows.push([what, full.bytes - bare.bytes, full.gzip - bare.gzip]);

  const app = join(work, 'main.js');
  const appFull = await esb(app), appBare = await esb(app, ['natgrad']);
  share('esbuild: the consumer app (init, twoLayerReLU, ngd, evaluate)', appFull, appBare);
  const pick = (re) => Object.entries(appFull.inputs).filter(([p]) => re.test(p)).reduce((s, [, v]) => s + v.bytesInOutput, 0);
  const wasmIn = pick(/kernels\/wasm\/binary/), loaderIn = pick(/@assemblyscript\/loader/);

  const everything = join(work, 'all.js');
  writeFileSync(everything, "export * from 'natgrad';\n");
  const allFull = await esb(everything), allBare = await esb(everything, ['natgrad']);
  share('esbuild: the whole public API (export * from natgrad)', allFull, allBare);

  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'silent', '--outDir', 'dist-vite', '.'], { cwd: work });
  const assets = join(work, 'dist-vite/assets');
  const viteJs = readdirSync(assets).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(assets, f)));
  const viteBytes = viteJs.reduce((s, b) => s + b.length, 0), viteGzip = viteJs.reduce((s, b) => s + gz(b), 0);
  // Vite's bundle without natgrad is the app's few hundred bytes; the esbuild figure above measures them.
  rows.push(['Vite 8 production build of the consumer app (whole JS output, app code included)', viteBytes, viteGzip]);

  const pkg = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  console.log(`natgrad bundle size — Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, esbuild ${pkg('esbuild')}, vite ${pkg('vite')}; gzip -9\n`);
  console.log('| bundle | minified | minified + gzipped |\n|---|---:|---:|');
  for (const [what, bytes, gzip] of rows) console.log(`| ${what} | ${kib(bytes)} | ${kib(gzip)} |`);
  console.log(`\nOf the consumer app's minified natgrad share: the embedded WASM module (base64) ${kib(wasmIn)}, @assemblyscript/loader ${kib(loaderIn)}.`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
