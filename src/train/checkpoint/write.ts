// Writing a training checkpoint (the format: src/train/checkpoint/format.ts). The trainer is read,
// never changed; every value of `extra` is checked before a byte is written.
import { ConfigError, InvalidArgumentError, UnrolledError, describe } from '../../errors.js';
import { parameterTable } from '../../model/layout.js';
import { configToJson } from '../../model/serialize.js';
import { encodeSafetensors, type NamedTensor } from '../../model/safetensors.js';
import type { StreamPosition } from '../../data/stream.js';
import { makeSchedule, sameSchedule, type ScheduleSpec } from '../schedules.js';
import { Trainer } from '../trainer.js';
import { checkNumber, DOMAINS, inDomain } from '../../validate/index.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  keptMoments,
  momentTensorName,
  optimizerSpecOf,
  type CheckpointExtra,
  type RngState,
  type StateRecord,
  type TrainerRecord,
} from './format.js';

function normaliseRngState(name: string, state: RngState): (number | null)[] {
  const err = (why: string): never => {
    throw new InvalidArgumentError(name, 'an Rng state [s0, s1, s2, s3, spare] (Rng.getState())', why);
  };
  if (!Array.isArray(state) || (state.length !== 4 && state.length !== 5)) err(describe(state));
  for (let i = 0; i < 4; i++) {
    const v = state[i];
    if (!inDomain(v, DOMAINS.rngWord)) err(`element ${i} = ${describe(v)}`);
  }
  if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) err('an all-zero state');
  const spare = state.length === 5 ? state[4] : null;
  if (spare !== null && typeof spare !== 'number') err(`spare ${describe(spare)}`);
  if (typeof spare === 'number' && !Number.isNaN(spare) && !Number.isFinite(spare)) err(`spare ${spare}`);
  return [state[0]!, state[1]!, state[2]!, state[3]!, spare === null || Number.isNaN(spare) ? null : spare];
}

/**
 * The spec given as extra.schedule, checked to be the one the trainer was created with, as the
 * JSON the file stores (null for none).
 */
function checkScheduleMatches(trainer: Trainer, spec: ScheduleSpec | undefined): ScheduleSpec | null {
  try {
    makeSchedule(spec);
  } catch (e) {
    if (e instanceof ConfigError) throw new InvalidArgumentError('extra.schedule', 'a valid ScheduleSpec', e.message);
    throw e;
  }
  if (!sameSchedule(spec, trainer.scheduleSpec)) {
    const show = (s: ScheduleSpec | undefined) => (s === undefined ? 'none (constant)' : JSON.stringify(s));
    throw new InvalidArgumentError(
      'extra.schedule',
      `the ScheduleSpec the trainer was created with (trainer.scheduleSpec: ${show(trainer.scheduleSpec)})`,
      show(spec),
    );
  }
  return spec === undefined ? null : (JSON.parse(JSON.stringify(spec)) as ScheduleSpec);
}

function jsonString(name: string, v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x) => {
      if (typeof x === 'number' && !Number.isFinite(x))
        throw new InvalidArgumentError(name, 'JSON-serialisable values (finite numbers)', String(x));
      if (typeof x === 'bigint' || typeof x === 'function' || typeof x === 'symbol')
        throw new InvalidArgumentError(name, 'JSON-serialisable values', typeof x);
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
  if (p === null || typeof p !== 'object')
    throw new InvalidArgumentError(name, '{ epoch, position } (TokenStream.getPosition())', describe(p));
  const { epoch, position } = p as StreamPosition;
  return {
    epoch: checkNumber(`${name}.epoch`, epoch, DOMAINS.epoch, InvalidArgumentError),
    position: checkNumber(`${name}.position`, position, DOMAINS.position, InvalidArgumentError),
  };
}

/**
 * The trainer's whole state (weights, optimizer moments and step, the model's sampler state, the
 * carried TBPTT state) and configuration, plus `extra` (the data's position, the schedule spec,
 * application info), as the bytes of one safetensors file. The trainer is not changed.
 */
export function checkpointToSafetensors(trainer: Trainer, extra: CheckpointExtra = {}): Uint8Array {
  if (!(trainer instanceof Trainer)) throw new InvalidArgumentError('trainer', 'a Trainer', describe(trainer));
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra))
    throw new InvalidArgumentError('extra', 'an object { data?, schedule?, info? }', describe(extra));
  for (const key of Object.keys(extra)) {
    if (!['data', 'schedule', 'info'].includes(key))
      throw new InvalidArgumentError('extra', 'only the fields data, schedule, info', `the field ${JSON.stringify(key)}`);
  }
  const model = trainer.model;
  trainer.assertAlive();
  const schedule = checkScheduleMatches(trainer, extra.schedule);
  let data: { stream?: StreamPosition; rng?: (number | null)[] } | null = null;
  if (extra.data !== undefined) {
    const d = extra.data;
    if (d === null || typeof d !== 'object') throw new InvalidArgumentError('extra.data', 'an object { stream?, rng? }', describe(d));
    for (const key of Object.keys(d)) {
      if (key !== 'stream' && key !== 'rng')
        throw new InvalidArgumentError('extra.data', 'only the fields stream, rng', `the field ${JSON.stringify(key)}`);
    }
    data = {};
    if (d.stream !== undefined) data.stream = checkStreamPosition('extra.data.stream', d.stream);
    if (d.rng !== undefined) data.rng = normaliseRngState('extra.data.rng', d.rng);
  }
  const info = extra.info === undefined ? undefined : jsonString('extra.info', extra.info);

  // `extra`'s getters may have disposed the trainer: the moments below would be freed memory
  trainer.assertAlive();
  const cfg = model.config;
  const dtype = model.dtype === 'float64' ? 'F64' : 'F32';
  const slots = parameterTable(cfg).slots;
  const opt = trainer.optimizer;
  const moments = keptMoments(opt.spec);
  const tensors: NamedTensor[] = [];
  for (const s of slots) tensors.push({ name: s.name, dtype, shape: s.shape, data: model.getParameter(s.name) });
  const f = model.arena.kernels.memory.f;
  moments.forEach((m, i) => {
    for (const s of slots) {
      const at = opt.moment(i) + s.offset;
      tensors.push({ name: momentTensorName(m, s.name), dtype, shape: s.shape, data: f.slice(at, at + s.size) });
    }
  });
  const carried = trainer.getCarriedState();
  if (carried) {
    const { B, historySteps: S } = carried;
    const L = cfg.numLayers,
      H = cfg.hiddenSize,
      R = cfg.projSize > 0 ? cfg.projSize : H; // h has projSize features with an LSTM projection
    tensors.push({ name: 'state.h', dtype, shape: [L, B, R], data: carried.h });
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
    ...(trainer.clipHiddenNorm > 0 ? { clipHiddenNorm: trainer.clipHiddenNorm } : {}),
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
    unrolled_config: configToJson(cfg),
    unrolled_trainer: jsonString('trainer', trainerRecord),
    unrolled_state: JSON.stringify(stateRecord),
  };
  if (data) metadata.unrolled_data = JSON.stringify(data);
  if (info !== undefined) metadata.unrolled_info = info;
  return encodeSafetensors(tensors, metadata);
}
