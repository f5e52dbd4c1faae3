// batchFirst: the model declares batch-major [B,T,…] data (PyTorch's batch_first), and every
// array indexed by step and sequence goes in and comes out that way.
//  * a batch-first model on batch-major data computes bit for bit what the time-major model
//    computes on the transposed data: predictions, outputs, final states, the loss, every
//    gradient, ∂E/∂x, with lengths, masks, lossMask, bidirectional, and through Trainer steps;
//  * fit, evaluate and token streams keep working: the data helpers' batches say they are time-major;
//  * nested arrays whose shape is not the declared layout are refused, naming the argument and both shapes.
import { describe, expect, it } from 'vitest';
import { SequenceDataset, type SequenceExample } from '../../src/data/dataset.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { Rng } from '../../src/model/rng.js';
import { fit } from '../../src/train/fit.js';
import { EvolutionStrategies } from '../../src/train/es.js';
import { evaluate } from '../../src/train/metrics.js';
import { rtrlGradients } from '../../src/train/rtrl.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, makeModel, randInts, randn, type BackendName } from '../helpers.js';
import { layerConfig } from './layer-helpers.js';

/** [T,B,F] ↔ [B,T,F] (the same function both ways with T and B swapped). */
function swap(a: ArrayLike<number>, T: number, B: number, F: number): number[] {
  const out = new Array<number>(T * B * F);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) out[(b * T + t) * F + f] = a[(t * B + b) * F + f];
  return out;
}

const T = 5,
  B = 3,
  I = 4,
  H = 7,
  O = 2;

describe('a batch-first model on batch-major data = the time-major model on the transposed data', () => {
  for (const backend of ['js', 'wasm'] as BackendName[]) {
    for (const bidirectional of [false, true]) {
      it(`${backend}${bidirectional ? ', bidirectional' : ''}: forward, backward, loss and gradients with lengths and lossMask`, async () => {
        const cfg = { ...layerConfig({ cell: 'lstm' }, I, H, O, 2), bidirectional };
        const tm = await makeModel(backend, cfg);
        const bf = await makeModel(backend, { ...cfg, batchFirst: true });
        const D = bidirectional ? 2 : 1;
        const rand = lcg(3);
        const x = randn(T * B * I, rand),
          y = randn(T * B * O, rand),
          lossMask = Array.from({ length: T * B }, (_, i) => (i % 4 === 1 ? 0 : 1));
        const lengths = [2, 5, 4];
        const time = { x, T, B, lengths },
          batch = { x: swap(x, T, B, I), T, B, lengths };
        // predictions and the layer API
        expect(Array.from(bf.predict(batch).y)).toEqual(swap(tm.predict(time).y, T, B, O));
        const ft = tm.forward(time),
          fb = bf.forward(batch);
        expect(Array.from(fb.outputs)).toEqual(swap(ft.outputs, T, B, D * H));
        expect(Array.from(fb.hN)).toEqual(Array.from(ft.hN)); // states are [L·D,B,H] in both layouts
        const dOut = randn(T * B * D * H, rand),
          dy = randn(T * B * O, rand);
        const gt = tm.backward({ dOutputs: dOut, dy }),
          gb = bf.backward({ dOutputs: swap(dOut, T, B, D * H), dy: swap(dy, T, B, O) });
        expect(Array.from(gb.dx!)).toEqual(swap(gt.dx!, T, B, I));
        expect(gb.grads).toEqual(gt.grads);
        // the built-in loss, targets and lossMask batch-major
        const lt = tm.lossAndGradients({ ...time, y, lossMask }, 'mse'),
          lb = bf.lossAndGradients({ ...batch, y: swap(y, T, B, O), lossMask: swap(lossMask, T, B, 1) }, 'mse');
        expect(lb.loss).toBe(lt.loss);
        expect(lb.grads).toEqual(lt.grads);
        expect(Array.from(lb.dx!)).toEqual(swap(lt.dx!, T, B, I));
        tm.dispose();
        bf.dispose();
      });
    }
  }

  it('token input, a mask [B,T], cross-entropy at every step, and Trainer steps', async () => {
    const cfg = { ...layerConfig({ cell: 'gru' }, 6, 5, 6, 2, 'tokens'), dropout: 0.2 };
    const tm = await makeModel('wasm', cfg),
      bf = await makeModel('wasm', { ...cfg, batchFirst: true });
    const tt = new Trainer(tm, { loss: 'cross-entropy' }),
      tb = new Trainer(bf, { loss: 'cross-entropy' });
    for (let i = 0; i < 3; i++) {
      const rand = lcg(10 + i);
      const x = randInts(T * B, 6, rand),
        y = randInts(T * B, 6, rand);
      const mask = [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1];
      const a = tt.step({ x, y, mask, T, B }),
        b = tb.step({ x: swap(x, T, B, 1), y: swap(y, T, B, 1), mask: swap(mask, T, B, 1), T, B });
      expect(b.loss).toBe(a.loss);
    }
    expect(bf.stateDict()).toEqual(tm.stateDict());
    tm.dispose();
    bf.dispose();
  });

  it('at the last step the targets and predictions are [B,…] in both layouts', async () => {
    const cfg = layerConfig({ cell: 'rnn' }, I, H, O, 1);
    const tm = await makeModel('js', cfg),
      bf = await makeModel('js', { ...cfg, batchFirst: true });
    const x = randn(T * B * I, lcg(1)),
      y = randn(B * O, lcg(2));
    const a = tm.lossAndGradients({ x, y, T, B }, { loss: 'mse', at: 'last' }),
      b = bf.lossAndGradients({ x: swap(x, T, B, I), y, T, B }, { loss: 'mse', at: 'last' });
    expect(b.loss).toBe(a.loss);
    expect(Array.from(b.y)).toEqual(Array.from(a.y));
    tm.dispose();
    bf.dispose();
  });
});

