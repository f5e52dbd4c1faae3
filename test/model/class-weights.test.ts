// Class-weighted cross-entropy, PyTorch's nn.CrossEntropyLoss(weight=w): the row of target y
// weighs w[y] and the mean divides by Σ w[y_r] over the counted rows (test/fixtures/torch/cw_*
// compare with PyTorch itself, in test/model/torch-fixtures.test.ts). Here: the gradient against
// central differences (js64), the Wasm kernel against the js backend, BPTT against RTRL (an
// independent forward-mode implementation that shares only lossWeights), evaluate's weighted
// mean, a checkpoint round trip, and every refusal at the door.
import { describe, expect, it } from 'vitest';
import { Trainer } from '../../src/train/trainer.js';
import { rtrlGradients } from '../../src/train/rtrl.js';
import { evaluate } from '../../src/train/metrics.js';
import { checkpointToSafetensors, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { SequenceDataset } from '../../src/data/dataset.js';
import { centralDifferences, lcg, makeModel, maxAbs, randInts, randn, relErr } from '../helpers.js';
import type { LossSpec } from '../../src/model/loss.js';
import type { Model } from '../../src/model/model.js';

const I = 3,
  H = 5,
  O = 4,
  T = 5,
  B = 3;
const rand = lcg(7);
const x = randn(T * B * I, rand);
const y = randInts(T * B, O, rand);
const lengths = [5, 3, 4];
const classWeights = [0.5, 2, 0, 1.5];
const batch = { x, y, T, B, lengths };
const loss = { loss: 'cross-entropy' as const, classWeights };
const config = { cell: 'lstm' as const, inputSize: I, hiddenSize: H, outputSize: O, numLayers: 2, seed: 3 };

/** The weighted mean by hand from the model's own logits: Σ w[y]·nll / Σ w[y] over real steps. */
function weightedMean(model: Model): number {
  const logits = model.predict({ x, T, B, lengths }).y;
  let num = 0,
    den = 0;
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      if (t >= lengths[b]) continue;
      const r = t * B + b,
        row = Array.from(logits.subarray(r * O, (r + 1) * O));
      const mx = Math.max(...row);
      const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
      num += classWeights[y[r]] * (lse - row[y[r]]);
      den += classWeights[y[r]];
    }
  return num / den;
}

