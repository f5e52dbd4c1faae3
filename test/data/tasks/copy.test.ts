import { describe, expect, it } from 'vitest';
import { baselineLoss, copyBatch, copySizes, lossSpec } from '../../../src/data/tasks/copy.js';
import { InvalidArgumentError } from '../../../src/errors.js';

describe('copy task', () => {
  it('lays out symbols, blanks, GO and the recall steps, with a loss mask on the recall steps only', () => {
    const S = 4,
      D = 5,
      K = 6,
      B = 3;
    const b = copyBatch({ B, length: S, delay: D, symbols: K }, 7);
    const { T, blank, go, inputSize, outputSize } = copySizes({ length: S, delay: D, symbols: K });
    expect(T).toBe(2 * S + D);
    expect(b.T).toBe(T);
    expect([blank, go, inputSize, outputSize]).toEqual([K, K + 1, K + 2, K + 1]);
    expect(b.x.length).toBe(T * B);
    expect(b.y.length).toBe(T * B);
    expect(b.lossMask.length).toBe(T * B);
    expect(b.mask).toBeUndefined(); // a state mask would freeze the state: not this task's meaning
    for (let s = 0; s < B; s++) {
      const at = (t: number) => t * B + s;
      for (let t = 0; t < S; t++) {
        expect(b.x[at(t)]).toBeLessThan(K);
        expect(b.y[at(t)]).toBe(blank);
      }
      for (let t = S; t < S + D - 1; t++) expect(b.x[at(t)]).toBe(blank);
      expect(b.x[at(S + D - 1)]).toBe(go);
      for (let i = 0; i < S; i++) {
        const t = S + D + i;
        expect(b.x[at(t)]).toBe(blank);
        expect(b.y[at(t)]).toBe(b.x[at(i)]);
      }
      for (let t = 0; t < T; t++) expect(b.lossMask[at(t)]).toBe(t >= S + D ? 1 : 0);
    }
    expect(lossSpec).toEqual({ loss: 'cross-entropy', at: 'every' });
    expect(baselineLoss(8)).toBeCloseTo(Math.log(8), 12);
  });

  it('has defaults S = 10, D = 20, K = 8 and is reproducible', () => {
    const a = copyBatch({ B: 2 }, 1);
    expect(a.T).toBe(40);
    expect(Math.max(...a.x)).toBe(9);
    expect(copyBatch({ B: 2 }, 1)).toEqual(a);
    expect(copyBatch({ B: 2 }, 2).x).not.toEqual(a.x);
  });

  it('rejects bad options', () => {
    expect(() => copyBatch({ B: 2, delay: 0 })).toThrow(InvalidArgumentError);
    expect(() => copyBatch({ B: 2, symbols: 0 })).toThrow(/options.symbols/);
  });
});
