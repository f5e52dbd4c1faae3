// The training loop users of Keras' model.fit expect: epochs over a SequenceDataset (or a
// SequenceFile, whose batches are read from a file of any size when they are drawn) in
// length-bucketed, seeded mini-batches, a validation pass and metric after every epoch, early
// stopping that puts the best weights back, a learning-rate schedule counted in epochs or in
// steps, checkpoints every N updates, and callbacks. It runs anywhere the model runs (no Node
// built-ins): checkpoints are handed to the caller as bytes, and the loop yields to the event
// loop after every batch so that a page stays responsive and an AbortSignal can stop it.
//
// The schedule of fit multiplies the Trainer's own (which counts the Trainer's updates): fit sets
// trainer.baseLr to base × schedule(epoch or step of this fit) and puts the base back at the end.
import { ConfigError, describe } from '../errors.js';
import { paddingFraction, planBatches, type SequenceDataset } from '../data/dataset.js';
import type { SequenceFile } from '../data/sequence-file.js';
import { Rng } from '../model/rng.js';
import { checkKeys, checkNumber, DOMAINS, snapshotObject } from '../validate/index.js';
import type { JsonValue } from './checkpoint/format.js';
import { checkpointToSafetensors } from './checkpoint/write.js';
import { decodeWeights, encodeWeights, readProgress, type FitProgress } from './fit-progress.js';

export type { FitProgress } from './fit-progress.js';
import { checkLossFits, checkMetric, evaluate, higherIsBetter, type EvaluateResult, type MetricName } from './metrics.js';
import { makeSchedule, type ScheduleSpec } from './schedules.js';
import { Trainer } from './trainer.js';

export interface EarlyStoppingOptions {
  /** Epochs without an improvement of the monitored metric before training stops. */
  patience: number;
  /** An improvement must exceed this (default 0). */
  minDelta?: number;
  /** 'min', 'max', or 'auto' (default: max for accuracy, min otherwise). */
  mode?: 'min' | 'max' | 'auto';
  /** Load the weights of the best epoch when training ends (default true). Optimizer moments are not restored. */
  restoreBestWeights?: boolean;
}

/** Where fit stands: `batch` batches of epoch `epoch` are done (what `start` takes to resume). */
export interface FitPosition {
  epoch: number;
  batch: number;
  /** The epoch's running sums and the early-stopping record at that point (see FitProgress). */
  progress?: FitProgress;
}

export interface CheckpointHook {
  /** Updates between checkpoints (counted by trainer.steps). */
  every: number;
  /**
   * Receives checkpointToSafetensors(trainer) bytes, whose info holds { ...info, fit: { epoch,
   * batch, step, progress } } (restoreCheckpoint's extra.info; its `fit` is what `start` takes);
   * awaited before training goes on.
   */
  save: (bytes: Uint8Array, at: FitPosition & { step: number }) => void | Promise<void>;
  /** The application's own fields of the checkpoints' info (JSON), beside `fit`. */
  info?: Record<string, JsonValue>;
}

export interface BatchEndEvent {
  epoch: number;
  batch: number;
  batches: number;
  step: number;
  loss: number;
  lr: number;
  skipped: boolean;
}
export interface EpochLog {
  epoch: number;
  /** Mean training loss per row over the epoch. */
  loss: number;
  /** Validation loss (with a validation set). */
  valLoss?: number;
  /** The monitored metric: on the validation set when there is one, else on the training loss. */
  metric: number;
  /** Learning rate of the epoch's first step. */
  lr: number;
  seconds: number;
  /** Padding share of the epoch's batch slots. */
  paddingFraction: number;
  /** Steps refused as non-finite. */
  skipped: number;
  /** All validation results. */
  validation?: EvaluateResult;
}
export interface ValidationEvent {
  epoch: number;
  result: EvaluateResult;
  metric: number;
  improved: boolean;
}
export interface EarlyStopEvent {
  epoch: number;
  bestEpoch: number;
  best: number;
}

