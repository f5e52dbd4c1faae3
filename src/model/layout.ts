// Size tables, after llm.c's malloc_and_point_parameters: one place decides where every tensor
// lives; the arenas are allocated from the totals and everything else holds offsets.
import { FLAG_RELU, FLAG_TOKENS } from '../backends/kernels.js';
import { LAYER_DESC_FLOATS, type LayerDescValues } from '../backends/layer-desc.js';
import { GATES, type ResolvedConfig } from './config.js';

export interface TensorSlot {
  /** PyTorch state_dict name */
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** element offset from the start of the parameter block */
  readonly offset: number;
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Parameters in PyTorch order: per layer weight_ih, weight_hh, bias_ih, bias_hh; then the head. */
export function parameterTable(cfg: ResolvedConfig): { slots: TensorSlot[]; total: number } {
  const H = cfg.hiddenSize,
    GH = GATES[cfg.cell] * H;
  const slots: TensorSlot[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]): void => {
    const size = shape.reduce((a, b) => a * b, 1);
    slots.push({ name, shape, size, offset });
    offset += align4(size);
  };
  for (let k = 0; k < cfg.numLayers; k++) {
    add(`weight_ih_l${k}`, [GH, k === 0 ? cfg.inputSize : H]);
    add(`weight_hh_l${k}`, [GH, H]);
    add(`bias_ih_l${k}`, [GH]);
    add(`bias_hh_l${k}`, [GH]);
  }
  add('head.weight', [cfg.outputSize, H]);
  add('head.bias', [cfg.outputSize]);
  return { slots, total: offset };
}

/** Per-layer offsets (absolute, in the memory's float view) of one layer's tensors. */
export interface LayerParams {
  inputSize: number;
  wih: number;
  whh: number;
  bih: number;
  bhh: number; // parameters
  dwih: number;
  dwhh: number;
  dbih: number;
  dbhh: number; // their gradients
  // the right operands of the products in the backend's packed form (Kernels.packPanels)
  wihTransposedPacked: number;
  whhTransposedPacked: number; // the forward's: W_ihᵀ [I,G], W_hhᵀ [H,G]
  wihPacked: number;
  whhPacked: number; // the backward's: W_ih [G,I], W_hh [G,H]
}

/** Floats of a right operand B[K,N] in the backend's packed form (Kernels.packedSize). */
export type PackedSize = (K: number, N: number) => number;

export interface ParamArena {
  /** start of the block; params at base, grads at base + P */
  base: number;
  /** parameter floats (aligned), = gradient floats */
  P: number;
  total: number;
  layers: LayerParams[];
  headW: number;
  headB: number;
  dheadW: number;
  dheadB: number;
  headWTransposedPacked: number; // Wᵀ [H,O] packed (forward)
  headWPacked: number; // W [O,H] packed (backward)
}

export function paramArenaSize(cfg: ResolvedConfig, packedSize: PackedSize): number {
  return pointParams(cfg, 0, packedSize).total;
}

/** Parameters, gradients (same layout, P floats later), then every packed weight. */
export function pointParams(cfg: ResolvedConfig, base: number, packedSize: PackedSize): ParamArena {
  const { slots, total: P } = parameterTable(cfg);
  const at = (name: string): number => base + slots.find((s) => s.name === name)!.offset;
  const H = cfg.hiddenSize,
    GH = GATES[cfg.cell] * H;
  let packed = base + 2 * P;
  const take = (K: number, N: number): number => {
    const at = packed;
    packed += align4(packedSize(K, N));
    return at;
  };
  const layers: LayerParams[] = [];
  for (let k = 0; k < cfg.numLayers; k++) {
    const inputSize = k === 0 ? cfg.inputSize : H;
    const wihTransposedPacked = take(inputSize, GH),
      whhTransposedPacked = take(H, GH),
      wihPacked = take(GH, inputSize),
      whhPacked = take(GH, H);
    layers.push({
      inputSize,
      wih: at(`weight_ih_l${k}`),
      whh: at(`weight_hh_l${k}`),
      bih: at(`bias_ih_l${k}`),
      bhh: at(`bias_hh_l${k}`),
      dwih: at(`weight_ih_l${k}`) + P,
      dwhh: at(`weight_hh_l${k}`) + P,
      dbih: at(`bias_ih_l${k}`) + P,
      dbhh: at(`bias_hh_l${k}`) + P,
      wihTransposedPacked,
      whhTransposedPacked,
      wihPacked,
      whhPacked,
    });
  }
  const headWTransposedPacked = take(H, cfg.outputSize),
    headWPacked = take(cfg.outputSize, H);
  return {
    base,
    P,
    total: packed - base,
    layers,
    headW: at('head.weight'),
    headB: at('head.bias'),
    dheadW: at('head.weight') + P,
    dheadB: at('head.bias') + P,
    headWTransposedPacked,
    headWPacked,
  };
}

