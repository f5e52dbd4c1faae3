// The model and training configuration from the flags (shared by train, bench and gradcheck),
// and the files the command line reads: checkpoints as `unrolled train` writes them (RunConfig in
// unrolled_info), model files as saveModel writes them, and texts.
import { createModel } from '../create.js';
import { FileError, describe } from '../errors.js';
import type { CellKind, Nonlinearity } from '../model/config.js';
import type { Model } from '../model/model.js';
import { decodeSafetensors } from '../model/safetensors.js';
import type { Core } from '../runtime/core.js';
import { loadCore } from '../runtime/load.js';
import { checkpointInfo, CHECKPOINT_FORMAT, type JsonValue } from '../train/checkpoint.js';
import type { OptimizerName } from '../train/optimizers.js';
import { Trainer, type TrainerOptions } from '../train/trainer.js';
import { fileIdentity, readFileBytes } from '../node/files.js';
import { FORMAT_NAME } from '../model/serialize.js';
import { type Flags, parseSchedule, parseTbptt, UsageError } from './args.js';
import { FLAGS, type FlagName } from './flags.js';
import { layerConfig, layerFlags } from './layer-flags.js';
import {
  DEFAULTS,
  MIN_SEQ,
  TASKS,
  charData,
  lossOf,
  modelShape,
  optimizerSpec,
  readText,
  textHash,
  type CharData,
  type InitName,
  type RunConfig,
  type TaskName,
} from './tasks.js';

