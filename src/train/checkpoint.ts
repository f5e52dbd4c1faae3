// Training checkpoints: everything a Trainer needs to continue exactly where it stopped, in one
// safetensors file (browser-safe: bytes in, bytes out; src/node/checkpoint-files.ts saves them
// atomically). Restoring a checkpoint and continuing gives bit-identical results to never having
// stopped, on the same backend and core variant (the Wasm core that is not relaxed-SIMD, i.e.
// loadCore({ reproducible: true }), or the js backend).
//
// Format (format "unrolled-checkpoint", version "1"). Tensors, in this order:
//
//   <name>                      the parameters under their PyTorch state_dict names and shapes
//                               (weight_ih_l0, …, head.weight, head.bias)
//   optimizer.<moment>.<name>   the optimizer's per-parameter state, shaped like the parameter;
//                               <moment> is PyTorch's: exp_avg and exp_avg_sq (adam, adamw),
//                               momentum_buffer (sgd with momentum > 0; none without momentum),
//                               square_avg (rmsprop), sum (adagrad)
//   state.h, state.c            stateful training only: the carried hidden (and LSTM cell) state
//                               [L, B, H]
//   state.history               stateful TBPTT with k2 > k1 only: the inputs of the last S ≤ k2 − k1
//                               steps, [S, B] token ids (as floats) or [S, B, I] floats
//
// All float tensors are F32, or F64 when the model computes in float64 (js backend); loading
// accepts either (values must be finite, and representable in f32 for an f32 model).
// "__metadata__" (every value a JSON string):
//
//   format                        "unrolled-checkpoint"
//   unrolled_checkpoint_version   "1"
//   unrolled_config               the model's resolved configuration (as in a model file)
//   unrolled_trainer              { loss: {loss, at, reduction}, optimizer: OptimizerSpec (all
//                                 fields explicit), baseLr, schedule: ScheduleSpec | null,
//                                 clipNorm: number | null, clipValue: number | null,
//                                 onNonFinite, tbptt: {k1, k2} | null }
//   unrolled_state                { step: updates applied, modelRng: [s0, s1, s2, s3, spare | null]
//                                 (the model's sampler, Rng.getState()), carried: null |
//                                 { B, historySteps } }
//   unrolled_data                 (optional) { stream?: {epoch, position} (a TokenStream),
//                                 rng?: [s0, s1, s2, s3, spare | null] (a task generator's Rng) }
//   unrolled_info                 (optional) any JSON value of the application's (the CLI keeps
//                                 its flags and the vocabulary there)
//
// The weights are in PyTorch's names and layouts, so torch.load_file(...) followed by
// load_state_dict(strict=False) (or filtering out "optimizer." and "state." names) reads them.
import type { CreateModelOptions } from '../create.js';
import { createModel } from '../create.js';
import { CheckpointError, ConfigError, InvalidArgumentError, UnrolledError, describe } from '../errors.js';
import { MODEL_CONFIG_KEYS, resolveConfig, type ResolvedConfig } from '../model/config.js';
import { parameterTable, type TensorSlot } from '../model/layout.js';
import { resolveLoss, type ResolvedLoss } from '../model/loss.js';
import { newFloats, type Floats, type Model } from '../model/model.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor, type SafetensorsLimits, type SafetensorsTensor } from '../model/safetensors.js';
import type { StreamPosition } from '../data/stream.js';
import { momentNames, resolveOptimizer, type OptimizerSpec, type ResolvedOptimizer } from './optimizers.js';
import { makeSchedule, type ScheduleSpec } from './schedules.js';
import { Trainer, type CarriedState, type TrainerOptions } from './trainer.js';
import { DOMAINS, inDomain, renderDomain, type NumberDomain } from '../validate/index.js';

export const CHECKPOINT_FORMAT = 'unrolled-checkpoint';
export const CHECKPOINT_VERSION = '1';

/** A JSON value (what `info` may hold). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The state of an Rng as Rng.getState() gives it (the fifth entry, the spare normal, may be NaN or null). */
export type RngState = readonly (number | null)[];

