// `unrolled eval`: the loss of a checkpoint on its task's data (fresh batches of a synthetic task)
// or on a text (the char task: one pass over the text, state carried from chunk to chunk); also of
// a char model file that saveModel() wrote, on a text.
import { TokenStream } from '../data/stream.js';
import type { ResolvedLoss } from '../model/loss.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import { resolveLoss } from '../model/loss.js';
import { commandFlags } from './args.js';
import { dataForStored, readModelSource } from './config.js';
import { dataFlags } from './data-flags.js';
import { evalFileCommand } from './eval-file.js';
import { flagHelp } from './flags.js';
import { Reporter, fmt, type CliIO, type Event } from './output.js';
import { modelOf } from './sample.js';
import { batchMaker, copyShape, lossOf, readText, taskMetrics, type CharData, type RunConfig } from './tasks.js';
import * as adding from '../data/tasks/adding.js';

export const EVAL_HELP = `Usage: unrolled eval FILE [options]

The loss of a checkpoint written by unrolled train on its task: fresh batches of a synthetic
task, or one pass over a text for the char task (cross-entropy in nats and bits per character).
FILE may also be a char model file that saveModel() wrote, evaluated on --text (default: the
built-in corpus) in chunks of 64 characters; its vocabulary comes from its metadata
(unrolled_vocab) or from that text. With --csv or --jsonl, FILE (a model file or any
checkpoint, e.g. from unrolled fit) is evaluated on those sequences instead: the loss, and
accuracy and perplexity for classes or the mean absolute error for values.

${flagHelp('eval')}
`;

/** Characters per chunk when a model file (which records no training configuration) is evaluated on a text. */
const MODEL_FILE_CHUNK = 64;

export interface EvalResult {
  loss: number;
  sequences: number;
  batches: number;
  metrics: Record<string, number>;
}

/** Mean loss (and task measures) over `batches` fresh batches of a synthetic task. */
export function evaluate(model: Model, loss: ResolvedLoss, run: RunConfig, o: { batches: number; B: number; seed: number }): EvalResult {
  const rng = new Rng(o.seed);
  const gen = batchMaker(run, o.B);
  let sum = 0;
  const metrics: Record<string, number> = {};
  for (let i = 0; i < o.batches; i++) {
    const batch = gen(rng);
    sum += model.lossAndGradients(batch, loss).loss;
    for (const [k, v] of Object.entries(taskMetrics(run, model, batch))) metrics[k] = (metrics[k] ?? 0) + v / o.batches;
  }
  return { loss: sum / o.batches, sequences: o.batches * o.B, batches: o.batches, metrics };
}

/** Cross-entropy of a char model over one pass of a text: B rows, chunks of T, state carried. */
export function evaluateText(model: Model, loss: ResolvedLoss, data: CharData, B: number, T: number): { loss: number; characters: number } {
  const n = data.ids.length;
  if (n < 2) return { loss: NaN, characters: 0 };
  B = Math.max(1, Math.min(B, Math.floor((n - 1) / Math.min(T, n - 1))));
  T = Math.min(T, Math.floor((n - 1) / B));
  const stream = new TokenStream(data.ids, { T, B, vocabSize: data.vocab.size });
  let h: ArrayLike<number> | undefined, c: ArrayLike<number> | undefined;
  let sum = 0;
  for (let k = 0; k < stream.chunksPerEpoch; k++) {
    const chunk = stream.next();
    const r = model.lossAndGradients({ x: chunk.x, y: chunk.y, T, B, h0: h, c0: c }, loss);
    sum += r.loss;
    h = r.hN;
    c = r.cN ?? undefined;
  }
  return { loss: sum / stream.chunksPerEpoch, characters: stream.chunksPerEpoch * T * B };
}

/** The eval event of a char model on a text (cross-entropy in nats and bits per character, perplexity). */
function textEvalEvent(source: string, step: number | null, r: { loss: number; characters: number }): { obj: Event; text: string } {
  const bits = r.loss / Math.LN2,
    perplexity = Math.exp(r.loss);
  return {
    obj: { type: 'eval', task: 'char', step, source, characters: r.characters, loss: r.loss, bitsPerCharacter: bits, perplexity },
    text: `${source}: ${r.characters} characters, cross-entropy ${fmt(r.loss)} nats (${fmt(bits, 3)} bits) per character, perplexity ${fmt(perplexity, 2)}`,
  };
}

