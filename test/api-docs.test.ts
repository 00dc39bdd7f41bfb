/**
 * The API reference's raw material ships with the package: every export of the three entry
 * points (natgrad, natgrad/diagnostics, natgrad/advanced) carries its doc comment in the
 * published declarations (dist/esm and dist/cjs), where editors show it. Every export has a summary; every function,
 * class and constant (and every function of the `linalg` namespace) also has an `@example`,
 * and each function documents each of its parameters with `@param`. `npm run docs`
 * (TypeDoc, notDocumented and warnings as errors) checks the same from the sources and
 * builds the HTML reference.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { assertBuilt, root } from './helpers/built';

interface Finding { name: string; problem: string }

function audit(entry: string): { names: string[]; findings: Finding[] } {
  const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry)!;
  const moduleSymbol = checker.getSymbolAtLocation(source)!;
  const findings: Finding[] = [];
  const names: string[] = [];

  const visit = (name: string, exported: ts.Symbol) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    names.push(name);
    // A namespace re-export (`export * as linalg`) carries its comment on the export itself.
    const summary = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim()
      || (exported.declarations ?? []).flatMap((d) => ts.getJSDocCommentsAndTags(ts.isNamespaceExport(d) ? d.parent : d))
        .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '').join('').trim();
    const tags = symbol.getJsDocTags(checker);
    if (!summary) findings.push({ name, problem: 'no summary' });
    if (symbol.flags & ts.SymbolFlags.ValueModule && !(symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class))) {
      // A namespace export (linalg): its functions are API too.
      for (const member of checker.getExportsOfModule(symbol)) {
        if (member.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable)) visit(`${name}.${member.name}`, member);
      }
      return;
    }
    const isValue = symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable);
    if (isValue && !tags.some((t) => t.name === 'example')) findings.push({ name, problem: 'no @example' });
    if (symbol.flags & ts.SymbolFlags.Function) {
      const documented = new Set(tags.filter((t) => t.name === 'param').map((t) => ts.displayPartsToString(t.text).split(/\s/)[0]));
      const declaration = symbol.declarations!.find(ts.isFunctionDeclaration)!;
      for (const p of declaration.parameters) {
        const pname = p.name.getText();
        if (!documented.has(pname)) findings.push({ name, problem: `no @param ${pname}` });
      }
    }
  };
  for (const exported of checker.getExportsOfModule(moduleSymbol)) visit(exported.name, exported);
  return { names, findings };
}

/**
 * Declared in src/kernels/types.ts, which this documentation work does not edit (the kernel
 * layer is owned elsewhere); their doc comments are pending there. typedoc.json lists the same
 * two names under intentionallyNotDocumented, qualified by their entry point (`advanced.Kernels`:
 * with several entry points TypeDoc names reflections by module). Remove both entries once the
 * comments land.
 */
const PENDING_IN_KERNEL_LAYER = ['Kernels: no summary', 'BackendName: no summary'];

beforeAll(() => assertBuilt());

/** Each entry's declarations and a few names it must carry. */
const ENTRIES: [string, string[]][] = [
  ['index.d.ts', ['init', 'ngd', 'kfac', 'train', 'fit', 'evaluate', 'mlp', 'NatgradError', 'TrainOptions']],
  ['diagnostics/index.d.ts', ['gramMatrix', 'gramSpectrum', 'limitingGram', 'kernelPredictor', 'unitSphere', 'kfacPaper']],
  ['advanced.d.ts', ['kernels', 'loadKernels', 'Mat', 'Workspace', 'linalg.gemm', 'KroneckerBlock', 'emaStep', 'maskGramApplies']],
];

describe.each(['dist/esm', 'dist/cjs'])('%s', (dir) => {
  test.each(ENTRIES)('every export of %s carries its doc comment: a summary, @param for each parameter, an @example', (file, some) => {
    const entry = join(root, dir, file);
    expect(existsSync(entry)).toBe(true);
    const { names, findings } = audit(entry);
    expect(names).toEqual(expect.arrayContaining(some));
    expect(findings.map((f) => `${f.name}: ${f.problem}`).filter((f) => !PENDING_IN_KERNEL_LAYER.includes(f))).toEqual([]);
  });
});

test('typedoc.json exempts from documentation only the names pending in the kernel layer', () => {
  const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8'));
  expect(config.intentionallyNotDocumented).toEqual(PENDING_IN_KERNEL_LAYER.map((f) => `advanced.${f.split(':')[0]}`));
  expect(config.treatWarningsAsErrors && config.treatValidationWarningsAsErrors && config.validation.notDocumented).toBe(true);
});

test('`npm run docs` (TypeDoc) builds the API reference with no warning: every export documented, every link valid', () => {
  const out = mkdtempSync(join(tmpdir(), 'natgrad-docs-'));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    expect(index).toMatch(/natgrad/);
    // Four entry points (natgrad, natgrad/diagnostics, natgrad/advanced, natgrad/tfjs): TypeDoc prefixes each page with its module.
    for (const page of ['functions/index.ngd.html', 'functions/index.train.html', 'functions/index.fit.html', 'classes/index.Net.html',
      'interfaces/index.NgdOptions.html', 'functions/diagnostics.gramSpectrum.html', 'classes/advanced.Mat.html',
      'functions/tfjs.fromTfjs.html', 'functions/tfjs.toTfjs.html']) {
      expect(existsSync(join(out, page))).toBe(true);
    }
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`typedoc failed:\n${(err.stdout ?? '') + (err.stderr ?? '') || err.message}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
