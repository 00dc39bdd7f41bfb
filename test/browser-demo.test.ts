/**
 * The demo page in real Chromium, as `npm run demo:web` builds and serves it: the unattended
 * comparison (`?auto=1`) on the paper's problem, the regression's Laplace band, the Poisson
 * problem solved by ENGD with its heat maps, and a failing step that leaves the worker usable.
 * The page's screenshot is saved to test/artifacts/demo.png.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './helpers/browser';

const root = resolve(__dirname, '..');
const available = chromiumAvailable('browser-demo.test.ts');
const OPTIMIZERS = ['ngd', 'kfac', 'gd', 'adam'] as const;
type Results = Record<(typeof OPTIMIZERS)[number], number>;

let server: ChildProcess | undefined;
let base = '';
let outdir = '';
let browser: Browser | undefined;

(available ? describe : describe.skip)('the demo page in Chromium', () => {
  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'natgrad-demo-'));
    // The real command: builds with esbuild, then serves with COOP/COEP and prints the URL.
    server = spawn(process.execPath, [join(root, 'scripts/demo.mjs'), 'serve', '--port', '0', '--outdir', outdir],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    base = await new Promise<string>((ok, fail) => {
      let out = '', err = '';
      server!.stdout!.on('data', (d) => {
        out += d;
        const m = /natgrad demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) ok(m[1]);
      });
      server!.stderr!.on('data', (d) => { err += d; });
      server!.on('exit', (code) => fail(new Error(`demo server exited (${code}): ${err}${out}`)));
    });
    browser = await launchChromium();
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    server?.kill();
    rmSync(outdir, { recursive: true, force: true });
  });

  /** A page that records console errors, every request, and rAF frames while the demo trains. */
  async function open(query: string): Promise<{ page: Page; errors: string[]; requests: string[]; headers: Record<string, string> }> {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.context().route('**/*', (route) => {
      requests.push(route.request().url());
      return new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort();
    });
    await page.addInitScript(() => {
      const w = window as unknown as { __frames: number[]; natgradDemo?: { status: string } };
      w.__frames = [];
      const tick = () => {
        if (w.natgradDemo?.status === 'running') w.__frames.push(performance.now());
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const response = await page.goto(base + query);
    return { page, errors, requests, headers: response!.headers() };
  }

  const status = (page: Page) => page.textContent('[data-testid=status]');
  const waitFor = (page: Page, s: string, timeout = 60000) =>
    page.waitForFunction((want) => document.querySelector('[data-testid=status]')?.textContent === want, s, { timeout });

  test('?auto=1 runs the default comparison: NGD ends ≤ 1e-3 × GD, the page stays responsive, nothing leaves 127.0.0.1', async () => {
    const { page, errors, requests, headers } = await open('?auto=1');
    expect(headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
    await waitFor(page, 'done');
    const demo = await page.evaluate(() => (window as unknown as { natgradDemo: { results: Results; backend: unknown; config: { problem: string } } }).natgradDemo);
    expect(demo.config.problem).toBe('paper');
    expect(demo.backend).toMatchObject({ backend: 'wasm', simd: true });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    // The demo's worker asks init() for a thread per logical processor; the isolated page gives them.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(demo.backend).toMatchObject({ threads: cores, threadsUnavailable: null });
    for (const id of OPTIMIZERS) {
      expect(Number.isFinite(demo.results[id])).toBe(true);
      // The cells show the same numbers (to the 4 significant digits printed).
      const cell = Number(await page.textContent(`[data-testid=final-loss-${id}]`));
      expect(Math.abs(cell - demo.results[id])).toBeLessThanOrEqual(1e-3 * demo.results[id]);
      expect(await page.textContent(`[data-testid=error-${id}]`)).toBe('');
    }
    expect(demo.results.ngd).toBeLessThanOrEqual(1e-3 * demo.results.gd);
    // The main thread kept painting while the worker trained.
    const frames = await page.evaluate(() => (window as unknown as { __frames: number[] }).__frames);
    expect(frames.length).toBeGreaterThanOrEqual(10);
    const gaps = frames.slice(1).map((t, i) => t - frames[i]);
    expect(Math.max(...gaps)).toBeLessThan(1000);
    expect(errors).toEqual([]);
    expect(requests.some((u) => u.endsWith('/worker.js'))).toBe(true);
    for (const u of requests) expect(new URL(u).hostname).toBe('127.0.0.1');
    mkdirSync(join(root, 'test/artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'test/artifacts/demo.png'), fullPage: true });
    await page.close();
  });

  test('regression: a Laplace ±2σ band around NGD\'s net, drawn, and wider outside the data than among it', async () => {
    const { page, errors } = await open('?auto=1&problem=regression');
    await waitFor(page, 'done');
    const { band, info } = await page.evaluate(() => (window as unknown as {
      natgradDemo: { band: { lane: string; x: number[]; mean: number[]; std: number[]; prior: number; noise: number; structure: string; error?: string } | null; info: { points: { X: number[] } } };
    }).natgradDemo);
    expect(band).not.toBeNull();
    expect(band!.lane).toBe('ngd');
    expect(band!.structure).toBe('full');
    expect(band!.error).toBeUndefined();
    // δ and σ tuned by the marginal likelihood: σ near the data's noise (0.05).
    expect(band!.noise).toBeGreaterThan(0.02);
    expect(band!.noise).toBeLessThan(0.1);
    const lo = Math.min(...info.points.X), hi = Math.max(...info.points.X);
    const inside = band!.std.filter((_, i) => band!.x[i] >= lo && band!.x[i] <= hi);
    const outside = band!.std.filter((_, i) => band!.x[i] <= lo - 0.5 || band!.x[i] >= hi + 0.5);
    expect(inside.length).toBeGreaterThan(50);
    expect(outside.length).toBeGreaterThan(20);
    for (const s of band!.std) expect(Number.isFinite(s) && s > 0).toBe(true);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    // Among the data the band is about the noise; half a unit beyond it, every point is wider than anywhere inside.
    expect(mean(inside)).toBeLessThan(0.3);
    expect(Math.min(...outside)).toBeGreaterThan(Math.max(...inside));
    expect(mean(outside)).toBeGreaterThan(5 * mean(inside));
    // The band is on the page: an area mark with a drawn path, and its caption.
    const d = await page.getAttribute('#view svg .laplace-band path', 'd');
    expect(d && d.length).toBeGreaterThan(100);
    expect(await page.textContent('[data-testid=band-info]')).toMatch(/mean ± 2σ of NGD's net.*by marginal likelihood/);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('Poisson 2-D by ENGD in the worker: the relative L² error falls from ~1 to ≤ 1e-3, heat maps of u and |u − u*| and the error curve are drawn, the page stays responsive', async () => {
    const { page, errors } = await open('?auto=1&problem=poisson');
    // 100 iterations take about 8 s on an idle machine; the budget leaves room for a loaded one.
    await waitFor(page, 'done', 110000);
    const pde = await page.evaluate(() => (window as unknown as {
      natgradDemo: { pde: { info: { numParams: number; residuals: number }; loss: number[]; l2: number[]; summary: { iterations: number; finalL2: number; error?: string } } };
    }).natgradDemo.pde);
    // The paper's setting: [2, 32, 1] tanh net, 30 × 30 interior grid and 30 boundary points per side.
    expect(pde.info).toMatchObject({ numParams: 129, residuals: 900 + 120 });
    expect(pde.summary.error).toBeUndefined();
    expect(pde.summary.iterations).toBe(100);
    expect(pde.l2).toHaveLength(101);
    expect(pde.l2[0]).toBeGreaterThan(0.1);
    expect(pde.summary.finalL2).toBe(pde.l2[100]);
    expect(pde.summary.finalL2).toBeLessThanOrEqual(1e-3);
    expect(pde.loss[100]).toBeLessThan(1e-4 * pde.loss[0]);
    expect(Number(await page.textContent('[data-testid=pde-l2]'))).toBeCloseTo(pde.summary.finalL2, 10);
    expect(await page.textContent('[data-testid=pde-error]')).toBe('');

    // The pixels of each heat map's canvas and of the chart's error curve.
    const pixels = await page.evaluate(() => {
      const stats = (c: HTMLCanvasElement) => {
        const ctx = c.getContext('2d')!, w = c.width, h = c.height;
        const d = ctx.getImageData(0, 0, w, h).data;
        const colors = new Set<number>();
        let opaque = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] > 0) opaque++;
          colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        }
        return { opaque: opaque / (w * h), colors: colors.size, centre: Array.from(ctx.getImageData(w >> 1, h >> 1, 1, 1).data), corner: Array.from(ctx.getImageData(0, 0, 1, 1).data) };
      };
      const maps: Record<string, ReturnType<typeof stats>> = {};
      for (const id of ['pde-u', 'pde-error-map']) {
        const c = document.querySelector<HTMLCanvasElement>(`[data-testid=${id}] canvas.map`);
        if (c) maps[id] = stats(c);
      }
      // uPlot's canvas: pixels of the error series' colour (#d62728).
      const chart = document.querySelector<HTMLCanvasElement>('#loss-chart canvas')!;
      const d = chart.getContext('2d')!.getImageData(0, 0, chart.width, chart.height).data;
      let red = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 214) < 20 && Math.abs(d[i + 1] - 39) < 20 && Math.abs(d[i + 2] - 40) < 20) red++;
      return { maps, red };
    });
    for (const id of ['pde-u', 'pde-error-map']) {
      expect(pixels.maps[id]).toBeDefined();
      expect(pixels.maps[id].opaque).toBe(1);
      expect(pixels.maps[id].colors).toBeGreaterThan(20);
    }
    // u ≈ sin πx sin πy: bright (viridis yellow) in the middle, dark at the corner.
    const [cr, cg] = pixels.maps['pde-u'].centre, [kr, kg] = pixels.maps['pde-u'].corner;
    expect(cr + cg).toBeGreaterThan(kr + kg + 200);
    expect(pixels.red).toBeGreaterThan(100);

    const frames = await page.evaluate(() => (window as unknown as { __frames: number[] }).__frames);
    expect(frames.length).toBeGreaterThanOrEqual(10);
    const gaps = frames.slice(1).map((t, i) => t - frames[i]);
    expect(Math.max(...gaps)).toBeLessThan(1000);

    // A setting pde() rejects: its typed error is shown and nothing runs.
    await page.fill('[name="poisson.grid"]', '0');
    await page.locator('[name="poisson.grid"]').blur();
    await waitFor(page, 'error');
    expect(await page.textContent('[data-testid=error]')).toMatch(/^ArgumentError: /);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('a failing step shows its error on the page; bad settings are reported; the worker stays usable', async () => {
    const { page, errors } = await open('?auto=1&problem=regression&steps=40&lr.gd=1e9');
    await waitFor(page, 'done');
    expect(await page.textContent('[data-testid=error-gd]')).toMatch(/^NonFiniteError: .*gd step is not finite/);
    for (const id of ['ngd', 'kfac', 'adam']) expect(await page.textContent(`[data-testid=error-${id}]`)).toBe('');

    // Settings natgrad rejects: the typed error is shown, and nothing runs.
    // As a user edits: type, then leave the field (its change event applies the settings).
    const edit = async (name: string, value: string) => { await page.fill(`[name="${name}"]`, value); await page.locator(`[name="${name}"]`).blur(); };
    await edit('lr.adam', '-1');
    await waitFor(page, 'error');
    expect(await page.textContent('[data-testid=error]')).toMatch(/^ArgumentError: lr: must be a finite number > 0/);

    // Fixed settings: the same worker sets up and trains again, without failures; Pause stops it, Start resumes.
    await edit('lr.adam', '0.02');
    await edit('lr.gd', '0.003');
    await edit('steps', '100000');
    await waitFor(page, 'ready');
    expect(await page.isHidden('[data-testid=error]')).toBe(true);
    const steps = async () => Number(await page.textContent('tr[data-lane=gd] [data-col=steps]'));
    const stepsPast = (n: number) => page.waitForFunction(
      (k) => Number(document.querySelector('tr[data-lane=gd] [data-col=steps]')?.textContent) > k, n, { timeout: 30000 });
    await page.click('[data-testid=start]');
    await stepsPast(20);
    await page.click('[data-testid=pause]');
    expect(await status(page)).toBe('paused');
    await page.waitForTimeout(200); // the slice in flight reports; then nothing moves
    const paused = await steps();
    await page.waitForTimeout(300);
    expect(await steps()).toBe(paused);
    await page.click('[data-testid=start]');
    expect(await status(page)).toBe('running');
    await stepsPast(paused + 20);
    await page.click('[data-testid=pause]');
    const { info } = await page.evaluate(() => (window as unknown as { natgradDemo: { info: { initialLoss: number } } }).natgradDemo);
    for (const id of OPTIMIZERS) {
      expect(await page.textContent(`[data-testid=error-${id}]`)).toBe('');
      expect(Number(await page.textContent(`[data-testid=final-loss-${id}]`))).toBeLessThan(info.initialLoss);
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
