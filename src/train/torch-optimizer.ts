// A Trainer's optimizer state in the layout of PyTorch's `optimizer.state_dict()`, both ways, so
// that training can move to PyTorch (for example to DistributedDataParallel on several machines)
// and back without restarting the optimizer:
//
//   { state: { 0: { step, exp_avg, exp_avg_sq }, 1: …, … },
//     param_groups: [{ lr, betas, eps, weight_decay, amsgrad, …, params: [0, 1, …], param_names: […] }] }
//
// Index i is the i-th tensor of `model.parameters()` of the equivalent PyTorch module: the
// recurrent module's own parameters in its `named_parameters()` order (per layer, per direction:
// weight_ih, weight_hh, bias_ih, bias_hh, weight_hr), then `embedding.weight`, then `head.weight`
// and `head.bias`. That is the order of an nn.LSTM / nn.GRU / nn.RNN with the embedding and the
// head registered as its submodules in that order, and of a wrapper module that holds the
// recurrent module, the embedding and the head in that order. `param_names` (the key PyTorch 2.6
// added to param groups) names each index with its state_dict name, so a module whose parameters
// come in another order maps by name.
//
// The moments carry PyTorch's names (momentNames in optimizers.ts), `step` is one number per
// parameter (PyTorch 1.13 keeps it as a float tensor; unrolled keeps one counter, so all must be
// equal). The safetensors form stores tensor `state.<i>.<key>` per entry (the step as a 0-d F64
// tensor) and the param groups as JSON in the metadata, so that a few lines of Python without
// extra packages read it (examples/ddp-handover/train_ddp.py).
import { InvalidArgumentError, CheckpointError, describe } from '../errors.js';
import type { ResolvedConfig } from '../model/config.js';
import { parameterTable, type TensorSlot } from '../model/layout.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor, type SafetensorsLimits } from '../model/safetensors.js';
import { copyFloats } from '../validate/arrays.js';
import { checkNumber, DOMAINS } from '../validate/index.js';
import { momentNames, type ResolvedOptimizer } from './optimizers.js';
import { Trainer } from './trainer.js';

/** A tensor as PyTorch holds it: its shape and its values, row-major. */
export interface TorchTensor {
  shape: number[];
  data: Float32Array | Float64Array;
}

/**
 * One parameter's entry of `state`: `step` (absent for SGD) and the moments under PyTorch's names
 * (`exp_avg`, `exp_avg_sq`; `momentum_buffer`, null without momentum; `square_avg`; `sum`).
 */
export type TorchParamState = { step?: number } & { [key: string]: TorchTensor | number | null | undefined };

/** One param group: PyTorch's hyperparameter keys, the indices of its parameters and their names. */
export interface TorchParamGroup {
  /** The learning rate of the next step. */
  lr: number;
  /** Indices into `state` and into the module's `parameters()` order. */
  params: number[];
  /** The state_dict name of each index in `params` (PyTorch ≥ 2.6 writes it too). */
  param_names?: string[];
  [key: string]: unknown;
}

/** What PyTorch's `optimizer.state_dict()` returns, with tensors as `{ shape, data }`. */
export interface TorchOptimizerState {
  /** Per parameter index; empty before the first step (except Adagrad's). */
  state: Record<number, TorchParamState>;
  /** One group over all parameters (unrolled has one optimizer for the whole model). */
  param_groups: TorchParamGroup[];
}

export interface ImportTorchOptimizerOptions {
  /**
   * The trainer's update count after the import, for SGD (whose PyTorch state has no step).
   * Default: the trainer's current count. Ignored by the other optimizers, which store it.
   */
  step?: number;
}

/** The `format` metadata of the safetensors form. */
export const TORCH_OPTIMIZER_FORMAT = 'torch-optimizer-state';

/**
 * The model's parameters in the order of `model.parameters()` of the equivalent PyTorch module:
 * the recurrent weights, then the embedding, then the head.
 */
export function torchParameterOrder(cfg: ResolvedConfig): TensorSlot[] {
  const slots = parameterTable(cfg).slots;
  const rank = (s: TensorSlot) => (s.name === 'embedding.weight' ? 1 : s.name.startsWith('head.') ? 2 : 0);
  return [...slots].sort((a, b) => rank(a) - rank(b)); // stable: the table's order within each rank
}

