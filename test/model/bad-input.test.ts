// Bad inputs, as a table: model configurations, Trainer options, batches for predict /
// lossAndGradients / Trainer.step, parameter access and a disposed model. Each must throw an
// UnrolledError subclass whose message names the offending argument, and leave every
// parameter of every model (and every trainer's step count and optimizer state) unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/create.js';
import { ConfigError, DisposedError, InvalidArgumentError, MemoryLimitError, NonFiniteError, UnrolledError } from '../../src/errors.js';
import type { Batch } from '../../src/model/batch.js';
import type { Model } from '../../src/model/model.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import { lcg, makeModel, randInts, randn, type BackendName } from '../helpers.js';

const T = 3,
  B = 2;
// LSTM, dense, 2 layers
const LI = 3,
  LH = 5,
  LO = 4,
  LL = 2;
// GRU, tokens
const V = 7,
  GH = 5;

interface Ctx {
  backend: BackendName;
  lstm: Model;
  gru: Model;
  tLstm: Trainer;
  tGru: Trainer;
}

const rand = lcg(31);
const lstmBatch = (over: Partial<Batch> = {}): Batch => ({
  x: randn(T * B * LI, rand),
  T,
  B,
  y: randn(T * B * LO, rand),
  h0: randn(LL * B * LH, rand, 0.1),
  c0: randn(LL * B * LH, rand, 0.1),
  ...over,
});
const gruBatch = (over: Partial<Batch> = {}): Batch => ({
  x: Array.from(randInts(T * B, V, rand)),
  T,
  B,
  y: Array.from(randInts(T * B, V, rand)),
  ...over,
});
const MSE = { loss: 'mse' as const };
const CE = { loss: 'cross-entropy' as const };
const lstmConfig = { cell: 'lstm' as const, inputSize: LI, hiddenSize: LH, outputSize: LO, numLayers: LL };

type Ctor = abstract new (...args: never[]) => UnrolledError;

interface BadCase {
  name: string;
  /** text the message must contain: the argument's name */
  arg: string;
  /** the error class, or the classes accepted (default: any UnrolledError) */
  type?: Ctor | Ctor[];
  run: (c: Ctx) => unknown;
}

const newModel = (c: Ctx, config: Record<string, unknown>): Promise<Model> =>
  createModel({ backend: c.backend === 'js' ? 'js' : 'wasm', ...lstmConfig, ...config } as Parameters<typeof createModel>[0]);
const newTrainer = (c: Ctx, options: Partial<TrainerOptions> & Record<string, unknown>): Trainer =>
  new Trainer(c.lstm, { loss: MSE, ...options } as TrainerOptions);

