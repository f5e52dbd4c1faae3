// The plain strided products, C[M,N] (+)= op(A)[M,K]·op(B)[K,N] on unpacked row-major operands
// with row strides lda/ldb/ldc (elements); `acc` = 1 accumulates into C, 0 overwrites it:
//   nn: C = A·B     A stored [M,K], B stored [K,N]
//   tn: C = Aᵀ·B    A stored [K,M], B stored [K,N]
//   nt: C = A·Bᵀ    A stored [M,K], B stored [N,K]
// The library runs every product on packed panels (gemm.ts, pool.ts); these are kept for the
// bench build only, as the baseline bench/gemm.ts measures the packed product against.
// nn and tn share one register-blocked micro-kernel over B rows: per k, one scalar of A per row
// is broadcast and multiplied into 8 contiguous columns of B; only the addressing of A differs.
// Each f32x4 kernel has a scalar twin with the same signature (the tests' oracle).
import { madd, KC } from "./gemm";

// ---------------------------------------------------------------------------------------------
// Scalar twins

// Shape: C[M,N] (+)= a(i,k)·B[K,N], a(i,k) at A + (i*sai + k*sak)*4
function gemm_strided_scalar(
  M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  for (let i = 0; i < M; i++) {
    const crow = c + <usize>(i * ldc) * 4;
    for (let j = 0; j < N; j++) {
      let s: f32 = acc ? load<f32>(crow + <usize>j * 4) : 0;
      for (let k = 0; k < K; k++) {
        s += load<f32>(a + <usize>(i * sai + k * sak) * 4) * load<f32>(b + <usize>(k * ldb + j) * 4);
      }
      store<f32>(crow + <usize>j * 4, s);
    }
  }
}

export function gemm_nn_scalar(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  gemm_strided_scalar(M, N, K, a, lda, 1, b, ldb, c, ldc, acc);
}

export function gemm_tn_scalar(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  gemm_strided_scalar(M, N, K, a, 1, lda, b, ldb, c, ldc, acc);
}

