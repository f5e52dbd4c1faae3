// Checkpoints (src/train/checkpoint.ts): restoring and continuing is bit-identical to never having
// stopped (the SIMD core, not relaxed; and the js backend in float64), a checkpoint of the restored
// trainer is byte-identical to the original, and every validation rule gives a CheckpointError.
import { describe, expect, it } from 'vitest';
import { TokenStream } from '../../src/data/stream.js';
import * as adding from '../../src/data/tasks/adding.js';
import { CheckpointError, InvalidArgumentError } from '../../src/errors.js';
import type { Model } from '../../src/model/model.js';
import { Rng } from '../../src/model/rng.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';
import { modelToSafetensors } from '../../src/model/serialize.js';
import { checkpointInfo, checkpointToSafetensors, restoreCheckpoint, type CheckpointExtra } from '../../src/train/checkpoint.js';
import { Trainer, type StepResult, type TrainerOptions } from '../../src/train/trainer.js';
import type { CreateModelOptions } from '../../src/create.js';
import { makeModel, simdCore, type BackendName } from '../helpers.js';

function params(m: Model): number[] {
  return m.parameterNames().flatMap((n) => Array.from(m.getParameter(n)));
}

/** Losses, gradient norms and the parameters must be the same bits. */
function expectSameRun(a: StepResult[], b: StepResult[]): void {
  expect(b.map((r) => r.loss)).toEqual(a.map((r) => r.loss));
  expect(b.map((r) => r.gradNorm)).toEqual(a.map((r) => r.gradNorm));
  expect(b.map((r) => r.step)).toEqual(a.map((r) => r.step));
  expect(b.map((r) => r.lr)).toEqual(a.map((r) => r.lr));
}

interface Case {
  name: string;
  backend: BackendName;
  model: CreateModelOptions;
  trainer: TrainerOptions;
  /** stateful over a token stream, else stateless adding batches */
  stream?: boolean;
}

const TEXT_IDS = Int32Array.from({ length: 600 }, (_, i) => (i * 7 + (i >> 3)) % 11);

const CASES: Case[] = [
  {
    name: 'LSTM tokens, stateful TBPTT(3, 7), adam, cosine warm-up, clip (wasm SIMD)',
    backend: 'wasm',
    model: { cell: 'lstm', input: 'tokens', inputSize: 11, hiddenSize: 12, outputSize: 11, numLayers: 2, seed: 3 },
    trainer: {
      loss: 'cross-entropy',
      optimizer: { name: 'adam', lr: 0.01 },
      schedule: { kind: 'cosine', total: 20, warmup: 3 },
      clipNorm: 0.5,
      tbptt: { k1: 3, k2: 7 },
    },
    stream: true,
  },
  {
    name: 'GRU dense, adding, sgd nesterov + weight decay, step schedule, clip-value (wasm SIMD)',
    backend: 'wasm',
    model: { cell: 'gru', inputSize: 2, hiddenSize: 9, outputSize: 1, seed: 5 },
    trainer: {
      loss: adding.lossSpec,
      optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
      schedule: { kind: 'step', stepSize: 4, gamma: 0.5 },
      clipValue: 0.1,
    },
  },
  {
    name: 'RNN relu dense, adding, rmsprop (js float64, F64 tensors)',
    backend: 'js64',
    model: { cell: 'rnn', nonlinearity: 'relu', inputSize: 2, hiddenSize: 7, outputSize: 1, seed: 9 },
    trainer: { loss: adding.lossSpec, optimizer: { name: 'rmsprop', lr: 0.003 }, clipNorm: 1 },
  },
  {
    name: 'RNN tanh tokens, stateful chunks, adagrad (wasm SIMD)',
    backend: 'wasm',
    model: { cell: 'rnn', input: 'tokens', inputSize: 11, hiddenSize: 8, outputSize: 11, seed: 1 },
    trainer: { loss: 'cross-entropy', optimizer: { name: 'adagrad', lr: 0.05 }, tbptt: { k1: 5, k2: 5 } },
    stream: true,
  },
  {
    name: 'LSTM dense, adding, plain sgd (no moments), adamw-free exponential schedule (wasm SIMD)',
    backend: 'wasm',
    model: { cell: 'lstm', inputSize: 2, hiddenSize: 6, outputSize: 1, seed: 2 },
    trainer: { loss: adding.lossSpec, optimizer: { name: 'sgd', lr: 0.1 }, schedule: { kind: 'exponential', gamma: 0.9 } },
  },
  {
    name: 'GRU tokens, stateful TBPTT(2, 5), adamw (js float32)',
    backend: 'js',
    model: { cell: 'gru', input: 'tokens', inputSize: 11, hiddenSize: 5, outputSize: 11, seed: 4 },
    trainer: { loss: 'cross-entropy', optimizer: { name: 'adamw', lr: 0.02 }, tbptt: { k1: 2, k2: 5 } },
    stream: true,
  },
];

