/*
 * unrolled.h: the flat C ABI of the unrolled WebAssembly core. All four builds come from
 * assembly/index.ts and export the same functions with the same signatures:
 *     build/unrolled.simd.wasm      f32x4 kernels
 *     build/unrolled.relaxed.wasm   f32x4 with relaxed-SIMD fused multiply-add
 *     build/unrolled.threads.wasm   f32x4 on a shared memory it imports (env.memory), with a pool
 *                                   of worker instances splitting the large products
 *     build/unrolled.scalar.wasm    the scalar twins only (Wasm MVP; the build for wasm2c)
 *
 * docs/abi.md has the full text: the memory model, the packed-panel format, every export, the
 * calling sequence of one training step and the threads build's pool protocol. examples/c/ runs
 * that sequence on the wasm2c translation of the scalar build.
 *
 * The header has two parts:
 *
 *   1. Host-agnostic prototypes, unrolled_<export>(...): one for each export, with the export's own
 *      signature (Wasm i32 → int32_t for counts and flags, unrolled_ptr for byte addresses;
 *      f32 → float; f64 → double). No runtime implements these names. An embedder of any runtime
 *      (wasmtime, WAMR, wasm3, a JVM or .NET binding, ...) can write them as thin wrappers that call
 *      the export of the same name without the prefix. The prefix is there because the exports
 *      `alloc` and `free` would otherwise clash with libc. Define UNROLLED_NO_PLAIN_API to leave
 *      them out, or define UNROLLED_FN(name) to choose other names.
 *
 *   2. With UNROLLED_WASM2C defined: the symbols that the npm package wasm2c (wabt's wasm2c
 *      1.0.13, run by Node) generates for
 *          node node_modules/wasm2c/wasm2c.js build/unrolled.scalar.wasm -o unrolled_w2c.c
 *      compiled with -DWASM_RT_MODULE_PREFIX=unrolled_ (details at that part, below).
 *      The declarations match the generated unrolled_w2c.h, so a C file can include both and the
 *      compiler checks that they agree (examples/c/main.c does).
 *
 * Conventions (the same for every export; docs/abi.md explains them in full)
 *   - One linear memory, exported as "memory" (the threads build imports it as env.memory and
 *     exports it again). Every pointer argument is a byte address in it. Blocks from alloc() are
 *     16-byte aligned and zero-filled. A 0 pointer means "none" where an argument is optional.
 *     Everything else is a plain number.
 *   - Tensors are f32, little-endian, row-major and time-major: [T,B,...] means step t, row b at
 *     element (t*B + b)*inner. Class or token ids are stored as f32 values (exact up to 2^24).
 *     Masks are f32 0/1.
 *   - Sizes are element counts, except alloc() and zero(), which take bytes.
 *   - Letters: T steps, B batch rows, I input features (the vocabulary size for token input),
 *     H hidden units, G = gates*H (RNN 1, GRU 3, LSTM 4 gates), O head outputs, R loss rows
 *     (T*B for a head at every step, B for the last step only), n flat element count.
 *   - In the comments: [in] read only; [out] written (old contents ignored); [in/out] read and then
 *     overwritten with something else; [acc] added to (+=), so the caller zeroes it first.
 *   - Parameters use the PyTorch state_dict layout: W_ih [G,I], W_hh [G,H], b_ih [G], b_hh [G]
 *     (gate blocks LSTM i|f|g|o, GRU r|z|n), head W [O,H], head b [O]. The cell and head kernels
 *     read the weights only in the packed-panel form (below), as the right operand of each
 *     product: forward W_ih^T [I,G], W_hh^T [H,G], head W^T [H,O] ("wihP", "whhP", "wP");
 *     backward W_ih [G,I], W_hh [G,H], head W [O,H] ("wihB", "whhB", "wB"). The host packs
 *     them with pack_panels() after every change of the weights.
 *   - Packed panels: a right operand B[K,N] is stored as ceil(N/8) panels of K x 8 floats,
 *     panel after panel; row k of panel p holds B(k, 8p .. 8p+7), zeros beyond column N-1.
 *     packed_size(K, N) = K * ceil(N/8) * 8 floats (UNROLLED_PACKED_SIZE below).
 *   - Nothing in the core checks a size or a pointer. An out-of-range address traps (Wasm
 *     semantics); a wrong size silently computes garbage inside the memory.
 */
#ifndef UNROLLED_H
#define UNROLLED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A byte address in the core's linear memory (Wasm i32). 0 = none. */
typedef uint32_t unrolled_ptr;

/* flags of the cell kernels (assembly/cell_common.ts) */
#define UNROLLED_FLAG_TOKENS 1 /* x holds ids [T,B] (as f32) instead of dense rows [T,B,I] */
#define UNROLLED_FLAG_RELU 2   /* RNN only: relu instead of tanh */

/* Alignment of every tensor in the library's own layouts (src/model/layout.ts): 4 floats. */
#define UNROLLED_ALIGN4(n) ((((uint32_t)(n)) + 3u) & ~3u)

/* Columns per packed panel (assembly/gemm.ts PANEL). */
#define UNROLLED_PANEL 8
/* Floats of a packed right operand B[K,N]; the same value as the export packed_size(K, N). */
#define UNROLLED_PACKED_SIZE(K, N) ((uint32_t)(K) * ((((uint32_t)(N)) + 7u) & ~7u))

