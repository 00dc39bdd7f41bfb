/**
 * The layers of src/ (docs/architecture.md): every import, type-only ones and module augmentations
 * included, goes from a layer down to a lower one, and the files of src/ import each other in no
 * circle. A folder or root file that LAYERS does not rank yet is held to the no-circle rule only.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = resolve(__dirname, '../src');

/** Rank of each folder (or root file) of src/, ground first: a unit imports only units of lower rank. */
const LAYERS: Record<string, number> = {
  'errors.ts': 0,
  'validate.ts': 1, 'kernels/': 1, 'encoding/': 1, 'mnist/': 1,
  'backend/': 2,
  'nn/': 3,
  'data/': 4, 'curvature/': 4,
  'optim/': 5, 'laplace/': 5,
  'training/': 6, 'diagnostics/': 6, 'pde/': 6,
  'io/': 7,
  'index.ts': 8, 'advanced.ts': 8, 'tfjs.ts': 8,
  'reproduce/': 9,
  'cli/': 10,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.ts$/.test(name) ? [path] : [];
  });
}

/** The files of src/ that `file` imports (static, dynamic, type-only, re-exports, module augmentations). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|declare module\s+['"](\.[^'"]+)['"]/g)]
    .map((m) => m[1] ?? m[2] ?? m[3]);
  return specs.map((spec) => {
    const base = resolve(dirname(file), spec.replace(/\.js$/, ''));
    const hit = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
    if (!hit) throw new Error(`${relative(src, file)}: cannot resolve ${spec}`);
    return hit;
  });
}

/** The unit a file belongs to: its top folder under src/ ("nn/"), or the root file's name. */
function unit(file: string): string {
  const rel = relative(src, file).split('/');
  return rel.length > 1 ? `${rel[0]}/` : rel[0];
}

const files = sources(src).filter((f) => !f.endsWith('kernels/wasm/binary.ts') && !f.endsWith('mnist/digits.ts'));
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test('every import goes from a layer down to a lower one (type-only imports included)', () => {
  const upward: string[] = [];
  for (const [file, deps] of graph) {
    const from = unit(file);
    for (const dep of deps) {
      const to = unit(dep);
      if (from === to || LAYERS[from] === undefined || LAYERS[to] === undefined) continue;
      if (LAYERS[to] >= LAYERS[from]) upward.push(`${relative(src, file)} -> ${relative(src, dep)} (${from} ${LAYERS[from]}, ${to} ${LAYERS[to]})`);
    }
  }
  expect(upward).toEqual([]);
  expect(graph.get(join(src, 'errors.ts'))).toEqual([]);
});

test('the files of src/ import each other in no circle', () => {
  const state = new Map<string, 'open' | 'done'>();
  const circles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      circles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const dep of graph.get(file) ?? []) visit(dep, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  expect(circles).toEqual([]);
});
