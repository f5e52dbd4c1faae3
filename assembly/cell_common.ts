// The parts every cell shares: the input side of the unroll, done for all T steps at once.
import { pack_panels, fill_rows, fill_rows2, col_sums_acc } from "./gemm";
import { gemm_packed } from "./pool";
import { id_ok, refuse_id } from "./status";

// flags passed to every cell kernel
export const FLAG_TOKENS: i32 = 1; // x holds class ids [T,B] (as f32) instead of dense rows [T,B,I]
export const FLAG_RELU: i32 = 2;   // RNN only: relu instead of tanh

// Shape: out[TB, GH] = X[TB, I]·W_ihᵀ + b1 (+ b2), W_ihᵀ [I, GH] packed in panels
// (wihTransposedPacked).
// Token input gathers row `id` of W_ihᵀ: the one-hot product without the one-hot matrix. An id
// outside [0, I) would gather from beyond W_ihᵀ: its row keeps the biases alone and is counted.
export function input_projection(
  TB: i32, I: i32, GH: i32, x: usize, flags: i32, wihTransposedPacked: usize, b1: usize, b2: usize,
  out: usize,
): void {
  if (b2) fill_rows2(TB, GH, out, b1, b2);
  else fill_rows(TB, GH, out, b1);
  if (flags & FLAG_TOKENS) {
    const NP = (GH + 7) >> 3;
    for (let r = 0; r < TB; r++) {
      const v = load<f32>(x + <usize>r * 4);
      if (!id_ok(v, I)) { refuse_id(); continue; }
      const id = <i32>v;
      const dst = out + <usize>(r * GH) * 4;
      for (let p = 0; p < NP; p++) {
        // row `id` of panel p: 8 contiguous floats
        const src = wihTransposedPacked + <usize>(p * I + id) * 32;
        const d = dst + <usize>p * 32;
        const w = min(8, GH - p * 8);
        if (ASC_FEATURE_SIMD && w == 8) {
          v128.store(d, f32x4.add(v128.load(d), v128.load(src)));
          v128.store(d, f32x4.add(v128.load(d, 16), v128.load(src, 16)), 16);
        } else {
          for (let j = 0; j < w; j++) store<f32>(d + <usize>j * 4, load<f32>(d + <usize>j * 4) + load<f32>(src + <usize>j * 4));
        }
      }
    }
  } else {
    gemm_packed(TB, GH, I, x, I, 1, wihTransposedPacked, out, GH, 1);
  }
}

// Inverts input_projection given δA[TB, GH] = ∂E/∂(pre-activations, input side):
//   dW_ih[GH, I] += δAᵀ·X;  db_ih[GH] += Σ_rows δA;  dx[TB, I] = δA·W_ih (skipped when dx = 0)
// wihPacked is W_ih [GH, I] packed as a right operand; pack is scratch for TB × ⌈I/8⌉·8 floats.
export function input_backward(
  TB: i32, I: i32, GH: i32, x: usize, flags: i32, wihPacked: usize, dA: usize, dwih: usize, dbih: usize, dx: usize, pack: usize,
): void {
  col_sums_acc(TB, GH, dA, dbih);
  if (flags & FLAG_TOKENS) {
    // one-hot: column `id` of dW_ih receives the row of δA (a refused id would write beyond it)
    for (let r = 0; r < TB; r++) {
      const v = load<f32>(x + <usize>r * 4);
      if (!id_ok(v, I)) { refuse_id(); continue; }
      const id = <i32>v;
      const drow = dA + <usize>(r * GH) * 4;
      for (let g = 0; g < GH; g++) {
        const p = dwih + <usize>(g * I + id) * 4;
        store<f32>(p, load<f32>(p) + load<f32>(drow + <usize>g * 4));
      }
    }
  } else {
    pack_panels(TB, I, x, I, 1, pack);
    gemm_packed(GH, I, TB, dA, 1, GH, pack, dwih, I, 1);
  }
  if (dx) gemm_packed(TB, I, GH, dA, GH, 1, wihPacked, dx, I, 0);
}

// dW_hh[GH, H] += δRᵀ·h_{t−1} over all TB rows (hs holds h_0 … h_{T−1} first): one product.
export function recurrent_weight_grad(TB: i32, H: i32, GH: i32, dR: usize, hs: usize, dwhh: usize, pack: usize): void {
  pack_panels(TB, H, hs, H, 1, pack);
  gemm_packed(GH, H, TB, dR, 1, GH, pack, dwhh, H, 1);
}

// After the time loop, every cell's weight gradients from its δ rows over all TB rows at once
// (weights are shared across steps): dW_hh += δRᵀ·h_{t−1}, db_hh += Σ δR, then input_backward
// for dW_ih, db_ih and dx from δA. δA and δR are the same rows where the cell's pre-activation
// sums both sides (RNN, LSTM); they differ in the GRU (δR_n = δn⊙r).
// @ts-ignore: decorator
@inline export function backward_weights(
  TB: i32, I: i32, H: i32, GH: i32, x: usize, flags: i32, wihPacked: usize, hs: usize, dA: usize, dR: usize,
  dwih: usize, dwhh: usize, dbih: usize, dbhh: usize, dx: usize, pack: usize,
): void {
  recurrent_weight_grad(TB, H, GH, dR, hs, dwhh, pack);
  col_sums_acc(TB, GH, dR, dbhh);
  input_backward(TB, I, GH, x, flags, wihPacked, dA, dwih, dbih, dx, pack);
}

// @ts-ignore: decorator
@inline export function is_padded(mask: usize, t: i32, B: i32, b: i32): bool {
  return mask != 0 && load<f32>(mask + <usize>(t * B + b) * 4) == 0;
}

// Σ (a + b)² over n floats, in f64: ‖∂E/∂h_t‖² for the gradient-flow diagnostics
// (a = ∂E/∂h_t from above, b = the carried ∂E/∂h_t from step t+1).
export function sumsq_of_sum(n: i32, a: usize, b: usize): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const g = <f64>(load<f32>(a + <usize>i * 4) + load<f32>(b + <usize>i * 4));
    total += g * g;
  }
  return total;
}

// A padded row passes its gradient straight through: dh ← dh + d (h_t = h_{t−1}).
export function pass_through(n: i32, d: usize, dh: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i * 4;
    store<f32>(dh + o, load<f32>(dh + o) + load<f32>(d + o));
  }
}