describe("the data helpers' batches are time-major and say so", () => {
  it('fit and evaluate train a batch-first model exactly as a time-major one', async () => {
    const rng = new Rng(5);
    const examples: SequenceExample[] = [];
    for (let j = 0; j < 24; j++) {
      const len = 2 + rng.int(7);
      const x = new Float32Array(len * 2).map(() => rng.normal());
      examples.push({ x, y: x[0] > 0 ? 1 : 0 });
    }
    const data = new SequenceDataset(examples, { inputSize: 2, target: 'classes', targetSize: 2, at: 'last' });
    const cfg = layerConfig({ cell: 'gru' }, 2, 5, 2, 1);
    const results = [];
    for (const batchFirst of [false, true]) {
      const model = await makeModel('js', { ...cfg, batchFirst });
      const trainer = new Trainer(model, { loss: { loss: 'cross-entropy', at: 'last' } });
      const h = await fit(trainer, data, { epochs: 2, batchSize: 8, seed: 1 });
      results.push({ h, state: model.stateDict(), eval: evaluate(model, data, { loss: trainer.loss, metrics: ['accuracy'] }) });
      model.dispose();
    }
    expect(results[1].state).toEqual(results[0].state);
    expect(results[1].eval).toEqual(results[0].eval);
  });

  it('batch.layout overrides the model’s layout for one batch; another value is refused', async () => {
    const cfg = layerConfig({ cell: 'rnn' }, I, H, O, 1);
    const tm = await makeModel('js', cfg),
      bf = await makeModel('js', { ...cfg, batchFirst: true });
    const x = randn(T * B * I, lcg(1));
    expect(Array.from(bf.predict({ x, T, B, layout: 'time-major' }).y)).toEqual(Array.from(tm.predict({ x, T, B }).y));
    expect(Array.from(tm.predict({ x: swap(x, T, B, I), T, B, layout: 'batch-major' }).y)).toEqual(
      swap(tm.predict({ x, T, B }).y, T, B, O),
    );
    expect(() => tm.predict({ x, T, B, layout: 'batch_first' as never })).toThrow(/batch\.layout.*"time-major" or "batch-major"/);
    tm.dispose();
    bf.dispose();
  });
});

describe('nested arrays', () => {
  const nest = (a: ArrayLike<number>, d0: number, d1: number, d2: number) =>
    Array.from({ length: d0 }, (_, i) =>
      Array.from({ length: d1 }, (_, j) => Array.from({ length: d2 }, (_, k) => a[(i * d1 + j) * d2 + k])),
    );

  it('of the declared shape read as the flat array', async () => {
    const tm = await makeModel('js', layerConfig({ cell: 'rnn' }, I, H, O, 1)),
      bf = await makeModel('js', { ...layerConfig({ cell: 'rnn' }, I, H, O, 1), batchFirst: true });
    const x = randn(T * B * I, lcg(4));
    expect(tm.predict({ x: nest(x, T, B, I) as never, T, B }).y).toEqual(tm.predict({ x, T, B }).y);
    const xb = swap(x, T, B, I);
    expect(bf.predict({ x: nest(xb, B, T, I) as never, T, B }).y).toEqual(bf.predict({ x: xb, T, B }).y);
    tm.dispose();
    bf.dispose();
  });

  it('of the other layout are refused, naming the argument, the declared shape and the shape found', async () => {
    const tm = await makeModel('js', layerConfig({ cell: 'rnn' }, I, H, O, 1)),
      bf = await makeModel('js', { ...layerConfig({ cell: 'rnn' }, I, H, O, 1), batchFirst: true });
    const x = randn(T * B * I, lcg(4));
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgumentError);
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(err(() => bf.predict({ x: nest(x, T, B, I) as never, T, B }))).toMatch(
      /batch\.x.*\[B, T, I\] = \[3, 5, 4\].*batchFirst: true.*shape \[5, 3, 4\]/,
    );
    expect(err(() => tm.predict({ x: nest(x, B, T, I) as never, T, B }))).toMatch(/batch\.x.*\[T, B, I\] = \[5, 3, 4\].*shape \[3, 5, 4\]/);
    // a ragged row is named by its index
    const ragged = nest(x, T, B, I);
    ragged[2][1] = ragged[2][1].slice(0, 3);
    expect(err(() => tm.predict({ x: ragged as never, T, B }))).toMatch(/batch\.x\[2\]\[1\].*length 4.*length 3/);
    // and the targets
    const y = randn(T * B * O, lcg(5));
    expect(err(() => bf.lossAndGradients({ x: swap(x, T, B, I), y: nest(y, T, B, O) as never, T, B }, 'mse'))).toMatch(
      /batch\.y.*\[B, T, O\] = \[3, 5, 2\].*shape \[5, 3, 2\]/,
    );
    tm.dispose();
    bf.dispose();
  });
});

describe('what reads batches time-major itself refuses a batch-first model', () => {
  it('evolution strategies and rtrlGradients, naming batchFirst', async () => {
    const bf = await makeModel('js', { ...layerConfig({ cell: 'rnn' }, I, H, O, 1), batchFirst: true });
    expect(() => new EvolutionStrategies(bf, { population: 2, sigma: 0.1, lr: 0.01, loss: 'mse' })).toThrow(/model.*batchFirst: true/);
    expect(() => rtrlGradients(bf, { x: new Float32Array(T * B * I), y: new Float32Array(T * B * O), T, B }, 'mse')).toThrow(
      InvalidArgumentError,
    );
    bf.dispose();
  });
});