export interface FitOptions {
  epochs: number;
  /** Sequences per batch (default 32). */
  batchSize?: number;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Group sequences of similar length into batches (default true). */
  bucket?: boolean;
  /** Batches per pool that bucketing sorts by length (default 100). */
  bucketBatches?: number;
  /** Seed of the shuffles (default 0). */
  seed?: number;
  validation?: SequenceDataset;
  /** Monitored metric (default 'loss'). Without validation only 'loss' and 'perplexity' (from the training loss). */
  metric?: MetricName;
  earlyStopping?: EarlyStoppingOptions;
  /** A schedule over the epochs (default) or the steps of this fit; see scheduleUnit. */
  schedule?: ScheduleSpec;
  scheduleUnit?: 'epoch' | 'step';
  checkpoint?: CheckpointHook;
  onBatchEnd?: (e: BatchEndEvent) => void | Promise<void>;
  onEpochEnd?: (log: EpochLog) => void | Promise<void>;
  onValidation?: (e: ValidationEvent) => void | Promise<void>;
  onEarlyStop?: (e: EarlyStopEvent) => void | Promise<void>;
  /** Stops at the next batch boundary; fit then resolves with aborted: true. */
  signal?: AbortSignal;
  /**
   * Resume from a checkpoint's position (its info.fit, a CheckpointHook's `at`, or an earlier
   * History's `position`): epochs and batches before it are skipped, and the batches after it are
   * those an uninterrupted run with the same seed would draw. With its `progress`, the epoch's
   * losses so far and the early-stopping record (best weights included) carry over too, and the
   * resumed fit ends bit-identical to the uninterrupted one; without it they start afresh.
   */
  start?: FitPosition;
}

export interface History {
  epochs: EpochLog[];
  stoppedEarly: boolean;
  /**
   * The epoch of the best monitored value (−1 before the first epoch ends): an index into epochs
   * when fit started at epoch 0; a resumed fit counts from the first epoch of the whole run.
   */
  bestEpoch: number;
  aborted: boolean;
  /** Updates applied by this fit. */
  steps: number;
  /** Where this fit stopped, with its progress: `start` of a fit that continues it (more epochs, or after an abort). */
  position: FitPosition;
}

const KEYS = [
  'epochs',
  'batchSize',
  'shuffle',
  'bucket',
  'bucketBatches',
  'seed',
  'validation',
  'metric',
  'earlyStopping',
  'schedule',
  'scheduleUnit',
  'checkpoint',
  'onBatchEnd',
  'onEpochEnd',
  'onValidation',
  'onEarlyStop',
  'signal',
  'start',
];
const OPAQUE = ['validation', 'checkpoint', 'onBatchEnd', 'onEpochEnd', 'onValidation', 'onEarlyStop', 'signal'];
const CALLBACKS = ['onBatchEnd', 'onEpochEnd', 'onValidation', 'onEarlyStop'] as const;

type Callback = (e: never) => void | Promise<void>;

