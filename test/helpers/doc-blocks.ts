/**
 * Runs documentation code and checks what it prints: the JavaScript/TypeScript blocks of
 * a Markdown file and the programs in examples/, against the built package.
 *
 * Conventions (examples/README.md states them for authors):
 * - A fenced block whose info string starts with `js`, `javascript` or `mjs` runs as an ES
 *   module (top-level await allowed), `cjs` as CommonJS, `ts`/`typescript` is type-checked
 *   (strict, nodenext) and then run as an ES module; `html browser` is served as a page
 *   (beside `./node_modules/natgrad/` = this package's files) and opened in Chromium. Each
 *   block is a complete program: it imports what it uses from 'natgrad'.
 * - A block tagged `no-run` (```js no-run) is shown, never run: for code that cannot run
 *   here (e.g. it needs a bundler's dev server). Use sparingly; the test lists them.
 * - Stated output: a ```text output block right after a runnable block (blank lines
 *   between are allowed) holds what the program prints (stdout; a page's console.log).
 *   It must match line by line, where
 *     - numbers match within a relative tolerance, rtol=1e-6 unless the info string says
 *       otherwise (```text output rtol=0.02; atol=… adds an absolute one);
 *     - `…` (or `...`) inside a line matches any text (times, paths);
 *     - a line that is only `…` matches any number of lines, none included;
 *     - trailing spaces and trailing empty lines are ignored.
 * - In an example file the stated output is a trailing comment opened by the word `output`
 *   with the same options: `/* output rtol=0.02` … `*\/` in JavaScript/TypeScript,
 *   `<!-- output` … `-->` in HTML, `: <<'output'` … `output` (a no-op heredoc) in shell.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { root } from './built';

export type Runner = 'esm' | 'cjs' | 'ts' | 'browser';

export interface StatedOutput {
  text: string;
  rtol: number;
  atol: number;
  /** 1-based line where the stated output starts (for messages). */
  line: number;
}

export interface CodeBlock {
  lang: string;
  flags: string[];
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  runner?: Runner;
  noRun: boolean;
  output?: StatedOutput;
}

const RUNNERS: Record<string, Runner> = { js: 'esm', javascript: 'esm', mjs: 'esm', cjs: 'cjs', ts: 'ts', typescript: 'ts' };

function options(words: string[], line: number, text: string): StatedOutput {
  const out: StatedOutput = { text, rtol: 1e-6, atol: 0, line };
  for (const w of words) {
    const m = /^(rtol|atol)=(\S+)$/.exec(w);
    if (!m || !Number.isFinite(Number(m[2]))) throw new Error(`line ${line}: unknown output option ${JSON.stringify(w)}`);
    out[m[1] as 'rtol' | 'atol'] = Number(m[2]);
  }
  return out;
}

/** The fenced code blocks of a Markdown text, each with the stated output that follows it. */
export function markdownBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  let last: CodeBlock | undefined;
  let blankSinceLast = true;
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]);
    if (!open) {
      if (lines[i].trim() !== '') blankSinceLast = false;
      continue;
    }
    const fence = open[1];
    const [lang = '', ...flags] = open[2].trim().split(/\s+/).filter(Boolean);
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[j])) body.push(lines[j++]);
    if (j === lines.length) throw new Error(`line ${i + 1}: unclosed code fence`);
    const code = body.join('\n');
    if (flags[0] === 'output') {
      if (!last || !blankSinceLast || (!last.runner || last.noRun)) {
        throw new Error(`line ${i + 1}: an output block must follow a runnable code block`);
      }
      last.output = options(flags.slice(1), i + 2, code);
      last = undefined;
    } else {
      const runner = lang === 'html' && flags.includes('browser') ? 'browser' : RUNNERS[lang.toLowerCase()];
      last = { lang, flags, code, line: i + 1, runner, noRun: flags.includes('no-run') };
      blocks.push(last);
    }
    blankSinceLast = true;
    i = j;
  }
  return blocks;
}

