// Size tables, after llm.c's malloc_and_point_parameters: one place decides where every tensor
// lives; the arenas are allocated from the totals and everything else holds offsets.
import { FLAG_RELU, FLAG_TOKENS } from '../backends/kernels.js';
import { LAYER_DESC_FLOATS, type LayerDescValues } from '../backends/layer-desc.js';
import { directions, GATES, stateSize, type ResolvedConfig } from './config.js';

export interface TensorSlot {
  /** PyTorch state_dict name */
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** element offset from the start of the parameter block */
  readonly offset: number;
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

/** The features layer 0 reads per step: the embedding's, the vocabulary's one-hot (as ids), or the dense input's. */
export function layer0InputSize(cfg: ResolvedConfig): number {
  return cfg.embeddingSize > 0 ? cfg.embeddingSize : cfg.inputSize;
}

/** Layer 0 reads token ids (the kernels' one-hot gather): token input without an embedding. */
export function readsIds(cfg: ResolvedConfig): boolean {
  return cfg.input === 'tokens' && cfg.embeddingSize === 0;
}

/** `_reverse` for the reverse direction of a bidirectional layer, as PyTorch names it. */
export function directionSuffix(d: number): string {
  return d === 0 ? '' : '_reverse';
}

/**
 * Parameters in PyTorch order: the embedding (if any); per layer and direction weight_ih,
 * weight_hh, bias_ih, bias_hh, weight_hr (biases absent with bias: false, weight_hr without a
 * projection; the reverse direction's names end in _reverse); then the head, which reads D·R
 * features (D = 2 when bidirectional; R = projSize or H, the size of h).
 */
export function parameterTable(cfg: ResolvedConfig): { slots: TensorSlot[]; total: number } {
  const H = cfg.hiddenSize,
    R = stateSize(cfg),
    GH = GATES[cfg.cell] * H,
    D = directions(cfg);
  const slots: TensorSlot[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]): void => {
    const size = shape.reduce((a, b) => a * b, 1);
    slots.push({ name, shape, size, offset });
    offset += align4(size);
  };
  if (cfg.embeddingSize > 0) add('embedding.weight', [cfg.inputSize, cfg.embeddingSize]);
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < D; d++) {
      const sfx = directionSuffix(d);
      add(`weight_ih_l${k}${sfx}`, [GH, k === 0 ? layer0InputSize(cfg) : D * R]);
      add(`weight_hh_l${k}${sfx}`, [GH, R]);
      if (cfg.bias) {
        add(`bias_ih_l${k}${sfx}`, [GH]);
        add(`bias_hh_l${k}${sfx}`, [GH]);
      }
      if (cfg.projSize > 0) add(`weight_hr_l${k}${sfx}`, [cfg.projSize, H]);
    }
  }
  add('head.weight', [cfg.outputSize, D * R]);
  add('head.bias', [cfg.outputSize]);
  return { slots, total: offset };
}

/** Per-layer offsets (absolute, in the memory's float view) of one direction of one layer's tensors. */
export interface LayerParams {
  inputSize: number;
  wih: number;
  whh: number;
  bih: number;
  bhh: number; // parameters (with bias: false, a block of zeros the kernels add)
  dwih: number;
  dwhh: number;
  dbih: number;
  dbhh: number; // their gradients (with bias: false, a scratch block nothing reads)
  // the right operands of the products in the backend's packed form (Kernels.packPanels)
  wihTransposedPacked: number;
  whhTransposedPacked: number; // the forward's: W_ihᵀ [I,G], W_hhᵀ [R,G]
  wihPacked: number;
  whhPacked: number; // the backward's: W_ih [G,I], W_hh [G,R]
  /** LSTM projection (0 without): W_hr [P,H], its gradient, W_hrᵀ [H,P] and W_hr packed */
  whr: number;
  dwhr: number;
  whrTransposedPacked: number;
  whrPacked: number;
}

/** Floats of a right operand B[K,N] in the backend's packed form (Kernels.packedSize). */
export type PackedSize = (K: number, N: number) => number;
/** Floats of scratch for dW[M,N] += δ[K,M]ᵀ·h[K,N] (Kernels.weightGradScratch). */
export type WeightGradScratch = (K: number, M: number, N: number) => number;

