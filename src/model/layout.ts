// Size tables, after llm.c's malloc_and_point_parameters: one place decides where every tensor
// lives; the arenas are allocated from the totals and everything else holds offsets.
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
  const H = cfg.hiddenSize, GH = GATES[cfg.cell] * H;
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
  wih: number; whh: number; bih: number; bhh: number;       // parameters
  dwih: number; dwhh: number; dbih: number; dbhh: number;   // their gradients
  wihT: number; whhT: number;                                // packed transposes
}

export interface ParamArena {
  /** start of the block; params at base, grads at base + P */
  base: number;
  /** parameter floats (aligned), = gradient floats */
  P: number;
  total: number;
  layers: LayerParams[];
  headW: number; headB: number; dheadW: number; dheadB: number; headWT: number;
}

export function paramArenaSize(cfg: ResolvedConfig): number {
  const { total: P } = parameterTable(cfg);
  const H = cfg.hiddenSize, GH = GATES[cfg.cell] * H;
  let packed = 0;
  for (let k = 0; k < cfg.numLayers; k++) packed += align4((k === 0 ? cfg.inputSize : H) * GH) + align4(H * GH);
  packed += align4(H * cfg.outputSize);
  return 2 * P + packed;
}

export function pointParams(cfg: ResolvedConfig, base: number): ParamArena {
  const { slots, total: P } = parameterTable(cfg);
  const at = (name: string): number => base + slots.find((s) => s.name === name)!.offset;
  const H = cfg.hiddenSize, GH = GATES[cfg.cell] * H;
  let packed = base + 2 * P;
  const layers: LayerParams[] = [];
  for (let k = 0; k < cfg.numLayers; k++) {
    const inputSize = k === 0 ? cfg.inputSize : H;
    const wihT = packed; packed += align4(inputSize * GH);
    const whhT = packed; packed += align4(H * GH);
    layers.push({
      inputSize,
      wih: at(`weight_ih_l${k}`), whh: at(`weight_hh_l${k}`), bih: at(`bias_ih_l${k}`), bhh: at(`bias_hh_l${k}`),
      dwih: at(`weight_ih_l${k}`) + P, dwhh: at(`weight_hh_l${k}`) + P, dbih: at(`bias_ih_l${k}`) + P, dbhh: at(`bias_hh_l${k}`) + P,
      wihT, whhT,
    });
  }
  const headWT = packed; packed += align4(H * cfg.outputSize);
  return {
    base, P, total: packed - base, layers,
    headW: at('head.weight'), headB: at('head.bias'), dheadW: at('head.weight') + P, dheadB: at('head.bias') + P, headWT,
  };
}

/** Activations and their gradients for one layer, for T steps of B rows. */
export interface LayerWork {
  hs: number;     // [T+1,B,H]
  cs: number;     // [T+1,B,H] LSTM
  gates: number;  // [T,B,G] LSTM, GRU
  rn: number;     // [T,B,H] GRU
  dR: number;     // [T,B,G] GRU
  dh: number;     // [B,H]
  dc: number;     // [B,H] LSTM
  dhnorm: number; // [T]
}

export interface WorkArena {
  base: number; total: number; T: number; B: number;
  x: number;        // [T,B,I] or ids [T,B]
  mask: number;     // [T,B] state mask (padding)
  lossw: number;    // [T,B] loss row weights when a lossMask is given: mask ⊙ lossMask
  targets: number;  // up to [T,B,O]
  y: number;        // predictions, up to [T,B,O]
  dy: number;       // up to [T,B,O]
  dhsA: number; dhsB: number; // [T,B,H] ping-pong: ∂E/∂(layer output) for alternating layers
  scratch: number;  // [B,G] GRU
  layers: LayerWork[];
}

export function pointWork(cfg: ResolvedConfig, T: number, B: number, base: number): WorkArena {
  const H = cfg.hiddenSize, G = GATES[cfg.cell] * H, O = cfg.outputSize;
  const lstm = cfg.cell === 'lstm', gru = cfg.cell === 'gru';
  let o = base;
  const take = (n: number): number => { const at = o; o += align4(n); return at; };
  const x = take(T * B * (cfg.input === 'tokens' ? 1 : cfg.inputSize));
  const mask = take(T * B);
  const lossw = take(T * B);
  const targets = take(T * B * O);
  const y = take(T * B * O);
  const dy = take(T * B * O);
  const dhsA = take(T * B * H);
  const dhsB = take(T * B * H);
  const scratch = gru ? take(B * G) : 0;
  const layers: LayerWork[] = [];
  for (let k = 0; k < cfg.numLayers; k++) {
    layers.push({
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
  return { base, total: o - base, T, B, x, mask, lossw, targets, y, dy, dhsA, dhsB, scratch, layers };
}