/* Bytes of the pool's control block (assembly/pool.ts POOL_CONTROL_BYTES; not exported by the
 * module): the threads build's host allocates it zeroed and passes it to pool_worker,
 * pool_init and pool_stop. */
#define UNROLLED_POOL_CONTROL_BYTES 256
/* The library's threshold for splitting a product (src/runtime/core.ts POOL_MIN_FLOPS):
 * products of fewer than 2*M*N*K flops stay on the calling thread. */
#define UNROLLED_POOL_MIN_FLOPS 1048576.0

#ifndef UNROLLED_NO_PLAIN_API
#ifndef UNROLLED_FN
#define UNROLLED_FN(name) unrolled_##name
#endif

/* ---------------------------------------------------------------------------------------------
 * Memory (assembly/memory.ts). The core's only allocator (AssemblyScript's TLSF). alloc() may
 * grow the memory: in every host, take the memory's base address again after each alloc().
 * One block is at most 1 GiB - 4 bytes (larger requests call env.abort); a failed grow traps
 * (unreachable). free() accepts only pointers from alloc(), once each (unchecked: anything else
 * corrupts the heap); free(0) does nothing. In the threads build only the main instance may
 * call alloc() and free() (the allocator's state is per instance, its heap is shared).
 * --------------------------------------------------------------------------------------------- */

/* Returns a 16-byte aligned, zero-filled block of `bytes` bytes. */
unrolled_ptr UNROLLED_FN(alloc)(uint32_t bytes);
void UNROLLED_FN(free)(unrolled_ptr ptr);
/* Sets `bytes` bytes at ptr to 0. */
void UNROLLED_FN(zero)(unrolled_ptr ptr, uint32_t bytes);
/* 1 for the SIMD builds (simd, relaxed, threads: f32x4 kernels), 0 for the scalar build. */
int32_t UNROLLED_FN(simd_enabled)(void);

/* ---------------------------------------------------------------------------------------------
 * Strided matrix kernels (assembly/gemm.ts). C[M,N] (+)= op(A)·op(B); lda/ldb/ldc are row
 * strides in elements; acc = 1: C [acc], acc = 0: C [out]. A, B [in].
 *   nn: A stored [M,K], B stored [K,N]     tn: A stored [K,M] (C = A^T·B)
 *   nt: A stored [M,K], B stored [N,K] (C = A·B^T)
 * The *_f32x4 names run the scalar twin in the scalar build (the export names stay). The cells
 * and the head no longer call these (they use gemm_packed); they remain for tests and
 * benchmarks, and for hosts that want a plain product.
 * --------------------------------------------------------------------------------------------- */
void UNROLLED_FN(gemm_nn_f32x4)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t lda,
                                unrolled_ptr b, int32_t ldb, unrolled_ptr c, int32_t ldc, int32_t acc);
void UNROLLED_FN(gemm_tn_f32x4)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t lda,
                                unrolled_ptr b, int32_t ldb, unrolled_ptr c, int32_t ldc, int32_t acc);
void UNROLLED_FN(gemm_nt_f32x4)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t lda,
                                unrolled_ptr b, int32_t ldb, unrolled_ptr c, int32_t ldc, int32_t acc);
void UNROLLED_FN(gemm_nn_scalar)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t lda,
                                 unrolled_ptr b, int32_t ldb, unrolled_ptr c, int32_t ldc, int32_t acc);
void UNROLLED_FN(gemm_tn_scalar)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t lda,
                                 unrolled_ptr b, int32_t ldb, unrolled_ptr c, int32_t ldc, int32_t acc);
void UNROLLED_FN(gemm_nt_scalar)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t lda,
                                 unrolled_ptr b, int32_t ldb, unrolled_ptr c, int32_t ldc, int32_t acc);

/* dst[cols,rows] [out] = src[rows,cols]^T [in]; src and dst must not overlap. (No longer part of
 * the training sequence: the weights are packed with pack_panels.) */
void UNROLLED_FN(transpose)(int32_t rows, int32_t cols, unrolled_ptr src, unrolled_ptr dst);
/* C[M,N] [out]: every row = bias[N] [in]. */
void UNROLLED_FN(fill_rows)(int32_t M, int32_t N, unrolled_ptr c, unrolled_ptr bias);
/* C[M,N] [out]: every row = bias1[N] + bias2[N] [in]. */
void UNROLLED_FN(fill_rows2)(int32_t M, int32_t N, unrolled_ptr c, unrolled_ptr bias1, unrolled_ptr bias2);
/* out[N] [acc] += column sums of A[M,N] [in] (A rows contiguous, stride N). */
void UNROLLED_FN(col_sums_acc)(int32_t M, int32_t N, unrolled_ptr a, unrolled_ptr out);

