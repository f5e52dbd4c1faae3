// Every task's batches are accepted by a model with the task's sizes and loss spec, and a few
// updates lower the loss (js backend, tiny sizes).
import { describe, expect, it } from 'vitest';
import { createModel } from '../../../src/create.js';
import * as adding from '../../../src/data/tasks/adding.js';
import * as copy from '../../../src/data/tasks/copy.js';
import * as reber from '../../../src/data/tasks/reber.js';
import * as sine from '../../../src/data/tasks/sine.js';
import type { Batch } from '../../../src/model/batch.js';
import type { LossSpec } from '../../../src/model/loss.js';
import { Trainer } from '../../../src/train/trainer.js';

async function fit(sizes: { inputSize: number; outputSize: number; input: 'dense' | 'tokens' }, loss: LossSpec, batch: Batch) {
  const model = await createModel({ backend: 'js', cell: 'gru', hiddenSize: 16, seed: 1, ...sizes });
  const trainer = new Trainer(model, { loss, optimizer: { name: 'adam', lr: 0.01 }, clipNorm: 5 });
  const first = trainer.step(batch).loss;
  let last = first;
  for (let i = 0; i < 15; i++) last = trainer.step(batch).loss;
  trainer.dispose();
  model.dispose();
  return { first, last };
}

describe('task batches train', () => {
  it('adding', async () => {
    const r = await fit(
      { inputSize: adding.inputSize, outputSize: adding.outputSize, input: 'dense' },
      adding.lossSpec,
      adding.addingBatch({ T: 10, B: 8 }, 1),
    );
    expect(r.last).toBeLessThan(r.first);
  });
  it('copy (lossMask on the recall steps)', async () => {
    const { inputSize, outputSize } = copy.copySizes({ length: 3, delay: 4, symbols: 4 });
    const r = await fit(
      { inputSize, outputSize, input: 'tokens' },
      copy.lossSpec,
      copy.copyBatch({ B: 8, length: 3, delay: 4, symbols: 4 }, 1),
    );
    expect(r.first).toBeGreaterThan(Math.log(outputSize) - 0.5); // only recall rows count: near log(K + 1) at the start
    expect(r.last).toBeLessThan(r.first);
  });
  it('reber (padded with lengths)', async () => {
    const r = await fit(
      { inputSize: reber.inputSize, outputSize: reber.outputSize, input: 'tokens' },
      reber.lossSpec,
      reber.reberBatch({ B: 8 }, 1),
    );
    expect(r.last).toBeLessThan(r.first);
  });
  it('sine', async () => {
    const r = await fit(
      { inputSize: sine.inputSize, outputSize: sine.outputSize, input: 'dense' },
      sine.lossSpec,
      sine.sineBatch({ T: 20, B: 8 }, 1),
    );
    expect(r.last).toBeLessThan(r.first);
  });
});
