// The messages between a TrainingWorker (main thread) and the trainer worker (a browser module
// Worker or a Node worker_threads Worker): one protocol for both hosts, plain structured-clone
// data only (numbers, strings, typed arrays), so it also survives postMessage in either host.
//
//   main → worker: start {config} | pause | resume | stop | getWeights {id} | generate {id, …}
//   worker → main: ready | started {info} | progress | gradients | sample | state | done | error
//                  | reply {id, ok, value | error}   (the answer to getWeights / generate)
//
// The worker trains a character model (CharVocab + TokenStream + Trainer.stepStateful) in short
// slices and yields to its event loop between them, so pause / stop / getWeights are answered
// between two steps, never in the middle of one.
import { ConfigError, describe } from '../errors.js';
import type { CellKind } from '../model/config.js';
import type { ResolvedConfig } from '../model/config.js';
import { CORE_FILES, type CoreVariant } from '../runtime/core.js';
import { DOMAINS, checkKeys, optionalNumber, snapshotObject, type NumberDomain } from '../validate/index.js';

export const PROTOCOL_VERSION = 1;

/**
 * The worker's clipping modes. The command line has no twin: its `train` sets the global norm
 * (--clip, what 'norm' does) and element clipping (--clip-value) as two flags that can combine.
 */
export const CLIP_MODES = Object.freeze(['norm', 'value', 'hidden', 'none'] as const);
export type ClipMode = (typeof CLIP_MODES)[number];

/** What the main thread asks the worker to train. Every field is optional. */
export interface TrainingConfig {
  /** The training text; default (or null): the built-in corpus (CORPUS). */
  text?: string | null;
  /** 'rnn' (tanh), 'lstm' (default) or 'gru'. */
  cell?: CellKind;
  /** Hidden size, default 128. */
  hidden?: number;
  /** Stacked layers, default 1. */
  layers?: number;
  /** Characters per chunk (the truncation length of stateful TBPTT), default 64. */
  seq?: number;
  /** Rows of the stream (the batch size), default 32. */
  batch?: number;
  /** Adam's learning rate, default 0.002. */
  lr?: number;
  /**
   * Which clipping `clip` sets: 'norm' (the global L2 norm of the gradients, default), 'value'
   * (every gradient element to [−clip, clip]), 'hidden' (‖∂E/∂h_t‖ of each sequence at every step
   * inside BPTT) or 'none'.
   */
  clipMode?: ClipMode;
  /** The threshold of clipMode; 0 turns clipping off. Default 5. */
  clip?: number;
  /** Updates to run, default 1000. */
  steps?: number;
  /** Seed of the weights and the samples, default 0. */
  seed?: number;
  /** 'wasm' (default) or 'js' (the reference TypeScript backend). */
  backend?: 'wasm' | 'js';
  /** Which Wasm core: 'auto' (default) or a CoreVariant ('simd', 'relaxed', 'scalar', …). */
  variant?: CoreVariant | 'auto';
  /** Rule out the relaxed-SIMD core (bit-reproducible results across engines). */
  reproducible?: boolean;
  /**
   * Threads for the large products on the Wasm backend, the worker's own included: a number, or
   * 'auto' for the host's logical processors (navigator.hardwareConcurrency) up to
   * AUTO_THREADS_MAX (1 where the host has no navigator, as in Node 20). More than 1 trains on the threads build (with FMA where `variant` and
   * `reproducible` allow it) where the host allows shared memory — Node, and cross-origin-isolated
   * pages — and on one thread elsewhere; RunInfo.threads says which. Default 1.
   */
  threads?: number | 'auto';
  /** At most one progress event per this many milliseconds (the first and last step always report). Default 100. */
  progressIntervalMs?: number;
  /** Gradient flow ‖∂E/∂h_t‖ every this many steps (and at step 1); 0: never. Default 10. */
  gradientEvery?: number;
  /** A generated sample every this many steps (and at the end); 0: never. Default 100. */
  sampleEvery?: number;
  /** Characters per sample, default 200. */
  sampleLength?: number;
  /** Sampling temperature, default 0.8 (0: the most likely character). */
  temperature?: number;
  /** Longest stretch of training between two looks at the message queue, in ms. Default 20. */
  sliceMs?: number;
}

/** The configuration with every default filled in (text excepted: null means the built-in corpus). */
export interface ResolvedTrainingConfig extends Required<Omit<TrainingConfig, 'text'>> {
  text: string | null;
}

/**
 * The most threads that threads: 'auto' asks for: the products of a demo-sized model stop
 * gaining from more, and a page should leave cores to the rest of the machine.
 */
export const AUTO_THREADS_MAX = 4;

/** The threads of threads: 'auto' on this host: its logical processors, at least 1 and at most AUTO_THREADS_MAX. */
export function autoThreads(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? Math.min(n, AUTO_THREADS_MAX) : 1;
}