/* ---------------------------------------------------------------------------------------------
 * Packed panels (assembly/gemm.ts, assembly/pool.ts): the products of every cell, the head and
 * the weight gradients. Bp is a right operand B[K,N] in the packed-panel form; A is addressed
 * through two strides: a(i,k) at a + (i*sai + k*sak)*4, so
 *     A row-major [M,K]:              sai = K (its row stride), sak = 1
 *     A^T of a row-major X[K,M]:      sai = 1, sak = M (its row stride)
 * C[M,N] (+)= A·B with row stride ldc; acc = 1: C [acc], acc = 0: C [out]. C must not overlap
 * A or Bp.
 * --------------------------------------------------------------------------------------------- */

/* Floats a packed B[K,N] occupies: K * ceil(N/8) * 8 (a multiple of 8, so already aligned). */
int32_t UNROLLED_FN(packed_size)(int32_t K, int32_t N);
/* dst [out] [packed_size(K,N)] = B[K,N] packed, reading B(k,j) [in] at src + (k*sk + j*sn)*4
 * (every float of dst is written, the zero padding included; src and dst must not overlap):
 *     B = W^T of a row-major W[N,K]:  sk = 1, sn = K     (the forward's wihP, whhP, head wP)
 *     B = a row-major W[K,N]:         sk = N, sn = 1     (the backward's wihB, whhB, head wB) */
void UNROLLED_FN(pack_panels)(int32_t K, int32_t N, unrolled_ptr src, int32_t sk, int32_t sn,
                              unrolled_ptr dst);
/* C[M,N] (+)= a(i,k)·Bp[K,N]: the product the kernels use. In the threads build, after
 * pool_init(), a product of at least minFlops (2*M*N*K) is split over the pool's threads, with
 * results bit-identical to one thread; everywhere else it runs on the calling thread. */
void UNROLLED_FN(gemm_packed)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t sai,
                              int32_t sak, unrolled_ptr bp, unrolled_ptr c, int32_t ldc, int32_t acc);
/* gemm_packed restricted to the rows [m0, m1) and the columns [n0, n1) of C: one thread's share
 * (never split further). 0 <= m0 <= m1 <= M; n0 a multiple of 8; n1 a multiple of 8 or N: the
 * SIMD builds write whole 8-column tiles (clipped at N only). The pool uses m0 multiples of 4. */
void UNROLLED_FN(gemm_packed_part)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t sai,
                                   int32_t sak, unrolled_ptr bp, unrolled_ptr c, int32_t ldc,
                                   int32_t acc, int32_t m0, int32_t m1, int32_t n0, int32_t n1);
/* The scalar twin of gemm_packed, in every build (the tests' oracle): each element summed in
 * k order starting from C (acc) or 0. */
void UNROLLED_FN(gemm_packed_scalar)(int32_t M, int32_t N, int32_t K, unrolled_ptr a, int32_t sai,
                                     int32_t sak, unrolled_ptr bp, unrolled_ptr c, int32_t ldc,
                                     int32_t acc);

/* ---------------------------------------------------------------------------------------------
 * Activations (assembly/activations.ts): dst[n] [out] = f(src[n]) [in]; dst may equal src.
 * The core's own polynomial exp/tanh/sigmoid (the cells use the same formulas).
 * --------------------------------------------------------------------------------------------- */
void UNROLLED_FN(tanh_array_f32x4)(int32_t n, unrolled_ptr src, unrolled_ptr dst);
void UNROLLED_FN(sigmoid_array_f32x4)(int32_t n, unrolled_ptr src, unrolled_ptr dst);
void UNROLLED_FN(tanh_array_scalar)(int32_t n, unrolled_ptr src, unrolled_ptr dst);
void UNROLLED_FN(sigmoid_array_scalar)(int32_t n, unrolled_ptr src, unrolled_ptr dst);

/* ---------------------------------------------------------------------------------------------
 * Cells: the whole unroll over T steps (forward) and the whole BPTT (backward) in one call each.
 * Common arguments:
 *   T, B, I, H, flags (UNROLLED_FLAG_*; TOKENS only for layer 0, RELU only for the RNN)
 *   x     [in]  [T,B,I] floats, or ids [T,B] with FLAG_TOKENS. Layer k > 0: x = hs of layer k-1
 *               plus B*H*4 bytes (its h_1..h_T), I = H.
 *   wihP  [in]  W_ih^T [I,G] packed: pack_panels(I, G, W_ih, 1, I, wihP)    (forward)
 *   whhP  [in]  W_hh^T [H,G] packed: pack_panels(H, G, W_hh, 1, H, whhP)    (forward)
 *   wihB  [in]  W_ih [G,I] packed:   pack_panels(G, I, W_ih, I, 1, wihB)    (backward)
 *   whhB  [in]  W_hh [G,H] packed:   pack_panels(G, H, W_hh, H, 1, whhB)    (backward)
 *   bih, bhh [in] [G].
 *   mask  [in]  [T,B] f32 0/1, or 0 (= no padding). A row with 0 carries its state unchanged
 *               through that step, forward and backward.
 *   hs    [T+1,B,H]: hs[0] = h0, written by the caller; forward writes hs[1..T] = h_1..h_T.
 *               Backward reads it (and cs, gates, rn): run backward right after its forward,
 *               with packs of the same weights.
 *   dh    [in/out] [B,H]: in, dE/dh_T from beyond the sequence (zero it for full BPTT);
 *               out, dE/dh_0.  dc (LSTM) the same for the cell state.
 *   dwih [G,I], dwhh [G,H], dbih [G], dbhh [G]  [acc]: gradients accumulate (zero them first).
 *   dx    [out] [T,B,I] = dE/dx (the dhs of layer k-1), or 0 to skip (layer 0).
 *   dhnorm [out] [T]: ||dE/dh_t|| over the B*H values of step t, or 0 to skip.
 *   pack  scratch of at least packed_size(T*B, max(I, H)) floats (I counts as 1 with
 *               FLAG_TOKENS), contents meaningless on entry and exit; the library shares one
 *               among all layers and head_backward.
 * --------------------------------------------------------------------------------------------- */

