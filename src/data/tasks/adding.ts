// The adding problem (Hochreiter & Schmidhuber 1997; the form of Le, Jaitly & Hinton 2015).
//
// Each step carries two numbers: a value drawn from U(0, 1) and a marker, 0 or 1. Exactly two
// steps of each sequence are marked: one in the first half (t < ⌊T/2⌋) and one in the second
// (t ≥ ⌊T/2⌋). After the last step the network must output the sum of the two marked values.
//
//   x [T,B,2]  x[(t·B + b)·2] = value, x[(t·B + b)·2 + 1] = marker
//   y [B,1]    the sum of the two marked values of sequence b
//   model      inputSize 2, outputSize 1, input 'dense'
//   loss       lossSpec = { loss: 'mse', at: 'last' }
//
// Always answering 1 (the mean of the sum) gives MSE = Var(U + U') = 2/12 ≈ 0.167: a model
// that has not learnt to remember the marked values stays there. With T ≥ 150 a tanh RNN
// usually does; an IRNN or an LSTM goes to ≈ 0.
import type { Batch } from '../../model/batch.js';
import type { LossSpec } from '../../model/loss.js';
import { checkBatchSize, intOption, objectOption, toRng, type RngOrSeed } from './common.js';

export const lossSpec: LossSpec = { loss: 'mse', at: 'last' };
export const inputSize = 2;
export const outputSize = 1;
export const input = 'dense';
/** The expected MSE of always predicting 1: Var(sum of two U(0,1)) = 1/6. */
export const BASELINE_MSE = 1 / 6;

export interface AddingOptions {
  /** Steps per sequence, ≥ 2. */
  T: number;
  /** Sequences. */
  B: number;
}

export interface AddingBatch extends Batch {
  x: Float32Array;
  y: Float32Array;
  /** The two marked steps of each sequence [B,2] (first-half step, second-half step). */
  markers: Int32Array;
}

/** One batch of the adding problem; pass an Rng to continue a stream of batches, or a seed. */
export function addingBatch(options: AddingOptions, rng?: RngOrSeed): AddingBatch {
  options = objectOption('options', options, ['T', 'B']);
  const T = intOption('options.T', options.T, undefined, 2);
  const B = intOption('options.B', options.B, undefined, 1);
  checkBatchSize(T, B, 2);
  const r = toRng(rng);
  const x = new Float32Array(T * B * 2);
  const y = new Float32Array(B);
  const markers = new Int32Array(B * 2);
  for (let i = 0; i < T * B; i++) x[2 * i] = r.next();
  const half = Math.floor(T / 2);
  for (let b = 0; b < B; b++) {
    const first = r.int(half);
    const second = half + r.int(T - half);
    markers[2 * b] = first;
    markers[2 * b + 1] = second;
    x[(first * B + b) * 2 + 1] = 1;
    x[(second * B + b) * 2 + 1] = 1;
    // the sum of the f32 values the model sees
    y[b] = x[(first * B + b) * 2] + x[(second * B + b) * 2];
  }
  return { x, T, B, y, markers };
}

/** MSE of predicting `constant` (default 1) for every target of a batch: the baseline on it. */
export function constantMSE(y: ArrayLike<number>, constant = 1): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - constant) ** 2;
  return s / y.length;
}
