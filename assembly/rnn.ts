// Vanilla RNN: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), act = tanh | relu.
// Forward unroll and BPTT backward side by side; both loops over time live here (docs/equations.md#rnn-forward).
import { beat, gemm_rows, run_rows } from "./pool";
import { tanh_inplace, relu_inplace } from "./activations";
import { input_projection, backward_weights, is_padded, FLAG_RELU } from "./cell_common";
import { pass_padded, row_clip, step_begin, write_norms } from "./hidden_clip";
import { LayerDesc, layer_desc, row_begin, row_end } from "./layer_desc";
import { PHASE_RNN_FORWARD, PHASE_RNN_BACKWARD, PHASE_NORMS } from "./phases";

// desc: a LayerDesc (assembly/layer_desc.ts) with T, B, I, H, flags, x, wihTransposedPacked
// (W_ihᵀ [I,H]), whhTransposedPacked (W_hhᵀ [H,H]), bih, bhh [H], mask [T,B] or 0, and hs
// [T+1,B,H] with hs[0] = h0 on entry; hs[1..T] = h_1..h_T on exit (rows [b0, b1) only).
// Padded (mask 0) rows carry h_{t−1} unchanged.
export function rnn_forward(desc: usize): void {
  const d = layer_desc(desc);
  run_rows(PHASE_RNN_FORWARD, desc, row_begin(d), row_end(d));
}

// The forward of rows [b0, b1) (own: see gemm_rows). A row range [b0, b1) of a step's [B, H]
// block is one contiguous run; with b0 a multiple of 4 its elementwise work falls into the same
// 4-lane groups as the whole block's, so the bits do not depend on the range.
export function rnn_forward_rows(d: LayerDesc, b0: i32, b1: i32, own: bool): void {
  const B = d.B, H = d.H, flags = d.flags, mask = d.mask, hs = d.hs, whhTransposedPacked = d.whhTransposedPacked;
  const BHb = <usize>(B * H) * 4, Hb = <usize>H * 4, first = <usize>b0 * Hb, n = (b1 - b0) * H;
  // pre_t = x_t·W_ihᵀ + b_ih + b_hh for every t at once, written where h_t will live
  input_projection(d, H, d.bhh, hs + BHb, b0, b1, own);
  for (let t = 0; t < d.T; t++) {
    beat(own);
    const prev = hs + <usize>t * BHb;
    const cur = prev + BHb;
    gemm_rows(own, B, H, H, prev, H, 1, whhTransposedPacked, cur, H, 1, b0, b1); // pre_t += h_{t−1}·W_hhᵀ
    if (flags & FLAG_RELU) relu_inplace(n, cur + first); else tanh_inplace(n, cur + first); // h_t = act(pre_t)
    if (mask) {
      for (let b = b0; b < b1; b++) {
        if (is_padded(mask, t, B, b)) memory.copy(cur + <usize>b * Hb, prev + <usize>b * Hb, Hb);
      }
    }
  }
}

// desc: a LayerDesc read as by rnn_forward, plus: dhs [T,B,H]: in, ∂E/∂h_t arriving from above
// (head or next layer); out, δpre_t (overwritten: rebuild it before every backward). dh [B,H]:
// in, ∂E/∂h_T from beyond the sequence (zeros for a full BPTT); out, ∂E/∂h_0. dwih [H,I], dwhh
// [H,H], dbih, dbhh [H] accumulate; dx [T,B,I] written unless 0; dhnorm [T] receives ‖∂E/∂h_t‖
// unless 0 (after clipping). clipHiddenNorm θ > 0: each row's ∂E/∂h_t is scaled to norm ≤ θ
// before it is used (0 = off). wihPacked = W_ih [H,I], whhPacked = W_hh [H,H] packed as right
// operands; pack: scratch of T·B × ⌈max(I,H)/8⌉·8 floats.
export function rnn_backward(desc: usize): void {
  const d = layer_desc(desc);
  const b0 = row_begin(d), b1 = row_end(d);
  if (b0 > 0 || b1 < d.B) {
    run_rows(PHASE_RNN_BACKWARD, desc, b0, b1);
    return;
  }
  run_rows(PHASE_RNN_BACKWARD | (d.dhnorm ? PHASE_NORMS : 0), desc, 0, d.B);
  if (d.dhnorm) write_norms(d);
  backward_weights(d, d.H, d.dhs, d.dhs); // δA = δR = δpre
}

// BPTT of rows [b0, b1) (own: see gemm_rows; norms: leave the strip sums of ‖∂E/∂h_t‖²).
export function rnn_backward_rows(d: LayerDesc, b0: i32, b1: i32, own: bool, norms: bool): void {
  const B = d.B, H = d.H, mask = d.mask, hs = d.hs, dhs = d.dhs, dh = d.dh, whhPacked = d.whhPacked;
  const BH = B * H, first = <usize>(b0 * H) * 4;
  const relu = (d.flags & FLAG_RELU) != 0;
  const clip = d.clipHiddenNorm > 0;
  for (let t = d.T - 1; t >= 0; t--) {
    beat(own);
    const cur = hs + <usize>((t + 1) * BH) * 4;
    const dt = dhs + <usize>(t * BH) * 4;
    step_begin(d, norms, t, b0, b1, dt, dh);
    if (!mask && !clip) {
      rnn_dpre((b1 - b0) * H, relu, dt + first, dh + first, cur + first, 1);
    } else {
      const Hb = <usize>H * 4;
      for (let b = b0; b < b1; b++) {
        const o = <usize>b * Hb;
        const c = row_clip(d, norms, t, b, b1, dt + o, dh + o);
        // a padded row (h_t = h_{t−1}) passes ∂E/∂h_t straight through; its δpre is 0
        if (!pass_padded(d, t, b, dt + o, dh + o, c, dt + o, H)) rnn_dpre(H, relu, dt + o, dh + o, cur + o, c);
      }
    }
    // inverts pre_t += h_{t−1}·W_hhᵀ:  ∂E/∂h_{t−1} += δpre_t·W_hh
    gemm_rows(own, B, H, H, dt, H, 1, whhPacked, dh, H, 1, b0, b1);
  }
}

// Shape: n contiguous elements of one step: d (in ∂E/∂h_t from above, out δpre_t), dh (in the
// carried ∂E/∂h_t, out 0), h = h_t; c the row's clip factor (1: unclipped, bit for bit).
// Inverts h_t = act(pre_t): tanh' = 1 − h², relu' = [h > 0].
function rnn_dpre(n: i32, relu: bool, d: usize, dh: usize, h: usize, c: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), zero = f32x4.splat(0), cv = f32x4.splat(c);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i * 4;
      const g = f32x4.mul(f32x4.add(v128.load(d + o), v128.load(dh + o)), cv);
      const hv = v128.load(h + o);
      const dp = relu ? v128.and(g, f32x4.gt(hv, zero)) : f32x4.mul(g, f32x4.sub(one, f32x4.mul(hv, hv)));
      v128.store(d + o, dp);
      v128.store(dh + o, zero);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const g = (load<f32>(d + o) + load<f32>(dh + o)) * c;
    const hv = load<f32>(h + o);
    store<f32>(d + o, relu ? (hv > 0 ? g : 0) : g * (1 - hv * hv));
    store<f32>(dh + o, 0);
  }
}