/** A trainer on its data: step() runs one update; position() / restore() carry the data's place. */
async function setup(c: Case, bytes?: Uint8Array) {
  let model: Model, trainer: Trainer;
  let restoredData: CheckpointExtra['data'] | null = null;
  if (bytes) {
    const backend = c.backend === 'js64' ? 'js' : c.backend === 'wasm' ? 'wasm' : 'js';
    const r = await restoreCheckpoint(bytes, {
      backend,
      dtype: c.backend === 'js64' ? 'float64' : undefined,
      core: backend === 'wasm' ? await simdCore() : undefined,
    });
    ({ model, trainer } = r);
    restoredData = r.extra.data;
  } else {
    model = await makeModel(c.backend, c.model);
    trainer = new Trainer(model, c.trainer);
  }
  const B = 3;
  if (c.stream) {
    const stream = new TokenStream(TEXT_IDS, { T: c.trainer.tbptt!.k1, B });
    if (restoredData?.stream) stream.setPosition(restoredData.stream.position, restoredData.stream.epoch);
    return { model, trainer, step: () => trainer.stepStateful(stream.next()), data: () => ({ stream: stream.getPosition() }) };
  }
  const rng = new Rng(77);
  if (restoredData?.rng) rng.setState(restoredData.rng as number[]);
  return { model, trainer, step: () => trainer.step(adding.addingBatch({ T: 6, B }, rng)), data: () => ({ rng: rng.getState() }) };
}

