import { describe, expect, it } from 'vitest';
import { lengthsToMask, padSequences, padTargets, padTokens } from '../../src/data/padding.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('padSequences', () => {
  it('pads at the end, time-major [T,B,F], with the lengths', () => {
    // three sequences of 2, 3 and 1 steps with 2 features each
    const p = padSequences([[1, 2, 3, 4], Float32Array.of(5, 6, 7, 8, 9, 10), [11, 12]], 2);
    expect(p.T).toBe(3);
    expect(p.B).toBe(3);
    expect(Array.from(p.lengths)).toEqual([2, 3, 1]);
    expect(p.x).toBeInstanceOf(Float32Array);
    // t = 0: seq0 (1,2), seq1 (5,6), seq2 (11,12); t = 1: (3,4), (7,8), pad; t = 2: pad, (9,10), pad
    expect(Array.from(p.x)).toEqual([1, 2, 5, 6, 11, 12, 3, 4, 7, 8, 0, 0, 0, 0, 9, 10, 0, 0]);
  });

  it('honours padValue and a fixed length', () => {
    const p = padSequences([[1], [2, 3]], 1, { padValue: -1, length: 4 });
    expect(p.T).toBe(4);
    expect(Array.from(p.x)).toEqual([1, 2, -1, 3, -1, -1, -1, -1]);
    expect(() => padSequences([[1, 2, 3]], 1, { length: 2 })).toThrow(/options.length/);
  });

  it('rejects empty sequences, lengths that are not a multiple of F, and non-finite values', () => {
    expect(() => padSequences([], 1)).toThrow(InvalidArgumentError);
    expect(() => padSequences([[1], []], 1)).toThrow(/seqs\[1\]/);
    expect(() => padSequences([[1, 2, 3]], 2)).toThrow(/multiple of featureSize 2/);
    expect(() => padSequences([[1, NaN]], 1)).toThrow(/seqs\[0\]: element 1 is NaN/);
    expect(() => padSequences([[1]], 0)).toThrow(/featureSize/);
  });
});

describe('padTokens / padTargets', () => {
  it('pads ids into Int32Array [T,B]', () => {
    const p = padTokens([[4, 5, 6], [7]]);
    expect(p.x).toBeInstanceOf(Int32Array);
    expect(Array.from(p.x)).toEqual([4, 7, 5, 0, 6, 0]);
    expect(Array.from(p.lengths)).toEqual([3, 1]);
    expect(() => padTokens([[1.5]])).toThrow(InvalidArgumentError);
    expect(() => padTokens([[-1]])).toThrow(InvalidArgumentError);
  });

  it('class-id targets without featureSize, float targets [T,B,O] with it', () => {
    const ids = padTargets([[1, 2], [3]]);
    expect(ids.y).toBeInstanceOf(Int32Array);
    expect(Array.from(ids.y)).toEqual([1, 3, 2, 0]);
    const vals = padTargets(
      [
        [0.5, 1.5],
        [2.5, 3.5, 4.5, 5.5],
      ],
      2,
    );
    expect(vals.y).toBeInstanceOf(Float32Array);
    expect(vals.T).toBe(2);
    expect(Array.from(vals.y)).toEqual([0.5, 1.5, 2.5, 3.5, 0, 0, 4.5, 5.5]);
    expect(Array.from(vals.lengths)).toEqual([1, 2]);
  });

  it('lengthsToMask gives the prefix mask [T,B]', () => {
    expect(Array.from(lengthsToMask([2, 3, 1], 3))).toEqual([1, 1, 1, 1, 1, 0, 0, 1, 0]);
  });
});

describe('a padded batch in a model', () => {
  it('gives each sequence the final state it has alone (js backend)', async () => {
    const { createModel } = await import('../../src/create.js');
    const model = await createModel({ backend: 'js', cell: 'gru', inputSize: 2, hiddenSize: 3, outputSize: 1, seed: 3 });
    const seqs = [
      [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
      [0.7, 0.8],
      [0.9, 1.0, 1.1, 1.2],
    ];
    const p = padSequences(seqs, 2);
    const all = model.predict({ x: p.x, T: p.T, B: p.B, lengths: p.lengths });
    seqs.forEach((s, b) => {
      const alone = model.predict({ x: s, T: s.length / 2, B: 1 });
      for (let h = 0; h < 3; h++) expect(all.hN[b * 3 + h]).toBeCloseTo(alone.hN[h], 6);
    });
    model.dispose();
  });
});
