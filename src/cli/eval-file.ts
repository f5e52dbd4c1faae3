// `unrolled eval MODEL --csv DATA` / `--jsonl DATA`: evaluate() of a model file or of any
// checkpoint (of train or fit) on numeric sequences from a file, held in memory.
import { FileError } from '../errors.js';
import type { Model } from '../model/model.js';
import { decodeSafetensors } from '../model/safetensors.js';
import { modelFromSafetensors } from '../model-file.js';
import type { SequenceFileOptions } from '../node/data-files.js';
import { readFileBytes } from '../node/files.js';
import { CHECKPOINT_FORMAT, restoreCheckpoint } from '../train/checkpoint.js';
import { evaluate, type MetricName } from '../train/metrics.js';
import { type Flags, UsageError } from './args.js';
import { coreFor } from './config.js';
import { readData } from './data-flags.js';
import { Reporter, fmt, type CliIO } from './output.js';

/** `unrolled eval FILE --csv DATA` / `--jsonl DATA`: evaluate() of a model file or any checkpoint. */
export async function evalFileCommand(
  f: Flags,
  modelPath: string,
  source: { path: string; options: SequenceFileOptions },
  io: CliIO,
): Promise<number> {
  const backend = f.has('backend') ? f.choice<'wasm' | 'js'>('backend') : 'wasm';
  const batchSize = f.int('batch', 32);
  for (const flag of ['text', 'batches', 'seed'] as const)
    if (f.has(flag)) f.fail(`--${flag} is for a text or a task; the sequences of ${source.path} are evaluated once each`, `--${flag}`);
  const data = await readData('eval', source.path, source.options);
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(modelPath);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(`eval: ${e.message}`);
    throw e;
  }
  const core = await coreFor(backend, false);
  const opts = { backend, ...(core ? { core } : {}) };
  let model: Model;
  let step: number | null = null;
  if (decodeSafetensors(bytes).metadata.format === CHECKPOINT_FORMAT) {
    const r = await restoreCheckpoint(bytes, opts);
    r.trainer.dispose();
    model = r.model;
    step = r.extra.step;
  } else {
    model = await modelFromSafetensors(bytes, opts);
  }
  try {
    const c = model.config;
    if (c.input !== 'dense' || c.inputSize !== data.inputSize)
      f.fail(
        `${modelPath} reads ${c.input === 'dense' ? `${c.inputSize} inputs per step` : 'token ids'}, the data has ${data.inputSize} per step`,
      );
    if (data.target === 'values' && c.outputSize !== data.targetSize)
      f.fail(`${modelPath} predicts ${c.outputSize} values, the data has ${data.targetSize} per target`);
    if (data.target === 'classes' && data.targetSize > c.outputSize)
      f.fail(`${modelPath} predicts ${c.outputSize} classes, the data has labels up to ${data.targetSize - 1}`);
    const metrics: MetricName[] = data.target === 'classes' ? ['accuracy', 'perplexity'] : ['mae'];
    const r = evaluate(model, data, { metrics, batchSize });
    const reporter = new Reporter(io, f.bool('json'));
    const shown =
      data.target === 'classes'
        ? `cross-entropy ${fmt(r.loss)}, accuracy ${(100 * r.accuracy!).toFixed(2)}%, perplexity ${fmt(r.perplexity!, 3)}`
        : `MSE ${fmt(r.loss)}, MAE ${fmt(r.mae!)}`;
    reporter.emit(
      { type: 'eval', source: source.path, ...(step !== null ? { step } : {}), ...r },
      `${source.path}: ${r.sequences} sequences, ${shown}`,
    );
    return 0;
  } finally {
    model.dispose();
  }
}
