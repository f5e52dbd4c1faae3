#!/usr/bin/env node
// Time-series forecasting from a CSV file: predict the next value of a noisy signal from the
// last `window` values, with a GRU trained by `fit` (validation split, early stopping), and
// compare its validation MAE with the naive forecast "the next value equals the last one".
//
// The CSV has one window per line, the values first and the target (the value that follows)
// last. Without a path the script writes such a file itself, into a temporary directory, from
// a few series that each mix two sines of random period and phase with Gaussian noise.
//
// Usage (after `npm run build`):
//   node examples/forecast-csv.mjs                      writes and reads a generated CSV
//   node examples/forecast-csv.mjs my-windows.csv       your own file, same layout
//   node examples/forecast-csv.mjs --quick              a few epochs (what the tests run)
// The last line printed is a JSON summary.
//
// The exported forecastCsv() is what test/examples/user-examples.test.ts runs.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Writes `series` noisy series cut into windows of `window` values plus the next one, one per
 * line, and returns the file's path.
 */
export function writeSignalCsv(path, { series = 12, length = 120, window = 16, noise = 0.05, seed = 1 } = {}) {
  let state = seed >>> 0 || 1;
  const uniform = () => {
    // xorshift32: a small, seeded generator so the file is the same on every run
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const lines = [];
  for (let s = 0; s < series; s++) {
    const p1 = 8 + 16 * uniform(),
      p2 = 20 + 30 * uniform(),
      phase = 2 * Math.PI * uniform();
    const signal = Array.from(
      { length },
      (_, t) => Math.sin((2 * Math.PI * t) / p1 + phase) + 0.5 * Math.sin((2 * Math.PI * t) / p2) + noise * gaussian(),
    );
    // every window of `window` values and the value after it: one line
    for (let t = 0; t + window < length; t++)
      lines.push(
        signal
          .slice(t, t + window + 1)
          .map((v) => v.toFixed(4))
          .join(','),
      );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * Reads the CSV with the streaming reader, trains a GRU on it and measures the validation MAE.
 *
 * @param {object} [o]
 * @param {string} [o.path] the CSV (default: one written by writeSignalCsv into a temporary directory)
 * @param {boolean} [o.quick] a short run (few epochs)
 * @param {number} [o.epochs] default 30, quick 6
 * @param {number} [o.seed=1]
 * @param {object} [o.lib] the unrolled module (default: this repository's build, dist/)
 * @param {object} [o.data] the unrolled/data module (default: this repository's build, dist/)
 */
export async function forecastCsv(o = {}) {
  const { createModel, Trainer, fit, evaluate } = o.lib ?? (await import('../dist/node/index.js'));
  const { SequenceDataset, readSequences, fileSource } = o.data ?? (await import('../dist/node/data-entry.js'));
  const seed = o.seed ?? 1;
  const epochs = o.epochs ?? (o.quick ? 6 : 30);
  // without a path: a generated file in a temporary directory, removed at the end
  const dir = o.path ? undefined : mkdtempSync(join(tmpdir(), 'unrolled-forecast-'));
  const path = o.path ?? writeSignalCsv(join(dir, 'signal.csv'), { seed });
  try {
    // readSequences yields one sequence at a time as the file is read; a file too big for memory
    // would go to fit as a SequenceFile (openSequenceFile) instead of being collected like this.
    const examples = [];
    const source = await fileSource(path);
    try {
      for await (const s of readSequences(source, { format: 'csv', task: 'regression', label: 'last' })) examples.push({ x: s.x, y: s.y });
    } finally {
      await source.close?.();
    }
    // every fifth window (a fixed, interleaved choice) is held out for validation
    const options = { target: 'values', targetSize: 1, at: 'last' };
    const held = examples.filter((_, i) => i % 5 === 4);
    const train = new SequenceDataset(
      examples.filter((_, i) => i % 5 !== 4),
      options,
    );
    const validation = new SequenceDataset(held, options);

    // the naive forecast on the validation windows: the next value is the last one seen
    let naive = 0;
    for (const { x, y } of held) naive += Math.abs(x[x.length - 1] - (typeof y === 'number' ? y : y[0]));
    const naiveMAE = naive / held.length;

    const model = await createModel({ cell: 'gru', inputSize: 1, hiddenSize: 24, outputSize: 1, seed });
    const trainer = new Trainer(model, { loss: train.lossSpec(), optimizer: { name: 'adam', lr: 0.01 }, clipNorm: 1 });
    try {
      const history = await fit(trainer, train, {
        epochs,
        batchSize: 32,
        seed,
        validation,
        metric: 'mae',
        // stop when the validation MAE has not improved for 4 epochs, and keep the best weights
        earlyStopping: { patience: 4, restoreBestWeights: true },
        onEpochEnd: o.onEpochEnd,
      });
      const { mae } = evaluate(model, validation, { metrics: ['mae'] });
      return {
        example: 'forecast-csv',
        sequences: examples.length,
        trainSequences: train.size,
        validationSequences: validation.size,
        epochs: history.epochs.length,
        bestEpoch: history.bestEpoch,
        stoppedEarly: history.stoppedEarly,
        validationMAE: mae,
        naiveMAE,
      };
    } finally {
      trainer.dispose();
      model.dispose();
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick') || process.env.UNROLLED_EXAMPLE_QUICK === '1';
  const path = args.find((a) => !a.startsWith('--'));
  const r = await forecastCsv({
    path,
    quick,
    onEpochEnd: (e) => console.log(`epoch ${e.epoch}: train loss ${e.loss.toFixed(4)}, validation MAE ${e.metric.toFixed(4)}`),
  });
  console.log(`validation MAE ${r.validationMAE.toFixed(4)} (best epoch ${r.bestEpoch}); naive last-value MAE ${r.naiveMAE.toFixed(4)}`);
  console.log(JSON.stringify(r));
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
