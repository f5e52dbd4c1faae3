import { describe, expect, it } from 'vitest';
import { BASELINE_MSE, addingBatch, constantMSE, inputSize, lossSpec, outputSize } from '../../../src/data/tasks/adding.js';
import { Rng } from '../../../src/model/rng.js';
import { InvalidArgumentError } from '../../../src/errors.js';

describe('adding problem', () => {
  it('has shapes x [T,B,2], y [B,1] and the loss at the last step', () => {
    const b = addingBatch({ T: 20, B: 7 }, 1);
    expect(b.T).toBe(20);
    expect(b.B).toBe(7);
    expect(b.x).toBeInstanceOf(Float32Array);
    expect(b.x.length).toBe(20 * 7 * inputSize);
    expect(b.y.length).toBe(7 * outputSize);
    expect(lossSpec).toEqual({ loss: 'mse', at: 'last' });
  });

  it('marks exactly two steps, one in each half, and the target is the sum of their values', () => {
    const T = 15,
      B = 50; // odd T: halves [0, 7) and [7, 15)
    const b = addingBatch({ T, B }, 42);
    for (let s = 0; s < B; s++) {
      const marked: number[] = [];
      let sum = 0;
      for (let t = 0; t < T; t++) {
        const v = b.x[(t * B + s) * 2],
          m = b.x[(t * B + s) * 2 + 1];
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(1);
        expect(m === 0 || m === 1).toBe(true);
        if (m === 1) {
          marked.push(t);
          sum += v;
        }
      }
      expect(marked.length).toBe(2);
      expect(marked[0]).toBeLessThan(7);
      expect(marked[1]).toBeGreaterThanOrEqual(7);
      expect(Array.from(b.markers.subarray(2 * s, 2 * s + 2))).toEqual(marked);
      expect(b.y[s]).toBeCloseTo(sum, 6);
    }
  });

  it('is reproducible from a seed, and an Rng continues the stream', () => {
    expect(addingBatch({ T: 10, B: 3 }, 5)).toEqual(addingBatch({ T: 10, B: 3 }, 5));
    expect(addingBatch({ T: 10, B: 3 }, 5).x).not.toEqual(addingBatch({ T: 10, B: 3 }, 6).x);
    const rng = new Rng(9);
    const a = addingBatch({ T: 10, B: 3 }, rng),
      b = addingBatch({ T: 10, B: 3 }, rng);
    expect(a.x).not.toEqual(b.x);
    const again = new Rng(9);
    expect(addingBatch({ T: 10, B: 3 }, again)).toEqual(a);
  });

  it('always answering 1 scores about 1/6', () => {
    const b = addingBatch({ T: 30, B: 20000 }, 3);
    expect(BASELINE_MSE).toBeCloseTo(0.1667, 4);
    expect(Math.abs(constantMSE(b.y, 1) - BASELINE_MSE)).toBeLessThan(0.01);
  });

  it('rejects bad sizes', () => {
    expect(() => addingBatch({ T: 1, B: 2 })).toThrow(InvalidArgumentError);
    expect(() => addingBatch({ T: 5, B: 0 })).toThrow(/options.B/);
    expect(() => addingBatch({ T: 5, B: 2 }, -1)).toThrow(/rng/);
  });
});
