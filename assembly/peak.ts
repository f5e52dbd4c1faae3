// The machine's f32x4 ceiling, for the GEMM benchmark: `iters` rounds of 10 independent
// multiply-add chains on registers (c ← c·m + a, no memory traffic): 10 × 4 lanes × 2 flops
// per round. Ten chains cover the multiply and add latencies without spilling registers under
// V8 (more chains measured less: spills). The relaxed build fuses each pair (relaxed_madd).
import { madd } from "./gemm";

export function peak_mul_add_f32x4(iters: i32, seed: f32): f32 {
  if (!ASC_FEATURE_SIMD) return 0;
  const m = f32x4.splat(0.9999);
  const a = f32x4.splat(seed);
  let c0 = f32x4.splat(1), c1 = f32x4.splat(2), c2 = f32x4.splat(3), c3 = f32x4.splat(4), c4 = f32x4.splat(5);
  let c5 = f32x4.splat(6), c6 = f32x4.splat(7), c7 = f32x4.splat(8), c8 = f32x4.splat(9), c9 = f32x4.splat(10);
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, m, a); c1 = madd(c1, m, a); c2 = madd(c2, m, a); c3 = madd(c3, m, a); c4 = madd(c4, m, a);
    c5 = madd(c5, m, a); c6 = madd(c6, m, a); c7 = madd(c7, m, a); c8 = madd(c8, m, a); c9 = madd(c9, m, a);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(c8, c9)), 0);
}