/* RNN: h_t = act(x_t·W_ih^T + b_ih + h_{t-1}·W_hh^T + b_hh), act = tanh (relu with FLAG_RELU).
 * hs [in/out] as above. */
void UNROLLED_FN(rnn_forward)(int32_t T, int32_t B, int32_t I, int32_t H, int32_t flags,
                              unrolled_ptr x, unrolled_ptr wihP, unrolled_ptr whhP, unrolled_ptr bih,
                              unrolled_ptr bhh, unrolled_ptr mask, unrolled_ptr hs);
/* dhs [in/out] [T,B,H]: in, dE/dh_t arriving from above (head or next layer, zeros where none);
 * out, overwritten with the pre-activation gradients (so rebuild it before every backward). */
void UNROLLED_FN(rnn_backward)(int32_t T, int32_t B, int32_t I, int32_t H, int32_t flags,
                               unrolled_ptr x, unrolled_ptr wihB, unrolled_ptr whhB, unrolled_ptr mask,
                               unrolled_ptr hs, unrolled_ptr dhs, unrolled_ptr dh, unrolled_ptr dwih,
                               unrolled_ptr dwhh, unrolled_ptr dbih, unrolled_ptr dbhh, unrolled_ptr dx,
                               unrolled_ptr dhnorm, unrolled_ptr pack);

/* LSTM (gates i|f|g|o): cs [T+1,B,H] like hs (cs[0] = c0); gates [out] [T,B,4H] the
 * post-activation gates. */
void UNROLLED_FN(lstm_forward)(int32_t T, int32_t B, int32_t I, int32_t H, int32_t flags,
                               unrolled_ptr x, unrolled_ptr wihP, unrolled_ptr whhP, unrolled_ptr bih,
                               unrolled_ptr bhh, unrolled_ptr mask, unrolled_ptr hs, unrolled_ptr cs,
                               unrolled_ptr gates);
/* gates [in/out]: in, the forward's gates; out, the pre-activation gradients.
 * dhs [in] [T,B,H] (left unchanged). dh, dc [in/out] [B,H]. */
void UNROLLED_FN(lstm_backward)(int32_t T, int32_t B, int32_t I, int32_t H, int32_t flags,
                                unrolled_ptr x, unrolled_ptr wihB, unrolled_ptr whhB, unrolled_ptr mask,
                                unrolled_ptr hs, unrolled_ptr cs, unrolled_ptr gates, unrolled_ptr dhs,
                                unrolled_ptr dh, unrolled_ptr dc, unrolled_ptr dwih, unrolled_ptr dwhh,
                                unrolled_ptr dbih, unrolled_ptr dbhh, unrolled_ptr dx, unrolled_ptr dhnorm,
                                unrolled_ptr pack);

/* GRU (gates r|z|n): gates [out] [T,B,3H] (r, z, n); rn [out] [T,B,H] = h_{t-1}·W_hn^T + b_hn;
 * scratch [B,3H] work space (contents meaningless). */
void UNROLLED_FN(gru_forward)(int32_t T, int32_t B, int32_t I, int32_t H, int32_t flags,
                              unrolled_ptr x, unrolled_ptr wihP, unrolled_ptr whhP, unrolled_ptr bih,
                              unrolled_ptr bhh, unrolled_ptr mask, unrolled_ptr hs, unrolled_ptr gates,
                              unrolled_ptr rn, unrolled_ptr scratch);
/* gates [in/out]: in, (r, z, n); out, input-side pre-activation gradients. rn [in].
 * dhs [in] (unchanged). dR [out] [T,B,3H] hidden-side pre-activation gradients. dh [in/out]. */
void UNROLLED_FN(gru_backward)(int32_t T, int32_t B, int32_t I, int32_t H, int32_t flags,
                               unrolled_ptr x, unrolled_ptr wihB, unrolled_ptr whhB, unrolled_ptr mask,
                               unrolled_ptr hs, unrolled_ptr gates, unrolled_ptr rn, unrolled_ptr dhs,
                               unrolled_ptr dR, unrolled_ptr dh, unrolled_ptr dwih, unrolled_ptr dwhh,
                               unrolled_ptr dbih, unrolled_ptr dbhh, unrolled_ptr dx, unrolled_ptr dhnorm,
                               unrolled_ptr pack);

/* ---------------------------------------------------------------------------------------------
 * Head (assembly/head.ts): y = h·W^T + b over R contiguous rows of the top layer's hidden
 * states: h = hs + B*H*4 (every step, R = T*B) or h = hs + T*B*H*4 (last step, R = B).
 * --------------------------------------------------------------------------------------------- */

