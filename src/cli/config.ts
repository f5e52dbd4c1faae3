// The flags that define a model and its training (shared by train, bench and gradcheck), their
// help text, and checkpoints as the command line writes them (RunConfig in unrolled_info).
import { readFile } from 'node:fs/promises';
import { createModel } from '../create.js';
import type { Model } from '../model/model.js';
import type { Core } from '../runtime/core.js';
import { loadCore } from '../runtime/load.js';
import { checkpointInfo, type JsonValue } from '../train/checkpoint.js';
import { Trainer, type TrainerOptions } from '../train/trainer.js';
import { Flags, parseSchedule, parseTbptt, UsageError, type OptionSpec } from './args.js';
import {
  DEFAULTS, INITS, MIN_SEQ, OPTIMIZERS, TASKS, charData, lossOf, modelShape, optimizerSpec, readText, textHash,
  type CharData, type RunConfig,
} from './tasks.js';

export const CONFIG_OPTIONS: OptionSpec = {
  task: { type: 'string' },
  text: { type: 'string' },
  cell: { type: 'string' },
  nonlinearity: { type: 'string' },
  init: { type: 'string' },
  hidden: { type: 'string' },
  layers: { type: 'string' },
  batch: { type: 'string' },
  seq: { type: 'string' },
  tbptt: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  clip: { type: 'string' },
  'clip-value': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
};

export const TASK_HELP = `Task and data:
  --task NAME            char (default): next character of a text, stateful truncated BPTT;
                         adding: sum of two marked values (MSE at the last step; answering 1
                         always scores about 0.167); copy: repeat 10 symbols after a delay;
                         reber: next symbol of the embedded Reber grammar; sine: forecast a
                         noisy sine wave
  --text FILE            train on this UTF-8 text (the char task) instead of the built-in corpus`;

export const MODEL_HELP = `Model:
  --cell rnn|lstm|gru    default lstm (rnn for adding)
  --nonlinearity tanh|relu   rnn only; default tanh
  --init default|irnn|orthogonal|xavier_uniform|xavier_normal   default: PyTorch's U(+-1/sqrt(H))
  --hidden N             hidden size, default 128
  --layers N             stacked layers, default 1`;

export const TRAINING_HELP = `Training:
  --batch B              sequences per batch, default 32
  --seq T                steps per sequence: default 64 (char, sine), 150 (adding), 40 (copy:
                         10 symbols, then a delay of T-20); reber: the longest string, default 50
  --tbptt K1,K2          char: every K1 new characters, backpropagate through the last K2
                         (K2 >= K1; default K1 = K2 = --seq)
  --optimizer NAME       adam (default), adamw, sgd, rmsprop, adagrad
  --lr X                 learning rate, default 0.002
  --momentum X           sgd only, default 0
  --weight-decay X       default 0 (0.01 for adamw)
  --schedule SPEC        learning-rate schedule: constant, step:size=N[,gamma=G],
                         exponential:gamma=G, cosine[:total=N,min=F] (total defaults to
                         --steps, and a resumed run keeps it); add warmup=N to any,
                         e.g. cosine:warmup=100
  --clip X               clip the global gradient norm to X, default 5 (0: off)
  --clip-value X         clamp every gradient element to [-X, X] (after --clip), default off
  --seed N               seed of the weights and the data, default 0
  --backend wasm|js      wasm (default) or the js reference`;

/** The RunConfig of a fresh run from the flags (the char task's text is read here). */
export async function runConfigFromFlags(f: Flags, steps: number): Promise<{ run: RunConfig; data: CharData | null }> {
  const task = f.choice('task', TASKS, 'char');
  const text = f.file('text') ?? null;
  if (text !== null && task !== 'char') f.fail(`--text is for the char task only (got --task ${task})`);
  const cell = f.choice('cell', ['rnn', 'lstm', 'gru'] as const, DEFAULTS[task].cell);
  const nonlinearity = f.choice('nonlinearity', ['tanh', 'relu'] as const, 'tanh');
  if (nonlinearity !== 'tanh' && cell !== 'rnn') f.fail(`--nonlinearity ${nonlinearity} needs --cell rnn (the gates of a ${cell} fix its nonlinearities)`);
  const tbptt = parseTbptt(f, 'tbptt');
  if (tbptt && task !== 'char') f.fail(`--tbptt is for the char task (stateful training over a text); ${task} trains on whole sequences`);
  let seq = f.int('seq', tbptt?.k1 ?? DEFAULTS[task].seq, MIN_SEQ[task], 1 << 20);
  if (tbptt && f.has('seq') && seq !== tbptt.k1) f.fail(`--seq ${seq} and --tbptt ${tbptt.k1},${tbptt.k2} disagree (--seq is K1; give one of them)`);
  if (tbptt) seq = tbptt.k1;
  const optimizer = f.choice('optimizer', OPTIMIZERS, 'adam');
  const momentum = f.float('momentum', 0, 0, 1, false);
  if (f.has('momentum') && optimizer !== 'sgd') f.fail(`--momentum is for --optimizer sgd (got ${optimizer})`);
  const clip = f.float('clip', 5, 0, 1e12, false);
  const clipValue = f.float('clip-value', 0, 0, 1e12, true);
  const run: RunConfig = {
    task, text, textLength: null, textHash: null, vocab: null,
    cell, nonlinearity, init: f.choice('init', INITS, 'default'),
    hidden: f.int('hidden', 128, 1, 1 << 16),
    layers: f.int('layers', 1, 1, 64),
    batch: f.int('batch', 32, 1, 1 << 16),
    seq,
    tbptt: task === 'char' ? (tbptt ?? { k1: seq, k2: seq }) : null,
    optimizer,
    lr: f.float('lr', 2e-3, 0, 1e3, true),
    momentum,
    weightDecay: f.has('weight-decay') ? f.float('weight-decay', 0, 0, 1e6, false) : null,
    schedule: parseSchedule(f, 'schedule', steps) ?? null,
    clip: clip > 0 ? clip : null,
    clipValue: f.has('clip-value') ? clipValue : null,
    seed: f.int('seed', 0, 0, 0xffffffff),
    backend: f.choice('backend', ['wasm', 'js'] as const, 'wasm'),
  };
  let data: CharData | null = null;
  if (task === 'char') {
    const t = await readText(f.command, text);
    data = charData(f.command, run, t);
    run.vocab = [...data.vocab.chars];
    run.textLength = t.length;
    run.textHash = textHash(t);
  }
  return { run, data };
}

