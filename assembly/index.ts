// The exported ABI of the unrolled core: every function takes byte pointers into this
// module's linear memory and plain numbers. Nothing managed crosses the boundary and nothing
// allocates except alloc(). docs/abi.md lists each export with its shapes and units.

export { alloc, free, zero, simd_enabled } from "./memory";
export {
  gemm_nn_f32x4, gemm_tn_f32x4, gemm_nt_f32x4, gemm_nn_scalar, gemm_tn_scalar, gemm_nt_scalar,
  transpose, fill_rows, fill_rows2, col_sums_acc,
  packed_size, pack_panels, gemm_packed_part, gemm_packed_scalar,
} from "./gemm";
export { tanh_array_f32x4, sigmoid_array_f32x4, tanh_array_scalar, sigmoid_array_scalar } from "./activations";
export { rnn_forward, rnn_backward } from "./rnn";
export { lstm_forward, lstm_backward } from "./lstm";
export { gru_forward, gru_backward } from "./gru";
export { head_forward, head_backward } from "./head";
export { softmax_xent, mse } from "./loss";
export { sum_squares, scale_inplace, clamp_inplace, sgd_update, adam_update, rmsprop_update, adagrad_update } from "./optim";
export { peak_mul_add_f32x4 } from "./peak";
export { gemm_packed, pool_init, pool_stop, pool_worker } from "./pool";
