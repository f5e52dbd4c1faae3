// LSTM (PyTorch gate order i | f | g | o; forward and BPTT: docs/equations.md#lstm-forward):
//   [i, f, g, o] = [σ, σ, tanh, σ](x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)
//   c_t = f⊙c_{t−1} + i⊙g;  h_t = o⊙tanh(c_t)
// With a projection (d.P > 0, PyTorch's proj_size): m_t = o⊙tanh(c_t); h_t = m_t·W_hrᵀ [P]
// (docs/equations.md#lstm-with-projection). h (hs, dh, dhs) then has R = P values, c keeps H.
import { beat, gemm_packed, gemm_rows, run_rows } from "./pool";
import { weight_grad_acc } from "./weight_grad";
import { sigmoid_inplace, tanh_inplace, tanh_scalar, tanh_f32x4 } from "./activations";
import { input_projection, backward_weights, is_padded } from "./cell_common";
import { pass_padded, row_clip, step_begin, write_norms } from "./hidden_clip";
import { LayerDesc, layer_desc, row_begin, row_end, state_size } from "./layer_desc";
import { PHASE_LSTM_FORWARD, PHASE_LSTM_BACKWARD, PHASE_NORMS } from "./phases";

// desc: a LayerDesc (assembly/layer_desc.ts): gates [T,B,4H] (post-activation i,f,g,o on exit),
//       hs [T+1,B,R], cs [T+1,B,H] with hs[0]/cs[0] = h0/c0 on entry, wihTransposedPacked =
//       W_ihᵀ [I,4H] and whhTransposedPacked = W_hhᵀ [R,4H] packed, bih/bhh [4H], mask [T,B] or 0.
//       With P > 0 also whrTransposedPacked = W_hrᵀ [H,P] packed, and ms [T,B,H] receives m_t.
export function lstm_forward(desc: usize): void {
  const d = layer_desc(desc);
  run_rows(PHASE_LSTM_FORWARD, desc, row_begin(d), row_end(d));
}

// The forward of rows [b0, b1) (own: see gemm_rows).
export function lstm_forward_rows(d: LayerDesc, b0: i32, b1: i32, own: bool): void {
  const T = d.T, B = d.B, H = d.H, P = d.P, R = state_size(d), mask = d.mask, hs = d.hs, cs = d.cs, gates = d.gates, whhTransposedPacked = d.whhTransposedPacked;
  const G = 4 * H, BHb = <usize>(B * H) * 4, Hb = <usize>H * 4, Gb = <usize>G * 4;
  const BRb = <usize>(B * R) * 4, Rb = <usize>R * 4;
  input_projection(d, G, d.bhh, gates, b0, b1, own);
  for (let t = 0; t < T; t++) {
    beat(own);
    const gt = gates + <usize>t * <usize>B * Gb;
    const hprev = hs + <usize>t * BRb, hcur = hprev + BRb;
    const cprev = cs + <usize>t * BHb, ccur = cprev + BHb;
    // without a projection o⊙tanh(c_t) is h_t itself; with one it is m_t, projected below
    const mt = P > 0 ? d.ms + <usize>t * BHb : hcur;
    gemm_rows(own, B, G, R, hprev, R, 1, whhTransposedPacked, gt, G, 1, b0, b1); // += h_{t−1}·W_hhᵀ
    for (let b = b0; b < b1; b++) {
      const row = gt + <usize>b * Gb;
      const ro = <usize>b * Hb;
      if (is_padded(mask, t, B, b)) {
        if (P > 0) memory.fill(mt + ro, 0, Hb); // m_t of a padded row: 0, so it adds nothing to dW_hr
        else memory.copy(hcur + ro, hprev + ro, Hb);
        memory.copy(ccur + ro, cprev + ro, Hb);
        continue;
      }
      sigmoid_inplace(2 * H, row);          // i, f
      tanh_inplace(H, row + 2 * Hb);        // g
      sigmoid_inplace(H, row + 3 * Hb);     // o
      lstm_state_update(H, row, cprev + ro, ccur + ro, mt + ro);
    }
    if (P > 0) {
      gemm_rows(own, B, P, H, mt, H, 1, d.whrTransposedPacked, hcur, P, 0, b0, b1); // h_t = m_t·W_hrᵀ
      // a padded row carries h_{t−1} (the product above gave it 0·W_hrᵀ)
      for (let b = b0; b < b1; b++) if (is_padded(mask, t, B, b)) memory.copy(hcur + <usize>b * Rb, hprev + <usize>b * Rb, Rb);
    }
  }
}

