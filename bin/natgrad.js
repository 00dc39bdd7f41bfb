#!/usr/bin/env node
'use strict';
// A closed pipe (`natgrad | head`) ends the output, not the program with an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); else throw err; });
require('../dist/cjs/cli.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`natgrad: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);