/** Trains `trainer` on `data` for up to `options.epochs` epochs (see the top of the file). */
export async function fit(trainer: Trainer, data: SequenceDataset | SequenceFile, options: FitOptions): Promise<History> {
  if (!(trainer instanceof Trainer)) throw new ConfigError('trainer', 'a Trainer', describe(trainer));
  const o = snapshotObject('options', options, 'an object { epochs, ... }', { opaque: OPAQUE });
  if (o === undefined) throw new ConfigError('options', 'an object { epochs, ... }', 'undefined');
  checkKeys('options', o, KEYS);
  const epochs = checkNumber('options.epochs', o.epochs, DOMAINS.epochs);
  const batchSize = o.batchSize === undefined ? 32 : checkNumber('options.batchSize', o.batchSize, DOMAINS.B);
  const shuffle = bool('options.shuffle', o.shuffle, true);
  const bucket = bool('options.bucket', o.bucket, true);
  const bucketBatches = o.bucketBatches === undefined ? 100 : checkNumber('options.bucketBatches', o.bucketBatches, DOMAINS.bucketBatches);
  const seed = o.seed === undefined ? 0 : checkNumber('options.seed', o.seed, DOMAINS.seed);
  checkLossFits('trainer.loss', trainer.loss, data, ConfigError);
  const validation = o.validation as unknown as SequenceDataset | undefined;
  if (validation !== undefined) {
    if (validation === null || typeof validation !== 'object' || typeof (validation as SequenceDataset).batch !== 'function') {
      throw new ConfigError('options.validation', 'a SequenceDataset', describe(validation));
    }
    checkLossFits('options.validation (trainer.loss)', trainer.loss, validation, ConfigError);
  }
  const metric = checkMetric('options.metric', o.metric ?? 'loss', trainer.loss.loss);
  if (validation === undefined && metric !== 'loss' && metric !== 'perplexity') {
    throw new ConfigError('options.metric', '"loss" or "perplexity" without a validation set', describe(metric));
  }
  const early = readEarlyStopping(o.earlyStopping, metric);
  const schedule = o.schedule === undefined ? null : makeSchedule(o.schedule as ScheduleSpec, 'options.schedule');
  const unit = o.scheduleUnit ?? 'epoch';
  if (unit !== 'epoch' && unit !== 'step') throw new ConfigError('options.scheduleUnit', '"epoch" or "step"', describe(unit));
  const checkpoint = readCheckpoint(o.checkpoint);
  const callbacks: Partial<Record<(typeof CALLBACKS)[number], Callback>> = {};
  for (const name of CALLBACKS) {
    const f = o[name] as unknown;
    if (f !== undefined && typeof f !== 'function') throw new ConfigError(`options.${name}`, 'a function', describe(f));
    callbacks[name] = f as Callback | undefined;
  }
  const signal = o.signal as unknown as AbortSignal | undefined;
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean')) {
    throw new ConfigError('options.signal', 'an AbortSignal', describe(signal));
  }

  const start = readStart(o.start, epochs);
  const model = trainer.model;
  const base = trainer.baseLr;
  const maximize = early ? early.mode === 'max' : higherIsBetter(metric);
  const resumed = start.progress;
  const history: History = {
    epochs: [],
    stoppedEarly: false,
    bestEpoch: resumed?.bestEpoch ?? -1,
    aborted: false,
    steps: 0,
    position: { epoch: start.epoch, batch: start.batch },
  };
  let best = resumed?.best ?? (maximize ? -Infinity : Infinity);
  let bestWeights: Record<string, Float32Array | Float64Array> | null =
    early?.restore && resumed?.bestWeights ? decodeWeights(resumed.bestWeights, model.dtype, 'options.start.progress.bestWeights') : null;
  let sinceBest = resumed?.sinceBest ?? 0;
  let lossSum = 0,
    rows = 0,
    skipped = 0;
  // the position the history reports (filled in on the way out)
  let next = { epoch: start.epoch, batch: start.batch };
  /** Where the loop stands after `batch` batches of `epoch`, with what a resumed fit needs. */
  const positionAt = (epoch: number, batch: number): FitPosition => ({
    epoch,
    batch,
    progress: {
      lossSum,
      rows,
      skipped,
      best: Number.isFinite(best) ? best : null,
      bestEpoch: history.bestEpoch,
      sinceBest,
      ...(bestWeights ? { bestWeights: encodeWeights(bestWeights) } : {}),
    },
  });
  const call = async <E>(f: Callback | undefined, e: E): Promise<void> => {
    if (f) await (f as (e: E) => void | Promise<void>)(e);
  };

  try {
    const perEpoch = Math.ceil(data.size / batchSize);
    for (let epoch = start.epoch; epoch < epochs; epoch++) {
      const started = now();
      const first = epoch === start.epoch ? start.batch : 0;
      // the steps of the schedule count batches by position, so that a resumed run continues it
      if (schedule) trainer.baseLr = base * schedule(unit === 'epoch' ? epoch : epoch * perEpoch + first);
      const lr = trainer.lr;
      // each epoch's order depends only on (seed, epoch): a run resumed at any epoch draws the same batches
      const batches = planBatches(data.lengths, batchSize, {
        shuffle,
        bucket,
        bucketBatches,
        seed: new Rng((seed + Math.imul(epoch, 0x9e3779b9)) >>> 0),
      });
      if (epoch !== start.epoch || !resumed) {
        lossSum = 0;
        rows = 0;
        skipped = 0;
      } else {
        ({ lossSum, rows, skipped } = resumed);
      }
      for (let i = first; i < batches.length; i++) {
        if (signal?.aborted) {
          history.aborted = true;
          next = { epoch, batch: i };
          return history;
        }
        if (schedule && unit === 'step') trainer.baseLr = base * schedule(epoch * perEpoch + i);
        const batch = await data.batch(batches[i]);
        const r = trainer.step(batch);
        if (r.skipped) skipped++;
        else {
          history.steps++;
          // a 'sum' loss is brought to a per-row mean like a 'mean' one
          const perRow = trainer.loss.reduction === 'sum' ? r.loss / batch.lossRows : r.loss;
          lossSum += perRow * batch.lossRows;
          rows += batch.lossRows;
        }
        await call(callbacks.onBatchEnd, {
          epoch,
          batch: i,
          batches: batches.length,
          step: trainer.steps,
          loss: r.loss,
          lr: r.lr,
          skipped: r.skipped,
        } satisfies BatchEndEvent);
        if (checkpoint && !r.skipped && trainer.steps % checkpoint.every === 0) {
          const at = { ...positionAt(epoch, i + 1), step: trainer.steps };
          // the file keeps the trainer's own base rate, not this fit's scheduled one, so that a
          // resumed fit scales the same base again
          const scheduled = trainer.baseLr;
          trainer.baseLr = base;
          let bytes: Uint8Array;
          try {
            bytes = checkpointToSafetensors(trainer, { info: { ...checkpoint.info, fit: at as unknown as JsonValue } });
          } finally {
            trainer.baseLr = scheduled;
          }
          await checkpoint.save(bytes, at);
        }
        await yieldToEventLoop();
      }
      const log: EpochLog = {
        epoch,
        loss: rows > 0 ? lossSum / rows : NaN,
        metric: NaN,
        lr,
        seconds: 0,
        paddingFraction: paddingFraction(data.lengths, batches),
        skipped,
      };
      let value: number;
      if (validation) {
        const result = evaluate(model, validation, { loss: trainer.loss, metrics: metric === 'loss' ? [] : [metric] });
        log.valLoss = result.loss;
        log.validation = result;
        value = result[metric] as number;
      } else {
        value = metric === 'perplexity' ? Math.exp(log.loss) : log.loss;
      }
      log.metric = value;
      const delta = early ? early.minDelta : 0;
      const improved = Number.isFinite(value) && (maximize ? value > best + delta : value < best - delta);
      if (improved || history.bestEpoch < 0) {
        if (improved) best = value;
        history.bestEpoch = epoch;
        sinceBest = 0;
        if (early?.restore) bestWeights = model.stateDict();
      } else {
        sinceBest++;
      }
      if (validation)
        await call(callbacks.onValidation, { epoch, result: log.validation!, metric: value, improved } satisfies ValidationEvent);
      log.seconds = (now() - started) / 1000;
      history.epochs.push(log);
      lossSum = 0;
      rows = 0;
      skipped = 0;
      next = { epoch: epoch + 1, batch: 0 };
      await call(callbacks.onEpochEnd, log);
      if (early && sinceBest >= early.patience) {
        history.stoppedEarly = true;
        await call(callbacks.onEarlyStop, { epoch, bestEpoch: history.bestEpoch, best } satisfies EarlyStopEvent);
        break;
      }
      if (signal?.aborted) {
        history.aborted = true;
        return history;
      }
    }
    if (bestWeights) model.loadStateDict(bestWeights);
    return history;
  } finally {
    history.position = positionAt(next.epoch, next.batch);
    if (!trainer.isDisposed) trainer.baseLr = base;
  }
}

