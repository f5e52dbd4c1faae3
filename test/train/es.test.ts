// Evolution strategies: reproducible from a seed, an estimate whose direction is the true
// gradient's, Salimans et al.'s centred ranks, and an optimizer that does reduce a loss.
import { describe, expect, it } from 'vitest';
import { sineBatch } from '../../src/data/tasks/sine.js';
import { ConfigError } from '../../src/errors.js';
import type { Batch } from '../../src/model/batch.js';
import type { Model } from '../../src/model/model.js';
import { centeredRanks, EvolutionStrategies } from '../../src/train/es.js';
import { lcg, makeModel, randInts, randn } from '../helpers.js';

function flat(m: Model): number[] {
  return m.parameterNames().flatMap((n) => Array.from(m.getParameter(n)));
}

function cosine(a: number[], b: number[]): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

const norm = (a: number[]): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

const tiny = { cell: 'rnn', inputSize: 1, hiddenSize: 3, outputSize: 1, seed: 4 } as const;

function tinyBatch(): Batch {
  const rand = lcg(9);
  return { T: 5, B: 2, x: randn(10, rand), y: randn(10, rand) };
}

describe('centred ranks', () => {
  it('match hand-computed cases', () => {
    // ranks 3, 0, 1.5, 1.5 (the tie shares ranks 1 and 2), over n − 1 = 3, minus 0.5
    expect(Array.from(centeredRanks([3, 1, 2, 2]))).toEqual([0.5, -0.5, 0, 0]);
    expect(Array.from(centeredRanks([5, -1]))).toEqual([0.5, -0.5]);
    expect(Array.from(centeredRanks([0.3, 0.1, 0.2, 0.9, 0.5]))).toEqual([0, -0.5, -0.25, 0.5, 0.25]);
    expect(Array.from(centeredRanks([7]))).toEqual([0]);
  });

  it('lie in [−0.5, 0.5], sum to 0, and depend only on the order', () => {
    const rand = lcg(3);
    const v = Array.from({ length: 17 }, () => rand());
    const r = centeredRanks(v);
    expect(Math.min(...r)).toBe(-0.5);
    expect(Math.max(...r)).toBe(0.5);
    expect(Math.abs(r.reduce((s, x) => s + x, 0))).toBeLessThan(1e-12);
    expect(Array.from(centeredRanks(v.map((x) => Math.exp(10 * x))))).toEqual(Array.from(r));
  });
});

