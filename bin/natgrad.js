#!/usr/bin/env node
'use strict';
require('../dist/cjs/cli.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`natgrad: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);
