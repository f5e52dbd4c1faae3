// The worker's side of the protocol, independent of the host: it receives ToWorker messages on a
// WorkerPort and trains a character model in slices of at most `sliceMs`, yielding to the event
// loop between slices so that pause / resume / stop / getWeights are handled promptly.
//
//   start → load the core, build vocab + TokenStream + model + Trainer → 'started'
//         → slices of Trainer.stepStateful → 'progress' (throttled), 'gradients', 'sample'
//         → 'done' (finished or stopped); the model stays alive for getWeights / generate
//           until the next start (or the worker ends).
import { createModel } from '../create.js';
import { TokenStream } from '../data/stream.js';
import { CharVocab } from '../data/vocab.js';
import { PrimePicker } from '../data/prime.js';
import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { modelToSafetensors } from '../model/serialize.js';
import type { Core } from '../runtime/core.js';
import { loadCore } from '../runtime/load.js';
import { Trainer, type StepResult } from '../train/trainer.js';
import {
  PROTOCOL_VERSION,
  autoThreads,
  VOCAB_METADATA_KEY,
  errorInfo,
  resolveTrainingConfig,
  type FromWorker,
  type ResolvedTrainingConfig,
  type RunInfo,
  type ToWorker,
  type TrainingConfig,
  type WorkerPort,
} from './protocol.js';

/** Runs `fn` on a later turn of the event loop, after pending messages (no 4 ms timer clamping). */
function makeYield(): (fn: () => void) => void {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate;
    return (fn) => {
      setImmediate(fn);
    };
  }
  if (typeof g.MessageChannel === 'function') {
    const channel = new g.MessageChannel();
    const queue: (() => void)[] = [];
    channel.port1.onmessage = () => {
      queue.shift()?.();
    };
    return (fn) => {
      queue.push(fn);
      channel.port2.postMessage(null);
    };
  }
  return (fn) => {
    setTimeout(fn, 0);
  };
}

const now = (): number => performance.now();

interface Run {
  cfg: ResolvedTrainingConfig;
  /** The core when the run owns it (a threaded core: its own instance and pool, disposed with the run). */
  ownCore: Core | null;
  vocab: CharVocab;
  model: Model;
  trainer: Trainer;
  stream: TokenStream;
  primes: PrimePicker;
  step: number;
  skipped: number;
  firstLoss: number;
  finalLoss: number;
  /** training time before the current running stretch */
  trainedMs: number;
  runningSince: number;
  // progress accumulation since the last report
  lossSum: number;
  lossCount: number;
  lastReportAt: number;
  lastReportStep: number;
  last: StepResult | null;
}

type State = 'idle' | 'starting' | 'running' | 'paused' | 'done';

/** The Trainer's option for the run's clipping mode; a threshold of 0 turns clipping off in every mode. */
export function clipOptions(cfg: Pick<ResolvedTrainingConfig, 'clipMode' | 'clip'>): {
  clipNorm?: number;
  clipValue?: number;
  clipHiddenNorm?: number;
} {
  if (!(cfg.clip > 0)) return {};
  switch (cfg.clipMode) {
    case 'norm':
      return { clipNorm: cfg.clip };
    case 'value':
      return { clipValue: cfg.clip };
    case 'hidden':
      return { clipHiddenNorm: cfg.clip };
    case 'none':
      return {};
  }
}

/**
 * The text, vocabulary, stream, model and trainer of a run, or null when `current()` turns false
 * while something loads (a newer start took over).
 */