/** Where the training data stands, so that the data continues exactly too. */
export interface DataPosition {
  /** A TokenStream's getPosition(). */
  stream?: StreamPosition;
  /** A task generator's Rng.getState(). */
  rng?: RngState;
}

export interface CheckpointExtra {
  /** The data's position (stored in unrolled_data). */
  data?: DataPosition;
  /**
   * The ScheduleSpec the trainer was created with (a Trainer keeps only the schedule function).
   * checkpointToSafetensors compares it with the trainer's schedule and refuses a mismatch.
   */
  schedule?: ScheduleSpec;
  /** Anything else of the application's, JSON-serialisable (stored in unrolled_info). */
  info?: JsonValue;
}

export interface RestoreOptions extends SafetensorsLimits {
  backend?: CreateModelOptions['backend'];
  dtype?: CreateModelOptions['dtype'];
  core?: CreateModelOptions['core'];
}

export interface RestoredCheckpoint {
  model: Model;
  trainer: Trainer;
  extra: {
    data: DataPosition | null;
    schedule: ScheduleSpec | null;
    info: JsonValue | null;
    /** Updates applied when the checkpoint was written (= trainer.steps). */
    step: number;
  };
}

interface TrainerRecord {
  loss: ResolvedLoss;
  optimizer: OptimizerSpec;
  baseLr: number;
  schedule: ScheduleSpec | null;
  clipNorm: number | null;
  clipValue: number | null;
  onNonFinite: 'skip' | 'throw';
  tbptt: { k1: number; k2: number } | null;
}

interface StateRecord {
  step: number;
  modelRng: (number | null)[];
  carried: { B: number; historySteps: number } | null;
}

// ---------------------------------------------------------------------------------------------
// writing

/** The optimizer's configuration with every field explicit (round-trips through resolveOptimizer). */
function optimizerSpecOf(s: ResolvedOptimizer): OptimizerSpec {
  switch (s.name) {
    case 'sgd': return { name: 'sgd', lr: s.lr, momentum: s.momentum, dampening: s.dampening, nesterov: s.nesterov, weightDecay: s.weightDecay };
    case 'adam': case 'adamw': return { name: s.name, lr: s.lr, betas: [s.beta1, s.beta2], eps: s.eps, weightDecay: s.weightDecay };
    case 'rmsprop': return { name: 'rmsprop', lr: s.lr, alpha: s.alpha, eps: s.eps, weightDecay: s.weightDecay };
    case 'adagrad': return { name: 'adagrad', lr: s.lr, eps: s.eps, weightDecay: s.weightDecay };
  }
}

/** Moment arrays the optimizer actually keeps (SGD without momentum keeps none). */
function keptMoments(s: ResolvedOptimizer): string[] {
  return s.name === 'sgd' && s.momentum === 0 ? [] : momentNames(s.name);
}

function normaliseRngState(name: string, state: RngState): (number | null)[] {
  const err = (why: string): never => { throw new InvalidArgumentError(name, 'an Rng state [s0, s1, s2, s3, spare] (Rng.getState())', why); };
  if (!Array.isArray(state) || (state.length !== 4 && state.length !== 5)) err(describe(state));
  for (let i = 0; i < 4; i++) {
    const v = state[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) err(`element ${i} = ${describe(v)}`);
  }
  if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) err('an all-zero state');
  const spare = state.length === 5 ? state[4] : null;
  if (spare !== null && typeof spare !== 'number') err(`spare ${describe(spare)}`);
  if (typeof spare === 'number' && !Number.isNaN(spare) && !Number.isFinite(spare)) err(`spare ${spare}`);
  return [state[0]!, state[1]!, state[2]!, state[3]!, spare === null || Number.isNaN(spare) ? null : spare];
}

/** The trainer's schedule factor at `step` (a Trainer keeps the schedule function private). */
function trainerSchedule(trainer: Trainer): ((step: number) => number) | null {
  const fn = (trainer as unknown as { schedule?: unknown }).schedule;
  return typeof fn === 'function' ? (fn as (step: number) => number) : null;
}

