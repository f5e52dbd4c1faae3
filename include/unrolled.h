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
 *   2. With UNROLLED_WASM2C defined: the symbols that wasm2c 1.0.32 (the Debian/Ubuntu package
 *      wabt 1.0.32-1) generates for
 *          wasm2c build/unrolled.scalar.wasm -n unrolled -o unrolled_w2c.c
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
 * wasm2c 1.0.32 (Debian/Ubuntu wabt 1.0.32-1), for
 *     wasm2c build/unrolled.scalar.wasm -n unrolled -o unrolled_w2c.c
 * (`wasm2c --version` prints 1.0.32.) wasm2c 1.0.32 cannot translate the other builds: it
 * crashes on the v128 code of the SIMD and relaxed builds and rejects the threads build's
 * shared memory. Use unrolled.scalar.wasm, single-threaded: its pool_* exports do nothing.
 *
 * Naming. Every symbol is "Z_" + mangle(module) [+ "Z_" + mangle(field)], where mangle keeps
 * [A-Za-z0-9_] except 'Z' and writes any other byte as 'Z' + two upper-case hex digits ('Z' →
 * "Z5A", '.' → "Z2E", '-' → "Z2D"). The module name comes from -n; without it, it is the file
 * name: unrolled.scalar.wasm gives Z_unrolledZ2Escalar_..., hence -n unrolled. So:
 *     instance type   Z_unrolled_instance_t      (struct with the memory and the one global)
 *     per process     wasm_rt_init(); Z_unrolled_init_module();
 *     per instance    Z_unrolled_instantiate(&inst, &env); ... Z_unrolled_free(&inst);
 *     export f        Z_unrolledZ_f(&inst, args...)       (every i32 is u32, f32 float, f64 double)
 *     memory          wasm_rt_memory_t *Z_unrolledZ_memory(&inst)  →  ->data, ->size (bytes)
 *     import env.abort  the host defines  struct Z_env_instance_t  (any contents; its address is
 *                     passed to instantiate and handed back to the import) and
 *                     void Z_envZ_abort(struct Z_env_instance_t*, u32 msg, u32 file, u32 line, u32 col)
 *     at exit         wasm_rt_free();
 * Traps (out-of-bounds access, unreachable, or wasm_rt_trap() called from Z_envZ_abort) longjmp
 * to the most recent wasm_rt_impl_try() (wasm-rt-impl.h); without one, the process aborts.
 *
 * Memory. memory->data + address is the byte at `address` on a little-endian host (on a
 * big-endian host wasm2c 1.0.32, compiled with -DWABT_BIG_ENDIAN=1, stores the memory reversed:
 * use data + size - address - 4 for an f32 and copy element by element). With the default
 * runtime on a 64-bit POSIX host (WASM_RT_MEMCHECK_SIGNAL_HANDLER = 1), memory is one 8 GiB
 * mmap reservation and ->data never moves; built with -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 it is
 * realloc'ed on growth. Take ->data again after every alloc() either way.
 *
 * Later wabt releases (1.0.33 and up) renamed everything (w2c_unrolled instance type,
 * wasm2c_unrolled_instantiate, w2c_unrolled_alloc, imports as w2c_env_abort(struct w2c_env*,
 * ...)); the declarations below are for 1.0.32 only. Compare with the generated header.
 * ============================================================================================= */
#ifdef UNROLLED_WASM2C
#include "wasm-rt.h"

struct Z_unrolled_instance_t;
typedef struct Z_unrolled_instance_t Z_unrolled_instance_t;
struct Z_env_instance_t; /* defined by the host */

void Z_unrolled_init_module(void);
void Z_unrolled_instantiate(Z_unrolled_instance_t* inst, struct Z_env_instance_t* env);
void Z_unrolled_free(Z_unrolled_instance_t* inst);
wasm_rt_memory_t* Z_unrolledZ_memory(Z_unrolled_instance_t* inst);

/* import 'env' 'abort': defined by the host; must not return (call wasm_rt_trap, exit, ...). */
void Z_envZ_abort(struct Z_env_instance_t* env, uint32_t message, uint32_t file, uint32_t line,
                  uint32_t column);

/* exports: the same arguments as unrolled_<name> above, after the instance pointer */
uint32_t Z_unrolledZ_alloc(Z_unrolled_instance_t* inst, uint32_t bytes);
void Z_unrolledZ_free(Z_unrolled_instance_t* inst, uint32_t ptr);
void Z_unrolledZ_zero(Z_unrolled_instance_t* inst, uint32_t ptr, uint32_t bytes);
uint32_t Z_unrolledZ_simd_enabled(Z_unrolled_instance_t* inst);

