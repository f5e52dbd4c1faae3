// A batch read into float64 on the host, and the loss of the head's outputs, for the trainers
// that do their arithmetic outside the model's memory (RTRL, evolution strategies). Both follow
// docs/equations.md#losses and #masks-lengths-and-lossmask exactly, so that their losses and
// gradients can be compared with the model's own to float64 round-off.
import { InvalidArgumentError, describe } from '../errors.js';
import type { Batch } from '../model/batch.js';
import type { ResolvedConfig } from '../model/config.js';
import type { ResolvedLoss } from '../model/loss.js';
import { checkNumber, copyFloats, copyIds, DOMAINS } from '../validate/index.js';

/** @internal */
export interface HostBatch {
  T: number;
  B: number;
  /** Dense inputs [T,B,I], or token ids [T,B]. */
  x: Float64Array | Int32Array;
  /** Class ids or float targets; null without a loss. */
  y: Float64Array | Int32Array | null;
  /** 0/1 per row [T,B] from `mask` or `lengths`; null when every step is real. */
  mask: Float64Array | null;
  lossMask: Float64Array | null;
  h0: Float64Array | null;
  c0: Float64Array | null;
}

function zeroOne(argument: string, v: Float64Array): void {
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== 0 && v[i] !== 1) throw new InvalidArgumentError(`${argument}[${i}]`, '0 or 1', describe(v[i]));
  }
}

/** @internal Reads every field once into owned float64 copies and checks them against the model. */
export function readHostBatch(cfg: ResolvedConfig, batch: Batch, loss: ResolvedLoss | null): HostBatch {
  if (batch === null || typeof batch !== 'object') throw new InvalidArgumentError('batch', 'an object { x, T, B, ... }', describe(batch));
  const { T: tIn, B: bIn, x, y, mask, lengths, lossMask, h0, c0 } = batch;
  const T = checkNumber('batch.T', tIn, DOMAINS.T, InvalidArgumentError);
  const B = checkNumber('batch.B', bIn, DOMAINS.B, InvalidArgumentError);
  const H = cfg.hiddenSize,
    L = cfg.numLayers * (cfg.bidirectional ? 2 : 1), // states are [L·D,B,H] (h0 [L·D,B,P] with projSize P)
    O = cfg.outputSize;
  const xs =
    cfg.input === 'tokens'
      ? copyIds('batch.x', x, T * B, cfg.inputSize)
      : (copyFloats('batch.x', x, T * B * cfg.inputSize, 'float64', 'floats [T, B, inputSize]') as Float64Array);
  if (mask !== undefined && lengths !== undefined) throw new InvalidArgumentError('batch.mask', 'either mask or lengths, not both', 'both');
  let m: Float64Array | null = null;
  if (mask !== undefined) {
    m = copyFloats('batch.mask', mask, T * B, 'float64', '0/1 per step [T, B]') as Float64Array;
    zeroOne('batch.mask', m);
  } else if (lengths !== undefined) {
    const len = copyFloats('batch.lengths', lengths, B, 'float64', 'one length per sequence [B]');
    m = new Float64Array(T * B);
    for (let b = 0; b < B; b++) {
      if (!Number.isInteger(len[b]) || len[b] < 1 || len[b] > T)
        throw new InvalidArgumentError(`batch.lengths[${b}]`, `an integer in [1, ${T}]`, describe(len[b]));
      for (let t = 0; t < len[b]; t++) m[t * B + b] = 1;
    }
  }
  if (m) {
    for (let b = 0; b < B; b++) {
      let any = false;
      for (let t = 0; t < T && !any; t++) any = m[t * B + b] === 1;
      if (!any) throw new InvalidArgumentError('batch.mask', 'at least one real step in every sequence', `none in sequence ${b}`);
    }
  }
  let lm: Float64Array | null = null;
  if (lossMask !== undefined) {
    if (loss?.at !== 'every')
      throw new InvalidArgumentError('batch.lossMask', 'a loss at "every" step', loss ? `at "${loss.at}"` : 'no loss');
    lm = copyFloats('batch.lossMask', lossMask, T * B, 'float64', '0/1 per step [T, B]') as Float64Array;
    zeroOne('batch.lossMask', lm);
  }
  // h0 has projSize features per row with an LSTM projection, c0 always hiddenSize
  const state = (name: string, v: unknown, n: number, size: string) =>
    v === undefined
      ? null
      : (copyFloats(
          name,
          v,
          L * B * n,
          'float64',
          cfg.bidirectional ? `floats [2·numLayers, B, ${size}]` : `floats [numLayers, B, ${size}]`,
        ) as Float64Array);
  if (c0 !== undefined && cfg.cell !== 'lstm') throw new InvalidArgumentError('batch.c0', `no c0 for a ${cfg.cell}`, describe(c0));
  let ys: Float64Array | Int32Array | null = null;
  if (loss) {
    const rows = loss.at === 'every' ? T * B : B;
    if (y === undefined) throw new InvalidArgumentError('batch.y', `targets for the ${loss.loss} loss`, 'undefined');
    ys = loss.loss === 'cross-entropy' ? copyIds('batch.y', y, rows, O) : (copyFloats('batch.y', y, rows * O, 'float64') as Float64Array);
  }
  const out: HostBatch = {
    T,
    B,
    x: xs,
    y: ys,
    mask: m,
    lossMask: lm,
    h0: state('batch.h0', h0, cfg.projSize > 0 ? cfg.projSize : H, cfg.projSize > 0 ? 'projSize' : 'hiddenSize'),
    c0: state('batch.c0', c0, H, 'hiddenSize'),
  };
  if (loss) lossWeights(out, loss, O); // refuses a lossMask that leaves no row
  return out;
}

