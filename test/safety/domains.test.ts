// Issue 12, classes 3 (domains of numbers) and 4 (unknown options), through the public API and
// through crafted checkpoints. Every case ends in a typed UnrolledError whose message names the
// argument (and, for an unknown key, the nearest valid key), or in correct behaviour that the
// case checks. A victim model and trainer keep their weights, moments and step count whenever a
// call is refused, and a bystander on the same core keeps its weights and Adam moments in every
// case. The counts per class and outcome are printed at the end.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, createModelSync, memoryUsage } from '../../src/create.js';
import {
  CheckpointError,
  ConfigError,
  InvalidArgumentError,
  MemoryLimitError,
  NonFiniteError,
  type UnrolledError,
  type ErrorCode,
} from '../../src/errors.js';
import { padSequences, padTargets, padTokens, lengthsToMask } from '../../src/data/padding.js';
import { TokenStream } from '../../src/data/stream.js';
import * as tasks from '../../src/data/tasks/index.js';
import type { Model } from '../../src/model/model.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';
import { CORE_FILES, instantiateCoreSync, type Core } from '../../src/runtime/core.js';
import { checkpointToSafetensors, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import { withBystander } from './bystander.js';
import { printTally, tally } from './tally.js';

const core: Core = instantiateCoreSync(
  new WebAssembly.Module(readFileSync(new URL(`../../build/${CORE_FILES.simd}`, import.meta.url))),
  'simd',
);
const counts = tally('issue 12, classes 3 and 4 (API and checkpoints)');
afterAll(() => printTally(counts));

type Ctor = new (...args: never[]) => UnrolledError;

const V = 5,
  H = 4,
  T = 3,
  B = 2;
const tokConfig = { cell: 'gru' as const, input: 'tokens' as const, inputSize: V, hiddenSize: H, outputSize: V, seed: 3 };
const ids = (n: number, shift = 0) => Array.from({ length: n }, (_, i) => (i + shift) % V);
const batch = () => ({ x: ids(T * B), y: ids(T * B, 1), T, B });

/** The victim: a model with an Adam trainer that has taken one step. */
interface Victim {
  model: Model;
  trainer: Trainer;
}
function victim(): Victim {
  const model = createModelSync({ ...tokConfig, core });
  const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 } });
  trainer.step(batch());
  return { model, trainer };
}
function fingerprint(v: Victim): string {
  const f = v.model.kernels.memory.f,
    P = v.model.net.params.P;
  const moments = v.trainer.optimizer.state ? v.trainer.optimizer.moments.map((_m, i) => v.trainer.optimizer.moment(i)) : [];
  const parts = [v.model.net.params.base, ...moments].map((at) => Array.from(f.subarray(at, at + P)).join(','));
  return `${v.trainer.steps}|${v.trainer.baseLr}|${parts.join('|')}`;
}

interface Case {
  name: string;
  cls: 3 | 4;
  /** the expected error: class, code and the text the message must contain (argument, key, suggestion) */
  error?: { type: Ctor; code: ErrorCode; text: (string | RegExp)[] };
  /** correct behaviour instead of an error: the check of the result */
  ok?: (result: unknown, v: Victim) => void;
  run: (v: Victim) => unknown;
}

const cfgErr = (...text: (string | RegExp)[]) => ({ type: ConfigError, code: 'INVALID_CONFIG' as const, text });
const argErr = (...text: (string | RegExp)[]) => ({ type: InvalidArgumentError, code: 'INVALID_ARGUMENT' as const, text });
const keyErr = (argument: string, key: string, suggestion: string) =>
  cfgErr(`${argument}: unknown key '${key}' (did you mean '${suggestion}'?)`);
const argKeyErr = (argument: string, key: string, suggestion: string) =>
  argErr(`${argument}: unknown key '${key}' (did you mean '${suggestion}'?)`);
const newTrainer = (v: Victim, options: Record<string, unknown>) =>
  new Trainer(v.model, { loss: 'cross-entropy', ...options } as TrainerOptions);
const newModel = (config: Record<string, unknown>) => createModelSync({ ...tokConfig, core, ...config } as never);

