// Linear output head y = h·Wᵀ + b over R rows of the top layer's hidden states.
import { gemm_nn, gemm_tn, fill_rows, col_sums_acc } from "./gemm";

// Shape: h [R,H], wT [H,O] (packed Wᵀ), b [O] → y [R,O]
export function head_forward(R: i32, H: i32, O: i32, h: usize, wT: usize, b: usize, y: usize): void {
  fill_rows(R, O, y, b);
  gemm_nn(R, O, H, h, H, wT, O, y, O, 1);
}

// Inverts y = h·Wᵀ + b given dy [R,O]:  dW [O,H] += dyᵀ·h;  db [O] += Σ_rows dy;  dh [R,H] = dy·W
export function head_backward(
  R: i32, H: i32, O: i32, h: usize, w: usize, dy: usize, dw: usize, db: usize, dh: usize,
): void {
  gemm_tn(O, H, R, dy, O, h, H, dw, H, 1);
  col_sums_acc(R, O, dy, db);
  gemm_nn(R, H, O, dy, O, w, H, dh, H, 0);
}
