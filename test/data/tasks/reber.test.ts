import { describe, expect, it } from 'vitest';
import {
  SYMBOLS,
  allowedAccuracy,
  embeddedReber,
  isEmbeddedReber,
  lossSpec,
  reberBatch,
  reberText,
} from '../../../src/data/tasks/reber.js';
import { Rng } from '../../../src/model/rng.js';

describe('embedded Reber grammar', () => {
  it('recognises known strings and refuses broken ones', () => {
    expect(isEmbeddedReber('BTBTXSETE')).toBe(true);
    expect(isEmbeddedReber('BPBPVVEPE')).toBe(true);
    expect(isEmbeddedReber('BTBTSSXXTVVETE')).toBe(true);
    expect(isEmbeddedReber('BTBTXSEPE')).toBe(false); // the wrapper must repeat
    expect(isEmbeddedReber('BTBTXXETE')).toBe(false);
    expect(isEmbeddedReber('BTBTXSE')).toBe(false);
  });

  it('generates grammatical strings whose allowed sets contain the actual next symbol', () => {
    const rng = new Rng(4);
    for (let i = 0; i < 200; i++) {
      const { ids, next } = embeddedReber(rng);
      expect(isEmbeddedReber(reberText(ids))).toBe(true);
      for (let t = 0; t + 1 < ids.length; t++) expect(next[t] & (1 << ids[t + 1])).not.toBe(0);
      // the only prediction that needs the long memory is forced: one allowed symbol, the wrapper
      expect(next[ids.length - 3]).toBe(1 << ids[1]);
    }
  });

  it('pads a batch with lengths: x [T,B], y = next symbol, allowed [T,B,7]', () => {
    const B = 16;
    const b = reberBatch({ B }, 11);
    expect(b.lengths.length).toBe(B);
    expect(b.T).toBe(Math.max(...b.lengths));
    expect(b.x.length).toBe(b.T * B);
    expect(b.y.length).toBe(b.T * B);
    expect(b.allowed.length).toBe(b.T * B * 7);
    for (let s = 0; s < B; s++) {
      const n = b.lengths[s];
      const ids = [...Array.from({ length: n }, (_, t) => b.x[t * B + s]), b.y[(n - 1) * B + s]];
      expect(isEmbeddedReber(reberText(ids))).toBe(true);
      for (let t = 0; t < n; t++) {
        expect(b.x[(t + 1) * B + s] === b.y[t * B + s] || t === n - 1).toBe(true);
        expect(b.allowed[(t * B + s) * 7 + b.y[t * B + s]]).toBe(1);
      }
      for (let t = n; t < b.T; t++) for (let k = 0; k < 7; k++) expect(b.allowed[(t * B + s) * 7 + k]).toBe(0);
    }
    expect(lossSpec).toEqual({ loss: 'cross-entropy', at: 'every' });
    expect(SYMBOLS).toBe('BTPSXVE');
  });

  it('is reproducible, respects maxLength, and scores allowed predictions', () => {
    expect(reberBatch({ B: 5 }, 3)).toEqual(reberBatch({ B: 5 }, 3));
    const short = reberBatch({ B: 50, maxLength: 12 }, 5);
    expect(Math.max(...short.lengths)).toBeLessThanOrEqual(11);
    // logits that put all mass on the true next symbol are always allowed
    const b = reberBatch({ B: 4 }, 8);
    const logits = new Float32Array(b.T * b.B * 7);
    for (let i = 0; i < b.T * b.B; i++) logits[i * 7 + b.y[i]] = 5;
    expect(allowedAccuracy(logits, b)).toBe(1);
  });
});