describe('checkpoint round trip', () => {
  for (const c of CASES) {
    it(`continuing from a checkpoint is bit-identical: ${c.name}`, async () => {
      const a = await setup(c);
      for (let i = 0; i < 9; i++) a.step(); // long enough for the stream to wrap (reset) with TBPTT(2, 5)
      const extra: CheckpointExtra = { data: a.data(), schedule: c.trainer.schedule, info: { note: 'hi', n: [1, 2.5] } };
      const bytes = checkpointToSafetensors(a.trainer, extra);
      const rest: StepResult[] = [];
      for (let i = 0; i < 8; i++) rest.push(a.step());

      const b = await setup(c, bytes);
      expect(b.trainer.steps).toBe(9);
      // the restored trainer writes the very same bytes
      expect(checkpointToSafetensors(b.trainer, extra)).toEqual(bytes);
      const again: StepResult[] = [];
      for (let i = 0; i < 8; i++) again.push(b.step());
      expectSameRun(rest, again);
      expect(params(b.model)).toEqual(params(a.model));
      expect(b.model.rng.getState()).toEqual(a.model.rng.getState());
      expect(JSON.stringify(b.trainer.getCarriedState())).toEqual(JSON.stringify(a.trainer.getCarriedState()));
      for (const t of [a, b]) {
        t.trainer.dispose();
        t.model.dispose();
      }
    });
  }

  it('restores the model sampler, baseLr, info and data, and reports them', async () => {
    const c = CASES[0];
    const a = await setup(c);
    a.step();
    a.model.rng.normal(); // leaves a spare normal in the state
    a.trainer.baseLr = 0.0123;
    const bytes = checkpointToSafetensors(a.trainer, { data: a.data(), schedule: c.trainer.schedule, info: { hello: ['world'] } });
    const r = await restoreCheckpoint(bytes, { core: await simdCore() });
    expect(r.extra.info).toEqual({ hello: ['world'] });
    expect(r.extra.data).toEqual(a.data());
    expect(r.extra.schedule).toEqual(c.trainer.schedule);
    expect(r.extra.step).toBe(1);
    expect(r.trainer.baseLr).toBe(0.0123);
    expect(r.trainer.lr).toBe(a.trainer.lr);
    expect(r.model.rng.getState()).toEqual(a.model.rng.getState());
    expect(r.model.rng.normal()).toBe(a.model.rng.normal());
    expect(checkpointInfo(bytes)).toMatchObject({ step: 1, info: { hello: ['world'] }, config: a.model.config });
    // the documented layout: weights under PyTorch names, optimizer.<moment>.<name>, state.*
    const names = [...decodeSafetensors(bytes).tensors.keys()];
    expect(names).toContain('weight_hh_l1');
    expect(names).toContain('optimizer.exp_avg.weight_ih_l0');
    expect(names).toContain('optimizer.exp_avg_sq.head.bias');
    expect(names).toEqual(expect.arrayContaining(['state.h', 'state.c', 'state.history']));
    const meta = decodeSafetensors(bytes).metadata;
    expect(meta.format).toBe('unrolled-checkpoint');
    expect(JSON.parse(meta.unrolled_trainer)).toMatchObject({
      optimizer: { name: 'adam', lr: 0.01, betas: [0.9, 0.999] },
      tbptt: { k1: 3, k2: 7 },
      clipNorm: 0.5,
      clipValue: null,
    });
    for (const t of [a, r]) {
      t.trainer.dispose();
      t.model.dispose();
    }
  });

  it("refuses a schedule that is not the trainer's, and bad extras", async () => {
    const c = CASES[0];
    const a = await setup(c);
    expect(() => checkpointToSafetensors(a.trainer, {})).toThrow(InvalidArgumentError);
    expect(() => checkpointToSafetensors(a.trainer, {})).toThrow(/extra.schedule/);
    expect(() => checkpointToSafetensors(a.trainer, { schedule: { kind: 'cosine', total: 21, warmup: 3 } })).toThrow(/extra.schedule/);
    expect(() => checkpointToSafetensors(a.trainer, { schedule: c.trainer.schedule, info: { x: NaN } })).toThrow(/extra.info/);
    expect(() => checkpointToSafetensors(a.trainer, { schedule: c.trainer.schedule, data: { rng: [0, 0, 0, 0] } })).toThrow(
      /extra.data.rng/,
    );
    expect(() =>
      checkpointToSafetensors(a.trainer, { schedule: c.trainer.schedule, data: { stream: { epoch: -1, position: 0 } } }),
    ).toThrow(/epoch/);
    expect(() => checkpointToSafetensors(a.trainer, { schedule: c.trainer.schedule, other: 1 } as CheckpointExtra)).toThrow(
      /only the fields/,
    );
    expect(() => checkpointToSafetensors({} as Trainer)).toThrow(/a Trainer/);
    a.trainer.dispose();
    a.model.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// validation: every rule gives a CheckpointError (and no model is left behind)

describe('checkpoint validation', async () => {
  const core = await simdCore();
  // an LSTM with TBPTT(2, 4) (carried h, c and history) and adam
  const model = await makeModel('wasm', { cell: 'lstm', input: 'tokens', inputSize: 5, hiddenSize: 3, outputSize: 5, seed: 1 });
  const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: 'adam', tbptt: { k1: 2, k2: 4 } });
  const stream = new TokenStream(
    Int32Array.from({ length: 40 }, (_, i) => i % 5),
    { T: 2, B: 2 },
  );
  for (let i = 0; i < 3; i++) trainer.stepStateful(stream.next());
  const good = checkpointToSafetensors(trainer, { data: { stream: stream.getPosition() }, info: { ok: true } });
  const sgd = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'sgd', lr: 0.1 } });
  const goodSgd = checkpointToSafetensors(sgd);

  type Edit = (t: NamedTensor[], meta: Record<string, string>) => void;
  function mutate(bytes: Uint8Array, edit: Edit): Uint8Array {
    const d = decodeSafetensors(bytes);
    const tensors: NamedTensor[] = [...d.tensors].map(([name, t]) => ({ name, ...t }));
    const meta = { ...d.metadata };
    edit(tensors, meta);
    return encodeSafetensors(tensors, meta);
  }
  const json = (meta: Record<string, string>, key: string, fn: (o: Record<string, unknown>) => void): void => {
    const o = JSON.parse(meta[key]);
    fn(o);
    meta[key] = JSON.stringify(o);
  };
  const tensor = (t: NamedTensor[], name: string): NamedTensor => t.find((x) => x.name === name)!;
  const setValue = (t: NamedTensor[], name: string, i: number, v: number): void => {
    (tensor(t, name).data as Float32Array)[i] = v;
  };

  it('the unmodified checkpoint restores', async () => {
    const r = await restoreCheckpoint(
      mutate(good, () => {}),
      { core },
    );
    expect(r.trainer.steps).toBe(3);
    r.trainer.dispose();
    r.model.dispose();
  });

  const cases: [string, Uint8Array | (() => Uint8Array), RegExp][] = [
    ['not a safetensors file', new TextEncoder().encode('hello, world'), /safetensors: the header length/],
    ['a torn file (cut in half)', good.subarray(0, good.length >> 1), /safetensors:/],
    ['a model file, not a checkpoint', () => modelToSafetensors(model), /not an unrolled checkpoint.*model file/],
    [
      'no format',
      () =>
        mutate(good, (_t, m) => {
          delete m.format;
        }),
      /not an unrolled checkpoint/,
    ],
    [
      'an unsupported version',
      () =>
        mutate(good, (_t, m) => {
          m.unrolled_checkpoint_version = '2';
        }),
      /version "2" is not supported/,
    ],
    [
      'an unknown metadata key',
      () =>
        mutate(good, (_t, m) => {
          m.extra_key = 'x';
        }),
      /unknown key "extra_key"/,
    ],
    [
      'unrolled_config missing',
      () =>
        mutate(good, (_t, m) => {
          delete m.unrolled_config;
        }),
      /no unrolled_config/,
    ],
    [
      'unrolled_config not JSON',
      () =>
        mutate(good, (_t, m) => {
          m.unrolled_config = '{';
        }),
      /unrolled_config is not valid JSON/,
    ],
    [
      'unrolled_config invalid',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_config', (o) => {
            o.hiddenSize = 0;
          }),
        ),
      /unrolled_config is invalid.*hiddenSize/,
    ],
    [
      'unrolled_config unknown field',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_config', (o) => {
            o.attentionHeads = 3;
          }),
        ),
      /unknown field "attentionHeads"/,
    ],
    [
      'unrolled_trainer missing',
      () =>
        mutate(good, (_t, m) => {
          delete m.unrolled_trainer;
        }),
      /no unrolled_trainer/,
    ],
    [
      'unrolled_trainer unknown field',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.amsgrad = true;
          }),
        ),
      /unknown field "amsgrad"/,
    ],
    [
      'unrolled_trainer missing field',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            delete o.clipNorm;
          }),
        ),
      /no field "clipNorm"/,
    ],
    [
      'a bad optimizer',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.optimizer = { name: 'lion' };
          }),
        ),
      /unrolled_trainer is invalid.*optimizer.name/,
    ],
    [
      'a bad loss',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.loss = { loss: 'hinge' };
          }),
        ),
      /unrolled_trainer is invalid.*loss/,
    ],
    [
      'a bad schedule',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.schedule = { kind: 'cyclic' };
          }),
        ),
      /unrolled_trainer is invalid.*schedule.kind/,
    ],
    [
      'a bad clipNorm',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.clipNorm = -1;
          }),
        ),
      /clipNorm must be a finite number > 0/,
    ],
    [
      'a bad baseLr',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.baseLr = 'fast';
          }),
        ),
      /baseLr must be a finite number/,
    ],
    [
      'a bad onNonFinite',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.onNonFinite = 'ignore';
          }),
        ),
      /onNonFinite/,
    ],
    [
      'tbptt k2 < k1',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.tbptt = { k1: 4, k2: 2 };
          }),
        ),
      /k2 ≥ k1/,
    ],
    [
      'tbptt k2 > k1 with a last-step loss',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_trainer', (o) => {
            o.loss = { loss: 'cross-entropy', at: 'last', reduction: 'mean' };
          }),
        ),
      /k2 > k1 with a loss at the last step/,
    ],
    [
      'unrolled_state missing',
      () =>
        mutate(good, (_t, m) => {
          delete m.unrolled_state;
        }),
      /no unrolled_state/,
    ],
    [
      'a negative step',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_state', (o) => {
            o.step = -1;
          }),
        ),
      /step must be an integer in \[0, 2\^53−1\]/,
    ],
    [
      'a fractional step',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_state', (o) => {
            o.step = 1.5;
          }),
        ),
      /step must be an integer/,
    ],
    [
      'an all-zero model Rng',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_state', (o) => {
            o.modelRng = [0, 0, 0, 0, null];
          }),
        ),
      /modelRng is all zeros/,
    ],
    [
      'a model Rng word out of range',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_state', (o) => {
            o.modelRng = [2 ** 32, 1, 1, 1, null];
          }),
        ),
      /modelRng\[0\] must be a 32-bit/,
    ],
    [
      'a carried B of 0',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_state', (o) => {
            o.carried = { B: 0, historySteps: 0 };
          }),
        ),
      /carried.B must be an integer in \[1, 2\^24\]/,
    ],
    [
      'history longer than k2 − k1',
      () =>
        mutate(good, (_t, m) =>
          json(m, 'unrolled_state', (o) => {
            o.carried = { B: 2, historySteps: 3 };
          }),
        ),
      /historySteps 3 exceeds k2 − k1 = 2/,
    ],
    [
      'bad data position',
      () =>
        mutate(good, (_t, m) => {
          m.unrolled_data = JSON.stringify({ stream: { epoch: 0, position: -2 } });
        }),
      /stream.position must be an integer in \[0, /,
    ],
    [
      'unknown data field',
      () =>
        mutate(good, (_t, m) => {
          m.unrolled_data = JSON.stringify({ cursor: 1 });
        }),
      /unrolled_data has the unknown field "cursor"/,
    ],
    [
      'info not JSON',
      () =>
        mutate(good, (_t, m) => {
          m.unrolled_info = 'not json';
        }),
      /unrolled_info is not valid JSON/,
    ],
    [
      'a missing weight',
      () =>
        mutate(good, (t) => {
          t.splice(
            t.findIndex((x) => x.name === 'weight_hh_l0'),
            1,
          );
        }),
      /tensor "weight_hh_l0" is missing/,
    ],
    [
      'a missing moment',
      () =>
        mutate(good, (t) => {
          t.splice(
            t.findIndex((x) => x.name === 'optimizer.exp_avg_sq.head.bias'),
            1,
          );
        }),
      /"optimizer.exp_avg_sq.head.bias" is missing/,
    ],
    [
      'a missing carried state',
      () =>
        mutate(good, (t) => {
          t.splice(
            t.findIndex((x) => x.name === 'state.c'),
            1,
          );
        }),
      /"state.c" is missing/,
    ],
    [
      'an unexpected tensor',
      () =>
        mutate(good, (t) => {
          t.push({ name: 'optimizer.momentum_buffer.head.bias', dtype: 'F32', shape: [5], data: new Float32Array(5) });
        }),
      /unexpected tensor "optimizer.momentum_buffer.head.bias"/,
    ],
    [
      'moments for sgd without momentum',
      () =>
        mutate(goodSgd, (t) => {
          t.push({ name: 'optimizer.momentum_buffer.head.bias', dtype: 'F32', shape: [5], data: new Float32Array(5) });
        }),
      /unexpected tensor/,
    ],
    [
      'a wrong dtype',
      () =>
        mutate(good, (t) => {
          const x = tensor(t, 'head.bias');
          x.dtype = 'I32';
          x.data = new Int32Array(5);
        }),
      /"head.bias" has dtype I32; expected F32 or F64/,
    ],
    [
      'a wrong weight shape',
      () =>
        mutate(good, (t) => {
          tensor(t, 'weight_ih_l0').shape = [6, 10];
        }),
      /"weight_ih_l0" has shape \[6, 10\]; expected \[12, 5\]/,
    ],
    [
      'a wrong moment shape',
      () =>
        mutate(good, (t) => {
          tensor(t, 'optimizer.exp_avg.head.weight').shape = [3, 5];
        }),
      /"optimizer.exp_avg.head.weight" has shape \[3, 5\]; expected \[5, 3\]/,
    ],
    [
      'a wrong state shape',
      () =>
        mutate(good, (t) => {
          tensor(t, 'state.h').shape = [2, 3];
        }),
      /"state.h" has shape \[2, 3\]; expected \[1, 2, 3\]/,
    ],
    [
      'a wrong history shape',
      () =>
        mutate(good, (t) => {
          tensor(t, 'state.history').shape = [4, 1];
        }),
      /"state.history" has shape \[4, 1\]; expected \[2, 2\]/,
    ],
    ['a NaN weight', () => mutate(good, (t) => setValue(t, 'weight_hh_l0', 4, NaN)), /"weight_hh_l0" element 4 is NaN/],
    ['an infinite moment', () => mutate(good, (t) => setValue(t, 'optimizer.exp_avg.bias_ih_l0', 0, Infinity)), /element 0 is Infinity/],
    ['a NaN carried state', () => mutate(good, (t) => setValue(t, 'state.c', 1, NaN)), /"state.c" element 1 is NaN/],
    [
      'an F64 value beyond float32',
      () =>
        mutate(good, (t) => {
          const x = tensor(t, 'head.bias');
          x.dtype = 'F64';
          x.data = Float64Array.from([1, 2, 1e300, 0, 0]);
        }),
      /element 2 is 1e\+300, which overflows float32/,
    ],
    [
      'a negative second moment',
      () => mutate(good, (t) => setValue(t, 'optimizer.exp_avg_sq.head.weight', 2, -1e-3)),
      /exp_avg_sq cannot be negative/,
    ],
    [
      'a history id out of range',
      () => mutate(good, (t) => setValue(t, 'state.history', 0, 5)),
      /"state.history" element 0 is 5; expected a token id in \[0, 4\]/,
    ],
    ['a fractional history id', () => mutate(good, (t) => setValue(t, 'state.history', 1, 0.5)), /element 1 is 0.5/],
  ];

  it.each(cases)('%s → CheckpointError', async (_name, bytes, message) => {
    const b = typeof bytes === 'function' ? bytes() : bytes;
    const err = await restoreCheckpoint(b, { core }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).code).toBe('BAD_CHECKPOINT');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toMatch(/\n/);
  });

  it('rejects arguments that are not bytes', async () => {
    await expect(restoreCheckpoint('file.ckpt' as unknown as Uint8Array)).rejects.toThrow(InvalidArgumentError);
  });

  it('F64 values that fit load into an f32 model; F32 checkpoints load into float64', async () => {
    const f64 = mutate(good, (t) => {
      for (const x of t)
        if (x.dtype === 'F32') {
          x.dtype = 'F64';
          x.data = Float64Array.from(x.data as Float32Array);
        }
    });
    const r = await restoreCheckpoint(f64, { core });
    expect(params(r.model)).toEqual(params(model));
    const r64 = await restoreCheckpoint(good, { backend: 'js', dtype: 'float64' });
    expect(params(r64.model)).toEqual(params(model));
    for (const x of [r, r64]) {
      x.trainer.dispose();
      x.model.dispose();
    }
  });
});