/** Steps at which the trainer's schedule and the given spec are compared. */
function probeSteps(step: number): number[] {
  const out: number[] = [];
  for (let s = 0; s <= 64; s++) out.push(s);
  for (let s = 128; s <= 1 << 22; s *= 2) out.push(s - 1, s, s + 1);
  for (let d = -2; d <= 64; d++) if (step + d >= 0) out.push(step + d);
  return out;
}

function checkScheduleMatches(trainer: Trainer, spec: ScheduleSpec | undefined): ScheduleSpec | null {
  let fn: (step: number) => number;
  try {
    fn = makeSchedule(spec);
  } catch (e) {
    if (e instanceof ConfigError) throw new InvalidArgumentError('extra.schedule', 'a valid ScheduleSpec', e.message);
    throw e;
  }
  const actual = trainerSchedule(trainer);
  if (actual) {
    for (const s of probeSteps(trainer.steps)) {
      const a = actual(s), b = fn(s);
      if (!Object.is(a, b)) {
        throw new InvalidArgumentError('extra.schedule',
          'the ScheduleSpec the trainer was created with (pass it as extra.schedule; a Trainer does not keep the spec)',
          `${spec === undefined ? 'none (constant)' : JSON.stringify(spec)}, whose factor at update ${s} is ${b} while the trainer's is ${a}`);
      }
    }
  }
  return spec === undefined ? null : (JSON.parse(JSON.stringify(spec)) as ScheduleSpec);
}

function jsonString(name: string, v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x) => {
      if (typeof x === 'number' && !Number.isFinite(x)) throw new InvalidArgumentError(name, 'JSON-serialisable values (finite numbers)', String(x));
      if (typeof x === 'bigint' || typeof x === 'function' || typeof x === 'symbol') throw new InvalidArgumentError(name, 'JSON-serialisable values', typeof x);
      return x;
    });
  } catch (e) {
    if (e instanceof UnrolledError) throw e;
    throw new InvalidArgumentError(name, 'a JSON-serialisable value', (e as Error).message);
  }
  if (s === undefined) throw new InvalidArgumentError(name, 'a JSON-serialisable value', describe(v));
  return s;
}

function checkStreamPosition(name: string, p: unknown): StreamPosition {
  if (p === null || typeof p !== 'object') throw new InvalidArgumentError(name, '{ epoch, position } (TokenStream.getPosition())', describe(p));
  const { epoch, position } = p as StreamPosition;
  for (const [k, v] of [['epoch', epoch], ['position', position]] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`${name}.${k}`, 'an integer ≥ 0', describe(v));
  }
  return { epoch, position };
}

/**
 * The trainer's whole state (weights, optimizer moments and step, the model's sampler state, the
 * carried TBPTT state) and configuration, plus `extra` (the data's position, the schedule spec,
 * application info), as the bytes of one safetensors file. The trainer is not changed.
 */
