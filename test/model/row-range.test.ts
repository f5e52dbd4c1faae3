// The layer descriptor's row range [b0, b1): a cell kernel called for a range runs the time loops
// of those rows only, with the same bits as the whole-batch call (the threads build's batch split
// runs each thread's block this way). Two calls over [0, k) and [k, B) must rebuild the whole
// call's states and BPTT results exactly; a partial backward leaves the weight gradients alone.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelSync, type CreateModelOptions } from '../../src/create.js';
import { BackendError } from '../../src/errors.js';
import { CORE_FILES, instantiateCoreSync } from '../../src/runtime/core.js';
import { lcg, randn } from '../helpers.js';

const core = instantiateCoreSync(readFileSync(new URL(`../../build/${CORE_FILES.simd}`, import.meta.url)), 'simd');
afterAll(() => core.dispose());

const T = 4,
  B = 13,
  I = 3,
  H = 7;
const CASES: Array<[string, Partial<CreateModelOptions>]> = [
  ['rnn', { cell: 'rnn' }],
  ['lstm', { cell: 'lstm' }],
  ['lstm with projection', { cell: 'lstm', projSize: 3 }],
  ['gru', { cell: 'gru' }],
];

describe('a cell kernel over a row range [b0, b1) gives the whole call’s bits for those rows', () => {
  for (const [name, opts] of CASES) {
    it(`${name}: forward and BPTT over [0, 5) then [5, 13) equal the whole batch; the partial backward adds no weight gradient`, () => {
      const m = createModelSync({ inputSize: I, hiddenSize: H, outputSize: 2, seed: 3, core, ...opts } as CreateModelOptions);
      const rand = lcg(4);
      const mask = Array.from({ length: T * B }, (_, i) => (i < B || rand() > 0.3 ? 1 : 0));
      // lays out the arena and leaves layer 0's descriptor with x and the mask of this batch
      m.predict({ x: randn(T * B * I, rand), T, B, mask });
      const k = m.kernels,
        f = () => k.memory.f;
      const w = m.net.prepare(T, B),
        lw = w.layers[0],
        p = m.net.params.layers[0],
        desc = lw.desc;
      const G = { rnn: 1, lstm: 4, gru: 3 }[opts.cell!] * H,
        R = opts.projSize ?? H;
      const forward = { rnn: k.rnnForward, lstm: k.lstmForward, gru: k.gruForward }[opts.cell!].bind(k);
      const backward = { rnn: k.rnnBackward, lstm: k.lstmBackward, gru: k.gruBackward }[opts.cell!].bind(k);
      // what the kernels write, as [offset, floats]
      const outputs: Array<[string, number, number]> = [
        ['hs', lw.hs, (T + 1) * B * R],
        ['cs', lw.cs, opts.cell === 'lstm' ? (T + 1) * B * H : 0],
        ['ms', lw.ms, opts.projSize ? T * B * H : 0],
        ['gates', lw.gates, opts.cell === 'rnn' ? 0 : T * B * G],
        ['rn', lw.rn, opts.cell === 'gru' ? T * B * H : 0],
        ['dR', lw.dR, opts.cell === 'gru' ? T * B * G : 0],
        ['dhp', lw.dhp, opts.projSize ? T * B * R : 0],
        ['dhs', w.dhsA, T * B * R],
        ['dh', lw.dh, B * R],
        ['dc', lw.dc, opts.cell === 'lstm' ? B * H : 0],
      ];
      const grads: Array<[string, number, number]> = [
        ['dwih', p.dwih, G * I],
        ['dwhh', p.dwhh, G * R],
        ['dbih', p.dbih, G],
        ['dbhh', p.dbhh, G],
      ];
      const snap = (list: Array<[string, number, number]>) => list.map(([n, o, len]) => [n, Array.from(f().subarray(o, o + len))] as const);
      const restore = (s: ReturnType<typeof snap>, list: Array<[string, number, number]>) => {
        for (let i = 0; i < s.length; i++) f().set(s[i][1], list[i][1]);
      };
      // rows [5, B) of every step of a [steps, B, n] tensor
      const tail = (o: number, steps: number, n: number) =>
        Array.from({ length: steps }, (_, t) => Array.from(f().subarray(o + (t * B + 5) * n, o + (t + 1) * B * n)));
      const ranged = (run: (d: number) => void, o: number, steps: number, n: number) => {
        const untouched = tail(o, steps, n);
        for (const [b0, b1] of [
          [0, 5],
          [5, 13],
        ]) {
          k.setLayerField(desc, 'b0', b0);
          k.setLayerField(desc, 'b1', b1);
          run(desc);
          // the first range leaves the other rows alone
          if (b0 === 0) expect(tail(o, steps, n)).toEqual(untouched);
        }
        k.setLayerField(desc, 'b0', 0);
        k.setLayerField(desc, 'b1', 0);
      };
      // inputs of the backward from above and beyond the sequence
      f().set(randn(T * B * R, rand), w.dhsA);
      f().set(randn(B * R, rand), lw.dh);
      if (opts.cell === 'lstm') f().set(randn(B * H, rand), lw.dc);
      k.setLayerField(desc, 'dhs', w.dhsA);
      k.setLayerField(desc, 'dx', 0);
      k.setLayerField(desc, 'dhnorm', 0);
      const before = snap(outputs);

      forward(desc);
      const whole = snap(outputs);
      restore(before, outputs);
      // h_1 … h_T poisoned: each range must write its own rows, and only those
      f().fill(7, lw.hs + B * R, lw.hs + (T + 1) * B * R);
      ranged(forward, lw.hs + B * R, T, R);
      expect(snap(outputs)).toEqual(whole);

      const gradsBefore = snap(grads);
      backward(desc);
      const wholeBack = snap(outputs);
      const gradsWhole = snap(grads);
      expect(gradsWhole).not.toEqual(gradsBefore);
      restore(whole, outputs);
      restore(gradsBefore, grads);
      ranged(backward, lw.dh, 1, R);
      expect(snap(outputs)).toEqual(wholeBack);
      expect(snap(grads)).toEqual(gradsBefore);
      m.dispose();
    });
  }

  it('the js backend, a whole-batch reference, refuses a partial range', () => {
    const m = createModelSync({ cell: 'gru', inputSize: I, hiddenSize: H, outputSize: 2, seed: 3, backend: 'js' });
    m.predict({ x: randn(T * B * I, lcg(1)), T, B });
    const desc = m.net.prepare(T, B).layers[0].desc;
    m.kernels.setLayerField(desc, 'b1', B);
    m.kernels.gruForward(desc);
    m.kernels.setLayerField(desc, 'b0', 4);
    expect(() => m.kernels.gruForward(desc)).toThrow(BackendError);
    m.dispose();
  });
});
