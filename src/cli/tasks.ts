// The command line's tasks: where the data comes from, the model's input and output sizes, the
// loss, and a data source whose position can be saved in a checkpoint and restored exactly.
import { CORPUS } from '../data/corpus.js';
import { TokenStream } from '../data/stream.js';
import * as adding from '../data/tasks/adding.js';
import * as copy from '../data/tasks/copy.js';
import * as reber from '../data/tasks/reber.js';
import * as sine from '../data/tasks/sine.js';
import { CharVocab } from '../data/vocab.js';
import type { Batch } from '../model/batch.js';
import type { CellKind, InputKind, Nonlinearity } from '../model/config.js';
import type { LossSpec } from '../model/loss.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import type { DataPosition } from '../train/checkpoint.js';
import type { OptimizerName, OptimizerSpec } from '../train/optimizers.js';
import type { ScheduleSpec } from '../train/schedules.js';
import type { StepResult, Trainer } from '../train/trainer.js';
import { FileError } from '../errors.js';
import { readUtf8File } from '../node/files.js';
import { UsageError } from './usage.js';

export const TASKS = ['char', 'adding', 'copy', 'reber', 'sine'] as const;
export type TaskName = (typeof TASKS)[number];
export const INITS = ['default', 'irnn', 'orthogonal', 'xavier_uniform', 'xavier_normal'] as const;
export type InitName = (typeof INITS)[number];
export const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'] as const;

/** Everything that defines a training run; stored in checkpoints (JSON). */
export interface RunConfig {
  task: TaskName;
  /** char: the text file, or null for the built-in corpus */
  text: string | null;
  /** char: length and FNV-1a hash of the text, to recognise it on resume */
  textLength: number | null;
  textHash: string | null;
  /** char: the characters in id order */
  vocab: string[] | null;
  cell: CellKind;
  nonlinearity: Nonlinearity;
  init: InitName;
  hidden: number;
  layers: number;
  /** the layer options, present only when set (so a run without them stores what it always did) */
  projSize?: number;
  bidirectional?: boolean;
  dropout?: number;
  batch: number;
  /** steps per sequence (char: per chunk, = k1; reber: the longest string) */
  seq: number;
  /** char: TBPTT(k1, k2) */
  tbptt: { k1: number; k2: number } | null;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  weightDecay: number | null;
  schedule: ScheduleSpec | null;
  clip: number | null;
  clipValue: number | null;
  seed: number;
  backend: 'wasm' | 'js';
}

export const DEFAULTS: Record<TaskName, { cell: CellKind; seq: number }> = {
  char: { cell: 'lstm', seq: 64 },
  adding: { cell: 'rnn', seq: 150 },
  copy: { cell: 'lstm', seq: 40 },
  reber: { cell: 'lstm', seq: 50 },
  sine: { cell: 'lstm', seq: 64 },
};

export const MIN_SEQ: Record<TaskName, number> = { char: 1, adding: 2, copy: 3, reber: 9, sine: 1 };

/** Copy task: S symbols and a delay D with T = 2S + D. */
export function copyShape(T: number): { S: number; D: number; K: number } {
  const S = Math.min(10, Math.floor((T - 1) / 2));
  return { S, D: T - 2 * S, K: 8 };
}

export function lossOf(task: TaskName): LossSpec {
  switch (task) {
    case 'char':
      return { loss: 'cross-entropy', at: 'every' };
    case 'adding':
      return adding.lossSpec;
    case 'copy':
      return copy.lossSpec;
    case 'reber':
      return reber.lossSpec;
    case 'sine':
      return sine.lossSpec;
  }
}

export function optimizerSpec(c: RunConfig): OptimizerSpec {
  const wd = c.weightDecay === null ? {} : { weightDecay: c.weightDecay };
  switch (c.optimizer) {
    case 'sgd':
      return { name: 'sgd', lr: c.lr, momentum: c.momentum, ...wd };
    default:
      return { name: c.optimizer, lr: c.lr, ...wd } as OptimizerSpec;
  }
}

/** FNV-1a (32 bit) of the text's UTF-16 code units, as 8 hex digits. */
export function textHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * The text of the char task: a file (which must be UTF-8: a file in another encoding is refused
 * with the offset of the first bad byte) or the built-in corpus.
 */
export async function readText(command: string, path: string | null, flag = '--text'): Promise<string> {
  if (path === null) return CORPUS;
  let text: string;
  try {
    text = await readUtf8File(path);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(`${command}: ${flag} ${e.message}`, flag);
    throw e;
  }
  if (text.length === 0) throw new UsageError(`${command}: ${flag} ${path}: the file is empty`, flag);
  return text;
}

/** Input kind and sizes of the model for a task. */
export function modelShape(c: RunConfig): { input: InputKind; inputSize: number; outputSize: number } {
  switch (c.task) {
    case 'char':
      return { input: 'tokens', inputSize: c.vocab!.length, outputSize: c.vocab!.length };
    case 'adding':
      return { input: 'dense', inputSize: adding.inputSize, outputSize: adding.outputSize };
    case 'copy': {
      const s = copy.copySizes(copyOptions(c.seq));
      return { input: 'tokens', inputSize: s.inputSize, outputSize: s.outputSize };
    }
    case 'reber':
      return { input: 'tokens', inputSize: reber.inputSize, outputSize: reber.outputSize };
    case 'sine':
      return { input: 'dense', inputSize: sine.inputSize, outputSize: sine.outputSize };
  }
}

