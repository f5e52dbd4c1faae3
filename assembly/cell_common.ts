// The parts every cell shares: the input side of the unroll, done for all T steps at once.
import { fill_rows, fill_rows2 } from "./gemm";
import { gemm_packed, gemm_rows, pool_col_sums_acc, pool_scatter_tokens } from "./pool";
import { weight_grad_acc } from "./weight_grad";
import { id_ok, refuse_id } from "./status";
import { LayerDesc, state_size } from "./layer_desc";

// flags passed to every cell kernel
export const FLAG_TOKENS: i32 = 1; // x holds class ids [T,B] (as f32) instead of dense rows [T,B,I]
export const FLAG_RELU: i32 = 2;   // RNN only: relu instead of tanh

// The id of row r of ids x, or −1 (counted as refused) when it is not an integer in [0, I):
// a refused id would gather from, or scatter into, memory beyond W_ih.
// @ts-ignore: decorator
@inline function token_id(x: usize, r: i32, I: i32): i32 {
  const v = load<f32>(x + <usize>r * 4);
  if (!id_ok(v, I)) { refuse_id(); return -1; }
  return <i32>v;
}

// dst[GH] += row `id` of a packed right operand Bp [I, GH]: in panel p the row's 8 floats are
// contiguous (the one-hot product x·W_ihᵀ without the one-hot matrix).
function add_packed_row(bp: usize, I: i32, GH: i32, id: i32, dst: usize): void {
  const NP = (GH + 7) >> 3;
  for (let p = 0; p < NP; p++) {
    const src = bp + <usize>(p * I + id) * 32;
    const dp = dst + <usize>p * 32;
    const w = min(8, GH - p * 8);
    if (ASC_FEATURE_SIMD && w == 8) {
      v128.store(dp, f32x4.add(v128.load(dp), v128.load(src)));
      v128.store(dp, f32x4.add(v128.load(dp, 16), v128.load(src, 16)), 16);
    } else {
      for (let j = 0; j < w; j++) store<f32>(dp + <usize>j * 4, load<f32>(dp + <usize>j * 4) + load<f32>(src + <usize>j * 4));
    }
  }
}

// Rows [g0, g1) of the token scatter dW_ih[GH, I] += δAᵀ·onehot(x): for every row r of the T·B
// ids in row order, column id_r of those rows += δA[r, g0..g1). Each element of dW_ih gets its
// additions in row order whatever the cut of [0, GH), so the pool can give each thread its own
// run of rows with the same bits. A refused id is skipped, and counted by the run that starts
// at row 0 only (once per id, as in one run).
export function scatter_tokens_part(GH: i32, I: i32, TB: i32, x: usize, dA: usize, dwih: usize, g0: i32, g1: i32): void {
  for (let r = 0; r < TB; r++) {
    const v = load<f32>(x + <usize>r * 4);
    if (!id_ok(v, I)) {
      if (g0 == 0) refuse_id();
      continue;
    }
    const col = dwih + <usize>(<i32>v) * 4, src = dA + <usize>(r * GH) * 4;
    for (let g = g0; g < g1; g++) {
      const p = col + <usize>(g * I) * 4;
      store<f32>(p, load<f32>(p) + load<f32>(src + <usize>g * 4));
    }
  }
}

// Shape: out[TB, GH] = X[TB, I]·W_ihᵀ + b_ih (+ b2), W_ihᵀ [I, GH] packed in panels
// (d.wihTransposedPacked), TB = T·B; for batch rows [b0, b1) of every step only (own: as in
// gemm_rows). The whole batch is one product over all T·B rows.
// Token input gathers row `id` of W_ihᵀ: the one-hot product without the one-hot matrix. A
// refused id's row keeps the biases alone.
export function input_projection(d: LayerDesc, GH: i32, b2: usize, out: usize, b0: i32, b1: i32, own: bool): void {
  const B = d.B, TB = d.T * B;
  if (b0 == 0 && b1 == B) project_rows(d, GH, b2, out, 0, TB, own);
  else for (let t = 0; t < d.T; t++) project_rows(d, GH, b2, out, t * B + b0, t * B + b1, own);
}

// Rows [r0, r1) of the T·B rows of input_projection.
function project_rows(d: LayerDesc, GH: i32, b2: usize, out: usize, r0: i32, r1: i32, own: bool): void {
  const I = d.I, x = d.x, wihTransposedPacked = d.wihTransposedPacked;
  const first = out + <usize>(r0 * GH) * 4;
  if (b2) fill_rows2(r1 - r0, GH, first, d.bih, b2);
  else fill_rows(r1 - r0, GH, first, d.bih);
  if (d.flags & FLAG_TOKENS) {
    for (let r = r0; r < r1; r++) {
      const id = token_id(x, r, I);
      if (id >= 0) add_packed_row(wihTransposedPacked, I, GH, id, out + <usize>(r * GH) * 4);
    }
  } else {
    gemm_rows(own, d.T * d.B, GH, I, x, I, 1, wihTransposedPacked, out, GH, 1, r0, r1);
  }
}

// Inverts input_projection given δA[TB, GH] = ∂E/∂(pre-activations, input side):
//   dW_ih[GH, I] += δAᵀ·X;  db_ih[GH] += Σ_rows δA;  dx[TB, I] = δA·W_ih (skipped when d.dx = 0)
// d.wihPacked is W_ih [GH, I] packed as a right operand; d.pack is scratch of
// weight_grad_scratch_size(TB, GH, I) floats. sums: false when the caller has added Σ δA to
// db_ih already.
export function input_backward(d: LayerDesc, GH: i32, dA: usize, sums: bool): void {
  const TB = d.T * d.B, I = d.I, x = d.x, dwih = d.dwih;
  if (sums) pool_col_sums_acc(TB, GH, dA, d.dbih);
  if (d.flags & FLAG_TOKENS) {
    // one-hot: column `id` of dW_ih receives the row of δA
    pool_scatter_tokens(GH, I, TB, x, dA, dwih);
  } else {
    weight_grad_acc(GH, I, TB, dA, GH, x, I, dwih, I, d.pack);
  }
  if (d.dx) gemm_packed(TB, I, GH, dA, GH, 1, d.wihPacked, d.dx, I, 0);
}

// After the time loop, every cell's weight gradients from its δ rows over all T·B rows at once
// (weights are shared across steps): dW_hh += δRᵀ·h_{t−1} (hs holds h_0 … h_{T−1} first: one
// product), db_hh += Σ δR, then input_backward for dW_ih, db_ih and dx from δA. δA and δR are
// the same rows where the cell's pre-activation sums both sides (RNN, LSTM); they differ in the
// GRU (δR_n = δn⊙r).
export function backward_weights(d: LayerDesc, GH: i32, dA: usize, dR: usize): void {
  const TB = d.T * d.B, R = state_size(d); // h has R values (P with an LSTM projection, else H)
  weight_grad_acc(GH, R, TB, dR, GH, d.hs, R, d.dwhh, R, d.pack);
  // δA = δR: db_hh and db_ih from one pass over the rows
  const same = dA == dR;
  pool_col_sums_acc(TB, GH, dR, d.dbhh, same ? d.dbih : 0);
  input_backward(d, GH, dA, !same);
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