function readEarlyStopping(
  v: unknown,
  metric: MetricName,
): { patience: number; minDelta: number; mode: 'min' | 'max'; restore: boolean } | null {
  if (v === undefined) return null;
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ConfigError('options.earlyStopping', 'an object { patience, minDelta?, mode?, restoreBestWeights? }', describe(v));
  const e = v as Record<string, unknown>;
  checkKeys('options.earlyStopping', e, ['patience', 'minDelta', 'mode', 'restoreBestWeights']);
  const patience = checkNumber('options.earlyStopping.patience', e.patience, DOMAINS.patience);
  const minDelta = e.minDelta === undefined ? 0 : checkNumber('options.earlyStopping.minDelta', e.minDelta, DOMAINS.minDelta);
  const mode = e.mode ?? 'auto';
  if (mode !== 'min' && mode !== 'max' && mode !== 'auto')
    throw new ConfigError('options.earlyStopping.mode', '"min", "max" or "auto"', describe(mode));
  const restore = bool('options.earlyStopping.restoreBestWeights', e.restoreBestWeights, true);
  return { patience, minDelta, mode: mode === 'auto' ? (higherIsBetter(metric) ? 'max' : 'min') : mode, restore };
}

function readStart(v: unknown, epochs: number): FitPosition {
  if (v === undefined) return { epoch: 0, batch: 0 };
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ConfigError('options.start', 'an object { epoch, batch }', describe(v));
  const s = v as Record<string, unknown>;
  checkKeys('options.start', s, ['epoch', 'batch', 'step', 'progress']);
  const epoch = checkNumber('options.start.epoch', s.epoch, DOMAINS.epoch);
  const batch = checkNumber('options.start.batch', s.batch, DOMAINS.position);
  if (epoch >= epochs) throw new ConfigError('options.start.epoch', `an epoch below options.epochs (${epochs})`, String(epoch));
  return { epoch, batch, ...(s.progress !== undefined ? { progress: readProgress(s.progress, 'options.start.progress') } : {}) };
}

