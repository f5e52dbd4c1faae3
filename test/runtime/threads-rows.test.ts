// The threads build's batch split: with at least 8 rows per thread, every thread runs a cell's
// forward and BPTT for its own block of sequences (no barrier per time step). Each row depends
// only on its own row and the shared weights, and the per-step norms are summed in fixed 4-row
// strips, so training stays bit-identical to the single-threaded build: losses, gradient norms,
// ‖∂E/∂h_t‖ diagnostics and parameters, over every cell and the options that reach the loops.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createModel, createModelSync, type CreateModelOptions } from '../../src/create.js';
import { CORE_FILES, instantiateCoreSync, type Core } from '../../src/runtime/core.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { Network } from '../../src/model/network.js';
import { loadCore } from '../../src/runtime/load.js';
import { Trainer, type StepResult, type TrainerOptions } from '../../src/train/trainer.js';
import { lcg, randInts, randn } from '../helpers.js';

interface Case {
  name: string;
  model: Omit<CreateModelOptions, 'core' | 'seed'>;
  trainer: TrainerOptions;
  T: number;
  B: number;
  /** padding: 'mask' (random holes after step 0) or 'lengths' */
  padding?: 'mask' | 'lengths';
  /** stateful TBPTT chunks instead of independent batches */
  stateful?: boolean;
}

const adam = { name: 'adam', lr: 3e-3 } as const;
const CASES: Case[] = [
  {
    name: 'lstm, 2 layers, token input, odd H',
    model: { cell: 'lstm', inputSize: 23, input: 'tokens', hiddenSize: 37, outputSize: 23, numLayers: 2 },
    trainer: { loss: 'cross-entropy', optimizer: adam, clipNorm: 1 },
    T: 7,
    B: 24,
  },
  {
    name: 'gru, 2 layers, mask, per-timestep clipping',
    model: { cell: 'gru', inputSize: 5, hiddenSize: 33, outputSize: 3, numLayers: 2 },
    trainer: { loss: 'mse', optimizer: adam, clipHiddenNorm: 0.05 },
    T: 6,
    B: 19,
    padding: 'mask',
  },
  {
    name: 'rnn (relu), 1 layer, lengths, odd H and B',
    model: { cell: 'rnn', nonlinearity: 'relu', inputSize: 6, hiddenSize: 29, outputSize: 4, numLayers: 1 },
    trainer: { loss: 'mse', optimizer: adam },
    T: 8,
    B: 27,
    padding: 'lengths',
  },
  {
    name: 'rnn (tanh), 2 layers, per-timestep clipping, no mask (the whole-row fast path)',
    model: { cell: 'rnn', inputSize: 9, hiddenSize: 31, outputSize: 2, numLayers: 2 },
    trainer: { loss: 'mse', optimizer: adam, clipHiddenNorm: 0.02 },
    T: 5,
    B: 16,
  },
  {
    name: 'lstm with projection, mask and clipping',
    model: { cell: 'lstm', inputSize: 4, hiddenSize: 21, projSize: 7, outputSize: 3, numLayers: 2 },
    trainer: { loss: 'mse', optimizer: adam, clipHiddenNorm: 0.05 },
    T: 6,
    B: 20,
    padding: 'mask',
  },
  {
    name: 'gru, token input, stateful TBPTT',
    model: { cell: 'gru', inputSize: 11, input: 'tokens', hiddenSize: 19, outputSize: 11, numLayers: 2 },
    trainer: { loss: 'cross-entropy', optimizer: adam, tbptt: { k1: 3, k2: 5 } },
    T: 3,
    B: 17,
    stateful: true,
  },
  {
    name: 'lstm, cross-entropy over 300 classes with a mask (the loss split over threads too)',
    model: { cell: 'lstm', inputSize: 300, input: 'tokens', hiddenSize: 12, outputSize: 300, numLayers: 1 },
    trainer: { loss: 'cross-entropy', optimizer: adam },
    T: 8,
    B: 24,
    padding: 'mask',
  },
  {
    name: 'lstm, H 256, 300 classes (the head’s packing and column sums split over threads too)',
    model: { cell: 'lstm', inputSize: 300, input: 'tokens', hiddenSize: 256, outputSize: 300, numLayers: 1 },
    trainer: { loss: 'cross-entropy', optimizer: adam, clipNorm: 1 },
    T: 16,
    B: 32,
  },
  {
    name: 'gru, mse over 200 outputs (the loss split over threads too)',
    model: { cell: 'gru', inputSize: 3, hiddenSize: 10, outputSize: 200, numLayers: 1 },
    trainer: { loss: 'mse', optimizer: adam },
    T: 10,
    B: 20,
  },
  {
    name: 'lstm, bidirectional, lengths',
    model: { cell: 'lstm', inputSize: 3, hiddenSize: 13, outputSize: 2, numLayers: 1, bidirectional: true },
    trainer: { loss: 'mse', optimizer: adam },
    T: 5,
    B: 18,
    padding: 'lengths',
  },
];