export function checkpointToSafetensors(trainer: Trainer, extra: CheckpointExtra = {}): Uint8Array {
  if (!(trainer instanceof Trainer)) throw new InvalidArgumentError('trainer', 'a Trainer', describe(trainer));
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw new InvalidArgumentError('extra', 'an object { data?, schedule?, info? }', describe(extra));
  for (const key of Object.keys(extra)) {
    if (!['data', 'schedule', 'info'].includes(key)) throw new InvalidArgumentError('extra', 'only the fields data, schedule, info', `the field ${JSON.stringify(key)}`);
  }
  const model = trainer.model;
  trainer.assertAlive();
  const schedule = checkScheduleMatches(trainer, extra.schedule);
  let data: { stream?: StreamPosition; rng?: (number | null)[] } | null = null;
  if (extra.data !== undefined) {
    const d = extra.data;
    if (d === null || typeof d !== 'object') throw new InvalidArgumentError('extra.data', 'an object { stream?, rng? }', describe(d));
    for (const key of Object.keys(d)) {
      if (key !== 'stream' && key !== 'rng') throw new InvalidArgumentError('extra.data', 'only the fields stream, rng', `the field ${JSON.stringify(key)}`);
    }
    data = {};
    if (d.stream !== undefined) data.stream = checkStreamPosition('extra.data.stream', d.stream);
    if (d.rng !== undefined) data.rng = normaliseRngState('extra.data.rng', d.rng);
  }
  const info = extra.info === undefined ? undefined : jsonString('extra.info', extra.info);

  // `extra`'s getters may have disposed the trainer: the moments below would be freed memory
  trainer.assertAlive();
  const cfg = model.config;
  const dtype = model.kernels.memory.dtype === 'float64' ? 'F64' : 'F32';
  const slots = parameterTable(cfg).slots;
  const opt = trainer.optimizer;
  const moments = keptMoments(opt.spec);
  const tensors: NamedTensor[] = [];
  for (const s of slots) tensors.push({ name: s.name, dtype, shape: s.shape, data: model.getParameter(s.name) });
  const f = model.kernels.memory.f;
  moments.forEach((m, i) => {
    for (const s of slots) {
      const at = opt.moment(i) + s.offset;
      tensors.push({ name: `optimizer.${m}.${s.name}`, dtype, shape: s.shape, data: f.slice(at, at + s.size) });
    }
  });
  const carried = trainer.getCarriedState();
  if (carried) {
    const { B, historySteps: S } = carried;
    const L = cfg.numLayers, H = cfg.hiddenSize;
    tensors.push({ name: 'state.h', dtype, shape: [L, B, H], data: carried.h });
    if (carried.c) tensors.push({ name: 'state.c', dtype, shape: [L, B, H], data: carried.c });
    if (trainer.k2 > trainer.k1) {
      const perStep = B * (cfg.input === 'tokens' ? 1 : cfg.inputSize);
      const shape = cfg.input === 'tokens' ? [S, B] : [S, B, cfg.inputSize];
      tensors.push({ name: 'state.history', dtype, shape, data: carried.history.slice(0, S * perStep) });
    }
  }
  const trainerRecord: TrainerRecord = {
    loss: { ...trainer.loss },
    optimizer: optimizerSpecOf(opt.spec),
    baseLr: trainer.baseLr,
    schedule,
    clipNorm: trainer.clipNorm === Infinity ? null : trainer.clipNorm,
    clipValue: trainer.clipValue === Infinity ? null : trainer.clipValue,
    onNonFinite: trainer.onNonFinite,
    tbptt: trainer.k1 ? { k1: trainer.k1, k2: trainer.k2 } : null,
  };
  const stateRecord: StateRecord = {
    step: opt.step,
    modelRng: normaliseRngState('model.rng', model.rng.getState()),
    carried: carried ? { B: carried.B, historySteps: carried.historySteps } : null,
  };
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    unrolled_checkpoint_version: CHECKPOINT_VERSION,
    unrolled_config: JSON.stringify(cfg),
    unrolled_trainer: jsonString('trainer', trainerRecord),
    unrolled_state: JSON.stringify(stateRecord),
  };
  if (data) metadata.unrolled_data = JSON.stringify(data);
  if (info !== undefined) metadata.unrolled_info = info;
  return encodeSafetensors(tensors, metadata);
}

// ---------------------------------------------------------------------------------------------
// reading

function bad(message: string): never {
  throw new CheckpointError(`checkpoint: ${message}`);
}

function parseJson(metadata: Record<string, string>, key: string, required: boolean): unknown {
  if (!Object.prototype.hasOwnProperty.call(metadata, key)) {
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
  for (const k of keys) if (!Object.prototype.hasOwnProperty.call(o, k)) bad(`${name} has no field "${k}"`);
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
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 0xffffffff) bad(`${name}[${i}] must be a 32-bit unsigned integer, found ${describe(x)}`);
  }
  if ((v[0] | v[1] | v[2] | v[3]) === 0) bad(`${name} is all zeros (not a state of xoshiro128**)`);
  if (v[4] !== null && (typeof v[4] !== 'number' || !Number.isFinite(v[4]))) bad(`${name}[4] (the spare normal) must be a finite number or null, found ${describe(v[4])}`);
  return [v[0], v[1], v[2], v[3], v[4] === null ? NaN : v[4]];
}

