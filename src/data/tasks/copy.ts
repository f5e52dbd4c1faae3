// The copy (memory) task (Hochreiter & Schmidhuber 1997; the form of Arjovsky, Shah & Bengio
// 2016): read a short random sequence, wait, then repeat it.
//
// Ids: 0 … K−1 are the K symbols, BLANK = K, GO = K + 1. With S symbols and a delay of D:
//
//   step t:   0 … S−1        S … S+D−2    S+D−1    S+D … 2S+D−1
//   input:    s_0 … s_{S−1}  BLANK        GO       BLANK
//   target:   BLANK          BLANK        BLANK    s_0 … s_{S−1}     (the recall steps)
//
//   T = 2S + D; x [T,B] ids; y [T,B] ids; lossMask [T,B] = 1 on the S recall steps only.
//   model     inputSize K + 2, outputSize K + 1 (a symbol or BLANK), input 'tokens'
//   loss      lossSpec = { loss: 'cross-entropy', at: 'every' } with the batch's lossMask, so
//             the mean runs over the B·S recall rows and the state still runs through every step
//             (a `mask` would freeze the state, which is padding's meaning, not this one).
//
// Guessing the symbols without memory costs log K per recall step (BASELINE_LOSS(K)).
import type { Batch } from '../../model/batch.js';
import type { LossSpec } from '../../model/loss.js';
import { checkBatchSize, intOption, objectOption, toRng, type RngOrSeed } from './common.js';

export const lossSpec: LossSpec = { loss: 'cross-entropy', at: 'every' };
export const input = 'tokens';

export interface CopyOptions {
  B: number;
  /** Symbols to copy, S. Default 10. */
  length?: number;
  /** Steps from the last symbol to the first recall step, D ≥ 1 (the GO marker is the last of them). Default 20. */
  delay?: number;
  /** Alphabet size K ≥ 1. Default 8. */
  symbols?: number;
}

export interface CopyBatch extends Batch {
  x: Int32Array;
  y: Int32Array;
  /** 1 on the recall steps [T,B]: the only rows that count in the loss. */
  lossMask: Float32Array;
}

/** The model sizes and sequence length for given options. */
export function copySizes(options: Omit<CopyOptions, 'B'> = {}): {
  inputSize: number;
  outputSize: number;
  T: number;
  blank: number;
  go: number;
} {
  const { S, D, K } = resolve(options);
  return { inputSize: K + 2, outputSize: K + 1, T: 2 * S + D, blank: K, go: K + 1 };
}

/** Cross-entropy of guessing uniformly among the K symbols at each recall step: log K. */
export function baselineLoss(symbols = 8): number {
  return Math.log(symbols);
}

/** One batch of the copy task; pass an Rng to continue a stream of batches, or a seed. */
export function copyBatch(options: CopyOptions, rng?: RngOrSeed): CopyBatch {
  options = objectOption('options', options, ['B', 'length', 'delay', 'symbols']);
  const B = intOption('options.B', options.B, undefined, 1);
  const { S, D, K } = resolve(options);
  const r = toRng(rng);
  const T = 2 * S + D,
    BLANK = K,
    GO = K + 1;
  checkBatchSize(T, B, 1);
  const x = new Int32Array(T * B).fill(BLANK);
  const y = new Int32Array(T * B).fill(BLANK);
  const lossMask = new Float32Array(T * B);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const sym = r.int(K);
      x[s * B + b] = sym;
      const t = S + D + s;
      y[t * B + b] = sym;
      lossMask[t * B + b] = 1;
    }
    x[(S + D - 1) * B + b] = GO;
  }
  return { x, T, B, y, lossMask };
}

function resolve(options: Omit<CopyOptions, 'B'>): { S: number; D: number; K: number } {
  options = objectOption('options', options, ['B', 'length', 'delay', 'symbols']);
  return {
    // T = 2·length + delay steps stays within a batch's 2^24, and the K + 2 ids within a vocabulary's
    S: intOption('options.length', options.length, 10, 1, 1 << 22),
    D: intOption('options.delay', options.delay, 20, 1, 1 << 23),
    K: intOption('options.symbols', options.symbols, 8, 1, (1 << 24) - 2),
  };
}