/** The eval event of a synthetic task. */
export function evalEvent(run: RunConfig, r: EvalResult): { obj: Event; text: string } {
  const m = r.metrics;
  let detail = '';
  const extra: Record<string, unknown> = {};
  switch (run.task) {
    case 'adding': {
      const verdict =
        r.loss < 0.1 * adding.BASELINE_MSE ? 'solved' : r.loss < 0.8 * adding.BASELINE_MSE ? 'learning' : 'at the baseline (no memory yet)';
      Object.assign(extra, { mse: r.loss, baseline: m.baselineMSE, baselineExpected: adding.BASELINE_MSE, verdict });
      detail = `MSE ${fmt(r.loss)} vs ${fmt(m.baselineMSE)} for always answering 1 (expected 0.167): ${verdict}`;
      break;
    }
    case 'copy':
      Object.assign(extra, { baseline: m.baselineLoss });
      detail = `cross-entropy per recall step ${fmt(r.loss)} vs ${fmt(m.baselineLoss)} for guessing among ${copyShape(run.seq).K} symbols`;
      break;
    case 'reber':
      Object.assign(extra, { allowedAccuracy: m.allowedAccuracy });
      detail = `cross-entropy ${fmt(r.loss)}; the most likely next symbol is allowed by the grammar ${(100 * m.allowedAccuracy).toFixed(1)}% of the time`;
      break;
    case 'sine':
      Object.assign(extra, { mse: r.loss, baseline: m.persistenceMSE });
      detail = `MSE ${fmt(r.loss)} vs ${fmt(m.persistenceMSE)} for repeating the last value`;
      break;
    default:
      detail = `loss ${fmt(r.loss)}`;
  }
  return {
    obj: { type: 'eval', task: run.task, sequences: r.sequences, batches: r.batches, loss: r.loss, ...extra },
    text: `${run.task} on ${r.sequences} fresh sequences: ${detail}`,
  };
}

export async function evalCommand(args: string[], io: CliIO): Promise<number> {
  const f = commandFlags('eval', args, io, EVAL_HELP, 1);
  if (!f) return 0;
  const path = f.positional(0, 'which checkpoint or model file? (unrolled eval FILE)');
  const file = dataFlags(f);
  if (file) return evalFileCommand(f, path, file, io);
  const batches = f.int('batches');
  const seed = f.int('seed');
  const backendFlag = f.has('backend') ? f.choice<'wasm' | 'js'>('backend') : undefined;
  const text = f.file('text');
  const src = await readModelSource('eval', path);
  const reporter = new Reporter(io, f.bool('json'));
  if (src.kind === 'model') {
    if (src.metadata.unrolled_task !== undefined && src.metadata.unrolled_task !== 'char')
      f.fail(`${path} is a ${src.metadata.unrolled_task} model file; eval reads char model files (and checkpoints of every task)`);
    const B = f.int('batch', 32);
    const source = text ?? 'the built-in corpus';
    const body = await readText('eval', text ?? null);
    const m = await modelOf(f, path, src, backendFlag);
    try {
      const vocab = m.vocab!;
      let ids: Int32Array;
      try {
        ids = vocab.encode(body);
      } catch {
        return f.fail(
          `${source} has characters outside the model's vocabulary of ${vocab.size} (give the text it was trained on with --text)`,
          '--text',
        );
      }
      const r = evaluateText(m.model, resolveLoss(lossOf('char')), { text: body, ids, vocab }, B, MODEL_FILE_CHUNK);
      const ev = textEvalEvent(source, m.step, r);
      reporter.emit(ev.obj, `${ev.text} (model file${m.step !== null ? ` at step ${m.step}` : ''})`);
      return 0;
    } finally {
      m.dispose();
    }
  }
  const run = src.info.run;
  if (text !== undefined && run.task !== 'char') f.fail(`--text is for char checkpoints (this one is task ${run.task})`, '--text');
  const B = f.int('batch', run.batch);
  const data = await dataForStored('eval', run, text, false);
  const m = await modelOf(f, path, src, backendFlag);
  const loss = resolveLoss(lossOf(run.task));
  try {
    if (data) {
      const T = run.tbptt?.k1 ?? run.seq;
      const r = evaluateText(m.model, loss, data, B, T);
      const source = text ?? run.text ?? 'the built-in corpus';
      const ev = textEvalEvent(source, src.step, r);
      reporter.emit(ev.obj, `${ev.text} (checkpoint at step ${src.step})`);
    } else {
      const r = evaluate(m.model, loss, run, { batches, B, seed });
      const ev = evalEvent(run, r);
      reporter.emit({ ...ev.obj, step: src.step }, `${ev.text} (checkpoint at step ${src.step})`);
    }
    return 0;
  } finally {
    m.dispose();
  }
}
