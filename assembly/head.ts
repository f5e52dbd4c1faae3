// Linear output head y = h·Wᵀ + b over R rows of the top layer's hidden states (docs/equations.md#head).
import { fill_rows } from "./gemm";
import { gemm_packed, pool_col_sums_acc } from "./pool";
import { weight_grad_acc } from "./weight_grad";

// Shape: h [R,H], wTransposedPacked = Wᵀ [H,O] packed, b [O] → y [R,O]
export function head_forward(R: i32, H: i32, O: i32, h: usize, wTransposedPacked: usize, b: usize, y: usize): void {
  fill_rows(R, O, y, b);
  gemm_packed(R, O, H, h, H, 1, wTransposedPacked, y, O, 1);
}

// Inverts y = h·Wᵀ + b given dy [R,O]:  dW [O,H] += dyᵀ·h;  db [O] += Σ_rows dy;  dh [R,H] = dy·W
// (dh is overwritten; dW and db accumulate). wPacked = W [O,H] packed as a right operand;
// pack: scratch of weight_grad_scratch_size(R, O, H) floats.
export function head_backward(
  R: i32, H: i32, O: i32, h: usize, wPacked: usize, dy: usize, dw: usize, db: usize, dh: usize, pack: usize,
): void {
  weight_grad_acc(O, H, R, dy, O, h, H, dw, H, pack);
  pool_col_sums_acc(R, O, dy, db);
  gemm_packed(R, H, O, dy, O, 1, wPacked, dh, H, 0);
}
