// A batch as the user gives it, and the checks that run before anything is written to the
// arena: every problem is reported with the argument's name, the expected and the actual value.
import { InvalidArgumentError, NonFiniteError, describe } from '../errors.js';
import type { ResolvedConfig } from './config.js';
import type { ResolvedLoss } from './loss.js';

export type Numbers = ArrayLike<number>;

export interface Batch {
  /** Time-major input: dense [T,B,I] floats, or [T,B] token ids for a model with input 'tokens'. */
  x: Numbers;
  /** Steps. */
  T: number;
  /** Sequences in the batch. */
  B: number;
  /** Targets: ids [T,B] / [B] for cross-entropy, floats [T,B,O] / [B,O] for mse. */
  y?: Numbers;
  /** 0/1 per step and sequence [T,B]: 0 = padding (no loss, state carried unchanged). */
  mask?: Numbers;
  /** Real steps per sequence [B], each in [1, T]: the same as a prefix mask. */
  lengths?: Numbers;
  /**
   * 0/1 per step and sequence [T,B] (loss at 'every' only): rows with 0 add nothing to the loss
   * but, unlike `mask`, the state runs through them as usual (e.g. the copy task's recall
   * steps, or the warm-up part of a truncated-BPTT window).
   */
  lossMask?: Numbers;
  /** Initial hidden state [L,B,H] (zeros when absent). */
  h0?: Numbers;
  /** Initial cell state [L,B,H], LSTM only. */
  c0?: Numbers;
}

const MAX_STEPS = 1 << 24;

function isNumbers(v: unknown): v is Numbers {
  return (ArrayBuffer.isView(v) && !(v instanceof DataView)) || Array.isArray(v);
}

/**
 * What an array should hold, as text, built only when a check fails (a training step must not
 * allocate: no template strings on the happy path). `dims` names the letters of a, b, c.
 */
function what(kind: string, dims: string, a: number, b = 0, c = 0): string {
  const values = [a, b, c];
  return `${kind} [${dims.split('').map((d, i) => `${d}=${values[i]}`).join(', ')}]`;
}

function checkLength(name: string, v: unknown, expected: number, kind: string, dims: string, a: number, b = 0, c = 0): asserts v is Numbers {
  if (!isNumbers(v)) throw new InvalidArgumentError(name, `an array or typed array of ${what(kind, dims, a, b, c)}`, describe(v));
  if ((v as Numbers).length !== expected) {
    throw new InvalidArgumentError(name, `length ${expected} (${what(kind, dims, a, b, c)})`, `length ${(v as Numbers).length}`);
  }
}

/** The largest finite float32: anything larger becomes Infinity in the arena. */
export const F32_MAX = 3.4028234663852886e38;

export function checkFinite(name: string, v: Numbers): void {
  for (let i = 0; i < v.length; i++) {
    const a = v[i];
    if (typeof a !== 'number' || !(Math.abs(a) <= F32_MAX)) {
      throw new NonFiniteError(name, `element ${i} is ${describe(a)}; every value must be a finite number within float32 range (|x| ≤ 3.4e38)`);
    }
  }
}

function checkIds(name: string, v: Numbers, n: number): void {
  for (let i = 0; i < v.length; i++) {
    const a = v[i];
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a >= n) {
      throw new InvalidArgumentError(`${name}[${i}]`, `an integer id in [0, ${n - 1}]`, describe(a));
    }
  }
}

/** Row i = t·B + b is a real step (not padding) of the batch. */
function isReal(batch: Batch, i: number, B: number): boolean {
  if (batch.mask) return batch.mask[i] === 1;
  if (batch.lengths) return Math.floor(i / B) < batch.lengths[i % B];
  return true;
}

export function checkShape(T: unknown, B: unknown): void {
  if (typeof T !== 'number' || !Number.isInteger(T) || T < 1 || T > MAX_STEPS) {
    throw new InvalidArgumentError('batch.T', `an integer number of steps in [1, ${MAX_STEPS}]`, describe(T));
  }
  if (typeof B !== 'number' || !Number.isInteger(B) || B < 1 || B > MAX_STEPS) {
    throw new InvalidArgumentError('batch.B', `an integer batch size in [1, ${MAX_STEPS}]`, describe(B));
  }
}

/**
 * Checks the inputs (and, with a loss, the targets) of a batch against the model.
 * Returns the number of real (unpadded) loss rows.
 */