/**
 * The param group keys PyTorch 1.13's optimizer of the same kind writes, with this optimizer's
 * values. `math` must match on import; `fixed` are PyTorch options unrolled does not have, which
 * may be present only with the value that leaves the update unchanged; the rest (foreach,
 * capturable, differentiable, fused) choose PyTorch's implementation, not the numbers.
 */
function torchGroup(s: ResolvedOptimizer): {
  math: Record<string, unknown>;
  fixed: Record<string, unknown>;
  other: Record<string, unknown>;
} {
  switch (s.name) {
    case 'adam':
    case 'adamw':
      return {
        math: { betas: [s.beta1, s.beta2], eps: s.eps, weight_decay: s.weightDecay },
        fixed: { amsgrad: false, maximize: false },
        other:
          s.name === 'adam'
            ? { foreach: null, capturable: false, differentiable: false, fused: false }
            : { foreach: null, capturable: false },
      };
    case 'sgd':
      return {
        math: { momentum: s.momentum, dampening: s.dampening, weight_decay: s.weightDecay, nesterov: s.nesterov },
        fixed: { maximize: false },
        other: { foreach: null, differentiable: false },
      };
    case 'rmsprop':
      return {
        math: { alpha: s.alpha, eps: s.eps, weight_decay: s.weightDecay },
        fixed: { momentum: 0, centered: false, maximize: false },
        other: { foreach: null, differentiable: false },
      };
    case 'adagrad':
      return {
        math: { eps: s.eps, weight_decay: s.weightDecay },
        fixed: { lr_decay: 0, initial_accumulator_value: 0, maximize: false },
        other: { foreach: null },
      };
  }
}

/** Moments this optimizer keeps in memory (SGD without momentum keeps none). */
function kept(s: ResolvedOptimizer): string[] {
  return s.name === 'sgd' && s.momentum === 0 ? [] : momentNames(s.name);
}

/**
 * The trainer's optimizer state (moments, step, hyperparameters) in the layout of PyTorch's
 * `optimizer.state_dict()`, as copies; `torch.optim.<Optimizer>.load_state_dict` takes it once the
 * tensors are torch tensors (see `torchOptimizerStateToSafetensors`). Before the first update the
 * state is empty, as PyTorch's is (Adagrad's holds its zero sums, as PyTorch's does). `lr` is the
 * rate of the next step; with a schedule, `initial_lr` is the base rate (as a PyTorch LR scheduler
 * keeps it).
 */
export function exportTorchOptimizerState(trainer: Trainer): TorchOptimizerState {
  if (!(trainer instanceof Trainer)) throw new InvalidArgumentError('trainer', 'a Trainer', describe(trainer));
  trainer.assertAlive();
  const opt = trainer.optimizer,
    s = opt.spec;
  const order = torchParameterOrder(trainer.model.config);
  const f = trainer.model.arena.kernels.memory.f;
  const moments = kept(s);
  const state: Record<number, TorchParamState> = {};
  if (opt.step > 0 || s.name === 'adagrad') {
    order.forEach((slot, i) => {
      const entry: TorchParamState = {};
      if (s.name !== 'sgd') entry.step = opt.step;
      moments.forEach((m, j) => {
        const at = opt.moment(j) + slot.offset;
        entry[m] = { shape: [...slot.shape], data: f.slice(at, at + slot.size) };
      });
      if (s.name === 'sgd' && moments.length === 0) entry.momentum_buffer = null;
      state[i] = entry;
    });
  }
  const g = torchGroup(s);
  const group: TorchParamGroup = { lr: trainer.lr, ...g.math, ...g.fixed, ...g.other, params: order.map((_, i) => i) };
  if (trainer.scheduleSpec !== undefined) group.initial_lr = trainer.baseLr;
  group.param_names = order.map((slot) => slot.name);
  return { state, param_groups: [group] };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Loads an optimizer state in the layout of PyTorch's `optimizer.state_dict()` (as written by
 * exportTorchOptimizerState, or by PyTorch and read with torchOptimizerStateFromSafetensors) into
 * the trainer: its moments, its update count (the per-parameter `step`, which must be equal for
 * all) and its base learning rate (`initial_lr` when present, else `lr`). The trainer must have
 * been created with the same optimizer: betas, eps, weight decay and the like are compared, not
 * taken, and a mismatch is an error naming both values. Everything is read and checked (indices,
 * names, shapes, finite values) before anything is written; on an error nothing has changed.
 */
