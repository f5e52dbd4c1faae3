// `unrolled train`: trains a model on a task, with checkpoints (--checkpoint, --checkpoint-every),
// exact resumption (--resume), gradient-norm diagnostics (--diagnose) and progress output.
import { PrimePicker } from '../data/prime.js';
import type { Model } from '../model/model.js';
import type { Trainer } from '../train/trainer.js';
import { restoreCheckpoint } from '../train/checkpoint.js';
import { saveCheckpoint } from '../node/checkpoint-files.js';
import { resolveWriteTarget } from '../node/files.js';
import { FileError } from '../errors.js';
import { commandFlags, EnvironmentError, type Flags, normaliseOptionalValue, UsageError } from './args.js';
import {
  buildFresh,
  checkConsistent,
  checkNotAnInput,
  checkResumeFlags,
  cliInfo,
  coreFor,
  dataForStored,
  engineName,
  freshFieldsForComparison,
  readCliCheckpoint,
  runConfigFromFlags,
} from './config.js';
import { evaluate, evalEvent } from './eval.js';
import { flagHelp } from './flags.js';
import { layerConfig } from './layer-flags.js';
import { EXIT_CLOSED, Reporter, diagnoseEvent, fmt, stopSignals, type CliIO } from './output.js';
import { makeSource, taskText, type CharData, type RunConfig } from './tasks.js';

export const TRAIN_HELP = `Usage: unrolled train [options]

Trains a recurrent network with backpropagation through time and prints its progress.

${flagHelp('train')}

On a terminal a progress bar shows steps/s, the loss and the time left; otherwise each line
shows the step, the mean loss since the previous line, the gradient norm before clipping and
steps per second. Ctrl-C stops after the current step, saves a checkpoint (with --checkpoint)
and exits with code 130; a second Ctrl-C exits at once. If the reader of the output goes away
(e.g. | head), training stops the same way, quietly (exit code 141).
`;

