// `unrolled eval`: the loss of a checkpoint on its task's data (fresh batches of a synthetic task)
// or on a text (the char task: one pass over the text, state carried from chunk to chunk).
import { TokenStream } from '../data/stream.js';
import type { ResolvedLoss } from '../model/loss.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import { restoreCheckpoint } from '../train/checkpoint.js';
import { Flags, parse, type OptionSpec } from './args.js';
import { checkConsistent, coreFor, dataForStored, readCliCheckpoint } from './config.js';
import { Reporter, fmt, type CliIO, type Event } from './output.js';
import { batchMaker, copyShape, taskMetrics, type CharData, type RunConfig } from './tasks.js';
import * as adding from '../data/tasks/adding.js';

export const EVAL_HELP = `Usage: unrolled eval CHECKPOINT [options]

The loss of a checkpoint written by unrolled train on its task: fresh batches of a synthetic
task, or one pass over a text for the char task (cross-entropy in nats and bits per character).

Options:
  --text FILE            char task: evaluate on this text (default: the training text)
  --batches N            synthetic tasks: batches to average, default 10
  --batch B              sequences per batch (default: the training batch)
  --seed N               seed of the evaluation data, default 12345 (not the training data's)
  --backend wasm|js      default: the checkpoint's backend
  --json                 one JSON object
  -h, --help             this help
`;

const EVAL_OPTIONS: OptionSpec = {
  text: { type: 'string' },
  batches: { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export interface EvalResult { loss: number; sequences: number; batches: number; metrics: Record<string, number> }

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

/** The eval event of a synthetic task. */
export function evalEvent(run: RunConfig, r: EvalResult): { obj: Event; text: string } {
  const m = r.metrics;
  let detail = '';
  const extra: Record<string, unknown> = {};
  switch (run.task) {
    case 'adding': {
      const verdict = r.loss < 0.1 * adding.BASELINE_MSE ? 'solved' : r.loss < 0.8 * adding.BASELINE_MSE ? 'learning' : 'at the baseline (no memory yet)';
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
  const p = parse('eval', args, EVAL_OPTIONS, 1);
  if (p.values.help) { io.out(EVAL_HELP); return 0; }
  const f = new Flags('eval', p);
  const path = p.positionals[0];
  if (path === undefined) f.fail('which checkpoint? (unrolled eval CHECKPOINT)');
  const batches = f.int('batches', 10, 1, 1e6);
  const seed = f.int('seed', 12345, 0, 0xffffffff);
  const backendFlag = f.has('backend') ? f.choice('backend', ['wasm', 'js'] as const, 'wasm') : undefined;
  const text = f.file('text');
  const ck = await readCliCheckpoint('eval', path);
  const run = ck.info.run;
  if (text !== undefined && run.task !== 'char') f.fail(`--text is for char checkpoints (this one is task ${run.task})`);
  const B = f.int('batch', run.batch, 1, 1 << 16);
  const data = await dataForStored('eval', run, text, false);
  const backend = backendFlag ?? run.backend;
  const core = await coreFor(backend, false);
  const { model, trainer } = await restoreCheckpoint(ck.bytes, { backend, core });
  try {
    checkConsistent('eval', path, run, model, trainer);
  } catch (e) {
    trainer.dispose();
    model.dispose();
    throw e;
  }
  const reporter = new Reporter(io, f.bool('json'));
  try {
    if (data) {
      const T = run.tbptt?.k1 ?? run.seq;
      const r = evaluateText(model, trainer.loss, data, B, T);
      const source = text ?? run.text ?? 'the built-in corpus';
      reporter.emit(
        { type: 'eval', task: 'char', step: ck.step, source, characters: r.characters, loss: r.loss, bitsPerCharacter: r.loss / Math.LN2, perplexity: Math.exp(r.loss) },
        `${source}: ${r.characters} characters, cross-entropy ${fmt(r.loss)} nats (${fmt(r.loss / Math.LN2, 3)} bits) per character, perplexity ${fmt(Math.exp(r.loss), 2)} (checkpoint at step ${ck.step})`,
      );
    } else {
      const r = evaluate(model, trainer.loss, run, { batches, B, seed });
      const ev = evalEvent(run, r);
      reporter.emit({ ...ev.obj, step: ck.step }, `${ev.text} (checkpoint at step ${ck.step})`);
    }
    return 0;
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