// ----- class 3: domains ----------------------------------------------------------------------
const CLASS3: Case[] = [
  // optimizers
  ...(
    [
      ['Adam beta1 = 1', { name: 'adam', betas: [1, 0.999] }, 'optimizer.betas[0]'],
      ['Adam beta2 = 1', { name: 'adam', betas: [0.9, 1] }, 'optimizer.betas[1]'],
      ['Adam beta NaN', { name: 'adam', betas: [NaN, 0.999] }, 'optimizer.betas[0]'],
      ['Adam beta −0.1', { name: 'adam', betas: [-0.1, 0.999] }, 'optimizer.betas[0]'],
      ['Adam betas of one value', { name: 'adam', betas: [0.9] }, 'optimizer.betas'],
      ['Adam eps 0', { name: 'adam', eps: 0 }, 'optimizer.eps'],
      ['Adam eps 1e-45 (0 in float32)', { name: 'adam', eps: 1e-45 }, 'optimizer.eps'],
      ['Adam eps −1e-8', { name: 'adam', eps: -1e-8 }, 'optimizer.eps'],
      ['Adam lr NaN', { name: 'adam', lr: NaN }, 'optimizer.lr'],
      ['Adam lr Infinity', { name: 'adam', lr: Infinity }, 'optimizer.lr'],
      ['Adam lr −1', { name: 'adam', lr: -1 }, 'optimizer.lr'],
      ['Adam lr 1e7', { name: 'adam', lr: 1e7 }, 'optimizer.lr'],
      ['Adam lr "0.1"', { name: 'adam', lr: '0.1' }, 'optimizer.lr'],
      ['AdamW weightDecay NaN', { name: 'adamw', weightDecay: NaN }, 'optimizer.weightDecay'],
      ['SGD without lr', { name: 'sgd' }, 'optimizer.lr'],
      ['SGD momentum 1.5', { name: 'sgd', lr: 0.1, momentum: 1.5 }, 'optimizer.momentum'],
      ['SGD dampening −0.1', { name: 'sgd', lr: 0.1, momentum: 0.9, dampening: -0.1 }, 'optimizer.dampening'],
      ['SGD nesterov without momentum', { name: 'sgd', lr: 0.1, nesterov: true }, 'optimizer.nesterov'],
      ['SGD nesterov "yes"', { name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: 'yes' }, 'optimizer.nesterov'],
      ['RMSprop alpha 2', { name: 'rmsprop', alpha: 2 }, 'optimizer.alpha'],
      ['RMSprop eps Infinity', { name: 'rmsprop', eps: Infinity }, 'optimizer.eps'],
      ['Adagrad weightDecay 1e7', { name: 'adagrad', weightDecay: 1e7 }, 'optimizer.weightDecay'],
      ['optimizer "lion"', { name: 'lion' }, 'optimizer.name'],
    ] as const
  ).map(([name, optimizer, arg]): Case => ({ name, cls: 3, error: cfgErr(arg), run: (v) => newTrainer(v, { optimizer }) })),
  // schedules
  ...(
    [
      ['exponential without gamma', { kind: 'exponential' }, 'schedule.gamma'],
      ['exponential gamma 0', { kind: 'exponential', gamma: 0 }, 'schedule.gamma'],
      ['exponential gamma 1.5', { kind: 'exponential', gamma: 1.5 }, 'schedule.gamma'],
      ['exponential gamma NaN', { kind: 'exponential', gamma: NaN }, 'schedule.gamma'],
      ['step stepSize 0', { kind: 'step', stepSize: 0 }, 'schedule.stepSize'],
      ['step stepSize 2.5', { kind: 'step', stepSize: 2.5 }, 'schedule.stepSize'],
      ['step gamma −1', { kind: 'step', stepSize: 2, gamma: -1 }, 'schedule.gamma'],
      ['cosine without total', { kind: 'cosine' }, 'schedule.total'],
      ['cosine minFactor 2', { kind: 'cosine', total: 10, minFactor: 2 }, 'schedule.minFactor'],
      ['warmup −1', { kind: 'constant', warmup: -1 }, 'schedule.warmup'],
      ['warmup Infinity', { kind: 'constant', warmup: Infinity }, 'schedule.warmup'],
      ['kind "cyclic"', { kind: 'cyclic' }, 'schedule.kind'],
    ] as const
  ).map(
    ([name, schedule, arg]): Case => ({ name: `schedule ${name}`, cls: 3, error: cfgErr(arg), run: (v) => newTrainer(v, { schedule }) }),
  ),
  // clipping, tbptt
  ...(
    [
      ['clipNorm 0', { clipNorm: 0 }, 'options.clipNorm'],
      ['clipNorm −1', { clipNorm: -1 }, 'options.clipNorm'],
      ['clipNorm NaN', { clipNorm: NaN }, 'options.clipNorm'],
      ['clipValue 0', { clipValue: 0 }, 'options.clipValue'],
      ['onNonFinite "ignore"', { onNonFinite: 'ignore' }, 'options.onNonFinite'],
      ['tbptt k1 0', { tbptt: { k1: 0, k2: 2 } }, 'options.tbptt.k1'],
      ['tbptt k1 2.5', { tbptt: { k1: 2.5, k2: 3 } }, 'options.tbptt.k1'],
      ['tbptt k2 < k1', { tbptt: { k1: 4, k2: 2 } }, 'options.tbptt.k2'],
      ['tbptt k2 2^24 + 1', { tbptt: { k1: 2, k2: 2 ** 24 + 1 } }, 'options.tbptt.k2'],
      ['tbptt k2 2^40', { tbptt: { k1: 2, k2: 2 ** 40 } }, 'options.tbptt.k2'],
      ['tbptt as a number', { tbptt: 4 }, 'options.tbptt'],
    ] as const
  ).map(([name, options, arg]): Case => ({ name, cls: 3, error: cfgErr(arg), run: (v) => newTrainer(v, options) })),
  {
    name: 'trainer.baseLr = NaN',
    cls: 3,
    error: cfgErr('trainer.baseLr'),
    run: (v) => {
      v.trainer.baseLr = NaN;
    },
  },
  {
    name: 'trainer.baseLr = 1e39',
    cls: 3,
    error: cfgErr('trainer.baseLr'),
    run: (v) => {
      v.trainer.baseLr = 1e39;
    },
  },
  {
    name: 'tbptt whose history cannot fit one block (k2 − k1 = 2^9 steps × 2^20 dense inputs)',
    cls: 3,
    error: cfgErr('options.tbptt.k2'),
    run: async () => {
      const m = await createModel({ cell: 'rnn', inputSize: 2 ** 20, hiddenSize: 1, outputSize: 1, backend: 'js' });
      try {
        return new Trainer(m, { loss: 'mse', tbptt: { k1: 1, k2: 2 ** 9 + 1 } });
      } finally {
        m.dispose();
      }
    },
  },
  {
    name: 'stateful step whose TBPTT history would exceed one block (B = 2^24 rows)',
    cls: 3,
    error: { type: MemoryLimitError, code: 'OUT_OF_MEMORY', text: ['TBPTT history'] },
    run: (v) => {
      const t = newTrainer(v, { tbptt: { k1: 1, k2: 2 ** 24 } });
      try {
        return t.stepStateful({ x: new Int32Array(2 ** 24), y: new Int32Array(2 ** 24), T: 1, B: 2 ** 24 });
      } finally {
        t.dispose();
      }
    },
  },
  // model configuration
  ...(
    [
      ['hiddenSize 0', { hiddenSize: 0 }, 'config.hiddenSize'],
      ['hiddenSize 2.5', { hiddenSize: 2.5 }, 'config.hiddenSize'],
      ['hiddenSize NaN', { hiddenSize: NaN }, 'config.hiddenSize'],
      ['hiddenSize "8"', { hiddenSize: '8' }, 'config.hiddenSize'],
      ['hiddenSize 2^13 + 1 (never fits)', { hiddenSize: 2 ** 13 + 1 }, 'config.hiddenSize'],
      ['hiddenSize 2^32 + 3', { hiddenSize: 2 ** 32 + 3 }, /config\.hiddenSize: .*got 4294967299/],
      ['numLayers 65', { numLayers: 65 }, 'config.numLayers'],
      ['seed −1', { seed: -1 }, 'config.seed'],
      ['seed 2^32', { seed: 2 ** 32 }, 'config.seed'],
      ['vocabulary 2^24 + 1', { inputSize: 2 ** 24 + 1 }, 'config.inputSize'],
      ['dense inputSize 2^20 + 1', { input: 'dense', inputSize: 2 ** 20 + 1 }, 'config.inputSize'],
      ['outputSize −1', { outputSize: -1 }, 'config.outputSize'],
      ['init bias 1e39', { init: { bias: 1e39 } }, 'init.bias'],
      ['init identityScale 1e39', { init: { recurrent: 'identity', identityScale: 1e39 } }, 'init.identityScale'],
      ['init identityScale Infinity', { init: { recurrent: 'identity', identityScale: Infinity } }, 'init.identityScale'],
      ['init forgetBias NaN', { cell: 'lstm', init: { forgetBias: NaN } }, 'init.forgetBias'],
      ['init scheme "he"', { init: { input: 'he' } }, 'init.input'],
    ] as const
  ).map(([name, config, arg]): Case => ({ name, cls: 3, error: cfgErr(arg), run: () => newModel(config) })),
  {
    name: 'a model that fits no memory (inputSize 2^20, H 8000) → OUT_OF_MEMORY, memory not grown',
    cls: 3,
    error: { type: MemoryLimitError, code: 'OUT_OF_MEMORY', text: ['floats'] },
    run: () => {
      const before = memoryUsage(core);
      try {
        return newModel({ input: 'dense', inputSize: 2 ** 20, hiddenSize: 8000 });
      } finally {
        expect(memoryUsage(core)).toEqual(before);
      }
    },
  },
  // generate
  ...(
    [
      ['temperature −1', { temperature: -1 }, 'options.temperature'],
      ['temperature NaN', { temperature: NaN }, 'options.temperature'],
      ['temperature Infinity', { temperature: Infinity }, 'options.temperature'],
      ['length −1', { length: -1 }, 'options.length'],
      ['length 2.5', { length: 2.5 }, 'options.length'],
      ['length 2^24 + 1', { length: 2 ** 24 + 1 }, 'options.length'],
      ['seed 2^32', { seed: 2 ** 32 }, 'options.seed'],
      ['seed −1', { seed: -1 }, 'options.seed'],
    ] as const
  ).map(
    ([name, options, arg]): Case => ({
      name: `generate ${name}`,
      cls: 3,
      error: argErr(arg),
      run: (v) => v.model.generate({ prime: [1], length: 2, ...options } as never),
    }),
  ),
  // padding and data
  {
    name: 'padSequences length 2^32 + 3 (must not become 3)',
    cls: 3,
    error: argErr(/options\.length: .*got 4294967299/),
    run: () => padSequences([[1, 2]], 1, { length: 2 ** 32 + 3 }),
  },
  { name: 'padTokens length 2^31', cls: 3, error: argErr('options.length'), run: () => padTokens([[1, 2]], { length: 2 ** 31 }) },
  { name: 'padTokens length NaN', cls: 3, error: argErr('options.length'), run: () => padTokens([[1, 2]], { length: NaN }) },
  { name: 'padTokens id 2^32 + 3 (must not become 3)', cls: 3, error: argErr('seqs[0][1]'), run: () => padTokens([[1, 2 ** 32 + 3]]) },
  { name: 'padTokens padValue 2^31', cls: 3, error: argErr('options.padValue'), run: () => padTokens([[1]], { padValue: 2 ** 31 }) },
  { name: 'padSequences padValue 1e39', cls: 3, error: argErr('options.padValue'), run: () => padSequences([[1]], 1, { padValue: 1e39 }) },
  {
    name: 'padSequences value 1e39',
    cls: 3,
    error: { type: NonFiniteError, code: 'NON_FINITE', text: ['seqs[0]: element 0'] },
    run: () => padSequences([[1e39]], 1),
  },
  { name: 'padSequences featureSize 0', cls: 3, error: argErr('featureSize'), run: () => padSequences([[1]], 0) },
  { name: 'padTargets featureSize 2^24 + 1', cls: 3, error: argErr('featureSize'), run: () => padTargets([[1]], 2 ** 24 + 1) },
  {
    name: 'padded batch of 2^24 steps × 2^5 sequences',
    cls: 3,
    error: { type: MemoryLimitError, code: 'OUT_OF_MEMORY', text: ['padded batch'] },
    run: () =>
      padTokens(
        Array.from({ length: 32 }, () => [1]),
        { length: 2 ** 24 },
      ),
  },
  { name: 'lengthsToMask T 2^32 + 3', cls: 3, error: argErr('T'), run: () => lengthsToMask([1], 2 ** 32 + 3) },
  { name: 'TokenStream T 0', cls: 3, error: argErr('options.T'), run: () => new TokenStream(ids(20), { T: 0, B: 2 }) },
  { name: 'TokenStream B 2^24 + 1', cls: 3, error: argErr('options.B'), run: () => new TokenStream(ids(20), { T: 2, B: 2 ** 24 + 1 }) },
  {
    name: 'TokenStream vocabSize 0',
    cls: 3,
    error: argErr('options.vocabSize'),
    run: () => new TokenStream(ids(20), { T: 2, B: 2, vocabSize: 0 }),
  },
  {
    name: 'TokenStream token 2^32 + 3',
    cls: 3,
    error: argErr('tokens[3]'),
    run: () => new TokenStream([0, 1, 2, 2 ** 32 + 3, 1, 2, 3], { T: 2, B: 2 }),
  },
  {
    name: 'TokenStream setPosition epoch −1',
    cls: 3,
    error: argErr('epoch'),
    run: () => new TokenStream(ids(20), { T: 2, B: 2 }).setPosition(0, -1),
  },
  {
    name: 'task adding T 2^24 × B 2^24',
    cls: 3,
    error: { type: MemoryLimitError, code: 'OUT_OF_MEMORY', text: ['batch of T'] },
    run: () => tasks.adding.addingBatch({ T: 2 ** 24, B: 2 ** 24 }),
  },
  { name: 'task copy delay 2^24', cls: 3, error: argErr('options.delay'), run: () => tasks.copy.copyBatch({ B: 1, delay: 2 ** 24 }) },
  { name: 'task sine noise NaN', cls: 3, error: argErr('options.noise'), run: () => tasks.sine.sineBatch({ T: 4, B: 1, noise: NaN }) },
  { name: 'task seed 2^32', cls: 3, error: argErr('rng'), run: () => tasks.sine.sineBatch({ T: 4, B: 1 }, 2 ** 32) },

  // steps that would make a weight or a moment non-finite: refused whole
  {
    name: 'AdamW lr 1e6, weightDecay 1e6 on a weight of 1e27: θ·(1 − lr·wd) overflows → skipped, nothing changed',
    cls: 3,
    ok: (r, v) => {
      const res = r as { skipped: boolean; reason?: string };
      expect(res.skipped).toBe(true);
      expect(res.reason).toMatch(/non-finite/);
      expect(v.model.getParameter('head.bias').every(Number.isFinite)).toBe(true);
    },
    run: (v) => {
      const b = v.model.getParameter('head.bias');
      b[1] = 1e27;
      v.model.setParameter('head.bias', b);
      const t = newTrainer(v, { optimizer: { name: 'adamw', lr: 1e6, weightDecay: 1e6 } });
      const before = fingerprintOf(v.model, t);
      const r = t.step(batch());
      expect(fingerprintOf(v.model, t)).toBe(before);
      t.dispose();
      return r;
    },
  },
  {
    name: 'the same with onNonFinite "throw" → NonFiniteError, nothing changed',
    cls: 3,
    error: { type: NonFiniteError, code: 'NON_FINITE', text: ['step', 'non-finite'] },
    run: (v) => {
      const b = v.model.getParameter('head.bias');
      b[1] = 1e27;
      v.model.setParameter('head.bias', b);
      const t = newTrainer(v, { optimizer: { name: 'adamw', lr: 1e6, weightDecay: 1e6 }, onNonFinite: 'throw' });
      const before = fingerprintOf(v.model, t);
      try {
        return t.step(batch());
      } finally {
        expect(fingerprintOf(v.model, t)).toBe(before);
        t.dispose();
      }
    },
  },
  {
    name: 'SGD weightDecay 100 on a weight of 1e37: g + wd·θ overflows float32 → skipped, nothing changed',
    cls: 3,
    ok: (r) => {
      expect((r as { skipped: boolean }).skipped).toBe(true);
      expect((r as { reason: string }).reason).toMatch(/non-finite/);
    },
    run: (v) => {
      const b = v.model.getParameter('head.bias');
      b[1] = 1e37;
      v.model.setParameter('head.bias', b);
      const t = newTrainer(v, { optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 100 } });
      const before = fingerprintOf(v.model, t);
      const r = t.step(batch());
      expect(fingerprintOf(v.model, t)).toBe(before);
      t.dispose();
      return r;
    },
  },
  {
    name: 'stateful TBPTT step refused by the overflow check keeps the carried state and history',
    cls: 3,
    ok: (r) => {
      expect((r as { skipped: boolean }).skipped).toBe(true);
      expect((r as { reason: string }).reason).toMatch(/non-finite/);
    },
    run: (v) => {
      const t = newTrainer(v, { optimizer: { name: 'adamw', lr: 1e6, weightDecay: 1e6 }, tbptt: { k1: T, k2: T + 2 } });
      t.stepStateful({ x: ids(T * B), y: ids(T * B, 1), T, B });
      const b = v.model.getParameter('head.bias');
      b[1] = 1e30;
      v.model.setParameter('head.bias', b);
      const carried = JSON.stringify(t.getCarriedState(), (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as Float32Array) : x));
      const before = fingerprintOf(v.model, t);
      const r = t.stepStateful({ x: ids(T * B, 2), y: ids(T * B, 3), T, B });
      expect(fingerprintOf(v.model, t)).toBe(before);
      expect(JSON.stringify(t.getCarriedState(), (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as Float32Array) : x))).toBe(carried);
      t.dispose();
      return r;
    },
  },
  // edge values inside the domains: correct behaviour
  {
    name: 'AdamW lr 1e6, weightDecay 1e6 on ordinary weights: the (huge but finite) step is taken',
    cls: 3,
    ok: (r, v) => {
      expect((r as { skipped: boolean }).skipped).toBe(false);
      expect(v.model.getParameter('head.bias').every(Number.isFinite)).toBe(true);
    },
    run: (v) => {
      const t = newTrainer(v, { optimizer: { name: 'adamw', lr: 1e6, weightDecay: 1e6 } });
      try {
        return t.step(batch());
      } finally {
        t.dispose();
      }
    },
  },
  {
    name: 'Adam betas [0, 0.999999], eps 1e-38: accepted and the step is finite',
    cls: 3,
    ok: (r, v) => {
      expect((r as { skipped: boolean }).skipped).toBe(false);
      expect(v.model.getParameter('head.weight').every(Number.isFinite)).toBe(true);
    },
    run: (v) => {
      const t = newTrainer(v, { optimizer: { name: 'adam', betas: [0, 0.999999], eps: 1e-38 } });
      try {
        return t.step(batch());
      } finally {
        t.dispose();
      }
    },
  },
  {
    name: 'exponential gamma 1, warmup 0, clipNorm Infinity: a constant rate',
    cls: 3,
    ok: (r) => {
      expect((r as { lr: number }).lr).toBe(0.5);
    },
    run: (v) => {
      const t = newTrainer(v, { optimizer: { name: 'sgd', lr: 0.5 }, schedule: { kind: 'exponential', gamma: 1 }, clipNorm: Infinity });
      try {
        t.step(batch());
        return t.step(batch());
      } finally {
        t.dispose();
      }
    },
  },
  {
    name: 'padTokens length = the longest sequence, padValue 2^31 − 1',
    cls: 3,
    ok: (r) => {
      expect((r as { T: number }).T).toBe(2);
      expect(Array.from((r as { x: Int32Array }).x)).toEqual([1, 3, 2, 2 ** 31 - 1]);
    },
    run: () => padTokens([[1, 2], [3]], { length: 2, padValue: 2 ** 31 - 1 }),
  },
  {
    name: 'generate length 0, temperature 0, seed 2^32 − 1',
    cls: 3,
    ok: (r) => {
      expect((r as Int32Array).length).toBe(0);
    },
    run: (v) => v.model.generate({ prime: [1], length: 0, temperature: 0, seed: 2 ** 32 - 1 }),
  },
];