describe('evolution strategies', () => {
  it('is deterministic: the same seed gives the same weights, another seed others', async () => {
    const run = async (seed: number) => {
      const m = await makeModel('js', tiny);
      const es = new EvolutionStrategies(m, { population: 4, sigma: 0.05, lr: 0.01, seed, loss: 'mse' });
      const losses = [0, 1, 2].map(() => es.step(tinyBatch()).loss);
      return { w: flat(m), losses };
    };
    const a = await run(1),
      b = await run(1),
      c = await run(2);
    expect(b.w).toEqual(a.w);
    expect(b.losses).toEqual(a.losses);
    expect(c.w).not.toEqual(a.w);
  });

  it('leaves the weights unchanged in estimate() and computes the loss as lossAndGradients does', async () => {
    const m = await makeModel('js64', { cell: 'lstm', inputSize: 2, hiddenSize: 3, outputSize: 3, seed: 2 });
    const rand = lcg(2);
    const batch: Batch = { T: 4, B: 3, x: randn(24, rand), y: randInts(12, 3, rand), lengths: [4, 2, 3], h0: randn(9, rand) };
    const before = flat(m);
    for (const [loss, at, reduction] of [
      ['cross-entropy', 'every', 'mean'],
      ['cross-entropy', 'last', 'sum'],
    ] as const) {
      const es = new EvolutionStrategies(m, { population: 3, sigma: 0.1, lr: 0.1, loss: { loss, at, reduction } });
      const y = at === 'every' ? batch.y : randInts(3, 3, rand);
      const b = { ...batch, y };
      expect(es.evaluate(b)).toBeCloseTo(m.lossAndGradients(b, { loss, at, reduction }).loss, 12);
      es.estimate(b);
      expect(flat(m)).toEqual(before);
    }
    const es = new EvolutionStrategies(m, { population: 2, sigma: 0.1, lr: 0.1, loss: 'mse' });
    const lm: Batch = { T: 2, B: 2, x: [1, 2, 3, 4, 5, 6, 7, 8], y: randn(12, rand), lossMask: [1, 0, 0, 1] };
    expect(es.evaluate(lm)).toBeCloseTo(m.lossAndGradients(lm, 'mse').loss, 12);
  });

  for (const fitnessShaping of ['none', 'centered-ranks'] as const) {
    it(`estimates the gradient's direction (${fitnessShaping}): cosine with BPTT's > 0.9`, async () => {
      const m = await makeModel('js64', tiny);
      const batch = tinyBatch();
      const truth = m.parameterNames().flatMap((n) => Array.from(m.lossAndGradients(batch, 'mse').grads[n]));
      // σ small enough that the loss is nearly linear over ±σε: the antithetic difference is then
      // 2σ·(∇E·ε) up to O(σ³), and the raw estimate is unbiased for ∇E
      const es = new EvolutionStrategies(m, { population: 3000, sigma: 1e-4, lr: 0, seed: 11, loss: 'mse', fitnessShaping });
      const est = es.estimate(batch);
      const g = m.parameterNames().flatMap((n) => Array.from(est.grads[n]));
      const cos = cosine(g, truth);
      console.log(`ES (${fitnessShaping}, N 3000, σ 1e-4): cosine ${cos.toFixed(4)}, ‖g‖/‖∇E‖ ${(norm(g) / norm(truth)).toFixed(3)}`);
      expect(cos).toBeGreaterThan(0.9);
      if (fitnessShaping === 'none') {
        // unbiased: with N pairs the relative error of the norm is about √(P/N) ≈ 0.07
        expect(norm(g) / norm(truth)).toBeGreaterThan(0.8);
        expect(norm(g) / norm(truth)).toBeLessThan(1.2);
      }
    });
  }

  it('reduces the loss of a small sine task (T = 5) with Adam, and with plain steps', async () => {
    const batch = sineBatch({ T: 5, B: 16, noise: 0 }, 3);
    for (const optimizer of ['adam', 'sgd'] as const) {
      const m = await makeModel('wasm', { ...tiny, hiddenSize: 5 });
      const es = new EvolutionStrategies(m, {
        population: 16,
        sigma: 0.05,
        lr: optimizer === 'adam' ? 0.03 : 0.05,
        seed: 5,
        loss: 'mse',
        optimizer,
      });
      const first = es.evaluate(batch);
      for (let i = 0; i < 150; i++) es.step(batch);
      const last = es.evaluate(batch);
      expect(es.steps).toBe(150);
      console.log(`ES ${optimizer} on sine T 5: MSE ${first.toFixed(4)} → ${last.toFixed(4)} in 150 steps`);
      expect(last, `${optimizer}: ${first} → ${last}`).toBeLessThan(0.5 * first);
      m.dispose();
    }
  });

  it('refuses unknown keys and values outside their domains', async () => {
    const m = await makeModel('js', tiny);
    const ok = { population: 2, sigma: 0.1, lr: 0.1, loss: 'mse' } as const;
    expect(() => new EvolutionStrategies(m, { ...ok, sigam: 0.1 } as never)).toThrow(/did you mean 'sigma'/);
    expect(() => new EvolutionStrategies(m, { ...ok, population: 0 })).toThrow(ConfigError);
    expect(() => new EvolutionStrategies(m, { ...ok, population: 1.5 })).toThrow(ConfigError);
    expect(() => new EvolutionStrategies(m, { ...ok, sigma: 0 })).toThrow(ConfigError);
    expect(() => new EvolutionStrategies(m, { ...ok, lr: -1 })).toThrow(ConfigError);
    expect(() => new EvolutionStrategies(m, { ...ok, optimizer: 'rmsprop' as never })).toThrow(ConfigError);
    expect(() => new EvolutionStrategies(m, { ...ok, loss: 'l1' as never })).toThrow(ConfigError);
    expect(() => new EvolutionStrategies(m, null as never)).toThrow(ConfigError);
  });
});
