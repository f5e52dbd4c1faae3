#!/usr/bin/env node
// Character-level text generation: an LSTM learns to predict the next character of the
// built-in corpus (CORPUS from unrolled/tasks, about 32 000 characters of English about
// recurrent networks), then writes a sample of its own.
//
// The text is cut into windows of `T` + 1 characters; each window is one sequence whose input
// is its first T characters and whose targets are the same characters shifted by one. The last
// tenth of the text is kept for validation, so the validation perplexity measures text the
// model never trained on. fit reports it after every epoch; early stopping ends the run when it
// stops improving and loads the best epoch's weights back before the sample is generated.
// A model that knew nothing would score a perplexity equal to the vocabulary size.
//
// Usage (after `npm run build`):
//   node examples/char-generate.mjs
//   node examples/char-generate.mjs --quick             a few epochs on part of the text (what the tests run)
// The last line printed is a JSON summary.
//
// The exported trainCharModel() is what test/examples/user-examples.test.ts runs.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Windows of T + 1 ids of `ids`, starting every `stride` ids: inputs the first T, targets the last T. */
function windows(ids, T, stride) {
  const out = [];
  for (let s = 0; s + T + 1 <= ids.length; s += stride) out.push({ x: ids.subarray(s, s + T), y: ids.subarray(s + 1, s + T + 1) });
  return out;
}

/**
 * Trains a character-level LSTM on CORPUS with fit (validation perplexity, early stopping with
 * the best weights restored) and generates a sample.
 *
 * @param {object} [o]
 * @param {boolean} [o.quick] a short run (part of the corpus, few epochs)
 * @param {number} [o.epochs] default 20, quick 5
 * @param {number} [o.seed=1]
 * @param {object} [o.lib] the unrolled module (default: this repository's build, dist/)
 * @param {object} [o.data] the unrolled/data module (default: this repository's build, dist/)
 * @param {object} [o.tasks] the unrolled/tasks module (default: this repository's build, dist/)
 */
export async function trainCharModel(o = {}) {
  const { createModel, Trainer, fit, evaluate } = o.lib ?? (await import('../dist/node/index.js'));
  const { SequenceDataset, CharVocab } = o.data ?? (await import('../dist/node/data-entry.js'));
  const { CORPUS } = o.tasks ?? (await import('../dist/tasks-entry.js'));
  const seed = o.seed ?? 1;
  const epochs = o.epochs ?? (o.quick ? 5 : 20);
  const T = 32;
  const text = o.quick ? CORPUS.slice(0, 12000) : CORPUS;

  // the vocabulary is every character of the whole corpus, so validation has no unknown ones
  const vocab = CharVocab.fromText(CORPUS);
  const ids = vocab.encode(text);
  const cut = Math.floor(ids.length * 0.9);
  // token input: x holds ids; targets are class ids at every step
  const options = { input: 'tokens', inputSize: vocab.size, target: 'classes', targetSize: vocab.size, at: 'every' };
  const train = new SequenceDataset(windows(ids.subarray(0, cut), T, T / 2), options);
  const validation = new SequenceDataset(windows(ids.subarray(cut), T, T), options);

  const model = await createModel({
    cell: 'lstm',
    input: 'tokens',
    inputSize: vocab.size,
    embeddingSize: 16,
    hiddenSize: 96,
    outputSize: vocab.size,
    seed,
  });
  const trainer = new Trainer(model, { loss: train.lossSpec(), optimizer: { name: 'adam', lr: 0.005 }, clipNorm: 1 });
  try {
    // the untrained model's validation perplexity: about the vocabulary size
    const before = evaluate(model, validation, { metrics: ['perplexity'] }).perplexity;
    const history = await fit(trainer, train, {
      epochs,
      batchSize: 32,
      seed,
      validation,
      metric: 'perplexity',
      earlyStopping: { patience: 2, restoreBestWeights: true },
      onEpochEnd: o.onEpochEnd,
    });
    const after = evaluate(model, validation, { metrics: ['perplexity'] }).perplexity;
    // sample after a prime, at a temperature below 1 for more likely (less varied) text
    const prime = 'A recurrent network ';
    const sample = vocab.decode(model.generate({ prime: vocab.encode(prime), length: 160, temperature: 0.7, seed }));
    return {
      example: 'char-generate',
      vocabSize: vocab.size,
      trainSequences: train.size,
      epochs: history.epochs.length,
      bestEpoch: history.bestEpoch,
      stoppedEarly: history.stoppedEarly,
      firstEpochLoss: history.epochs[0].loss,
      lastEpochLoss: history.epochs[history.epochs.length - 1].loss,
      validationPerplexityBefore: before,
      validationPerplexity: after,
      sample: prime + sample,
    };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

async function main() {
  const quick = process.argv.includes('--quick') || process.env.UNROLLED_EXAMPLE_QUICK === '1';
  const r = await trainCharModel({
    quick,
    onEpochEnd: (e) =>
      console.log(
        `epoch ${e.epoch}: train loss ${e.loss.toFixed(3)}, validation perplexity ${e.metric.toFixed(2)}, ${e.seconds.toFixed(1)} s`,
      ),
  });
  console.log(`validation perplexity ${r.validationPerplexityBefore.toFixed(1)} → ${r.validationPerplexity.toFixed(2)}`);
  console.log(`sample:\n${r.sample}`);
  console.log(JSON.stringify(r));
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