/** The RunConfig of a fresh run from the flags (the char task's text is read here). */
export async function runConfigFromFlags(f: Flags, steps: number): Promise<{ run: RunConfig; data: CharData | null }> {
  const task = f.choice<TaskName>('task');
  const text = f.file('text') ?? null;
  if (text !== null && task !== 'char') f.fail(`--text is for the char task only (got --task ${task})`, '--text');
  const cell = f.choice<CellKind>('cell', DEFAULTS[task].cell);
  const nonlinearity = f.choice<Nonlinearity>('nonlinearity');
  if (nonlinearity !== 'tanh' && cell !== 'rnn')
    f.fail(`--nonlinearity ${nonlinearity} needs --cell rnn (the gates of a ${cell} fix its nonlinearities)`, '--nonlinearity');
  const tbptt = parseTbptt(f, 'tbptt');
  if (tbptt && task !== 'char')
    f.fail(`--tbptt is for the char task (stateful training over a text); ${task} trains on whole sequences`, '--tbptt');
  let seq = f.int('seq', tbptt?.k1 ?? DEFAULTS[task].seq, { min: MIN_SEQ[task] });
  if (tbptt && f.has('seq') && seq !== tbptt.k1)
    f.fail(`--seq ${seq} and --tbptt ${tbptt.k1},${tbptt.k2} disagree (--seq is K1; give one of them)`, '--seq');
  if (tbptt) seq = tbptt.k1;
  const optimizer = f.choice<OptimizerName>('optimizer');
  const momentum = f.float('momentum');
  if (f.has('momentum') && optimizer !== 'sgd') f.fail(`--momentum is for --optimizer sgd (got ${optimizer})`, '--momentum');
  const clip = f.float('clip');
  // stateful only where the run streams a text with truncated BPTT (gradcheck takes one whole batch)
  const stateful = task === 'char' && f.command !== 'gradcheck' ? 'the char task trains statefully on chunks of a text' : null;
  const layers = layerFlags(f, { cell, hidden: f.int('hidden'), layers: f.int('layers') }, stateful);
  const run: RunConfig = {
    task,
    text,
    textLength: null,
    textHash: null,
    vocab: null,
    cell,
    nonlinearity,
    init: f.choice<InitName>('init'),
    hidden: f.int('hidden'),
    layers: f.int('layers'),
    ...layerConfig(layers),
    batch: f.int('batch'),
    seq,
    tbptt: task === 'char' ? (tbptt ?? { k1: seq, k2: seq }) : null,
    optimizer,
    lr: f.float('lr'),
    momentum,
    weightDecay: f.has('weight-decay') ? f.float('weight-decay') : null,
    schedule: parseSchedule(f, 'schedule', steps) ?? null,
    clip: clip > 0 ? clip : null,
    clipValue: f.has('clip-value') ? f.float('clip-value') : null,
    seed: f.int('seed'),
    backend: f.choice<'wasm' | 'js'>('backend'),
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

/** A flag given on --resume must agree with the checkpoint (except --text, checked by content). */
export function checkResumeFlags(f: Flags, stored: RunConfig, fresh: Partial<RunConfig>): void {
  for (const [flag, def] of Object.entries(FLAGS) as [FlagName, { field?: keyof RunConfig }][]) {
    const field = def.field;
    if (field === undefined || !f.has(flag)) continue;
    const a = JSON.stringify(fresh[field] ?? null),
      b = JSON.stringify(stored[field] ?? null);
    if (a !== b)
      f.fail(
        `--${flag} ${f.str(flag)} differs from the checkpoint's ${field} ${b} (a resumed run keeps its configuration; drop the flag)`,
        `--${flag}`,
      );
  }
}

/** The flags that set a RunConfig field, read for the comparison with a checkpoint on --resume. */
export function freshFieldsForComparison(f: Flags, stored: RunConfig, steps: number): Partial<RunConfig> {
  const task = f.choice<TaskName>('task', stored.task);
  return {
    task,
    cell: f.choice('cell', stored.cell),
    nonlinearity: f.choice('nonlinearity', stored.nonlinearity),
    init: f.choice('init', stored.init),
    hidden: f.int('hidden', stored.hidden),
    layers: f.int('layers', stored.layers),
    ...layerConfig({
      projSize: f.has('proj-size') ? f.int('proj-size') : stored.projSize,
      bidirectional: f.has('bidirectional') ? f.bool('bidirectional') : stored.bidirectional,
      dropout: f.has('dropout') ? f.float('dropout') : stored.dropout,
    }),
    batch: f.int('batch', stored.batch),
    seq: f.int('seq', stored.seq, { min: MIN_SEQ[task] }),
    tbptt: parseTbptt(f, 'tbptt') ?? stored.tbptt,
    optimizer: f.choice('optimizer', stored.optimizer),
    lr: f.float('lr', stored.lr),
    momentum: f.float('momentum', stored.momentum),
    weightDecay: f.has('weight-decay') ? f.float('weight-decay') : stored.weightDecay,
    schedule: f.has('schedule') ? (parseSchedule(f, 'schedule', steps) ?? null) : stored.schedule,
    clip: f.has('clip') ? ((c) => (c > 0 ? c : null))(f.float('clip')) : stored.clip,
    clipValue: f.has('clip-value') ? f.float('clip-value') : stored.clipValue,
    seed: f.int('seed', stored.seed),
    backend: f.choice('backend', stored.backend),
  };
}

/**
 * An output file must not be one of the inputs: compared by real path (symbolic links followed)
 * and by device and inode (hard links), so `--checkpoint` can never overwrite the training text.
 */
export async function checkNotAnInput(
  command: string,
  output: { flag: string; path: string },
  inputs: { flag: string; path: string | null | undefined }[],
): Promise<void> {
  const out = await fileIdentity(output.path);
  if (!out) return; // a new file cannot be an existing input
  for (const input of inputs) {
    if (input.path === null || input.path === undefined) continue;
    const id = await fileIdentity(input.path);
    if (id && ((id.dev === out.dev && id.ino === out.ino) || id.real === out.real)) {
      const how = id.real === out.real && output.path !== input.path ? ` (both are ${out.real})` : '';
      throw new UsageError(
        `${command}: ${output.flag} ${output.path} is the input ${input.flag} ${input.path}${how}: refusing to overwrite an input; give another path`,
        output.flag,
      );
    }
  }
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

/** Why these bytes cannot be a safetensors file, in words a user understands; null if they might be one. */
export function notSafetensors(bytes: Uint8Array): string | null {
  const n = bytes.length;
  if (n === 0) return 'it is empty';
  const looksLikeText = (): boolean => {
    const head = bytes.subarray(0, 256);
    return head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127));
  };
  const start = (): string => JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 24))) + (n > 24 ? '…' : '');
  let bad = n < 10;
  if (!bad) {
    const len = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    bad = len < 2n || len > BigInt(n - 8) || bytes[8] !== 0x7b; // the header is a JSON object
  }
  if (!bad) return null;
  return looksLikeText() ? `it is a text file (it starts with ${start()})` : `it does not start with a safetensors header (${n} bytes)`;
}

/** A file `sample` or `eval` can read: a training checkpoint of unrolled train, or a model file of saveModel. */
export type ModelSource =
  | { kind: 'checkpoint'; bytes: Uint8Array; info: CliInfo; step: number }
  | { kind: 'model'; bytes: Uint8Array; metadata: Record<string, string> };

const WHAT_WE_READ = 'unrolled reads the safetensors files that unrolled train --checkpoint and saveModel() write';

