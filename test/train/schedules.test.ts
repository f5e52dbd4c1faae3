// Learning-rate schedules as torch.optim.lr_scheduler stepped once per update, and the Trainer
// using base lr × factor(updates so far).
import { describe, expect, it } from 'vitest';
import { makeSchedule } from '../../src/train/schedules.js';
import { Trainer } from '../../src/train/trainer.js';
import { makeModel } from '../helpers.js';

describe('schedules', () => {
  it('step: × gamma every stepSize updates', () => {
    const f = makeSchedule({ kind: 'step', stepSize: 3, gamma: 0.5 });
    expect([0, 1, 2, 3, 5, 6, 9].map(f)).toEqual([1, 1, 1, 0.5, 0.5, 0.25, 0.125]);
  });
  it('exponential: gamma^t', () => {
    const f = makeSchedule({ kind: 'exponential', gamma: 0.9 });
    for (const t of [0, 1, 5, 20]) expect(f(t)).toBeCloseTo(0.9 ** t, 15);
  });
  it('cosine: from 1 to minFactor over total updates, then flat', () => {
    const f = makeSchedule({ kind: 'cosine', total: 10, minFactor: 0.1 });
    expect(f(0)).toBeCloseTo(1, 15);
    expect(f(5)).toBeCloseTo(0.1 + 0.9 * 0.5, 15);
    expect(f(10)).toBeCloseTo(0.1, 15);
    expect(f(15)).toBeCloseTo(0.1, 15);
  });
  it('linear warm-up multiplies the decay: (t + 1)/warmup until warmup updates', () => {
    const f = makeSchedule({ kind: 'step', stepSize: 100, warmup: 4 });
    expect([0, 1, 2, 3, 4, 50].map(f)).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });
  it('rejects bad specs', () => {
    expect(() => makeSchedule({ kind: 'step', stepSize: 0 })).toThrow(/schedule.stepSize/);
    expect(() => makeSchedule({ kind: 'nope' } as never)).toThrow(/schedule.kind/);
    expect(() => makeSchedule({ kind: 'cosine', total: 10, warmup: -1 })).toThrow(/schedule.warmup/);
  });
  it('the Trainer steps with base lr × factor, and SGD moves by exactly that', async () => {
    const m = await makeModel('js64', { cell: 'rnn', inputSize: 2, hiddenSize: 3, outputSize: 1, seed: 1 });
    const t = new Trainer(m, {
      loss: { loss: 'mse', at: 'last' },
      optimizer: { name: 'sgd', lr: 0.1 },
      schedule: { kind: 'exponential', gamma: 0.5, warmup: 2 },
    });
    const batch = { x: [0.3, -0.2, 0.5, 0.1], y: [0.7], T: 2, B: 1 };
    const lrs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const g = m.lossAndGradients(batch, { loss: 'mse', at: 'last' }).grads['head.bias'][0];
      const before = m.getParameter('head.bias')[0];
      const r = t.step(batch);
      lrs.push(r.lr);
      expect(before - m.getParameter('head.bias')[0]).toBeCloseTo(r.lr * g, 14);
    }
    expect(lrs.map((v) => +v.toFixed(12))).toEqual([0.05, 0.05, 0.025, 0.0125]);
  });
});
