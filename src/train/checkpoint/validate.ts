// Checking a training checkpoint (the format: src/train/checkpoint/format.ts): the header, every
// metadata record and every tensor, against the stored configuration and the same DOMAINS as the
// API, into plain data. read.ts builds a model and trainer from it only when all of it is valid.
import { CheckpointError, ConfigError, InvalidArgumentError, describe } from '../../errors.js';
import type { ResolvedConfig } from '../../model/config.js';
import { parameterTable, type TensorSlot } from '../../model/layout.js';
import { resolveLoss, type ResolvedLoss } from '../../model/loss.js';
import type { Floats } from '../../model/model.js';
import { decodeSafetensors } from '../../model/safetensors.js';
import { checkedFloatTensor, configFromJson } from '../../model/serialize.js';
import { checkKeys, DOMAINS, inDomain, renderDomain, type NumberDomain } from '../../validate/index.js';
import { resolveOptimizer, type OptimizerSpec, type ResolvedOptimizer } from '../optimizers.js';
import { makeSchedule, type ScheduleSpec } from '../schedules.js';
import type { TrainerOptions } from '../trainer.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  keptMoments,
  momentTensorName,
  optimizerSpecOf,
  type DataPosition,
  type JsonValue,
  type RestoreOptions,
} from './format.js';

/** Everything a checkpoint holds, checked. */
export interface ValidCheckpoint {
  config: ResolvedConfig;
  trainer: { options: TrainerOptions; baseLr: number; schedule: ScheduleSpec | null; optimizer: ResolvedOptimizer };
  state: { step: number; modelRng: number[]; carried: { B: number; historySteps: number } | null };
  data: DataPosition | null;
  info: JsonValue | null;
  slots: TensorSlot[];
  /** the parameters by state_dict name */
  weights: Record<string, Floats>;
  /** moments[i][j]: moment i (keptMoments order) of slot j */
  moments: Floats[][];
  carried: { h: Floats; c: Floats | null; history: Floats | null } | null;
  /** k2 − k1: the steps of input history a stateful trainer keeps */
  historyMax: number;
}

export function bad(message: string): never {
  throw new CheckpointError(`checkpoint: ${message}`);
}

export function parseJson(metadata: Record<string, string>, key: string, required: boolean): unknown {
  if (!Object.hasOwn(metadata, key)) {
    if (required) bad(`"__metadata__" has no ${key}`);
    return undefined;
  }
  try {
    return JSON.parse(metadata[key]);
  } catch (e) {
    bad(`${key} is not valid JSON (${(e as Error).message})`);
  }
}