/* h [in] [R,H], wP [in] W^T [H,O] packed (pack_panels(H, O, W, 1, H, wP)), b [in] [O]
 * → y [out] [R,O]. */
void UNROLLED_FN(head_forward)(int32_t R, int32_t H, int32_t O, unrolled_ptr h, unrolled_ptr wP,
                               unrolled_ptr b, unrolled_ptr y);
/* h [in] [R,H], wB [in] W [O,H] packed (pack_panels(O, H, W, H, 1, wB)), dy [in] [R,O];
 * dw [acc] [O,H] += dy^T·h; db [acc] [O] += sum dy; dh [out] [R,H] = dy·W (written, not
 * accumulated); pack: scratch of at least packed_size(R, H) floats. */
void UNROLLED_FN(head_backward)(int32_t R, int32_t H, int32_t O, unrolled_ptr h, unrolled_ptr wB,
                                unrolled_ptr dy, unrolled_ptr dw, unrolled_ptr db, unrolled_ptr dh,
                                unrolled_ptr pack);

/* ---------------------------------------------------------------------------------------------
 * Losses (assembly/loss.ts) over R rows. weights [in] [R] 0/1 row weights or 0 (all rows count).
 * scale: 1/count for a mean, 1 for a sum (count = real rows for cross-entropy, real rows * O
 * for MSE). Returns the loss (f64); writes d loss/d prediction unless that pointer is 0.
 * --------------------------------------------------------------------------------------------- */

/* logits [in] [R,O], targets [in] [R] class ids as f32 → dlogits [out] [R,O]
 *   loss = scale·sum_r w_r·(logsumexp(logits_r) - logits_r[target_r])
 *   dlogits_r = scale·w_r·(softmax(logits_r) - onehot(target_r)) */
double UNROLLED_FN(softmax_xent)(int32_t R, int32_t O, unrolled_ptr logits, unrolled_ptr targets,
                                 unrolled_ptr weights, float scale, unrolled_ptr dlogits);
/* pred [in] [R,O], targets [in] [R,O] → dpred [out] [R,O]
 *   loss = scale·sum_r w_r·sum_o (pred - target)^2;  dpred = 2·scale·w_r·(pred - target) */
double UNROLLED_FN(mse)(int32_t R, int32_t O, unrolled_ptr pred, unrolled_ptr targets,
                        unrolled_ptr weights, float scale, unrolled_ptr dpred);

/* ---------------------------------------------------------------------------------------------
 * Clipping and optimizers (assembly/optim.ts) over n floats: p parameters, g gradients and the
 * moments are parallel arrays (the whole parameter block in one call).
 * --------------------------------------------------------------------------------------------- */

/* Returns sum g^2 (f64) over g [in] [n]. Non-finite in, non-finite out. */
double UNROLLED_FN(sum_squares)(int32_t n, unrolled_ptr g);
/* g [in/out] [n] *= c. Global-norm clipping: c = max_norm/(norm + 1e-6), applied when c < 1. */
void UNROLLED_FN(scale_inplace)(int32_t n, unrolled_ptr g, float c);
/* g [in/out] [n] = clamp(g, -v, v). Returns how many elements it clamped (the library reports
 * a step as clipped when this is > 0). */
int32_t UNROLLED_FN(clamp_inplace)(int32_t n, unrolled_ptr g, float v);
/* SGD (PyTorch): p [in/out], g [in], buf [in/out] momentum buffer (may be 0 when momentum = 0);
 * nesterov, first: 0/1 (first = 1 on the first step: buf = g). */
void UNROLLED_FN(sgd_update)(int32_t n, unrolled_ptr p, unrolled_ptr g, unrolled_ptr buf, float lr,
                             float momentum, float dampening, int32_t nesterov, float wd, int32_t first);
/* Adam / AdamW (PyTorch 1.13's single-tensor form): p [in/out], g [in], m, v [in/out] (zero
 * before step 1). Per element:
 *     d = g + l2·p;  p = p·decay;  m = b1·m + omb1·d;  v = b2·v + omb2·d²;
 *     p = p - stepSize·m/(sqrt(v)/bc2Sqrt + eps)
 * The caller computes in double, for step t = 1, 2, ... and learning rate lr, then passes as f32:
 *     omb1 = 1 - b1, omb2 = 1 - b2 (rounded from double, not 1.0f - (float)b1),
 *     stepSize = lr/(1 - b1^t), bc2Sqrt = sqrt(1 - b2^t),
 *     Adam: l2 = weight decay, decay = 1;   AdamW: l2 = 0, decay = 1 - lr·weight decay. */
void UNROLLED_FN(adam_update)(int32_t n, unrolled_ptr p, unrolled_ptr g, unrolled_ptr m, unrolled_ptr v,
                              float b1, float omb1, float b2, float omb2, float eps, float stepSize,
                              float bc2Sqrt, float l2, float decay);
/* RMSprop: p [in/out], g [in], v [in/out]. */
void UNROLLED_FN(rmsprop_update)(int32_t n, unrolled_ptr p, unrolled_ptr g, unrolled_ptr v, float lr,
                                 float alpha, float eps, float wd);