export function importTorchOptimizerState(trainer: Trainer, state: TorchOptimizerState, options: ImportTorchOptimizerOptions = {}): void {
  if (!(trainer instanceof Trainer)) throw new InvalidArgumentError('trainer', 'a Trainer', describe(trainer));
  trainer.assertAlive();
  const bad = (argument: string, expected: string, actual: unknown): never => {
    throw new InvalidArgumentError(argument, expected, typeof actual === 'string' ? actual : describe(actual));
  };
  if (options === null || typeof options !== 'object') bad('options', 'an object { step? }', options);
  for (const key of Object.keys(options)) if (key !== 'step') bad('options', 'only the field step', `the field ${JSON.stringify(key)}`);
  if (state === null || typeof state !== 'object') bad('state', '{ state, param_groups } (optimizer.state_dict())', state);
  const { state: perParam, param_groups: groups } = state;
  const opt = trainer.optimizer,
    s = opt.spec,
    dtype = trainer.model.dtype;
  const order = torchParameterOrder(trainer.model.config);
  const names = order.map((slot) => slot.name);
  const n = order.length;

  // the param group: one, over every parameter, with this optimizer's hyperparameters
  if (!Array.isArray(groups) || groups.length !== 1) {
    bad(
      'state.param_groups',
      'one param group (unrolled trains all parameters with one optimizer)',
      Array.isArray(groups) ? `${groups.length} groups` : groups,
    );
  }
  const group = groups[0];
  if (group === null || typeof group !== 'object') bad('state.param_groups[0]', 'an object { lr, params, … }', group);
  const params = group.params;
  if (!Array.isArray(params) || params.length !== n) {
    bad(
      'state.param_groups[0].params',
      `${n} parameter indices (${names.join(', ')})`,
      Array.isArray(params) ? `${params.length} indices` : params,
    );
  }
  // index → our slot: by param_names when given, else by the canonical order
  const slotOfIndex = new Map<number, TensorSlot>();
  const paramNames = group.param_names;
  if (paramNames !== undefined && (!Array.isArray(paramNames) || paramNames.length !== n))
    bad('state.param_groups[0].param_names', `${n} names`, paramNames);
  params.forEach((p: unknown, j: number) => {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || slotOfIndex.has(p))
      bad(`state.param_groups[0].params[${j}]`, 'a distinct non-negative integer', p);
    const name = paramNames ? paramNames[j] : names[j];
    const slot = order.find((o) => o.name === name);
    if (!slot) bad(`state.param_groups[0].param_names[${j}]`, `one of ${names.join(', ')}`, describe(name));
    if ([...slotOfIndex.values()].includes(slot!)) bad(`state.param_groups[0].param_names[${j}]`, 'each name once', `"${name}" again`);
    slotOfIndex.set(p as number, slot!);
  });
  const g = torchGroup(s);
  const withOptions = `(create the Trainer with the optimizer PyTorch used: ${s.name})`;
  for (const [key, value] of Object.entries(g.math)) {
    if (!same(group[key], value))
      bad(
        `state.param_groups[0].${key}`,
        `${JSON.stringify(value)}, the trainer's ${withOptions}`,
        JSON.stringify(group[key]) ?? 'undefined',
      );
  }
  for (const [key, value] of Object.entries(g.fixed)) {
    if (key in group && !same(group[key], value))
      bad(
        `state.param_groups[0].${key}`,
        `${JSON.stringify(value)} (unrolled's ${s.name} has no other)`,
        JSON.stringify(group[key]) ?? 'undefined',
      );
  }
  const lr = checkNumber('state.param_groups[0].lr', group.lr, DOMAINS.lr, InvalidArgumentError);
  const baseLr =
    group.initial_lr === undefined
      ? lr
      : checkNumber('state.param_groups[0].initial_lr', group.initial_lr, DOMAINS.lr, InvalidArgumentError);

  // the per-parameter state: all entries or none, each with the step and every moment
  if (perParam === null || typeof perParam !== 'object') bad('state.state', 'an object of parameter index → state', perParam);
  const moments = kept(s);
  const expectKeys = [...(s.name === 'sgd' ? [] : ['step']), ...momentNames(s.name)];
  const entries = Object.keys(perParam);
  for (const key of entries) {
    // "1" and "01" would both be index 1: only the canonical spelling counts
    if (!/^(0|[1-9][0-9]*)$/.test(key) || !slotOfIndex.has(Number(key)))
      bad('state.state', `only the indices in params (0 … ${n - 1})`, `index ${JSON.stringify(key)}`);
  }
  if (entries.length !== 0 && entries.length !== n)
    bad('state.state', `an entry for each of the ${n} parameters, or none (before the first step)`, `${entries.length} entries`);
  // dense (filled with undefined), so that some() and every() visit every parameter
  const copies: (Float32Array | Float64Array | undefined)[][] = moments.map(() => new Array(n).fill(undefined));
  let step: number | undefined;
  const slotIndex = new Map(order.map((slot, i) => [slot, i]));
  for (const key of entries) {
    const slot = slotOfIndex.get(Number(key))!;
    const where = `state.state[${key}] (${slot.name})`;
    const entry = (perParam as Record<string, TorchParamState>)[key];
    if (entry === null || typeof entry !== 'object') bad(where, `{ ${expectKeys.join(', ')} }`, entry);
    for (const k of Object.keys(entry)) if (!expectKeys.includes(k)) bad(where, `only the keys ${expectKeys.join(', ')}`, `the key "${k}"`);
    if (s.name !== 'sgd') {
      const v = checkNumber(`${where}.step`, entry.step, DOMAINS.step, InvalidArgumentError);
      if (step !== undefined && v !== step)
        bad(`${where}.step`, `${step}, the step of the other parameters (unrolled counts updates once for all)`, v);
      step = v;
    }
    if (s.name === 'sgd' && moments.length === 0) {
      if (entry.momentum_buffer !== null && entry.momentum_buffer !== undefined)
        bad(`${where}.momentum_buffer`, 'null (the trainer has no momentum)', 'a tensor');
      continue;
    }
    moments.forEach((m, j) => {
      const t = entry[m];
      if (t === undefined && s.name === 'sgd') return; // PyTorch has no buffer before a parameter's first step
      if (t === null || typeof t !== 'object') bad(`${where}.${m}`, `a tensor { shape: [${slot.shape.join(', ')}], data }`, t);
      const { shape, data } = t as TorchTensor;
      if (!Array.isArray(shape) || !same(shape, slot.shape))
        bad(
          `${where}.${m}.shape`,
          `[${slot.shape.join(', ')}] (the shape of ${slot.name})`,
          Array.isArray(shape) ? `[${shape.join(', ')}]` : shape,
        );
      const copy = copyFloats(`${where}.${m}.data`, data, slot.size, dtype);
      // squared-gradient averages and sums are never negative; a negative one would make √ NaN
      if (m !== 'exp_avg' && m !== 'momentum_buffer') {
        const i = copy.findIndex((v) => v < 0);
        if (i >= 0) bad(`${where}.${m}.data[${i}]`, 'a value ≥ 0', copy[i]);
      }
      copies[j][slotIndex.get(slot)!] = copy;
    });
  }
  if (s.name === 'sgd') {
    step = options.step === undefined ? opt.step : checkNumber('options.step', options.step, DOMAINS.step, InvalidArgumentError);
    const buffers = copies.length > 0 && copies[0].some((c) => c !== undefined);
    if (buffers && copies[0].some((c) => c === undefined))
      bad('state.state', 'a momentum_buffer for every parameter or for none', 'buffers for some parameters only');
    // unrolled's SGD starts its buffer at the first update, as PyTorch does when it has none
    if (buffers && step === 0) bad('options.step', 'at least 1 when momentum buffers are loaded (the count of updates they hold)', '0');
    if (!buffers && moments.length > 0 && step! > 0)
      bad('state.state', `momentum buffers (the trainer is at update ${step}, past the first)`, 'none');
  }
  // no entries: before the first step (zero moments, as a new optimizer's)
  step ??= 0;

  // everything checked: write
  trainer.assertAlive();
  const f = trainer.model.arena.kernels.memory.f;
  moments.forEach((_, j) => {
    order.forEach((slot, i) => {
      const at = opt.moment(j) + slot.offset;
      const c = copies[j][i];
      if (c) f.set(c, at);
      else f.fill(0, at, at + slot.size);
    });
  });
  opt.step = step;
  opt.invalidateBounds();
  trainer.baseLr = baseLr;
}

