/**
 * natgrad through bundlers, as a consumer app uses it: test/fixtures/consumer imports
 * `natgrad` by name with no plugin or loader configuration; it is bundled with esbuild and
 * with Vite (production build), and each bundle is loaded in Chromium, where it inits the
 * WASM backend and takes one NGD step. The package is linked into the fixture's
 * node_modules as an installed dependency would be.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromiumAvailable, launchChromium, serveDir } from './helpers/browser';

const root = resolve(__dirname, '..');
const available = chromiumAvailable('bundlers.test.ts');
let work: string;
let browser: Browser | undefined;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'natgrad-consumer-'));
  cpSync(join(root, 'test/fixtures/consumer'), work, { recursive: true });
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(root, join(work, 'node_modules/natgrad'), 'dir');
  symlinkSync(join(root, 'node_modules/@assemblyscript'), join(work, 'node_modules/@assemblyscript'), 'dir');
});
afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

interface Result { backend: { backend: string; simd: boolean }; before: number; after: number; accepted: boolean }

/** Serves `dir`, opens its index.html, and returns what the app published, the console errors and the requests. */
async function run(dir: string, file = ''): Promise<{ result: Result; errors: string[]; requests: string[] }> {
  browser ??= await launchChromium();
  const { base, close } = await serveDir(dir);
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url().slice(base.length - 1)));
  try {
    await page.goto(base + file);
    // Done when the app publishes its result, or as soon as it throws.
    await Promise.race([
      page.waitForFunction(() => (window as { __result?: unknown }).__result !== undefined, undefined, { timeout: 30000 }),
      new Promise((ok) => page.once('pageerror', ok)),
    ]);
    const result = await page.evaluate(() => (window as { __result?: unknown }).__result) as Result;
    return { result, errors, requests };
  } finally {
    await page.close();
    await close();
  }
}

function expectTrained({ result, errors, requests }: Awaited<ReturnType<typeof run>>): void {
  expect(errors).toEqual([]);
  expect(result).toBeDefined();
  expect(result.backend).toMatchObject({ backend: 'wasm', simd: true, simdBuild: 'relaxed', threads: 1 });
  expect(result.accepted).toBe(true);
  // One exact NGD step (η = 1) on a wide net fits the linearisation: the loss drops by orders of magnitude.
  expect(result.after).toBeLessThan(1e-2 * result.before);
  // The WASM is embedded: the page fetches its HTML and scripts only.
  for (const r of requests) expect(r).toMatch(/^\/(index\.html|importmap\.html)?$|\.js$/);
}

(available ? test : test.skip)('esbuild bundles the consumer app with no configuration, and it trains in Chromium', async () => {
  const { build } = await import('esbuild');
  const out = join(work, 'dist-esbuild');
  await build({
    entryPoints: [join(work, 'main.js')], bundle: true, minify: true, format: 'esm',
    outdir: out, logLevel: 'silent', absWorkingDir: work,
  });
  cpSync(join(work, 'index.html'), join(out, 'index.html'));
  expect(readdirSync(out).sort()).toEqual(['index.html', 'main.js']);
  expectTrained(await run(out));
});

(available ? test : test.skip)('Vite (production build, no config file) bundles the consumer app, and it trains in Chromium', async () => {
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn', '--outDir', 'dist-vite', '.'],
    { cwd: work, stdio: 'pipe' });
  const out = join(work, 'dist-vite');
  expect(readdirSync(join(out, 'assets')).every((f) => f.endsWith('.js'))).toBe(true);
  expectTrained(await run(out));
});

(available ? test : test.skip)('with no bundler, a plain <script type="module"> and an import map run the same app', async () => {
  const run1 = await run(work, 'importmap.html');
  expectTrained(run1);
  expect(run1.requests).toContain('/node_modules/natgrad/dist/esm/index.js');
});
