// Models as safetensors files. unrolled writes every parameter as F32 under its PyTorch state_dict
// name and layout, in parameterNames() order, with its configuration in "__metadata__":
//
//   format: "unrolled", unrolled_format_version: "1", unrolled_config: JSON of model.config,
//   and, for a model a Trainer was made for, unrolled_loss: JSON of model.trainedWith (predict's
//   default `at`; older readers ignore it)
//
// so a file loads back into unrolled by itself (modelFromSafetensors in src/model-file.ts, which
// creates the model from what readModelFile returns) and into PyTorch with
// load_state_dict(strict=True) (torch.nn.LSTM etc. plus a Linear `head`). Files without that
// metadata (e.g. written by PyTorch) load into a model you create (loadSafetensorsInto).
// Nothing here creates a model: creation depends on the model, so this file stays below it.
import { CheckpointError, ConfigError, InvalidArgumentError, describe } from '../errors.js';
import { MODEL_CONFIG_KEYS, resolveConfig, type ResolvedConfig } from './config.js';
import { parameterTable } from './layout.js';
import { resolveLoss, type LossSpec, type ResolvedLoss } from './loss.js';
import type { Model } from './model.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type DecodedSafetensors,
  type SafetensorsLimits,
  type SafetensorsTensor,
} from './safetensors.js';
import { checkKeys } from '../validate/index.js';
import { matchStateDictNames, resolveStateDictNames, type StateDictNames } from './state-dict-names.js';

export const FORMAT_NAME = 'unrolled';
export const FORMAT_VERSION = '1';
/** Metadata keys unrolled writes itself; extraMetadata cannot use them. */
export const RESERVED_METADATA_KEYS: readonly string[] = ['format', 'unrolled_format_version', 'unrolled_config', 'unrolled_loss'];

export interface SaveOptions {
  /**
   * 'F32' (default; what PyTorch models usually hold) or 'F64' (keeps every bit of a model on the
   * js backend with dtype 'float64').
   */
  dtype?: 'F32' | 'F64';
}

/** The model's parameters (parameterNames() order) and configuration as a safetensors file. */
export function modelToSafetensors(model: Model, extraMetadata: Record<string, string> = {}, options: SaveOptions = {}): Uint8Array {
  model.assertAlive();
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', describe(options));
  checkKeys('options', options, ['dtype'], InvalidArgumentError);
  const dtype = options.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F64') throw new InvalidArgumentError('options.dtype', '"F32" or "F64"', describe(dtype));
  if (extraMetadata === null || typeof extraMetadata !== 'object' || Array.isArray(extraMetadata)) {
    throw new InvalidArgumentError('extraMetadata', 'an object of string → string', describe(extraMetadata));
  }
  // read once: a getter must not pass the check as a string and be written as something else
  const extra = Object.entries(extraMetadata);
  for (const [k, v] of extra) {
    if (RESERVED_METADATA_KEYS.includes(k))
      throw new InvalidArgumentError(
        `extraMetadata[${JSON.stringify(k)}]`,
        `a key other than ${RESERVED_METADATA_KEYS.join(', ')}`,
        'a reserved key',
      );
    if (typeof v !== 'string') throw new InvalidArgumentError(`extraMetadata[${JSON.stringify(k)}]`, 'a string', describe(v));
  }
  model.assertAlive();
  const tensors = model.parameterNames().map((name) => ({
    name,
    dtype,
    shape: model.parameterShape(name),
    data: model.getParameter(name),
  }));
  const metadata: Record<string, string> = {
    format: FORMAT_NAME,
    unrolled_format_version: FORMAT_VERSION,
    unrolled_config: configToJson(model.config),
  };
  // the loss it was trained with, only when there is one (an untrained model writes what it always did)
  const trained = model.trainedWith;
  if (trained) metadata.unrolled_loss = JSON.stringify(trained);
  for (const [k, v] of extra) {
    Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * The configuration as stored in model files and checkpoints: every field, except that the
 * layer options added after format version 1 (bidirectional, dropout, batchFirst, bias,
 * embeddingSize, projSize) are written only when they differ from their defaults, so a model without them
 * writes the same bytes as before and older readers keep reading its files.
 */
export function configToJson(cfg: ResolvedConfig): string {
  const stored: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cfg)) {
    if (key in LATER_DEFAULTS && LATER_DEFAULTS[key as keyof typeof LATER_DEFAULTS] === value) continue;
    stored[key] = value;
  }
  return JSON.stringify(stored);
}