export async function train(args: string[], io: CliIO): Promise<number> {
  const f = commandFlags('train', normaliseOptionalValue(args, 'diagnose'), io, TRAIN_HELP);
  if (!f) return 0;
  const steps = f.int('steps');
  const every = f.int('every');
  const json = f.bool('json');
  const diagnose = f.has('diagnose') ? f.int('diagnose') || every : 0;
  const resumePath = f.file('resume');
  const checkpointPath = f.file('checkpoint') ?? resumePath;
  if (f.has('checkpoint-every') && checkpointPath === undefined) f.fail('--checkpoint-every needs --checkpoint PATH', '--checkpoint-every');
  if (f.bool('reproducible') && f.bool('relaxed')) f.fail('--reproducible and --relaxed contradict each other', '--relaxed');
  const relaxed = f.bool('relaxed');
  const threads = f.int('threads');
  const sampleLength = f.int('sample');
  const temperature = f.float('temperature');

  // the configuration and the data first: mistakes fail before anything is loaded
  let run: RunConfig, data: CharData | null;
  let resumed: { bytes: Uint8Array; iterations: number; engine: string; every: number | null } | null = null;
  if (resumePath !== undefined) {
    const ck = await readCliCheckpoint('train', resumePath, '--resume');
    checkResumeFlags(f, ck.info.run, freshFieldsForComparison(f, ck.info.run, steps));
    run = ck.info.run;
    data = await dataForStored('train', run, f.file('text'), true);
    const iterations = (ck.info as { iterations?: unknown }).iterations;
    resumed = {
      bytes: ck.bytes,
      engine: ck.info.engine,
      every: ck.info.checkpointEvery,
      iterations: typeof iterations === 'number' && Number.isSafeInteger(iterations) && iterations >= ck.step ? iterations : ck.step,
    };
  } else {
    ({ run, data } = await runConfigFromFlags(f, steps));
  }
  if (checkpointPath !== undefined) {
    const flag = f.has('checkpoint') ? '--checkpoint' : '--resume';
    await checkWritable(f, flag, checkpointPath);
    // the checkpoint being resumed is meant to be replaced; the text never is
    await checkNotAnInput('train', { flag, path: checkpointPath }, [{ flag: '--text', path: f.file('text') ?? run.text }]);
  }
  const checkpointEvery = f.has('checkpoint-every') ? f.int('checkpoint-every') : (resumed?.every ?? null);
  const source = makeSource('train', run, data);

  const core = await coreFor(run.backend, relaxed, threads);
  const engine = engineName(run.backend, core);
  let model: Model, trainer: Trainer;
  if (resumed) {
    ({ model, trainer } = await restoreCheckpoint(resumed.bytes, { backend: run.backend, core }).then((r) => {
      try {
        checkConsistent('train', resumePath!, run, r.model, r.trainer);
        source.restore(r.extra.data);
      } catch (e) {
        r.trainer.dispose();
        r.model.dispose();
        throw e;
      }
      return r;
    }));
    if (resumed.engine !== engine) {
      io.err(
        `unrolled: note: the checkpoint was trained on ${resumed.engine} and this run uses ${engine}; the continuation may differ in the last bits from an uninterrupted run`,
      );
    }
  } else {
    ({ model, trainer } = await buildFresh(run, core));
  }

  const reporter = new Reporter(io, json);
  const stop = stopSignals(io);
  try {
    const start = resumed?.iterations ?? 0;
    header(reporter, run, model, data, steps, engine, core !== undefined && core.variant !== 'scalar', start, resumePath);

    const save = async (s: number): Promise<void> => {
      let bytes: number;
      try {
        bytes = await saveCheckpoint(checkpointPath!, trainer, {
          data: source.position(),
          ...(run.schedule ? { schedule: run.schedule } : {}),
          info: { ...(cliInfo(run, checkpointEvery, engine) as object), iterations: s },
        });
      } catch (e) {
        if (e instanceof FileError) {
          const why = e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
          const msg = `train: could not save the checkpoint at step ${s} to ${checkpointPath}: ${e.errno ? `${e.errno}: ` : ''}${why} (the previous checkpoint, if any, is intact)`;
          // a full or failing disk is the environment's fault (exit 1); a path that cannot be a file is the user's (exit 2)
          if (['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENOENT', 'EACCES', 'EPERM'].includes(e.errno ?? ''))
            throw new EnvironmentError(msg);
          throw new UsageError(msg, '--checkpoint');
        }
        throw e;
      }
      reporter.emit(
        { type: 'checkpoint', step: s, path: checkpointPath!, bytes },
        `checkpoint: step ${s} saved to ${checkpointPath} (${(bytes / 1024).toFixed(1)} KiB)`,
      );
    };

    const started = performance.now();
    let lastTime = started,
      lastStep = start,
      sum = 0,
      count = 0,
      skipped = 0;
    let firstLoss = NaN,
      finalLoss = NaN,
      lineLoss = NaN;
    reporter.startBar(start, steps);
    let s = start;
    while (s < steps) {
      s++;
      const diag = diagnose > 0 && s % diagnose === 0;
      const r = source.next(trainer, diag);
      if (r.skipped) {
        skipped++;
        reporter.emit(
          { type: 'skipped', step: s, loss: r.loss, gradNorm: r.gradNorm },
          `step ${s}: skipped (loss ${r.loss}, gradient norm ${r.gradNorm}): nothing changed`,
        );
      } else {
        sum += r.loss;
        count++;
        if (Number.isNaN(firstLoss)) firstLoss = r.loss;
        finalLoss = r.loss;
      }
      if (diag && r.gradNormsOverTime) {
        const d = diagnoseEvent(s, r.gradNormsOverTime);
        reporter.emit(d.obj, d.text);
      }
      if (s === start + 1 || s % every === 0 || s === steps) {
        const now = performance.now();
        const rate = (s - lastStep) / ((now - lastTime) / 1000);
        lineLoss = count ? sum / count : NaN;
        const obj = {
          type: 'step',
          step: s,
          loss: lineLoss,
          lastLoss: r.loss,
          gradNorm: r.gradNorm,
          clipped: r.clipped,
          lr: r.lr,
          stepsPerSecond: rate,
        };
        const text = `step ${String(s).padStart(String(steps).length)}  loss ${fmt(lineLoss)}  grad ${fmt(r.gradNorm, 3)}${r.clipped ? ' (clipped)' : '          '}  ${rate.toFixed(1)} steps/s`;
        if (reporter.barActive) reporter.updateBar(s, lineLoss, rate);
        else reporter.emit(obj, text);
        lastTime = now;
        lastStep = s;
        sum = 0;
        count = 0;
      } else if (reporter.barActive) {
        reporter.updateBar(s, lineLoss, NaN);
      }
      if (checkpointPath !== undefined && ((checkpointEvery !== null && s % checkpointEvery === 0) || s === steps)) await save(s);
      // signals and a closed stdout are seen only between steps: look after every one, so that
      // Ctrl-C stops within one step (a yield costs microseconds; a step, at least tens of them)
      await new Promise((resolve) => setImmediate(resolve));
      if (stop.reason !== null && s < steps) {
        reporter.stopBar();
        if (checkpointPath !== undefined && !(checkpointEvery !== null && s % checkpointEvery === 0)) await save(s);
        if (stop.reason === 'EPIPE') return EXIT_CLOSED;
        reporter.emit(
          { type: 'interrupted', step: s },
          `interrupted at step ${s}${checkpointPath ? ` (resume with --resume ${checkpointPath})` : ''}`,
        );
        return 130;
      }
    }
    reporter.stopBar();
    const seconds = (performance.now() - started) / 1000;
    const ran = steps - start;
    reporter.emit(
      { type: 'done', steps, from: start, ran, skipped, seconds, stepsPerSecond: ran / seconds, firstLoss, finalLoss },
      ran === 0
        ? `done: the checkpoint is already at step ${start} of ${steps} (raise --steps to train on)`
        : `done: ${ran} steps in ${seconds.toFixed(1)} s (${(ran / seconds).toFixed(1)} steps/s), loss ${fmt(firstLoss)} -> ${fmt(finalLoss)}${skipped ? `, ${skipped} skipped` : ''}`,
    );

    if (data) {
      if (sampleLength > 0) sampleAtEnd(reporter, model, data, run.seed, sampleLength, temperature);
    } else {
      const result = evaluate(model, trainer.loss, run, { batches: 1, B: 256, seed: (run.seed ^ 0x9e3779b9) >>> 0 });
      const ev = evalEvent(run, result);
      reporter.emit(ev.obj, `\n${ev.text}`);
    }
    return 0;
  } finally {
    reporter.stopBar();
    stop.dispose();
    trainer.dispose();
    model.dispose();
    if (threads > 1) core?.dispose();
  }
}