export const TRAINING_DEFAULTS: Readonly<Omit<ResolvedTrainingConfig, 'text'>> = Object.freeze({
  cell: 'lstm',
  hidden: 128,
  layers: 1,
  seq: 64,
  batch: 32,
  lr: 0.002,
  clipMode: 'norm',
  clip: 5,
  steps: 1000,
  seed: 0,
  backend: 'wasm',
  variant: 'auto',
  reproducible: false,
  threads: 1,
  progressIntervalMs: 100,
  gradientEvery: 10,
  sampleEvery: 100,
  sampleLength: 200,
  temperature: 0.8,
  sliceMs: 20,
});

/**
 * The fields a character-model run shares with the command line (`unrolled train`): one domain
 * each, imported by both, so that the two front ends accept exactly the same values.
 */
export const RUN_CHOICES = Object.freeze({
  cell: Object.freeze(['rnn', 'lstm', 'gru'] as const),
  backend: Object.freeze(['wasm', 'js'] as const),
});

export const RUN_DOMAINS = Object.freeze({
  hidden: DOMAINS.hiddenSize,
  layers: DOMAINS.numLayers,
  seq: DOMAINS.T,
  batch: DOMAINS.B,
  lr: DOMAINS.lr,
  /** 0 turns clipping off; any other value is the largest global gradient norm. */
  clip: Object.freeze({ min: 0, doc: 'largest global gradient norm (0: no clipping)' }) as Readonly<NumberDomain>,
  steps: Object.freeze({ integer: true, min: 1, max: 1e9, doc: 'updates of a run' }) as Readonly<NumberDomain>,
  seed: DOMAINS.seed,
  temperature: DOMAINS.temperature,
});

/** The worker's own fields (no command-line twin). */
const WORKER_DOMAINS: Readonly<Record<string, Readonly<NumberDomain>>> = Object.freeze({
  threads: { integer: true, min: 1, max: 256 },
  progressIntervalMs: { min: 0, max: 1e9 },
  gradientEvery: { integer: true, min: 0, max: 1e9 },
  sampleEvery: { integer: true, min: 0, max: 1e9 },
  sampleLength: { integer: true, min: 1, max: 100_000 },
  sliceMs: { min: 0, max: 60_000 },
});

/**
 * Reads a TrainingConfig once into plain data (a reactive Proxy, as Vue or Svelte hand one over,
 * and getters are read exactly once), checks it and fills in the defaults. The result is plain
 * data that postMessage can always clone. A ConfigError names the first bad field.
 */
export function resolveTrainingConfig(config: TrainingConfig = {}): ResolvedTrainingConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new ConfigError('config', 'an object', describe(config));
  const c = snapshotObject('config', config, 'an object') as Record<string, unknown>;
  checkKeys('config', c, ['text', ...Object.keys(TRAINING_DEFAULTS)]);
  const d = TRAINING_DEFAULTS;
  const text = c.text ?? null;
  if (text !== null && (typeof text !== 'string' || text.length === 0))
    throw new ConfigError('config.text', 'a non-empty string', describe(text));
  const n = (name: keyof typeof RUN_DOMAINS): number => optionalNumber(`config.${name}`, c[name], RUN_DOMAINS[name], d[name] as number);
  const w = (name: string): number =>
    optionalNumber(`config.${name}`, c[name], WORKER_DOMAINS[name], (d as unknown as Record<string, number>)[name]);
  const clipMode = oneOf('clipMode', c.clipMode, CLIP_MODES, d.clipMode);
  return {
    text,
    cell: oneOf('cell', c.cell, RUN_CHOICES.cell, d.cell),
    hidden: n('hidden'),
    layers: n('layers'),
    seq: n('seq'),
    batch: n('batch'),
    lr: n('lr'),
    clipMode,
    clip: clipThreshold(clipMode, n('clip')),
    steps: n('steps'),
    seed: n('seed'),
    backend: oneOf('backend', c.backend, RUN_CHOICES.backend, d.backend),
    variant: oneOf('variant', c.variant, ['auto', ...(Object.keys(CORE_FILES) as CoreVariant[])], d.variant),
    reproducible: bool('reproducible', c.reproducible, d.reproducible),
    threads: threadCount(c.threads, d.threads),
    progressIntervalMs: w('progressIntervalMs'),
    gradientEvery: w('gradientEvery'),
    sampleEvery: w('sampleEvery'),
    sampleLength: w('sampleLength'),
    temperature: n('temperature'),
    sliceMs: w('sliceMs'),
  };
}

// the Trainer bounds per-timestep clipping by float32's largest value; refused here, the error
// names the worker's field rather than the Trainer's option
function clipThreshold(mode: ClipMode, clip: number): number {
  const max = DOMAINS.clipHiddenNorm.max ?? Infinity;
  if (mode === 'hidden' && clip > max) throw new ConfigError('config.clip', `at most ${max} with clipMode "hidden"`, describe(clip));
  return clip;
}

function oneOf<T extends string>(name: string, v: unknown, options: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !options.includes(v as T))
    throw new ConfigError(`config.${name}`, `one of ${options.map((o) => `"${o}"`).join(', ')}`, describe(v));
  return v as T;
}