const CASES: BadCase[] = [
  // --- createModel config -------------------------------------------------------------------
  { name: 'unknown cell name', arg: 'config.cell', type: ConfigError, run: (c) => newModel(c, { cell: 'transformer' }) },
  {
    name: 'nonlinearity relu on an LSTM',
    arg: 'config.nonlinearity',
    type: ConfigError,
    run: (c) => newModel(c, { nonlinearity: 'relu' }),
  },
  {
    name: 'unknown nonlinearity',
    arg: 'config.nonlinearity',
    type: ConfigError,
    run: (c) => newModel(c, { cell: 'rnn', nonlinearity: 'gelu' }),
  },
  { name: 'hiddenSize 0', arg: 'config.hiddenSize', type: ConfigError, run: (c) => newModel(c, { hiddenSize: 0 }) },
  { name: 'hiddenSize 1e9', arg: 'config.hiddenSize', type: ConfigError, run: (c) => newModel(c, { hiddenSize: 1e9 }) },
  { name: 'hiddenSize 2.5', arg: 'config.hiddenSize', type: ConfigError, run: (c) => newModel(c, { hiddenSize: 2.5 }) },
  {
    name: 'hiddenSize 1e6 (beyond 2^13, which never fits)',
    arg: 'config.hiddenSize',
    type: ConfigError,
    run: (c) => newModel(c, { hiddenSize: 1e6 }),
  },
  {
    name: 'hiddenSize 8000 with inputSize 2^20 does not fit memory',
    arg: 'floats',
    type: MemoryLimitError,
    run: (c) => newModel(c, { hiddenSize: 8000, inputSize: 2 ** 20 }),
  },
  { name: 'inputSize negative', arg: 'config.inputSize', type: ConfigError, run: (c) => newModel(c, { inputSize: -3 }) },
  { name: 'outputSize NaN', arg: 'config.outputSize', type: ConfigError, run: (c) => newModel(c, { outputSize: NaN }) },
  { name: 'numLayers 0', arg: 'config.numLayers', type: ConfigError, run: (c) => newModel(c, { numLayers: 0 }) },
  { name: 'unknown input kind', arg: 'config.input', type: ConfigError, run: (c) => newModel(c, { input: 'images' }) },
  { name: 'negative seed', arg: 'config.seed', type: ConfigError, run: (c) => newModel(c, { seed: -1 }) },
  { name: 'unknown backend', arg: 'options.backend', type: ConfigError, run: (c) => newModel(c, { backend: 'gpu' }) },
  {
    name: 'js dtype float16',
    arg: 'options.dtype',
    type: ConfigError,
    run: () => createModel({ ...lstmConfig, backend: 'js', dtype: 'float16' as 'float32' }),
  },
  {
    name: 'wasm dtype float64',
    arg: 'options.dtype',
    type: ConfigError,
    run: () => createModel({ ...lstmConfig, backend: 'wasm', dtype: 'float64' }),
  },

  // --- Trainer options ----------------------------------------------------------------------
  { name: 'unknown optimizer name', arg: 'optimizer.name', type: ConfigError, run: (c) => newTrainer(c, { optimizer: 'lbfgs' as 'adam' }) },
  {
    name: 'SGD without lr',
    arg: 'optimizer.lr',
    type: ConfigError,
    run: (c) => newTrainer(c, { optimizer: { name: 'sgd' } as { name: 'sgd'; lr: number } }),
  },
  { name: 'negative lr', arg: 'optimizer.lr', type: ConfigError, run: (c) => newTrainer(c, { optimizer: { name: 'adam', lr: -1 } }) },
  {
    name: 'betas of length 1',
    arg: 'optimizer.betas',
    type: ConfigError,
    run: (c) => newTrainer(c, { optimizer: { name: 'adam', betas: [0.9] as unknown as [number, number] } }),
  },
  {
    name: 'beta2 > 1',
    arg: 'optimizer.betas[1]',
    type: ConfigError,
    run: (c) => newTrainer(c, { optimizer: { name: 'adam', betas: [0.9, 1.5] } }),
  },
  {
    name: 'nesterov without momentum',
    arg: 'optimizer.nesterov',
    type: ConfigError,
    run: (c) => newTrainer(c, { optimizer: { name: 'sgd', lr: 0.1, nesterov: true } }),
  },
  { name: 'clipNorm negative', arg: 'options.clipNorm', type: ConfigError, run: (c) => newTrainer(c, { clipNorm: -1 }) },
  { name: 'clipValue NaN', arg: 'options.clipValue', type: ConfigError, run: (c) => newTrainer(c, { clipValue: NaN }) },
  {
    name: 'unknown onNonFinite',
    arg: 'options.onNonFinite',
    type: ConfigError,
    run: (c) => newTrainer(c, { onNonFinite: 'ignore' as 'skip' }),
  },
  {
    name: 'unknown loss name (Trainer)',
    arg: 'options.loss.loss',
    type: ConfigError,
    run: (c) => newTrainer(c, { loss: 'hinge' as 'mse' }),
  },
  {
    name: 'unknown loss position (Trainer)',
    arg: 'options.loss.at',
    type: ConfigError,
    run: (c) => newTrainer(c, { loss: { loss: 'mse', at: 'middle' as 'every' } }),
  },

  // --- batch shape --------------------------------------------------------------------------
  {
    name: 'x one element short (predict)',
    arg: 'batch.x',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict({ ...lstmBatch(), x: randn(T * B * LI - 1, rand) }),
  },
  {
    name: 'x is a string',
    arg: 'batch.x',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict({ ...lstmBatch(), x: 'abc' as unknown as number[] }),
  },
  { name: 'batch is null', arg: 'batch', type: InvalidArgumentError, run: (c) => c.lstm.predict(null as unknown as Batch) },
  {
    name: 'y one element long (lossAndGradients)',
    arg: 'batch.y',
    type: InvalidArgumentError,
    run: (c) => c.lstm.lossAndGradients(lstmBatch({ y: randn(T * B * LO + 1, rand) }), MSE),
  },
  {
    name: 'y of a last-step loss sized for every step',
    arg: 'batch.y',
    type: InvalidArgumentError,
    run: (c) => c.lstm.lossAndGradients(lstmBatch(), { loss: 'mse', at: 'last' }),
  },
  { name: 'y missing (step)', arg: 'batch.y', type: InvalidArgumentError, run: (c) => c.tLstm.step(lstmBatch({ y: undefined })) },
  {
    name: 'mask of the wrong length',
    arg: 'batch.mask',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict(lstmBatch({ mask: [1, 1, 1] })),
  },
  {
    name: 'lengths of the wrong length',
    arg: 'batch.lengths',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict(lstmBatch({ lengths: [3, 3, 3] })),
  },
  {
    name: 'h0 of the wrong length (one layer only)',
    arg: 'batch.h0',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict(lstmBatch({ h0: new Float32Array(B * LH) })),
  },
  {
    name: 'c0 of the wrong length (step)',
    arg: 'batch.c0',
    type: InvalidArgumentError,
    run: (c) => c.tLstm.step(lstmBatch({ c0: new Float32Array(LL * B * LH + 1) })),
  },
  { name: 'T = 0', arg: 'batch.T', type: InvalidArgumentError, run: (c) => c.lstm.predict({ x: [], T: 0, B }) },
  { name: 'T negative', arg: 'batch.T', type: InvalidArgumentError, run: (c) => c.lstm.predict({ x: [], T: -2, B }) },
  { name: 'T non-integer', arg: 'batch.T', type: InvalidArgumentError, run: (c) => c.lstm.lossAndGradients(lstmBatch({ T: 1.5 }), MSE) },
  { name: 'B = 0', arg: 'batch.B', type: InvalidArgumentError, run: (c) => c.lstm.predict({ x: [], T, B: 0 }) },
  { name: 'B NaN (step)', arg: 'batch.B', type: InvalidArgumentError, run: (c) => c.tLstm.step(lstmBatch({ B: NaN })) },
  {
    name: 'B a string',
    arg: 'batch.B',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict(lstmBatch({ B: '2' as unknown as number })),
  },

  // --- batch values -------------------------------------------------------------------------
  {
    name: 'token id = vocabulary size',
    arg: 'batch.x[4]',
    type: InvalidArgumentError,
    run: (c) => {
      const b = gruBatch();
      (b.x as number[])[4] = V;
      return c.gru.predict(b);
    },
  },
  {
    name: 'token id non-integer',
    arg: 'batch.x[0]',
    type: InvalidArgumentError,
    run: (c) => {
      const b = gruBatch();
      (b.x as number[])[0] = 1.5;
      return c.gru.lossAndGradients(b, CE);
    },
  },
  {
    name: 'token id negative (step)',
    arg: 'batch.x[5]',
    type: InvalidArgumentError,
    run: (c) => {
      const b = gruBatch();
      (b.x as number[])[5] = -1;
      return c.tGru.step(b);
    },
  },
  {
    name: 'NaN in x',
    arg: 'batch.x',
    type: NonFiniteError,
    run: (c) => {
      const b = lstmBatch();
      (b.x as Float32Array)[7] = NaN;
      return c.lstm.predict(b);
    },
  },
  {
    name: 'Infinity in x (step)',
    arg: 'batch.x',
    type: NonFiniteError,
    run: (c) => {
      const b = lstmBatch();
      (b.x as Float32Array)[0] = Infinity;
      return c.tLstm.step(b);
    },
  },
  {
    name: 'Infinity in y (mse)',
    arg: 'batch.y',
    type: NonFiniteError,
    run: (c) => {
      const b = lstmBatch();
      (b.y as Float32Array)[2] = Infinity;
      return c.lstm.lossAndGradients(b, MSE);
    },
  },
  {
    name: 'NaN in h0',
    arg: 'batch.h0',
    type: NonFiniteError,
    run: (c) => {
      const b = lstmBatch();
      (b.h0 as Float32Array)[3] = NaN;
      return c.lstm.predict(b);
    },
  },
  {
    name: '-Infinity in c0 (step)',
    arg: 'batch.c0',
    type: NonFiniteError,
    run: (c) => {
      const b = lstmBatch();
      (b.c0 as Float32Array)[9] = -Infinity;
      return c.tLstm.step(b);
    },
  },
  // finite JS numbers that float32 storage would turn into Infinity
  {
    name: 'x = −1e39 (beyond float32)',
    arg: 'batch.x',
    type: NonFiniteError,
    run: (c) => {
      const b = lstmBatch();
      (b.x as number[]) = Array.from(b.x);
      (b.x as number[])[3] = -1e39;
      return c.lstm.predict(b);
    },
  },
  {
    name: 'y = 1e39 (beyond float32, step)',
    arg: 'batch.y',
    type: NonFiniteError,
    run: (c) => {
      const b = lstmBatch();
      const y = Array.from(b.y!);
      y[1] = 1e39;
      return c.tLstm.step({ ...b, y });
    },
  },
  {
    name: 'h0 = 1e39 (beyond float32)',
    arg: 'batch.h0',
    type: NonFiniteError,
    run: (c) => {
      const b = lstmBatch();
      const h0 = Array.from(b.h0!);
      h0[0] = 1e39;
      return c.lstm.lossAndGradients({ ...b, h0 }, MSE);
    },
  },
  {
    name: 'class id = outputSize (cross-entropy)',
    arg: 'batch.y[1]',
    type: InvalidArgumentError,
    run: (c) => {
      const b = gruBatch();
      (b.y as number[])[1] = V;
      return c.tGru.step(b);
    },
  },
  {
    name: 'class id 0.5 (cross-entropy)',
    arg: 'batch.y[0]',
    type: InvalidArgumentError,
    run: (c) => {
      const b = gruBatch();
      (b.y as number[])[0] = 0.5;
      return c.gru.lossAndGradients(b, CE);
    },
  },
  {
    name: 'mask value 0.5',
    arg: 'batch.mask[2]',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict(lstmBatch({ mask: [1, 1, 0.5, 1, 1, 1] })),
  },
  {
    name: 'mask value 2 (step)',
    arg: 'batch.mask[0]',
    type: InvalidArgumentError,
    run: (c) => c.tLstm.step(lstmBatch({ mask: [2, 1, 1, 1, 1, 1] })),
  },
  {
    name: 'mask with a sequence of padding only',
    arg: 'batch.mask',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict(lstmBatch({ mask: [1, 0, 1, 0, 1, 0] })),
  },
  { name: 'length 0', arg: 'batch.lengths[1]', type: InvalidArgumentError, run: (c) => c.lstm.predict(lstmBatch({ lengths: [3, 0] })) },
  {
    name: 'length T + 1',
    arg: 'batch.lengths[0]',
    type: InvalidArgumentError,
    run: (c) => c.lstm.lossAndGradients(lstmBatch({ lengths: [T + 1, 1] }), MSE),
  },
  {
    name: 'length non-integer (step)',
    arg: 'batch.lengths[0]',
    type: InvalidArgumentError,
    run: (c) => c.tLstm.step(lstmBatch({ lengths: [1.5, 2] })),
  },
  {
    name: 'mask and lengths together',
    arg: 'batch.mask',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict(lstmBatch({ mask: [1, 1, 1, 1, 1, 1], lengths: [3, 3] })),
  },
  {
    name: 'c0 on a GRU',
    arg: 'batch.c0',
    type: InvalidArgumentError,
    run: (c) => c.gru.predict(gruBatch({ c0: new Float32Array(B * GH) })),
  },
  {
    name: 'lossMask with a last-step loss',
    arg: 'batch.lossMask',
    type: InvalidArgumentError,
    run: (c) => c.lstm.lossAndGradients(lstmBatch({ y: randn(B * LO, rand), lossMask: [1, 1, 1, 1, 1, 1] }), { loss: 'mse', at: 'last' }),
  },
  {
    name: 'lossMask value 3',
    arg: 'batch.lossMask[4]',
    type: InvalidArgumentError,
    run: (c) => c.tLstm.step(lstmBatch({ lossMask: [1, 1, 1, 1, 3, 1] })),
  },
  {
    name: 'lossMask selecting no row',
    arg: 'batch.lossMask',
    type: InvalidArgumentError,
    run: (c) => c.lstm.lossAndGradients(lstmBatch({ lossMask: [0, 0, 0, 0, 0, 0] }), MSE),
  },

  // --- loss / call options ------------------------------------------------------------------
  { name: 'unknown loss name', arg: 'loss.loss', type: ConfigError, run: (c) => c.lstm.lossAndGradients(lstmBatch(), 'hinge' as 'mse') },
  {
    name: 'unknown reduction',
    arg: 'loss.reduction',
    type: ConfigError,
    run: (c) => c.lstm.lossAndGradients(lstmBatch(), { loss: 'mse', reduction: 'max' as 'sum' }),
  },
  {
    name: 'unknown prediction position',
    arg: 'options.at',
    type: InvalidArgumentError,
    run: (c) => c.lstm.predict(lstmBatch(), { at: 'first' as 'last' }),
  },
  {
    name: 'generate on a dense model',
    arg: 'generate',
    type: InvalidArgumentError,
    run: (c) => c.lstm.generate({ prime: [0], length: 3 }),
  },
  {
    name: 'stepStateful with an h0',
    arg: 'chunk.h0',
    type: InvalidArgumentError,
    run: (c) => c.tLstm.stepStateful(lstmBatch({ c0: undefined, lossMask: undefined })),
  },

  // --- parameters ---------------------------------------------------------------------------
  {
    name: 'setParameter with the wrong length',
    arg: 'weight_hh_l0',
    type: InvalidArgumentError,
    run: (c) => c.lstm.setParameter('weight_hh_l0', new Float32Array(4 * LH * LH - 1)),
  },
  {
    name: 'setParameter with NaN (last element)',
    arg: 'weight_hh_l0',
    type: [InvalidArgumentError, NonFiniteError],
    run: (c) => {
      const v = new Float32Array(4 * LH * LH).fill(0.1);
      v[v.length - 1] = NaN;
      c.lstm.setParameter('weight_hh_l0', v);
    },
  },
  {
    name: 'setParameter with Infinity',
    arg: 'head.bias',
    type: [InvalidArgumentError, NonFiniteError],
    run: (c) => c.gru.setParameter('head.bias', [0, 0, 0, Infinity, 0, 0, 0]),
  },
  // 1e39 is a finite JS number but Infinity once stored as float32 ("values must be finite"):
  // on a throwaway model, since without the check the parameter reads back as Infinity
  {
    name: 'setParameter with 1e39 (overflows float32)',
    arg: 'head.bias',
    type: [InvalidArgumentError, NonFiniteError],
    run: async (c) => {
      const m = await newModel(c, {});
      try {
        m.setParameter('head.bias', [0, 1e39, 0, 0]);
      } finally {
        m.dispose();
      }
    },
  },
  {
    name: 'setParameter with an unknown name',
    arg: 'weight_xx_l0',
    type: InvalidArgumentError,
    run: (c) => c.lstm.setParameter('weight_xx_l0', [1]),
  },
  { name: 'getParameter with an unknown name', arg: 'nope', type: InvalidArgumentError, run: (c) => c.lstm.getParameter('nope') },
  {
    name: 'loadStateDict with an unknown name',
    arg: 'bogus',
    type: InvalidArgumentError,
    run: (c) => c.gru.loadStateDict({ ...c.gru.stateDict(), bogus: [1] }),
  },
  {
    name: 'loadStateDict missing a tensor',
    arg: 'head.bias',
    type: InvalidArgumentError,
    run: (c) => {
      const d = c.gru.stateDict();
      delete d['head.bias'];
      c.gru.loadStateDict(d);
    },
  },
  {
    // every tensor but the last is valid (and different): none may be written
    name: 'loadStateDict with a bad last tensor',
    arg: 'head.bias',
    type: InvalidArgumentError,
    run: (c) => {
      const d = c.lstm.stateDict();
      for (const v of Object.values(d)) v.fill(0.25);
      d['head.bias'] = new Float32Array(LO + 2);
      c.lstm.loadStateDict(d);
    },
  },
  {
    name: 'loadStateDict with NaN in the last tensor',
    arg: 'head.bias',
    type: [InvalidArgumentError, NonFiniteError],
    run: (c) => {
      const d = c.lstm.stateDict();
      for (const v of Object.values(d)) v.fill(-0.5);
      d['head.bias'][LO - 1] = NaN;
      c.lstm.loadStateDict(d);
    },
  },

  // --- a disposed model ---------------------------------------------------------------------
  {
    name: 'predict on a disposed model',
    arg: 'disposed',
    type: DisposedError,
    run: async (c) => {
      const m = await newModel(c, {});
      m.dispose();
      return m.predict(lstmBatch());
    },
  },
  {
    name: 'step on a disposed model',
    arg: 'disposed',
    type: DisposedError,
    run: async (c) => {
      const m = await newModel(c, {});
      const t = new Trainer(m, { loss: MSE });
      m.dispose();
      return t.step(lstmBatch());
    },
  },
  {
    name: 'setParameter on a disposed model',
    arg: 'disposed',
    type: DisposedError,
    run: async (c) => {
      const m = await newModel(c, {});
      m.dispose();
      m.setParameter('head.bias', [0, 0, 0, 0]);
    },
  },
];