async function buildRun(
  cfg: ResolvedTrainingConfig,
  host: WorkerPort['host'],
  current: () => boolean,
): Promise<{ run: Run; info: RunInfo } | null> {
  // loaded only when no text is given: a bundler splits the ~32 KB corpus into a chunk of its
  // own, which a worker that always gets its text never fetches
  const text = cfg.text ?? (await import('../data/corpus.js')).CORPUS;
  if (!current()) return null;
  const vocab = CharVocab.fromText(text);
  const ids = vocab.encode(text);
  if (ids.length < cfg.batch * cfg.seq + 1) {
    throw new ConfigError('config.text', `at least batch × seq + 1 = ${cfg.batch * cfg.seq + 1} characters`, `${ids.length} characters`);
  }
  const stream = new TokenStream(ids, { T: cfg.seq, B: cfg.batch, vocabSize: vocab.size });
  const threads = cfg.threads === 'auto' ? autoThreads() : cfg.threads;
  const core = cfg.backend === 'wasm' ? await loadCore({ variant: cfg.variant, reproducible: cfg.reproducible, threads }) : undefined;
  // a threaded core is a fresh instance with its own pool of workers: the run owns it; a
  // single-threaded one is loadCore's shared cached core, left alive for the next run
  const ownCore = core && core.threads > 1 ? core : null;
  if (!current()) {
    ownCore?.dispose();
    return null;
  }
  let model: Model;
  let trainer: Trainer;
  try {
    model = await createModel({
      backend: cfg.backend,
      ...(core ? { core } : {}),
      cell: cfg.cell,
      numLayers: cfg.layers,
      hiddenSize: cfg.hidden,
      input: 'tokens',
      inputSize: vocab.size,
      outputSize: vocab.size,
      seed: cfg.seed,
    });
    try {
      trainer = new Trainer(model, {
        loss: { loss: 'cross-entropy', at: 'every' },
        optimizer: { name: 'adam', lr: cfg.lr },
        ...clipOptions(cfg),
      });
    } catch (e) {
      model.dispose();
      throw e;
    }
  } catch (e) {
    ownCore?.dispose();
    throw e;
  }
  const primes = new PrimePicker(text, cfg.seed);
  const t = now();
  const run: Run = {
    cfg,
    ownCore,
    vocab,
    model,
    trainer,
    stream,
    primes,
    step: 0,
    skipped: 0,
    firstLoss: NaN,
    finalLoss: NaN,
    trainedMs: 0,
    runningSince: t,
    lossSum: 0,
    lossCount: 0,
    lastReportAt: t,
    lastReportStep: 0,
    last: null,
  };
  const info: RunInfo = {
    config: cfg,
    model: model.config,
    parameters: model.numParameters,
    characters: ids.length,
    vocabSize: vocab.size,
    vocab: [...vocab.chars],
    chunksPerEpoch: stream.chunksPerEpoch,
    backend: cfg.backend,
    variant: core?.variant ?? null,
    threads: core?.threads ?? 1,
    host,
  };
  return { run, info };
}

/** One worker's training: the commands it is sent, the run it trains in slices, the events it posts. */
class Session {
  private readonly later = makeYield();
  private state: State = 'idle';
  private run: Run | null = null;
  /** set by stop() while starting (the run is refused as soon as it is built) */
  private stopRequested = false;
  private pauseRequested = false;
  private sliceScheduled = false;
  /** bumped by every start: a slice of an older run does nothing */
  private generation = 0;

  constructor(private readonly port: WorkerPort) {}

  post(m: FromWorker, transfer?: Transferable[]): void {
    this.port.postMessage(m, transfer);
  }

  // -------------------------------------------------------------------------------------------
  // commands

  handle(m: ToWorker): void {
    if (m === null || typeof m !== 'object') return;
    switch (m.type) {
      case 'start':
        this.onStart(m.config);
        break;
      case 'pause':
        this.onPause();
        break;
      case 'resume':
        this.onResume();
        break;
      case 'stop':
        this.onStop();
        break;
      case 'getWeights':
        this.onGetWeights(m.id);
        break;
      case 'generate':
        this.onGenerate(m);
        break;
      default:
        this.post({ type: 'error', error: { message: `unknown message type ${JSON.stringify((m as { type?: unknown }).type)}` } });
    }
  }

  private onStart(config: unknown): void {
    const state = this.state;
    if (state === 'starting' || state === 'running' || state === 'paused') {
      this.post({
        type: 'error',
        error: errorInfo(new ConfigError('start', 'no run in progress (stop() the current one first)', `a run that is ${state}`)),
      });
      return;
    }
    this.start(config).catch((e) => this.fail(e));
  }

