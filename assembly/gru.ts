// GRU (PyTorch gate order r | z | n; forward and BPTT: docs/equations.md#gru-forward):
//   r = σ(a_r + h·W_hrᵀ + b_hr);  z = σ(a_z + h·W_hzᵀ + b_hz);  rn = h·W_hnᵀ + b_hn
//   n = tanh(a_n + r⊙rn);  h_t = (1 − z)⊙n + z⊙h_{t−1}     (a = x_t·W_ihᵀ + b_ih)
import { fill_rows } from "./gemm";
import { beat, gemm_rows, run_rows } from "./pool";
import { sigmoid_scalar, tanh_scalar, sigmoid_f32x4, tanh_f32x4 } from "./activations";
import { input_projection, backward_weights, is_padded } from "./cell_common";
import { pass_padded, row_clip, step_begin, write_norms } from "./hidden_clip";
import { LayerDesc, layer_desc, row_begin, row_end } from "./layer_desc";
import { PHASE_GRU_FORWARD, PHASE_GRU_BACKWARD, PHASE_NORMS } from "./phases";

// desc: a LayerDesc (assembly/layer_desc.ts): gates [T,B,3H] (r, z, n on exit), rn [T,B,H],
//       hs [T+1,B,H] (hs[0] = h0 on entry), wihTransposedPacked = W_ihᵀ [I,3H] and
//       whhTransposedPacked = W_hhᵀ [H,3H] packed, bih/bhh [3H], mask [T,B] or 0, scratch [B,3H].
export function gru_forward(desc: usize): void {
  const d = layer_desc(desc);
  run_rows(PHASE_GRU_FORWARD, desc, row_begin(d), row_end(d));
}

// The forward of rows [b0, b1) (own: see gemm_rows).
export function gru_forward_rows(d: LayerDesc, b0: i32, b1: i32, own: bool): void {
  const T = d.T, B = d.B, H = d.H, mask = d.mask, hs = d.hs, gates = d.gates, rn = d.rn, scratch = d.scratch;
  const G = 3 * H, BH = B * H, Hb = <usize>H * 4, Gb = <usize>G * 4;
  // only b_ih joins the input side: b_hn sits inside r⊙(h·W_hnᵀ + b_hn)
  input_projection(d, G, 0, gates, b0, b1, own);
  for (let t = 0; t < T; t++) {
    beat(own);
    const gt = gates + <usize>(t * B) * Gb;
    const hprev = hs + <usize>(t * BH) * 4, hcur = hprev + <usize>BH * 4;
    const rnt = rn + <usize>(t * BH) * 4;
    fill_rows(b1 - b0, G, scratch + <usize>b0 * Gb, d.bhh);
    gemm_rows(own, B, G, H, hprev, H, 1, d.whhTransposedPacked, scratch, G, 1, b0, b1); // R = h_{t−1}·W_hhᵀ + b_hh
    for (let b = b0; b < b1; b++) {
      const ro = <usize>b * Hb;
      if (is_padded(mask, t, B, b)) {
        memory.copy(hcur + ro, hprev + ro, Hb);
        continue;
      }
      gru_row(H, gt + <usize>b * Gb, scratch + <usize>b * Gb, hprev + ro, hcur + ro, rnt + ro);
    }
  }
}

// Shape: one batch row: a [3H] (input side, becomes r,z,n), R [3H], h_{t−1} [H] → h_t [H], rn [H]
function gru_row(H: i32, a: usize, R: usize, hprev: usize, hcur: usize, rn: usize): void {
  const Hb = <usize>H * 4;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j * 4;
      const r = sigmoid_f32x4(f32x4.add(v128.load(a + o), v128.load(R + o)));
      const z = sigmoid_f32x4(f32x4.add(v128.load(a + Hb + o), v128.load(R + Hb + o)));
      const rnv = v128.load(R + 2 * Hb + o);
      const n = tanh_f32x4(f32x4.add(v128.load(a + 2 * Hb + o), f32x4.mul(r, rnv)));
      const hp = v128.load(hprev + o);
      v128.store(a + o, r); v128.store(a + Hb + o, z); v128.store(a + 2 * Hb + o, n);
      v128.store(rn + o, rnv);
      v128.store(hcur + o, f32x4.add(n, f32x4.mul(z, f32x4.sub(hp, n)))); // (1−z)⊙n + z⊙h
    }
  }
  for (; j < H; j++) {
    const o = <usize>j * 4;
    const r = sigmoid_scalar(load<f32>(a + o) + load<f32>(R + o));
    const z = sigmoid_scalar(load<f32>(a + Hb + o) + load<f32>(R + Hb + o));
    const rnv = load<f32>(R + 2 * Hb + o);
    const n = tanh_scalar(load<f32>(a + 2 * Hb + o) + r * rnv);
    const hp = load<f32>(hprev + o);
    store<f32>(a + o, r); store<f32>(a + Hb + o, z); store<f32>(a + 2 * Hb + o, n);
    store<f32>(rn + o, rnv);
    store<f32>(hcur + o, n + z * (hp - n));
  }
}

