import { describe, expect, it } from 'vitest';
import { lossSpec, persistenceMSE, sineBatch } from '../../../src/data/tasks/sine.js';
import { InvalidArgumentError } from '../../../src/errors.js';

describe('noisy sine', () => {
  it('has x, y [T,B,1] with y_t = x_{t+1} (noisy targets)', () => {
    const T = 30,
      B = 4;
    const b = sineBatch({ T, B }, 2);
    expect(b.x.length).toBe(T * B);
    expect(b.y.length).toBe(T * B);
    for (let t = 0; t + 1 < T; t++) for (let s = 0; s < B; s++) expect(b.y[t * B + s]).toBe(b.x[(t + 1) * B + s]);
    expect(lossSpec).toEqual({ loss: 'mse', at: 'every' });
  });

  it('without noise is an exact sine; clean targets differ from noisy ones', () => {
    const b = sineBatch({ T: 200, B: 2, noise: 0 }, 1);
    for (let i = 0; i < b.x.length; i++) expect(Math.abs(b.x[i])).toBeLessThanOrEqual(1);
    const noisy = sineBatch({ T: 50, B: 2, noise: 0.3 }, 1);
    const clean = sineBatch({ T: 50, B: 2, noise: 0.3, cleanTargets: true }, 1);
    expect(clean.x).toEqual(noisy.x);
    expect(clean.y).not.toEqual(noisy.y);
    expect(persistenceMSE(noisy)).toBeGreaterThan(0);
  });

  it('is reproducible and checks options', () => {
    expect(sineBatch({ T: 10, B: 3 }, 7)).toEqual(sineBatch({ T: 10, B: 3 }, 7));
    expect(() => sineBatch({ T: 10, B: 3, noise: -1 })).toThrow(InvalidArgumentError);
    expect(() => sineBatch({ T: 10, B: 3, minPeriod: 20, maxPeriod: 10 })).toThrow(/maxPeriod/);
  });
});
