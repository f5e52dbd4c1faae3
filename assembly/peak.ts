// The machine's f32x4 ceilings, for the benchmarks' "% of ceiling" columns: `iters` rounds of 12
// independent chains c ← c·m + d on registers (no memory traffic in the loop): 12 × 4 lanes × 2
// flops per round. Twelve chains cover the add (or fused multiply-add) latency on the cores we
// measured; m and d are loaded from memory at `consts` (m in the first 16 bytes, d in the next
// 16) rather than built with splat, which V8 rematerialises inside the loop.

// @ts-ignore: decorator
@inline const FLOPS_PER_ROUND: i32 = 96;

// Shape: 12 chains of f32x4.add(f32x4.mul(c, m), d), two roundings: the simd build's arithmetic.
export function peak_mul_add_f32x4(iters: i32, consts: usize): f32 {
  if (!ASC_FEATURE_SIMD) return 0;
  const m = v128.load(consts), d = v128.load(consts, 16);
  let r0 = f32x4.splat(0.1), r1 = f32x4.splat(0.2), r2 = f32x4.splat(0.3), r3 = f32x4.splat(0.4);
  let r4 = f32x4.splat(0.5), r5 = f32x4.splat(0.6), r6 = f32x4.splat(0.7), r7 = f32x4.splat(0.8);
  let r8 = f32x4.splat(0.9), r9 = f32x4.splat(1.0), r10 = f32x4.splat(1.1), r11 = f32x4.splat(1.2);
  for (let i = 0; i < iters; i++) {
    r0 = f32x4.add(f32x4.mul(r0, m), d); r1 = f32x4.add(f32x4.mul(r1, m), d);
    r2 = f32x4.add(f32x4.mul(r2, m), d); r3 = f32x4.add(f32x4.mul(r3, m), d);
    r4 = f32x4.add(f32x4.mul(r4, m), d); r5 = f32x4.add(f32x4.mul(r5, m), d);
    r6 = f32x4.add(f32x4.mul(r6, m), d); r7 = f32x4.add(f32x4.mul(r7, m), d);
    r8 = f32x4.add(f32x4.mul(r8, m), d); r9 = f32x4.add(f32x4.mul(r9, m), d);
    r10 = f32x4.add(f32x4.mul(r10, m), d); r11 = f32x4.add(f32x4.mul(r11, m), d);
  }
  return sum12(r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11);
}

// Shape: 12 chains of relaxed_madd(c, m, d): the relaxed build's arithmetic (0 in other builds).
export function peak_fused_f32x4(iters: i32, consts: usize): f32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  const m = v128.load(consts), d = v128.load(consts, 16);
  let r0 = f32x4.splat(0.1), r1 = f32x4.splat(0.2), r2 = f32x4.splat(0.3), r3 = f32x4.splat(0.4);
  let r4 = f32x4.splat(0.5), r5 = f32x4.splat(0.6), r6 = f32x4.splat(0.7), r7 = f32x4.splat(0.8);
  let r8 = f32x4.splat(0.9), r9 = f32x4.splat(1.0), r10 = f32x4.splat(1.1), r11 = f32x4.splat(1.2);
  for (let i = 0; i < iters; i++) {
    r0 = f32x4.relaxed_madd(r0, m, d); r1 = f32x4.relaxed_madd(r1, m, d);
    r2 = f32x4.relaxed_madd(r2, m, d); r3 = f32x4.relaxed_madd(r3, m, d);
    r4 = f32x4.relaxed_madd(r4, m, d); r5 = f32x4.relaxed_madd(r5, m, d);
    r6 = f32x4.relaxed_madd(r6, m, d); r7 = f32x4.relaxed_madd(r7, m, d);
    r8 = f32x4.relaxed_madd(r8, m, d); r9 = f32x4.relaxed_madd(r9, m, d);
    r10 = f32x4.relaxed_madd(r10, m, d); r11 = f32x4.relaxed_madd(r11, m, d);
  }
  return sum12(r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11);
}

// Flops of one call: iters rounds of FLOPS_PER_ROUND.
export function peak_flops_per_round(): i32 {
  return FLOPS_PER_ROUND;
}

// one lane of the sum of the chains, so that no chain is dead code
// @ts-ignore: decorator
@inline function sum12(
  r0: v128, r1: v128, r2: v128, r3: v128, r4: v128, r5: v128, r6: v128, r7: v128, r8: v128, r9: v128, r10: v128, r11: v128,
): f32 {
  let s = f32x4.add(f32x4.add(f32x4.add(r0, r1), f32x4.add(r2, r3)), f32x4.add(f32x4.add(r4, r5), f32x4.add(r6, r7)));
  s = f32x4.add(s, f32x4.add(f32x4.add(r8, r9), f32x4.add(r10, r11)));
  return f32x4.extract_lane(s, 0);
}