void Z_unrolledZ_gemm_nn_f32x4(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                               uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb, uint32_t c,
                               uint32_t ldc, uint32_t acc);
void Z_unrolledZ_gemm_tn_f32x4(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                               uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb, uint32_t c,
                               uint32_t ldc, uint32_t acc);
void Z_unrolledZ_gemm_nt_f32x4(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                               uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb, uint32_t c,
                               uint32_t ldc, uint32_t acc);
void Z_unrolledZ_gemm_nn_scalar(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                                uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb, uint32_t c,
                                uint32_t ldc, uint32_t acc);
void Z_unrolledZ_gemm_tn_scalar(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                                uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb, uint32_t c,
                                uint32_t ldc, uint32_t acc);
void Z_unrolledZ_gemm_nt_scalar(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                                uint32_t a, uint32_t lda, uint32_t b, uint32_t ldb, uint32_t c,
                                uint32_t ldc, uint32_t acc);
void Z_unrolledZ_transpose(Z_unrolled_instance_t* inst, uint32_t rows, uint32_t cols, uint32_t src,
                           uint32_t dst);
void Z_unrolledZ_fill_rows(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t c,
                           uint32_t bias);
void Z_unrolledZ_fill_rows2(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t c,
                            uint32_t bias1, uint32_t bias2);
void Z_unrolledZ_col_sums_acc(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t a,
                              uint32_t out);

uint32_t Z_unrolledZ_packed_size(Z_unrolled_instance_t* inst, uint32_t K, uint32_t N);
void Z_unrolledZ_pack_panels(Z_unrolled_instance_t* inst, uint32_t K, uint32_t N, uint32_t src,
                             uint32_t sk, uint32_t sn, uint32_t dst);
void Z_unrolledZ_gemm_packed(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                             uint32_t a, uint32_t sai, uint32_t sak, uint32_t bp, uint32_t c,
                             uint32_t ldc, uint32_t acc);
void Z_unrolledZ_gemm_packed_part(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                                  uint32_t a, uint32_t sai, uint32_t sak, uint32_t bp, uint32_t c,
                                  uint32_t ldc, uint32_t acc, uint32_t m0, uint32_t m1, uint32_t n0,
                                  uint32_t n1);
void Z_unrolledZ_gemm_packed_scalar(Z_unrolled_instance_t* inst, uint32_t M, uint32_t N, uint32_t K,
                                    uint32_t a, uint32_t sai, uint32_t sak, uint32_t bp, uint32_t c,
                                    uint32_t ldc, uint32_t acc);

void Z_unrolledZ_tanh_array_f32x4(Z_unrolled_instance_t* inst, uint32_t n, uint32_t src, uint32_t dst);
void Z_unrolledZ_sigmoid_array_f32x4(Z_unrolled_instance_t* inst, uint32_t n, uint32_t src,
                                     uint32_t dst);
void Z_unrolledZ_tanh_array_scalar(Z_unrolled_instance_t* inst, uint32_t n, uint32_t src, uint32_t dst);
void Z_unrolledZ_sigmoid_array_scalar(Z_unrolled_instance_t* inst, uint32_t n, uint32_t src,
                                      uint32_t dst);

void Z_unrolledZ_rnn_forward(Z_unrolled_instance_t* inst, uint32_t T, uint32_t B, uint32_t I,
                             uint32_t H, uint32_t flags, uint32_t x, uint32_t wihP, uint32_t whhP,
                             uint32_t bih, uint32_t bhh, uint32_t mask, uint32_t hs);
void Z_unrolledZ_rnn_backward(Z_unrolled_instance_t* inst, uint32_t T, uint32_t B, uint32_t I,
                              uint32_t H, uint32_t flags, uint32_t x, uint32_t wihB, uint32_t whhB,
                              uint32_t mask, uint32_t hs, uint32_t dhs, uint32_t dh, uint32_t dwih,
                              uint32_t dwhh, uint32_t dbih, uint32_t dbhh, uint32_t dx,
                              uint32_t dhnorm, uint32_t pack);
void Z_unrolledZ_lstm_forward(Z_unrolled_instance_t* inst, uint32_t T, uint32_t B, uint32_t I,
                              uint32_t H, uint32_t flags, uint32_t x, uint32_t wihP, uint32_t whhP,
                              uint32_t bih, uint32_t bhh, uint32_t mask, uint32_t hs, uint32_t cs,
                              uint32_t gates);