/** The trailing `output` comment of an example file, if any. */
export function statedOutputOf(file: string, source: string): StatedOutput | undefined {
  const patterns: [RegExp, RegExp][] = [
    [/\.(m?js|cjs|ts|mts)$/, /\/\* output([^\n]*)\n([\s\S]*?)\n?\*\/\s*$/],
    [/\.html$/, /<!-- output([^\n]*)\n([\s\S]*?)\n?-->\s*(<\/html>\s*)?$/],
    [/\.sh$/, /: <<'output'([^\n]*)\n([\s\S]*?)\noutput\s*$/],
  ];
  for (const [ext, re] of patterns) {
    if (!ext.test(file)) continue;
    const m = re.exec(source);
    if (!m) return undefined;
    const line = source.slice(0, m.index).split('\n').length + 1;
    return options(m[1].trim().split(/\s+/).filter(Boolean), line, m[2]);
  }
  return undefined;
}

const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const WILDCARD = /…|\.\.\./;

function lineMatches(actual: string, stated: string, rtol: number, atol: number): boolean {
  const parts = stated.split(new RegExp(`(${NUMBER}|…|\\.\\.\\.)`));
  const expected: number[] = [];
  let pattern = '';
  parts.forEach((part, i) => {
    if (i % 2 === 0) pattern += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (WILDCARD.test(part)) pattern += '.*?';
    else { pattern += `(${NUMBER})`; expected.push(Number(part)); }
  });
  const m = new RegExp(`^${pattern}$`).exec(actual);
  if (!m) return false;
  return expected.every((e, i) => Math.abs(Number(m[i + 1]) - e) <= atol + rtol * Math.abs(e));
}

const clean = (text: string) => text.split(/\r?\n/).map((l) => l.trimEnd()).join('\n').replace(/\n+$/, '').split('\n');

/** Null when `actual` matches the stated output, else a message naming the first mismatch. */
export function outputMismatch(actual: string, stated: StatedOutput): string | null {
  const got = actual.trim() === '' ? [] : clean(actual);
  const want = stated.text.trim() === '' ? [] : clean(stated.text);
  let furthest = { w: 0, g: 0 };
  const match = (w: number, g: number): boolean => {
    if (w > furthest.w || (w === furthest.w && g > furthest.g)) furthest = { w, g };
    if (w === want.length) return g === got.length;
    if (/^\s*(…|\.\.\.)\s*$/.test(want[w])) {
      for (let k = g; k <= got.length; k++) if (match(w + 1, k)) return true;
      return false;
    }
    return g < got.length && lineMatches(got[g], want[w], stated.rtol, stated.atol) && match(w + 1, g + 1);
  };
  if (match(0, 0)) return null;
  const { w, g } = furthest;
  return `stated output line ${stated.line + w} (rtol ${stated.rtol}${stated.atol ? `, atol ${stated.atol}` : ''}):\n`
    + `  stated: ${want[w] === undefined ? '(end of output)' : JSON.stringify(want[w])}\n`
    + `  actual: ${got[g] === undefined ? '(end of output)' : JSON.stringify(got[g])}\n`
    + `whole output:\n${got.join('\n')}`;
}

/** A scratch folder inside the package (build/ is ignored by git and npm), so that
 * `import 'natgrad'` resolves to this package by its own name and devDependencies resolve too. */
export function scratchDir(name: string): string {
  const dir = join(root, 'build', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs a program with Node and returns its stdout; throws with stderr when it fails. */
export function runNode(file: string, cwd = root): string {
  try {
    return execFileSync(process.execPath, [file], { cwd, encoding: 'utf8', stdio: 'pipe', timeout: 180000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} failed: ${err.stderr || err.message}\nstdout:\n${err.stdout ?? ''}`);
  }
}

/** Type-checks TypeScript files (strict, nodenext, Node types) and throws with tsc's diagnostics. */
export function typeCheck(files: string[]): void {
  if (files.length === 0) return;
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: ['node'], strict: true, noEmit: true, skipLibCheck: true,
    typeRoots: [join(root, 'node_modules/@types')],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length) {
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    throw new Error(ts.formatDiagnostics(diagnostics, host));
  }
}

/** TypeScript → an ES module Node can run (types stripped, nothing else changed). */
export function transpile(source: string): string {
  return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}

/** Writes `code` to `dir/name` and returns the path. */
export function writeProgram(dir: string, name: string, code: string): string {
  const file = join(dir, name);
  writeFileSync(file, code);
  return file;
}
