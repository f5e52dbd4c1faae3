// The threads builds: a pool of worker_threads splits the large products; every output element
// is still computed by one thread in the single-threaded order, so training is bit-identical to
// the single-threaded build of the same arithmetic (threads ≡ simd; threads-relaxed ≡ relaxed),
// and the fused build stays within float rounding of the mul+add one.
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/create.js';
import { relaxedSimdSupported } from '../../src/runtime/core.js';
import { loadCore } from '../../src/runtime/load.js';
import { threadsSupported } from '../../src/runtime/threads.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, randInts } from '../helpers.js';

async function train(
  threads: number,
  cell: 'lstm' | 'gru' | 'rnn',
  variant: 'simd' | 'relaxed' = 'simd',
): Promise<{ losses: number[]; params: Float32Array[]; variant: string; used: number }> {
  const core = await loadCore({ threads, variant });
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

  // the test worker runs with relaxed SIMD on (test/setup/relaxed-simd.ts, as the Node entry does)
  it('relaxed SIMD is on in Node (the fused builds are testable here)', () => {
    expect(relaxedSimdSupported()).toBe(true);
  });

  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}: the fused threads build trains bit-identically to the fused single-threaded one, and within rounding of mul+add`, async () => {
      const one = await train(1, cell, 'relaxed');
      expect(one.variant).toBe('relaxed');
      const many = await train(2, cell, 'relaxed');
      expect(many.variant).toBe('threads-relaxed');
      expect(many.used).toBe(2);
      expect(many.losses).toEqual(one.losses);
      for (let i = 0; i < one.params.length; i++) expect(Array.from(many.params[i])).toEqual(Array.from(one.params[i]));
      // against the mul+add threads build: FMA rounds once instead of twice, nothing more
      const plain = await train(2, cell, 'simd');
      expect(plain.variant).toBe('threads');
      let differs = false;
      for (let s = 0; s < one.losses.length; s++)
        expect(Math.abs(many.losses[s] - plain.losses[s])).toBeLessThan(1e-4 * Math.abs(plain.losses[s]));
      for (let i = 0; i < one.params.length; i++) {
        for (let j = 0; j < one.params[i].length; j++) {
          const a = many.params[i][j],
            b = plain.params[i][j];
          expect(Math.abs(a - b), `${i}[${j}]`).toBeLessThan(1e-4 + 1e-4 * Math.abs(b));
          if (a !== b) differs = true;
        }
      }
      // the two builds really are different arithmetic (else this test would compare a build with itself)
      expect(differs).toBe(true);
    });
  }

  it('rejects a bad thread count', async () => {
    await expect(loadCore({ threads: 0 })).rejects.toThrow(/threads/);
  });
});