/** Which RunConfig fields a flag sets (for the comparison with a checkpoint on --resume). */
const FLAG_FIELDS: Record<string, (keyof RunConfig)[]> = {
  task: ['task'], cell: ['cell'], nonlinearity: ['nonlinearity'], init: ['init'], hidden: ['hidden'], layers: ['layers'],
  batch: ['batch'], seq: ['seq'], tbptt: ['tbptt'], optimizer: ['optimizer'], lr: ['lr'], momentum: ['momentum'],
  'weight-decay': ['weightDecay'], schedule: ['schedule'], clip: ['clip'], 'clip-value': ['clipValue'], seed: ['seed'],
  backend: ['backend'],
};

/** A flag given on --resume must agree with the checkpoint (except --text, checked by content). */
export function checkResumeFlags(f: Flags, stored: RunConfig, fresh: Partial<RunConfig>): void {
  for (const [flag, fields] of Object.entries(FLAG_FIELDS)) {
    if (!f.has(flag)) continue;
    for (const field of fields) {
      const a = JSON.stringify(fresh[field] ?? null), b = JSON.stringify(stored[field] ?? null);
      if (a !== b) f.fail(`--${flag} ${f.str(flag)} differs from the checkpoint's ${field} ${b} (a resumed run keeps its configuration; drop the flag)`);
    }
  }
}

/** Flags that only make sense for a fresh run's configuration, read leniently for the comparison on --resume. */
export function freshFieldsForComparison(f: Flags, stored: RunConfig, steps: number): Partial<RunConfig> {
  const task = f.choice('task', TASKS, stored.task);
  const tb = parseTbptt(f, 'tbptt');
  const out: Partial<RunConfig> = {
    task,
    cell: f.choice('cell', ['rnn', 'lstm', 'gru'] as const, stored.cell),
    nonlinearity: f.choice('nonlinearity', ['tanh', 'relu'] as const, stored.nonlinearity),
    init: f.choice('init', INITS, stored.init),
    hidden: f.int('hidden', stored.hidden, 1, 1 << 16),
    layers: f.int('layers', stored.layers, 1, 64),
    batch: f.int('batch', stored.batch, 1, 1 << 16),
    seq: f.int('seq', stored.seq, MIN_SEQ[task], 1 << 20),
    tbptt: tb ?? stored.tbptt,
    optimizer: f.choice('optimizer', OPTIMIZERS, stored.optimizer),
    lr: f.float('lr', stored.lr, 0, 1e3, true),
    momentum: f.float('momentum', stored.momentum, 0, 1, false),
    weightDecay: f.has('weight-decay') ? f.float('weight-decay', 0, 0, 1e6, false) : stored.weightDecay,
    schedule: f.has('schedule') ? (parseSchedule(f, 'schedule', steps) ?? null) : stored.schedule,
    clip: f.has('clip') ? (((c) => (c > 0 ? c : null))(f.float('clip', 5, 0, 1e12, false))) : stored.clip,
    clipValue: f.has('clip-value') ? f.float('clip-value', 0, 0, 1e12, true) : stored.clipValue,
    seed: f.int('seed', stored.seed, 0, 0xffffffff),
    backend: f.choice('backend', ['wasm', 'js'] as const, stored.backend),
  };
  return out;
}

/** What `unrolled train` keeps in a checkpoint's unrolled_info. */
export interface CliInfo {
  unrolled_cli: 1;
  run: RunConfig;
  checkpointEvery: number | null;
  /** The core variant (wasm) or 'js' that trained it, for the bit-identity note on resume. */
  engine: string;
}

