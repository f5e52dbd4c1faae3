// `unrolled fit`: fit() on numeric sequences from a CSV or JSON Lines file, with a validation
// split, early stopping, checkpoints and a progress bar (or epoch lines, or --json lines); and
// `unrolled eval MODEL --csv/--jsonl FILE`, evaluate() of a saved model or checkpoint on such a file.
import cliProgress from 'cli-progress';
import { createModel } from '../create.js';
import type { SequenceDataset } from '../data/dataset.js';
import type { SequenceFile } from '../data/sequence-file.js';
import type { Model } from '../model/model.js';
import { openSequenceFile, type SequenceFileOptions } from '../node/data-files.js';
import { saveCheckpoint } from '../node/checkpoint-files.js';
import { saveModel, saveSafetensors } from '../node/files.js';
import { restoreCheckpoint, type JsonValue } from '../train/checkpoint.js';
import { fit, type EpochLog } from '../train/fit.js';
import type { MetricName } from '../train/metrics.js';
import type { Core } from '../runtime/core.js';
import type { OptimizerSpec } from '../train/optimizers.js';
import { Trainer } from '../train/trainer.js';
import { commandFlags, type Flags } from './args.js';
import { asUsageError, dataFlags } from './data-flags.js';
import { checkNotAnInput, coreFor, engineName } from './config.js';
import {
  checkResumedData,
  checkResumedModel,
  checkResumedSettings,
  checkResumedShape,
  readFitCheckpoint,
  readSettings,
  type FitCheckpoint,
  type FitData,
  type FitInfo,
  type FitSettings,
} from './fit-resume.js';
import { flagHelp } from './flags.js';
import { classWeightsFit, layerConfig, layerFlags } from './layer-flags.js';
import { EXIT_CLOSED, Reporter, fmt, stopSignals, type CliIO } from './output.js';

const LAYOUTS = `Layouts (one of):
  CSV, one sequence per line:   label,v1,v2,...   (--label last: v1,...,label);
                                one target per sequence
  CSV, rows grouped by an id:   a header line, then one step per row;
                                --group-by id [--features a,b] [--targets y]
  JSON Lines, one per line:     {"x": [..], "y": [..]}   x: numbers or one array per
                                step; y: one per step, or one per sequence (--at last)
  JSON Lines, grouped:          {"id": .., "a": .., "y": ..} with --group-by id
                                --features a --targets y
A row that cannot be read stops with the file, line and column (exit code 2).`;

export const FIT_HELP = `Usage: unrolled fit --csv FILE | --jsonl FILE [options]

Trains a recurrent network on variable-length numeric sequences with fit(): epochs of
length-bucketed mini-batches, a validation split and metric after every epoch, early
stopping (--patience) that keeps the best weights, checkpoints and a saved model.

${LAYOUTS}

${flagHelp('fit')}

On a terminal a progress bar shows the epoch, the loss, the validation metric and the time
left; otherwise a line per epoch; --json prints the same as JSON lines (types header, resume,
epoch, early-stop, checkpoint, done, interrupted). Ctrl-C stops after the current batch and,
with --checkpoint, saves where it stopped: --resume PATH continues from there.
`;

/** The data file indexed, its batches read when fit draws them (a file of any size). */
const openData = (path: string, options: SequenceFileOptions): Promise<SequenceFile> =>
  asUsageError('fit', openSequenceFile(path, options));

function metricOf(f: Flags, data: { target: 'classes' | 'values' }, m: MetricName, hasValidation: boolean): MetricName {
  const classes = data.target === 'classes';
  if (!classes && (m === 'accuracy' || m === 'perplexity'))
    f.fail(`--metric ${m} needs --target classes (for values: loss or mae)`, '--metric');
  if (classes && m === 'mae') f.fail('--metric mae needs --target values (for classes: loss, accuracy or perplexity)', '--metric');
  if (!hasValidation && (m === 'accuracy' || m === 'mae')) f.fail(`--metric ${m} needs a validation set (--val-split > 0)`, '--metric');
  return m;
}

