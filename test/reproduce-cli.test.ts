/**
 * `natgrad reproduce` end to end through the built CLI (bin/natgrad.js → dist/cli.mjs, built by `npm test`'s pretest):
 * exit codes, results.json, --json, and the HTML report opened from disk in Debian's Chromium (playwright-core):
 * no console errors, no network request, a rendered SVG with non-empty size in every experiment section, and a
 * screenshot that is not blank.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromiumAvailable, launchChromium } from './helpers/browser';
import { checkExitCode } from '../src/cli/reproduce';

const root = resolve(__dirname, '..');
const CLI = join(root, 'bin', 'natgrad.js');
if (!existsSync(join(root, 'dist', 'cli.mjs'))) throw new Error('dist/ is not built: run npm run build');

const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, 'reproduce', ...args], { encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'natgrad-reproduce-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  [['--only', 'E1,E9'], /--only: unknown experiment 'E9'/],
  [['--n', 'abc'], /--n must be an integer/],
  [['--m', '0'], /--m must be an integer ≥ 16/],
  [['--backend', 'gpu'], /--backend must be auto, wasm or js/],
  [['--frobnicate'], /frobnicate/],
  [['--out', '<file>/sub'], /--out: cannot write/],
])('bad input %j exits 2 with a one-line message naming the flag', (args, message) => {
  // <file>: a regular file, so a directory below it cannot be made (root ignores permission bits).
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  const r = run(...args.map((a) => a.replace('<file>', file)));
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err.trim().split('\n')).toHaveLength(1);
});

test('a width too narrow for the measured λ₀ is "outside the theorem\'s regime", which --check does not count as a failure; --json prints results.json', () => {
  const out = join(dir, 'narrow');
  const r = run('--check', '--json', '--only', 'E1', '--m', '64', '--out', out, '--backend', 'js');
  expect(r.code).toBe(0);
  const printed = JSON.parse(r.out), stored = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  expect(printed).toEqual(stored);
  expect(Object.keys(stored)).toEqual(['version', 'env', 'config', 'seconds', 'experiments', 'complete']);
  expect(stored.complete).toBe(true);
  expect(stored.env).toMatchObject({ node: process.versions.node, backend: 'js', simd: false });
  const [e1] = stored.experiments;
  // Its check fails (m = 64 is not wide), but the verdict says why that is not evidence against the theory.
  expect(e1).toMatchObject({ id: 'E1', pass: false, verdict: 'OUTSIDE', regime: { inside: false, m: 64 } });
  expect(e1.verdictText).toMatch(/^outside the theorem's regime \(.*ξ = .* > .*need m ≥ \d+\)$/);
  for (const key of ['title', 'claim', 'expected', 'tolerance', 'measured', 'seconds', 'series', 'choices', 'config']) expect(e1).toHaveProperty(key);
  // The settings shown are the ones that ran.
  expect(e1.choices.join(' ')).toMatch(/widths 64 \(the last is --m/);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  expect(html).toContain('outside the theorem&#39;s regime');
  expect(html).toContain('guard OFF');
});

test('--check exits 1 only for a FAIL inside the regime', () => {
  const results = (verdicts: string[]) => ({ experiments: verdicts.map((verdict) => ({ verdict })) }) as never;
  expect(checkExitCode(results(['PASS', 'OUTSIDE']))).toBe(0);
  expect(checkExitCode(results(['PASS', 'FAIL', 'OUTSIDE']))).toBe(1);
});

test('results.json and the report are written as each experiment finishes: a run killed midway keeps what ran', async () => {
  const out = join(dir, 'killed');
  const child = spawn(process.execPath, [CLI, 'reproduce', '--quick', '--only', 'E1,E4', '--out', out], { stdio: 'ignore' });
  const file = join(out, 'results.json');
  let partial: { complete: boolean; experiments: { id: string }[] } | undefined;
  for (let t = 0; t < 600 && !partial; t++) {
    await new Promise((ok) => setTimeout(ok, 100));
    if (existsSync(file)) partial = JSON.parse(readFileSync(file, 'utf8'));
  }
  child.kill('SIGKILL');
  await new Promise((ok) => child.once('exit', ok));
  expect(partial).toMatchObject({ complete: false, experiments: [{ id: 'E1' }] });
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  expect(html).toContain('<section id="E1"');
  expect(html).toMatch(/Incomplete:.*E4 did not finish/);
  expect(existsSync(join(out, 'figures', 'E1-1.svg'))).toBe(true);
});

test('a passing run exits 0 under --check and prints the table; knobs an experiment lacks are reported ignored', () => {
  const out = join(dir, 'pass');
  const r = run('--check', '--only', 'E1,E7', '--n', '16', '--d', '8', '--m', '4096', '--out', out);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^id\s+claim\s+expected\s+measured\s+verdict\s+seconds$/m);
  expect(r.out).toMatch(/^E1 .* PASS /m);
  expect(r.out).toMatch(/^E7 .* PASS /m);
  expect(r.out).toContain(`report: ${join(out, 'index.html')}`);
  const stored = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  expect(stored.experiments.map((e: { ignored: string[] }) => e.ignored)).toEqual([[], ['n', 'd']]);
  // The report names why E7 ignores them.
  expect(stored.experiments[1].ignoredWhy.n).toMatch(/d ≥ n/);
  expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(/Flags this experiment ignores: --n \(its two cases fix n against d/);
});

(chromiumAvailable('reproduce-cli.test.ts') ? test : test.skip)('the report opens from disk in Chromium: no errors, no network, an SVG per section, not blank', async () => {
  const out = join(dir, 'report');
  const r = run('--quick', '--n', '16', '--m', '1024', '--out', out);
  expect(r.code).toBe(0);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [], requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (q) => requests.push(q.url()));
    const url = `file://${join(out, 'index.html')}`;
    await page.goto(url, { waitUntil: 'load' });
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    const sections = await page.$$eval('section.experiment', (els) => els.map((s) => ({
      id: s.id,
      svgs: Array.from(s.querySelectorAll('svg')).map((svg) => { const b = svg.getBoundingClientRect(); return b.width * b.height; }).filter((a) => a > 100 * 100).length,
    })));
    expect(sections.map((s) => s.id)).toEqual(['E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8', 'F1']);
    for (const s of sections) expect({ id: s.id, rendered: s.svgs > 0 }).toEqual({ id: s.id, rendered: true });
    // Not blank: decode the screenshot in a canvas and count pixels that are not the background.
    const shot = (await page.screenshot({ fullPage: false })).toString('base64');
    const check = await browser.newPage();
    const inked = await check.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] < 200 || px[i + 1] < 200 || px[i + 2] < 200) ink++;
      return ink / (px.length / 4);
    }, shot);
    expect(inked).toBeGreaterThan(0.01);
  } finally {
    await browser.close();
  }
});

test('the shipped MNIST subset (used by F1) is not reachable from the root entry; it ships inside the CLI bundle with its licence', () => {
  const esm = spawnSync(process.execPath, ['--input-type=module', '-e', "const root = await import('natgrad'); console.log('loadMnist' in root);"], { cwd: root, encoding: 'utf8' });
  expect(esm.stdout.trim()).toBe('false');
  expect(existsSync(join(root, 'dist/esm/mnist/digits.js'))).toBe(false);
  expect(readFileSync(join(root, 'dist/cli.mjs'), 'utf8')).toMatch(/Creative Commons Attribution-Share Alike 3\.0/);
});
