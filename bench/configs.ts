// The benchmark configurations B1–B5 and the adding-problem recipe. One step = forward + loss + full BPTT + clip 5 + Adam.
import type { CellKind, CreateModelOptions } from '../dist/node/index.js';

export interface BenchConfig {
  name: string;
  cell: CellKind;
  inputSize: number;
  tokens: boolean;
  hiddenSize: number;
  T: number;
  B: number;
  outputSize: number;
  at: 'every' | 'last';
  loss: 'cross-entropy' | 'mse';
}

export const CONFIGS: BenchConfig[] = [
  {
    name: 'B1',
    cell: 'lstm',
    inputSize: 65,
    tokens: true,
    hiddenSize: 256,
    T: 64,
    B: 32,
    outputSize: 65,
    at: 'every',
    loss: 'cross-entropy',
  },
  { name: 'B2', cell: 'rnn', inputSize: 32, tokens: false, hiddenSize: 128, T: 128, B: 16, outputSize: 1, at: 'last', loss: 'mse' },
  {
    name: 'B3',
    cell: 'gru',
    inputSize: 64,
    tokens: false,
    hiddenSize: 128,
    T: 32,
    B: 64,
    outputSize: 10,
    at: 'every',
    loss: 'cross-entropy',
  },
  {
    name: 'B4',
    cell: 'lstm',
    inputSize: 65,
    tokens: true,
    hiddenSize: 128,
    T: 25,
    B: 1,
    outputSize: 65,
    at: 'every',
    loss: 'cross-entropy',
  },
  {
    name: 'B5',
    cell: 'lstm',
    inputSize: 128,
    tokens: false,
    hiddenSize: 512,
    T: 32,
    B: 32,
    outputSize: 128,
    at: 'every',
    loss: 'cross-entropy',
  },
  // the adding-problem recipe (LSTM, T=100, H=128, B=32; two inputs per step, MSE on the sum at
  // the last step): the README's reproduced experiment, as a timing configuration
  {
    name: 'adding',
    cell: 'lstm',
    inputSize: 2,
    tokens: false,
    hiddenSize: 128,
    T: 100,
    B: 32,
    outputSize: 1,
    at: 'last',
    loss: 'mse',
  },
];

/** The model of a configuration (seed 1): add `core` or `backend` where a runner needs one. */
export function modelOptions(c: BenchConfig): CreateModelOptions {
  return {
    cell: c.cell,
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    outputSize: c.outputSize,
    input: c.tokens ? 'tokens' : 'dense',
    seed: 1,
  };
}

export const GATE_COUNT: Record<CellKind, number> = { rnn: 1, lstm: 4, gru: 3 };

/**
 * Useful FLOPs of one training step, matmuls only (docs/equations.md#cost-of-a-training-step): forward = T·2·B·G·H·(I + H) +
 * S·2·B·H·O with S = T (head at every step) or 1; backward counts twice the forward (one
 * product for the input gradient, one for the weight gradient), so a step is 3 × forward.
 * A one-hot input is counted as a dense I-wide product (its gather multiplies nothing).
 */
export function stepFlops(c: BenchConfig): number {
  const G = GATE_COUNT[c.cell];
  const S = c.at === 'every' ? c.T : 1;
  const forward = c.T * 2 * c.B * G * c.hiddenSize * (c.inputSize + c.hiddenSize) + S * 2 * c.B * c.hiddenSize * c.outputSize;
  return 3 * forward;
}

/** Deterministic batch data for a configuration (inputs, targets). */
export function benchBatch(c: BenchConfig, seed = 1): { x: Float32Array | Int32Array; y: Float32Array | Int32Array } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const x = c.tokens
    ? Int32Array.from({ length: c.T * c.B }, () => Math.floor(rand() * c.inputSize))
    : Float32Array.from({ length: c.T * c.B * c.inputSize }, () => rand() * 2 - 1);
  const rows = c.at === 'every' ? c.T * c.B : c.B;
  const y =
    c.loss === 'cross-entropy'
      ? Int32Array.from({ length: rows }, () => Math.floor(rand() * c.outputSize))
      : Float32Array.from({ length: rows * c.outputSize }, () => rand() * 2 - 1);
  return { x, y };
}