export async function fitCommand(args: string[], io: CliIO): Promise<number> {
  const f = commandFlags('fit', args, io, FIT_HELP);
  if (!f) return 0;
  const resumePath = f.file('resume');
  const resumed = resumePath !== undefined ? await readFitCheckpoint(resumePath) : null;
  const s = readSettings(f, resumed?.info.settings);
  if (resumed) checkResumedSettings(f, resumePath!, resumed.info.settings, s);
  const every = f.has('checkpoint-every') ? f.int('checkpoint-every') : (resumed?.info.checkpointEvery ?? undefined);
  const { epochs, batch: batchSize, seed, cell, patience } = s;
  if (f.has('nonlinearity') && cell !== 'rnn') f.fail('--nonlinearity is for --cell rnn', '--nonlinearity');
  layerFlags(f, { cell, hidden: s.hidden, layers: s.layers }, null, {
    projSize: s['proj-size'],
    bidirectional: s.bidirectional,
    dropout: s.dropout,
  });
  if (f.has('momentum') && s.optimizer !== 'sgd') f.fail('--momentum is for --optimizer sgd', '--momentum');
  if (f.has('min-delta') && patience === null) f.fail('--min-delta needs --patience', '--min-delta');
  const checkpointPath = f.file('checkpoint') ?? resumePath;
  if (every !== undefined && checkpointPath === undefined) f.fail('--checkpoint-every needs --checkpoint PATH', '--checkpoint-every');
  const savePath = f.file('save');
  const given = dataFlags(f);
  if (resumed && given) checkResumedData(f, resumePath!, resumed.info.data, given);
  const source =
    given ??
    (resumed ? { path: resumed.info.data.path, options: resumed.info.data.options } : undefined) ??
    f.fail('which data? give --csv FILE or --jsonl FILE (see unrolled fit --help)');
  const dataFlag = source.options.format === 'csv' ? '--csv' : '--jsonl';
  if (resumed) {
    const at = resumed.position;
    if (resumed.info.stoppedEarly)
      f.fail(`${resumePath} is the end of a run that stopped early (epoch ${at.epoch}): there is nothing to continue`, '--resume');
    if (at.epoch >= epochs)
      f.fail(`--epochs ${epochs}: the run in ${resumePath} has done ${at.epoch} epochs; give more epochs to continue it`, '--epochs');
  }
  const outputs: [string, string | undefined][] = [
    [f.has('checkpoint') || !resumed ? '--checkpoint' : '--resume', checkpointPath],
    ['--save', savePath],
  ];
  for (const [flag, out] of outputs)
    if (out !== undefined) await checkNotAnInput('fit', { flag, path: out }, [{ flag: dataFlag, path: source.path }]);
  if (checkpointPath !== undefined && checkpointPath === savePath) f.fail('--save and --checkpoint name the same file', '--save');

  const all = await openData(source.path, source.options);
  try {
    if (resumed) checkResumedShape(f, resumePath!, resumed.info.data, all, source.path, dataFlag);
    classWeightsFit(f, s['class-weights'], all);
    let train = all,
      validation: SequenceDataset | undefined;
    if (s['val-split'] > 0) {
      if (all.size < 2)
        f.fail(`--val-split needs at least two sequences (${source.path} has ${all.size}); give --val-split 0`, '--val-split');
      const [rest, heldOut] = all.split(s['val-split'], seed);
      train = rest;
      // the validation sequences are evaluated after every epoch: held in memory
      validation = await asUsageError('fit', heldOut.load());
    }
    const metric = metricOf(f, all, s.metric, validation !== undefined);
    const reporter = new Reporter(io, f.bool('json'));
    const core = await coreFor(s.backend, false);
    const engine = engineName(s.backend, core);
    const data: FitData = {
      path: source.path,
      options: source.options,
      sequences: all.size,
      inputSize: all.inputSize,
      targetSize: all.targetSize,
      target: all.target,
      at: all.at,
    };
    const { model, trainer } = resumed ? await restoreFit(resumePath!, resumed, s, core) : await freshFit(s, all, core);
    if (resumed && resumed.info.engine !== engine)
      io.err(
        `unrolled: note: the checkpoint was trained on ${resumed.info.engine} and this run uses ${engine}; the continuation may differ in the last bits from an uninterrupted run`,
      );
    const info = (extra: Partial<FitInfo> = {}): Record<string, JsonValue> =>
      JSON.parse(
        JSON.stringify({ unrolled_fit: 1, settings: s, data, checkpointEvery: every ?? null, engine, ...extra } satisfies FitInfo),
      );
    const start = resumed
      ? {
          epoch: resumed.position.epoch,
          batch: resumed.position.batch,
          ...(resumed.position.progress ? { progress: resumed.position.progress } : {}),
        }
      : undefined;
    const stop = stopSignals(io);
    let bar: cliProgress.MultiBar | null = null;
    try {
      const batches = Math.ceil(train.size / batchSize);
      const total = batches * epochs;
      const metricName = validation ? `val ${metric}` : metric === 'perplexity' ? 'perplexity' : 'train loss';
      reporter.emit(
        {
          type: 'header',
          command: 'fit',
          source: source.path,
          sequences: all.size,
          train: train.size,
          validation: validation?.size ?? 0,
          inputSize: all.inputSize,
          target: all.target,
          targetSize: all.targetSize,
          at: all.at,
          cell,
          hidden: model.config.hiddenSize,
          layers: model.config.numLayers,
          epochs,
          batchSize,
          batchesPerEpoch: batches,
          metric: metricName,
          parameters: model.numParameters,
        },
        `fit ${cell} on ${source.path}: ${all.size} sequences (${train.size} train, ${validation?.size ?? 0} validation), ${all.inputSize} input${all.inputSize === 1 ? '' : 's'} per step, ${all.target === 'classes' ? `${all.targetSize} classes` : `${all.targetSize} value${all.targetSize === 1 ? '' : 's'}`} at ${all.at === 'every' ? 'every step' : 'the last step'}; ${model.numParameters} parameters`,
      );
      let barState = { epoch: '1', loss: '-', val: '-' };
      if (!f.bool('json') && io.tty && io.stream) {
        bar = new cliProgress.MultiBar({
          stream: io.stream,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
          fps: 10,
          format: `fit |{bar}| {value}/{total} | epoch {epoch}/${epochs} | loss {loss} | ${metricName} {val} | ETA {eta_formatted}`,
          barCompleteChar: '\u2588',
          barIncompleteChar: '\u2591',
        });
      }
      const done0 = start ? start.epoch * batches + start.batch : 0;
      if (resumed)
        reporter.emit(
          { type: 'resume', path: resumePath, step: resumed.step, epoch: resumed.position.epoch + 1, batch: resumed.position.batch },
          `resumed from ${resumePath} at step ${resumed.step} (epoch ${resumed.position.epoch + 1}, ${resumed.position.batch} of ${batches} batches done)`,
        );
      const progress = bar?.create(total, done0, barState) ?? null;
      const log = (text: string): void => {
        if (bar) bar.log(`${text}\n`);
      };
      const ac = new AbortController();
      const started = performance.now();
      let lossSum = 0,
        lossN = 0;
      const history = await fit(trainer, train, {
        epochs,
        batchSize,
        seed,
        metric,
        signal: ac.signal,
        ...(start ? { start } : {}),
        ...(validation ? { validation } : {}),
        ...(patience !== null ? { earlyStopping: { patience, minDelta: s['min-delta'] } } : {}),
        ...(checkpointPath !== undefined && every !== undefined
          ? {
              checkpoint: {
                every,
                info: info(),
                save: async (bytes: Uint8Array, at: { step: number; epoch: number }) => {
                  await saveSafetensors(checkpointPath, bytes);
                  const obj = { type: 'checkpoint', path: checkpointPath, step: at.step, epoch: at.epoch, bytes: bytes.length };
                  if (bar) log(`checkpoint ${checkpointPath} at step ${at.step}`);
                  else reporter.emit(obj, `checkpoint ${checkpointPath} at step ${at.step}`);
                },
              },
            }
          : {}),
        onBatchEnd: (e) => {
          if (!e.skipped) {
            lossSum += e.loss;
            lossN++;
          }
          if (progress) {
            barState = { ...barState, epoch: String(e.epoch + 1), loss: lossN ? fmt(lossSum / lossN) : '-' };
            progress.update(e.epoch * batches + e.batch + 1, barState);
          }
          if (stop.reason) ac.abort();
        },
        onEpochEnd: (l: EpochLog) => {
          lossSum = 0;
          lossN = 0;
          const done = (l.epoch + 1) * batches,
            elapsed = (performance.now() - started) / 1000;
          const eta = done >= total ? 0 : (elapsed / done) * (total - done);
          const obj = {
            type: 'epoch',
            epoch: l.epoch + 1,
            epochs,
            step: trainer.steps,
            total,
            loss: l.loss,
            ...(l.valLoss !== undefined ? { valLoss: l.valLoss } : {}),
            metric: metricName,
            value: l.metric,
            lr: l.lr,
            seconds: l.seconds,
            eta,
            paddingFraction: l.paddingFraction,
            skipped: l.skipped,
          };
          const text = `epoch ${l.epoch + 1}/${epochs}  loss ${fmt(l.loss)}${l.valLoss !== undefined ? `  val loss ${fmt(l.valLoss)}` : ''}${metricName.endsWith('loss') ? '' : `  ${metricName} ${fmt(l.metric)}`}  lr ${l.lr.toPrecision(3)}  ${l.seconds.toFixed(2)} s  padding ${(100 * l.paddingFraction).toFixed(1)}%`;
          if (progress) {
            barState = { ...barState, val: fmt(l.metric) };
            progress.update(done, barState);
            log(text);
          } else reporter.emit(obj, text);
        },
        onEarlyStop: (e) => {
          const text = `early stop after epoch ${e.epoch + 1}: no improvement of ${metricName} for ${patience} epoch${patience === 1 ? '' : 's'}; keeping epoch ${e.bestEpoch + 1} (${fmt(e.best)})`;
          if (bar) log(text);
          else reporter.emit({ type: 'early-stop', epoch: e.epoch + 1, bestEpoch: e.bestEpoch + 1, best: e.best }, text);
        },
      });
      if (bar) {
        bar.update();
        bar.stop();
        bar = null;
      }
      // where the run stands, as fit's periodic checkpoints say it: --resume continues from here
      const position = { ...history.position, step: trainer.steps } as unknown as JsonValue;
      if (checkpointPath !== undefined)
        await saveCheckpoint(checkpointPath, trainer, {
          info: { ...info(history.stoppedEarly ? { stoppedEarly: true } : {}), fit: position },
        });
      if (savePath !== undefined)
        await saveModel(model, savePath, {
          unrolled_fit: JSON.stringify({
            source: source.path,
            target: all.target,
            at: all.at,
            epochs: history.position.epoch,
            bestEpoch: history.bestEpoch + 1,
          }),
        });
      if (history.aborted) {
        reporter.emit(
          { type: 'interrupted', reason: stop.reason, step: trainer.steps },
          `interrupted at step ${trainer.steps}${checkpointPath ? ` (resume with --resume ${checkpointPath})` : ''}`,
        );
        return stop.reason === 'EPIPE' ? EXIT_CLOSED : 130;
      }
      const best = history.position.progress?.best ?? NaN;
      reporter.emit(
        {
          type: 'done',
          epochs: history.position.epoch,
          steps: history.steps,
          stoppedEarly: history.stoppedEarly,
          bestEpoch: history.bestEpoch + 1,
          metric: metricName,
          best,
          ...(savePath ? { saved: savePath } : {}),
          ...(checkpointPath ? { checkpoint: checkpointPath } : {}),
        },
        `done: ${history.position.epoch} epoch${history.position.epoch === 1 ? '' : 's'}, ${history.steps} steps; best ${metricName} ${fmt(best)} at epoch ${history.bestEpoch + 1}${savePath ? `; model saved to ${savePath}` : ''}`,
      );
      return 0;
    } finally {
      if (bar) bar.stop();
      stop.dispose();
      model.dispose();
    }
  } finally {
    await all.close();
  }
}

