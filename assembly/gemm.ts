// Matrix products on row-major f32 matrices in linear memory.
//
// Vocabulary: C[M,N] (+)= op(A)[M,K] · op(B)[K,N]; lda/ldb/ldc are row strides in elements;
// all pointers are byte addresses; `acc` = 1 accumulates into C, 0 overwrites it.
//
//   nn: C = A·B     A stored [M,K], B stored [K,N]
//   tn: C = Aᵀ·B    A stored [K,M], B stored [K,N]   (weight gradients: δᵀ·X)
//   nt: C = A·Bᵀ    A stored [M,K], B stored [N,K]   (dot-product form; used where packing Bᵀ does not pay)
//
// nn and tn share one register-blocked micro-kernel over B rows: per k, one scalar of A per
// row is broadcast and multiplied into 8 contiguous columns of B. Only the addressing of A
// differs (a(i,k) = A[i*sai + k*sak]), so one kernel serves both. Each SIMD kernel has a
// scalar twin with the same signature; the twins are the tests' oracle and the non-SIMD build.

// c + a·b, fused (relaxed_madd: one rounding or two, the engine's choice) in the relaxed-SIMD
// build, an exact multiply then add otherwise (bit-reproducible across engines).
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

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
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
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
const KC: i32 = 256;
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

// The general (unpacked) products, SIMD where the build has it: exported for hosts and tests;
// the cells use gemm_packed (pool.ts) on operands packed by pack_panels.
// @ts-ignore: decorator
@inline export function gemm_nn(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  if (ASC_FEATURE_SIMD) gemm_strided_f32x4(M, N, K, a, lda, 1, b, ldb, c, ldc, acc);
  else gemm_strided_scalar(M, N, K, a, lda, 1, b, ldb, c, ldc, acc);
}

// @ts-ignore: decorator
@inline export function gemm_tn(
  M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, acc: i32,
): void {
  if (ASC_FEATURE_SIMD) gemm_strided_f32x4(M, N, K, a, 1, lda, b, ldb, c, ldc, acc);
  else gemm_strided_scalar(M, N, K, a, 1, lda, b, ldb, c, ldc, acc);
}

// Shape: dst[cols, rows] = src[rows, cols]ᵀ — packs Wᵀ once per weight update so that every
// X·Wᵀ in the unroll runs on the nn kernel with contiguous B rows.
export function transpose(rows: i32, cols: i32, src: usize, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    const srow = src + <usize>(r * cols) * 4;
    for (let c = 0; c < cols; c++) store<f32>(dst + <usize>(c * rows + r) * 4, load<f32>(srow + <usize>c * 4));
  }
}

// Shape: C[M,N] rows all set to bias[N] (the "+ b" of X·Wᵀ + b, before accumulating the product).
export function fill_rows(M: i32, N: i32, c: usize, bias: usize): void {
  const rowBytes = <usize>N * 4;
  for (let i = 0; i < M; i++) memory.copy(c + <usize>i * rowBytes, bias, rowBytes);
}

// Shape: C[M,N] rows all set to bias1[N] + bias2[N] (input-side pre-activations carry b_ih + b_hh).
export function fill_rows2(M: i32, N: i32, c: usize, bias1: usize, bias2: usize): void {
  for (let j = 0; j < N; j++) store<f32>(c + <usize>j * 4, load<f32>(bias1 + <usize>j * 4) + load<f32>(bias2 + <usize>j * 4));
  const rowBytes = <usize>N * 4;
  for (let i = 1; i < M; i++) memory.copy(c + <usize>i * rowBytes, c, rowBytes);
}

// Shape: out[N] += Σ_i A[M,N] rows (bias gradients: Σ over T·B of δ). Row by row, so A is
// read once front to back while out[N] stays in L1.
export function col_sums_acc(M: i32, N: i32, a: usize, out: usize): void {
  for (let i = 0; i < M; i++) {
    const row = a + <usize>(i * N) * 4;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j * 4;
        v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(row + o)));
      }
    }
    for (; j < N; j++) store<f32>(out + <usize>j * 4, load<f32>(out + <usize>j * 4) + load<f32>(row + <usize>j * 4));
  }
}

// ---------------------------------------------------------------------------------------------
// Packed panels: the right operand B[K,N] stored as ⌈N/8⌉ panels of K×8 floats (column j of
// panel p is B's column 8p + j, zero beyond N), so that the micro-kernel streams 32 contiguous
// bytes per k instead of touching a new cache line per k. The weights of a model are packed once
// per update; activations (for weight gradients) are packed into scratch once per product.

export const PANEL: i32 = 8;

// Floats a packed B[K,N] occupies.
export function packed_size(K: i32, N: i32): i32 {
  return K * ((N + 7) & ~7);
}

