// fit and evaluate: seeded determinism, bucketed batching against random batching (padding
// measured), early stopping that puts back the best weights bit for bit, schedules per epoch and
// per step, checkpoint cadence, abort, the loss going down on small tasks, and option checks.
import { describe, expect, it } from 'vitest';
import { SequenceDataset, paddingFraction, planBatches, type SequenceExample } from '../../src/data/dataset.js';
import { sineBatch } from '../../src/data/tasks/sine.js';
import { Rng } from '../../src/model/rng.js';
import type { Model } from '../../src/model/model.js';
import { fit, type EpochLog } from '../../src/train/fit.js';
import { evaluate } from '../../src/train/metrics.js';
import { restoreCheckpoint } from '../../src/train/checkpoint.js';
import { Trainer } from '../../src/train/trainer.js';
import { makeModel, simdCore } from '../helpers.js';

/** Noisy sines cut to lengths in [4, 24]: predict the next value at every step. */
function sineData(n: number, seed: number): SequenceDataset {
  const rng = new Rng(seed);
  const b = sineBatch({ T: 25, B: n, noise: 0.02 }, rng);
  const examples: SequenceExample[] = [];
  for (let j = 0; j < n; j++) {
    const len = 4 + rng.int(21);
    const x = new Float32Array(len),
      y = new Float32Array(len);
    for (let t = 0; t < len; t++) {
      x[t] = b.x[t * n + j];
      y[t] = b.y[t * n + j];
    }
    examples.push({ x, y });
  }
  return new SequenceDataset(examples, { target: 'values' });
}

/** Is the sum of the sequence positive? Dense inputs, one class per sequence. */
function signData(n: number, seed: number): SequenceDataset {
  const rng = new Rng(seed);
  const examples: SequenceExample[] = [];
  for (let j = 0; j < n; j++) {
    const len = 2 + rng.int(12);
    const x = new Float32Array(len);
    let s = 0;
    for (let t = 0; t < len; t++) {
      x[t] = rng.normal();
      s += x[t];
    }
    examples.push({ x, y: s > 0 ? 1 : 0 });
  }
  return new SequenceDataset(examples, { target: 'classes', targetSize: 2, at: 'last' });
}