const LATER_DEFAULTS = { bidirectional: false, dropout: 0, batchFirst: false, bias: true, embeddingSize: 0, projSize: 0 } as const;

/** Reads the configuration stored by modelToSafetensors; CheckpointError if absent or invalid. */
export function configFromMetadata(metadata: Record<string, string>): ResolvedConfig {
  if (metadata.format !== FORMAT_NAME || !Object.hasOwn(metadata, 'unrolled_config')) {
    throw new CheckpointError(
      `checkpoint: no unrolled metadata (expected "__metadata__" with format "${FORMAT_NAME}" and unrolled_config, ` +
        `found format ${describe(metadata.format)}); to load weights written elsewhere (e.g. by PyTorch), ` +
        'create the model yourself and use loadSafetensorsInto(model, bytes)',
    );
  }
  const version = metadata.unrolled_format_version;
  if (version !== FORMAT_VERSION) {
    throw new CheckpointError(
      `checkpoint: unrolled_format_version ${describe(version)} is not supported (this version reads "${FORMAT_VERSION}")`,
    );
  }
  return configFromJson(metadata.unrolled_config);
}

/**
 * A stored unrolled_config (model files and training checkpoints hold the same JSON) read and
 * checked; CheckpointError if it is not JSON, not an object, has unknown fields or is invalid.
 */