/** The checkpoint path must be one a file can be written to (its directory exists, it is no directory, no dangling link). */
async function checkWritable(f: Flags, flag: string, path: string): Promise<void> {
  try {
    await resolveWriteTarget(path);
  } catch (e) {
    if (e instanceof FileError) f.fail(`${flag} ${e.message}`, flag);
    throw e;
  }
}

function header(
  reporter: Reporter,
  run: RunConfig,
  model: Model,
  data: CharData | null,
  steps: number,
  engine: string,
  simd: boolean,
  start: number,
  resumePath: string | undefined,
): void {
  const cellText = run.cell === 'rnn' ? `rnn ${run.nonlinearity}` : run.cell;
  const tb =
    run.tbptt && run.tbptt.k2 !== run.tbptt.k1
      ? `, TBPTT(${run.tbptt.k1}, ${run.tbptt.k2})`
      : run.task === 'char'
        ? ' (stateful truncated BPTT)'
        : '';
  const sched = run.schedule ? `, schedule ${JSON.stringify(run.schedule)}` : '';
  reporter.emit(
    {
      type: 'header',
      task: run.task,
      cell: run.cell,
      nonlinearity: run.cell === 'rnn' ? run.nonlinearity : null,
      init: run.init,
      hidden: run.hidden,
      layers: run.layers,
      ...layerConfig(run),
      batch: run.batch,
      seq: run.seq,
      tbptt: run.tbptt,
      steps,
      optimizer: run.optimizer,
      lr: run.lr,
      schedule: run.schedule,
      clip: run.clip,
      clipValue: run.clipValue,
      seed: run.seed,
      parameters: model.numParameters,
      backend: run.backend,
      engine,
      simd,
      ...(data ? { source: run.text ?? 'the built-in corpus', characters: data.ids.length, vocab: data.vocab.size } : {}),
      resumedFrom: resumePath === undefined ? null : start,
    },
    [
      `unrolled train: ${taskText(run, data?.ids.length)}`,
      `  model    ${cellText}${run.bidirectional ? ' bidirectional' : ''}, ${run.layers} x ${run.hidden} hidden${run.projSize ? `, projected to ${run.projSize}` : ''}${run.dropout ? `, dropout ${run.dropout}` : ''}, init ${run.init}, ${model.numParameters.toLocaleString('en-US')} parameters`,
      `  training ${steps} steps of batch ${run.batch} x ${run.seq}${tb}, ${run.optimizer} lr ${run.lr}${sched}, clip ${run.clip ?? 'off'}${run.clipValue ? `, clip-value ${run.clipValue}` : ''}, seed ${run.seed}`,
      `  backend  ${run.backend === 'wasm' ? `${engine} (${simd ? 'SIMD' : 'scalar, no SIMD in this engine'})` : 'js (reference TypeScript)'}`,
      ...(resumePath !== undefined ? [`  resumed  from ${resumePath} at step ${start}`] : []),
    ].join('\n'),
  );
  if (resumePath !== undefined) reporter.emit({ type: 'resume', path: resumePath, step: start }, null);
}

/** Generates characters after a prime: the start of a seeded, randomly chosen line of the text. */
function sampleAtEnd(reporter: Reporter, model: Model, data: CharData, seed: number, length: number, temperature: number): void {
  const { text, vocab } = data;
  const prime = defaultPrime(text, seed);
  const out = model.generate({ prime: vocab.encode(prime), length, temperature, seed });
  const sample = vocab.decode(out);
  reporter.emit(
    { type: 'sample', prime, temperature, text: sample },
    `\nsample (temperature ${temperature}, prime ${JSON.stringify(prime)}):\n\n${prime}${sample}\n`,
  );
}

/** The start of a seeded, randomly chosen line of the text (at most 24 characters, cut at a space). */
export function defaultPrime(text: string, seed: number): string {
  return new PrimePicker(text, seed).next();
}