void Z_unrolledZ_lstm_backward(Z_unrolled_instance_t* inst, uint32_t T, uint32_t B, uint32_t I,
                               uint32_t H, uint32_t flags, uint32_t x, uint32_t wihB, uint32_t whhB,
                               uint32_t mask, uint32_t hs, uint32_t cs, uint32_t gates, uint32_t dhs,
                               uint32_t dh, uint32_t dc, uint32_t dwih, uint32_t dwhh, uint32_t dbih,
                               uint32_t dbhh, uint32_t dx, uint32_t dhnorm, uint32_t pack);
void Z_unrolledZ_gru_forward(Z_unrolled_instance_t* inst, uint32_t T, uint32_t B, uint32_t I,
                             uint32_t H, uint32_t flags, uint32_t x, uint32_t wihP, uint32_t whhP,
                             uint32_t bih, uint32_t bhh, uint32_t mask, uint32_t hs, uint32_t gates,
                             uint32_t rn, uint32_t scratch);
void Z_unrolledZ_gru_backward(Z_unrolled_instance_t* inst, uint32_t T, uint32_t B, uint32_t I,
                              uint32_t H, uint32_t flags, uint32_t x, uint32_t wihB, uint32_t whhB,
                              uint32_t mask, uint32_t hs, uint32_t gates, uint32_t rn, uint32_t dhs,
                              uint32_t dR, uint32_t dh, uint32_t dwih, uint32_t dwhh, uint32_t dbih,
                              uint32_t dbhh, uint32_t dx, uint32_t dhnorm, uint32_t pack);

void Z_unrolledZ_head_forward(Z_unrolled_instance_t* inst, uint32_t R, uint32_t H, uint32_t O,
                              uint32_t h, uint32_t wP, uint32_t b, uint32_t y);
void Z_unrolledZ_head_backward(Z_unrolled_instance_t* inst, uint32_t R, uint32_t H, uint32_t O,
                               uint32_t h, uint32_t wB, uint32_t dy, uint32_t dw, uint32_t db,
                               uint32_t dh, uint32_t pack);

double Z_unrolledZ_softmax_xent(Z_unrolled_instance_t* inst, uint32_t R, uint32_t O, uint32_t logits,
                                uint32_t targets, uint32_t weights, float scale, uint32_t dlogits);
double Z_unrolledZ_mse(Z_unrolled_instance_t* inst, uint32_t R, uint32_t O, uint32_t pred,
                       uint32_t targets, uint32_t weights, float scale, uint32_t dpred);

double Z_unrolledZ_sum_squares(Z_unrolled_instance_t* inst, uint32_t n, uint32_t g);
void Z_unrolledZ_scale_inplace(Z_unrolled_instance_t* inst, uint32_t n, uint32_t g, float c);
uint32_t Z_unrolledZ_clamp_inplace(Z_unrolled_instance_t* inst, uint32_t n, uint32_t g, float v);
void Z_unrolledZ_sgd_update(Z_unrolled_instance_t* inst, uint32_t n, uint32_t p, uint32_t g,
                            uint32_t buf, float lr, float momentum, float dampening, uint32_t nesterov,
                            float wd, uint32_t first);
void Z_unrolledZ_adam_update(Z_unrolled_instance_t* inst, uint32_t n, uint32_t p, uint32_t g,
                             uint32_t m, uint32_t v, float b1, float omb1, float b2, float omb2,
                             float eps, float stepSize, float bc2Sqrt, float l2, float decay);
void Z_unrolledZ_rmsprop_update(Z_unrolled_instance_t* inst, uint32_t n, uint32_t p, uint32_t g,
                                uint32_t v, float lr, float alpha, float eps, float wd);
void Z_unrolledZ_adagrad_update(Z_unrolled_instance_t* inst, uint32_t n, uint32_t p, uint32_t g,
                                uint32_t s, float lr, float eps, float wd);

float Z_unrolledZ_peak_mul_add_f32x4(Z_unrolled_instance_t* inst, uint32_t iters, float seed);

void Z_unrolledZ_pool_init(Z_unrolled_instance_t* inst, uint32_t control, uint32_t nthreads,
                           double minFlops);
void Z_unrolledZ_pool_stop(Z_unrolled_instance_t* inst, uint32_t control);
void Z_unrolledZ_pool_worker(Z_unrolled_instance_t* inst, uint32_t control, uint32_t index);
#endif /* UNROLLED_WASM2C */

#ifdef __cplusplus
}
#endif

#endif /* UNROLLED_H */
