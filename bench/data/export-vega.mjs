// Writes tables of the `vega-datasets` npm package (BSD-3-Clause) as CSV beside
// this script, as they are: nulls become empty cells, text columns stay text. Run by hand with the
// package's folder: `npm pack vega-datasets && tar xzf vega-datasets-*.tgz && node bench/data/export-vega.mjs package`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const from = process.argv[2];
if (!from) throw new Error('usage: node bench/data/export-vega.mjs <vega-datasets package folder>');
const here = new URL('.', import.meta.url).pathname;
const cell = (v) => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
for (const [name, file] of [['penguins', 'penguins.json'], ['cars', 'cars.json'], ['gapminder', 'gapminder.json']]) {
  const rows = JSON.parse(readFileSync(join(from, 'data', file), 'utf8'));
  const header = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  writeFileSync(join(here, `${name}.csv`), `${[header.map(cell).join(','), ...rows.map((r) => header.map((h) => cell(r[h])).join(','))].join('\n')}\n`);
}
// These two ship as CSV already: copied as they are.
for (const name of ['seattle-weather', 'gapminder-health-income']) writeFileSync(join(here, `${name}.csv`), readFileSync(join(from, 'data', `${name}.csv`)));