  private onPause(): void {
    this.switchTo('paused', (run) => {
      const t = now();
      this.report(run, t); // nothing more arrives after 'paused'
      run.trainedMs += t - run.runningSince;
    });
  }

  private onResume(): void {
    const resumed = this.switchTo('running', (run) => {
      run.runningSince = now();
      run.lastReportAt = run.runningSince; // the pause does not count against steps/s
    });
    if (resumed) this.scheduleSlice();
  }

  /**
   * Pause and resume: while the run is starting, remember the wish; in `to` already, confirm it;
   * from the other of running and paused, `leave` the old state, switch and say so. Idle or done:
   * nothing (the client's waiters resolved on 'done'). True when it switched.
   */
  private switchTo(to: 'running' | 'paused', leave: (run: Run) => void): boolean {
    const run = this.run;
    if (this.state === 'starting') {
      this.pauseRequested = to === 'paused';
      return false;
    }
    if (!run || (this.state !== 'running' && this.state !== 'paused')) return false;
    const switched = this.state !== to;
    if (switched) {
      leave(run);
      this.state = to;
    }
    this.post({ type: 'state', state: to, step: run.step });
    return switched;
  }

  private onStop(): void {
    const run = this.run;
    if (this.state === 'starting') {
      this.stopRequested = true;
      return;
    }
    if (this.state === 'running' || this.state === 'paused') this.finish('stopped');
    else if (run && this.state === 'done') this.post(doneEvent(run, 'stopped'));
  }

  private onGetWeights(id: number): void {
    this.reply(id, () => {
      const r = this.needRun();
      return modelToSafetensors(r.model, {
        [VOCAB_METADATA_KEY]: JSON.stringify(r.vocab.toJSON()),
        unrolled_task: 'char',
        unrolled_steps: String(r.step),
      });
    });
  }

  private onGenerate(m: Extract<ToWorker, { type: 'generate' }>): void {
    this.reply(m.id, () => {
      const r = this.needRun();
      const ids = r.model.generate({ prime: r.vocab.encode(m.prime), length: m.length, temperature: m.temperature, seed: m.seed });
      return r.vocab.decode(ids);
    });
  }

  private reply(id: number, fn: () => Uint8Array | string): void {
    try {
      const value = fn();
      this.post({ type: 'reply', id, ok: true, value }, typeof value === 'string' ? [] : [value.buffer as ArrayBuffer]);
    } catch (e) {
      this.post({ type: 'reply', id, ok: false, error: errorInfo(e) });
    }
  }

  private needRun(): Run {
    if (!this.run)
      throw new ConfigError('worker', 'a model: call start() first', this.state === 'starting' ? 'a model still being built' : 'no model');
    return this.run;
  }

  // -------------------------------------------------------------------------------------------
  // the run

  private async start(config: unknown): Promise<void> {
    const gen = ++this.generation;
    this.disposeRun();
    this.state = 'starting';
    this.stopRequested = false;
    this.pauseRequested = false;
    const cfg = resolveTrainingConfig(config as TrainingConfig);
    const built = await buildRun(cfg, this.port.host, () => gen === this.generation);
    if (!built) return;
    const run = built.run;
    this.run = run;
    this.post({ type: 'started', info: built.info });
    if (this.stopRequested) {
      this.finish('stopped');
      return;
    }
    if (this.pauseRequested) {
      this.state = 'paused';
      run.trainedMs = 0;
      this.post({ type: 'state', state: 'paused', step: 0 });
      return;
    }
    this.state = 'running';
    this.post({ type: 'state', state: 'running', step: 0 });
    this.scheduleSlice();
  }

  /** The next slice, on a later turn of the event loop (commands that arrived meanwhile first). */
  private scheduleSlice(): void {
    if (this.sliceScheduled) return;
    this.sliceScheduled = true;
    const gen = this.generation;
    this.later(() => {
      this.sliceScheduled = false;
      if (gen !== this.generation || this.state !== 'running' || !this.run) return;
      try {
        this.slice(this.run);
      } catch (e) {
        this.fail(e);
      }
    });
  }