/* Adagrad: p [in/out], g [in], s [in/out]. */
void UNROLLED_FN(adagrad_update)(int32_t n, unrolled_ptr p, unrolled_ptr g, unrolled_ptr s, float lr,
                                 float eps, float wd);

/* ---------------------------------------------------------------------------------------------
 * Benchmark probe (assembly/peak.ts): iters rounds of 8 independent f32x4 multiply-adds
 * (64 flops per round), the machine's f32x4 ceiling for the GEMM benchmark. Returns a lane of
 * the sum (so the work cannot be optimized away); the scalar build returns 0 at once.
 * --------------------------------------------------------------------------------------------- */
float UNROLLED_FN(peak_mul_add_f32x4)(int32_t iters, float seed);

/* ---------------------------------------------------------------------------------------------
 * The pool (assembly/pool.ts; docs/abi.md "The threads build"). Does something only in the
 * threads build; elsewhere pool_init and pool_stop leave every product on the calling thread
 * and pool_worker returns at once. The host:
 *   1. instantiates the main instance on a shared memory (env.memory) and allocates the control
 *      block there: control = alloc(UNROLLED_POOL_CONTROL_BYTES) (zeroed; 4-byte alignment is
 *      required, the library aligns it to 64 bytes);
 *   2. starts n - 1 threads; thread `index` (1 .. n-1, each once) instantiates the same module on
 *      the same memory and calls pool_worker(control, index), which blocks until pool_stop;
 *      a worker instance calls nothing else;
 *   3. once the workers run, calls pool_init(control, n, minFlops) on the main instance;
 *   4. to end, calls pool_stop(control) on the main instance, after which every worker returns
 *      and the main instance runs single-threaded. The block keeps its stop flag: zero it (or
 *      allocate a new one) before starting another pool.
 * Only the main instance calls the kernels, from one thread at a time.
 * --------------------------------------------------------------------------------------------- */

/* Main instance: registers the control block [in/out] and the thread count n (the calling
 * thread included; n <= 1 or a build without threads = no pool). Products with
 * 2*M*N*K >= minFlops are split (the library passes UNROLLED_POOL_MIN_FLOPS). */
void UNROLLED_FN(pool_init)(unrolled_ptr control, int32_t nthreads, double minFlops);
/* Main instance: sets the stop flag, wakes every worker (they return from pool_worker) and
 * makes this instance single-threaded again. */
void UNROLLED_FN(pool_stop)(unrolled_ptr control);
/* Worker instance `index` (1 .. n-1): runs share `index` of every published product until
 * pool_stop; spins briefly, then sleeps in memory.atomic.wait32 (so the thread must be
 * allowed to block). */
void UNROLLED_FN(pool_worker)(unrolled_ptr control, int32_t index);

/* The one imported function every host provides: env.abort(message, file, line, column).
 * message and file are AssemblyScript strings (UTF-16LE; byte length in the u32 just before the
 * address) or 0. It must not return: throw, trap or exit. (The threads build also imports its
 * memory, env.memory.) */
void UNROLLED_FN(env_abort)(unrolled_ptr message, unrolled_ptr file, int32_t line, int32_t column);
#endif /* UNROLLED_NO_PLAIN_API */

/* =============================================================================================
 * wasm2c from the npm package "wasm2c" (an emscripten build of wabt's wasm2c 1.0.13; it runs
 * under Node and ships its runtime: wasm-rt.h, wasm-rt-impl.h, wasm-rt-impl.c), for
 *     node node_modules/wasm2c/wasm2c.js build/unrolled.scalar.wasm -o unrolled_w2c.c
 * with every C file of the program (the generated one, wasm-rt-impl.c and the host's) compiled
 * with -DWASM_RT_MODULE_PREFIX=unrolled_ and the package's directory on the include path.
 * (`node node_modules/wasm2c/wasm2c.js --version` prints 1.0.13.) This wasm2c translates the
 * scalar build only: it stops at the data-count section of the others ("invalid section code:
 * 12") and refuses every --enable-* flag ("only default feature flags"). Use
 * unrolled.scalar.wasm, single-threaded: its pool_* exports do nothing.
 *
 * One module per program. The generated C keeps the memory and the globals in static variables:
 * one instance per process, and nothing to free (the memory lives until exit).
 *     per process     unrolled_init();   before the first export; allocates the memory and sets
 *                     the export pointers
 *     export f        unrolled_Z_<f>Z_<sig>(args...), a function pointer; <sig> is the result's
 *                     letter, then one per parameter (i i32, j i64, f f32, d f64; v for none):
 *                     alloc(i32) -> i32 is unrolled_Z_allocZ_ii. Every i32 is u32, f32 float,
 *                     f64 double. Names keep [A-Za-z0-9_] except 'Z'; any other byte would be
 *                     'Z' + two upper-case hex digits (no export of the core has one).
 *     memory          wasm_rt_memory_t *unrolled_Z_memory  ->  ->data, ->size (bytes)
 *     import env.abort  a function pointer the host defines (imports take no prefix):
 *                     void (*Z_envZ_abortZ_viiii)(u32 msg, u32 file, u32 line, u32 col) = handler;
 * The prefix (WASM_RT_MODULE_PREFIX) keeps the generated `init` and Z_... globals from clashing
 * with anything else linked in; without it every name below loses its "unrolled_".
 * Traps (out-of-bounds access, unreachable, or wasm_rt_trap() called from the abort handler)
 * longjmp to the most recent wasm_rt_impl_try() (wasm-rt-impl.h), which the host must have
 * called before the first export that can trap.
 *
 * Memory. memory->data + address is the byte at `address`. The generated loads and stores
 * memcpy in host byte order, so only little-endian hosts read the core's f32 tensors right.
 * The runtime calloc()s the memory and realloc()s it on growth: ->data moves when alloc() grows
 * it. Take ->data again after every call that may allocate.
 *
 * Later wabt releases changed the generated interface more than once (per-instance structs with
 * Z_<module>_instantiate in 1.0.32, w2c_<module>_<export> from 1.0.33 on); the declarations below
 * are for the npm package's 1.0.13 only. Compare with the generated header: a C file that
 * includes both (examples/c/main.c does) fails to compile where they disagree.
 * ============================================================================================= */
