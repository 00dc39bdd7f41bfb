// This machine's WASM SIMD float64 ceiling, measured in the same run as the kernels
// it is compared with: bench/assembly/roofline.ts is compiled here on every run
// (asc --enable simd -O3, see bench/asconfig.json) into the gitignored bench/build/.
import asc from 'assemblyscript/asc';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, fmtNumber, markdownTable, summarize, time } from './lib.mjs';

// About 1–2 ms per call at 10–20 GFLOP/s: long against call overhead, short against a Benchmark.js sample.
const ITERS = 500_000;

/** Compiles and instantiates the roofline module; returns a Ceiling that measures it on demand. */
export async function loadCeiling() {
  const { error, stderr } = await asc.main(['--config', join(ROOT, 'bench/asconfig.json')]);
  if (error) throw new Error(`asc failed to compile bench/assembly/roofline.ts: ${error.message}\n${stderr}`);
  const { instance } = await WebAssembly.instantiate(readFileSync(join(ROOT, 'bench/build/roofline.wasm')), {
    env: { abort() { throw new Error('roofline module aborted'); } },
  });
  return new Ceiling(instance.exports, await loadFma());
}

/**
 * roofline.ts compiled with relaxed SIMD (its chained loop fused: the FMA ceiling natgrad's relaxed
 * build is judged against), or null where the engine does not validate relaxed SIMD (Node 20).
 */
async function loadFma() {
  const out = join(ROOT, 'bench/build/roofline-fma.wasm');
  const { error, stderr } = await asc.main(['--config', join(ROOT, 'bench/asconfig.fma.json')]);
  if (error) throw new Error(`asc failed to compile bench/assembly/roofline.ts with relaxed SIMD: ${error.message}\n${stderr}`);
  const bytes = readFileSync(out);
  if (!WebAssembly.validate(bytes)) return null;
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort() { throw new Error('roofline-fma module aborted'); } } });
  return instance.exports;
}

/**
 * The faster of two register-only f64x2 mul+add loops (see roofline.ts), measured
 * several times during a run because this host's speed drifts; a ratio to the
 * ceiling uses the best sample of all measurements (and, for the median ratio, the
 * median of the per-measurement medians).
 */
export class Ceiling {
  constructor(ex, fma = null) {
    this.fmaLoop = fma && { id: 'fma', label: '12 chains a ← fma(a, m, c) (relaxed SIMD)', flops: ITERS * fma.CHAINED_FLOPS_PER_ITER.value, run: () => fma.chainedMulAdd(ITERS, 0.999999, 1e-6) };
    this.loops = [
      { id: 'chained', label: '12 chains a ← a·m + c', flops: ITERS * ex.CHAINED_FLOPS_PER_ITER.value, run: () => ex.chainedMulAdd(ITERS, 0.999999, 1e-6) },
      { id: 'split', label: '6 mul + 6 add chains', flops: ITERS * ex.SPLIT_FLOPS_PER_ITER.value, run: () => ex.splitMulAdd(ITERS, 1, 1e-12) },
    ];
    this.measurements = [];
  }

  /** Measures both loops once (after a warm-up that lets V8 tier them up); `when` labels the measurement. */
  measure(profile, when) {
    const m = { when };
    for (const loop of this.fmaLoop ? [...this.loops, this.fmaLoop] : this.loops) {
      for (const t = performance.now(); performance.now() - t < 1e3 * profile.warmup;) loop.run();
      const s = summarize(time(loop.run, { ...profile, minSamples: Math.max(5, profile.minSamples) }));
      m[loop.id] = { median: loop.flops / s.median / 1e9, best: loop.flops / s.best / 1e9, samples: s.count };
    }
    this.measurements.push(m);
    return m;
  }

  /** GFLOP/s: { median, best } over all measurements so far, each taking the faster loop. */
  get rate() {
    if (!this.measurements.length) return null;
    const medians = this.measurements.map((m) => Math.max(...this.loops.map((l) => m[l.id].median)));
    const best = Math.max(...this.measurements.map((m) => Math.max(...this.loops.map((l) => m[l.id].best))));
    return { median: summarize(medians).median, best };
  }

  /** GFLOP/s of the FMA loop, { median, best } over all measurements, or null where relaxed SIMD does not validate. */
  get fmaRate() {
    if (!this.fmaLoop || !this.measurements.length) return null;
    return { median: summarize(this.measurements.map((m) => m.fma.median)).median, best: Math.max(...this.measurements.map((m) => m.fma.best)) };
  }

  toJSON() {
    const loops = this.fmaLoop ? [...this.loops, this.fmaLoop] : this.loops;
    return { loops: loops.map(({ id, label, flops }) => ({ id, label, flopsPerCall: flops })), measurements: this.measurements, gflops: this.rate, fmaGflops: this.fmaRate };
  }

  markdown() {
    const loops = this.fmaLoop ? [...this.loops, this.fmaLoop] : this.loops;
    const rows = this.measurements.map((m) => [m.when, ...loops.map((l) => `${fmtNumber(m[l.id].median)} / ${fmtNumber(m[l.id].best)}`)]);
    const r = this.rate, f = this.fmaRate;
    rows.push(['**ceiling** (faster mul + add loop)', `**${fmtNumber(r.median)} / ${fmtNumber(r.best)}**`, '', ...(f ? [''] : [])]);
    if (f) rows.push(['**FMA ceiling**', '', '', `**${fmtNumber(f.median)} / ${fmtNumber(f.best)}**`]);
    const table = markdownTable(['measured', ...loops.map((l) => `${l.label}, GFLOP/s median / best`)], rows);
    if (!f) return `${table}\n\n(No FMA ceiling: this engine does not validate relaxed SIMD.)`;
    return `${table}\n\nFMA ceiling ÷ mul + add ceiling: **${fmtNumber(f.median / r.median)}×** (medians). That is the most the relaxed build's fused ` +
      'multiply-add can gain over the baseline build\'s separate multiply and add on this CPU: a core with as many add as multiply ' +
      'pipes (AMD Zen) issues a mul and an add per FMA slot, while one whose adds share the FMA pipes (e.g. Intel Skylake) gains up to 2×.';
  }
}
