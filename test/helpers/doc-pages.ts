/**
 * Pages for the documentation tests: a page served beside this package's published files,
 * as a user's app folder looks after `npm install natgrad`, and its console output.
 * Chromium itself comes from ./browser (Debian's, driven by playwright-core).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { launchChromium } from './browser';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.map': 'application/json',
  '.json': 'application/json', '.wasm': 'application/wasm', '.css': 'text/css',
};

/** A running server: its base URL, the paths requested so far with their status, and close(). */
export interface StaticServer {
  /** http://127.0.0.1:PORT/ */
  base: string;
  /** Paths requested so far, with the status served. */
  requests: { path: string; status: number }[];
  close(): Promise<void>;
}

/**
 * Serves `html` at / beside this package's published files at /node_modules/natgrad/
 * (package.json and dist/ only), as a user's app folder looks after `npm install natgrad`.
 */
export async function servePageWithPackage(html: string, root: string): Promise<StaticServer> {
  const requests: { path: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const rel = path.startsWith('/node_modules/natgrad/') ? path.slice('/node_modules/natgrad/'.length) : null;
    const file = rel !== null && (rel === 'package.json' || rel.startsWith('dist/')) ? join(root, rel) : null;
    const status = path === '/' || (file && existsSync(file) && statSync(file).isFile()) ? 200 : 404;
    requests.push({ path, status });
    if (status !== 200) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': path === '/' ? 'text/html' : TYPES[extname(file!)] ?? 'application/octet-stream' });
    res.end(path === '/' ? html : readFileSync(file!));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { base, requests, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** What a page did: its console.log lines, its errors, requests that left 127.0.0.1. */
export interface PageRun { logs: string[]; errors: string[]; offHost: string[] }

/**
 * Opens `html` (served by {@link servePageWithPackage}) in Chromium and collects its
 * console output until `done(logs)` says so, a page error occurs, or `timeoutMs` passes.
 */
export async function runPage(html: string, root: string, done: (logs: string[]) => boolean, timeoutMs = 60000): Promise<PageRun> {
  const server = await servePageWithPackage(html, root);
  const browser = await launchChromium();
  const run: PageRun = { logs: [], errors: [], offHost: [] };
  try {
    const page = await browser.newPage();
    // A failed fetch is reported below from the server's log (which names the path).
    page.on('console', (m) => { if (m.type() === 'error') { if (!m.text().startsWith('Failed to load resource')) run.errors.push(m.text()); } else if (m.type() === 'log') run.logs.push(m.text()); });
    page.on('pageerror', (e) => run.errors.push(String(e)));
    page.on('request', (r) => { if (!r.url().startsWith(server.base) && !r.url().startsWith('data:')) run.offHost.push(r.url()); });
    await page.goto(server.base);
    const end = Date.now() + timeoutMs;
    while (Date.now() < end && run.errors.length === 0 && !done(run.logs)) await new Promise((ok) => setTimeout(ok, 100));
    const missing = server.requests.filter((r) => r.status !== 200 && r.path !== '/favicon.ico');
    for (const r of missing) run.errors.push(`404 ${r.path}`);
    return run;
  } finally {
    await browser.close();
    await server.close();
  }
}