// Shape: one batch row: gates [4H] (i,f,g,o), c_{t−1} [H] → c_t [H], h_t [H]
function lstm_state_update(H: i32, row: usize, cprev: usize, ccur: usize, hcur: usize): void {
  const Hb = <usize>H * 4;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j * 4;
      const i = v128.load(row + o), f = v128.load(row + Hb + o), g = v128.load(row + 2 * Hb + o), og = v128.load(row + 3 * Hb + o);
      const c = f32x4.add(f32x4.mul(f, v128.load(cprev + o)), f32x4.mul(i, g)); // c_t = f⊙c_{t−1} + i⊙g
      v128.store(ccur + o, c);
      v128.store(hcur + o, f32x4.mul(og, tanh_f32x4(c)));                       // h_t = o⊙tanh(c_t)
    }
  }
  for (; j < H; j++) {
    const o = <usize>j * 4;
    const c = load<f32>(row + Hb + o) * load<f32>(cprev + o) + load<f32>(row + o) * load<f32>(row + 2 * Hb + o);
    store<f32>(ccur + o, c);
    store<f32>(hcur + o, load<f32>(row + 3 * Hb + o) * tanh_scalar(c));
  }
}

// desc: a LayerDesc read as by lstm_forward, plus:
//        gates [T,B,4H]: in, post-activations; out, δ(pre-activations) per step.
//        dhs [T,B,R]: in, ∂E/∂h_t from above (left unchanged).
//        dh [B,R], dc [B,H]: in, ∂E/∂h_T, ∂E/∂c_T from beyond the sequence; out, ∂E/∂h_0, ∂E/∂c_0.
//        Weight and bias gradients accumulate; dx [T,B,I] written unless 0; dhnorm [T] unless 0.
//        clipHiddenNorm θ > 0: each row's ∂E/∂h_t (not ∂E/∂c_t) is scaled to norm ≤ θ; 0 = off.
//        wihPacked = W_ih [4H,I], whhPacked = W_hh [4H,R] packed as right operands; pack: T·B × ⌈max(I,H)/8⌉·8.
//        With P > 0 also: whrPacked = W_hr [P,H] packed, ms [T,B,H] from the forward, dhp [T,B,P]
//        and scratch [B,2H] as scratch, dwhr [P,H] accumulates.
export function lstm_backward(desc: usize): void {
  const d = layer_desc(desc);
  const b0 = row_begin(d), b1 = row_end(d);
  if (b0 > 0 || b1 < d.B) {
    run_rows(PHASE_LSTM_BACKWARD, desc, b0, b1);
    return;
  }
  run_rows(PHASE_LSTM_BACKWARD | (d.dhnorm ? PHASE_NORMS : 0), desc, 0, d.B);
  if (d.dhnorm) write_norms(d);
  const H = d.H;
  if (d.P > 0) {
    // inverts h_t = m_t·W_hrᵀ for the weight: dW_hr [P,H] += Σ_t δh_tᵀ·m_t, all T·B rows at once
    const TB = d.T * d.B;
    weight_grad_acc(d.P, H, TB, d.dhp, d.P, d.ms, H, d.dwhr, H, d.pack);
  }
  backward_weights(d, 4 * H, d.gates, d.gates); // δA = δR = δpre
}

// BPTT of rows [b0, b1) (own: see gemm_rows; norms: leave the strip sums of ‖∂E/∂h_t‖²).
export function lstm_backward_rows(d: LayerDesc, b0: i32, b1: i32, own: bool, norms: bool): void {
  const T = d.T, B = d.B, H = d.H, P = d.P, R = state_size(d), cs = d.cs, gates = d.gates, dhs = d.dhs, dh = d.dh, dc = d.dc;
  const G = 4 * H, BH = B * H, Hb = <usize>H * 4, Rb = <usize>R * 4;
  // with a projection: δm_t [B,H] and a row of zeros [B,H] for lstm_backward_row's carried δh
  const dm = d.scratch, zeros = d.scratch + <usize>BH * 4;
  if (P > 0) memory.fill(zeros + <usize>b0 * Hb, 0, <usize>(b1 - b0) * Hb);
  for (let t = T - 1; t >= 0; t--) {
    beat(own);
    const gt = gates + <usize>(t * B * G) * 4;
    const dt = dhs + <usize>(t * B * R) * 4;
    const cprev = cs + <usize>(t * BH) * 4, ccur = cprev + <usize>BH * 4;
    const dht = d.dhp + <usize>(t * B * R) * 4; // P > 0 only
    step_begin(d, norms, t, b0, b1, dt, dh);
    for (let b = b0; b < b1; b++) {
      const row = gt + <usize>(b * G) * 4;
      const ro = <usize>b * Hb, rr = <usize>b * Rb;
      const c = row_clip(d, norms, t, b, b1, dt + rr, dh + rr);
      // a padded row, (h_t, c_t) = (h_{t−1}, c_{t−1}), passes ∂E/∂h_t and ∂E/∂c_t straight through
      if (pass_padded(d, t, b, dt + rr, dh + rr, c, row, G)) {
        if (P > 0) memory.fill(dht + rr, 0, Rb);
        continue;
      }
      if (P > 0) keep_clipped(P, dt + rr, dh + rr, c, dht + rr);
      else lstm_backward_row(H, row, cprev + ro, ccur + ro, dt + ro, dh + ro, dc + ro, c);
    }
    if (P > 0) {
      // inverts h_t = m_t·W_hrᵀ: δm_t = δh_t·W_hr (a padded row's δh_t row is 0 here)
      gemm_rows(own, B, H, P, dht, P, 1, d.whrPacked, dm, H, 0, b0, b1);
      for (let b = b0; b < b1; b++) {
        if (is_padded(d.mask, t, B, b)) continue;
        const row = gt + <usize>(b * G) * 4, ro = <usize>b * Hb;
        // δm_t enters where δh_t does without a projection (already clipped: factor 1)
        lstm_backward_row(H, row, cprev + ro, ccur + ro, dm + ro, zeros + ro, dc + ro, 1);
      }
    }
    gemm_rows(own, B, R, G, gt, G, 1, d.whhPacked, dh, R, 1, b0, b1); // ∂E/∂h_{t−1} += δpre_t·W_hh
  }
}

