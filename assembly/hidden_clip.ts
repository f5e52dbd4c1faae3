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

// The norms of each step t of a backward loop, ‖∂E/∂h_t‖ over its B·R values (R =
// state_size(d), the size of h), into d.dhnorm[t] when d.dhnorm ≠ 0. The rows are summed in
// 4-row strips: the backward of rows [b0, b1) leaves each strip's Σ (δh_t)² as an f64 in
// d.pack (free until the weight gradients), and write_norms adds the strips of each step in
// strip order. So the norm has the same bits however a rows job cuts the batch (its blocks are
// whole strips). A strip's sum is, unclipped, straight from the two addends of its rows (one
// contiguous run); clipped, the sum of each row's clipped square that row_clip adds up. The
// backward of every cell calls step_begin, then row_clip for each row in order. (One instance
// runs one backward at a time: the running strip sum can be a global.)
let clippedSumsq: f64 = 0;

// @ts-ignore: decorator
@inline function strip_slot(d: LayerDesc, t: i32, strip: i32): usize {
  return d.pack + <usize>(t * ((d.B + 3) >> 2) + strip) * 8;
}

// Before the rows [b0, b1) of step t (b0 a multiple of 4 when norms): dt = ∂E/∂h_t from above
// [B,R], dh the carried ∂E/∂h_t [B,R]. norms: leave the strip sums.
export function step_begin(d: LayerDesc, norms: bool, t: i32, b0: i32, b1: i32, dt: usize, dh: usize): void {
  clippedSumsq = 0;
  if (!norms || d.clipHiddenNorm > 0) return;
  const R = state_size(d);
  for (let s0 = b0; s0 < b1; s0 += 4) {
    const o = <usize>(s0 * R) * 4;
    store<f64>(strip_slot(d, t, s0 >> 2), sumsq_of_sum(min(4, b1 - s0) * R, dt + o, dh + o));
  }
}

// The clip factor of row b of step t (R floats of dt and dh) under θ = d.clipHiddenNorm: 1 when
// clipping is off, so the unclipped pass stays bit for bit what it was. Called for every row of
// [b0, b1) in order; with norms, a strip's sum is stored at its last row.
// @ts-ignore: decorator
@inline export function row_clip(d: LayerDesc, norms: bool, t: i32, b: i32, b1: i32, dt: usize, dh: usize): f32 {
  const theta = d.clipHiddenNorm;
  if (!(theta > 0)) return 1;
  const s = sumsq_of_sum_f32x4(state_size(d), dt, dh);
  const c = clip_factor(s, theta);
  if (norms) {
    clippedSumsq += <f64>c * <f64>c * s;
    if ((b & 3) == 3 || b + 1 == b1) {
      store<f64>(strip_slot(d, t, b >> 2), clippedSumsq);
      clippedSumsq = 0;
    }
  }
  return c;
}

// After the backward rows of the whole batch, before the weight gradients reuse d.pack:
// d.dhnorm[t] = √(Σ of step t's strip sums, in strip order).
export function write_norms(d: LayerDesc): void {
  const S = (d.B + 3) >> 2;
  for (let t = 0; t < d.T; t++) {
    let total: f64 = 0;
    for (let s = 0; s < S; s++) total += load<f64>(strip_slot(d, t, s));
    store<f32>(d.dhnorm + <usize>t * 4, <f32>Math.sqrt(total));
  }
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