#ifdef UNROLLED_WASM2C
#include "wasm-rt.h"

void unrolled_init(void);
extern wasm_rt_memory_t* unrolled_Z_memory;

/* import 'env' 'abort': defined by the host; must not return (call wasm_rt_trap, exit, ...). */
extern void (*Z_envZ_abortZ_viiii)(uint32_t message, uint32_t file, uint32_t line, uint32_t column);

/* exports: the same arguments as unrolled_<name> above */
extern uint32_t (*unrolled_Z_allocZ_ii)(uint32_t bytes);
extern void (*unrolled_Z_freeZ_vi)(uint32_t ptr);
extern void (*unrolled_Z_zeroZ_vii)(uint32_t ptr, uint32_t bytes);
extern uint32_t (*unrolled_Z_simd_enabledZ_iv)(void);

extern void (*unrolled_Z_gemm_nn_f32x4Z_viiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb,
    uint32_t c, uint32_t ldc, uint32_t acc);
extern void (*unrolled_Z_gemm_tn_f32x4Z_viiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb,
    uint32_t c, uint32_t ldc, uint32_t acc);
extern void (*unrolled_Z_gemm_nt_f32x4Z_viiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb,
    uint32_t c, uint32_t ldc, uint32_t acc);
extern void (*unrolled_Z_gemm_nn_scalarZ_viiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb,
    uint32_t c, uint32_t ldc, uint32_t acc);
extern void (*unrolled_Z_gemm_tn_scalarZ_viiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb,
    uint32_t c, uint32_t ldc, uint32_t acc);
extern void (*unrolled_Z_gemm_nt_scalarZ_viiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb,
    uint32_t c, uint32_t ldc, uint32_t acc);
extern void (*unrolled_Z_transposeZ_viiii)(
    uint32_t rows, uint32_t cols, uint32_t src, uint32_t dst);
extern void (*unrolled_Z_fill_rowsZ_viiii)(uint32_t M, uint32_t N, uint32_t c, uint32_t bias);
extern void (*unrolled_Z_fill_rows2Z_viiiii)(
    uint32_t M, uint32_t N, uint32_t c, uint32_t bias1, uint32_t bias2);
extern void (*unrolled_Z_col_sums_accZ_viiii)(uint32_t M, uint32_t N, uint32_t a, uint32_t out);

extern uint32_t (*unrolled_Z_packed_sizeZ_iii)(uint32_t K, uint32_t N);
extern void (*unrolled_Z_pack_panelsZ_viiiiii)(
    uint32_t K, uint32_t N, uint32_t src, uint32_t sk, uint32_t sn, uint32_t dst);
extern void (*unrolled_Z_gemm_packedZ_viiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t sai, uint32_t sak, uint32_t bp,
    uint32_t c, uint32_t ldc, uint32_t acc);
extern void (*unrolled_Z_gemm_packed_partZ_viiiiiiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t sai, uint32_t sak, uint32_t bp,
    uint32_t c, uint32_t ldc, uint32_t acc, uint32_t m0, uint32_t m1, uint32_t n0, uint32_t n1);
extern void (*unrolled_Z_gemm_packed_scalarZ_viiiiiiiiii)(
    uint32_t M, uint32_t N, uint32_t K, uint32_t a, uint32_t sai, uint32_t sak, uint32_t bp,
    uint32_t c, uint32_t ldc, uint32_t acc);

extern void (*unrolled_Z_tanh_array_f32x4Z_viii)(uint32_t n, uint32_t src, uint32_t dst);
extern void (*unrolled_Z_sigmoid_array_f32x4Z_viii)(uint32_t n, uint32_t src, uint32_t dst);
extern void (*unrolled_Z_tanh_array_scalarZ_viii)(uint32_t n, uint32_t src, uint32_t dst);
extern void (*unrolled_Z_sigmoid_array_scalarZ_viii)(uint32_t n, uint32_t src, uint32_t dst);

extern void (*unrolled_Z_rnn_forwardZ_viiiiiiiiiiii)(
    uint32_t T, uint32_t B, uint32_t I, uint32_t H, uint32_t flags, uint32_t x, uint32_t wihP,
    uint32_t whhP, uint32_t bih, uint32_t bhh, uint32_t mask, uint32_t hs);