function fingerprintOf(model: Model, t: Trainer): string {
  return fingerprint({ model, trainer: t });
}

// ----- class 4: unknown keys ------------------------------------------------------------------
const CLASS4: Case[] = [
  { name: "Trainer 'clipnorm'", cls: 4, error: keyErr('options', 'clipnorm', 'clipNorm'), run: (v) => newTrainer(v, { clipnorm: 1 }) },
  {
    name: "Trainer 'clip_value'",
    cls: 4,
    error: keyErr('options', 'clip_value', 'clipValue'),
    run: (v) => newTrainer(v, { clip_value: 1 }),
  },
  {
    name: "Trainer 'onNonfinite'",
    cls: 4,
    error: keyErr('options', 'onNonfinite', 'onNonFinite'),
    run: (v) => newTrainer(v, { onNonfinite: 'throw' }),
  },
  {
    name: "Trainer 'schedules'",
    cls: 4,
    error: keyErr('options', 'schedules', 'schedule'),
    run: (v) => newTrainer(v, { schedules: { kind: 'constant' } }),
  },
  {
    name: "Trainer 'optimiser'",
    cls: 4,
    error: keyErr('options', 'optimiser', 'optimizer'),
    run: (v) => newTrainer(v, { optimiser: 'sgd' }),
  },
  {
    name: "Adam 'weight_decay'",
    cls: 4,
    error: keyErr('optimizer', 'weight_decay', 'weightDecay'),
    run: (v) => newTrainer(v, { optimizer: { name: 'adam', weight_decay: 0.1 } }),
  },
  {
    name: "Adam 'lR'",
    cls: 4,
    error: keyErr('optimizer', 'lR', 'lr'),
    run: (v) => newTrainer(v, { optimizer: { name: 'adam', lR: 0.1 } }),
  },
  {
    name: "Adam 'beta'",
    cls: 4,
    error: keyErr('optimizer', 'beta', 'betas'),
    run: (v) => newTrainer(v, { optimizer: { name: 'adam', beta: [0.9, 0.99] } }),
  },
  {
    name: "Adam 'momentum' (an SGD option)",
    cls: 4,
    error: cfgErr("optimizer: unknown key 'momentum'"),
    run: (v) => newTrainer(v, { optimizer: { name: 'adam', momentum: 0.9 } }),
  },
  {
    name: "SGD 'nestrov'",
    cls: 4,
    error: keyErr('optimizer', 'nestrov', 'nesterov'),
    run: (v) => newTrainer(v, { optimizer: { name: 'sgd', lr: 0.1, nestrov: true } }),
  },
  {
    name: "RMSprop 'Alpha'",
    cls: 4,
    error: keyErr('optimizer', 'Alpha', 'alpha'),
    run: (v) => newTrainer(v, { optimizer: { name: 'rmsprop', Alpha: 0.9 } }),
  },
  {
    name: "schedule 'gama'",
    cls: 4,
    error: keyErr('schedule', 'gama', 'gamma'),
    run: (v) => newTrainer(v, { schedule: { kind: 'exponential', gama: 0.5 } }),
  },
  {
    name: "schedule 'step_size'",
    cls: 4,
    error: keyErr('schedule', 'step_size', 'stepSize'),
    run: (v) => newTrainer(v, { schedule: { kind: 'step', step_size: 2 } }),
  },
  {
    name: "cosine schedule 'gamma' (another kind's option)",
    cls: 4,
    error: cfgErr("schedule: unknown key 'gamma'"),
    run: (v) => newTrainer(v, { schedule: { kind: 'cosine', total: 4, gamma: 0.5 } }),
  },
  { name: "tbptt 'k3'", cls: 4, error: keyErr('options.tbptt', 'k3', 'k1'), run: (v) => newTrainer(v, { tbptt: { k1: 2, k2: 2, k3: 4 } }) },
  {
    name: "loss 'reduce'",
    cls: 4,
    error: keyErr('options.loss', 'reduce', 'reduction'),
    run: (v) => newTrainer(v, { loss: { loss: 'cross-entropy', reduce: 'sum' } }),
  },
  { name: "createModel 'numlayers'", cls: 4, error: keyErr('options', 'numlayers', 'numLayers'), run: () => newModel({ numlayers: 2 }) },
  {
    name: "createModel 'hidden_size'",
    cls: 4,
    error: keyErr('options', 'hidden_size', 'hiddenSize'),
    run: () => newModel({ hidden_size: 8 }),
  },
  {
    name: "createModel 'nonLinearity'",
    cls: 4,
    error: keyErr('options', 'nonLinearity', 'nonlinearity'),
    run: () => newModel({ cell: 'rnn', nonLinearity: 'relu' }),
  },
  { name: "createModel 'backnd'", cls: 4, error: keyErr('options', 'backnd', 'backend'), run: () => newModel({ backnd: 'js' }) },
  {
    name: "init 'forget_bias'",
    cls: 4,
    error: keyErr('init', 'forget_bias', 'forgetBias'),
    run: () => newModel({ cell: 'lstm', init: { forget_bias: 1 } }),
  },
  {
    name: "init 'identityscale'",
    cls: 4,
    error: keyErr('init', 'identityscale', 'identityScale'),
    run: () => newModel({ init: { recurrent: 'identity', identityscale: 1 } }),
  },
  {
    name: "generate 'temp'",
    cls: 4,
    error: argKeyErr('options', 'temp', 'temperature'),
    run: (v) => v.model.generate({ prime: [1], length: 2, temp: 0.5 } as never),
  },
  {
    name: "generate 'temprature'",
    cls: 4,
    error: argKeyErr('options', 'temprature', 'temperature'),
    run: (v) => v.model.generate({ prime: [1], length: 2, temprature: 0.5 } as never),
  },
  {
    name: "padSequences 'len'",
    cls: 4,
    error: argKeyErr('options', 'len', 'length'),
    run: () => padSequences([[1]], 1, { len: 3 } as never),
  },
  {
    name: "padTokens 'pad_value'",
    cls: 4,
    error: argKeyErr('options', 'pad_value', 'padValue'),
    run: () => padTokens([[1]], { pad_value: 0 } as never),
  },
  {
    name: "TokenStream 'vocab'",
    cls: 4,
    error: argKeyErr('options', 'vocab', 'vocabSize'),
    run: () => new TokenStream(ids(20), { T: 2, B: 2, vocab: 5 } as never),
  },
  {
    name: "task sine 'nosie'",
    cls: 4,
    error: argKeyErr('options', 'nosie', 'noise'),
    run: () => tasks.sine.sineBatch({ T: 4, B: 1, nosie: 0 } as never),
  },
  {
    name: "task copy 'symbol'",
    cls: 4,
    error: argKeyErr('options', 'symbol', 'symbols'),
    run: () => tasks.copy.copyBatch({ B: 1, symbol: 4 } as never),
  },
  {
    name: "restoreCheckpoint 'maxHeaderByte'",
    cls: 4,
    error: argKeyErr('options', 'maxHeaderByte', 'maxHeaderBytes'),
    run: () => restoreCheckpoint(good, { core, maxHeaderByte: 10 } as never),
  },
  {
    name: "modelToSafetensors 'dtyp'",
    cls: 4,
    error: argKeyErr('options', 'dtyp', 'dtype'),
    run: (v) => v.model.toSafetensors({}, { dtyp: 'F64' } as never),
  },
  {
    name: "batch 'lenghts' (would train on the padding)",
    cls: 4,
    error: argKeyErr('batch', 'lenghts', 'lengths'),
    run: (v) => v.trainer.step({ ...batch(), lenghts: [1, 3] } as never),
  },
  {
    name: "batch 'loss_mask'",
    cls: 4,
    error: argKeyErr('batch', 'loss_mask', 'lossMask'),
    run: (v) => v.trainer.step({ ...batch(), loss_mask: new Array(T * B).fill(1) } as never),
  },
  {
    name: "predict 'H0'",
    cls: 4,
    error: argKeyErr('batch', 'H0', 'h0'),
    run: (v) => v.model.predict({ x: ids(T * B), T, B, H0: new Array(H * B).fill(0) } as never),
  },
  {
    name: "stream chunk 'Reset'",
    cls: 4,
    error: argKeyErr('chunk', 'Reset', 'reset'),
    run: (v) => v.trainer.stepStateful({ ...batch(), Reset: true } as never),
  },
  {
    name: "a batch with a task's own field ('markers') is accepted",
    cls: 4,
    ok: (r) => {
      expect((r as { skipped: boolean }).skipped).toBe(false);
    },
    run: (v) => v.trainer.step({ ...batch(), markers: new Int32Array(4), allowed: 1 } as never),
  },
  {
    name: 'a key behind a getter is seen and refused (read once)',
    cls: 4,
    error: keyErr('options', 'clipnorm', 'clipNorm'),
    run: (v) => {
      let reads = 0;
      const o = {
        loss: 'cross-entropy',
        get clipnorm() {
          reads++;
          return 1;
        },
      };
      try {
        return new Trainer(v.model, o as never);
      } finally {
        expect(reads).toBe(1);
      }
    },
  },
  {
    name: 'a reactive Proxy of valid options is accepted and read once',
    cls: 4,
    ok: (r) => {
      expect(r).toBeInstanceOf(Trainer);
      (r as Trainer).dispose();
    },
    run: (v) => {
      const gets = new Map<PropertyKey, number>();
      const p = new Proxy(
        { loss: 'cross-entropy', clipNorm: 1, optimizer: { name: 'adam', lr: 0.01 } },
        {
          get(t, k, r) {
            gets.set(k, (gets.get(k) ?? 0) + 1);
            return Reflect.get(t, k, r);
          },
        },
      );
      const t = new Trainer(v.model, p as never);
      for (const k of ['loss', 'clipNorm', 'optimizer']) expect(gets.get(k), k).toBe(1);
      return t;
    },
  },
];

