// The exported ABI of the unrolled core: every function takes byte pointers into this
// module's linear memory and plain numbers. Nothing managed crosses the boundary and nothing
// allocates except alloc().
//
// This file is the one declaration of the ABI. scripts/gen-abi.mjs (run by `npm run build:wasm`)
// reads the export lists below, the comment above each list (a "# title" line, then the text
// of that group) and each function's own parameters and leading comment, checks them against
// the compiled exports, and writes src/runtime/abi.generated.ts, include/unrolled.h and the
// export table of docs/abi.md from them. Parameter types carry meaning there: usize is a byte
// address (0 = none where optional), u32 a byte count, i32 a count, flag or 0/1, f32/f64 a value.

// # Memory
// The core's only allocator (AssemblyScript's TLSF). alloc() may grow the memory: in every
// host, take the memory's base address again after each alloc(). One block is at most
// 1 GiB - 4 bytes (larger requests call env.abort); a failed grow traps (unreachable). free()
// accepts only pointers from alloc(), once each (unchecked: anything else corrupts the heap);
// free(0) does nothing. In the threads build only the main instance may call alloc() and
// free() (the allocator's state is per instance, its heap is shared).
export { alloc, free, zero, simd_enabled } from "./memory";

// # Bias rows and column sums
// The helpers around the products that the cells use for biases and their gradients.
export { fill_rows, fill_rows2, col_sums_acc } from "./gemm";

// # Packed panels
// The products of every cell, the head and the weight gradients. Bp is a right operand B[K,N]
// in the packed-panel form: ceil(N/8) panels of K x 8 floats, panel after panel; row k of
// panel p holds B(k, 8p .. 8p+7), zeros beyond column N-1. A is addressed through two strides:
// a(i,k) at a + (i*sai + k*sak)*4, so
//     A row-major [M,K]:              sai = K (its row stride), sak = 1
//     A^T of a row-major X[K,M]:      sai = 1, sak = M (its row stride)
// C[M,N] (+)= A·B with row stride ldc; acc = 1: C [acc], acc = 0: C [out]. C must not overlap
// A or Bp.
export { packed_size, pack_panels, gemm_packed_part, gemm_packed_scalar } from "./gemm";
export { gemm_packed } from "./pool";

// # Weight gradients
// C[M,N] [acc] += A^T·B, A [K,M] and B [K,N] row-major with row strides lda and ldb (dW += δ^T·h
// over K = T*B rows). scratch holds weight_grad_scratch_size(K, M, N) floats [scratch]. Done in
// 256-row blocks of A transposed into scratch (read at a large stride, A's columns would alias
// in the cache): bit-identical to gemm_packed(M, N, K, A, 1, lda, packed B, C, ldc, 1).
export { weight_grad_scratch_size, weight_grad_acc } from "./weight_grad";

// # Activations
// dst[n] [out] = f(src[n]) [in]; dst may equal src. The core's own polynomial exp, sigmoid and
// tanh (about 3e-7 relative error at worst), the same formulas the cells use. The *_f32x4
// names run the scalar twin in the scalar build (the export names stay).
export { tanh_array_f32x4, sigmoid_array_f32x4, tanh_array_scalar, sigmoid_array_scalar } from "./activations";

// # Cells
// The whole unroll over T steps (forward) and the whole BPTT (backward) in one call each. Every
// cell kernel takes one argument: the byte address of a layer descriptor, struct
// unrolled_layer_desc (assembly/layer_desc.ts; its fields and offsets are in the "Layer
// descriptor" part of this header and docs/abi.md), which holds the layer's shapes, flags,
// buffers and the backward's clipHiddenNorm. A host writes one per layer, once per layout of its
// buffers, and changes only the fields that differ between calls (mask, dx, dhnorm,
// clipHiddenNorm). Each kernel reads the fields its cell uses and ignores the others.
//   b0 and b1 zero run the whole batch. A range [b0, b1) runs only those rows' time loops, with
//   the same bits for them, and a backward over part of the batch adds no weight gradient
//   (the threads build's pool runs each thread's block of rows that way).
//   Layer k > 0 reads x = hs of layer k-1 plus B*H*4 bytes (its h_1..h_T), with I = H.
//   The backward reads what its forward left (hs, cs, gates, rn): run it right after its
//   forward, with packs of the same weights. Its gradients accumulate (zero them first).
//   pack is shared: the library uses one buffer for every layer and head_backward.
//   clipHiddenNorm theta > 0: before step t uses it, each row's dE/dh_t (from above plus from
//   step t+1; for the LSTM not dE/dc_t) is scaled by theta/||dE/dh_t|| where that norm exceeds
//   theta, so the result is no longer the exact gradient. 0 = off (the exact gradient).
export { rnn_forward, rnn_backward } from "./rnn";
export { lstm_forward, lstm_backward } from "./lstm";
export { gru_forward, gru_backward } from "./gru";

// # Head
// y = h·W^T + b over R contiguous rows of the top layer's hidden states: h = hs + B*H*4
// (every step, R = T*B) or h = hs + T*B*H*4 (last step, R = B).
export { head_forward, head_backward } from "./head";

// # Losses
// Over R rows. weights [in] [R] 0/1 row weights or 0 (all rows count). scale: 1/count for a
// mean, 1 for a sum (count = real rows for cross-entropy, real rows * O for MSE). Returns the
// loss (f64); writes d loss/d prediction unless that pointer is 0. softmax_xent_weighted also
// weights each row by class_weights [O] at its target (PyTorch's CrossEntropyLoss(weight=...));
// its mean's scale is 1 / xent_weight_total(...), the total weight of the counted rows.
export { softmax_xent, softmax_xent_weighted, xent_weight_total, mse } from "./loss";

// # Refused ids
// The kernels that index a row by id check each id first: x with FLAG_TOKENS in the cells'
// forward and backward against [0, I), the targets of softmax_xent against [0, O). A row whose
// id is not an integer in that range is skipped (nothing is read or written for it: its input
// projection keeps the biases alone, its dW_ih column gets nothing, its loss row counts as
// weight 0) and counted. Hosts check the count after those kernels and treat anything but 0 as
// an error: the results are meaningless, but no memory outside the arguments was touched.
export { take_id_errors } from "./status";

// # Clipping and optimizers
// Over n floats: p parameters, g gradients and the moments are parallel arrays (the whole
// parameter block in one call).
export { sum_squares, scale_inplace, clamp_inplace, sgd_update, adam_update, rmsprop_update, adagrad_update } from "./optim";

// # The pool
// Does something only in the threads build (docs/abi.md "The threads build"); elsewhere
// pool_init and pool_stop leave every product on the calling thread and pool_worker returns at
// once. The host:
//   1. instantiates the main instance on a shared memory (env.memory) and allocates the control
//      block there: control = alloc(UNROLLED_POOL_CONTROL_BYTES) (zeroed; 4-byte alignment is
//      required, the library aligns it to 64 bytes);
//   2. starts n - 1 threads; thread `index` (1 .. n-1, each once) instantiates the same module on
//      the same memory and calls pool_worker(control, index), which blocks until pool_stop;
//      a worker instance calls nothing else;
//   3. once the workers run, calls pool_init(control, n, minFlops) on the main instance;
//   4. to end, calls pool_stop(control) on the main instance, after which every worker returns
//      and the main instance runs single-threaded. The block keeps its stop flag: zero it (or
//      allocate a new one) before starting another pool.
// Only the main instance calls the kernels, from one thread at a time.
export { pool_init, pool_stop, pool_worker } from "./pool";
