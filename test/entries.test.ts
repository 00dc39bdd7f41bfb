/**
 * The three entry points (issue 17): `natgrad` is what a user trains with (at most 80 names),
 * `natgrad/diagnostics` holds the paper's tools and the reproduction's helpers, `natgrad/advanced`
 * what lies below (kernels, memory handles, Kronecker blocks, …). The CHANGELOG's Unreleased section
 * lists every name that left the root: each is exported by the entry it names and by no other, and
 * a removed name by none. Every entry imports as ESM and as CommonJS from the built package, and the
 * browser build carries the names of all three.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { assertBuilt, root } from './helpers/built';

const SOURCES = { natgrad: 'src/index.ts', 'natgrad/diagnostics': 'src/diagnostics/index.ts', 'natgrad/advanced': 'src/advanced.ts' } as const;
type Entry = keyof typeof SOURCES;

/** The names each entry exports (values and types), read by the type checker from the sources. */
function exportsOf(): Record<Entry, string[]> {
  const files = Object.values(SOURCES).map((f) => join(root, f));
  const program = ts.createProgram(files, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const out = {} as Record<Entry, string[]>;
  for (const [entry, file] of Object.entries(SOURCES) as [Entry, string][]) {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(join(root, file))!)!;
    out[entry] = checker.getExportsOfModule(symbol).map((s) => s.name);
  }
  return out;
}

/** The CHANGELOG's Unreleased section: the names moved to each entry, and the names removed. */
function changelog(): { moved: Record<'natgrad/diagnostics' | 'natgrad/advanced', string[]>; removed: string[] } {
  const text = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
  const section = /^## \[Unreleased\]\n([\s\S]*?)^## \[/m.exec(text)?.[1] ?? '';
  const bullets = section.split(/\n(?=- )/);
  const names = (b: string | undefined) => [...(b ?? '').matchAll(/`([A-Za-z]\w*)`/g)].map((m) => m[1]);
  const movedTo = (entry: string) => names(bullets.find((b) => b.startsWith(`- Moved from \`natgrad\` to \`${entry}\`:`))?.split(':').slice(1).join(':'));
  const removedPart = section.split(/^### Removed$/m)[1]?.split(/^### /m)[0] ?? '';
  return {
    moved: { 'natgrad/diagnostics': movedTo('natgrad/diagnostics'), 'natgrad/advanced': movedTo('natgrad/advanced') },
    removed: removedPart.split(/\n(?=- )/).filter((b) => b.startsWith('- ')).map((b) => names(b)[0]),
  };
}

const entries = exportsOf();

test('natgrad exports at most 80 names (values and types); the three entries share none', () => {
  expect(entries.natgrad.length).toBeLessThanOrEqual(80);
  expect(entries.natgrad).toEqual(expect.arrayContaining(['init', 'Net', 'mlp', 'ngd', 'kfac', 'adam', 'train', 'fit', 'evaluate', 'loadNet', 'NatgradError']));
  const all = [...entries.natgrad, ...entries['natgrad/diagnostics'], ...entries['natgrad/advanced']];
  expect(all.length).toBe(new Set(all).size);
});

test("every name the CHANGELOG says moved is exported by its new entry and no other; a removed name by none", () => {
  const { moved, removed } = changelog();
  expect(moved['natgrad/diagnostics'].length).toBeGreaterThan(15);
  expect(moved['natgrad/advanced'].length).toBeGreaterThan(50);
  expect(removed).toEqual(['evaluateMetrics']);
  for (const [entry, names] of Object.entries(moved) as [Entry, string[]][]) {
    expect(names.filter((n) => !entries[entry].includes(n))).toEqual([]);
    for (const other of Object.keys(SOURCES) as Entry[]) {
      if (other !== entry) expect(names.filter((n) => entries[other].includes(n))).toEqual([]);
    }
  }
  for (const entry of Object.keys(SOURCES) as Entry[]) expect(removed.filter((n) => entries[entry].includes(n))).toEqual([]);
});

describe('the built package', () => {
  beforeAll(() => assertBuilt());
  const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });

  test('package.json maps natgrad/diagnostics and natgrad/advanced like the root: import and require, types first', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['./diagnostics']).toEqual({
      import: { types: './dist/esm/diagnostics/index.d.ts', default: './dist/esm/diagnostics/index.js' },
      require: { types: './dist/cjs/diagnostics/index.d.ts', default: './dist/cjs/diagnostics/index.js' },
    });
    expect(pkg.exports['./advanced']).toEqual({
      import: { types: './dist/esm/advanced.d.ts', default: './dist/esm/advanced.js' },
      require: { types: './dist/cjs/advanced.d.ts', default: './dist/cjs/advanced.js' },
    });
  });

  test.each(['natgrad/diagnostics', 'natgrad/advanced'] as const)('%s imports as ESM and CommonJS with every name its source exports', (entry) => {
    const values = (code: string) => JSON.parse(run(code.startsWith('import') ? ['--input-type=module', '-e', code] : ['-e', code])) as string[];
    const esm = values(`import * as m from '${entry}'; console.log(JSON.stringify(Object.keys(m)));`);
    const cjs = values(`console.log(JSON.stringify(Object.keys(require('${entry}'))));`);
    expect(esm.length).toBeGreaterThan(10);
    expect(esm.filter((n) => !entries[entry].includes(n))).toEqual([]);
    expect(new Set(cjs.filter((n) => n !== '__esModule'))).toEqual(new Set(esm.filter((n) => n !== 'default')));
  });

  test('the browser build exports the values of all three entries', () => {
    const esm = JSON.parse(run(['--input-type=module', '-e',
      "import * as m from './dist/natgrad.browser.js'; console.log(JSON.stringify(Object.keys(m)));"])) as string[];
    for (const name of ['init', 'train', 'gramSpectrum', 'kfacPaper', 'Mat', 'kernels', 'linalg', 'KroneckerBlock']) expect(esm).toContain(name);
  });
});