// ----- checkpoints (classes 3 and 4) -----------------------------------------------------------
let good: Uint8Array = (() => {
  const model = createModelSync({ ...tokConfig, core });
  const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 }, tbptt: { k1: 2, k2: 4 } });
  trainer.stepStateful({ x: ids(2 * B), y: ids(2 * B, 1), T: 2, B });
  const bytes = checkpointToSafetensors(trainer);
  trainer.dispose();
  model.dispose();
  return bytes;
})();
function crafted(
  edit: (trainer: Record<string, unknown>, state: Record<string, unknown>, config: Record<string, unknown>) => void,
): Uint8Array {
  const d = decodeSafetensors(good);
  const meta = { ...d.metadata };
  const tr = JSON.parse(meta.unrolled_trainer),
    st = JSON.parse(meta.unrolled_state),
    cfg = JSON.parse(meta.unrolled_config);
  edit(tr, st, cfg);
  meta.unrolled_trainer = JSON.stringify(tr);
  meta.unrolled_state = JSON.stringify(st);
  meta.unrolled_config = JSON.stringify(cfg);
  const tensors: NamedTensor[] = [...d.tensors].map(([name, t]) => ({ name, ...t }));
  return encodeSafetensors(tensors, meta);
}
const ck = (...text: (string | RegExp)[]) => ({ type: CheckpointError, code: 'BAD_CHECKPOINT' as const, text });
type Edit = Parameters<typeof crafted>[0];
const CHECKPOINTS: [string, 3 | 4, Edit, (string | RegExp)[]][] = [
  [
    'Adam beta1 = 1',
    3,
    (t) => {
      (t.optimizer as { betas: number[] }).betas = [1, 0.999];
    },
    ['optimizer.betas[0]'],
  ],
  [
    'Adam beta2 = 1',
    3,
    (t) => {
      (t.optimizer as { betas: number[] }).betas = [0.9, 1];
    },
    ['optimizer.betas[1]'],
  ],
  [
    'Adam eps 0',
    3,
    (t) => {
      (t.optimizer as { eps: number }).eps = 0;
    },
    ['optimizer.eps'],
  ],
  [
    'optimizer lr NaN (written as null)',
    3,
    (t) => {
      (t.optimizer as { lr: number }).lr = NaN;
    },
    ['optimizer.lr'],
  ],
  [
    'optimizer lr 1e7',
    3,
    (t) => {
      (t.optimizer as { lr: number }).lr = 1e7;
    },
    ['optimizer.lr'],
  ],
  [
    'baseLr NaN',
    3,
    (t) => {
      t.baseLr = NaN;
    },
    ['baseLr'],
  ],
  [
    'baseLr −1',
    3,
    (t) => {
      t.baseLr = -1;
    },
    ['baseLr'],
  ],
  [
    'exponential schedule without gamma',
    3,
    (t) => {
      t.schedule = { kind: 'exponential' };
    },
    ['schedule.gamma'],
  ],
  [
    'exponential schedule gamma 2',
    3,
    (t) => {
      t.schedule = { kind: 'exponential', gamma: 2 };
    },
    ['schedule.gamma'],
  ],
  [
    'clipNorm 0',
    3,
    (t) => {
      t.clipNorm = 0;
    },
    ['clipNorm'],
  ],
  [
    'tbptt k2 2^40',
    3,
    (t) => {
      t.tbptt = { k1: 2, k2: 2 ** 40 };
    },
    ['tbptt.k2'],
  ],
  [
    'tbptt k2 1e9',
    3,
    (t) => {
      t.tbptt = { k1: 2, k2: 1e9 };
    },
    ['tbptt.k2'],
  ],
  [
    'tbptt history beyond one block (k2 2^24, carried B 2^5)',
    3,
    (t, s) => {
      t.tbptt = { k1: 1, k2: 2 ** 24 };
      s.carried = { B: 32, historySteps: 0 };
    },
    ['TBPTT history'],
  ],
  [
    'step −1',
    3,
    (_t, s) => {
      s.step = -1;
    },
    ['unrolled_state.step'],
  ],
  [
    'step 2^53',
    3,
    (_t, s) => {
      s.step = 2 ** 53;
    },
    ['unrolled_state.step'],
  ],
  [
    'carried B 2^25',
    3,
    (_t, s) => {
      s.carried = { B: 2 ** 25, historySteps: 0 };
    },
    ['carried.B'],
  ],
  [
    'config hiddenSize 1e9',
    3,
    (_t, _s, c) => {
      c.hiddenSize = 1e9;
    },
    ['hiddenSize'],
  ],
  [
    'config seed 2^32',
    3,
    (_t, _s, c) => {
      c.seed = 2 ** 32;
    },
    ['seed'],
  ],
  [
    "optimizer 'weight_decay'",
    4,
    (t) => {
      (t.optimizer as Record<string, unknown>).weight_decay = 0.1;
    },
    ["unknown key 'weight_decay'", "did you mean 'weightDecay'?"],
  ],
  [
    "schedule 'gama'",
    4,
    (t) => {
      t.schedule = { kind: 'exponential', gamma: 0.5, gama: 0.5 };
    },
    ["unknown key 'gama'"],
  ],
  [
    "trainer 'clipnorm'",
    4,
    (t) => {
      t.clipnorm = 1;
    },
    ['unknown field "clipnorm"'],
  ],
  [
    "config 'numlayers'",
    4,
    (_t, _s, c) => {
      c.numlayers = 2;
    },
    ['unknown field "numlayers"'],
  ],
];

