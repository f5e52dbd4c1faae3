// The weight-gradient product C[M,N] += Aᵀ·B, with A [K,M] and B [K,N] row-major over the same
// K = T·B rows (dW += δᵀ·h for every weight matrix: W_hh, W_ih, W_hr and the head's W).
//
// Why not gemm_packed(M, N, K, A, 1, lda, …) on A as it lies: the micro-kernel would read A's
// column i at a stride of lda floats per k, and with lda = 4H (4 KiB at H = 256) every k of a
// KC-deep slice maps to the same L1 sets, which halves the product's speed. So each KC-row block
// of A is transposed into scratch as Aᵀ [M, kb] (rows of KC floats apart), every block of B is
// packed into panels behind it, and the blocks' products are accumulated into C in block order.
// The blocks are gemm_packed's own KC slices, so every element of C gets the same sums in the
// same order: the result is bit-identical to the single product.
//
// Rows of C are independent, and a run of them needs only its own rows of each Aᵀ block: the
// pool (weight_grad_rows) gives each thread runs of C's rows, for which it transposes its rows of
// every block and accumulates every block's product, after one job that packs all of B. Two jobs
// per weight gradient, whatever K, with the same bits as one thread.
import { KC, PANEL, packed_size, gemm_packed_part, pack_panels_part } from "./gemm";
import { pool_pack_blocks, pool_weight_grad_rows } from "./pool";

// Floats of Aᵀ for one block (rounded to whole panels, so the packed blocks behind it stay aligned).
// @ts-ignore: decorator
@inline function at_size(K: i32, M: i32): i32 {
  return (min(KC, K) * M + PANEL - 1) & ~(PANEL - 1);
}

// Floats of scratch weight_grad_acc needs for C[M,N] += Aᵀ·B over K rows: one block's Aᵀ and
// every block of B packed.
export function weight_grad_scratch_size(K: i32, M: i32, N: i32): i32 {
  const blocks = (K + KC - 1) / KC;
  return at_size(K, M) + blocks * packed_size(min(KC, K), N);
}

// Shape: C[M,N] += A[K,M]ᵀ·B[K,N]; A row k at a + k·lda·4, B row k at b + k·ldb·4;
// scratch [weight_grad_scratch_size(K, M, N)] floats, overwritten.
export function weight_grad_acc(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, scratch: usize,
): void {
  if (K <= 0) return;
  const bp = scratch + <usize>at_size(K, M) * 4;
  pool_pack_blocks(K, N, b, ldb, bp);
  pool_weight_grad_rows(M, N, K, a, lda, bp, c, ldc, scratch);
}

// Every KC-row block of B [K, N] (rows ldb floats apart) packed in panels, block after block,
// each in a slot of packed_size(min(KC, K), N) floats at bp: units [u0, u1) of the blocks' panels
// (unit u = panel u % panels of block u / panels; the pool packs runs of units on several threads).
export function pack_blocks_part(K: i32, N: i32, b: usize, ldb: i32, bp: usize, u0: i32, u1: i32): void {
  const panels = (N + 7) >> 3, slot = <usize>packed_size(min(KC, K), N) * 4;
  for (let u = u0; u < u1; u++) {
    const blk = u / panels, p = u % panels, kc = blk * KC;
    pack_panels_block(min(KC, K - kc), N, b + <usize>kc * <usize>ldb * 4, ldb, bp + <usize>blk * slot, p);
  }
}

// Panel p of one block of B (pack_panels_part for one panel).
// @ts-ignore: decorator
@inline function pack_panels_block(kb: i32, N: i32, b: usize, ldb: i32, dst: usize, p: i32): void {
  pack_panels_part(kb, N, b, ldb, 1, dst, p, p + 1);
}

// Rows [m0, m1) of C (multiples of 4 apart from M): for every block in order, those rows of Aᵀ
// transposed into at (row i at at + i·min(KC, K)·4 for every block, the last one included: the
// rows of different runs never overlap, whichever block each run is at) and the block's product
// on those rows.
export function weight_grad_rows_part(
  M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, c: usize, ldc: i32, at: usize, m0: i32, m1: i32,
): void {
  const ld = min(KC, K), slot = <usize>packed_size(ld, N) * 4;
  for (let kc = 0, blk = 0; kc < K; kc += KC, blk++) {
    const kb = min(KC, K - kc);
    transpose_part(kb, a + <usize>kc * <usize>lda * 4, lda, at, ld, m0, m1);
    gemm_packed_part(M, N, kb, at, ld, 1, bp + <usize>blk * slot, c, ldc, 1, m0, m1, 0, N);
  }
}

// Shape: rows [i0, i1) of dst [M, kb] (row i = column i of the block, rows dld floats apart) ←
// src [kb, M] rows at a stride of ld floats; i0 a multiple of 4.
function transpose_part(kb: i32, src: usize, ld: i32, dst: usize, dld: i32, i0: i32, i1: i32): void {
  const sRow = <usize>ld * 4, dRow = <usize>dld * 4;
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