function readCheckpoint(v: unknown): CheckpointHook | null {
  if (v === undefined) return null;
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ConfigError('options.checkpoint', 'an object { every, save }', describe(v));
  // read once, like every option: a getter must not answer the check and the use differently
  const every = (v as Record<string, unknown>).every,
    save = (v as Record<string, unknown>).save,
    info = (v as Record<string, unknown>).info;
  checkKeys('options.checkpoint', v, ['every', 'save', 'info']);
  checkNumber('options.checkpoint.every', every, DOMAINS.checkpointEvery);
  if (typeof save !== 'function')
    throw new ConfigError('options.checkpoint.save', 'a function (bytes, at) => void | Promise<void>', describe(save));
  if (info !== undefined && (info === null || typeof info !== 'object' || Array.isArray(info)))
    throw new ConfigError('options.checkpoint.info', 'an object of JSON values', describe(info));
  return { every: every as number, save: save as CheckpointHook['save'], ...(info ? { info: info as Record<string, JsonValue> } : {}) };
}

function bool(argument: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(argument, 'true or false', describe(v));
  return v;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

// setImmediate where there is one (Node); in a page a MessageChannel message, which unlike
// setTimeout(0) is not clamped to 4 ms once timers nest, so many small batches stay fast
let channel: { port1: MessagePort; port2: MessagePort; queue: (() => void)[] } | null = null;
const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => {
    const g = globalThis as { setImmediate?: (f: () => void) => void };
    if (typeof g.setImmediate === 'function') {
      g.setImmediate(resolve);
      return;
    }
    if (typeof MessageChannel === 'function') {
      if (!channel) {
        const c = new MessageChannel();
        const queue: (() => void)[] = [];
        c.port1.onmessage = () => {
          queue.shift()?.();
        };
        // where ports keep a process alive (Node without setImmediate), this one must not
        (c.port1 as MessagePort & { unref?: () => void }).unref?.();
        channel = { port1: c.port1, port2: c.port2, queue };
      }
      channel.queue.push(resolve);
      channel.port2.postMessage(0);
      return;
    }
    setTimeout(resolve, 0);
  });