// Shape: one batch row of a projected LSTM: dht [P] ← δh_t = (dt + dh)·c (∂E/∂h_t from above
// plus the carried one, clipped), dh [P] ← 0 (its part is in δh_t now).
function keep_clipped(P: i32, dt: usize, dh: usize, c: f32, dht: usize): void {
  for (let j = 0; j < P; j++) {
    const o = <usize>j * 4;
    store<f32>(dht + o, (load<f32>(dt + o) + load<f32>(dh + o)) * c);
    store<f32>(dh + o, 0);
  }
}

// Shape: one batch row: row [4H] in (i, f, g, o) out δpre; c_{t−1}, c_t, dt (∂E/∂h_t from above)
// [H]; dh [H] in carried ∂E/∂h_t, out 0; dc [H] in ∂E/∂c_t carried, out ∂E/∂c_{t−1};
// c the row's clip factor of ∂E/∂h_t (1: unclipped, bit for bit).
function lstm_backward_row(H: i32, row: usize, cprev: usize, ccur: usize, dt: usize, dh: usize, dc: usize, c: f32): void {
  const Hb = <usize>H * 4;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), zero = f32x4.splat(0), cv = f32x4.splat(c);
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j * 4;
      const ig = v128.load(row + o), fg = v128.load(row + Hb + o);
      const gg = v128.load(row + 2 * Hb + o), og = v128.load(row + 3 * Hb + o);
      const tc = tanh_f32x4(v128.load(ccur + o));
      const gh = f32x4.mul(f32x4.add(v128.load(dt + o), v128.load(dh + o)), cv); // ∂E/∂h_t
      // inverts h_t = o⊙tanh(c_t), plus the carried ∂E/∂c_t
      const gc = f32x4.add(v128.load(dc + o), f32x4.mul(f32x4.mul(gh, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      // inverts c_t = f⊙c_{t−1} + i⊙g and the gate nonlinearities
      v128.store(row + o, f32x4.mul(f32x4.mul(gc, gg), f32x4.mul(ig, f32x4.sub(one, ig))));
      v128.store(row + Hb + o, f32x4.mul(f32x4.mul(gc, v128.load(cprev + o)), f32x4.mul(fg, f32x4.sub(one, fg))));
      v128.store(row + 2 * Hb + o, f32x4.mul(f32x4.mul(gc, ig), f32x4.sub(one, f32x4.mul(gg, gg))));
      v128.store(row + 3 * Hb + o, f32x4.mul(f32x4.mul(gh, tc), f32x4.mul(og, f32x4.sub(one, og))));
      v128.store(dc + o, f32x4.mul(gc, fg));                                   // ∂E/∂c_{t−1}
      v128.store(dh + o, zero);
    }
  }
  for (; j < H; j++) {
    const o = <usize>j * 4;
    const ig = load<f32>(row + o), fg = load<f32>(row + Hb + o);
    const gg = load<f32>(row + 2 * Hb + o), og = load<f32>(row + 3 * Hb + o);
    const tc = tanh_scalar(load<f32>(ccur + o));
    const gh = (load<f32>(dt + o) + load<f32>(dh + o)) * c;
    const gc = load<f32>(dc + o) + (gh * og) * (1 - tc * tc);
    store<f32>(row + o, (gc * gg) * (ig * (1 - ig)));
    store<f32>(row + Hb + o, (gc * load<f32>(cprev + o)) * (fg * (1 - fg)));
    store<f32>(row + 2 * Hb + o, (gc * ig) * (1 - gg * gg));
    store<f32>(row + 3 * Hb + o, (gh * tc) * (og * (1 - og)));
    store<f32>(dc + o, gc * fg);
    store<f32>(dh + o, 0);
  }
}