export interface ParamArena {
  /** start of the block; params at base, grads at base + P */
  base: number;
  /** parameter floats (aligned), = gradient floats */
  P: number;
  total: number;
  /** per layer and direction, index l·D + d (d = 1: the reverse direction) */
  layers: LayerParams[];
  /** embedding.weight [V,E] and its gradient; 0 without an embedding */
  embedding: number;
  dembedding: number;
  headW: number;
  headB: number;
  dheadW: number;
  dheadB: number;
  headWTransposedPacked: number; // Wᵀ [DR,O] packed (forward)
  headWPacked: number; // W [O,DR] packed (backward)
  /** bias: false: G zeros every layer reads as its biases, and G floats their gradients go to (zeroed per backward) */
  noBias: number;
  noBiasGrad: number;
}

export function paramArenaSize(cfg: ResolvedConfig, packedSize: PackedSize): number {
  return pointParams(cfg, 0, packedSize).total;
}

/** Parameters, gradients (same layout, P floats later), then every packed weight. */
export function pointParams(cfg: ResolvedConfig, base: number, packedSize: PackedSize): ParamArena {
  const { slots, total: P } = parameterTable(cfg);
  const at = (name: string): number => base + slots.find((s) => s.name === name)!.offset;
  const H = cfg.hiddenSize,
    R = stateSize(cfg),
    Pj = cfg.projSize,
    GH = GATES[cfg.cell] * H,
    D = directions(cfg);
  let packed = base + 2 * P;
  const take = (K: number, N: number): number => {
    const at = packed;
    packed += align4(packedSize(K, N));
    return at;
  };
  // outside the P floats the optimizer updates: never trained, never saved
  const noBias = cfg.bias ? 0 : take(1, GH);
  const noBiasGrad = cfg.bias ? 0 : take(1, GH);
  const layers: LayerParams[] = [];
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < D; d++) {
      const sfx = directionSuffix(d);
      const inputSize = k === 0 ? layer0InputSize(cfg) : D * R;
      const wihTransposedPacked = take(inputSize, GH),
        whhTransposedPacked = take(R, GH),
        wihPacked = take(GH, inputSize),
        whhPacked = take(GH, R);
      const whrTransposedPacked = Pj > 0 ? take(H, Pj) : 0,
        whrPacked = Pj > 0 ? take(Pj, H) : 0;
      const whr = Pj > 0 ? at(`weight_hr_l${k}${sfx}`) : 0;
      const bias = (name: string, grad: boolean): number =>
        cfg.bias ? at(`${name}_l${k}${sfx}`) + (grad ? P : 0) : grad ? noBiasGrad : noBias;
      layers.push({
        inputSize,
        wih: at(`weight_ih_l${k}${sfx}`),
        whh: at(`weight_hh_l${k}${sfx}`),
        bih: bias('bias_ih', false),
        bhh: bias('bias_hh', false),
        dwih: at(`weight_ih_l${k}${sfx}`) + P,
        dwhh: at(`weight_hh_l${k}${sfx}`) + P,
        dbih: bias('bias_ih', true),
        dbhh: bias('bias_hh', true),
        wihTransposedPacked,
        whhTransposedPacked,
        wihPacked,
        whhPacked,
        whr,
        dwhr: whr ? whr + P : 0,
        whrTransposedPacked,
        whrPacked,
      });
    }
  }
  const headWTransposedPacked = take(D * R, cfg.outputSize),
    headWPacked = take(cfg.outputSize, D * R);
  const embedding = cfg.embeddingSize > 0 ? at('embedding.weight') : 0;
  return {
    base,
    P,
    total: packed - base,
    layers,
    embedding,
    dembedding: embedding ? embedding + P : 0,
    headW: at('head.weight'),
    headB: at('head.bias'),
    dheadW: at('head.weight') + P,
    dheadB: at('head.bias') + P,
    headWTransposedPacked,
    headWPacked,
    noBias,
    noBiasGrad,
  };
}

