// `unrolled fit --resume CHECKPOINT`: what fit's checkpoints keep of the command line (the
// settings, the data file and how it was read, the engine) beside fit's own position and
// progress (info.fit), and the checks that a resumed run is the run that was stopped: a flag
// given again must say what the checkpoint says (the error names the flag, the stored and the
// given value), the data must have the same shape, and the model and trainer must be the ones
// the settings describe.
import type { SequenceFile } from '../data/sequence-file.js';
import type { Model } from '../model/model.js';
import type { SequenceFileOptions } from '../node/data-files.js';
import type { JsonValue } from '../train/checkpoint.js';
import type { FitPosition } from '../train/fit.js';
import type { Flags } from './args.js';
import type { FlagName } from './flags.js';
import { UsageError } from './usage.js';
import { classWeightsFlag } from './layer-flags.js';
import { checkpointInfo } from '../train/checkpoint.js';
import { decodeSafetensors } from '../model/safetensors.js';
import { CHECKPOINT_FORMAT } from '../train/checkpoint.js';
import { readFileBytes } from '../node/files.js';
import { FileError } from '../errors.js';

/** The flags that shape a fit run, by flag name (null: not given, the command's default applies). */
export interface FitSettings {
  epochs: number;
  batch: number;
  'val-split': number;
  seed: number;
  cell: 'rnn' | 'lstm' | 'gru';
  nonlinearity: 'tanh' | 'relu';
  hidden: number;
  layers: number;
  /** the layer options and class weights: absent from checkpoints of runs before they existed (then their defaults) */
  'proj-size': number;
  bidirectional: boolean;
  dropout: number;
  'class-weights': number[] | null;
  optimizer: 'adam' | 'adamw' | 'sgd' | 'rmsprop' | 'adagrad';
  lr: number;
  momentum: number;
  'weight-decay': number | null;
  clip: number;
  'clip-value': number | null;
  backend: 'wasm' | 'js';
  metric: 'loss' | 'accuracy' | 'perplexity' | 'mae';
  patience: number | null;
  'min-delta': number;
}

/** The data file of a run: where, how it was read, and the shape of what was read. */
export interface FitData {
  path: string;
  options: SequenceFileOptions;
  sequences: number;
  inputSize: number;
  targetSize: number;
  target: 'values' | 'classes';
  at: 'every' | 'last';
}

/** What `unrolled fit` keeps in its checkpoints' info (fit's position and progress are `fit`). */
export interface FitInfo {
  unrolled_fit: 1;
  settings: FitSettings;
  data: FitData;
  checkpointEvery: number | null;
  engine: string;
  /** The run ended by early stopping (its weights are the best epoch's): nothing to continue. */
  stoppedEarly?: boolean;
}

/** A checkpoint of `unrolled fit`: its bytes, its command-line info and fit's position. */
export interface FitCheckpoint {
  bytes: Uint8Array;
  info: FitInfo;
  position: FitPosition & { step?: number };
  step: number;
}

/** The settings the flags give; on resume, `stored` fills in the flags that are not given. */
export function readSettings(f: Flags, stored?: FitSettings): FitSettings {
  const optional = (flag: 'weight-decay' | 'clip-value' | 'patience', read: () => number): number | null =>
    f.has(flag) ? read() : (stored?.[flag] ?? null);
  return {
    // every number first, so that a malformed one is reported as such before any contradiction
    epochs: f.int('epochs', stored?.epochs),
    batch: f.int('batch', stored?.batch),
    'val-split': f.float('val-split', stored?.['val-split']),
    seed: f.int('seed', stored?.seed),
    lr: f.float('lr', stored?.lr),
    hidden: f.int('hidden', stored?.hidden),
    layers: f.int('layers', stored?.layers),
    'proj-size': f.has('proj-size') ? f.int('proj-size') : (stored?.['proj-size'] ?? 0),
    dropout: f.has('dropout') ? f.float('dropout') : (stored?.dropout ?? 0),
    bidirectional: f.has('bidirectional') || (stored?.bidirectional ?? false),
    'class-weights': classWeightsFlag(f, stored?.['class-weights']),
    'min-delta': f.float('min-delta', stored?.['min-delta']),
    clip: f.float('clip', stored?.clip),
    'clip-value': optional('clip-value', () => f.float('clip-value')),
    momentum: f.float('momentum', stored?.momentum),
    'weight-decay': optional('weight-decay', () => f.float('weight-decay')),
    patience: optional('patience', () => f.int('patience')),
    backend: f.choice('backend', stored?.backend),
    cell: f.choice('cell', stored?.cell ?? 'lstm'),
    nonlinearity: f.choice('nonlinearity', stored?.nonlinearity),
    optimizer: f.choice('optimizer', stored?.optimizer),
    metric: f.choice('metric', stored?.metric),
  };
}

