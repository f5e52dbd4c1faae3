// The threads build: a pool of worker_threads splits the large products; every output element
// is still computed by one thread in the single-threaded order, so training is bit-identical.
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/create.js';
import { loadCore } from '../../src/runtime/load.js';
import { threadsSupported } from '../../src/runtime/threads.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, randInts } from '../helpers.js';

async function train(
  threads: number,
  cell: 'lstm' | 'gru' | 'rnn',
): Promise<{ losses: number[]; params: Float32Array[]; variant: string; used: number }> {
  const core = await loadCore({ threads, variant: 'simd' });
  try {
    // big enough that the products cross the pool's threshold (2·M·N·K ≥ 2^20), odd sizes for the tails
    const model = await createModel({ cell, inputSize: 37, input: 'tokens', hiddenSize: 71, outputSize: 37, numLayers: 2, seed: 5, core });
    const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 3e-3 }, clipNorm: 1 });
    const rand = lcg(9);
    const T = 19,
      B = 13;
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) {
      losses.push(trainer.step({ x: randInts(T * B, 37, rand), y: randInts(T * B, 37, rand), T, B }).loss);
    }
    const params = model.parameterNames().map((n) => model.getParameter(n) as Float32Array);
    model.dispose();
    return { losses, params, variant: core.variant, used: core.threads };
  } finally {
    core.dispose();
  }
}

describe('threads build', () => {
  it('is available under Node', () => {
    expect(threadsSupported()).toBe(true);
  });

  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    it(`${cell}: 2 and 3 threads train bit-identically to one`, async () => {
      const one = await train(1, cell);
      expect(one.variant).toBe('simd');
      for (const n of [2, 3]) {
        const many = await train(n, cell);
        expect(many.variant).toBe('threads');
        expect(many.used).toBe(n);
        expect(many.losses).toEqual(one.losses);
        for (let i = 0; i < one.params.length; i++) expect(Array.from(many.params[i])).toEqual(Array.from(one.params[i]));
      }
    });
  }

  it('rejects a bad thread count', async () => {
    await expect(loadCore({ threads: 0 })).rejects.toThrow(/threads/);
  });
});
