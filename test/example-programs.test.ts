/**
 * Every program in examples/ runs against the built package and prints what it states
 * (its trailing `output` comment; conventions in test/helpers/doc-blocks.ts and
 * examples/README.md): .mjs/.cjs with Node, .ts type-checked then run, .html in Chromium
 * beside this package's files, .sh with bash and `natgrad` on the PATH.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assertBuilt, root } from './helpers/built';
import { chromiumAvailable } from './helpers/browser';
import { runPage } from './helpers/doc-pages';
import { outputMismatch, runNode, scratchDir, statedOutputOf, transpile, typeCheck, writeProgram } from './helpers/doc-blocks';

const dir = join(root, 'examples');
const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
const files = walk(dir).map((f) => relative(dir, f)).sort();
/** Files that are not programs: the examples' own documentation and data. */
const DATA = /(^|\/)README\.md$|\.(csv|json|txt)$/;
/**
 * Programs that state no output because another test runs and checks them (a program with
 * neither is an error): the scripts that write the CLI examples' CSV files (issue 9).
 */
const CHECKED_ELSEWHERE: Record<string, string> = {
  'iris/make-csv.mjs': 'test/examples.test.ts',
  'regression/make-csv.mjs': 'test/examples.test.ts',
};

beforeAll(() => assertBuilt());

const programs = files.filter((f) => !DATA.test(f) && !(f in CHECKED_ELSEWHERE));

test('every file in examples/ is a program this test runs and that states its output, or documentation/data', () => {
  const unknown = programs.filter((f) => !/\.(mjs|cjs|ts|html|sh)$/.test(f));
  expect(unknown).toEqual([]);
  const silent = programs.filter((f) => !statedOutputOf(f, readFileSync(join(dir, f), 'utf8')));
  expect(silent).toEqual([]);
  expect(programs.length).toBeGreaterThanOrEqual(5);
});

describe.each(programs)('examples/%s', (file) => {
  const path = join(dir, file);
  const source = readFileSync(path, 'utf8');
  const stated = statedOutputOf(file, source);

  const check = (actual: string) => {
    if (!stated) throw new Error(`examples/${file} states no output (a trailing \`output\` comment)`);
    const mismatch = outputMismatch(actual, stated!);
    if (mismatch) throw new Error(`examples/${file}: ${mismatch}`);
  };

  if (/\.(mjs|cjs)$/.test(file)) {
    test('runs and prints its stated output', () => check(runNode(path)));
  } else if (file.endsWith('.ts')) {
    test('type-checks, runs and prints its stated output', () => {
      typeCheck([path]);
      const js = writeProgram(scratchDir('examples'), file.replace(/\W/g, '_') + '.mjs', transpile(source));
      check(runNode(js));
    });
  } else if (file.endsWith('.html')) {
    (chromiumAvailable('example-programs.test.ts') ? test : test.skip)('loads in Chromium without errors and logs its stated output', async () => {
      const run = await runPage(source, root, (logs) => outputMismatch(logs.join('\n'), stated!) === null || logs.some((l) => /error/i.test(l)));
      expect(run.errors).toEqual([]);
      expect(run.offHost).toEqual([]);
      check(run.logs.join('\n'));
    });
  } else if (file.endsWith('.sh')) {
    test('runs with bash and prints its stated output', () => {
      // `natgrad` as a user has it after `npm install -g natgrad`: this package's bin.
      const bin = scratchDir('examples-bin');
      writeFileSync(join(bin, 'natgrad'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'bin/natgrad.js')}" "$@"\n`);
      chmodSync(join(bin, 'natgrad'), 0o755);
      const work = scratchDir(`examples-work-${file.replace(/\W/g, '_')}`);
      let out: string;
      try {
        out = execFileSync('bash', ['-euo', 'pipefail', path], {
          cwd: work, encoding: 'utf8', stdio: 'pipe', timeout: 300000,
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NATGRAD_EXAMPLES: dir },
        });
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; message: string };
        throw new Error(`examples/${file} failed: ${err.stderr || err.message}\nstdout:\n${err.stdout ?? ''}`);
      }
      check(out);
    });
  }
});