interface Run {
  variant: string;
  used: number;
  losses: number[];
  gradNorms: number[];
  norms: number[][];
  params: number[][];
}

async function run(c: Case, threads: number, variant: 'simd' | 'relaxed' = 'simd'): Promise<Run> {
  const core = await loadCore({ threads, variant });
  try {
    return train(c, core);
  } finally {
    core.dispose();
  }
}

function train(c: Case, core: Core): Run {
  const model = createModelSync({ ...c.model, seed: 5, core });
  const trainer = new Trainer(model, c.trainer);
  const rand = lcg(9);
  const { T, B } = c;
  const tokens = c.model.input === 'tokens';
  const I = c.model.inputSize,
    O = c.model.outputSize;
  const out: Run = { variant: core.variant, used: core.threads, losses: [], gradNorms: [], norms: [], params: [] };
  for (let s = 0; s < 3; s++) {
    const x = tokens ? randInts(T * B, I, rand) : randn(T * B * I, rand);
    const y = c.trainer.loss === 'cross-entropy' ? randInts(T * B, O, rand) : randn(T * B * O, rand);
    let r: StepResult;
    if (c.stateful) r = trainer.stepStateful({ x, y, T, B }, { diagnostics: true });
    else {
      const batch: Parameters<Trainer['step']>[0] = { x, y, T, B };
      if (c.padding === 'lengths') batch.lengths = Array.from({ length: B }, (_, b) => 1 + ((b * 7 + s) % T));
      if (c.padding === 'mask') batch.mask = Array.from({ length: T * B }, (_, i) => (i < B || rand() > 0.3 ? 1 : 0));
      r = trainer.step(batch, { diagnostics: true });
    }
    out.losses.push(r.loss);
    out.gradNorms.push(r.gradNorm);
    for (const n of r.gradNormsOverTime ?? []) out.norms.push(Array.from(n));
  }
  for (const n of model.parameterNames()) out.params.push(Array.from(model.getParameter(n) as Float32Array));
  trainer.dispose();
  model.dispose();
  return out;
}

