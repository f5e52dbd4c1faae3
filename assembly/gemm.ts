// Matrix products on row-major f32 matrices in linear memory: the packed-panel product every
// cell, the head and the weight gradients run on, and the bias helpers around it.
// (The plain strided products the packed one replaced live in strided.ts, in the bench build.)
import { pool_pack_panels } from "./pool";

// c + a·b, fused (relaxed_madd: one rounding or two, the engine's choice) in the relaxed-SIMD
// build, an exact multiply then add otherwise (bit-reproducible across engines).
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// Cache blocking: a KC-deep slice of a packed panel stays in L1 while the row strips of a block
// stream past it; partial sums of successive slices accumulate in C.
export const KC: i32 = 256;

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
  col_sums_acc_part(M, N, a, out, 0, N);
}

// Columns [n0, n1) of col_sums_acc, each summed in row order as there (the pool sums runs of
// columns on several threads). out2 (0 = none) receives the same sums as out, in one pass over A
// (the LSTM's and RNN's db_hh and db_ih are sums of the same δ rows), each with the bits of its
// own col_sums_acc.
export function col_sums_acc_part(M: i32, N: i32, a: usize, out: usize, n0: i32, n1: i32, out2: usize = 0): void {
  if (out2) {
    for (let i = 0; i < M; i++) {
      const row = a + <usize>(i * N) * 4;
      let j = n0;
      if (ASC_FEATURE_SIMD) {
        for (; j + 4 <= n1; j += 4) {
          const o = <usize>j * 4, v = v128.load(row + o);
          v128.store(out + o, f32x4.add(v128.load(out + o), v));
          v128.store(out2 + o, f32x4.add(v128.load(out2 + o), v));
        }
      }
      for (; j < n1; j++) {
        const o = <usize>j * 4, v = load<f32>(row + o);
        store<f32>(out + o, load<f32>(out + o) + v);
        store<f32>(out2 + o, load<f32>(out2 + o) + v);
      }
    }
    return;
  }
  for (let i = 0; i < M; i++) {
    const row = a + <usize>(i * N) * 4;
    let j = n0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= n1; j += 4) {
        const o = <usize>j * 4;
        v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(row + o)));
      }
    }
    for (; j < n1; j++) store<f32>(out + <usize>j * 4, load<f32>(out + <usize>j * 4) + load<f32>(row + <usize>j * 4));
  }
}

// ---------------------------------------------------------------------------------------------
// Packed panels: the right operand B[K,N] stored as ⌈N/8⌉ panels of K×8 floats (column j of
// panel p is B's column 8p + j, zero beyond N), so that the micro-kernel streams 32 contiguous
// bytes per k instead of touching a new cache line per k. The weights of a model are packed once
// per update; activations (for weight gradients) are packed into scratch once per product.

export const PANEL: i32 = 8;

// Floats a packed B[K,N] occupies: K·⌈N/8⌉·8 (a multiple of 8, so the next tensor stays aligned).
export function packed_size(K: i32, N: i32): i32 {
  return K * ((N + 7) & ~7);
}

// Shape: dst [out] [packed_size(K,N)] ← B[K,N] packed, B(k, j) [in] at src + (k*sk + j*sn)*4.
// Every float of dst is written, the zero padding included; src and dst must not overlap.
//   B = Wᵀ of a row-major W[N,K]: sk = 1, sn = K   (the forward's *TransposedPacked operands)
//   B = a row-major W[K,N]:       sk = N, sn = 1   (the backward's wihPacked, whhPacked, wPacked)
export function pack_panels(K: i32, N: i32, src: usize, sk: i32, sn: i32, dst: usize): void {
  // in the threads build the pool packs runs of panels of a large operand (the host re-packs
  // every weight after each update)
  pool_pack_panels(K, N, src, sk, sn, dst);
}

// Panels [p0, p1) of pack_panels (the pool packs runs of panels on several threads).
export function pack_panels_part(K: i32, N: i32, src: usize, sk: i32, sn: i32, dst: usize, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
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

// The scalar twin of gemm_packed, in every build (the tests' oracle): C[M,N] (+)= a(i,k)·Bp,
// a(i,k) at A + (i*sai + k*sak)*4, each element summed in k order starting from C (acc) or 0.
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
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
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

// Shape: C[1, 32] (+)= a(1 row, K)·4 consecutive full panels [K, 8] each (panel stride ps bytes).
// A single row (B = 1, or the rows after the last 4-row strip) would leave micro_1x8 with two
// accumulator chains, so it waits on the add (or fused multiply-add) latency every k; four
// panels at once give eight independent chains. Every element is still summed in k order from
// zero, so the bits equal micro_1x8's.
// @ts-ignore: decorator
@inline function micro_1x32(K: i32, a0: usize, sak: usize, bp: usize, ps: usize, c: usize, acc: i32): void {
  const zero = f32x4.splat(0);
  let c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
  let ak: usize = 0;
  let b = bp;
  for (let k = 0; k < K; k++) {
    const x0 = v128.load32_splat(a0 + ak);
    c0 = madd(x0, v128.load(b), c0);
    c1 = madd(x0, v128.load(b, 16), c1);
    c2 = madd(x0, v128.load(b + ps), c2);
    c3 = madd(x0, v128.load(b + ps, 16), c3);
    c4 = madd(x0, v128.load(b + 2 * ps), c4);
    c5 = madd(x0, v128.load(b + 2 * ps, 16), c5);
    c6 = madd(x0, v128.load(b + 3 * ps), c6);
    c7 = madd(x0, v128.load(b + 3 * ps, 16), c7);
    b += 32;
    ak += sak;
  }
  store_row(c, c0, c1, 8, acc);
  store_row(c + 32, c2, c3, 8, acc);
  store_row(c + 64, c4, c5, 8, acc);
  store_row(c + 96, c6, c7, 8, acc);
}

// Row blocking: MC rows of A (MC·KC floats, 64 KiB) stay in L2 while the panels stream past;
// each KC×8 panel chunk (8 KiB) stays in L1 while the 4-row strips of the block use it.
const MC: i32 = 64;

// Shape: C[M,N] (+)= a(i,k)·Bp[K,N], a(i,k) at A + (i*sai + k*sak)*4, Bp packed by pack_panels;
// rows [m0, m1) and columns [n0, n1) only, on the calling thread: one thread's share of the pool.
// 0 ≤ m0 ≤ m1 ≤ M; n0 a multiple of 8, n1 a multiple of 8 or N (the SIMD builds write whole
// 8-column tiles, clipped at N only). The pool passes row bounds that are multiples of 4.
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
        for (let i = ic; i < i4end; i += 4) {
          const a0 = ak0 + <usize>i * saiB;
          micro_4x8(kb, a0, a0 + saiB, a0 + 2 * saiB, a0 + 3 * saiB, sakB, panel, c + <usize>i * ldcB + <usize>j * 4, ldcB, n, accK);
        }
      }
      // the rows after the last 4-row strip, four full panels at a time where there are four
      const ps = <usize>K * 32;
      for (let i = i4end; i < iend; i++) {
        const ai = ak0 + <usize>i * saiB, ci = c + <usize>i * ldcB;
        let j = n0;
        for (; j + 32 <= nEnd; j += 32) micro_1x32(kb, ai, sakB, bp + <usize>((j >> 3) * K + kc) * 32, ps, ci + <usize>j * 4, accK);
        for (; j < nEnd; j += 8) micro_1x8(kb, ai, sakB, bp + <usize>((j >> 3) * K + kc) * 32, ci + <usize>j * 4, min(8, nEnd - j), accK);
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