function hash(m: Model): string {
  let h = 0x811c9dc5;
  for (const name of m.parameterNames()) {
    const bytes = new Uint8Array(m.getParameter(name).slice().buffer);
    for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

const sineModel = (seed = 1) => makeModel('wasm', { cell: 'gru', inputSize: 1, hiddenSize: 12, outputSize: 1, seed });
const signModel = (seed = 1) => makeModel('wasm', { cell: 'lstm', inputSize: 1, hiddenSize: 8, outputSize: 2, seed });

describe('planBatches', () => {
  it('covers every sequence once, and bucketing cuts the padding against random batches', () => {
    const rng = new Rng(3);
    const lengths = Int32Array.from({ length: 2000 }, () => 1 + rng.int(200));
    for (const bucket of [true, false]) {
      const seen = new Int32Array(lengths.length);
      for (const b of planBatches(lengths, 32, { seed: 5, bucket })) for (const i of b) seen[i]++;
      expect(seen.every((c) => c === 1)).toBe(true);
    }
    const random = paddingFraction(lengths, planBatches(lengths, 32, { seed: 5, bucket: false }));
    const bucketed = paddingFraction(lengths, planBatches(lengths, 32, { seed: 5 }));
    const smallPools = paddingFraction(lengths, planBatches(lengths, 32, { seed: 5, bucketBatches: 4 }));
    console.log(
      `padding fraction, 2000 sequences of 1..200 steps, batches of 32: random ${random.toFixed(4)}, bucketed (pools of 100 batches) ${bucketed.toFixed(4)}, pools of 4 batches ${smallPools.toFixed(4)}`,
    );
    expect(random).toBeGreaterThan(0.4);
    expect(bucketed).toBeLessThan(0.02);
    expect(smallPools).toBeLessThan(random / 2);
  });
  it('is a function of the seed', () => {
    const lengths = Int32Array.from({ length: 100 }, (_, i) => 1 + ((i * 7) % 13));
    const a = planBatches(lengths, 8, { seed: 9 }).map((b) => [...b]);
    expect(planBatches(lengths, 8, { seed: 9 }).map((b) => [...b])).toEqual(a);
    expect(planBatches(lengths, 8, { seed: 10 }).map((b) => [...b])).not.toEqual(a);
  });
});

describe('fit', () => {
  it('sine regression: the validation loss goes down, and the same seed gives the same history and weights', async () => {
    const [train, val] = sineData(160, 1).split(0.25, 2);
    const run = async () => {
      const m = await sineModel();
      const t = new Trainer(m, { loss: train.lossSpec(), optimizer: { name: 'adam', lr: 0.01 } });
      const before = evaluate(m, val).loss;
      const h = await fit(t, train, { epochs: 6, batchSize: 16, validation: val, seed: 4 });
      return { h, before, hash: hash(m) };
    };
    const a = await run(),
      b = await run();
    const strip = (logs: EpochLog[]) => logs.map(({ seconds: _, ...rest }) => rest);
    expect(strip(b.h.epochs)).toEqual(strip(a.h.epochs));
    expect(b.hash).toBe(a.hash);
    const last = a.h.epochs.at(-1)!;
    expect(last.valLoss!).toBeLessThan(a.before * 0.5);
    expect(last.loss).toBeLessThan(a.h.epochs[0].loss);
    expect(a.h.epochs.every((e) => e.paddingFraction < 0.1)).toBe(true);
  });

  it('classification: accuracy on held-out sequences rises well above chance', async () => {
    const train = signData(400, 1),
      val = signData(100, 2);
    const m = await signModel();
    const t = new Trainer(m, { loss: train.lossSpec(), optimizer: { name: 'adam', lr: 0.02 } });
    const h = await fit(t, train, { epochs: 8, batchSize: 20, validation: val, metric: 'accuracy' });
    const r = evaluate(m, val, { metrics: ['accuracy', 'perplexity'] });
    expect(r.accuracy!).toBeGreaterThan(0.8);
    expect(r.perplexity!).toBeCloseTo(Math.exp(r.loss), 12);
    expect(h.epochs[h.bestEpoch].metric).toBe(Math.max(...h.epochs.map((e) => e.metric)));
  });

  it('token input, a class at every step: predicting the previous token is learnt (perplexity falls towards 1)', async () => {
    const rng = new Rng(8);
    const examples: SequenceExample[] = Array.from({ length: 200 }, () => {
      const x = Array.from({ length: 3 + rng.int(15) }, () => rng.int(5));
      return { x, y: x.map((_, t) => (t === 0 ? 0 : x[t - 1])) };
    });
    const data = new SequenceDataset(examples, { input: 'tokens', inputSize: 5, target: 'classes', targetSize: 5 });
    const [train, val] = data.split(0.2, 3);
    const m = await makeModel('wasm', { cell: 'gru', input: 'tokens', inputSize: 5, hiddenSize: 16, outputSize: 5, seed: 2 });
    const t = new Trainer(m, { loss: data.lossSpec(), optimizer: { name: 'adam', lr: 0.03 } });
    const before = evaluate(m, val, { metrics: ['perplexity'] }).perplexity!;
    const h = await fit(t, train, { epochs: 10, batchSize: 16, validation: val, metric: 'perplexity' });
    const after = evaluate(m, val, { metrics: ['perplexity', 'accuracy'] });
    expect(before).toBeGreaterThan(4);
    expect(after.perplexity!).toBeLessThan(1.6);
    expect(after.accuracy!).toBeGreaterThan(0.85);
    expect(h.epochs[h.bestEpoch].metric).toBe(Math.min(...h.epochs.map((e) => e.metric)));
  });

  it('evaluate agrees with the loss the model computes for the same batch', async () => {
    for (const data of [sineData(12, 3), signData(12, 3)]) {
      const m = data.target === 'values' ? await sineModel(2) : await signModel(2);
      const all = data.batch(Int32Array.from({ length: data.size }, (_, i) => i));
      const want = m.lossAndGradients(all, data.lossSpec()).loss;
      expect(evaluate(m, data, { batchSize: 5 }).loss).toBeCloseTo(want, 5);
    }
  });

  it('early stopping stops after `patience` epochs without improvement and restores the best weights exactly', async () => {
    const [train, val] = sineData(60, 5).split(0.3, 1);
    const m = await sineModel(3);
    // a rate far too high: the validation loss gets worse after the first epochs
    const t = new Trainer(m, { loss: train.lossSpec(), optimizer: { name: 'sgd', lr: 0.5 } });
    const hashes: string[] = [];
    const stops: unknown[] = [];
    const h = await fit(t, train, {
      epochs: 40,
      batchSize: 8,
      validation: val,
      earlyStopping: { patience: 2, minDelta: 1e-4 },
      onEpochEnd: () => {
        hashes.push(hash(m));
      },
      onEarlyStop: (e) => {
        stops.push(e);
      },
    });
    expect(h.stoppedEarly).toBe(true);
    expect(h.epochs.length).toBe(h.bestEpoch + 3);
    expect(stops).toEqual([{ epoch: h.bestEpoch + 2, bestEpoch: h.bestEpoch, best: h.epochs[h.bestEpoch].metric }]);
    expect(hash(m)).toBe(hashes[h.bestEpoch]);
    expect(hash(m)).not.toBe(hashes.at(-1));
    expect(evaluate(m, val).loss).toBe(h.epochs[h.bestEpoch].valLoss);
  });

  it('schedules: per epoch the rate changes at epoch starts, per step at every update; the base rate comes back', async () => {
    const data = sineData(24, 2);
    for (const unit of ['epoch', 'step'] as const) {
      const m = await sineModel();
      const t = new Trainer(m, { loss: data.lossSpec(), optimizer: { name: 'sgd', lr: 0.1 } });
      const lrs: number[] = [];
      const h = await fit(t, data, {
        epochs: 3,
        batchSize: 8,
        schedule: { kind: 'exponential', gamma: 0.5 },
        scheduleUnit: unit,
        onBatchEnd: (e) => {
          lrs.push(e.lr);
        },
      });
      const want =
        unit === 'epoch' ? [0, 0, 0, 1, 1, 1, 2, 2, 2].map((k) => 0.1 * 0.5 ** k) : [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => 0.1 * 0.5 ** k);
      lrs.forEach((lr, i) => {
        expect(lr).toBeCloseTo(want[i], 12);
      });
      expect(h.epochs.map((e) => e.lr)).toEqual([lrs[0], lrs[3], lrs[6]]);
      expect(t.baseLr).toBe(0.1);
    }
  });

  it('checkpoints every N updates, with bytes that restore the trainer at that step', async () => {
    const data = sineData(40, 2);
    const m = await sineModel();
    const t = new Trainer(m, { loss: data.lossSpec() });
    const saved: { step: number; epoch: number; batch: number; bytes: Uint8Array }[] = [];
    const hashes = new Map<number, string>();
    await fit(t, data, {
      epochs: 3,
      batchSize: 8,
      checkpoint: {
        every: 4,
        save: async (bytes, at) => {
          saved.push({ ...at, bytes });
        },
      },
      onBatchEnd: (e) => {
        hashes.set(e.step, hash(m));
      },
    });
    expect(saved.map((s) => s.step)).toEqual([4, 8, 12]);
    expect(saved.map((s) => [s.epoch, s.batch])).toEqual([
      [0, 4],
      [1, 3],
      [2, 2],
    ]); // batches of the epoch done
    const r = await restoreCheckpoint(saved[2].bytes, { backend: 'wasm', core: await simdCore() });
    expect(r.trainer.steps).toBe(12);
    expect(hash(r.model)).toBe(hashes.get(12));
  });

  it('resuming from a checkpoint at its position continues exactly as the run that never stopped', async () => {
    const [train, val] = sineData(50, 6).split(0.2, 1);
    const options = {
      epochs: 4,
      batchSize: 8,
      validation: val,
      schedule: { kind: 'exponential', gamma: 0.9 },
      scheduleUnit: 'step',
    } as const;
    const m = await sineModel();
    const t = new Trainer(m, { loss: train.lossSpec(), optimizer: { name: 'adam', lr: 0.01 } });
    const saved: Uint8Array[] = [];
    const full = await fit(t, train, {
      ...options,
      checkpoint: {
        every: 7,
        save: (bytes) => {
          saved.push(bytes);
        },
      },
    });
    for (const bytes of [saved[0], saved[1]]) {
      const r = await restoreCheckpoint(bytes, { backend: 'wasm', core: await simdCore() });
      const at = (r.extra.info as { fit: { epoch: number; batch: number; step: number } }).fit;
      const resumed = await fit(r.trainer, train, { ...options, start: at });
      expect(hash(r.model)).toBe(hash(m));
      expect(r.trainer.steps).toBe(t.steps);
      expect(resumed.epochs.at(-1)!.valLoss).toBe(full.epochs.at(-1)!.valLoss);
      r.trainer.dispose();
      r.model.dispose();
    }
    await expect(fit(t, train, { ...options, start: { epoch: 4, batch: 0 } })).rejects.toThrow(/options.start.epoch/);
  });

  it('an AbortSignal stops at the next batch boundary', async () => {
    const data = sineData(64, 2);
    const m = await sineModel();
    const t = new Trainer(m, { loss: data.lossSpec() });
    const ac = new AbortController();
    const h = await fit(t, data, {
      epochs: 10,
      batchSize: 8,
      signal: ac.signal,
      onBatchEnd: (e) => {
        if (e.epoch === 1 && e.batch === 2) ac.abort();
      },
    });
    expect(h.aborted).toBe(true);
    expect(h.epochs.length).toBe(1);
    expect(h.steps).toBe(8 + 3);
    expect(t.steps).toBe(11);
  });

  it('refuses unknown and out-of-domain options, and a loss that does not fit the data', async () => {
    const data = sineData(8, 2);
    const m = await sineModel();
    const t = new Trainer(m, { loss: data.lossSpec() });
    await expect(fit(t, data, { epochs: 1, bachSize: 4 } as never)).rejects.toThrow(/bachSize.*batchSize/);
    await expect(fit(t, data, { epochs: 0 })).rejects.toThrow(/options.epochs/);
    await expect(fit(t, data, { epochs: 1, earlyStopping: { patience: -1 } })).rejects.toThrow(/patience/);
    await expect(fit(t, data, { epochs: 1, earlyStopping: { patience: 1, minDelat: 0 } as never })).rejects.toThrow(/minDelta/);
    await expect(fit(t, data, { epochs: 1, metric: 'accuracy' })).rejects.toThrow(/options.metric/);
    await expect(fit(t, data, { epochs: 1, checkpoint: { every: 0, save: () => {} } })).rejects.toThrow(/checkpoint.every/);
    await expect(fit(t, data, { epochs: 1, scheduleUnit: 'batch' } as never)).rejects.toThrow(/scheduleUnit/);
    const t2 = new Trainer(m, { loss: { loss: 'mse', at: 'last' } });
    await expect(fit(t2, data, { epochs: 1 })).rejects.toThrow(/trainer.loss.at/);
    expect(() => evaluate(m, data, { metrics: ['accuracy'] })).toThrow(/metrics\[0\]/);
    expect(() => evaluate(m, data, { batchsize: 3 } as never)).toThrow(/batchSize/);
  });
});