  /** Training steps for up to cfg.sliceMs, with the events due after each. */
  private slice(r: Run): void {
    const cfg = r.cfg;
    const t0 = now();
    do {
      const s = r.step + 1;
      const diagnostics = cfg.gradientEvery > 0 && (s === 1 || s % cfg.gradientEvery === 0);
      const result = r.trainer.stepStateful(r.stream.next(), { diagnostics });
      r.step = s;
      r.last = result;
      if (result.skipped) r.skipped++;
      else {
        r.lossSum += result.loss;
        r.lossCount++;
        if (Number.isNaN(r.firstLoss)) r.firstLoss = result.loss;
        r.finalLoss = result.loss;
      }
      if (diagnostics && result.gradNormsOverTime) this.postGradients(s, result.gradNormsOverTime);
      const last = s === cfg.steps;
      const t = now();
      if (s === 1 || last || t - r.lastReportAt >= cfg.progressIntervalMs) this.report(r, t);
      if (cfg.sampleEvery > 0 && (s % cfg.sampleEvery === 0 || last)) this.postSample(r);
      if (last) {
        this.finish('finished');
        return;
      }
    } while (now() - t0 < cfg.sliceMs);
    this.scheduleSlice();
  }

  private finish(reason: 'finished' | 'stopped'): void {
    const r = this.run!;
    const t = now();
    this.report(r, t); // the steps since the last progress event
    if (this.state === 'running') r.trainedMs += t - r.runningSince;
    this.state = 'done';
    this.post(doneEvent(r, reason));
  }

  private fail(e: unknown): void {
    this.post({ type: 'error', error: errorInfo(e) });
    this.state = this.run ? 'done' : 'idle';
  }

  private disposeRun(): void {
    if (!this.run) return;
    this.run.trainer.dispose();
    this.run.model.dispose();
    this.run.ownCore?.dispose(); // stops the pool's workers
    this.run = null;
  }

  // -------------------------------------------------------------------------------------------
  // events

  /** A progress event for the steps since the last one (none if there are none). */
  private report(r: Run, t: number): void {
    if (r.step === r.lastReportStep || !r.last) return;
    const elapsed = t - r.lastReportAt;
    this.post({
      type: 'progress',
      step: r.step,
      loss: r.lossCount ? r.lossSum / r.lossCount : NaN,
      lastLoss: r.last.loss,
      gradNorm: r.last.gradNorm,
      clipped: r.last.clipped,
      stepsPerSec: elapsed > 0 ? ((r.step - r.lastReportStep) * 1000) / elapsed : 0,
      epoch: r.stream.epoch,
      skipped: r.skipped,
      elapsedMs: r.trainedMs + (this.state === 'running' ? t - r.runningSince : 0),
    });
    r.lossSum = 0;
    r.lossCount = 0;
    r.lastReportAt = t;
    r.lastReportStep = r.step;
  }

  private postGradients(step: number, gradNormsOverTime: readonly ArrayLike<number>[]): void {
    const norms = gradNormsOverTime.map((a) => Float32Array.from(a));
    this.post(
      { type: 'gradients', step, norms },
      norms.map((a) => a.buffer),
    );
  }

  private postSample(r: Run): void {
    const prime = r.primes.next();
    const out = r.model.generate({
      prime: r.vocab.encode(prime),
      length: r.cfg.sampleLength,
      temperature: r.cfg.temperature,
      seed: (r.cfg.seed + r.step) >>> 0,
    });
    this.post({ type: 'sample', step: r.step, prime, text: r.vocab.decode(out), temperature: r.cfg.temperature });
  }
}

function doneEvent(r: Run, reason: 'finished' | 'stopped'): FromWorker {
  return {
    type: 'done',
    reason,
    step: r.step,
    seconds: r.trainedMs / 1000,
    firstLoss: r.firstLoss,
    finalLoss: r.finalLoss,
    skipped: r.skipped,
  };
}

/** Serves the training protocol on `port` until the worker ends. */
export function serveTrainer(port: WorkerPort): void {
  const session = new Session(port);
  port.onMessage((m: ToWorker) => {
    session.handle(m);
  });
  session.post({ type: 'ready', protocol: PROTOCOL_VERSION, host: port.host });
}