/**
 * An optimizer state (exportTorchOptimizerState's, or one in its layout) as the bytes of one
 * safetensors file: tensor `state.<i>.<key>` per moment (F32, or F64 for float64 values) and per
 * step (a 0-d F64 tensor), the param groups as JSON in the metadata `param_groups`, and
 * `format: "torch-optimizer-state"`.
 */
export function torchOptimizerStateToSafetensors(state: TorchOptimizerState): Uint8Array {
  if (state === null || typeof state !== 'object' || state.state === null || typeof state.state !== 'object')
    throw new InvalidArgumentError('state', '{ state, param_groups } (optimizer.state_dict())', describe(state));
  const tensors: NamedTensor[] = [];
  const indices = Object.keys(state.state).sort((a, b) => Number(a) - Number(b));
  for (const i of indices) {
    const entry = state.state[Number(i)];
    if (entry === null || typeof entry !== 'object') throw new InvalidArgumentError(`state.state[${i}]`, 'an object', describe(entry));
    for (const [key, v] of Object.entries(entry)) {
      if (v === null || v === undefined) continue; // PyTorch's momentum_buffer: None; absent on load
      if (typeof v === 'number') tensors.push({ name: `state.${i}.${key}`, dtype: 'F64', shape: [], data: new Float64Array([v]) });
      else tensors.push({ name: `state.${i}.${key}`, dtype: v.data instanceof Float64Array ? 'F64' : 'F32', shape: v.shape, data: v.data });
    }
  }
  let groups: string;
  try {
    groups = JSON.stringify(state.param_groups);
  } catch (e) {
    throw new InvalidArgumentError('state.param_groups', 'JSON-serialisable param groups', (e as Error).message);
  }
  if (!Array.isArray(state.param_groups)) throw new InvalidArgumentError('state.param_groups', 'an array', describe(state.param_groups));
  return encodeSafetensors(tensors, { format: TORCH_OPTIMIZER_FORMAT, param_groups: groups });
}