// Shape: Bp ← B[K,N] with B(k, j) at src + (k*sk + j*sn)*4
//   B = Wᵀ of a row-major W[N,K]: sk = 1, sn = K.   B = a row-major W[K,N]: sk = N, sn = 1.
export function pack_panels(K: i32, N: i32, src: usize, sk: i32, sn: i32, dst: usize): void {
  const NP = (N + 7) >> 3;
  for (let p = 0; p < NP; p++) {
    const panel = dst + <usize>(p * K) * 32;
    const j0 = p * 8;
    const w = min(8, N - j0);
    let k = 0;
    if (ASC_FEATURE_SIMD && w == 8) {
      if (sn == 1) {
        // rows of B are rows of the source: 32 contiguous bytes per k
        for (; k < K; k++) {
          const s0 = src + <usize>(k * sk + j0) * 4, d = panel + <usize>k * 32;
          v128.store(d, v128.load(s0)); v128.store(d, v128.load(s0, 16), 16);
        }
      } else if (sk == 1) {
        // B = Wᵀ: 8 rows of W, 4 k at a time, transposed in registers (two 4×4 blocks)
        const rs = <usize>sn * 4;
        const r0 = src + <usize>j0 * rs;
        for (; k + 4 <= K; k += 4) {
          const o = <usize>k * 4;
          transpose4_store(panel + <usize>k * 32, r0 + o, rs);
          transpose4_store(panel + <usize>k * 32 + 16, r0 + 4 * rs + o, rs);
        }
      }
    }
    for (; k < K; k++) {
      const row = panel + <usize>k * 32;
      for (let j = 0; j < 8; j++) {
        store<f32>(row + <usize>j * 4, j < w ? load<f32>(src + <usize>(k * sk + (j0 + j) * sn) * 4) : 0);
      }
    }
  }
}