// ----- running --------------------------------------------------------------------------------
function describeOutcome(c: Case, _result: unknown, err: unknown): string {
  if (c.ok) return `class ${c.cls}: correct behaviour`;
  return `class ${c.cls}: typed error ${(err as UnrolledError).name} (${(err as UnrolledError).code})`;
}

async function runCase(c: Case, entry: 'API' | 'checkpoint'): Promise<void> {
  await withBystander(core, async () => {
    const v = victim();
    const before = fingerprint(v);
    let result: unknown,
      err: unknown = null;
    try {
      result = await c.run(v);
    } catch (e) {
      err = e;
    }
    try {
      if (c.error) {
        expect(err, `${c.name}: expected ${c.error.type.name}, got ${String(result)}`).toBeInstanceOf(c.error.type);
        expect((err as UnrolledError).code).toBe(c.error.code);
        for (const t of c.error.text) {
          if (typeof t === 'string') expect((err as Error).message).toContain(t);
          else expect((err as Error).message).toMatch(t);
        }
        expect((err as Error).message).not.toMatch(/\n/);
        // a refused call changed nothing of the victim's
        if (!c.name.includes('onNonFinite')) expect(fingerprint(v)).toBe(before);
      } else {
        if (err) throw err;
        c.ok!(result, v);
      }
      counts.add(`${describeOutcome(c, result, err)} [${entry}]`);
    } finally {
      v.trainer.dispose();
      v.model.dispose();
    }
  });
}