extern void (*unrolled_Z_rnn_backwardZ_viiiiiiiiiiiiiiiiiii)(
    uint32_t T, uint32_t B, uint32_t I, uint32_t H, uint32_t flags, uint32_t x, uint32_t wihB,
    uint32_t whhB, uint32_t mask, uint32_t hs, uint32_t dhs, uint32_t dh, uint32_t dwih,
    uint32_t dwhh, uint32_t dbih, uint32_t dbhh, uint32_t dx, uint32_t dhnorm, uint32_t pack);
extern void (*unrolled_Z_lstm_forwardZ_viiiiiiiiiiiiii)(
    uint32_t T, uint32_t B, uint32_t I, uint32_t H, uint32_t flags, uint32_t x, uint32_t wihP,
    uint32_t whhP, uint32_t bih, uint32_t bhh, uint32_t mask, uint32_t hs, uint32_t cs,
    uint32_t gates);
extern void (*unrolled_Z_lstm_backwardZ_viiiiiiiiiiiiiiiiiiiiii)(
    uint32_t T, uint32_t B, uint32_t I, uint32_t H, uint32_t flags, uint32_t x, uint32_t wihB,
    uint32_t whhB, uint32_t mask, uint32_t hs, uint32_t cs, uint32_t gates, uint32_t dhs,
    uint32_t dh, uint32_t dc, uint32_t dwih, uint32_t dwhh, uint32_t dbih, uint32_t dbhh,
    uint32_t dx, uint32_t dhnorm, uint32_t pack);
extern void (*unrolled_Z_gru_forwardZ_viiiiiiiiiiiiiii)(
    uint32_t T, uint32_t B, uint32_t I, uint32_t H, uint32_t flags, uint32_t x, uint32_t wihP,
    uint32_t whhP, uint32_t bih, uint32_t bhh, uint32_t mask, uint32_t hs, uint32_t gates,
    uint32_t rn, uint32_t scratch);
extern void (*unrolled_Z_gru_backwardZ_viiiiiiiiiiiiiiiiiiiiii)(
    uint32_t T, uint32_t B, uint32_t I, uint32_t H, uint32_t flags, uint32_t x, uint32_t wihB,
    uint32_t whhB, uint32_t mask, uint32_t hs, uint32_t gates, uint32_t rn, uint32_t dhs,
    uint32_t dR, uint32_t dh, uint32_t dwih, uint32_t dwhh, uint32_t dbih, uint32_t dbhh,
    uint32_t dx, uint32_t dhnorm, uint32_t pack);

extern void (*unrolled_Z_head_forwardZ_viiiiiii)(
    uint32_t R, uint32_t H, uint32_t O, uint32_t h, uint32_t wP, uint32_t b, uint32_t y);
extern void (*unrolled_Z_head_backwardZ_viiiiiiiiii)(
    uint32_t R, uint32_t H, uint32_t O, uint32_t h, uint32_t wB, uint32_t dy, uint32_t dw,
    uint32_t db, uint32_t dh, uint32_t pack);

extern double (*unrolled_Z_softmax_xentZ_diiiiifi)(
    uint32_t R, uint32_t O, uint32_t logits, uint32_t targets, uint32_t weights, float scale,
    uint32_t dlogits);
extern double (*unrolled_Z_mseZ_diiiiifi)(
    uint32_t R, uint32_t O, uint32_t pred, uint32_t targets, uint32_t weights, float scale,
    uint32_t dpred);

extern double (*unrolled_Z_sum_squaresZ_dii)(uint32_t n, uint32_t g);
extern void (*unrolled_Z_scale_inplaceZ_viif)(uint32_t n, uint32_t g, float c);
extern uint32_t (*unrolled_Z_clamp_inplaceZ_iiif)(uint32_t n, uint32_t g, float v);
extern void (*unrolled_Z_sgd_updateZ_viiiifffifi)(
    uint32_t n, uint32_t p, uint32_t g, uint32_t buf, float lr, float momentum, float dampening,
    uint32_t nesterov, float wd, uint32_t first);
extern void (*unrolled_Z_adam_updateZ_viiiiifffffffff)(
    uint32_t n, uint32_t p, uint32_t g, uint32_t m, uint32_t v, float b1, float omb1, float b2,
    float omb2, float eps, float stepSize, float bc2Sqrt, float l2, float decay);
extern void (*unrolled_Z_rmsprop_updateZ_viiiiffff)(
    uint32_t n, uint32_t p, uint32_t g, uint32_t v, float lr, float alpha, float eps, float wd);
extern void (*unrolled_Z_adagrad_updateZ_viiiifff)(
    uint32_t n, uint32_t p, uint32_t g, uint32_t s, float lr, float eps, float wd);

extern float (*unrolled_Z_peak_mul_add_f32x4Z_fif)(uint32_t iters, float seed);

extern void (*unrolled_Z_pool_initZ_viid)(uint32_t control, uint32_t nthreads, double minFlops);
extern void (*unrolled_Z_pool_stopZ_vi)(uint32_t control);
extern void (*unrolled_Z_pool_workerZ_vii)(uint32_t control, uint32_t index);
#endif /* UNROLLED_WASM2C */

#ifdef __cplusplus
}
#endif

#endif /* UNROLLED_H */