async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

interface State {
  params: Record<string, Record<string, number[]>>;
  steps: number[];
  moments: number[][];
}

function state(c: Ctx): State {
  const params: Record<string, Record<string, number[]>> = {};
  for (const [k, m] of [
    ['lstm', c.lstm],
    ['gru', c.gru],
  ] as const) {
    params[k] = Object.fromEntries(Object.entries(m.stateDict()).map(([n, v]) => [n, Array.from(v)]));
  }
  const moments = [
    [c.lstm, c.tLstm],
    [c.gru, c.tGru],
  ].map(([m, t]) => {
    const opt = (t as Trainer).optimizer;
    const n = opt.moments.length * (m as Model).net.params.P;
    return Array.from((m as Model).kernels.memory.f.subarray(opt.state, opt.state + n));
  });
  return { params, steps: [c.tLstm.steps, c.tGru.steps], moments };
}

// both float32 backends (the float64 js backend would hold 1e39 exactly)
for (const backend of ['wasm', 'js'] as const) {
  describe(`bad inputs (${backend})`, () => {
    const c = { backend } as Ctx;
    beforeAll(async () => {
      c.lstm = await makeModel(backend, { ...lstmConfig, seed: 1 });
      c.gru = await makeModel(backend, { cell: 'gru', inputSize: V, hiddenSize: GH, outputSize: V, input: 'tokens', seed: 2 });
      c.tLstm = new Trainer(c.lstm, { loss: MSE, optimizer: { name: 'adam', lr: 0.01 } });
      c.tGru = new Trainer(c.gru, { loss: CE, optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 } });
      // one real step each, so that the optimizer state is not all zeros
      expect(c.tLstm.step(lstmBatch()).skipped).toBe(false);
      expect(c.tGru.step(gruBatch()).skipped).toBe(false);
    });
    afterAll(() => {
      c.tLstm.dispose();
      c.tGru.dispose();
      c.lstm.dispose();
      c.gru.dispose();
    });

    it('the table has at least 25 cases', () => {
      expect(CASES.length).toBeGreaterThanOrEqual(25);
      expect(new Set(CASES.map((k) => k.name)).size).toBe(CASES.length);
    });

    for (const k of CASES) {
      const typeName = k.type === undefined ? 'UnrolledError' : Array.isArray(k.type) ? k.type.map((t) => t.name).join(' | ') : k.type.name;
      it(`${k.name} → ${typeName} naming "${k.arg}"`, async () => {
        const before = state(c);
        const err = await thrown(() => k.run(c));
        expect(err, 'it must throw').toBeDefined();
        expect(err, String(err)).toBeInstanceOf(UnrolledError);
        if (k.type) {
          const types = Array.isArray(k.type) ? k.type : [k.type];
          expect(
            types.some((t) => err instanceof t),
            `${String(err)} is one of ${types.map((t) => t.name).join(', ')}`,
          ).toBe(true);
        }
        expect((err as Error).message).toContain(k.arg);
        const after = state(c);
        expect(after.steps).toEqual(before.steps);
        expect(after.params).toEqual(before.params);
        expect(after.moments).toEqual(before.moments);
        // and the models still work
        expect(c.lstm.lossAndGradients(lstmBatch(), MSE).loss).toBeGreaterThan(0);
      });
    }
  });
}