function configOf(metadata: Record<string, string>): ResolvedConfig {
  const parsed = parseJson(metadata, 'unrolled_config', true);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) bad(`unrolled_config must be a JSON object, found ${describe(parsed)}`);
  for (const key of Object.keys(parsed as object)) {
    if (!MODEL_CONFIG_KEYS.includes(key)) bad(`unrolled_config has the unknown field ${JSON.stringify(key)} (written by a newer version?)`);
  }
  let config: ResolvedConfig;
  try {
    config = resolveConfig(parsed as ResolvedConfig);
  } catch (e) {
    if (e instanceof ConfigError) bad(`unrolled_config is invalid: ${e.message}`);
    throw e;
  }
  return config;
}

function trainerOf(metadata: Record<string, string>): { options: TrainerOptions; baseLr: number; schedule: ScheduleSpec | null; optimizer: ResolvedOptimizer } {
  const r = record('unrolled_trainer', parseJson(metadata, 'unrolled_trainer', true),
    ['loss', 'optimizer', 'baseLr', 'schedule', 'clipNorm', 'clipValue', 'onNonFinite', 'tbptt']);
  try {
    const loss = resolveLoss(r.loss as ResolvedLoss, 'unrolled_trainer.loss');
    const optimizer = resolveOptimizer(r.optimizer as OptimizerSpec);
    const schedule = r.schedule === null ? null : (r.schedule as ScheduleSpec);
    if (schedule !== null) makeSchedule(schedule);
    const baseLr = field('unrolled_trainer.baseLr', r.baseLr, DOMAINS.lr);
    const positive = (k: 'clipNorm' | 'clipValue'): number | undefined =>
      r[k] === null ? undefined : field(`unrolled_trainer.${k}`, r[k], { ...DOMAINS[k], finite: true });
    if (r.onNonFinite !== 'skip' && r.onNonFinite !== 'throw') bad(`unrolled_trainer.onNonFinite must be "skip" or "throw", found ${describe(r.onNonFinite)}`);
    let tbptt: { k1: number; k2: number } | undefined;
    if (r.tbptt !== null) {
      const t = record('unrolled_trainer.tbptt', r.tbptt, ['k1', 'k2']);
      tbptt = { k1: field('unrolled_trainer.tbptt.k1', t.k1, DOMAINS.k1), k2: field('unrolled_trainer.tbptt.k2', t.k2, DOMAINS.k2) };
      if (tbptt.k2 < tbptt.k1) bad(`unrolled_trainer.tbptt needs k2 ≥ k1, found k1 ${tbptt.k1}, k2 ${tbptt.k2}`);
    }
    const options: TrainerOptions = {
      loss, optimizer: optimizerSpecOf(optimizer), clipNorm: positive('clipNorm'), clipValue: positive('clipValue'),
      onNonFinite: r.onNonFinite, tbptt, ...(schedule ? { schedule } : {}),
    };
    return { options, baseLr, schedule, optimizer };
  } catch (e) {
    if (e instanceof ConfigError) bad(`unrolled_trainer is invalid: ${e.message}`);
    throw e;
  }
}

