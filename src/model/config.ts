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
  return {
    cell,
    inputSize: checkNumber('config.inputSize', config.inputSize, input === 'tokens' ? DOMAINS.vocabSize : DOMAINS.inputSize),
    hiddenSize: checkNumber('config.hiddenSize', config.hiddenSize, DOMAINS.hiddenSize),
    outputSize: checkNumber('config.outputSize', config.outputSize, DOMAINS.outputSize),
    numLayers: config.numLayers === undefined ? 1 : checkNumber('config.numLayers', config.numLayers, DOMAINS.numLayers),
    nonlinearity,
    input,
    seed,
  };
}
