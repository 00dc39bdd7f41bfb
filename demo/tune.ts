/**
 * Runs the demo's comparisons in Node, to tune the per-problem defaults in src/config.ts:
 *   npx esbuild demo/tune.ts --bundle --platform=node --format=esm --outfile=demo/dist/tune.mjs
 *   node demo/dist/tune.mjs '{"problems":["paper"],"paper":{"geometry":"near-parallel"},"lr":{"adam":0.03}}'
 */
import { init } from 'natgrad';
import { Session, summary } from './src/session.js';
import { defaultConfig, type ProblemId } from './src/config.js';
const args = JSON.parse(process.argv[2] ?? '{}');
await init();
for (const problem of (args.problems ?? ['paper', 'classification', 'regression']) as ProblemId[]) {
  const c = defaultConfig(problem);
  Object.assign(c, args.top ?? {});
  if (args.lr) Object.assign(c.lr, args.lr);
  if (args.damping) Object.assign(c.damping, args.damping);
  if (args.paper) Object.assign(c.paper, args.paper);
  const t = performance.now();
  const s = new Session(c);
  while (!s.done) s.step();
  console.log(problem, JSON.stringify(s.info.spectrum ?? ''), s.info.numParams, (performance.now() - t).toFixed(0) + 'ms', 'init', s.info.initialLoss.toExponential(2));
  for (const [k, v] of Object.entries(summary(s.lanes))) console.log(' ', k, v.finalLoss.toExponential(2), v.steps, v.medianStepMs.toFixed(2), v.stepsToTarget, v.error ?? '');
  s.dispose();
}