describe('class-weighted cross-entropy', () => {
  it('is PyTorch’s weighted mean, and differs from the unweighted loss', async () => {
    const m = await makeModel('js64', config);
    const weighted = m.lossAndGradients(batch, loss).loss;
    expect(Math.abs(weighted - weightedMean(m))).toBeLessThan(1e-12);
    expect(Math.abs(weighted - m.lossAndGradients(batch, 'cross-entropy').loss)).toBeGreaterThan(1e-3);
  });

  it('has the gradient of central differences (js64, every parameter)', async () => {
    const m = await makeModel('js64', config);
    const r = m.lossAndGradients(batch, loss);
    let worst = 0;
    for (const name of m.parameterNames()) {
      const values = Float64Array.from(m.getParameter(name));
      const fd = centralDifferences(
        values,
        (v) => m.setParameter(name, v),
        () => m.lossAndGradients(batch, loss).loss,
        1e-6,
      );
      const g = r.grads[name];
      const err = maxAbs(fd.map((v, i) => v - g[i])) / Math.max(maxAbs(fd), 1e-3);
      worst = Math.max(worst, err);
      expect(err, name).toBeLessThan(1e-6);
    }
    console.log(`class weights: max relative error of the gradient against central differences ${worst.toExponential(2)}`);
  });

  it('gives the same loss and gradients on the Wasm core and the js backend', async () => {
    const wasm = await makeModel('wasm', config);
    const js = await makeModel('js', config);
    const a = wasm.lossAndGradients(batch, loss),
      b = js.lossAndGradients(batch, loss);
    expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThan(1e-5);
    for (const name of js.parameterNames()) expect(relErr(a.grads[name], b.grads[name]), name).toBeLessThan(1e-5);
    // the Wasm kernel sees the weights: without them its numbers change
    expect(relErr(wasm.lossAndGradients(batch, 'cross-entropy').grads['head.weight'], a.grads['head.weight'])).toBeGreaterThan(1e-3);
  });

  it('agrees with RTRL (forward-mode gradients) at every step and at the last step with reduction sum', async () => {
    const m = await makeModel('js64', { ...config, numLayers: 1 });
    const dense = { x, y, T, B };
    const specs: LossSpec[] = [loss, { loss: 'cross-entropy', at: 'last', reduction: 'sum', classWeights }];
    for (const spec of specs) {
      const b = spec.at === 'last' ? { ...dense, y: y.subarray(0, B) } : dense;
      const bptt = m.lossAndGradients(b, spec);
      const rtrl = rtrlGradients(m, b, spec);
      expect(Math.abs(bptt.loss - rtrl.loss)).toBeLessThan(1e-12);
      for (const name of m.parameterNames()) expect(relErr(bptt.grads[name], rtrl.grads[name]), name).toBeLessThan(1e-9);
    }
  });

  it('evaluate reports the weighted mean over the dataset', async () => {
    const m = await makeModel('js64', { ...config, inputSize: 1 });
    const seqs = [
      { x: [0.1, -0.4, 0.3], y: [1, 3, 0] },
      { x: [0.7, 0.2], y: [2, 1] },
    ];
    const data = new SequenceDataset(seqs, { inputSize: 1, target: 'classes', targetSize: O });
    const r = evaluate(m, data, { loss });
    // one batch holding both sequences: the dataset's weighted mean is that batch's
    const b = { x: [0.1, 0.7, -0.4, 0.2, 0.3, 0], y: [1, 2, 3, 1, 0, 0], T: 3, B: 2, lengths: [3, 2] };
    expect(Math.abs(r.loss - m.lossAndGradients(b, loss).loss)).toBeLessThan(1e-10);
  });

  it('is kept by a trainer and its checkpoint', async () => {
    const m = await makeModel('js', config);
    const tr = new Trainer(m, { loss: { loss: 'cross-entropy', classWeights: new Float32Array(classWeights) } });
    expect(tr.loss.classWeights).toEqual(classWeights);
    const before = weightedMean(m);
    expect(tr.step(batch).loss).toBeCloseTo(before, 6);
    const back = await restoreCheckpoint(checkpointToSafetensors(tr), { backend: 'js' });
    expect(back.trainer.loss.classWeights).toEqual(classWeights);
    expect(back.trainer.step(batch).loss).toBe(tr.step(batch).loss);
  });

  describe('is refused at the door', () => {
    const refusals: [string, unknown, RegExp][] = [
      ['a weight per class', [1, 2, 3], /options\.loss\.classWeights: expected 4 class weights.*got 3/],
      ['non-negative', [1, -1, 1, 1], /options\.loss\.classWeights\[1\]: expected a finite number in \[0, /],
      ['finite', [1, Number.NaN, 1, 1], /classWeights\[1\].*got NaN/],
      ['not all zero', [0, 0, 0, 0], /classWeights: expected at least one weight above 0/],
      ['an array', 'heavy', /classWeights: expected an array of 4 class weights/],
    ];
    for (const [what, value, message] of refusals) {
      it(what, async () => {
        const m = await makeModel('js', config);
        expect(() => new Trainer(m, { loss: { loss: 'cross-entropy', classWeights: value as number[] } })).toThrow(message);
      });
    }

    it('for MSE', async () => {
      const m = await makeModel('js', config);
      expect(() => new Trainer(m, { loss: { loss: 'mse', classWeights } })).toThrow(/classWeights: expected no class weights for "mse"/);
    });

    it('a batch whose counted targets all weigh 0 (the mean would be 0/0), on both backends', async () => {
      for (const backend of ['wasm', 'js'] as const) {
        const m = await makeModel(backend, config);
        const zero = { ...batch, y: new Int32Array(T * B).fill(2) };
        expect(() => m.lossAndGradients(zero, loss)).toThrow(
          /batch\.y: expected at least one counted target of a class with a weight above 0/,
        );
        // a sum is defined (0)
        expect(m.lossAndGradients(zero, { ...loss, reduction: 'sum' }).loss).toBe(0);
      }
    });
  });
});
