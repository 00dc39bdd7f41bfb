/**
 * Real-browser helpers: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), and a static file server on 127.0.0.1 that records every
 * request, so a test can say which files a page fetched and that none left the host.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable && process.env.CI) throw new Error(`CI needs ${CHROMIUM} (apt-get install chromium)`);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.map': 'application/json',
  '.json': 'application/json', '.wasm': 'application/wasm', '.css': 'text/css',
};

export interface StaticServer {
  /** http://127.0.0.1:PORT/ */
  base: string;
  /** Paths requested so far, with the status served. */
  requests: { path: string; status: number }[];
  close(): Promise<void>;
}

/** Serves the files under `dir` (nothing outside it) on 127.0.0.1 at a free port. */
export async function serveStatic(dir: string): Promise<StaticServer> {
  const requests: { path: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let file = join(dir, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    const inside = file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
    const status = inside && existsSync(file) ? 200 : 404;
    requests.push({ path, status });
    if (status !== 200) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { base, requests, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** Launches headless Chromium with no network side-traffic of its own. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
