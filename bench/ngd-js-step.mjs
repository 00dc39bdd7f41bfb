// The ngd suite's JS-backend step, in a process of its own (forked by ngd.mjs) as a
// user of init({ backend: 'js' }) runs it: no WASM module is compiled here, so V8
// optimises the plain-TypeScript kernels for this backend alone. (In a process that
// had also run the WASM backend, the same step measured about 25% slower.)
// argv[2]: JSON { samples, seconds }. Replies once over IPC with
// { first, delta, samples }: the first step's time (check and warm-up), its update
// θ1 − θ0 from the initial θ, and the timed steps (seconds, each from θ0 again).
import { init, ngd, twoLayerReLU } from '../dist/esm/index.js';
import { timeCalls, unitSphereRegression } from './lib.mjs';
import { PROBLEM, STEP } from './ngd.mjs';

const { samples: minSamples, seconds } = JSON.parse(process.argv[2] ?? '{}');
await init({ backend: 'js' });
const { n, d, width } = PROBLEM;
const { X, Y } = unitSphereRegression({ n, d, seed: PROBLEM.dataSeed });
const batch = { X, Y, n };
const net = twoLayerReLU({ inputDim: d, width, seed: PROBLEM.netSeed });
const theta0 = net.getParams();
const opt = ngd({ lr: STEP.lr, damping: STEP.damping });
let t = performance.now();
opt.step(net, batch);
const first = (performance.now() - t) / 1e3;
const delta = net.getParams();
for (let i = 0; i < delta.length; i++) delta[i] -= theta0[i];
const samples = minSamples > 0
  ? timeCalls(() => opt.step(net, batch), { minSamples, seconds, before: () => net.setParams(theta0) })
  : [];
process.send({ first, delta, samples }, () => process.exit(0));
