// predict({ probabilities: true }) and predict's default `at`: softmax probabilities of a
// cross-entropy model's classes (rows sum to 1, equal to the softmax of the logits computed here,
// the same on the Wasm core and the js backend), and rows at the `at` the model was trained with
// (kept in model files and checkpoints), explicit `at` still winning.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { modelFromSafetensors } from '../../src/model-file.js';
import { Trainer } from '../../src/train/trainer.js';
import { checkpointToSafetensors, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { ALL_BACKENDS, lcg, makeModel, randInts, randn } from '../helpers.js';

const I = 3,
  H = 6,
  O = 5,
  T = 4,
  B = 3;
const rand = lcg(11);
const x = randn(T * B * I, rand, 2);
const lengths = [4, 2, 3];
const config = { cell: 'gru' as const, inputSize: I, hiddenSize: H, outputSize: O, numLayers: 2, seed: 4 };

function softmax(row: ArrayLike<number>): number[] {
  const mx = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('predict with probabilities', () => {
  const results = new Map<string, Float32Array | Float64Array>();
  for (const backend of ALL_BACKENDS) {
    it(`on ${backend}: rows sum to 1 and equal the softmax of the logits`, async () => {
      const m = await makeModel(backend, config);
      new Trainer(m, { loss: 'cross-entropy' });
      const logits = m.predict({ x, T, B, lengths }).y;
      const p = m.predict({ x, T, B, lengths }, { probabilities: true }).y;
      expect(p.length).toBe(T * B * O);
      let sumErr = 0,
        softErr = 0;
      for (let r = 0; r < T * B; r++) {
        const row = p.subarray(r * O, (r + 1) * O);
        sumErr = Math.max(sumErr, Math.abs(Array.from(row).reduce((a, b) => a + b, 0) - 1));
        const want = softmax(logits.subarray(r * O, (r + 1) * O));
        for (let o = 0; o < O; o++) softErr = Math.max(softErr, Math.abs(row[o] - want[o]));
        for (const v of row) expect(v).toBeGreaterThan(0);
      }
      console.log(
        `${backend}: probabilities, max |Σ p − 1| ${sumErr.toExponential(2)}, max |p − softmax(logits)| ${softErr.toExponential(2)}`,
      );
      expect(sumErr).toBeLessThan(1e-6);
      expect(softErr).toBeLessThan(1e-7);
      results.set(backend, p);
    });
  }

  it('agree on the Wasm core and the js backend', () => {
    const js = results.get('js')!;
    let worst = 0;
    for (const backend of ['wasm', 'wasm-scalar']) {
      const w = results.get(backend)!;
      for (let i = 0; i < js.length; i++) worst = Math.max(worst, Math.abs(w[i] - js[i]));
    }
    console.log(`probabilities: max |wasm − js| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
  });

  it('at the last step: one row of probabilities per sequence', async () => {
    const m = await makeModel('js', config);
    const p = m.predict({ x, T, B, lengths }, { at: 'last', probabilities: true }).y;
    expect(p.length).toBe(B * O);
    for (let b = 0; b < B; b++) expect(Array.from(p.subarray(b * O, (b + 1) * O)).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
  });

  it('are refused for a model trained with MSE, naming the option', async () => {
    const m = await makeModel('wasm', config);
    new Trainer(m, { loss: 'mse' });
    expect(() => m.predict({ x, T, B }, { probabilities: true })).toThrow(InvalidArgumentError);
    expect(() => m.predict({ x, T, B }, { probabilities: true })).toThrow(
      /options\.probabilities: expected a model trained with "cross-entropy".*got a model trained with "mse"/,
    );
    expect(() => m.predict({ x, T, B }, { probabilities: 1 as never })).toThrow(/options\.probabilities: expected true or false/);
    expect(() => m.predict({ x, T, B }, { probabilites: true } as never)).toThrow(/probabilities/);
  });
});

describe("predict's default at", () => {
  it('is every step for a model never trained, and the trained loss’s `at` once a Trainer is made for it', async () => {
    const m = await makeModel('js', config);
    expect(m.trainedWith).toBeNull();
    expect(m.predict({ x, T, B }).y.length).toBe(T * B * O);
    const tr = new Trainer(m, { loss: { loss: 'cross-entropy', at: 'last' } });
    expect(m.trainedWith).toMatchObject({ loss: 'cross-entropy', at: 'last' });
    expect(m.predict({ x, T, B }).y.length).toBe(B * O);
    // an explicit `at` wins, as before
    expect(m.predict({ x, T, B }, { at: 'every' }).y.length).toBe(T * B * O);
    // the default equals the explicit last
    expect(Array.from(m.predict({ x, T, B, lengths }).y)).toEqual(Array.from(m.predict({ x, T, B, lengths }, { at: 'last' }).y));
    tr.step({ x, y: randInts(B, O, rand), T, B, lengths });
  });

  it('survives a model file and a checkpoint', async () => {
    const m = await makeModel('js', config);
    const tr = new Trainer(m, { loss: { loss: 'cross-entropy', at: 'last', classWeights: [1, 2, 1, 1, 0.5] } });
    const copy = await modelFromSafetensors(m.toSafetensors(), { backend: 'js' });
    expect(copy.trainedWith).toEqual(m.trainedWith);
    expect(copy.predict({ x, T, B }, { probabilities: true }).y.length).toBe(B * O);
    const restored = await restoreCheckpoint(checkpointToSafetensors(tr), { backend: 'js' });
    expect(restored.model.predict({ x, T, B }).y.length).toBe(B * O);
    // an untrained model's file is what it always was: no unrolled_loss
    const fresh = await makeModel('js', config);
    expect(new TextDecoder().decode(fresh.toSafetensors().subarray(0, 400))).not.toContain('unrolled_loss');
  });
});
