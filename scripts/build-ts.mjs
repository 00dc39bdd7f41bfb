// Builds dist/esm (ES modules), dist/cjs (CommonJS) and dist/types (declarations)
// from src/ with the TypeScript compiler API, and marks each folder's module type.
import ts from 'typescript';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const config = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.build.json`, {}, {
  ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
});

function emit(outDir, overrides) {
  const options = { ...config.options, outDir: `${root}dist/${outDir}`, ...overrides };
  const program = ts.createProgram(config.fileNames, options);
  const result = program.emit();
  const diagnostics = ts.getPreEmitDiagnostics(program).concat(result.diagnostics);
  if (diagnostics.length) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
    process.exit(1);
  }
}

rmSync(`${root}dist`, { recursive: true, force: true });
emit('esm', { module: ts.ModuleKind.ESNext, declaration: false });
emit('cjs', { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, ignoreDeprecations: '6.0', declaration: false });
emit('types', { declaration: true, emitDeclarationOnly: true, sourceMap: false });
mkdirSync(`${root}dist/esm`, { recursive: true });
writeFileSync(`${root}dist/esm/package.json`, '{ "type": "module" }\n');
writeFileSync(`${root}dist/cjs/package.json`, '{ "type": "commonjs" }\n');
console.log('built dist/esm, dist/cjs and dist/types');