// Four source rows (stride rs bytes) × 4 floats from `a`, written transposed as 4 output rows of
// a panel (32 bytes apart): out[t][i] = row_i[t].
// @ts-ignore: decorator
@inline function transpose4_store(out: usize, a: usize, rs: usize): void {
  const v0 = v128.load(a), v1 = v128.load(a + rs), v2 = v128.load(a + 2 * rs), v3 = v128.load(a + 3 * rs);
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(out + 32, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(out + 64, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(out + 96, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

// The scalar twin of gemm_packed: C[M,N] (+)= a(i,k)·Bp, a(i,k) at A + (i*sai + k*sak)*4.
export function gemm_packed_scalar(
  M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, bp: usize, c: usize, ldc: i32, acc: i32,
): void {
  for (let i = 0; i < M; i++) {
    const crow = c + <usize>(i * ldc) * 4;
    for (let j = 0; j < N; j++) {
      const col = bp + <usize>((j >> 3) * K * 8 + (j & 7)) * 4;
      let s: f32 = acc ? load<f32>(crow + <usize>j * 4) : 0;
      for (let k = 0; k < K; k++) s += load<f32>(a + <usize>(i * sai + k * sak) * 4) * load<f32>(col + <usize>k * 32);
      store<f32>(crow + <usize>j * 4, s);
    }
  }
}

// Writes the first n columns of one 8-wide tile row (v0 = columns 0–3, v1 = 4–7) to c.
// (Lane by lane at the right edge: no shared scratch, so threads may run it concurrently.)
// @ts-ignore: decorator
@inline function store_row(c: usize, v0: v128, v1: v128, n: i32, acc: i32): void {
  if (acc) {
    if (n == 8) { v0 = f32x4.add(v0, v128.load(c)); v1 = f32x4.add(v1, v128.load(c, 16)); }
    else { v0 = f32x4.add(v0, load_cols4(c, n)); v1 = f32x4.add(v1, load_cols4(c + 16, n - 4)); }
  }
  if (n == 8) { v128.store(c, v0); v128.store(c, v1, 16); return; }
  store_cols4(c, v0, n);
  store_cols4(c + 16, v1, n - 4);
}

// the first n (≤ 4; none when n ≤ 0) floats at c as a vector, zeros after
// @ts-ignore: decorator
@inline function load_cols4(c: usize, n: i32): v128 {
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(c));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(c, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(c, 8));
  if (n > 3) v = f32x4.replace_lane(v, 3, load<f32>(c, 12));
  return v;
}

// @ts-ignore: decorator
@inline function store_cols4(c: usize, v: v128, n: i32): void {
  if (n > 0) store<f32>(c, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(c, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(c, f32x4.extract_lane(v, 2), 8);
  if (n > 3) store<f32>(c, f32x4.extract_lane(v, 3), 12);
}

// Shape: C[4, n ≤ 8] (+)= a(4 rows, K)·panel[K, 8]
// @ts-ignore: decorator
@inline function micro_4x8(
  K: i32, a0: usize, a1: usize, a2: usize, a3: usize, sak: usize, bp: usize, c: usize, ldc: usize, n: i32, acc: i32,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let ak: usize = 0;
  let b = bp;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const x0 = v128.load32_splat(a0 + ak);
    const x1 = v128.load32_splat(a1 + ak);
    const x2 = v128.load32_splat(a2 + ak);
    const x3 = v128.load32_splat(a3 + ak);
    c00 = madd(x0, b0, c00); c01 = madd(x0, b1, c01);
    c10 = madd(x1, b0, c10); c11 = madd(x1, b1, c11);
    c20 = madd(x2, b0, c20); c21 = madd(x2, b1, c21);
    c30 = madd(x3, b0, c30); c31 = madd(x3, b1, c31);
    b += 32;
    ak += sak;
  }
  store_row(c, c00, c01, n, acc);
  store_row(c + ldc, c10, c11, n, acc);
  store_row(c + 2 * ldc, c20, c21, n, acc);
  store_row(c + 3 * ldc, c30, c31, n, acc);
}

// Shape: C[1, n ≤ 8] (+)= a(1 row, K)·panel[K, 8]
// @ts-ignore: decorator
@inline function micro_1x8(K: i32, a0: usize, sak: usize, bp: usize, c: usize, n: i32, acc: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let ak: usize = 0;
  let b = bp;
  for (let k = 0; k < K; k++) {
    const x0 = v128.load32_splat(a0 + ak);
    c0 = madd(x0, v128.load(b), c0);
    c1 = madd(x0, v128.load(b, 16), c1);
    b += 32;
    ak += sak;
  }
  store_row(c, c0, c1, n, acc);
}

// Row blocking: MC rows of A (MC·KC floats, 64 KiB) stay in L2 while the panels stream past;
// each KC×8 panel chunk (8 KiB) stays in L1 while the 4-row strips of the block use it.
const MC: i32 = 64;

// Shape: C[M,N] (+)= a(i,k)·Bp[K,N], a(i,k) at A + (i*sai + k*sak)*4, Bp packed by pack_panels;
// rows [m0, m1) and columns [n0, n1) only (m0 a multiple of 4, n0 of 8): a thread's share.
export function gemm_packed_part(
  M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, bp: usize, c: usize, ldc: i32, acc: i32,
  m0: i32, m1: i32, n0: i32, n1: i32,
): void {
  if (!ASC_FEATURE_SIMD) {
    gemm_packed_scalar_part(N, K, a, sai, sak, bp, c, ldc, acc, m0, m1, n0, n1);
    return;
  }
  if (K <= 0) {
    if (!acc) for (let i = m0; i < m1; i++) memory.fill(c + <usize>(i * ldc + n0) * 4, 0, <usize>(n1 - n0) * 4);
    return;
  }
  const sakB = <usize>sak * 4, saiB = <usize>sai * 4, ldcB = <usize>ldc * 4;
  for (let kc = 0; kc < K; kc += KC) {
    const kb = min(KC, K - kc);
    const accK = acc | (kc > 0 ? 1 : 0);
    const ak0 = a + <usize>kc * sakB;
    for (let ic = m0; ic < m1; ic += MC) {
      const iend = min(m1, ic + MC);
      const i4end = ic + ((iend - ic) & ~3);
      const nEnd = min(N, n1);
      for (let j = n0; j < nEnd; j += 8) {
        const n = min(8, nEnd - j);
        const panel = bp + <usize>((j >> 3) * K + kc) * 32;
        let i = ic;
        for (; i < i4end; i += 4) {
          const a0 = ak0 + <usize>i * saiB;
          micro_4x8(kb, a0, a0 + saiB, a0 + 2 * saiB, a0 + 3 * saiB, sakB, panel, c + <usize>i * ldcB + <usize>j * 4, ldcB, n, accK);
        }
        for (; i < iend; i++) micro_1x8(kb, ak0 + <usize>i * saiB, sakB, panel, c + <usize>i * ldcB + <usize>j * 4, n, accK);
      }
    }
  }
}

function gemm_packed_scalar_part(
  N: i32, K: i32, a: usize, sai: i32, sak: i32, bp: usize, c: usize, ldc: i32, acc: i32, m0: i32, m1: i32, n0: i32, n1: i32,
): void {
  const end = min(n1, N);
  for (let i = m0; i < m1; i++) {
    const crow = c + <usize>(i * ldc) * 4;
    for (let j = n0; j < end; j++) {
      const col = bp + <usize>((j >> 3) * K * 8 + (j & 7)) * 4;
      let s: f32 = acc ? load<f32>(crow + <usize>j * 4) : 0;
      for (let k = 0; k < K; k++) s += load<f32>(a + <usize>(i * sai + k * sak) * 4) * load<f32>(col + <usize>k * 32);
      store<f32>(crow + <usize>j * 4, s);
    }
  }
}