/** Activations and their gradients for one direction of one layer, for T steps of B rows. */
export interface LayerWork {
  desc: number; // the layer descriptor its cell kernels read (describeLayer; LAYER_DESC_FLOATS floats)
  hs: number; // [T+1,B,R] (the reverse direction's in its own, reversed, time order)
  cs: number; // [T+1,B,H] LSTM
  ms: number; // [T,B,H] LSTM with projection: m_t = o⊙tanh(c_t)
  dhp: number; // [T,B,P] LSTM with projection: the backward's clipped ∂E/∂h_t
  gates: number; // [T,B,G] LSTM, GRU
  rn: number; // [T,B,H] GRU
  dR: number; // [T,B,G] GRU
  dh: number; // [B,R]
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
  classw: number; // [O] the cross-entropy's class weights, written by each loss that has them
  dhsA: number;
  dhsB: number; // [T,B,DR] ping-pong: ∂E/∂(layer output) for alternating layers
  dx: number; // [T,B,I] ∂E/∂x of dense input (0 for token input, whose ids have none)
  scratch: number; // [B,G] GRU; [B,2H] LSTM with projection (backward)
  pack: number; // the largest weight-gradient product's scratch (cells, projection, head), ≥ the BPTT strip sums
  /** per layer and direction, index l·D + d */
  layers: LayerWork[];
  /** per layer: its output [T,B,DR] (D = 1: the forward direction's h_1 … h_T in place; D = 2: both side by side) */
  outs: number[];
  /** embedding: the embedded ids [T,B,E] (layer 0's input) and ∂E/∂ of them; 0 without */
  emb: number;
  demb: number;
  /** dropout: per layer l ≥ 1 its dropped input [T,B,DR] and the mask [T,B,DR] (0 or 1/(1 − p)) it was drawn with; 0 for l = 0 */
  dropped: number[];
  dropMask: number[];
  /** bidirectional: a layer's input reversed within each sequence's length [T,B,max(I,2R)], ∂E/∂ of it, the reversed state mask [T,B] */
  xrev: number;
  dxrev: number;
  maskRev: number;
  /** bidirectional: ∂E/∂(one direction's h_1 … h_T) [T,B,R], forward and reverse (in reversed time) */
  dFwd: number;
  dRev: number;
  /** bidirectional: the head's input at 'last' [B,2R] (both directions' final states) and ∂E/∂ of it */
  last: number;
  dLast: number;
}

