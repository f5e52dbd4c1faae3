// The machine's f32x4 ceiling, for the GEMM benchmark: per round, 8 independent
// accumulators each receive one product (acc += x_i·y), the shape of a GEMM micro-kernel
// without its memory traffic: 8 × 4 lanes × 2 flops = 64 flops per round. y changes every
// round so that the products cannot be hoisted out of the loop.
import { madd } from "./gemm";

export function peak_mul_add_f32x4(iters: i32, seed: f32): f32 {
  if (!ASC_FEATURE_SIMD) return 0;
  const x0 = f32x4.splat(seed), x1 = f32x4.splat(seed * 0.5), x2 = f32x4.splat(seed * 0.25), x3 = f32x4.splat(seed * 0.125);
  const dy = f32x4.splat(1e-9);
  let y0 = f32x4.splat(1), y1 = f32x4.splat(2);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    c0 = madd(x0, y0, c0); c1 = madd(x0, y1, c1);
    c2 = madd(x1, y0, c2); c3 = madd(x1, y1, c3);
    c4 = madd(x2, y0, c4); c5 = madd(x2, y1, c5);
    c6 = madd(x3, y0, c6); c7 = madd(x3, y1, c7);
    y0 = f32x4.add(y0, dy); y1 = f32x4.add(y1, dy);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(s, 0);
}