describe('threads build, batch split (B ≥ 8 rows per thread)', () => {
  for (const c of CASES) {
    it(`${c.name}: 2 threads (and 3 where B ≥ 24) train bit-identically to one`, async () => {
      const one = await run(c, 1);
      expect(one.variant).toBe('simd');
      expect(one.norms.length).toBeGreaterThan(0);
      for (const n of c.B >= 24 ? [2, 3] : [2]) {
        const many = await run(c, n);
        expect(many.variant).toBe('threads');
        expect(many.used).toBe(n);
        expect(many.losses).toEqual(one.losses);
        expect(many.gradNorms).toEqual(one.gradNorms);
        expect(many.norms).toEqual(one.norms);
        for (let i = 0; i < one.params.length; i++) expect(many.params[i], `parameter ${i}`).toEqual(one.params[i]);
      }
    });
  }

  it('with workers declared but none running, every rows and loss job completes on the calling thread, bit-identical', async () => {
    // the threads build on one thread, told that 3 threads serve: each job's blocks wait for a
    // taker, and the calling thread takes them all
    const core = instantiateCoreSync(readFileSync(new URL(`../../build/${CORE_FILES.threads}`, import.meta.url)), 'threads');
    const e = core.exports;
    const control = ((e.alloc(256 + 64) >>> 0) + 63) & ~63;
    try {
      for (const c of CASES.filter((k) => k.B >= 24)) {
        e.pool_init(control, 3, 1 << 20);
        const jobs = new Int32Array(e.memory.buffer)[control / 4];
        const alone = train(c, core);
        e.pool_init(control, 1, 1 << 20);
        // every layer's forward and backward of the 3 steps was a published job
        expect(new Int32Array(e.memory.buffer)[control / 4] - jobs, c.name).toBeGreaterThanOrEqual(3 * 2 * (c.model.numLayers ?? 1));
        const one = await run(c, 1);
        expect(alone.losses).toEqual(one.losses);
        expect(alone.norms).toEqual(one.norms);
        expect(alone.params).toEqual(one.params);
      }
    } finally {
      core.dispose();
    }
  });

  // the test worker runs with relaxed SIMD on (test/setup/relaxed-simd.ts)
  it('the fused builds: threads-relaxed with 2 threads trains bit-identically to relaxed', async () => {
    // the second case reaches every split after the rows jobs: the token scatter, the fused bias
    // sums, the weight gradients' packing and rows, Σg², the clip scale and Adam
    for (const c of [CASES[0], CASES.find((k) => k.model.hiddenSize === 256) as Case]) {
      const one = await run(c, 1, 'relaxed');
      expect(one.variant).toBe('relaxed');
      const many = await run(c, 2, 'relaxed');
      expect(many.variant).toBe('threads-relaxed');
      expect(many.losses, c.name).toEqual(one.losses);
      expect(many.gradNorms, c.name).toEqual(one.gradNorms);
      expect(many.norms, c.name).toEqual(one.norms);
      expect(many.params, c.name).toEqual(one.params);
    }
  });

  it('ids refused in a worker’s rows (cell input, loss targets) are counted on the main instance', async () => {
    const core = await loadCore({ threads: 2, variant: 'simd' });
    try {
      expect(core.threads).toBe(2);
      const T = 3,
        B = 16,
        V = 5;
      for (const cell of ['rnn', 'lstm', 'gru'] as const) {
        const m = await createModel({ cell, input: 'tokens', inputSize: V, hiddenSize: 8, outputSize: V, seed: 2, core });
        const before = m.parameterNames().map((n) => Array.from(m.getParameter(n) as Float32Array));
        // after the batch reader's check, one id in every row of the second block (rows 8 … 15) goes bad
        const net = m.net as Network & { load: Network['load'] };
        net.load = (w, batch, withTargets) => {
          Network.prototype.load.call(net, w, batch, withTargets);
          for (let b = 8; b < B; b++) m.kernels.memory.f[w.x + B + b] = 1e9;
        };
        // a forward alone: the backward's dW_ih scatter (on the main thread) would count them too
        expect(() => m.predict({ x: randInts(T * B, V, lcg(1)), T, B }), cell).toThrow(InvalidArgumentError);
        net.load = Network.prototype.load;
        // targets of a loss large enough to be split (R·O ≥ 2^15): the rows of the second half go bad
        const L = 700;
        const big = await createModel({ cell, input: 'tokens', inputSize: V, hiddenSize: 8, outputSize: L, seed: 2, core });
        const bigNet = big.net as Network & { load: Network['load'] };
        bigNet.load = (w, batch, withTargets) => {
          Network.prototype.load.call(bigNet, w, batch, withTargets);
          for (let r = (T * B) / 2; r < T * B; r++) big.kernels.memory.f[w.targets + r] = -1;
        };
        const rand = lcg(2);
        expect(
          () => big.lossAndGradients({ x: randInts(T * B, V, rand), y: randInts(T * B, L, rand), T, B }, 'cross-entropy'),
          cell,
        ).toThrow(InvalidArgumentError);
        expect(big.kernels.takeIdErrors()).toBe(0);
        big.dispose();
        expect(m.parameterNames().map((n) => Array.from(m.getParameter(n) as Float32Array))).toEqual(before);
        expect(m.kernels.takeIdErrors()).toBe(0);
        m.dispose();
      }
    } finally {
      core.dispose();
    }
  });
});
