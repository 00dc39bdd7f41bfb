// This machine's WebAssembly SIMD float64 throughput, measured by register-only loops (no
// memory traffic) of f64x2 multiplies and adds. Compiled twice: with SIMD only (bench/asconfig.json,
// separate mul and add) and with relaxed SIMD as well (bench/asconfig.fma.json), where the chained
// loop's a·m + c is one fused multiply-add: the FMA ceiling natgrad's relaxed build is judged against.

/** a·m + c: fused (f64x2.relaxed_madd) where the module is compiled with relaxed SIMD, else mul then add. */
// @ts-ignore: decorator
@inline function mulAdd(a: v128, m: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, m, c);
  return f64x2.add(f64x2.mul(a, m), c);
}

/** Flops per iteration of {@link chainedMulAdd}: 12 chains × (mul + add) × 2 lanes. */
export const CHAINED_FLOPS_PER_ITER: i32 = 48;

/**
 * `iters` iterations of 12 independent accumulator chains a ← a·m + c (f64x2; fused in the relaxed
 * compile).
 * Returns a value that depends on every chain, so nothing is optimised away.
 */
export function chainedMulAdd(iters: i32, mul: f64, add: f64): f64 {
  // Twelve chains hide the mul→add latency on two FP ports while staying within
  // the ~15 xmm registers V8 allocates (12 accumulators + m + c): nothing spills.
  // 0 < mul < 1 makes every chain converge to add/(1 − mul): no overflow, no denormals.
  // mul and add are parameters, not literals: literals would be folded into v128.const
  // operands in the loop, which V8 rematerialises at every use (front-end-bound).
  const m = f64x2.splat(mul);
  const c = f64x2.splat(add);
  let a0 = f64x2.splat(1.0), a1 = f64x2.splat(1.1), a2 = f64x2.splat(1.2), a3 = f64x2.splat(1.3);
  let a4 = f64x2.splat(1.4), a5 = f64x2.splat(1.5), a6 = f64x2.splat(1.6), a7 = f64x2.splat(1.7);
  let a8 = f64x2.splat(1.8), a9 = f64x2.splat(1.9), a10 = f64x2.splat(2.0), a11 = f64x2.splat(2.1);
  for (let i = 0; i < iters; i++) {
    a0 = mulAdd(a0, m, c);
    a1 = mulAdd(a1, m, c);
    a2 = mulAdd(a2, m, c);
    a3 = mulAdd(a3, m, c);
    a4 = mulAdd(a4, m, c);
    a5 = mulAdd(a5, m, c);
    a6 = mulAdd(a6, m, c);
    a7 = mulAdd(a7, m, c);
    a8 = mulAdd(a8, m, c);
    a9 = mulAdd(a9, m, c);
    a10 = mulAdd(a10, m, c);
    a11 = mulAdd(a11, m, c);
  }
  const s = f64x2.add(
    f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(a4, a5), f64x2.add(a6, a7))),
    f64x2.add(f64x2.add(a8, a9), f64x2.add(a10, a11)),
  );
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** Flops per iteration of {@link splitMulAdd}: (6 muls + 6 adds) × 2 lanes. */
export const SPLIT_FLOPS_PER_ITER: i32 = 24;

/**
 * `iters` iterations of 6 independent mul chains x ← x·one and 6 independent add
 * chains y ← y + tiny (f64x2). Pass one = 1 and a tiny positive value: they are
 * parameters so the compiler cannot fold them.
 */
export function splitMulAdd(iters: i32, one: f64, tiny: f64): f64 {
  // In a GEMM micro-kernel the multiplies do not depend on the accumulators, so a
  // core with separate mul and add pipes (e.g. AMD Zen) can beat the chained loop,
  // whose a·m → +c dependency makes it latency-bound there. This loop has no such
  // dependency, so the ceiling is the faster of the two.
  const m = f64x2.splat(one);
  const c = f64x2.splat(tiny);
  let x0 = f64x2.splat(1.0), x1 = f64x2.splat(1.1), x2 = f64x2.splat(1.2);
  let x3 = f64x2.splat(1.3), x4 = f64x2.splat(1.4), x5 = f64x2.splat(1.5);
  let y0 = f64x2.splat(1.0), y1 = f64x2.splat(1.1), y2 = f64x2.splat(1.2);
  let y3 = f64x2.splat(1.3), y4 = f64x2.splat(1.4), y5 = f64x2.splat(1.5);
  for (let i = 0; i < iters; i++) {
    x0 = f64x2.mul(x0, m); y0 = f64x2.add(y0, c);
    x1 = f64x2.mul(x1, m); y1 = f64x2.add(y1, c);
    x2 = f64x2.mul(x2, m); y2 = f64x2.add(y2, c);
    x3 = f64x2.mul(x3, m); y3 = f64x2.add(y3, c);
    x4 = f64x2.mul(x4, m); y4 = f64x2.add(y4, c);
    x5 = f64x2.mul(x5, m); y5 = f64x2.add(y5, c);
  }
  const x = f64x2.add(f64x2.add(f64x2.add(x0, x1), f64x2.add(x2, x3)), f64x2.add(x4, x5));
  const y = f64x2.add(f64x2.add(f64x2.add(y0, y1), f64x2.add(y2, y3)), f64x2.add(y4, y5));
  const s = f64x2.add(x, y);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}
