#!/usr/bin/env node
// Sequence classification with a bidirectional GRU: which of three shapes is a noisy sequence
// of 8 to 40 steps? 0: a rising ramp, 1: a falling ramp, 2: a bump (up, then down). Each
// sequence has a random offset, height and noise, so no single step gives the answer; the
// network has to compare the start, the middle and the end. A bidirectional layer reads the
// sequence both ways, and the head sees both directions' states at the last real step.
//
// Sequences of different lengths go into one SequenceDataset; fit groups similar lengths into
// a batch and the padding past each sequence's length is masked out of the loss and the states.
// Chance is 1/3.
//
// Usage (after `npm run build`):
//   node examples/classify-bigru.mjs
//   node examples/classify-bigru.mjs --quick            a few epochs (what the tests run)
// The last line printed is a JSON summary.
//
// The exported classifyShapes() is what test/examples/user-examples.test.ts runs.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const SHAPES = ['rising', 'falling', 'bump'];

/** `n` labelled sequences drawn from `rng` (the library's Rng). */
export function shapeExamples(n, rng) {
  const examples = [];
  for (let i = 0; i < n; i++) {
    const label = i % SHAPES.length;
    const steps = 8 + Math.floor(rng.uniform(0, 33)); // 8 … 40
    const offset = rng.uniform(-1, 1),
      height = rng.uniform(0.5, 1.5);
    const x = new Float32Array(steps);
    for (let t = 0; t < steps; t++) {
      const u = t / (steps - 1); // 0 … 1 along the sequence
      const shape = label === 0 ? u : label === 1 ? 1 - u : 1 - Math.abs(2 * u - 1);
      x[t] = offset + height * shape + 0.15 * rng.normal();
    }
    examples.push({ x, y: label });
  }
  return examples;
}

/**
 * Trains a bidirectional GRU classifier with fit (validation accuracy, early stopping) and
 * measures its accuracy on a held-out test set.
 *
 * @param {object} [o]
 * @param {boolean} [o.quick] a short run (fewer sequences and epochs)
 * @param {number} [o.epochs] default 30, quick 8
 * @param {number} [o.seed=1]
 * @param {object} [o.lib] the unrolled module (default: this repository's build, dist/)
 * @param {object} [o.data] the unrolled/data module (default: this repository's build, dist/)
 */
export async function classifyShapes(o = {}) {
  const { createModel, Trainer, Rng, fit, evaluate } = o.lib ?? (await import('../dist/node/index.js'));
  const { SequenceDataset } = o.data ?? (await import('../dist/node/data-entry.js'));
  const seed = o.seed ?? 1;
  const epochs = o.epochs ?? (o.quick ? 8 : 30);
  const trainSize = o.quick ? 600 : 3000;
  // one class id per sequence, predicted from its last real step
  const options = { target: 'classes', targetSize: SHAPES.length, at: 'last' };
  const rng = new Rng(seed + 100);
  const train = new SequenceDataset(shapeExamples(trainSize, rng), options);
  const validation = new SequenceDataset(shapeExamples(300, rng), options);
  const test = new SequenceDataset(shapeExamples(600, rng), options);

  const model = await createModel({ cell: 'gru', bidirectional: true, inputSize: 1, hiddenSize: 16, outputSize: SHAPES.length, seed });
  const trainer = new Trainer(model, { loss: train.lossSpec(), optimizer: { name: 'adam', lr: 0.01 }, clipNorm: 1 });
  try {
    const history = await fit(trainer, train, {
      epochs,
      batchSize: 32,
      seed,
      validation,
      metric: 'accuracy',
      // stop after 3 epochs without a better validation accuracy and load the best epoch's weights
      earlyStopping: { patience: 3, restoreBestWeights: true },
      onEpochEnd: o.onEpochEnd,
    });
    const { accuracy } = evaluate(model, test, { metrics: ['accuracy'] });
    return {
      example: 'classify-bigru',
      trainSequences: train.size,
      epochs: history.epochs.length,
      bestEpoch: history.bestEpoch,
      stoppedEarly: history.stoppedEarly,
      validationAccuracy: history.epochs[history.bestEpoch]?.metric ?? null,
      testAccuracy: accuracy,
      chance: 1 / SHAPES.length,
    };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

async function main() {
  const quick = process.argv.includes('--quick') || process.env.UNROLLED_EXAMPLE_QUICK === '1';
  const r = await classifyShapes({
    quick,
    onEpochEnd: (e) => console.log(`epoch ${e.epoch}: train loss ${e.loss.toFixed(4)}, validation accuracy ${e.metric.toFixed(3)}`),
  });
  console.log(`test accuracy ${r.testAccuracy.toFixed(3)} (chance ${r.chance.toFixed(3)}), best epoch ${r.bestEpoch}`);
  console.log(JSON.stringify(r));
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