describe('class 3: every number outside its domain is refused with a typed error; edge values inside work', () => {
  it.each(CLASS3.map((c) => [c.name, c] as const))(
    '%s',
    async (_n, c) => {
      await runCase(c, 'API');
    },
    30_000,
  );
});

describe('class 4: unknown option keys are refused with the nearest valid name', () => {
  it.each(CLASS4.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    await runCase(c, 'API');
  });
});

describe('crafted checkpoints with out-of-domain values or unknown keys are CheckpointErrors', () => {
  it('a valid checkpoint restores (the base of the crafted ones)', async () => {
    const model = createModelSync({ ...tokConfig, core });
    const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 }, tbptt: { k1: 2, k2: 4 } });
    trainer.stepStateful({ x: ids(2 * B), y: ids(2 * B, 1), T: 2, B });
    good = checkpointToSafetensors(trainer);
    trainer.dispose();
    model.dispose();
    const r = await restoreCheckpoint(good, { core });
    expect(r.trainer.steps).toBe(1);
    r.trainer.dispose();
    r.model.dispose();
  });
  it.each(CHECKPOINTS)('%s', async (name, cls, edit, text) => {
    const reservedBefore = memoryUsage(core).reservedBytes;
    await runCase({ name, cls, error: ck(...text), run: () => restoreCheckpoint(crafted(edit), { core }) }, 'checkpoint');
    // refused before a model was created: nothing of the core is held
    expect(memoryUsage(core).reservedBytes).toBe(reservedBefore);
  });
});
