import { describe, expect, it } from 'vitest';
import { TokenStream } from '../../src/data/stream.js';
import { InvalidArgumentError } from '../../src/errors.js';

const iota = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('TokenStream', () => {
  it('splits the stream into B contiguous rows and returns time-major chunks with y = the next token', () => {
    // 101 tokens, B = 4: rows of 25 tokens starting at 0, 25, 50, 75; T = 5 → 5 chunks per epoch
    const s = new TokenStream(iota(101), { T: 5, B: 4 });
    expect(s.rowLength).toBe(25);
    expect(s.chunksPerEpoch).toBe(5);
    const c = s.next();
    expect(c.T).toBe(5);
    expect(c.B).toBe(4);
    for (let t = 0; t < 5; t++) {
      for (let b = 0; b < 4; b++) {
        expect(c.x[t * 4 + b]).toBe(b * 25 + t);
        expect(c.y[t * 4 + b]).toBe(b * 25 + t + 1);
      }
    }
  });

  it('continues each row across chunks and resets at the wrap', () => {
    const tokens = iota(101);
    const s = new TokenStream(tokens, { T: 5, B: 4 });
    const seen: number[][] = [[], [], [], []];
    const resets: boolean[] = [];
    for (let k = 0; k < 5; k++) {
      const c = s.next();
      resets.push(c.reset);
      for (let t = 0; t < c.T; t++) for (let b = 0; b < c.B; b++) seen[b].push(c.x[t * c.B + b]);
    }
    // each row read its own stretch of the stream, in order, without gaps
    for (let b = 0; b < 4; b++) expect(seen[b]).toEqual(Array.from({ length: 25 }, (_, i) => b * 25 + i));
    expect(resets).toEqual([true, false, false, false, false]);
    expect(s.epoch).toBe(1);
    expect(s.position).toBe(0);
    const again = s.next();
    expect(again.reset).toBe(true);
    expect(again.x[0]).toBe(0);
    expect(s.epoch).toBe(1);
    expect(s.position).toBe(1);
  });

  it('the last target of a chunk is the first input of the next one, per row', () => {
    const s = new TokenStream(iota(1000), { T: 7, B: 3 });
    const a = s.next();
    const lastY = Array.from(a.y.subarray(6 * 3, 7 * 3));
    const b = s.next();
    expect(Array.from(b.x.subarray(0, 3))).toEqual(lastY);
  });

  it('reuses its output arrays and chunk object', () => {
    const s = new TokenStream(iota(200), { T: 4, B: 2 });
    const a = s.next();
    const x = a.x,
      y = a.y;
    const b = s.next();
    expect(b).toBe(a);
    expect(b.x).toBe(x);
    expect(b.y).toBe(y);
  });

  it('drops the tail that does not fill a chunk', () => {
    const s = new TokenStream(iota(23), { T: 3, B: 2 }); // rows of 11 → 3 chunks, 2 tokens dropped per row
    expect(s.chunksPerEpoch).toBe(3);
    s.next();
    s.next();
    const c = s.next();
    expect(Array.from(c.x)).toEqual([6, 17, 7, 18, 8, 19]);
    expect(s.next().reset).toBe(true);
  });

  it('setPosition restores a checkpointed position exactly', () => {
    const tokens = Int32Array.from({ length: 500 }, (_, i) => (i * 7919) % 97);
    const a = new TokenStream(tokens, { T: 6, B: 4 });
    for (let i = 0; i < 13; i++) a.next();
    const saved = a.getPosition();
    expect(saved).toEqual({ epoch: a.epoch, position: a.position });
    const expected = Array.from(a.next().x);
    const b = new TokenStream(tokens, { T: 6, B: 4 });
    b.setPosition(saved.position, saved.epoch);
    expect(b.epoch).toBe(saved.epoch);
    expect(Array.from(b.next().x)).toEqual(expected);
    expect(() => b.setPosition(b.chunksPerEpoch)).toThrow(InvalidArgumentError);
    expect(() => b.setPosition(-1)).toThrow(InvalidArgumentError);
    expect(() => b.setPosition(0, 1.5)).toThrow(InvalidArgumentError);
  });

  it('rejects streams too short for one chunk, bad ids and bad sizes', () => {
    expect(() => new TokenStream(iota(20), { T: 5, B: 4 })).toThrow(/at least B·T \+ 1 = 21 tokens/);
    expect(() => new TokenStream(iota(21), { T: 5, B: 4 })).not.toThrow();
    expect(() => new TokenStream([0, 1, -1, 2, 3], { T: 1, B: 1 })).toThrow(/tokens\[2\]/);
    expect(() => new TokenStream([0, 1, 5, 2, 3], { T: 1, B: 1, vocabSize: 5 })).toThrow(InvalidArgumentError);
    expect(() => new TokenStream(iota(50), { T: 0, B: 1 })).toThrow(/options.T/);
    expect(() => new TokenStream(iota(50), { T: 2, B: 1.5 })).toThrow(/options.B/);
  });

  it('accepts plain arrays (copied)', () => {
    const arr = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const s = new TokenStream(arr, { T: 3, B: 3 });
    const c = s.next();
    expect(Array.from(c.x)).toEqual([3, 1, 2, 1, 5, 6, 4, 9, 5]);
    arr[0] = 0;
    expect(s.chunksPerEpoch).toBe(1);
    expect(s.next().x[0]).toBe(3);
  });
});

describe('TokenStream with Trainer.stepStateful', () => {
  it('its chunks drive stateful training', async () => {
    const { createModel } = await import('../../src/create.js');
    const { Trainer } = await import('../../src/train/trainer.js');
    const model = await createModel({ backend: 'js', cell: 'lstm', input: 'tokens', inputSize: 5, hiddenSize: 8, outputSize: 5, seed: 2 });
    const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.02 } });
    const tokens = Int32Array.from({ length: 401 }, (_, i) => i % 5);
    const s = new TokenStream(tokens, { T: 10, B: 4, vocabSize: 5 });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push(trainer.stepStateful(s.next()).loss);
    expect(s.epoch).toBe(3);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    trainer.dispose();
    model.dispose();
  });
});
