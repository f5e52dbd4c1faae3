// The layer descriptor: the shapes and buffers of one recurrent layer, written once by the host
// into linear memory (the library writes one per layer when it lays out its work arena) and
// passed to every cell kernel as a single byte address: rnn_forward(desc), lstm_backward(desc), …
//
// This class is the one declaration of the layout. scripts/gen-abi.mjs reads its fields in
// order (`name: type; // comment`) and writes the C struct of include/unrolled.h (with offset
// checks), the offset table src/runtime/layer-desc.generated.ts and the field table of
// docs/abi.md. Fields sit at their natural alignment with no padding between them: the f64
// comes first, so every later field is a 4-byte value at a multiple of 4 (the generator refuses
// any order that would need padding). Pointers are byte addresses, 0 = none where optional.
// Each comment gives the field's shape and mode ([in] read, [out] written, [in/out], [acc]
// added to, [scratch]) and which kernels read it (fwd, bwd; rnn, lstm, gru).

@unmanaged
export class LayerDesc {
  clipHiddenNorm: f64; // θ [in], bwd: per-timestep clipping of each row's ∂E/∂h_t to norm ≤ θ; 0 = off (exact)
  T: i32; // steps
  B: i32; // batch rows
  I: i32; // input features (the vocabulary with FLAG_TOKENS; R for layers above the first)
  H: i32; // hidden units; G = gates·H (rnn 1, gru 3, lstm 4)
  flags: i32; // UNROLLED_FLAG_TOKENS (layer 0 only) | UNROLLED_FLAG_RELU (rnn only)
  P: i32; // lstm projection size, 0 < P < H: h_t = W_hr·(o⊙tanh(c_t)) has P values; 0 = none. R = P or H: the size of h
  x: usize; // [T,B,I] or ids [T,B] [in]; layer k > 0: hs of layer k−1 + B·R·4 bytes (h_1..h_T)
  wihTransposedPacked: usize; // W_ihᵀ [I,G] packed [in], fwd
  whhTransposedPacked: usize; // W_hhᵀ [R,G] packed [in], fwd
  wihPacked: usize; // W_ih [G,I] packed [in], bwd
  whhPacked: usize; // W_hh [G,R] packed [in], bwd
  bih: usize; // b_ih [G] [in], fwd
  bhh: usize; // b_hh [G] [in], fwd
  mask: usize; // [T,B] 0/1 [in], or 0 = no padding; a 0 row carries its state through step t
  hs: usize; // [T+1,B,R]: hs[0] = h0 [in]; fwd writes h_1..h_T [out]; bwd [in]
  cs: usize; // lstm [T+1,B,H]: cs[0] = c0, like hs
  gates: usize; // lstm [T,B,4H], gru [T,B,3H]: fwd [out] post-activations; bwd [in/out] → δ
  rn: usize; // gru [T,B,H]: fwd [out] h_{t−1}·W_hnᵀ + b_hn; bwd [in]
  scratch: usize; // gru fwd [B,3H]; lstm with P bwd [B,2H] [scratch]
  dhs: usize; // [T,B,R] [in] ∂E/∂h_t from above; rnn bwd [in/out]: leaves δpre (rebuild it each time)
  dR: usize; // gru bwd [T,B,3H] [out] δ of the hidden-side pre-activations
  dh: usize; // [B,R] [in/out]: in ∂E/∂h_T from beyond the sequence (zero: full BPTT), out ∂E/∂h_0
  dc: usize; // lstm [B,H] [in/out]: the same for the cell state
  dwih: usize; // dW_ih [G,I] [acc]
  dwhh: usize; // dW_hh [G,R] [acc]
  dbih: usize; // db_ih [G] [acc]
  dbhh: usize; // db_hh [G] [acc]
  dx: usize; // [T,B,I] [out] ∂E/∂x, or 0 to skip (0 with FLAG_TOKENS)
  dhnorm: usize; // [T] [out] ‖∂E/∂h_t‖ over the step's B·R values (after clipping), or 0 to skip
  pack: usize; // ≥ max(weight_grad_scratch_size(T·B, G, max(I, R, H)), 2·T·⌈B/4⌉) floats [scratch], bwd (I counts as 1 with FLAG_TOKENS); during BPTT it holds the f64 dhnorm sums of 4-row strips
  whrTransposedPacked: usize; // lstm with P: W_hrᵀ [H,P] packed [in], fwd
  whrPacked: usize; // lstm with P: W_hr [P,H] packed [in], bwd
  ms: usize; // lstm with P: [T,B,H] m_t = o⊙tanh(c_t): fwd [out] (0 on padded rows), bwd [in]
  dhp: usize; // lstm with P: [T,B,P] [scratch] bwd: ∂E/∂h_t after clipping, per step
  dwhr: usize; // lstm with P: dW_hr [P,H] [acc]
  b0: i32; // rows [b0, b1) of the batch that the call runs; 0 and 0 = all B rows (see b1)
  b1: i32; // one past the last row, 0 = B. A range short of the batch runs the time loops (input projection, states, gates, BPTT δ, dh and dc) of its rows only; a backward then skips what sums over every row (weight gradients, dx, dhnorm)
}

// R: the size of h (and of a layer's output per direction): P with an LSTM projection, else H.
// @ts-ignore: decorator
@inline export function state_size(d: LayerDesc): i32 {
  return d.P > 0 ? d.P : d.H;
}

// The rows [row_begin, row_end) a cell kernel runs: b0 and b1 clamped to the batch, b1 = 0 = B.
// @ts-ignore: decorator
@inline export function row_end(d: LayerDesc): i32 {
  return d.b1 > 0 ? min(d.b1, d.B) : d.B;
}

// @ts-ignore: decorator
@inline export function row_begin(d: LayerDesc): i32 {
  return min(max(d.b0, 0), row_end(d));
}

// @ts-ignore: decorator
@inline export function layer_desc(desc: usize): LayerDesc {
  return changetype<LayerDesc>(desc);
}
