// Model configuration: what the user writes, its validation, and the resolved form.
import { ConfigError, describe } from '../errors.js';

export type CellKind = 'rnn' | 'lstm' | 'gru';
export type Nonlinearity = 'tanh' | 'relu';
export type InputKind = 'dense' | 'tokens';

export interface ModelConfig {
  /** 'rnn' (Elman), 'lstm' or 'gru'. Default 'lstm'. */
  cell?: CellKind;
  /** Features per step (dense input) or vocabulary size (token input). */
  inputSize: number;
  hiddenSize: number;
  /** Outputs of the linear head (classes for cross-entropy, values for MSE). */
  outputSize: number;
  /** Stacked layers, each feeding the next. Default 1. */
  numLayers?: number;
  /** RNN only: 'tanh' (default) or 'relu'. */
  nonlinearity?: Nonlinearity;
  /** 'dense': x is [T,B,I] floats; 'tokens': x is [T,B] ids in [0, inputSize). Default 'dense'. */
  input?: InputKind;
  /** Seed of the initialiser and of the model's sampler. Default 0. */
  seed?: number;
}

export interface ResolvedConfig {
  cell: CellKind;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  numLayers: number;
  nonlinearity: Nonlinearity;
  input: InputKind;
  seed: number;
}

export const GATES: Record<CellKind, number> = { rnn: 1, lstm: 4, gru: 3 };

/** Far beyond what fits 32-bit Wasm memory; a guard against typos like 1e9. */
const MAX_SIZE = 1 << 20;

function positiveInt(name: string, v: unknown, max = MAX_SIZE): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ConfigError(name, `an integer in [1, ${max}]`, describe(v));
  }
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, options: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !options.includes(v as T)) {
    throw new ConfigError(name, `one of ${options.map((o) => `"${o}"`).join(', ')}`, describe(v));
  }
  return v as T;
}

export function resolveConfig(config: ModelConfig): ResolvedConfig {
  if (config === null || typeof config !== 'object') throw new ConfigError('config', 'an object', describe(config));
  const cell = oneOf('config.cell', config.cell, ['rnn', 'lstm', 'gru'] as const, 'lstm');
  const nonlinearity = oneOf('config.nonlinearity', config.nonlinearity, ['tanh', 'relu'] as const, 'tanh');
  if (cell !== 'rnn' && nonlinearity !== 'tanh') {
    throw new ConfigError('config.nonlinearity', `"tanh" for a ${cell} (its gates fix the nonlinearities)`, describe(nonlinearity));
  }
  const seed = config.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ConfigError('config.seed', 'an integer in [0, 2^32)', describe(seed));
  }
  const input = oneOf('config.input', config.input, ['dense', 'tokens'] as const, 'dense');
  return {
    cell,
    inputSize: positiveInt('config.inputSize', config.inputSize, input === 'tokens' ? 1 << 24 : MAX_SIZE),
    hiddenSize: positiveInt('config.hiddenSize', config.hiddenSize),
    outputSize: positiveInt('config.outputSize', config.outputSize),
    numLayers: config.numLayers === undefined ? 1 : positiveInt('config.numLayers', config.numLayers, 64),
    nonlinearity,
    input,
    seed,
  };
}