function record(name: string, v: unknown, keys: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(`${name} must be a JSON object, found ${describe(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!keys.includes(k) && !optional.includes(k)) bad(`${name} has the unknown field ${JSON.stringify(k)} (written by a newer version?)`);
  }
  for (const k of keys) if (!Object.hasOwn(o, k)) bad(`${name} has no field "${k}"`);
  return o;
}

/** A number of the checkpoint checked against its domain in DOMAINS (the same as the API's). */
function field(name: string, v: unknown, domain: NumberDomain): number {
  if (!inDomain(v, domain)) bad(`${name} must be ${renderDomain(domain)}, found ${describe(v)}`);
  return v;
}

function rngState(name: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length !== 5) bad(`${name} must be an Rng state [s0, s1, s2, s3, spare], found ${describe(v)}`);
  for (let i = 0; i < 4; i++) {
    const x = v[i];
    if (!inDomain(x, DOMAINS.rngWord))
      bad(`${name}[${i}] must be a 32-bit unsigned integer, ${renderDomain(DOMAINS.rngWord)}, found ${describe(x)}`);
  }
  if ((v[0] | v[1] | v[2] | v[3]) === 0) bad(`${name} is all zeros (not a state of xoshiro128**)`);
  if (v[4] !== null && (typeof v[4] !== 'number' || !Number.isFinite(v[4])))
    bad(`${name}[4] (the spare normal) must be a finite number or null, found ${describe(v[4])}`);
  return [v[0], v[1], v[2], v[3], v[4] === null ? NaN : v[4]];
}

export function configOf(metadata: Record<string, string>): ResolvedConfig {
  if (!Object.hasOwn(metadata, 'unrolled_config')) bad('"__metadata__" has no unrolled_config');
  return configFromJson(metadata.unrolled_config);
}

function trainerOf(metadata: Record<string, string>): {
  options: TrainerOptions;
  baseLr: number;
  schedule: ScheduleSpec | null;
  optimizer: ResolvedOptimizer;
} {
  const r = record(
    'unrolled_trainer',
    parseJson(metadata, 'unrolled_trainer', true),
    ['loss', 'optimizer', 'baseLr', 'schedule', 'clipNorm', 'clipValue', 'onNonFinite', 'tbptt'],
    ['clipHiddenNorm'],
  );
  try {
    const loss = resolveLoss(r.loss as ResolvedLoss, 'unrolled_trainer.loss');
    const optimizer = resolveOptimizer(r.optimizer as OptimizerSpec);
    const schedule = r.schedule === null ? null : (r.schedule as ScheduleSpec);
    if (schedule !== null) makeSchedule(schedule);
    const baseLr = field('unrolled_trainer.baseLr', r.baseLr, DOMAINS.lr);
    const positive = (k: 'clipNorm' | 'clipValue'): number | undefined =>
      r[k] === null ? undefined : field(`unrolled_trainer.${k}`, r[k], { ...DOMAINS[k], finite: true });
    const clipHiddenNorm =
      r.clipHiddenNorm === undefined ? undefined : field('unrolled_trainer.clipHiddenNorm', r.clipHiddenNorm, DOMAINS.clipHiddenNorm);
    if (r.onNonFinite !== 'skip' && r.onNonFinite !== 'throw')
      bad(`unrolled_trainer.onNonFinite must be "skip" or "throw", found ${describe(r.onNonFinite)}`);
    let tbptt: { k1: number; k2: number } | undefined;
    if (r.tbptt !== null) {
      const t = record('unrolled_trainer.tbptt', r.tbptt, ['k1', 'k2']);
      tbptt = { k1: field('unrolled_trainer.tbptt.k1', t.k1, DOMAINS.k1), k2: field('unrolled_trainer.tbptt.k2', t.k2, DOMAINS.k2) };
      if (tbptt.k2 < tbptt.k1) bad(`unrolled_trainer.tbptt needs k2 ≥ k1, found k1 ${tbptt.k1}, k2 ${tbptt.k2}`);
    }
    const options: TrainerOptions = {
      loss,
      optimizer: optimizerSpecOf(optimizer),
      clipNorm: positive('clipNorm'),
      clipValue: positive('clipValue'),
      ...(clipHiddenNorm === undefined ? {} : { clipHiddenNorm }),
      onNonFinite: r.onNonFinite,
      tbptt,
      ...(schedule ? { schedule } : {}),
    };
    return { options, baseLr, schedule, optimizer };
  } catch (e) {
    if (e instanceof ConfigError) bad(`unrolled_trainer is invalid: ${e.message}`);
    throw e;
  }
}

export function stateOf(metadata: Record<string, string>): {
  step: number;
  modelRng: number[];
  carried: { B: number; historySteps: number } | null;
} {
  const r = record('unrolled_state', parseJson(metadata, 'unrolled_state', true), ['step', 'modelRng', 'carried']);
  const step = field('unrolled_state.step', r.step, DOMAINS.step);
  const modelRng = rngState('unrolled_state.modelRng', r.modelRng);
  let carried: { B: number; historySteps: number } | null = null;
  if (r.carried !== null) {
    const c = record('unrolled_state.carried', r.carried, ['B', 'historySteps']);
    carried = {
      B: field('unrolled_state.carried.B', c.B, DOMAINS.B),
      historySteps: field('unrolled_state.carried.historySteps', c.historySteps, DOMAINS.historySteps),
    };
  }
  return { step, modelRng, carried };
}

function dataOf(metadata: Record<string, string>): DataPosition | null {
  const v = parseJson(metadata, 'unrolled_data', false);
  if (v === undefined) return null;
  const r = record('unrolled_data', v, [], ['stream', 'rng']);
  const out: DataPosition = {};
  if (r.stream !== undefined) {
    const s = record('unrolled_data.stream', r.stream, ['epoch', 'position']);
    out.stream = {
      epoch: field('unrolled_data.stream.epoch', s.epoch, DOMAINS.epoch),
      position: field('unrolled_data.stream.position', s.position, DOMAINS.position),
    };
  }
  if (r.rng !== undefined) out.rng = rngState('unrolled_data.rng', r.rng);
  return out;
}

/** Refuses a file that is not a checkpoint; `hint`: say how to load a model file instead. */
export function checkFormat(metadata: Record<string, string>, hint: boolean): void {
  if (metadata.format === CHECKPOINT_FORMAT) return;
  bad(
    `not an unrolled checkpoint (expected "__metadata__" format "${CHECKPOINT_FORMAT}", found ${describe(metadata.format)})` +
      (hint && metadata.format === 'unrolled' ? '; this is a model file: load it with modelFromSafetensors / loadModel' : ''),
  );
}

/** The moments that must not be negative (a square root is taken of them). */
const NON_NEGATIVE = new Set(['exp_avg_sq', 'square_avg', 'sum']);

/**
 * Validates a checkpoint written by checkpointToSafetensors completely (header, metadata, every
 * tensor's name, dtype, shape and values against the stored configuration) into plain data; any
 * problem is a CheckpointError. Nothing is created.
 */
export function validateCheckpoint(bytes: Uint8Array | ArrayBuffer, options: RestoreOptions): ValidCheckpoint {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new InvalidArgumentError('bytes', 'a Uint8Array (or ArrayBuffer) holding a checkpoint', describe(bytes));
  }
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', describe(options));
  checkKeys('options', options, ['backend', 'dtype', 'core', 'maxHeaderBytes'], InvalidArgumentError);
  const { tensors, metadata } = decodeSafetensors(bytes, { maxHeaderBytes: options.maxHeaderBytes });

  checkFormat(metadata, true);
  if (metadata.unrolled_checkpoint_version !== CHECKPOINT_VERSION) {
    bad(
      `unrolled_checkpoint_version ${describe(metadata.unrolled_checkpoint_version)} is not supported (this version reads "${CHECKPOINT_VERSION}")`,
    );
  }
  const known = new Set([
    'format',
    'unrolled_checkpoint_version',
    'unrolled_config',
    'unrolled_trainer',
    'unrolled_state',
    'unrolled_data',
    'unrolled_info',
  ]);
  for (const key of Object.keys(metadata))
    if (!known.has(key)) bad(`"__metadata__" has the unknown key ${JSON.stringify(key)} (written by a newer version?)`);
  const config = configOf(metadata);
  const tr = trainerOf(metadata);
  const state = stateOf(metadata);
  const data = dataOf(metadata);
  const info = parseJson(metadata, 'unrolled_info', false) as JsonValue | undefined;
  if (tr.options.tbptt && tr.options.tbptt.k2 > tr.options.tbptt.k1 && (tr.options.loss as ResolvedLoss).at !== 'every') {
    bad('unrolled_trainer.tbptt has k2 > k1 with a loss at the last step (older steps carry no loss)');
  }

  // tensors: exactly the expected names, dtypes, shapes, finite values
  const f32 = !(options.backend === 'js' && options.dtype === 'float64');
  const slots: TensorSlot[] = parameterTable(config).slots;
  const moments = keptMoments(tr.optimizer);
  const expected = new Set<string>(slots.map((s) => s.name));
  for (const m of moments) for (const s of slots) expected.add(momentTensorName(m, s.name));
  const L = config.numLayers,
    H = config.hiddenSize;
  const k1 = tr.options.tbptt?.k1 ?? 0,
    k2 = tr.options.tbptt?.k2 ?? 0;
  const historyMax = Math.max(0, k2 - k1);
  if (state.carried) {
    expected.add('state.h');
    if (config.cell === 'lstm') expected.add('state.c');
    if (historyMax > 0) expected.add('state.history');
    if (state.carried.historySteps > historyMax) {
      bad(`unrolled_state.carried.historySteps ${state.carried.historySteps} exceeds k2 − k1 = ${historyMax}`);
    }
    // the history buffer is allocated at its full size, (k2 − k1)·B·inputs, whatever the file holds
    const historyFloats = historyMax * state.carried.B * (config.input === 'tokens' ? 1 : config.inputSize);
    if (!inDomain(historyFloats, DOMAINS.historyFloats)) {
      bad(
        `the TBPTT history of (k2 − k1) = ${historyMax} steps × B = ${state.carried.B} holds ${historyFloats} floats; at most ${renderDomain(DOMAINS.historyFloats)} fit one block`,
      );
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name))
      bad(`unexpected tensor ${JSON.stringify(name)} (the checkpoint's configuration has exactly: ${[...expected].join(', ')})`);
  }
  const dict: Record<string, Floats> = {};
  for (const s of slots)
    Object.defineProperty(dict, s.name, { value: checkedFloatTensor(tensors, s.name, s.shape, f32), enumerable: true });
  const momentData: Floats[][] = moments.map((m) =>
    slots.map((s) => {
      const name = momentTensorName(m, s.name);
      const d = checkedFloatTensor(tensors, name, s.shape, f32);
      if (NON_NEGATIVE.has(m)) {
        for (let i = 0; i < d.length; i++)
          if (d[i] < 0) bad(`tensor ${JSON.stringify(name)} element ${i} is ${d[i]}; ${m} cannot be negative`);
      }
      return d;
    }),
  );
  let carriedData: { h: Floats; c: Floats | null; history: Floats | null } | null = null;
  if (state.carried) {
    const { B, historySteps: S } = state.carried;
    // h has projSize features with an LSTM projection, c always hiddenSize
    const h = checkedFloatTensor(tensors, 'state.h', [L, B, config.projSize > 0 ? config.projSize : H], f32);
    const c = config.cell === 'lstm' ? checkedFloatTensor(tensors, 'state.c', [L, B, H], f32) : null;
    let history: Floats | null = null;
    if (historyMax > 0) {
      const shape = config.input === 'tokens' ? [S, B] : [S, B, config.inputSize];
      history = checkedFloatTensor(tensors, 'state.history', shape, f32);
      if (config.input === 'tokens') {
        for (let i = 0; i < history.length; i++) {
          const v = history[i];
          if (!Number.isInteger(v) || v < 0 || v >= config.inputSize)
            bad(`tensor "state.history" element ${i} is ${v}; expected a token id in [0, ${config.inputSize - 1}]`);
        }
      }
    }
    carriedData = { h, c, history };
  }
  return {
    config,
    trainer: tr,
    state,
    data,
    info: info === undefined ? null : info,
    slots,
    weights: dict,
    moments: momentData,
    carried: carriedData,
    historyMax,
  };
}
