/**
 * The package in a real browser: Debian's Chromium, driven by playwright-core, loads
 * dist/esm over HTTP from localhost (an import map resolves the one bare import)
 * and runs the numeric core. `.ci/run` installs Chromium; locally the test is
 * skipped, with a note, where /usr/bin/chromium is absent.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';

const CHROMIUM = '/usr/bin/chromium';
const root = resolve(__dirname, '..');
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`CI needs ${CHROMIUM} (apt-get install chromium)`);
if (!available) console.warn(`browser.test.ts skipped: ${CHROMIUM} not installed`);

const PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@assemblyscript/loader": "/node_modules/@assemblyscript/loader/index.js" } }</script>
<script type="module">
  import { init } from '/dist/esm/index.js';
  import { linalg } from '/dist/esm/advanced.js';
  try {
    const info = await init();
    const c = linalg.gemm(new Float64Array([1, 2, 3, 4]), new Float64Array([5, 6, 7, 8]), 2, 2, 2);
    const x = linalg.solveSPD(new Float64Array([4, 2, 2, 3]), new Float64Array([2, 1]), 2, 1);
    window.__result = { info, c: Array.from(c), x: Array.from(x) };
  } catch (e) {
    window.__result = { error: String(e && e.stack || e) };
  }
</script>`;

/**
 * Threads in the browser: served with COOP/COEP (cross-origin isolated), so SharedArrayBuffer
 * exists; the page's main thread may not block, so it waits for the Web Workers by spinning.
 */
const THREADS_PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@assemblyscript/loader": "/node_modules/@assemblyscript/loader/index.js" } }</script>
<script type="module">
  import { init, shutdown } from '/dist/esm/index.js';
  import { linalg } from '/dist/esm/advanced.js';
  try {
    const n = 150, a = new Float64Array(n * n).map((_, i) => Math.sin(i)), b = new Float64Array(n * n).map((_, i) => Math.cos(3 * i));
    const one = await init({ threads: 1 });
    const g1 = linalg.gemm(a, b, n, n, n), s1 = linalg.gram(a, n, n);
    const two = await init({ threads: 2 });
    const g2 = linalg.gemm(a, b, n, n, n), s2 = linalg.gram(a, n, n);
    const same = (x, y) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
    shutdown();
    window.__result = { isolated: crossOriginIsolated, one, two, gemmSame: same(g1, g2), gramSame: same(s1, s2) };
  } catch (e) {
    window.__result = { error: String(e && e.stack || e) };
  }
</script>`;

/**
 * A Web Worker that ends while idle, as a browser reports nothing of it: the next threaded call takes
 * its panel back at once and gets the one-thread bits; once the worker has not woken through the
 * claim grace of taken-back panels, the pool stops and says why. The workers' blob URL is revoked
 * once they start.
 */
const THREADS_LOST_PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@assemblyscript/loader": "/node_modules/@assemblyscript/loader/index.js" } }</script>
<script type="module">
  import { init, backendInfo, shutdown } from '/dist/esm/index.js';
  import { linalg, kernels } from '/dist/esm/advanced.js';
  const made = [], revoked = [];
  const create = URL.createObjectURL.bind(URL), revoke = URL.revokeObjectURL.bind(URL);
  URL.createObjectURL = (b) => { const u = create(b); made.push(u); return u; };
  URL.revokeObjectURL = (u) => { revoked.push(u); revoke(u); };
  try {
    const n = 150, a = new Float64Array(n * n).map((_, i) => Math.sin(i)), b = new Float64Array(n * n).map((_, i) => Math.cos(3 * i));
    await init({ threads: 1 });
    const g1 = linalg.gemm(a, b, n, n, n);
    const two = await init({ threads: 2 });
    const blobs = { made: made.length, allRevoked: made.every((u) => revoked.includes(u)) };
    kernels().pool.workers[0].terminate(); // the pool's workers are TypeScript-private only
    // Chromium ends a worker that never yields to its event loop by force, 2 s after terminate().
    await new Promise((ok) => setTimeout(ok, 4000));
    // The next call takes its panel back at once (the right bits, no wait) and the pool goes on...
    const g2 = linalg.gemm(a, b, n, n, n);
    const during = backendInfo();
    // ...until the worker has not woken through the claim grace (2 s) of taken-back panels.
    await new Promise((ok) => setTimeout(ok, 2500));
    const g3 = linalg.gemm(a, b, n, n, n);
    const same = [g2, g3].every((g) => g1.length === g.length && g1.every((v, i) => Object.is(v, g[i])));
    const after = backendInfo();
    shutdown();
    window.__result = { two: two.threads, blobs, same, during, after };
  } catch (e) {
    window.__result = { error: String(e && e.stack || e) };
  }
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };

(available ? describe : describe.skip)('in Chromium', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      // Cross-origin isolation on every response (same-origin subresources need nothing more).
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      if (path === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); return; }
      if (path === '/threads') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(THREADS_PAGE); return; }
      if (path === '/threads-lost') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(THREADS_LOST_PAGE); return; }
      const allowed = path.startsWith('/dist/') || path.startsWith('/node_modules/@assemblyscript/loader/');
      const file = join(root, path);
      if (!allowed || !existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  /** Loads a page of the server in Chromium and returns its window.__result and page errors. */
  async function visit(path: string): Promise<{ result: unknown; errors: string[] }> {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(base + path);
      await page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60000 });
      return { result: await page.evaluate(() => (window as { __result?: unknown }).__result), errors };
    } finally {
      await browser.close();
    }
  }

  test('init picks WASM SIMD (the relaxed build: Chromium validates relaxed SIMD) and the kernels compute', async () => {
    const { result, errors } = await visit('');
    expect(errors).toEqual([]);
    const r = result as { info: unknown; c: number[]; x: number[] };
    expect(r.info).toEqual({ backend: 'wasm', simd: true, simdBuild: 'relaxed', maxMemoryBytes: 2 ** 31, threads: 1, threadsUnavailable: null });
    expect(r.c).toEqual([19, 22, 43, 50]);
    expect(r.x[0]).toBeCloseTo(0.5, 14);
    expect(r.x[1]).toBeCloseTo(0, 14);
  });

  test('threads run in Web Workers on a cross-origin-isolated page, bit-identical to one thread', async () => {
    const { result, errors } = await visit('threads');
    expect(errors).toEqual([]);
    expect(result).toMatchObject({
      isolated: true,
      one: { threads: 1, threadsUnavailable: null },
      two: { threads: 2, threadsUnavailable: null },
      gemmSame: true,
      gramSame: true,
    });
  });

  test('a Web Worker that ends while idle: the next call takes its panel back, same bits, and the pool says why; the blob URL is revoked', async () => {
    const { result, errors } = await visit('threads-lost');
    expect(errors).toEqual([]);
    expect(result).toMatchObject({
      two: 2,
      blobs: { made: 1, allRevoked: true },
      same: true,
      during: { threads: 2, threadsUnavailable: null },
      after: { threads: 1, threadsUnavailable: expect.stringMatching(/worker in slot 0 has ended \(it has taken no panel for 2000 ms/) },
    });
  });
});