/** A new model and trainer for the settings and the data. */
async function freshFit(s: FitSettings, all: SequenceFile, core: Core | undefined): Promise<{ model: Model; trainer: Trainer }> {
  const model = await createModel({
    backend: s.backend,
    ...(core ? { core } : {}),
    cell: s.cell,
    ...(s.cell === 'rnn' ? { nonlinearity: s.nonlinearity } : {}),
    hiddenSize: s.hidden,
    numLayers: s.layers,
    ...layerConfig({ projSize: s['proj-size'], bidirectional: s.bidirectional, dropout: s.dropout }),
    seed: s.seed,
    inputSize: all.inputSize,
    outputSize: all.targetSize,
    input: 'dense',
  });
  try {
    const { lr, momentum, optimizer } = s;
    const wd = s['weight-decay'] !== null ? { weightDecay: s['weight-decay'] } : {};
    const trainer = new Trainer(model, {
      loss: { ...all.lossSpec(), ...(s['class-weights'] ? { classWeights: s['class-weights'] } : {}) },
      optimizer: (optimizer === 'sgd' ? { name: 'sgd', lr, momentum, ...wd } : { name: optimizer, lr, ...wd }) as OptimizerSpec,
      ...(s.clip > 0 ? { clipNorm: s.clip } : {}),
      ...(s['clip-value'] !== null ? { clipValue: s['clip-value'] } : {}),
    });
    return { model, trainer };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** The model and trainer of a fit checkpoint (weights, optimizer moments and step, sampler state). */
async function restoreFit(
  path: string,
  resumed: FitCheckpoint,
  s: FitSettings,
  core: Core | undefined,
): Promise<{ model: Model; trainer: Trainer }> {
  const r = await restoreCheckpoint(resumed.bytes, { backend: s.backend, ...(core ? { core } : {}) });
  try {
    checkResumedModel(path, s, resumed.info.data, r.model);
  } catch (e) {
    r.trainer.dispose();
    r.model.dispose();
    throw e;
  }
  return r;
}