export function configFromJson(json: string): ResolvedConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new CheckpointError(`checkpoint: unrolled_config is not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CheckpointError(`checkpoint: unrolled_config must be a JSON object, found ${describe(parsed)}`);
  }
  // unknown fields first: a newer writer's field deserves that message, not a domain error
  for (const key of Object.keys(parsed)) {
    if (!MODEL_CONFIG_KEYS.includes(key)) {
      throw new CheckpointError(`checkpoint: unrolled_config has the unknown field ${JSON.stringify(key)} (written by a newer version?)`);
    }
  }
  try {
    return resolveConfig(parsed as ResolvedConfig);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`checkpoint: unrolled_config is invalid: ${e.message}`);
    throw e;
  }
}

/**
 * The tensor `name` checked to be F32 or F64 with `shape` and finite values (representable as f32
 * when the model computes in f32): the same rules for model files and training checkpoints.
 */
export function checkedFloatTensor(
  tensors: Map<string, SafetensorsTensor>,
  name: string,
  shape: readonly number[],
  f32: boolean,
): Float32Array | Float64Array {
  const t = tensors.get(name);
  if (!t) throw new CheckpointError(`checkpoint: tensor ${JSON.stringify(name)} is missing (shape [${shape.join(', ')}])`);
  if (t.dtype !== 'F32' && t.dtype !== 'F64')
    throw new CheckpointError(`checkpoint: tensor ${JSON.stringify(name)} has dtype ${t.dtype}; expected F32 or F64`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new CheckpointError(
      `checkpoint: tensor ${JSON.stringify(name)} has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}]`,
    );
  }
  const data = t.data as Float32Array | Float64Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v))
      throw new CheckpointError(`checkpoint: tensor ${JSON.stringify(name)} element ${i} is ${v} (values must be finite)`);
    if (f32 && !Number.isFinite(Math.fround(v))) {
      throw new CheckpointError(
        `checkpoint: tensor ${JSON.stringify(name)} element ${i} is ${v}, which overflows float32 (the model computes in f32)`,
      );
    }
  }
  return data;
}

/**
 * Checks the tensors against the parameters of `config` (exact names once `names` has mapped
 * them, shapes, F32/F64, values finite — and representable as f32 when the model computes in
 * f32); returns the state dict under the model's names.
 */
function checkTensors(
  tensors: Map<string, SafetensorsTensor>,
  config: ResolvedConfig,
  f32: boolean,
  names?: StateDictNames,
): Record<string, Float32Array | Float64Array> {
  const { slots } = parameterTable(config);
  const source = matchStateDictNames(
    [...tensors.keys()],
    new Map(slots.map((s) => [s.name, s.shape])),
    names,
    (m) => new CheckpointError(`checkpoint: ${m}`),
  );
  const renamed = new Map(slots.map((s) => [s.name, tensors.get(source.get(s.name)!)!]));
  const dict: Record<string, Float32Array | Float64Array> = {};
  for (const s of slots) {
    const data = checkedFloatTensor(renamed, s.name, s.shape, f32);
    Object.defineProperty(dict, s.name, { value: data, enumerable: true, writable: true, configurable: true });
  }
  return dict;
}

function decode(bytes: Uint8Array | ArrayBuffer, limits: SafetensorsLimits): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new InvalidArgumentError('bytes', 'a Uint8Array (or ArrayBuffer) holding a safetensors file', describe(bytes));
  }
  return decodeSafetensors(bytes, limits);
}

/**
 * The configuration and weights of a file written by modelToSafetensors, everything validated:
 * what modelFromSafetensors creates a model from. `f32`: the weights must fit float32 (false only
 * for a float64 model on the js backend).
 */
export function readModelFile(
  bytes: Uint8Array | ArrayBuffer,
  limits: SafetensorsLimits,
  f32: boolean,
): { config: ResolvedConfig; weights: Record<string, Float32Array | Float64Array>; loss: ResolvedLoss | null } {
  const { tensors, metadata } = decode(bytes, limits);
  const config = configFromMetadata(metadata);
  return { config, weights: checkTensors(tensors, config, f32), loss: lossFromMetadata(metadata, config) };
}

/** The loss a model file says its model was trained with (unrolled_loss), or null; CheckpointError if invalid. */
function lossFromMetadata(metadata: Record<string, string>, config: ResolvedConfig): ResolvedLoss | null {
  if (!Object.hasOwn(metadata, 'unrolled_loss')) return null;
  try {
    const parsed: unknown = JSON.parse(metadata.unrolled_loss);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`not a JSON object: ${describe(parsed)}`);
    for (const key of Object.keys(parsed))
      if (!['loss', 'at', 'reduction', 'classWeights'].includes(key)) throw new Error(`unknown field ${JSON.stringify(key)}`);
    return resolveLoss(parsed as LossSpec, 'unrolled_loss', config.outputSize);
  } catch (e) {
    throw new CheckpointError(`checkpoint: unrolled_loss is invalid (${(e as Error).message})`);
  }
}

/** Architecture fields that must agree when a file carries unrolled metadata (seed and input kind may differ). */
const ARCHITECTURE: (keyof ResolvedConfig)[] = [
  'cell',
  'nonlinearity',
  'inputSize',
  'hiddenSize',
  'outputSize',
  'numLayers',
  'bidirectional',
  'bias',
  'embeddingSize',
  'projSize',
];

/** Options of loadSafetensorsInto: the header limit and how the file's names map to the model's. */
export interface LoadSafetensorsOptions extends SafetensorsLimits, StateDictNames {}

/**
 * Loads a safetensors file's weights into an existing model: the tensors must be exactly the
 * model's state_dict names (no extra, none missing) with its shapes, F32 or F64, finite. Works for
 * files from PyTorch (a state_dict of nn.RNN/LSTM/GRU plus "head.weight", "head.bias", or a
 * module's state_dict whose names `prefix`, `head` and `rename` map to those, e.g.
 * `{ prefix: 'lstm.', head: 'fc.' }`) and from unrolled (whose stored configuration must then
 * describe the same architecture). When the names do not match, the error lists the missing,
 * the unexpected and every expected name. Nothing is written unless everything is valid.
 */
export function loadSafetensorsInto(model: Model, bytes: Uint8Array | ArrayBuffer, options: LoadSafetensorsOptions = {}): void {
  if (model === null || typeof model !== 'object' || typeof model.loadStateDict !== 'function') {
    throw new InvalidArgumentError('model', 'a Model', describe(model));
  }
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', describe(options));
  const { maxHeaderBytes, ...rest } = options;
  const names = resolveStateDictNames(Object.keys(rest).length ? rest : undefined);
  model.assertAlive();
  const { tensors, metadata } = decode(bytes, { maxHeaderBytes });
  if (metadata.format === FORMAT_NAME && Object.hasOwn(metadata, 'unrolled_config')) {
    const stored = configFromMetadata(metadata);
    for (const key of ARCHITECTURE) {
      if (stored[key] !== model.config[key]) {
        throw new CheckpointError(
          `checkpoint: the file is for a model with ${key} ${describe(stored[key])}, this model has ${describe(model.config[key])}`,
        );
      }
    }
  }
  const dict = checkTensors(tensors, model.config, model.kernels.memory.dtype === 'float32', names);
  model.loadStateDict(dict);
}
