// The phases of a cell that a pool rows job runs (pool.ts run_rows): a cell's forward or its
// BPTT for batch rows [b0, b1) of a layer descriptor. The cells' exported kernels run their
// phase through run_rows, then (backward) what sums over every row.
import { rnn_forward_rows, rnn_backward_rows } from "./rnn";
import { lstm_forward_rows, lstm_backward_rows } from "./lstm";
import { gru_forward_rows, gru_backward_rows } from "./gru";
import { layer_desc } from "./layer_desc";

export const PHASE_RNN_FORWARD: i32 = 0;
export const PHASE_RNN_BACKWARD: i32 = 1;
export const PHASE_LSTM_FORWARD: i32 = 2;
export const PHASE_LSTM_BACKWARD: i32 = 3;
export const PHASE_GRU_FORWARD: i32 = 4;
export const PHASE_GRU_BACKWARD: i32 = 5;
// or'ed into a backward phase: also leave each 4-row strip's Σ‖∂E/∂h_t‖² (hidden_clip.ts)
export const PHASE_NORMS: i32 = 8;

// own: the calling thread owns rows [b0, b1) in a rows job (see gemm_rows).
export function run_phase(phase: i32, desc: usize, b0: i32, b1: i32, own: bool): void {
  const d = layer_desc(desc);
  const norms = (phase & PHASE_NORMS) != 0;
  switch (phase & ~PHASE_NORMS) {
    case PHASE_RNN_FORWARD: rnn_forward_rows(d, b0, b1, own); break;
    case PHASE_RNN_BACKWARD: rnn_backward_rows(d, b0, b1, own, norms); break;
    case PHASE_LSTM_FORWARD: lstm_forward_rows(d, b0, b1, own); break;
    case PHASE_LSTM_BACKWARD: lstm_backward_rows(d, b0, b1, own, norms); break;
    case PHASE_GRU_FORWARD: gru_forward_rows(d, b0, b1, own); break;
    case PHASE_GRU_BACKWARD: gru_backward_rows(d, b0, b1, own, norms); break;
    default: unreachable();
  }
}