export function checkBatch(cfg: ResolvedConfig, batch: Batch, loss: ResolvedLoss | null): number {
  if (batch === null || typeof batch !== 'object') throw new InvalidArgumentError('batch', 'an object { x, T, B, ... }', describe(batch));
  const { T, B } = batch;
  checkShape(T, B);
  const L = cfg.numLayers, H = cfg.hiddenSize, O = cfg.outputSize;
  if (cfg.input === 'tokens') {
    checkLength('batch.x', batch.x, T * B, 'token ids', 'TB', T, B);
    checkIds('batch.x', batch.x, cfg.inputSize);
  } else {
    checkLength('batch.x', batch.x, T * B * cfg.inputSize, 'floats', 'TBI', T, B, cfg.inputSize);
    checkFinite('batch.x', batch.x);
  }
  if (batch.mask !== undefined && batch.lengths !== undefined) {
    throw new InvalidArgumentError('batch.mask', 'either mask or lengths, not both', 'both');
  }
  let realSteps = T * B;
  if (batch.mask !== undefined) {
    checkLength('batch.mask', batch.mask, T * B, '0/1 per step', 'TB', T, B);
    realSteps = 0;
    for (let i = 0; i < batch.mask.length; i++) {
      const m = batch.mask[i];
      if (m !== 0 && m !== 1) throw new InvalidArgumentError(`batch.mask[${i}]`, '0 or 1', describe(m));
      realSteps += m;
    }
    for (let b = 0; b < B; b++) {
      let any = false;
      for (let t = 0; t < T && !any; t++) any = batch.mask[t * B + b] === 1;
      if (!any) throw new InvalidArgumentError('batch.mask', `at least one real step in every sequence`, `none in sequence ${b}`);
    }
  }
  if (batch.lengths !== undefined) {
    checkLength('batch.lengths', batch.lengths, B, 'one length per sequence', 'B', B);
    realSteps = 0;
    for (let b = 0; b < B; b++) {
      const n = batch.lengths[b];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > T) {
        throw new InvalidArgumentError(`batch.lengths[${b}]`, `an integer in [1, ${T}]`, describe(n));
      }
      realSteps += n;
    }
  }
  if (batch.h0 !== undefined) {
    checkLength('batch.h0', batch.h0, L * B * H, 'floats', 'LBH', L, B, H);
    checkFinite('batch.h0', batch.h0);
  }
  if (batch.c0 !== undefined) {
    if (cfg.cell !== 'lstm') throw new InvalidArgumentError('batch.c0', `no c0 for a ${cfg.cell} (only an LSTM has a cell state)`, describe(batch.c0));
    checkLength('batch.c0', batch.c0, L * B * H, 'floats', 'LBH', L, B, H);
    checkFinite('batch.c0', batch.c0);
  }
  if (batch.lossMask !== undefined) {
    if (!loss || loss.at !== 'every') throw new InvalidArgumentError('batch.lossMask', 'a loss at "every" step (it weights per-step loss rows)', loss ? `at "${loss.at}"` : 'no loss');
    checkLength('batch.lossMask', batch.lossMask, T * B, '0/1 per step', 'TB', T, B);
    let rows = 0;
    for (let i = 0; i < T * B; i++) {
      const m = batch.lossMask[i];
      if (m !== 0 && m !== 1) throw new InvalidArgumentError(`batch.lossMask[${i}]`, '0 or 1', describe(m));
      if (m === 1 && isReal(batch, i, B)) rows++;
    }
    if (rows === 0) throw new InvalidArgumentError('batch.lossMask', 'at least one real step that counts in the loss', 'none');
    realSteps = rows;
  }
  if (!loss) return 0;
  const rows = loss.at === 'every' ? T * B : B;
  const every = loss.at === 'every';
  if (batch.y === undefined) throw new InvalidArgumentError('batch.y', `targets for the ${loss.loss} loss`, 'undefined');
  if (loss.loss === 'cross-entropy') {
    checkLength('batch.y', batch.y, rows, 'class ids', every ? 'TB' : 'B', every ? T : B, B);
    checkIds('batch.y', batch.y, O);
  } else {
    checkLength('batch.y', batch.y, rows * O, 'floats', every ? 'TBO' : 'BO', every ? T : B, every ? B : O, O);
    checkFinite('batch.y', batch.y);
  }
  return loss.at === 'every' ? realSteps : B;
}