function threadCount(v: unknown, fallback: number | 'auto'): number | 'auto' {
  if (v === undefined || v === 'auto') return v ?? fallback;
  const { min, max } = WORKER_DOMAINS.threads;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min! || v > max!)
    throw new ConfigError('config.threads', `"auto" or an integer in [${min}, ${max}]`, describe(v));
  return v;
}

function bool(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`config.${name}`, 'true or false', describe(v));
  return v;
}

// ---- main thread → worker ------------------------------------------------------------------

export type ToWorker =
  | { type: 'start'; config: TrainingConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'getWeights'; id: number }
  | { type: 'generate'; id: number; prime: string; length: number; temperature: number; seed: number };

// ---- worker → main thread ------------------------------------------------------------------

/** What the worker built, sent once the model exists and before the first step. */
export interface RunInfo {
  /** The configuration in force (text: null for the built-in corpus). */
  config: ResolvedTrainingConfig;
  /** The model's configuration (inputSize = outputSize = the vocabulary size). */
  model: ResolvedConfig;
  parameters: number;
  /** Characters of the text and distinct characters (the vocabulary). */
  characters: number;
  vocabSize: number;
  /** The vocabulary, characters in id order. */
  vocab: string[];
  /** Chunks of seq × batch characters in one pass over the text. */
  chunksPerEpoch: number;
  backend: 'wasm' | 'js';
  /** The Wasm core that runs (null on the js backend). */
  variant: CoreVariant | null;
  /**
   * Threads computing each large product: more than 1 only on the threads build ('threads',
   * 'threads-relaxed'); 1 where config.threads asked for more but the host has no shared memory
   * (a page that is not cross-origin isolated), and on the js backend.
   */
  threads: number;
  /** 'browser' (a Web Worker) or 'node' (worker_threads). */
  host: 'browser' | 'node';
}

export interface ProgressEvent {
  /** Updates done so far. */
  step: number;
  /** Mean loss (nats per character) over the steps since the previous progress event. */
  loss: number;
  /** The loss of the latest step alone. */
  lastLoss: number;
  /** Global gradient norm of the latest step, before clipping. */
  gradNorm: number;
  clipped: boolean;
  /** Steps per second since the previous progress event (wall time of the worker, pauses excluded). */
  stepsPerSec: number;
  /** Completed passes over the text. */
  epoch: number;
  /** Steps refused so far (non-finite loss or gradient). */
  skipped: number;
  /** Training time so far, pauses excluded, in ms. */
  elapsedMs: number;
}

export interface GradientFlowEvent {
  step: number;
  /** ‖∂E/∂h_t‖ for t = 1 … seq, one array per layer (layer 0 first). */
  norms: Float32Array[];
}

export interface SampleEvent {
  step: number;
  prime: string;
  /** The generated continuation (without the prime). */
  text: string;
  temperature: number;
}

export interface StateEvent {
  state: 'running' | 'paused';
  step: number;
}

export interface DoneEvent {
  /** 'finished': all the steps ran; 'stopped': stop() ended the run early. */
  reason: 'finished' | 'stopped';
  step: number;
  /** Training time, pauses excluded. */
  seconds: number;
  firstLoss: number;
  finalLoss: number;
  skipped: number;
}

export interface ErrorInfo {
  message: string;
  /** The UnrolledError code, when the error is one. */
  code?: string;
  /** The error's class name (ConfigError, InvalidArgumentError, ...): the client rebuilds that class. */
  name?: string;
  /** The argument an UnrolledError names (its `argument` field), when it has one. */
  argument?: string;
  /** FileError: the path and the system's error code. */
  path?: string;
  errno?: string;
  /** UnknownKeyError: the unknown key and the suggested one. */
  key?: string;
  suggestion?: string;
}

export type FromWorker =
  | { type: 'ready'; protocol: number; host: 'browser' | 'node' }
  | { type: 'started'; info: RunInfo }
  | ({ type: 'progress' } & ProgressEvent)
  | ({ type: 'gradients' } & GradientFlowEvent)
  | ({ type: 'sample' } & SampleEvent)
  | ({ type: 'state' } & StateEvent)
  | ({ type: 'done' } & DoneEvent)
  | { type: 'error'; error: ErrorInfo }
  | { type: 'reply'; id: number; ok: true; value: Uint8Array | string }
  | { type: 'reply'; id: number; ok: false; error: ErrorInfo };

/** The metadata key under which getWeights() stores the vocabulary (JSON of CharVocab.toJSON()). */
export const VOCAB_METADATA_KEY = 'unrolled_vocab';

/** One side of the channel, as both hosts can provide it. */
export interface WorkerPort {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onMessage(handler: (message: ToWorker) => void): void;
  readonly host: 'browser' | 'node';
}

/** An error as plain data for postMessage: class name, code, message and the fields that identify it. */
export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) {
    const info: ErrorInfo = { message: String(e.message), name: String(e.name) };
    const f = e as unknown as Record<string, unknown>;
    for (const k of ['code', 'argument', 'path', 'errno', 'key', 'suggestion'] as const) {
      if (typeof f[k] === 'string') info[k] = f[k] as string;
    }
    return info;
  }
  return { message: String(e) };
}
