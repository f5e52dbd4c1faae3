// Truncated BPTT (Williams & Peng) and stateful chunks, on the float64 js backend so that
// "equal" can mean equal to 1e-12.
import { describe, expect, it } from 'vitest';
import { Trainer } from '../../src/train/trainer.js';
import type { Model } from '../../src/model/model.js';
import { lcg, makeModel, randInts, randn, relErr } from '../helpers.js';

const cfg = { inputSize: 3, hiddenSize: 5, outputSize: 4, seed: 7 } as const;

function params(m: Model): Float64Array {
  const parts = m.parameterNames().map((n) => Array.from(m.getParameter(n)));
  return Float64Array.from(parts.flat());
}

for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  describe(`TBPTT ${cell}`, () => {
    it('k1 = k2 = T equals full BPTT exactly', async () => {
      const rand = lcg(1);
      const T = 7,
        B = 3;
      const x = randn(T * B * 3, rand),
        y = randInts(T * B, 4, rand);
      const a = await makeModel('js64', { ...cfg, cell });
      const b = await makeModel('js64', { ...cfg, cell });
      const ta = new Trainer(a, { loss: 'cross-entropy', optimizer: { name: 'sgd', lr: 0.1 } });
      const tb = new Trainer(b, { loss: 'cross-entropy', optimizer: { name: 'sgd', lr: 0.1 }, tbptt: { k1: T, k2: T } });
      const ra = ta.step({ x, y, T, B });
      const rb = tb.stepStateful({ x, y, T, B });
      expect(rb.loss).toBe(ra.loss);
      expect(Array.from(params(b))).toEqual(Array.from(params(a)));
    });

    it('TBPTT(k1, k2) gradients equal a hand-truncated window, and state carries over', async () => {
      const rand = lcg(2);
      const k1 = 2,
        k2 = 5,
        B = 2,
        chunks = 5,
        I = 3,
        H = 5;
      const T = k1 * chunks;
      const x = randn(T * B * I, rand),
        y = randInts(T * B, 4, rand);
      // lr 1 SGD: the parameter change of each update is minus its gradient
      const m = await makeModel('js64', { ...cfg, cell });
      const ref = await makeModel('js64', { ...cfg, cell });
      const trainer = new Trainer(m, { loss: 'cross-entropy', optimizer: { name: 'sgd', lr: 1 }, tbptt: { k1, k2 } });
      // by hand: window c covers [s, e), e = (c+1)·k1, s = max(0, e − k2), and starts from the state
      // that window c−1 (with its own, older weights) reached at s; gradients stop at s
      let s = 0;
      let h: ArrayLike<number> = new Float64Array(H * B);
      let c0: ArrayLike<number> | undefined = cell === 'lstm' ? new Float64Array(H * B) : undefined;
      for (let c = 0; c < chunks; c++) {
        ref.loadStateDict(m.stateDict());
        const before = params(m);
        const e = (c + 1) * k1;
        trainer.stepStateful({ x: x.subarray((e - k1) * B * I, e * B * I), y: y.subarray((e - k1) * B, e * B), T: k1, B });
        const step = params(m).map((v, i) => before[i] - v);
        const Tw = e - s;
        const lossMask = new Float64Array(Tw * B).fill(1, (Tw - k1) * B);
        const g = ref.lossAndGradients(
          {
            x: x.subarray(s * B * I, e * B * I),
            y: y.subarray(s * B, e * B),
            T: Tw,
            B,
            lossMask,
            h0: h,
            c0,
          },
          'cross-entropy',
        );
        const flat = Float64Array.from(ref.parameterNames().flatMap((n) => Array.from(g.grads[n])));
        expect(relErr(step, flat, 1e-6)).toBeLessThan(1e-9);
        const next = Math.max(0, e + k1 - k2);
        if (next > s) {
          const p = ref.predict({ x: x.subarray(s * B * I, next * B * I), T: next - s, B, h0: h, c0 });
          h = p.hN;
          c0 = p.cN ?? undefined;
          s = next;
        }
        // the trainer carries exactly that state
        expect(relErr(trainer.getCarriedState()!.h, h, 1e-6)).toBeLessThan(1e-12);
      }
    });

    it('stateful chunks carry the state: two chunks = one uninterrupted forward pass', async () => {
      const rand = lcg(3);
      const T = 4,
        B = 2;
      const x = randn(2 * T * B * 3, rand),
        y = randInts(2 * T * B, 4, rand);
      const m = await makeModel('js64', { ...cfg, cell });
      const whole = m.predict({ x, T: 2 * T, B });
      // a trainer with lr 0 changes nothing, so its carried state must match the uninterrupted pass
      const trainer = new Trainer(m, { loss: 'cross-entropy', optimizer: { name: 'sgd', lr: 0 } });
      trainer.stepStateful({ x: x.subarray(0, T * B * 3), y: y.subarray(0, T * B), T, B });
      trainer.stepStateful({ x: x.subarray(T * B * 3), y: y.subarray(T * B), T, B });
      const carried = trainer.getCarriedState()!;
      expect(relErr(carried.h, whole.hN, 1e-6)).toBeLessThan(1e-6);
      trainer.resetState();
      expect(trainer.getCarriedState()).toBeNull();
    });
  });
}