function copyOptions(T: number): { length: number; delay: number; symbols: number } {
  const { S, D, K } = copyShape(T);
  return { length: S, delay: D, symbols: K };
}

/** One line describing the task. */
export function taskText(c: RunConfig, characters?: number): string {
  switch (c.task) {
    case 'char':
      return `characters of ${c.text ?? 'the built-in corpus'} (${characters ?? c.textLength} characters, vocabulary ${c.vocab!.length})`;
    case 'adding':
      return `adding problem, T=${c.seq} (always answering 1 scores MSE ${adding.BASELINE_MSE.toFixed(3)})`;
    case 'copy': {
      const { S, D, K } = copyShape(c.seq);
      return `copy task: ${S} of ${K} symbols, delay ${D} (T=${c.seq}; guessing scores ${copy.baselineLoss(K).toFixed(3)})`;
    }
    case 'reber':
      return `embedded Reber grammar, strings up to ${c.seq} symbols`;
    case 'sine':
      return `noisy sine forecasting, T=${c.seq}`;
  }
}

/** The seed of a task generator's Rng, apart from the weights' seed. */
export function dataSeed(seed: number): number {
  return (seed ^ 0x68e31da4) >>> 0;
}

/** The char task's ids (checked against the stored vocabulary on resume). */
export interface CharData {
  text: string;
  ids: Int32Array;
  vocab: CharVocab;
}

export function charData(command: string, c: RunConfig, text: string): CharData {
  const vocab = c.vocab ? new CharVocab(c.vocab) : CharVocab.fromText(text);
  let ids: Int32Array;
  try {
    ids = vocab.encode(text);
  } catch {
    throw new UsageError(`${command}: ${c.text ?? 'the text'} has characters outside the checkpoint's vocabulary of ${vocab.size}`);
  }
  return { text, ids, vocab };
}

/** Training data with a position that checkpoints save and restore. */
export interface DataSource {
  next(trainer: Trainer, diagnostics: boolean): StepResult;
  position(): DataPosition;
  restore(pos: DataPosition | null): void;
}

export function makeSource(command: string, c: RunConfig, data: CharData | null): DataSource {
  const B = c.batch;
  if (c.task === 'char') {
    const k1 = c.tbptt?.k1 ?? c.seq;
    if (data!.ids.length < B * k1 + 1) {
      throw new UsageError(
        `${command}: ${c.text ?? 'the built-in corpus'} has ${data!.ids.length} characters, too few for --batch ${B} x --seq ${k1} (needs at least ${B * k1 + 1})`,
      );
    }
    const stream = new TokenStream(data!.ids, { T: k1, B, vocabSize: data!.vocab.size });
    return {
      next: (t, diagnostics) => t.stepStateful(stream.next(), { diagnostics }),
      position: () => ({ stream: stream.getPosition() }),
      restore: (pos) => {
        const p = pos?.stream;
        if (!p) throw new UsageError(`${command}: the checkpoint has no stream position for the char task`);
        if (p.position >= stream.chunksPerEpoch)
          throw new UsageError(
            `${command}: the checkpoint's stream position ${p.position} does not fit this text (${stream.chunksPerEpoch} chunks per epoch)`,
          );
        stream.setPosition(p.position, p.epoch);
      },
    };
  }
  const rng = new Rng(dataSeed(c.seed));
  const gen = batchMaker(c);
  return {
    next: (t, diagnostics) => t.step(gen(rng), { diagnostics }),
    position: () => ({ rng: rng.getState() }),
    restore: (pos) => {
      if (!pos?.rng) throw new UsageError(`${command}: the checkpoint has no data generator state for the ${c.task} task`);
      rng.setState(pos.rng as number[]);
    },
  };
}

/** A generator of batches of a synthetic task. */
export function batchMaker(c: RunConfig, B = c.batch, T = c.seq): (rng: Rng) => Batch {
  switch (c.task) {
    case 'adding':
      return (rng) => adding.addingBatch({ T, B }, rng);
    case 'copy':
      return (rng) => copy.copyBatch({ B, ...copyOptions(T) }, rng);
    case 'reber':
      return (rng) => reber.reberBatch({ B, maxLength: T }, rng);
    case 'sine':
      return (rng) => sine.sineBatch({ T, B }, rng);
    case 'char':
      throw new Error('batchMaker: the char task streams its text');
  }
}

/** Task-specific measures on a batch besides the loss, with their baselines (for eval). */
export function taskMetrics(c: RunConfig, model: Model, batch: Batch): Record<string, number> {
  switch (c.task) {
    case 'adding':
      return { baselineMSE: adding.constantMSE(batch.y as Float32Array, 1) };
    case 'reber':
      return { allowedAccuracy: reber.allowedAccuracy(model.predict(batch).y, batch as reber.ReberBatch) };
    case 'sine':
      return { persistenceMSE: sine.persistenceMSE(batch as sine.SineBatch) };
    case 'copy':
      return { baselineLoss: copy.baselineLoss(copyShape(c.seq).K) };
    default:
      return {};
  }
}