export function pointWork(cfg: ResolvedConfig, T: number, B: number, base: number, weightGradScratch: WeightGradScratch): WorkArena {
  const H = cfg.hiddenSize,
    R = stateSize(cfg),
    proj = cfg.projSize > 0,
    G = GATES[cfg.cell] * H,
    O = cfg.outputSize,
    D = directions(cfg),
    L = cfg.numLayers;
  const lstm = cfg.cell === 'lstm',
    gru = cfg.cell === 'gru';
  let o = base;
  const take = (n: number): number => {
    const at = o;
    o += align4(n);
    return at;
  };
  // features per step of layer 0's input as the kernels read it (ids: one per step)
  const I0 = readsIds(cfg) ? 1 : layer0InputSize(cfg);
  const x = take(T * B * (cfg.input === 'tokens' ? 1 : cfg.inputSize));
  const mask = take(T * B);
  const lossw = take(T * B);
  const targets = take(T * B * O);
  const y = take(T * B * O);
  const dy = take(T * B * O);
  const classw = take(O);
  const dhsA = take(T * B * D * R);
  const dhsB = take(T * B * D * R);
  const dx = cfg.input === 'tokens' ? 0 : take(T * B * cfg.inputSize);
  const scratch = gru ? take(B * G) : proj ? take(2 * B * H) : 0;
  // one scratch for every weight-gradient product over T·B rows: δ [T·B, G or P or O]ᵀ·h [T·B,
  // I0 or D·R or H] (the size grows with each of K, M and N, so the largest of each bounds all)
  // and, during BPTT, the f64 sums of ‖∂E/∂h_t‖² per 4-row strip (2 floats each, T·⌈B/4⌉ of them)
  const pack = take(Math.max(weightGradScratch(T * B, Math.max(G, O, cfg.projSize), Math.max(I0, D * R, H)), 2 * T * Math.ceil(B / 4)));
  const emb = cfg.embeddingSize > 0 ? take(T * B * cfg.embeddingSize) : 0;
  const demb = cfg.embeddingSize > 0 ? take(T * B * cfg.embeddingSize) : 0;
  const layers: LayerWork[] = [];
  for (let i = 0; i < L * D; i++) {
    layers.push({
      desc: take(LAYER_DESC_FLOATS),
      hs: take((T + 1) * B * R),
      cs: lstm ? take((T + 1) * B * H) : 0,
      ms: proj ? take(T * B * H) : 0,
      dhp: proj ? take(T * B * R) : 0,
      gates: lstm || gru ? take(T * B * G) : 0,
      rn: gru ? take(T * B * H) : 0,
      dR: gru ? take(T * B * G) : 0,
      dh: take(B * R),
      dc: lstm ? take(B * H) : 0,
      dhnorm: take(T),
    });
  }
  const outs: number[] = [];
  for (let l = 0; l < L; l++) outs.push(D === 1 ? layers[l].hs + B * R : take(T * B * D * R));
  const dropping = cfg.dropout > 0;
  const dropped: number[] = [];
  const dropMask: number[] = [];
  for (let l = 0; l < L; l++) {
    dropped.push(dropping && l > 0 ? take(T * B * D * R) : 0);
    dropMask.push(dropping && l > 0 ? take(T * B * D * R) : 0);
  }
  const bi = D === 2;
  const widest = Math.max(I0, D * R);
  const xrev = bi ? take(T * B * widest) : 0,
    dxrev = bi ? take(T * B * widest) : 0,
    maskRev = bi ? take(T * B) : 0,
    dFwd = bi ? take(T * B * R) : 0,
    dRev = bi ? take(T * B * R) : 0,
    last = bi ? take(B * D * R) : 0,
    dLast = bi ? take(B * D * R) : 0;
  return {
    base,
    total: o - base,
    T,
    B,
    x,
    mask,
    lossw,
    targets,
    y,
    dy,
    classw,
    dhsA,
    dhsB,
    dx,
    scratch,
    pack,
    layers,
    outs,
    emb,
    demb,
    dropped,
    dropMask,
    xrev,
    dxrev,
    maskRev,
    dFwd,
    dRev,
    last,
    dLast,
  };
}

/**
 * The layer descriptor of layer direction i = l·D + d over a parameter arena and a work arena:
 * the fields its cell kernels read that stay put for this layout, as element offsets. The
 * fields that change from call to call (x, mask, dhs, dx, dhnorm, clipHiddenNorm: they depend
 * on dropout, padding, the direction's time order and the caller's options) are 0 here; the
 * network sets them before each call.
 */
export function describeLayer(cfg: ResolvedConfig, p: ParamArena, w: WorkArena, i: number): LayerDescValues {
  const lp = p.layers[i],
    lw = w.layers[i];
  const tokens = i < directions(cfg) && readsIds(cfg),
    relu = cfg.cell === 'rnn' && cfg.nonlinearity === 'relu';
  return {
    clipHiddenNorm: 0,
    T: w.T,
    B: w.B,
    I: lp.inputSize,
    H: cfg.hiddenSize,
    P: cfg.projSize,
    flags: (tokens ? FLAG_TOKENS : 0) | (relu ? FLAG_RELU : 0),
    x: 0,
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
    dhs: 0,
    dR: lw.dR,
    dh: lw.dh,
    dc: lw.dc,
    dwih: lp.dwih,
    dwhh: lp.dwhh,
    dbih: lp.dbih,
    dbhh: lp.dbhh,
    dx: 0,
    dhnorm: 0,
    pack: w.pack,
    whrTransposedPacked: lp.whrTransposedPacked,
    whrPacked: lp.whrPacked,
    ms: lw.ms,
    dhp: lw.dhp,
    dwhr: lp.dwhr,
    b0: 0,
    b1: 0,
  };
}