/**
 * @internal Each loss row's weight w_r and the reduction's scale s: E = s·Σ_r w_r·ℓ_r. Rows are
 * the T·B steps at 'every' and the B sequences at 'last'.
 */
export function lossWeights(hb: HostBatch, loss: ResolvedLoss, O: number): { w: Float64Array; scale: number } {
  const R = loss.at === 'every' ? hb.T * hb.B : hb.B;
  const w = new Float64Array(R).fill(1);
  if (loss.at === 'every') {
    for (let r = 0; r < R; r++) w[r] = (hb.mask ? hb.mask[r] : 1) * (hb.lossMask ? hb.lossMask[r] : 1);
  }
  let N = 0;
  for (let r = 0; r < R; r++) N += w[r];
  if (N === 0) throw new InvalidArgumentError('batch.lossMask', 'at least one real step that counts in the loss', 'none');
  const cw = loss.classWeights;
  if (cw) {
    // PyTorch's CrossEntropyLoss(weight): each row weighs its target's class weight, and the mean divides by their total
    N = 0;
    for (let r = 0; r < R; r++) {
      if (w[r] !== 0) w[r] *= cw[(hb.y as Int32Array)[r]];
      N += w[r];
    }
    if (N === 0 && loss.reduction === 'mean')
      throw new InvalidArgumentError(
        'batch.y',
        'at least one counted target of a class with a weight above 0 (the weighted mean divides by their total weight)',
        'only targets of classes that weigh 0',
      );
  }
  return { w, scale: loss.reduction === 'sum' ? 1 : 1 / (N * (loss.loss === 'mse' ? O : 1)) };
}

/**
 * @internal coef·ℓ for head row `pred[at … at+O)` against target row r, and with `dY` the
 * gradient coef·∂ℓ/∂Y of that row into dY[0 … O).
 */
export function rowLoss(
  kind: ResolvedLoss['loss'],
  pred: ArrayLike<number>,
  at: number,
  O: number,
  y: Float64Array | Int32Array,
  r: number,
  coef: number,
  dY: Float64Array | null,
): number {
  if (kind === 'mse') {
    let s = 0;
    for (let o = 0; o < O; o++) {
      const d = pred[at + o] - y[r * O + o];
      s += d * d;
      if (dY) dY[o] = 2 * coef * d;
    }
    return coef * s;
  }
  let mx = -Infinity;
  for (let o = 0; o < O; o++) mx = Math.max(mx, pred[at + o]);
  let sum = 0;
  for (let o = 0; o < O; o++) sum += Math.exp(pred[at + o] - mx);
  const target = y[r];
  if (dY) for (let o = 0; o < O; o++) dY[o] = coef * (Math.exp(pred[at + o] - mx) / sum - (o === target ? 1 : 0));
  return coef * (mx + Math.log(sum) - pred[at + target]);
}
