#!/usr/bin/env node
/**
 * The browser demo: `build` bundles demo/ with esbuild into static files (default demo/dist);
 * `serve` builds, then serves that folder on 127.0.0.1 with the two headers that make the
 * page cross-origin isolated (so threaded WASM can run there), and prints the URL.
 *
 *   node scripts/demo.mjs build [--outdir DIR]
 *   node scripts/demo.mjs serve [--port N] [--outdir DIR] [--no-build]
 *
 * The page resolves `natgrad` like any consumer, through this package's `exports` (the built
 * dist/, so run `npm run build` — `npm ci` does — first).
 */
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { copyFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'demo');

/** Bundles the page and its worker into `outdir` and copies the HTML and CSS beside them. */
export async function buildDemo(outdir = join(demo, 'dist')) {
  if (!existsSync(join(root, 'dist/esm/index.js'))) throw new Error('dist/esm is missing: run `npm run build` first');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: { main: join(demo, 'src/main.ts'), worker: join(demo, 'src/worker.ts') },
    outdir, bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    // keepNames: readable class names in stack traces (natgrad's error names are literals and need no help).
    minify: true, keepNames: true, sourcemap: 'linked', metafile: true, logLevel: 'warning',
  });
  await Promise.all(['index.html', 'style.css'].map((f) => copyFile(join(demo, f), join(outdir, f))));
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([f]) => !f.endsWith('.map'))
    .map(([f, o]) => `${relative(outdir, resolve(root, f))} ${(o.bytes / 1024).toFixed(0)} KiB`);
  return { outdir, sizes };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.wasm': 'application/wasm',
};

/** Serves the files under `dir` (GET/HEAD only) with the COOP/COEP headers; resolves to the listening server. */
export function serveStatic(dir, port = 8123) {
  const base = resolve(dir);
  const server = createServer(async (req, res) => {
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-cache' };
    let file;
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      file = resolve(base, '.' + (path.endsWith('/') ? path + 'index.html' : path));
    } catch { file = undefined; }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, headers).end(); return; }
    if (!file || (file !== base && !file.startsWith(base + sep)) || !(await stat(file).then((s) => s.isFile(), () => false))) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { port: { type: 'string', default: '8123' }, outdir: { type: 'string' }, 'no-build': { type: 'boolean', default: false } },
  });
  const command = positionals[0] ?? 'serve';
  const outdir = values.outdir ? resolve(values.outdir) : join(demo, 'dist');
  if (command !== 'build' && command !== 'serve') throw new Error(`unknown command "${command}" (build or serve)`);
  if (command === 'build' || !values['no-build']) {
    const { sizes } = await buildDemo(outdir);
    console.log(`built ${relative(process.cwd(), outdir) || '.'}: ${sizes.join(', ')}`);
  }
  if (command === 'serve') {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer 0–65535, got ${values.port}`);
    const server = await serveStatic(outdir, port);
    console.log(`natgrad demo: http://127.0.0.1:${server.address().port}/  (Ctrl-C to stop)`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