// Shape: C[M,N] (+)= A[M,K] · B[N,K]ᵀ
export function gemm_nt_scalar(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  for (let i = 0; i < M; i++) {
    const arow = a + <usize>(i * lda) * 4;
    const crow = c + <usize>(i * ldc) * 4;
    for (let j = 0; j < N; j++) {
      const brow = b + <usize>(j * ldb) * 4;
      let s: f32 = acc ? load<f32>(crow + <usize>j * 4) : 0;
      for (let k = 0; k < K; k++) s += load<f32>(arow + <usize>k * 4) * load<f32>(brow + <usize>k * 4);
      store<f32>(crow + <usize>j * 4, s);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// f32x4 kernels

// Shape: C[4 rows, 8 cols] (+)= a(4 rows, K)·B[K, 8 cols]; 8 accumulators stay in registers.
// @ts-ignore: decorator
@inline function block_4x8_f32x4(
  K: i32, a0: usize, a1: usize, a2: usize, a3: usize, sak: usize, b: usize, ldb: usize, c: usize, ldc: usize, acc: i32,
): void {
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
  let bp = b;
  let ak: usize = 0;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    const x0 = f32x4.splat(load<f32>(a0 + ak));
    const x1 = f32x4.splat(load<f32>(a1 + ak));
    const x2 = f32x4.splat(load<f32>(a2 + ak));
    const x3 = f32x4.splat(load<f32>(a3 + ak));
    c00 = madd(x0, b0, c00); c01 = madd(x0, b1, c01);
    c10 = madd(x1, b0, c10); c11 = madd(x1, b1, c11);
    c20 = madd(x2, b0, c20); c21 = madd(x2, b1, c21);
    c30 = madd(x3, b0, c30); c31 = madd(x3, b1, c31);
    bp += ldb;
    ak += sak;
  }
  const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(r1)); c11 = f32x4.add(c11, v128.load(r1, 16));
    c20 = f32x4.add(c20, v128.load(r2)); c21 = f32x4.add(c21, v128.load(r2, 16));
    c30 = f32x4.add(c30, v128.load(r3)); c31 = f32x4.add(c31, v128.load(r3, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(r1, c10); v128.store(r1, c11, 16);
  v128.store(r2, c20); v128.store(r2, c21, 16);
  v128.store(r3, c30); v128.store(r3, c31, 16);
}

// Shape: C[1 row, 8 cols] (+)= a(1 row, K)·B[K, 8 cols]
// @ts-ignore: decorator
@inline function block_1x8_f32x4(K: i32, a0: usize, sak: usize, b: usize, ldb: usize, c: usize, acc: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let bp = b;
  let ak: usize = 0;
  for (let k = 0; k < K; k++) {
    const x0 = f32x4.splat(load<f32>(a0 + ak));
    c0 = madd(x0, v128.load(bp), c0);
    c1 = madd(x0, v128.load(bp, 16), c1);
    bp += ldb;
    ak += sak;
  }
  if (acc) { c0 = f32x4.add(c0, v128.load(c)); c1 = f32x4.add(c1, v128.load(c, 16)); }
  v128.store(c, c0); v128.store(c, c1, 16);
}

// Shape: C[1 row, 4 cols] (+)= a(1 row, K)·B[K, 4 cols]
// @ts-ignore: decorator
@inline function block_1x4_f32x4(K: i32, a0: usize, sak: usize, b: usize, ldb: usize, c: usize, acc: i32): void {
  let c0 = f32x4.splat(0);
  let bp = b;
  let ak: usize = 0;
  for (let k = 0; k < K; k++) {
    c0 = madd(f32x4.splat(load<f32>(a0 + ak)), v128.load(bp), c0);
    bp += ldb;
    ak += sak;
  }
  if (acc) c0 = f32x4.add(c0, v128.load(c));
  v128.store(c, c0);
}

// Shape: C[1 row, 1 col] (+)= a(1 row, K)·B[K, col]
// @ts-ignore: decorator
@inline function block_1x1(K: i32, a0: usize, sak: usize, b: usize, ldb: usize, c: usize, acc: i32): void {
  let s: f32 = acc ? load<f32>(c) : 0;
  let bp = b;
  let ak: usize = 0;
  for (let k = 0; k < K; k++) {
    s += load<f32>(a0 + ak) * load<f32>(bp);
    bp += ldb;
    ak += sak;
  }
  store<f32>(c, s);
}

// Shape: C[M,N] (+)= a(i,k)·B[K,N] for one cache block (K ≤ KC, N ≤ NC)
function gemm_block_f32x4(
  M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  const sakB = <usize>sak * 4, saiB = <usize>sai * 4, ldbB = <usize>ldb * 4, ldcB = <usize>ldc * 4;
  const N8 = N & ~7;
  const N4 = N & ~3;
  const M4 = M & ~3;
  let i = 0;
  for (; i < M4; i += 4) {
    const a0 = a + <usize>i * saiB, a1 = a0 + saiB, a2 = a1 + saiB, a3 = a2 + saiB;
    const crow = c + <usize>i * ldcB;
    let j = 0;
    for (; j < N8; j += 8) block_4x8_f32x4(K, a0, a1, a2, a3, sakB, b + <usize>j * 4, ldbB, crow + <usize>j * 4, ldcB, acc);
    for (; j < N4; j += 4) {
      block_1x4_f32x4(K, a0, sakB, b + <usize>j * 4, ldbB, crow + <usize>j * 4, acc);
      block_1x4_f32x4(K, a1, sakB, b + <usize>j * 4, ldbB, crow + ldcB + <usize>j * 4, acc);
      block_1x4_f32x4(K, a2, sakB, b + <usize>j * 4, ldbB, crow + 2 * ldcB + <usize>j * 4, acc);
      block_1x4_f32x4(K, a3, sakB, b + <usize>j * 4, ldbB, crow + 3 * ldcB + <usize>j * 4, acc);
    }
    for (; j < N; j++) {
      block_1x1(K, a0, sakB, b + <usize>j * 4, ldbB, crow + <usize>j * 4, acc);
      block_1x1(K, a1, sakB, b + <usize>j * 4, ldbB, crow + ldcB + <usize>j * 4, acc);
      block_1x1(K, a2, sakB, b + <usize>j * 4, ldbB, crow + 2 * ldcB + <usize>j * 4, acc);
      block_1x1(K, a3, sakB, b + <usize>j * 4, ldbB, crow + 3 * ldcB + <usize>j * 4, acc);
    }
  }
  for (; i < M; i++) {
    const a0 = a + <usize>i * saiB;
    const crow = c + <usize>i * ldcB;
    let j = 0;
    for (; j < N8; j += 8) block_1x8_f32x4(K, a0, sakB, b + <usize>j * 4, ldbB, crow + <usize>j * 4, acc);
    for (; j < N4; j += 4) block_1x4_f32x4(K, a0, sakB, b + <usize>j * 4, ldbB, crow + <usize>j * 4, acc);
    for (; j < N; j++) block_1x1(K, a0, sakB, b + <usize>j * 4, ldbB, crow + <usize>j * 4, acc);
  }
}


// Cache blocking: a KC×NC panel of B (256 KiB) stays in L2 while every 4-row strip of A
// streams past it; C tiles accumulate across K panels.
const NC: i32 = 256;

// Shape: C[M,N] (+)= a(i,k)·B[K,N] with a(i,k) at A + (i*sai + k*sak)*4
function gemm_strided_f32x4(
  M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  if (K <= 0) { if (!acc) zero_block(M, N, c, ldc); return; }
  for (let jc = 0; jc < N; jc += NC) {
    const nb = min(NC, N - jc);
    for (let kc = 0; kc < K; kc += KC) {
      const kb = min(KC, K - kc);
      gemm_block_f32x4(M, nb, kb, a + <usize>(kc * sak) * 4, sai, sak, b + <usize>(kc * ldb + jc) * 4, ldb,
        c + <usize>jc * 4, ldc, acc | (kc > 0 ? 1 : 0));
    }
  }
}

function zero_block(M: i32, N: i32, c: usize, ldc: i32): void {
  for (let i = 0; i < M; i++) memory.fill(c + <usize>(i * ldc) * 4, 0, <usize>N * 4);
}

export function gemm_nn_f32x4(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  if (ASC_FEATURE_SIMD) gemm_strided_f32x4(M, N, K, a, lda, 1, b, ldb, c, ldc, acc);
  else gemm_strided_scalar(M, N, K, a, lda, 1, b, ldb, c, ldc, acc);
}

export function gemm_tn_f32x4(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  if (ASC_FEATURE_SIMD) gemm_strided_f32x4(M, N, K, a, 1, lda, b, ldb, c, ldc, acc);
  else gemm_strided_scalar(M, N, K, a, 1, lda, b, ldb, c, ldc, acc);
}

// Shape: C[M,N] (+)= A[M,K] · B[N,K]ᵀ, one output row against 4 rows of B at a time,
// f32x4 along K, horizontal sums at the end.
export function gemm_nt_f32x4(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  if (!ASC_FEATURE_SIMD) { gemm_nt_scalar(M, N, K, a, lda, b, ldb, c, ldc, acc); return; }
  const K4 = K & ~3;
  const N4 = N & ~3;
  const ldbB = <usize>ldb * 4;
  for (let i = 0; i < M; i++) {
    const arow = a + <usize>(i * lda) * 4;
    const crow = c + <usize>(i * ldc) * 4;
    let j = 0;
    for (; j < N4; j += 4) {
      const b0 = b + <usize>j * ldbB, b1 = b0 + ldbB, b2 = b1 + ldbB, b3 = b2 + ldbB;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let k = 0;
      for (; k < K4; k += 4) {
        const off = <usize>k * 4;
        const x = v128.load(arow + off);
        s0 = madd(x, v128.load(b0 + off), s0);
        s1 = madd(x, v128.load(b1 + off), s1);
        s2 = madd(x, v128.load(b2 + off), s2);
        s3 = madd(x, v128.load(b3 + off), s3);
      }
      let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
      for (; k < K; k++) {
        const off = <usize>k * 4;
        const x = load<f32>(arow + off);
        t0 += x * load<f32>(b0 + off); t1 += x * load<f32>(b1 + off);
        t2 += x * load<f32>(b2 + off); t3 += x * load<f32>(b3 + off);
      }
      const cp = crow + <usize>j * 4;
      if (acc) { t0 += load<f32>(cp); t1 += load<f32>(cp, 4); t2 += load<f32>(cp, 8); t3 += load<f32>(cp, 12); }
      store<f32>(cp, t0); store<f32>(cp, t1, 4); store<f32>(cp, t2, 8); store<f32>(cp, t3, 12);
    }
    for (; j < N; j++) {
      const brow = b + <usize>j * ldbB;
      let s = f32x4.splat(0);
      let k = 0;
      for (; k < K4; k += 4) s = madd(v128.load(arow + <usize>k * 4), v128.load(brow + <usize>k * 4), s);
      let t = hsum(s);
      for (; k < K; k++) t += load<f32>(arow + <usize>k * 4) * load<f32>(brow + <usize>k * 4);
      const cp = crow + <usize>j * 4;
      store<f32>(cp, acc ? t + load<f32>(cp) : t);
    }
  }
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