/**
 * Reads the bytes torchOptimizerStateToSafetensors writes (or the example's Python writes from
 * `optimizer.state_dict()`): a CheckpointError names what is wrong with the file. The result is
 * checked against a trainer by importTorchOptimizerState.
 */
export function torchOptimizerStateFromSafetensors(bytes: Uint8Array | ArrayBuffer, limits: SafetensorsLimits = {}): TorchOptimizerState {
  const { tensors, metadata } = decodeSafetensors(bytes, limits);
  if (metadata.format !== TORCH_OPTIMIZER_FORMAT)
    throw new CheckpointError(`metadata "format" must be "${TORCH_OPTIMIZER_FORMAT}", found ${JSON.stringify(metadata.format)}`);
  let groups: unknown;
  try {
    groups = JSON.parse(metadata.param_groups ?? '');
  } catch {
    throw new CheckpointError('metadata "param_groups" must hold the param groups as JSON');
  }
  if (!Array.isArray(groups)) throw new CheckpointError('metadata "param_groups" must be a JSON array');
  const state: Record<number, TorchParamState> = {};
  for (const [name, t] of tensors) {
    const m = /^state\.(0|[1-9][0-9]{0,8})\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(name);
    if (!m) throw new CheckpointError(`tensor "${name}": names must be state.<index>.<key>`);
    if (t.dtype !== 'F32' && t.dtype !== 'F64') throw new CheckpointError(`tensor "${name}": dtype must be F32 or F64, found ${t.dtype}`);
    const index = Number(m[1]);
    state[index] ??= {};
    const entry = state[index];
    const data = t.data as Float32Array | Float64Array;
    if (m[2] === 'step') {
      if (t.shape.length !== 0) throw new CheckpointError(`tensor "${name}": a step is a 0-d tensor, found shape [${t.shape.join(', ')}]`);
      entry.step = data[0];
    } else {
      entry[m[2]] = { shape: t.shape, data };
    }
  }
  return { state, param_groups: groups as TorchParamGroup[] };
}