/** Activations and their gradients for one layer, for T steps of B rows. */
export interface LayerWork {
  desc: number; // the layer descriptor the cell kernels read (describeLayer; LAYER_DESC_FLOATS floats)
  dhs: number; // [T,B,H] ∂E/∂(this layer's outputs): dhsA or dhsB, alternating from the top layer down
  hs: number; // [T+1,B,H]
  cs: number; // [T+1,B,H] LSTM
  gates: number; // [T,B,G] LSTM, GRU
  rn: number; // [T,B,H] GRU
  dR: number; // [T,B,G] GRU
  dh: number; // [B,H]
  dc: number; // [B,H] LSTM
  dhnorm: number; // [T]
}

export interface WorkArena {
  base: number;
  total: number;
  T: number;
  B: number;
  x: number; // [T,B,I] or ids [T,B]
  mask: number; // [T,B] state mask (padding)
  lossw: number; // [T,B] loss row weights when a lossMask is given: mask ⊙ lossMask
  targets: number; // up to [T,B,O]
  y: number; // predictions, up to [T,B,O]
  dy: number; // up to [T,B,O]
  dhsA: number;
  dhsB: number; // [T,B,H] ping-pong: ∂E/∂(layer output) for alternating layers
  dx: number; // [T,B,I] ∂E/∂x of dense input (0 for token input, whose ids have none)
  scratch: number; // [B,G] GRU
  pack: number; // packedSize(T·B, max(I, H)): activations packed for the weight-gradient products
  layers: LayerWork[];
}

export function pointWork(cfg: ResolvedConfig, T: number, B: number, base: number, packedSize: PackedSize): WorkArena {
  const H = cfg.hiddenSize,
    G = GATES[cfg.cell] * H,
    O = cfg.outputSize;
  const lstm = cfg.cell === 'lstm',
    gru = cfg.cell === 'gru';
  let o = base;
  const take = (n: number): number => {
    const at = o;
    o += align4(n);
    return at;
  };
  const x = take(T * B * (cfg.input === 'tokens' ? 1 : cfg.inputSize));
  const mask = take(T * B);
  const lossw = take(T * B);
  const targets = take(T * B * O);
  const y = take(T * B * O);
  const dy = take(T * B * O);
  const dhsA = take(T * B * H);
  const dhsB = take(T * B * H);
  const dx = cfg.input === 'tokens' ? 0 : take(T * B * cfg.inputSize);
  const scratch = gru ? take(B * G) : 0;
  const pack = take(packedSize(T * B, Math.max(cfg.input === 'tokens' ? 1 : cfg.inputSize, H)));
  const layers: LayerWork[] = [];
  for (let k = 0; k < cfg.numLayers; k++) {
    layers.push({
      desc: take(LAYER_DESC_FLOATS),
      dhs: (cfg.numLayers - 1 - k) % 2 === 0 ? dhsA : dhsB,
      hs: take((T + 1) * B * H),
      cs: lstm ? take((T + 1) * B * H) : 0,
      gates: lstm || gru ? take(T * B * G) : 0,
      rn: gru ? take(T * B * H) : 0,
      dR: gru ? take(T * B * G) : 0,
      dh: take(B * H),
      dc: lstm ? take(B * H) : 0,
      dhnorm: take(T),
    });
  }
  return { base, total: o - base, T, B, x, mask, lossw, targets, y, dy, dhsA, dhsB, dx, scratch, pack, layers };
}

/**
 * The layer descriptor of layer l over a parameter arena and a work arena: every field the cell
 * kernels read, as element offsets. The fields that change between calls (mask, dhnorm,
 * clipHiddenNorm, and layer 0's dx) are 0 here; the network sets them before each call.
 */
export function describeLayer(cfg: ResolvedConfig, p: ParamArena, w: WorkArena, l: number): LayerDescValues {
  const lp = p.layers[l],
    lw = w.layers[l],
    below = w.layers[l - 1];
  const tokens = l === 0 && cfg.input === 'tokens',
    relu = cfg.cell === 'rnn' && cfg.nonlinearity === 'relu';
  return {
    clipHiddenNorm: 0,
    T: w.T,
    B: w.B,
    I: lp.inputSize,
    H: cfg.hiddenSize,
    flags: (tokens ? FLAG_TOKENS : 0) | (relu ? FLAG_RELU : 0),
    // layer l reads the batch, or the hidden states h_1 … h_T of layer l − 1
    x: l === 0 ? w.x : below.hs + w.B * cfg.hiddenSize,
    wihTransposedPacked: lp.wihTransposedPacked,
    whhTransposedPacked: lp.whhTransposedPacked,
    wihPacked: lp.wihPacked,
    whhPacked: lp.whhPacked,
    bih: lp.bih,
    bhh: lp.bhh,
    mask: 0,
    hs: lw.hs,
    cs: lw.cs,
    gates: lw.gates,
    rn: lw.rn,
    scratch: w.scratch,
    dhs: lw.dhs,
    dR: lw.dR,
    dh: lw.dh,
    dc: lw.dc,
    dwih: lp.dwih,
    dwhh: lp.dwhh,
    dbih: lp.dbih,
    dbhh: lp.dbhh,
    // ∂E/∂x of layer l > 0 is ∂E/∂(outputs of layer l − 1)
    dx: l === 0 ? 0 : below.dhs,
    dhnorm: 0,
    pack: w.pack,
  };
}
