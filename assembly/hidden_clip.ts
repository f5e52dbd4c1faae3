// Per-timestep clipping of ∂E/∂h_t (docs/equations.md#per-timestep-clipping): every cell's
// backward loop asks, per sequence and step, for the factor that scales δh_t = u_t + ρ_t to
// norm ≤ θ, and multiplies by it where it forms δh_t. A factor of exactly 1 leaves every
// product bit-identical to the unclipped pass.

import { LayerDesc, state_size } from "./layer_desc";
import { is_padded, sumsq_of_sum } from "./cell_common";

// Σ (a + b)² over n floats, accumulated in f64: an exploding f32 gradient squared would
// overflow an f32 sum long before the norm itself is out of range. The SIMD form of
// sumsq_of_sum, since with clipping on it runs for every row of every step; in the scalar build
// only its scalar twin (the tail loop) remains.
export function sumsq_of_sum_f32x4(n: i32, a: usize, b: usize): f64 {
  let total: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i * 4;
      const g = f32x4.add(v128.load(a + o), v128.load(b + o));
      const lo = f64x2.promote_low_f32x4(g);
      const hi = f64x2.promote_low_f32x4(i32x4.shuffle(g, g, 2, 3, 0, 1));
      acc = f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
    }
    total = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  }
  for (; i < n; i++) {
    const g = <f64>(load<f32>(a + <usize>i * 4) + load<f32>(b + <usize>i * 4));
    total += g * g;
  }
  return total;
}

// The factor for one row whose Σ (δh_t)² is s: θ/‖δh_t‖ where the norm exceeds θ, else 1.
// A NaN norm compares false and keeps factor 1, so a non-finite gradient still reaches the
// step's finiteness check instead of being scaled away.
// @ts-ignore: decorator
@inline export function clip_factor(s: f64, clip: f64): f32 {
  const norm = Math.sqrt(s);
  return norm > clip ? <f32>(clip / norm) : 1;
}

// The norms of one step t of a backward loop, ‖∂E/∂h_t‖ over its B·R values, into d.dhnorm[t]
// (when d.dhnorm ≠ 0; R = state_size(d), the size of h): unclipped, straight from the two addends; clipped, as the sum of each
// row's clipped square that row_clip adds up. The backward of every cell calls step_begin,
// row_clip for each batch row, then step_end. (One instance runs one backward at a time.)
let clippedSumsq: f64 = 0;

// Before the rows of step t: dt = ∂E/∂h_t from above [B,R], dh the carried ∂E/∂h_t [B,R].
export function step_begin(d: LayerDesc, t: i32, dt: usize, dh: usize): void {
  if (d.dhnorm && !(d.clipHiddenNorm > 0)) store<f32>(d.dhnorm + <usize>t * 4, <f32>Math.sqrt(sumsq_of_sum(d.B * state_size(d), dt, dh)));
  clippedSumsq = 0;
}

// The clip factor of one row (R floats of dt and dh) under θ = d.clipHiddenNorm: 1 when
// clipping is off, so the unclipped pass stays bit for bit what it was.
// @ts-ignore: decorator
@inline export function row_clip(d: LayerDesc, dt: usize, dh: usize): f32 {
  const theta = d.clipHiddenNorm;
  if (!(theta > 0)) return 1;
  const s = sumsq_of_sum_f32x4(state_size(d), dt, dh);
  const c = clip_factor(s, theta);
  clippedSumsq += <f64>c * <f64>c * s;
  return c;
}

// After the rows of step t.
export function step_end(d: LayerDesc, t: i32): void {
  if (d.dhnorm && d.clipHiddenNorm > 0) store<f32>(d.dhnorm + <usize>t * 4, <f32>Math.sqrt(clippedSumsq));
}

// Row b of step t in a backward loop, if the mask marks it padded (h_t = h_{t−1}): its clipped
// ∂E/∂h_t passes straight through to h_{t−1} (dh ← (dh + dt)·c) and its δ row (n floats at
// delta) becomes 0. Returns false, doing nothing, for a real row.
// @ts-ignore: decorator
@inline export function pass_padded(d: LayerDesc, t: i32, b: i32, dt: usize, dh: usize, c: f32, delta: usize, n: i32): bool {
  if (!is_padded(d.mask, t, d.B, b)) return false;
  pass_through_scaled(state_size(d), dt, dh, c);
  memory.fill(delta, 0, <usize>n * 4);
  return true;
}

// A padded row passes its (clipped) gradient straight through: dh ← (dh + d)·c (h_t = h_{t−1}).
export function pass_through_scaled(n: i32, d: usize, dh: usize, c: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i * 4;
    store<f32>(dh + o, (load<f32>(dh + o) + load<f32>(d + o)) * c);
  }
}
