// The weight-gradient product C[M,N] += Aᵀ·B, with A [K,M] and B [K,N] row-major over the same
// K = T·B rows (dW += δᵀ·h for every weight matrix: W_hh, W_ih, W_hr and the head's W).
//
// Why not gemm_packed(M, N, K, A, 1, lda, …) on A as it lies: the micro-kernel would read A's
// column i at a stride of lda floats per k, and with lda = 4H (4 KiB at H = 256) every k of a
// KC-deep slice maps to the same L1 sets, which halves the product's speed. So each KC-row block
// of A is first transposed into scratch as Aᵀ [M, kb] (rows of kb contiguous floats), the block
// of B packed into panels behind it, and the block's product accumulated into C. The blocks are
// gemm_packed's own KC slices, so every element of C gets the same sums in the same order: the
// result is bit-identical to the single product.
import { KC, PANEL, packed_size } from "./gemm";
import { gemm_packed, pool_block_prep } from "./pool";

// Floats of scratch weight_grad_acc needs for C[M,N] += Aᵀ·B over K rows: one block's Aᵀ and
// one block's packed B.
export function weight_grad_scratch_size(K: i32, M: i32, N: i32): i32 {
  const kb = min(KC, K);
  return ((kb * M + PANEL - 1) & ~(PANEL - 1)) + packed_size(kb, N);
}

// Shape: C[M,N] += A[K,M]ᵀ·B[K,N]; A row k at a + k·lda·4, B row k at b + k·ldb·4;
// scratch [weight_grad_scratch_size(K, M, N)] floats, overwritten.
export function weight_grad_acc(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, scratch: usize,
): void {
  const kbMax = min(KC, K);
  const at = scratch;
  const bp = scratch + <usize>((kbMax * M + PANEL - 1) & ~(PANEL - 1)) * 4;
  for (let kc = 0; kc < K; kc += KC) {
    const kb = min(KC, K - kc);
    pool_block_prep(kb, M, a + <usize>kc * <usize>lda * 4, lda, at, N, b + <usize>kc * <usize>ldb * 4, ldb, bp);
    gemm_packed(M, N, kb, at, kb, 1, bp, c, ldc, 1);
  }
}

// Shape: rows [i0, i1) of dst [M, kb] (row i = column i of the block) ← src [kb, M] rows at a
// stride of ld floats; i0 a multiple of 4 (the pool transposes runs of rows on several threads).
export function transpose_part(kb: i32, src: usize, ld: i32, dst: usize, i0: i32, i1: i32): void {
  const sRow = <usize>ld * 4, dRow = <usize>kb * 4;
  let i = i0;
  if (ASC_FEATURE_SIMD) {
    const k4 = kb & ~3;
    for (; i + 4 <= i1; i += 4) {
      for (let k = 0; k < k4; k += 4) {
        // 4×4 tile: rows k..k+3 of src, columns i..i+3 → rows i..i+3 of dst, columns k..k+3
        const s = src + <usize>k * sRow + <usize>i * 4;
        const v0 = v128.load(s), v1 = v128.load(s + sRow), v2 = v128.load(s + 2 * sRow), v3 = v128.load(s + 3 * sRow);
        const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
        const d = dst + <usize>i * dRow + <usize>k * 4;
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(d + dRow, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
        v128.store(d + 2 * dRow, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
        v128.store(d + 3 * dRow, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
      }
      for (let k = k4; k < kb; k++) {
        for (let r = 0; r < 4; r++) {
          store<f32>(dst + <usize>(i + r) * dRow + <usize>k * 4, load<f32>(src + <usize>k * sRow + <usize>(i + r) * 4));
        }
      }
    }
  }
  for (; i < i1; i++) {
    for (let k = 0; k < kb; k++) store<f32>(dst + <usize>i * dRow + <usize>k * 4, load<f32>(src + <usize>k * sRow + <usize>i * 4));
  }
}
