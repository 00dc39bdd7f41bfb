/**
 * The README's code runs: every JavaScript/TypeScript block (and every ```html browser
 * page) of README.md and examples/README.md runs against the built package and must print
 * its stated output (conventions: test/helpers/doc-blocks.ts, summarised in
 * examples/README.md). TypeScript blocks are type-checked first, all in one program.
 * And the README's relative links point at files the npm tarball contains (the npm page
 * renders the README without the repository around it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { assertBuilt, root } from './helpers/built';
import { chromiumAvailable } from './helpers/browser';
import { runPage } from './helpers/doc-pages';
import { markdownBlocks, outputMismatch, runNode, scratchDir, transpile, typeCheck, writeProgram, type CodeBlock } from './helpers/doc-blocks';

/**
 * The Markdown files checked. NATGRAD_DOC_FILES=path[,path…] checks other files the same way
 * (e.g. a README draft: `NATGRAD_DOC_FILES=draft.md node node_modules/jest/bin/jest.js test/readme.test.ts`).
 */
const DOCS = process.env.NATGRAD_DOC_FILES
  ? process.env.NATGRAD_DOC_FILES.split(',').map((f) => resolve(root, f))
  : ['README.md', 'examples/README.md', 'docs/laplace.md'].filter((f) => existsSync(join(root, f)));

beforeAll(() => assertBuilt());

describe.each(DOCS)('%s', (doc) => {
  const blocks = markdownBlocks(readFileSync(resolve(root, doc), 'utf8'));
  const runnable = blocks.filter((b) => b.runner && !b.noRun);
  const slug = basename(doc).replace(/\W/g, '_');
  const dir = scratchDir(`doc-blocks/${slug}`);
  const name = (b: CodeBlock) => `line-${b.line}`;

  beforeAll(() => {
    rmSync(dir, { recursive: true, force: true });
    scratchDir(`doc-blocks/${slug}`);
    // One tsc program for all TypeScript blocks: each is a module (.mts) importing 'natgrad' by name.
    typeCheck(runnable.filter((b) => b.runner === 'ts').map((b) => writeProgram(dir, `${name(b)}.mts`, b.code)));
  });

  test('its JavaScript/TypeScript blocks are runnable or explicitly no-run', () => {
    const skipped = blocks.filter((b) => b.runner && b.noRun);
    if (skipped.length) console.log(`${doc}: no-run blocks at lines ${skipped.map((b) => b.line).join(', ')}`);
    if (doc === 'README.md') expect(runnable.length).toBeGreaterThanOrEqual(1);
    expect(skipped.length).toBeLessThanOrEqual(Math.max(2, runnable.length / 4));
  });

  const check = (b: CodeBlock, actual: string) => {
    if (!b.output) return;
    const mismatch = outputMismatch(actual, b.output);
    if (mismatch) throw new Error(`${doc} block at line ${b.line}: ${mismatch}`);
  };

  for (const b of runnable) {
    if (b.runner === 'browser') {
      (chromiumAvailable('readme.test.ts') ? test : test.skip)(`block at line ${b.line} (html) loads in Chromium without errors`, async () => {
        const run = await runPage(b.code, root, (logs) => (b.output ? outputMismatch(logs.join('\n'), b.output) === null : logs.length > 0));
        expect(run.errors).toEqual([]);
        expect(run.offHost).toEqual([]);
        check(b, run.logs.join('\n'));
      });
    } else {
      test(`block at line ${b.line} (${b.lang}) runs${b.output ? ' and prints its stated output' : ''}`, () => {
        const ext = b.runner === 'cjs' ? 'cjs' : 'mjs';
        const code = b.runner === 'ts' ? transpile(b.code) : b.code;
        check(b, runNode(writeProgram(dir, `${name(b)}.${ext}`, code), dir));
      });
    }
  }
});

test('README.md links only to files in the tarball, or by absolute URL', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: 'pipe' }));
  const shipped = new Set((pack.files as { path: string }[]).map((f) => f.path));
  const targets = [...readme.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|<img[^>]+src="([^"]+)"/g)].map((m) => m[1] ?? m[2]);
  const broken = targets.filter((t) => !/^(https?:|mailto:|#)/.test(t)).map((t) => t.split('#')[0]).filter((t) => !shipped.has(t.replace(/^\.\//, '')));
  expect(broken).toEqual([]);
});
