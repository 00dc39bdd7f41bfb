// This machine's WebAssembly float64 throughput with fused multiply-add: the relaxed-SIMD
// counterpart of roofline.ts, compiled only where the engine validates relaxed SIMD.

/** Flops per iteration of {@link chainedFma}: 12 chains × (mul + add, fused) × 2 lanes. */
export const FMA_FLOPS_PER_ITER: i32 = 48;

/**
 * `iters` iterations of 12 independent chains a ← fma(a, m, c) (f64x2.relaxed_madd, fused where the
 * CPU has FMA). Twelve chains cover the FMA latency (4–5 cycles) on two FMA pipes; pass 0 < mul < 1
 * to keep every chain bounded. The constants are parameters, not literals: a literal would be folded
 * into a v128.const inside the loop, which V8 rematerialises at every use, making the loop
 * front-end-bound (a third of the real rate). Returns a value that depends on every chain.
 */
export function chainedFma(iters: i32, mul: f64, add: f64): f64 {
  const m = f64x2.splat(mul);
  const c = f64x2.splat(add);
  let a0 = f64x2.splat(1.0), a1 = f64x2.splat(1.1), a2 = f64x2.splat(1.2), a3 = f64x2.splat(1.3);
  let a4 = f64x2.splat(1.4), a5 = f64x2.splat(1.5), a6 = f64x2.splat(1.6), a7 = f64x2.splat(1.7);
  let a8 = f64x2.splat(1.8), a9 = f64x2.splat(1.9), a10 = f64x2.splat(2.0), a11 = f64x2.splat(2.1);
  for (let i = 0; i < iters; i++) {
    a0 = f64x2.relaxed_madd(a0, m, c);
    a1 = f64x2.relaxed_madd(a1, m, c);
    a2 = f64x2.relaxed_madd(a2, m, c);
    a3 = f64x2.relaxed_madd(a3, m, c);
    a4 = f64x2.relaxed_madd(a4, m, c);
    a5 = f64x2.relaxed_madd(a5, m, c);
    a6 = f64x2.relaxed_madd(a6, m, c);
    a7 = f64x2.relaxed_madd(a7, m, c);
    a8 = f64x2.relaxed_madd(a8, m, c);
    a9 = f64x2.relaxed_madd(a9, m, c);
    a10 = f64x2.relaxed_madd(a10, m, c);
    a11 = f64x2.relaxed_madd(a11, m, c);
  }
  const s = f64x2.add(
    f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(a4, a5), f64x2.add(a6, a7))),
    f64x2.add(f64x2.add(a8, a9), f64x2.add(a10, a11)),
  );
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}
