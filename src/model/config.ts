// Model configuration: what the user writes, its validation, and the resolved form.
import { ConfigError, describe } from '../errors.js';
import { checkKeys, checkNumber, DOMAINS } from '../validate/index.js';

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
  /**
   * Each layer also runs over the sequence backwards, with its own weights (`…_reverse`), and
   * outputs both directions side by side [T,B,2H], as PyTorch's bidirectional=True. Default false.
   */
  bidirectional?: boolean;
  /**
   * Probability of zeroing each output of every layer but the last while training (PyTorch's
   * inter-layer dropout; survivors scaled by 1/(1 − p)), in [0, 1). Default 0.
   */
  dropout?: number;
  /** Inputs, targets and outputs are [B,T,…] (batch-major, PyTorch's batch_first) instead of [T,B,…]. Default false. */
  batchFirst?: boolean;
  /** false: the recurrent layers have no bias_ih / bias_hh (PyTorch's bias=False; the head keeps its bias). Default true. */
  bias?: boolean;
  /** Token input only: a learned table `embedding.weight` [V,E] feeds layer 0 instead of the one-hot ids. Default: none. */
  embeddingSize?: number;
  /**
   * LSTM only: project each hidden state to P features, an integer in [1, hiddenSize − 1]:
   * h_t = W_hr·(o_t ⊙ tanh(c_t)) with `weight_hr_l{k}` [P,H], as PyTorch's proj_size. h, the
   * outputs, h0/hN and the head's input then have P features (2P bidirectional); c keeps H.
   * Default: none.
   */
  projSize?: number;
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
  bidirectional: boolean;
  dropout: number;
  batchFirst: boolean;
  bias: boolean;
  /** 0 = no embedding (the one-hot ids feed layer 0, or the input is dense). */
  embeddingSize: number;
  /** LSTM projection size; 0 = none. */
  projSize: number;
}

export const GATES: Record<CellKind, number> = { rnn: 1, lstm: 4, gru: 3 };

/** The keys of a ModelConfig. */
export const MODEL_CONFIG_KEYS: readonly string[] = [
  'cell',
  'inputSize',
  'hiddenSize',
  'outputSize',
  'numLayers',
  'nonlinearity',
  'input',
  'seed',
  'bidirectional',
  'dropout',
  'batchFirst',
  'bias',
  'embeddingSize',
  'projSize',
];
/** The keys createModel takes besides the configuration. */
export const CREATE_OPTION_KEYS: readonly string[] = ['backend', 'dtype', 'init', 'core'];

export function oneOf<T extends string>(name: string, v: unknown, options: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !options.includes(v as T)) {
    throw new ConfigError(name, `one of ${options.map((o) => `"${o}"`).join(', ')}`, describe(v));
  }
  return v as T;
}

/**
 * Checks a configuration (or createModel's options, whose extra keys it allows) and fills in the
 * defaults. Callers hand it a snapshot (plain data read once), so each field is read once here.
 */
export function resolveConfig(config: ModelConfig): ResolvedConfig {
  if (config === null || typeof config !== 'object') throw new ConfigError('config', 'an object', describe(config));
  checkKeys('config', config, [...MODEL_CONFIG_KEYS, ...CREATE_OPTION_KEYS]);
  const cell = oneOf('config.cell', config.cell, ['rnn', 'lstm', 'gru'] as const, 'lstm');
  const nonlinearity = oneOf('config.nonlinearity', config.nonlinearity, ['tanh', 'relu'] as const, 'tanh');
  if (cell !== 'rnn' && nonlinearity !== 'tanh') {
    throw new ConfigError('config.nonlinearity', `"tanh" for a ${cell} (its gates fix the nonlinearities)`, describe(nonlinearity));
  }
  const seed = config.seed === undefined ? 0 : checkNumber('config.seed', config.seed, DOMAINS.seed);
  const input = oneOf('config.input', config.input, ['dense', 'tokens'] as const, 'dense');
  const bidirectional = flag('config.bidirectional', config.bidirectional, false);
  const dropout = config.dropout === undefined ? 0 : checkNumber('config.dropout', config.dropout, DOMAINS.dropout);
  const batchFirst = flag('config.batchFirst', config.batchFirst, false);
  const bias = flag('config.bias', config.bias, true);
  let embeddingSize = 0;
  if (config.embeddingSize !== undefined && config.embeddingSize !== 0) {
    if (input !== 'tokens')
      throw new ConfigError(
        'config.embeddingSize',
        'no embedding size for dense input (only token ids are embedded)',
        describe(config.embeddingSize),
      );
    embeddingSize = checkNumber('config.embeddingSize', config.embeddingSize, DOMAINS.embeddingSize);
  }
  const hiddenSize = checkNumber('config.hiddenSize', config.hiddenSize, DOMAINS.hiddenSize);
  let projSize = 0;
  if (config.projSize !== undefined && config.projSize !== 0) {
    if (cell !== 'lstm')
      throw new ConfigError(
        'config.projSize',
        `no projection for a ${cell} (only an LSTM projects its hidden state)`,
        describe(config.projSize),
      );
    projSize = checkNumber('config.projSize', config.projSize, DOMAINS.projSize);
    if (projSize >= hiddenSize)
      throw new ConfigError('config.projSize', `an integer in [1, ${hiddenSize - 1}] (below hiddenSize ${hiddenSize})`, describe(projSize));
  }
  return {
    cell,
    inputSize: checkNumber('config.inputSize', config.inputSize, input === 'tokens' ? DOMAINS.vocabSize : DOMAINS.inputSize),
    hiddenSize,
    outputSize: checkNumber('config.outputSize', config.outputSize, DOMAINS.outputSize),
    numLayers: config.numLayers === undefined ? 1 : checkNumber('config.numLayers', config.numLayers, DOMAINS.numLayers),
    nonlinearity,
    input,
    seed,
    bidirectional,
    dropout,
    batchFirst,
    bias,
    embeddingSize,
    projSize,
  };
}

/** R, the features of a layer's hidden state h per direction: projSize when set, else hiddenSize. */
export function stateSize(cfg: ResolvedConfig): number {
  return cfg.projSize > 0 ? cfg.projSize : cfg.hiddenSize;
}

/** 1, or 2 for a bidirectional stack: the directions of every layer. */
export function directions(cfg: ResolvedConfig): 1 | 2 {
  return cfg.bidirectional ? 2 : 1;
}

function flag(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(name, 'true or false', describe(v));
  return v;
}
