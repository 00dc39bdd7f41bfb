#!/usr/bin/env node
'use strict';
// A closed pipe (`natgrad | head`) ends the output, not the program with an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); else throw err; });
// dist/cli.mjs bundles the command with its CLI-only dependencies (scripts/build-cli.mjs).
import('../dist/cli.mjs').then((cli) => cli.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`natgrad: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);