// desc: a LayerDesc read as by gru_forward, plus:
//        gates [T,B,3H]: in, (r, z, n); out, δA = ∂E/∂(input-side pre-activations).
//        dR [T,B,3H]: out, ∂E/∂R (differs from δA in the n block: δR_n = δA_n ⊙ r).
//        dhs [T,B,H] in (unchanged); dh [B,H] in ∂E/∂h_T, out ∂E/∂h_0.
//        clipHiddenNorm θ > 0: each row's ∂E/∂h_t is scaled to norm ≤ θ before it is used; 0 = off.
//        wihPacked = W_ih [3H,I], whhPacked = W_hh [3H,H] packed as right operands; pack: T·B × ⌈max(I,H)/8⌉·8.
export function gru_backward(desc: usize): void {
  const d = layer_desc(desc);
  const b0 = row_begin(d), b1 = row_end(d);
  if (b0 > 0 || b1 < d.B) {
    run_rows(PHASE_GRU_BACKWARD, desc, b0, b1);
    return;
  }
  run_rows(PHASE_GRU_BACKWARD | (d.dhnorm ? PHASE_NORMS : 0), desc, 0, d.B);
  if (d.dhnorm) write_norms(d);
  backward_weights(d, 3 * d.H, d.gates, d.dR);
}

// BPTT of rows [b0, b1) (own: see gemm_rows; norms: leave the strip sums of ‖∂E/∂h_t‖²).
export function gru_backward_rows(d: LayerDesc, b0: i32, b1: i32, own: bool, norms: bool): void {
  const T = d.T, B = d.B, H = d.H, hs = d.hs, gates = d.gates, rn = d.rn, dhs = d.dhs, dR = d.dR, dh = d.dh;
  const G = 3 * H, BH = B * H, Hb = <usize>H * 4;
  for (let t = T - 1; t >= 0; t--) {
    beat(own);
    const gt = gates + <usize>(t * B * G) * 4;
    const rt = dR + <usize>(t * B * G) * 4;
    const dt = dhs + <usize>(t * BH) * 4;
    const hprev = hs + <usize>(t * BH) * 4;
    const rnt = rn + <usize>(t * BH) * 4;
    step_begin(d, norms, t, b0, b1, dt, dh);
    for (let b = b0; b < b1; b++) {
      const row = gt + <usize>(b * G) * 4;
      const rrow = rt + <usize>(b * G) * 4;
      const ro = <usize>b * Hb;
      const c = row_clip(d, norms, t, b, b1, dt + ro, dh + ro);
      if (pass_padded(d, t, b, dt + ro, dh + ro, c, row, G)) {
        memory.fill(rrow, 0, <usize>G * 4);
        continue;
      }
      gru_backward_row(H, row, rrow, hprev + ro, rnt + ro, dt + ro, dh + ro, c);
    }
    gemm_rows(own, B, H, G, rt, G, 1, d.whhPacked, dh, H, 1, b0, b1); // ∂E/∂h_{t−1} += δR_t·W_hh
  }
}

// Shape: one batch row: row [3H] in (r, z, n) out δA; rrow [3H] out δR; h_{t−1}, rn, dt [H];
// dh [H] in carried ∂E/∂h_t, out the z⊙h_{t−1} path's ∂E/∂h_{t−1}; c the row's clip factor of
// ∂E/∂h_t (1: unclipped, bit for bit).
// Inverts h_t = (1 − z)⊙n + z⊙h_{t−1}, n = tanh(a_n + r⊙rn), r, z = σ(·).
function gru_backward_row(H: i32, row: usize, rrow: usize, hprev: usize, rn: usize, dt: usize, dh: usize, c: f32): void {
  const Hb = <usize>H * 4;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), cv = f32x4.splat(c);
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j * 4;
      const r = v128.load(row + o), z = v128.load(row + Hb + o), n = v128.load(row + 2 * Hb + o);
      const gh = f32x4.mul(f32x4.add(v128.load(dt + o), v128.load(dh + o)), cv);
      const dn = f32x4.mul(f32x4.mul(gh, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      const dz = f32x4.mul(f32x4.mul(gh, f32x4.sub(v128.load(hprev + o), n)), f32x4.mul(z, f32x4.sub(one, z)));
      const dr = f32x4.mul(f32x4.mul(dn, v128.load(rn + o)), f32x4.mul(r, f32x4.sub(one, r)));
      v128.store(row + o, dr); v128.store(row + Hb + o, dz); v128.store(row + 2 * Hb + o, dn);
      v128.store(rrow + o, dr); v128.store(rrow + Hb + o, dz); v128.store(rrow + 2 * Hb + o, f32x4.mul(dn, r));
      v128.store(dh + o, f32x4.mul(gh, z));
    }
  }
  for (; j < H; j++) {
    const o = <usize>j * 4;
    const r = load<f32>(row + o), z = load<f32>(row + Hb + o), n = load<f32>(row + 2 * Hb + o);
    const gh = (load<f32>(dt + o) + load<f32>(dh + o)) * c;
    const dn = (gh * (1 - z)) * (1 - n * n);
    const dz = (gh * (load<f32>(hprev + o) - n)) * (z * (1 - z));
    const dr = (dn * load<f32>(rn + o)) * (r * (1 - r));
    store<f32>(row + o, dr); store<f32>(row + Hb + o, dz); store<f32>(row + 2 * Hb + o, dn);
    store<f32>(rrow + o, dr); store<f32>(rrow + Hb + o, dz); store<f32>(rrow + 2 * Hb + o, dn * r);
    store<f32>(dh + o, gh * z);
  }
}