/** Flags that may differ on resume: how many epochs to run in all. */
const MAY_CHANGE: readonly (keyof FitSettings)[] = ['epochs'];

/** A flag given with --resume must say what the checkpoint says. */
export function checkResumedSettings(f: Flags, path: string, stored: FitSettings, given: FitSettings): void {
  for (const key of Object.keys(stored) as (keyof FitSettings)[]) {
    if (MAY_CHANGE.includes(key) || !f.has(key as FlagName) || JSON.stringify(given[key]) === JSON.stringify(stored[key])) continue;
    f.fail(
      `--${key} ${f.str(key as FlagName)} differs from the checkpoint's ${stored[key] ?? 'none'} (${path}; a resumed fit keeps its configuration: drop the flag)`,
      `--${key}`,
    );
  }
}

/** The data flags given with --resume (if any) must read the file as the checkpoint's run did. */
export function checkResumedData(f: Flags, path: string, stored: FitData, given: { path: string; options: SequenceFileOptions }): void {
  const flag = given.options.format === 'csv' ? '--csv' : '--jsonl';
  if (given.options.format !== stored.options.format)
    f.fail(`${flag} differs from the checkpoint's --${stored.options.format} ${stored.path} (${path})`, flag);
  const keys = new Set([...Object.keys(stored.options), ...Object.keys(given.options)]) as Set<keyof SequenceFileOptions>;
  for (const key of keys) {
    const a = JSON.stringify(given.options[key] ?? null),
      b = JSON.stringify(stored.options[key] ?? null);
    if (a === b) continue;
    const name = key === 'groupBy' ? 'group-by' : key === 'task' ? 'target' : key;
    f.fail(`--${name} ${a} differs from the checkpoint's ${b} (${path}; the file must be read as it was)`, `--${name}`);
  }
}

/** The data read on resume must have the shape of the stopped run's. */
export function checkResumedShape(f: Flags, path: string, stored: FitData, data: SequenceFile, source: string, flag: string): void {
  const now = { sequences: data.size, inputSize: data.inputSize, targetSize: data.targetSize, target: data.target, at: data.at };
  for (const key of Object.keys(now) as (keyof typeof now)[]) {
    if (now[key] !== stored[key])
      f.fail(
        `${flag} ${source} has ${key} ${now[key]}, the data of the checkpoint ${path} had ${stored[key]} (resume on the same data)`,
        flag,
      );
  }
}

/** The restored model must be the one the stored settings describe (else the file was edited). */
export function checkResumedModel(path: string, s: FitSettings, data: FitData, model: Model): void {
  const c = model.config;
  if (
    c.cell !== s.cell ||
    c.hiddenSize !== s.hidden ||
    c.numLayers !== s.layers ||
    c.projSize !== (s['proj-size'] ?? 0) ||
    c.bidirectional !== (s.bidirectional ?? false) ||
    c.dropout !== (s.dropout ?? 0) ||
    c.input !== 'dense' ||
    c.inputSize !== data.inputSize ||
    c.outputSize !== data.targetSize
  )
    throw new UsageError(`fit: ${path}: the settings stored in the checkpoint do not match its model (was the file edited?)`, '--resume');
}

/** Reads a checkpoint that `unrolled fit` wrote (a UsageError for anything else). */
export async function readFitCheckpoint(path: string): Promise<FitCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(path);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(`fit: --resume ${e.message}`, '--resume');
    throw e;
  }
  let info: JsonValue | null = null,
    step = 0;
  try {
    if (decodeSafetensors(bytes).metadata.format === CHECKPOINT_FORMAT) ({ info, step } = checkpointInfo(bytes));
  } catch (e) {
    throw new UsageError(`fit: --resume ${path}: not a checkpoint (${(e as Error).message})`, '--resume');
  }
  const i = info as (Partial<FitInfo> & { fit?: FitPosition & { step?: number } }) | null;
  if (!i || typeof i !== 'object' || i.unrolled_fit !== 1 || !i.settings || !i.data || !i.fit)
    throw new UsageError(
      `fit: --resume ${path} is not a checkpoint of unrolled fit (unrolled fit --checkpoint writes them; unrolled train has its own --resume)`,
      '--resume',
    );
  const { fit: position, ...rest } = i;
  return { bytes, info: rest as FitInfo, position, step };
}