function stateOf(metadata: Record<string, string>): { step: number; modelRng: number[]; carried: { B: number; historySteps: number } | null } {
  const r = record('unrolled_state', parseJson(metadata, 'unrolled_state', true), ['step', 'modelRng', 'carried']);
  const step = field('unrolled_state.step', r.step, DOMAINS.step);
  const modelRng = rngState('unrolled_state.modelRng', r.modelRng);
  let carried: { B: number; historySteps: number } | null = null;
  if (r.carried !== null) {
    const c = record('unrolled_state.carried', r.carried, ['B', 'historySteps']);
    carried = { B: field('unrolled_state.carried.B', c.B, DOMAINS.B), historySteps: field('unrolled_state.carried.historySteps', c.historySteps, DOMAINS.historySteps) };
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
    out.stream = { epoch: field('unrolled_data.stream.epoch', s.epoch, DOMAINS.epoch), position: field('unrolled_data.stream.position', s.position, DOMAINS.position) };
  }
  if (r.rng !== undefined) out.rng = rngState('unrolled_data.rng', r.rng);
  return out;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** A float tensor of the expected shape, finite (and within f32 range for an f32 model). */
function floatTensor(tensors: Map<string, SafetensorsTensor>, name: string, shape: readonly number[], f32: boolean): Float32Array | Float64Array {
  const t = tensors.get(name);
  if (!t) bad(`tensor ${JSON.stringify(name)} is missing (shape [${shape.join(', ')}])`);
  if (t.dtype !== 'F32' && t.dtype !== 'F64') bad(`tensor ${JSON.stringify(name)} has dtype ${t.dtype}; expected F32 or F64`);
  if (!sameShape(t.shape, shape)) bad(`tensor ${JSON.stringify(name)} has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}]`);
  const data = t.data as Float32Array | Float64Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) bad(`tensor ${JSON.stringify(name)} element ${i} is ${v} (values must be finite)`);
    if (f32 && !Number.isFinite(Math.fround(v))) bad(`tensor ${JSON.stringify(name)} element ${i} is ${v}, which overflows float32 (the model computes in f32)`);
  }
  return data;
}

/** The moments that must not be negative (a square root is taken of them). */
const NON_NEGATIVE = new Set(['exp_avg_sq', 'square_avg', 'sum']);

/**
 * Validates a checkpoint written by checkpointToSafetensors completely (header, metadata, every
 * tensor's name, dtype, shape and values against the stored configuration), then creates the
 * model and trainer and restores their state. Any problem is a CheckpointError, raised before a
 * model is created.
 */