/** Reads a checkpoint or model file; a UsageError (one line, exit 2) says what else it is. */
export async function readModelSource(command: string, path: string, flag = ''): Promise<ModelSource> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(path);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(`${command}: ${flag ? `${flag} ` : ''}${e.message}`, flag || path);
    throw e;
  }
  const why = notSafetensors(bytes);
  if (why)
    throw new UsageError(
      `${command}: ${flag ? `${flag} ` : ''}${path} is not a checkpoint or model file: ${why} (${WHAT_WE_READ})`,
      flag || path,
    );
  const { metadata } = decodeSafetensors(bytes); // CheckpointError: reported as one line, exit 2
  if (metadata.format === FORMAT_NAME) return { kind: 'model', bytes, metadata };
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new UsageError(
      `${command}: ${path} is a safetensors file, but not a checkpoint or model file of unrolled (its format is ${describe(metadata.format)}; ${WHAT_WE_READ})`,
      flag || path,
    );
  }
  const { info, step } = checkpointInfo(bytes);
  const i = info as Partial<CliInfo> | null;
  if (!i || typeof i !== 'object' || i.unrolled_cli !== 1 || !i.run || typeof i.run !== 'object') {
    throw new UsageError(
      `${command}: ${path} is a checkpoint, but not one written by unrolled train (no command-line configuration in it)`,
      flag || path,
    );
  }
  const run = i.run as RunConfig;
  if (!(TASKS as readonly string[]).includes(run.task))
    throw new UsageError(`${command}: ${path}: unknown task ${JSON.stringify(run.task)} in the checkpoint`);
  if (run.task === 'char' && (!Array.isArray(run.vocab) || run.vocab.length === 0))
    throw new UsageError(`${command}: ${path}: the checkpoint of a char model has no vocabulary`);
  return { kind: 'checkpoint', bytes, info: i as CliInfo, step };
}

/** Reads a checkpoint file written by `unrolled train` (UsageError for anything else). */
export async function readCliCheckpoint(
  command: string,
  path: string,
  flag = '',
): Promise<{ bytes: Uint8Array; info: CliInfo; step: number }> {
  const src = await readModelSource(command, path, flag);
  if (src.kind === 'model') {
    throw new UsageError(
      `${command}: ${flag ? `${flag} ` : ''}${path} is a model file (weights only, as saveModel writes them), not a training checkpoint: it has no optimizer state to continue from`,
      flag || path,
    );
  }
  return src;
}

/** The command-line configuration stored with a checkpoint must describe its model and trainer. */
export function checkConsistent(command: string, path: string, run: RunConfig, model: Model, trainer: Trainer): void {
  const shape = modelShape(run);
  const c = model.config;
  const same =
    c.cell === run.cell &&
    c.hiddenSize === run.hidden &&
    c.numLayers === run.layers &&
    c.projSize === (run.projSize ?? 0) &&
    c.bidirectional === (run.bidirectional ?? false) &&
    c.dropout === (run.dropout ?? 0) &&
    c.input === shape.input &&
    c.inputSize === shape.inputSize &&
    c.outputSize === shape.outputSize &&
    trainer.k1 === (run.tbptt?.k1 ?? 0) &&
    trainer.k2 === (run.tbptt?.k2 ?? 0) &&
    Number.isSafeInteger(run.batch) &&
    run.batch >= 1;
  if (!same)
    throw new UsageError(
      `${command}: ${path}: the command-line configuration stored in the checkpoint does not match its model and trainer (was the file edited?)`,
    );
}

/** The char task's text on resume / eval: the stored file (or the given one), checked against the stored hash. */
export async function dataForStored(
  command: string,
  run: RunConfig,
  textOverride: string | undefined,
  requireSame: boolean,
): Promise<CharData | null> {
  if (run.task !== 'char') return null;
  const path = textOverride ?? run.text;
  const text = await readText(command, path);
  if (requireSame && (text.length !== run.textLength || textHash(text) !== run.textHash)) {
    throw new UsageError(
      `${command}: ${path ?? 'the built-in corpus'} is not the text the checkpoint was trained on (length or hash differ); give that text with --text`,
    );
  }
  return charData(command, run, text);
}

/**
 * The core of a wasm run: not relaxed-SIMD unless asked (reproducible across engines and runs);
 * with threads > 1 the threads build (bit-identical to the SIMD one).
 */
export async function coreFor(backend: 'wasm' | 'js', relaxed: boolean, threads = 1): Promise<Core | undefined> {
  if (backend === 'wasm' && threads > 1) return loadCore({ threads, reproducible: !relaxed });
  if (backend !== 'wasm') return undefined;
  return relaxed ? loadCore() : loadCore({ reproducible: true });
}

export function engineName(backend: 'wasm' | 'js', core: Core | undefined): string {
  return backend === 'js' ? 'js' : `wasm-${core!.variant}`;
}

/** A new model for a RunConfig (freshly initialised from its seed). */
export async function modelFor(
  run: RunConfig,
  core: Core | undefined,
  options: { backend?: 'wasm' | 'js'; dtype?: 'float32' | 'float64' } = {},
): Promise<Model> {
  const backend = options.backend ?? run.backend;
  return createModel({
    backend,
    ...(backend === 'wasm' && core ? { core } : {}),
    ...(options.dtype ? { dtype: options.dtype } : {}),
    cell: run.cell,
    nonlinearity: run.cell === 'rnn' ? run.nonlinearity : undefined,
    numLayers: run.layers,
    hiddenSize: run.hidden,
    ...layerConfig(run),
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
export async function buildFresh(
  run: RunConfig,
  core: Core | undefined,
  options: { backend?: 'wasm' | 'js'; dtype?: 'float32' | 'float64' } = {},
): Promise<{ model: Model; trainer: Trainer }> {
  const model = await modelFor(run, core, options);
  try {
    return { model, trainer: new Trainer(model, trainerOptions(run)) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
