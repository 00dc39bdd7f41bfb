// The natgrad side of the `native` suite (bench/native.mjs), in a fresh process as a user's script
// runs it: init(), then runs of ngd() on the paper's net from the same θ₀ and data as the native
// peer (bench/native-peer.py), each from a fresh net and optimizer. Input: one JSON argument
// { dir, n, d, m, threads, simd, steps, damping, lr, target, runs, seed }; dir holds X.f64 and Y.f64.
// Output: one JSON line { init, runs: [{ setup, stepTimes, losses, loss0, toTarget, stepsToTarget, retries }] }
// in seconds. A run's time to target counts from just after its net is made (the optimizer, its
// workspace and every step are inside it); its net is disposed before the next run, so the second
// run is a fresh net and optimizer on warm kernels.
import { readFileSync } from 'node:fs';
import { init, ngd, twoLayerReLU } from '../dist/esm/index.js';

const cfg = JSON.parse(process.argv[2]);
const { n, d, m } = cfg;
const f64 = (name) => new Float64Array(new Uint8Array(readFileSync(`${cfg.dir}/${name}`)).buffer);
const X = f64('X.f64'), Y = f64('Y.f64');

const t0 = performance.now();
await init({ backend: 'wasm', threads: cfg.threads, simd: cfg.simd ?? 'auto' });
const initSeconds = (performance.now() - t0) / 1e3;

function run() {
  let t = performance.now();
  const net = twoLayerReLU({ inputDim: d, width: m, seed: cfg.seed });
  const start = performance.now();
  const setup = (start - t) / 1e3;
  const opt = ngd({ lr: cfg.lr, damping: cfg.damping });
  const batch = { X, Y, n };
  const stepTimes = [], losses = [];
  let loss0, toTarget = null, stepsToTarget = null, retries = 0;
  for (let i = 0; i < cfg.steps; i++) {
    t = performance.now();
    const st = opt.step(net, batch);
    const end = performance.now();
    stepTimes.push((end - t) / 1e3);
    loss0 ??= st.loss;
    losses.push(st.lossAfter);
    retries += st.retries;
    if (toTarget === null && st.lossAfter <= cfg.target * loss0) {
      toTarget = (end - start) / 1e3;
      stepsToTarget = i + 1;
    }
  }
  opt.dispose();
  net.dispose();
  return { setup, stepTimes, losses, loss0, toTarget, stepsToTarget, retries };
}

const runs = [];
for (let r = 0; r < (cfg.runs ?? 1); r++) runs.push(run());
process.stdout.write(`${JSON.stringify({ init: initSeconds, runs })}\n`);
