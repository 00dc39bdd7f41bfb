// Builds dist/esm (ES modules) and dist/cjs (CommonJS) from src/ with the TypeScript
// compiler API, each with its own declarations beside the JavaScript and a package.json
// that marks the folder's module type — so `import` gets ESM-flavoured types and `require`
// CJS-flavoured ones (are-the-types-wrong checks this). The doc comments live in the
// declarations, where editors read them; the JavaScript is emitted without comments (they
// would ship four times: .js and .d.ts, ESM and CJS). No source maps here: tsc's output is
// the TypeScript minus its types, as readable as the source (which the tarball does not
// ship); only the minified browser build carries a map, sources embedded.
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
const formats = {
  esm: { module: ts.ModuleKind.ESNext },
  cjs: { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, ignoreDeprecations: '6.0' },
};
for (const [dir, options] of Object.entries(formats)) {
  emit(dir, { ...options, declaration: false, removeComments: true });
  emit(dir, { ...options, emitDeclarationOnly: true, removeComments: false });
}
mkdirSync(`${root}dist/esm`, { recursive: true });
writeFileSync(`${root}dist/esm/package.json`, '{ "type": "module" }\n');
writeFileSync(`${root}dist/cjs/package.json`, '{ "type": "commonjs" }\n');
console.log('built dist/esm and dist/cjs (JavaScript and declarations)');
