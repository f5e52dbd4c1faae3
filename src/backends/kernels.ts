// The one kernel interface. Both backends implement it: wasm.ts forwards to the core, js.ts is
// the readable reference. Every tensor argument is an element offset into `memory.f`
// (0 = none); sizes are element counts; matrices are row-major. The shapes of each call are
// documented once, here (the cells' in the fields of assembly/layer_desc.ts, which they read
// from a layer descriptor), in the fixed vocabulary: T steps, B batch, I input, H hidden,
// G = gates·H, O head outputs, R loss rows.
import type { Lifetime } from '../runtime/lifetime.js';
import type { ArenaMemory } from '../runtime/memory.js';
import type { LayerDescField } from './layer-desc.js';

export type Off = number;

/** flags for the cell kernels */
export const FLAG_TOKENS = 1; // x holds class ids [T,B] instead of dense rows [T,B,I]
export const FLAG_RELU = 2; // RNN: relu instead of tanh

export interface Kernels {
  readonly name: 'wasm' | 'js';
  readonly memory: ArenaMemory;
  /** The core's lifetime (Wasm), which every model on these kernels chains to; null for js. */
  readonly lifetime: Lifetime | null;

  /** Floats the packed form of a right operand B[K,N] occupies in this backend. */
  packedSize(K: number, N: number): number;
  /**
   * dst ← B[K,N] in this backend's packed form, B(k, j) = src[k·sk + j·sn]: Wᵀ of a row-major
   * W[N,K] is sk = 1, sn = K; a row-major W[K,N] is sk = N, sn = 1. (Wasm: ⌈N/8⌉ panels of K×8
   * floats; js: plain row-major [K,N].) Every "…Packed" weight below is packed so.
   */
  packPanels(K: number, N: number, src: Off, sk: number, sn: number, dst: Off): void;
  /**
   * Floats of the scratch (`pack`) the weight-gradient products dW[M,N] += δ[K,M]ᵀ·h[K,N] of the
   * cell and head backward passes need (Wasm: one transposed 256-row block of δ and one packed
   * block of h; js: none).
   */
  weightGradScratch(K: number, M: number, N: number): number;

  /**
   * Stores one field of the layer descriptor at `desc` (LAYER_DESC_FLOATS floats of this memory;
   * the fields, their shapes and modes: assembly/layer_desc.ts). Shapes, flags and
   * clipHiddenNorm are plain numbers; tensors are element offsets (0 = none), which the backend
   * stores in its own form (Wasm: byte addresses).
   */
  setLayerField(desc: Off, field: LayerDescField, value: number): void;

  // The cells. Each reads its layer's shapes and tensors from the descriptor at `desc`; the
  // backward reads what its forward left (hs, cs, gates, rn) and accumulates the gradients.
  /** RNN unroll: hs [T+1,B,H] ← h_1..h_T from hs[0] = h0. */
  rnnForward(desc: Off): void;
  /**
   * RNN BPTT: dhs [T,B,H] in ∂E/∂h_t from above, out δpre; dh [B,H] in ∂E/∂h_T, out ∂E/∂h_0;
   * dhnorm [T] ‖∂E/∂h_t‖ after clipping (0 = skip); clipHiddenNorm θ > 0 scales each row's
   * ∂E/∂h_t to norm ≤ θ before step t uses it (0 = off; docs/equations.md#per-timestep-clipping).
   */
  rnnBackward(desc: Off): void;
  /** LSTM unroll: gates [T,B,4H] post-activation (i,f,g,o); hs, cs [T+1,B,H] with h0, c0 at index 0. */
  lstmForward(desc: Off): void;
  /** LSTM BPTT: gates overwritten with δpre; dhs read only; dh, dc [B,H] in: from beyond T, out: ∂E/∂h_0, ∂E/∂c_0 (δc is never clipped). */
  lstmBackward(desc: Off): void;
  /** GRU unroll: gates [T,B,3H] (r,z,n); rn [T,B,H] = h·W_hnᵀ + b_hn; scratch [B,3H]. */
  gruForward(desc: Off): void;
  /** GRU BPTT: gates overwritten with δA; dR [T,B,3H] receives δR; dh as for the RNN. */
  gruBackward(desc: Off): void;

  /** y [R,O] = h [R,H]·W [O,H]ᵀ + b, with wTransposedPacked = Wᵀ [H,O] packed. */
  headForward(R: number, H: number, O: number, h: Off, wTransposedPacked: Off, b: Off, y: Off): void;
  /** dW += dyᵀ·h; db += Σ dy; dh [R,H] = dy·W (overwritten); wPacked = W [O,H] packed; pack: weightGradScratch(R, O, H) floats. */
  headBackward(R: number, H: number, O: number, h: Off, wPacked: Off, dy: Off, dw: Off, db: Off, dh: Off, pack: Off): void;

  // The scalars of a training step's calls (a loss's scale and value, a norm, a clipping factor)
  // pass through a Float64Array `io`: a double given to or returned from a call that V8 does not
  // inline is boxed on the heap, and a warmed-up step allocates nothing.

  /**
   * scale·Σ_r v_r·(logsumexp(logits_r) − logits_r[target_r]) with v_r = w_r·classWeights[target_r]
   * (classWeights [O], 0 = all 1); dlogits unless 0. targets are ids. io[0]: the scale in, the loss out.
   */
  softmaxXent(R: number, O: number, logits: Off, targets: Off, weights: Off, classWeights: Off, dlogits: Off, io: Float64Array): void;
  /** Σ_r w_r·classWeights[target_r] over rows whose target is in [0, O): the class-weighted mean's divisor. */
  xentWeightTotal(R: number, O: number, targets: Off, weights: Off, classWeights: Off): number;
  /** scale·Σ_r w_r·Σ_o (pred − target)²; dpred unless 0. io[0]: the scale in, the loss out. */
  mse(R: number, O: number, pred: Off, targets: Off, weights: Off, dpred: Off, io: Float64Array): void;

  /**
   * How many ids the kernels refused since the last call, and resets the count: token ids of x
   * outside [0, I) in the cells' forward and backward, targets outside [0, O) in softmaxXent.
   * Their rows were skipped (nothing read or written for them). The library checks every id
   * before a batch reaches memory, so anything but 0 means a copy was corrupted after its check.
   */
  takeIdErrors(): number;
  /** Σ g² (in f64) into io[0]. */
  sumSquares(n: number, g: Off, io: Float64Array): void;
  /** g ← io[0]·g */
  scaleInplace(n: number, g: Off, io: Float64Array): void;
  /** clamps to [−v, v]; returns how many elements changed */
  clampInplace(n: number, g: Off, v: number): number;
  sgdUpdate(
    n: number,
    p: Off,
    g: Off,
    buf: Off,
    lr: number,
    momentum: number,
    dampening: number,
    nesterov: boolean,
    wd: number,
    first: boolean,
  ): void;
  /** PyTorch 1.13 Adam/AdamW: θ·decay, g + l2·θ, moments with β and 1 − β (both given), bias-corrected step. */
  adamUpdate(
    n: number,
    p: Off,
    g: Off,
    m: Off,
    v: Off,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    eps: number,
    stepSize: number,
    bc2Sqrt: number,
    l2: number,
    decay: number,
  ): void;
  rmspropUpdate(n: number, p: Off, g: Off, v: Off, lr: number, alpha: number, eps: number, wd: number): void;
  adagradUpdate(n: number, p: Off, g: Off, s: Off, lr: number, eps: number, wd: number): void;
}