export function cliInfo(run: RunConfig, checkpointEvery: number | null, engine: string): JsonValue {
  const info: CliInfo = { unrolled_cli: 1, run, checkpointEvery, engine };
  return JSON.parse(JSON.stringify(info)) as JsonValue;
}

/** Reads a checkpoint file written by `unrolled train`: its bytes and RunConfig (UsageError otherwise). */
export async function readCliCheckpoint(command: string, path: string): Promise<{ bytes: Uint8Array; info: CliInfo; step: number }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${command}: ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message.split('\n')[0]}`);
  }
  const { info, step } = checkpointInfo(bytes); // CheckpointError: reported as one line, exit 2
  const i = info as Partial<CliInfo> | null;
  if (!i || typeof i !== 'object' || i.unrolled_cli !== 1 || !i.run || typeof i.run !== 'object') {
    throw new UsageError(`${command}: ${path} is a checkpoint, but not one written by unrolled train (no command-line configuration in it)`);
  }
  const run = i.run as RunConfig;
  if (!(TASKS as readonly string[]).includes(run.task)) throw new UsageError(`${command}: ${path}: unknown task ${JSON.stringify(run.task)} in the checkpoint`);
  if (run.task === 'char' && (!Array.isArray(run.vocab) || run.vocab.length === 0)) throw new UsageError(`${command}: ${path}: the checkpoint of a char model has no vocabulary`);
  return { bytes, info: i as CliInfo, step };
}

/** The command-line configuration stored with a checkpoint must describe its model and trainer. */
export function checkConsistent(command: string, path: string, run: RunConfig, model: Model, trainer: Trainer): void {
  const shape = modelShape(run);
  const c = model.config;
  const same = c.cell === run.cell && c.hiddenSize === run.hidden && c.numLayers === run.layers && c.input === shape.input &&
    c.inputSize === shape.inputSize && c.outputSize === shape.outputSize &&
    trainer.k1 === (run.tbptt?.k1 ?? 0) && trainer.k2 === (run.tbptt?.k2 ?? 0) && Number.isSafeInteger(run.batch) && run.batch >= 1;
  if (!same) throw new UsageError(`${command}: ${path}: the command-line configuration stored in the checkpoint does not match its model and trainer (was the file edited?)`);
}

/** The char task's text on resume / eval: the stored file (or the given one), checked against the stored hash. */
export async function dataForStored(command: string, run: RunConfig, textOverride: string | undefined, requireSame: boolean): Promise<CharData | null> {
  if (run.task !== 'char') return null;
  const path = textOverride ?? run.text;
  const text = await readText(command, path);
  if (requireSame && (text.length !== run.textLength || textHash(text) !== run.textHash)) {
    throw new UsageError(`${command}: ${path ?? 'the built-in corpus'} is not the text the checkpoint was trained on (length or hash differ); give that text with --text`);
  }
  return charData(command, run, text);
}

/**
 * The core of a wasm run: not relaxed-SIMD unless asked (reproducible across engines and runs);
 * with threads > 1 the threads build (bit-identical to the SIMD one).
 */
export async function coreFor(backend: 'wasm' | 'js', relaxed: boolean, threads = 1): Promise<Core | undefined> {
  if (backend === 'wasm' && threads > 1) return loadCore({ threads });
  if (backend !== 'wasm') return undefined;
  return relaxed ? loadCore() : loadCore({ reproducible: true });
}

export function engineName(backend: 'wasm' | 'js', core: Core | undefined): string {
  return backend === 'js' ? 'js' : `wasm-${core!.variant}`;
}

/** A new model for a RunConfig (freshly initialised from its seed). */
export async function modelFor(run: RunConfig, core: Core | undefined, options: { backend?: 'wasm' | 'js'; dtype?: 'float32' | 'float64' } = {}): Promise<Model> {
  const backend = options.backend ?? run.backend;
  return createModel({
    backend,
    ...(backend === 'wasm' && core ? { core } : {}),
    ...(options.dtype ? { dtype: options.dtype } : {}),
    cell: run.cell,
    nonlinearity: run.cell === 'rnn' ? run.nonlinearity : undefined,
    numLayers: run.layers,
    hiddenSize: run.hidden,
    seed: run.seed,
    init: run.init,
    ...modelShape(run),
  });
}

/** The trainer options of a RunConfig. */
export function trainerOptions(run: RunConfig): TrainerOptions {
  return {
    loss: lossOf(run.task),
    optimizer: optimizerSpec(run),
    clipNorm: run.clip ?? undefined,
    clipValue: run.clipValue ?? undefined,
    ...(run.schedule ? { schedule: run.schedule } : {}),
    ...(run.tbptt ? { tbptt: run.tbptt } : {}),
  };
}

/** A new model and trainer for a RunConfig. */
export async function buildFresh(run: RunConfig, core: Core | undefined, options: { backend?: 'wasm' | 'js'; dtype?: 'float32' | 'float64' } = {}): Promise<{ model: Model; trainer: Trainer }> {
  const model = await modelFor(run, core, options);
  try {
    return { model, trainer: new Trainer(model, trainerOptions(run)) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