export async function restoreCheckpoint(bytes: Uint8Array | ArrayBuffer, options: RestoreOptions = {}): Promise<RestoredCheckpoint> {
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new InvalidArgumentError('bytes', 'a Uint8Array (or ArrayBuffer) holding a checkpoint', describe(bytes));
  }
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', describe(options));
  const { tensors, metadata } = decodeSafetensors(bytes, { maxHeaderBytes: options.maxHeaderBytes });

  if (metadata.format !== CHECKPOINT_FORMAT) {
    bad(`not an unrolled checkpoint (expected "__metadata__" format "${CHECKPOINT_FORMAT}", found ${describe(metadata.format)})` +
      (metadata.format === 'unrolled' ? '; this is a model file: load it with modelFromSafetensors / loadModel' : ''));
  }
  if (metadata.unrolled_checkpoint_version !== CHECKPOINT_VERSION) {
    bad(`unrolled_checkpoint_version ${describe(metadata.unrolled_checkpoint_version)} is not supported (this version reads "${CHECKPOINT_VERSION}")`);
  }
  const known = new Set(['format', 'unrolled_checkpoint_version', 'unrolled_config', 'unrolled_trainer', 'unrolled_state', 'unrolled_data', 'unrolled_info']);
  for (const key of Object.keys(metadata)) if (!known.has(key)) bad(`"__metadata__" has the unknown key ${JSON.stringify(key)} (written by a newer version?)`);
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
  for (const m of moments) for (const s of slots) expected.add(`optimizer.${m}.${s.name}`);
  const L = config.numLayers, H = config.hiddenSize;
  const k1 = tr.options.tbptt?.k1 ?? 0, k2 = tr.options.tbptt?.k2 ?? 0;
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
      bad(`the TBPTT history of (k2 − k1) = ${historyMax} steps × B = ${state.carried.B} holds ${historyFloats} floats; at most ${renderDomain(DOMAINS.historyFloats)} fit one block`);
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) bad(`unexpected tensor ${JSON.stringify(name)} (the checkpoint's configuration has exactly: ${[...expected].join(', ')})`);
  }
  const dict: Record<string, Floats> = {};
  for (const s of slots) Object.defineProperty(dict, s.name, { value: floatTensor(tensors, s.name, s.shape, f32), enumerable: true });
  const momentData: Floats[][] = moments.map((m) => slots.map((s) => {
    const name = `optimizer.${m}.${s.name}`;
    const d = floatTensor(tensors, name, s.shape, f32);
    if (NON_NEGATIVE.has(m)) {
      for (let i = 0; i < d.length; i++) if (d[i] < 0) bad(`tensor ${JSON.stringify(name)} element ${i} is ${d[i]}; ${m} cannot be negative`);
    }
    return d;
  }));
  let carriedData: { h: Floats; c: Floats | null; history: Floats | null } | null = null;
  if (state.carried) {
    const { B, historySteps: S } = state.carried;
    const h = floatTensor(tensors, 'state.h', [L, B, H], f32);
    const c = config.cell === 'lstm' ? floatTensor(tensors, 'state.c', [L, B, H], f32) : null;
    let history: Floats | null = null;
    if (historyMax > 0) {
      const shape = config.input === 'tokens' ? [S, B] : [S, B, config.inputSize];
      history = floatTensor(tensors, 'state.history', shape, f32);
      if (config.input === 'tokens') {
        for (let i = 0; i < history.length; i++) {
          const v = history[i];
          if (!Number.isInteger(v) || v < 0 || v >= config.inputSize) bad(`tensor "state.history" element ${i} is ${v}; expected a token id in [0, ${config.inputSize - 1}]`);
        }
      }
    }
    carriedData = { h, c, history };
  }

  // everything is valid: build
  let model: Model | null = null;
  let trainer: Trainer | null = null;
  try {
    model = await createModel({ ...config, backend: options.backend, dtype: options.dtype, core: options.core });
    model.loadStateDict(dict);
    model.rng.setState(state.modelRng);
    trainer = new Trainer(model, tr.options);
    trainer.baseLr = tr.baseLr;
    trainer.optimizer.step = state.step;
    const f = model.kernels.memory.f; // after every allocation
    momentData.forEach((perSlot, i) => {
      perSlot.forEach((d, j) => { f.set(d, trainer!.optimizer.moment(i) + slots[j].offset); });
    });
    trainer.optimizer.invalidateBounds();
    if (state.carried && carriedData) {
      const { B, historySteps } = state.carried;
      const perStep = B * (config.input === 'tokens' ? 1 : config.inputSize);
      const like = f;
      const history = newFloats(like, historyMax * perStep);
      if (carriedData.history) history.set(carriedData.history);
      const carried: CarriedState = {
        B, h: toFloats(like, carriedData.h), c: carriedData.c ? toFloats(like, carriedData.c) : null, history, historySteps,
      };
      trainer.setCarriedState(carried);
    }
    return { model, trainer, extra: { data, schedule: tr.schedule, info: info === undefined ? null : info, step: state.step } };
  } catch (e) {
    trainer?.dispose();
    model?.dispose();
    if (e instanceof ConfigError) bad(`the stored configuration is invalid: ${e.message}`);
    throw e;
  }
}

function toFloats(like: Floats, v: Floats): Floats {
  const out = newFloats(like, v.length);
  out.set(v);
  return out;
}

/** Reads only the application info of a checkpoint (validating the file's header), without building anything. */
export function checkpointInfo(bytes: Uint8Array | ArrayBuffer, limits: SafetensorsLimits = {}): { config: ResolvedConfig; step: number; info: JsonValue | null } {
  const { metadata } = decodeSafetensors(bytes, limits);
  if (metadata.format !== CHECKPOINT_FORMAT) bad(`not an unrolled checkpoint (expected "__metadata__" format "${CHECKPOINT_FORMAT}", found ${describe(metadata.format)})`);
  const config = configOf(metadata);
  const { step } = stateOf(metadata);
  const info = parseJson(metadata, 'unrolled_info', false) as JsonValue | undefined;
  return { config, step, info: info === undefined ? null : info };
}
