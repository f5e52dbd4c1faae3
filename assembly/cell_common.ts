// The parts every cell shares: the input side of the unroll, done for all T steps at once.
import { gemm_nn, gemm_tn, fill_rows, fill_rows2, col_sums_acc } from "./gemm";

// flags passed to every cell kernel
export const FLAG_TOKENS: i32 = 1; // x holds class ids [T,B] (as f32) instead of dense rows [T,B,I]
export const FLAG_RELU: i32 = 2;   // RNN only: relu instead of tanh

// Shape: out[TB, GH] = X[TB, I]·W_ihᵀ + b1 (+ b2), W_ihᵀ packed as wihT [I, GH].
// Token input reads row `id` of wihT: the one-hot product without the one-hot matrix.
export function input_projection(
  TB: i32, I: i32, GH: i32, x: usize, flags: i32, wihT: usize, b1: usize, b2: usize, out: usize,
): void {
  if (b2) fill_rows2(TB, GH, out, b1, b2);
  else fill_rows(TB, GH, out, b1);
  if (flags & FLAG_TOKENS) {
    const rowBytes = <usize>GH * 4;
    for (let r = 0; r < TB; r++) {
      const id = <i32>load<f32>(x + <usize>r * 4);
      const src = wihT + <usize>id * rowBytes;
      const dst = out + <usize>r * rowBytes;
      let j = 0;
      if (ASC_FEATURE_SIMD) {
        for (; j + 4 <= GH; j += 4) {
          const o = <usize>j * 4;
          v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
        }
      }
      for (; j < GH; j++) store<f32>(dst + <usize>j * 4, load<f32>(dst + <usize>j * 4) + load<f32>(src + <usize>j * 4));
    }
  } else {
    gemm_nn(TB, GH, I, x, I, wihT, GH, out, GH, 1);
  }
}

// Inverts input_projection given δA[TB, GH] = ∂E/∂(pre-activations, input side):
//   dW_ih[GH, I] += δAᵀ·X;  db_ih[GH] += Σ_rows δA;  dx[TB, I] = δA·W_ih (skipped when dx = 0)
export function input_backward(
  TB: i32, I: i32, GH: i32, x: usize, flags: i32, wih: usize, dA: usize, dwih: usize, dbih: usize, dx: usize,
): void {
  col_sums_acc(TB, GH, dA, dbih);
  if (flags & FLAG_TOKENS) {
    // one-hot: column `id` of dW_ih receives the row of δA
    for (let r = 0; r < TB; r++) {
      const id = <i32>load<f32>(x + <usize>r * 4);
      const drow = dA + <usize>(r * GH) * 4;
      for (let g = 0; g < GH; g++) {
        const p = dwih + <usize>(g * I + id) * 4;
        store<f32>(p, load<f32>(p) + load<f32>(drow + <usize>g * 4));
      }
    }
  } else {
    gemm_tn(GH, I, TB, dA, GH, x, I, dwih, I, 1);
  }
  if (dx) gemm_nn(TB, I, GH, dA, GH, wih, I, dx, I, 0);
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
