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
import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import { modelToSafetensors } from '../model/serialize.js';
import { loadCore } from '../runtime/load.js';
import { Trainer, type StepResult } from '../train/trainer.js';
import {
  PROTOCOL_VERSION, VOCAB_METADATA_KEY, errorInfo, resolveTrainingConfig,
  type FromWorker, type ResolvedTrainingConfig, type RunInfo, type ToWorker, type TrainingConfig, type WorkerPort,
} from './protocol.js';

/** Runs `fn` on a later turn of the event loop, after pending messages (no 4 ms timer clamping). */
function makeYield(): (fn: () => void) => void {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate;
    return (fn) => { setImmediate(fn); };
  }
  if (typeof g.MessageChannel === 'function') {
    const channel = new g.MessageChannel();
    const queue: (() => void)[] = [];
    channel.port1.onmessage = () => { queue.shift()?.(); };
    return (fn) => { queue.push(fn); channel.port2.postMessage(null); };
  }
  return (fn) => { setTimeout(fn, 0); };
}

const now = (): number => performance.now();

interface Run {
  cfg: ResolvedTrainingConfig;
  text: string;
  vocab: CharVocab;
  model: Model;
  trainer: Trainer;
  stream: TokenStream;
  sampleRng: Rng;
  sampleStarts: number[];
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

/** Serves the training protocol on `port` until the worker ends. */
export function serveTrainer(port: WorkerPort): void {
  const post = (m: FromWorker, transfer?: Transferable[]): void => port.postMessage(m, transfer);
  const later = makeYield();
  let state: State = 'idle';
  let run: Run | null = null;
  /** set by stop() while starting (the run is refused as soon as it is built) */
  let stopRequested = false;
  let pauseRequested = false;
  let sliceScheduled = false;
  /** bumped by every start: a slice of an older run does nothing */
  let generation = 0;

  function fail(e: unknown): void {
    post({ type: 'error', error: errorInfo(e) });
    state = run ? 'done' : 'idle';
  }

  async function start(config: unknown): Promise<void> {
    const gen = ++generation;
    disposeRun();
    state = 'starting';
    stopRequested = false;
    pauseRequested = false;
    const cfg = resolveTrainingConfig(config as TrainingConfig);
    // loaded only when no text is given: a bundler splits the ~32 KB corpus into a chunk of its
    // own, which a worker that always gets its text never fetches
    const text = cfg.text ?? (await import('../data/corpus.js')).CORPUS;
    if (gen !== generation) return; // a newer start took over while the corpus loaded
    const vocab = CharVocab.fromText(text);
    const ids = vocab.encode(text);
    if (ids.length < cfg.batch * cfg.seq + 1) {
      throw new ConfigError('config.text', `at least batch × seq + 1 = ${cfg.batch * cfg.seq + 1} characters`, `${ids.length} characters`);
    }
    const stream = new TokenStream(ids, { T: cfg.seq, B: cfg.batch, vocabSize: vocab.size });
    const core = cfg.backend === 'wasm' ? await loadCore({ variant: cfg.variant, reproducible: cfg.reproducible }) : undefined;
    if (gen !== generation) return; // a newer start took over while the core loaded
    const model = await createModel({
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
    let trainer: Trainer;
    try {
      trainer = new Trainer(model, {
        loss: { loss: 'cross-entropy', at: 'every' },
        optimizer: { name: 'adam', lr: cfg.lr },
        clipNorm: cfg.clip > 0 ? cfg.clip : undefined,
      });
    } catch (e) {
      model.dispose();
      throw e;
    }
    const sampleStarts: number[] = [];
    for (let i = 0; i < text.length; i++) if ((i === 0 || text[i - 1] === '\n') && /[A-Za-z]/.test(text[i])) sampleStarts.push(i);
    const t = now();
    run = {
      cfg, text, vocab, model, trainer, stream, sampleStarts,
      sampleRng: new Rng((cfg.seed ^ 0x2545f491) >>> 0),
      step: 0, skipped: 0, firstLoss: NaN, finalLoss: NaN, trainedMs: 0, runningSince: t,
      lossSum: 0, lossCount: 0, lastReportAt: t, lastReportStep: 0, last: null,
    };
    const info: RunInfo = {
      config: cfg, model: model.config, parameters: model.numParameters,
      characters: ids.length, vocabSize: vocab.size, vocab: [...vocab.chars], chunksPerEpoch: stream.chunksPerEpoch,
      backend: cfg.backend, variant: core?.variant ?? null, host: port.host,
    };
    post({ type: 'started', info });
    if (stopRequested) return finish('stopped');
    if (pauseRequested) {
      state = 'paused';
      run.trainedMs = 0;
      post({ type: 'state', state: 'paused', step: 0 });
      return;
    }
    state = 'running';
    post({ type: 'state', state: 'running', step: 0 });
    schedule();
  }

  function schedule(): void {
    if (sliceScheduled) return;
    sliceScheduled = true;
    const gen = generation;
    later(() => {
      sliceScheduled = false;
      if (gen !== generation || state !== 'running' || !run) return;
      try {
        slice(run);
      } catch (e) {
        fail(e);
      }
    });
  }

  function slice(r: Run): void {
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
      if (diagnostics && result.gradNormsOverTime) {
        const norms = result.gradNormsOverTime.map((a) => Float32Array.from(a));
        post({ type: 'gradients', step: s, norms }, norms.map((a) => a.buffer));
      }
      const last = s === cfg.steps;
      const t = now();
      if (s === 1 || last || t - r.lastReportAt >= cfg.progressIntervalMs) report(r, t);
      if (cfg.sampleEvery > 0 && (s % cfg.sampleEvery === 0 || last)) postSample(r);
      if (last) { finish('finished'); return; }
    } while (now() - t0 < cfg.sliceMs);
    schedule();
  }

  function report(r: Run, t: number): void {
    if (r.step === r.lastReportStep || !r.last) return;
    const elapsed = t - r.lastReportAt;
    post({
      type: 'progress',
      step: r.step,
      loss: r.lossCount ? r.lossSum / r.lossCount : NaN,
      lastLoss: r.last.loss,
      gradNorm: r.last.gradNorm,
      clipped: r.last.clipped,
      stepsPerSec: elapsed > 0 ? ((r.step - r.lastReportStep) * 1000) / elapsed : 0,
      epoch: r.stream.epoch,
      skipped: r.skipped,
      elapsedMs: r.trainedMs + (state === 'running' ? t - r.runningSince : 0),
    });
    r.lossSum = 0;
    r.lossCount = 0;
    r.lastReportAt = t;
    r.lastReportStep = r.step;
  }

  function primeFor(r: Run): string {
    const at = r.sampleStarts.length ? r.sampleStarts[r.sampleRng.int(r.sampleStarts.length)] : 0;
    let prime = [...r.text.slice(at, at + 40)].slice(0, 24).join('');
    const cut = prime.lastIndexOf(' ');
    if (cut > 8) prime = prime.slice(0, cut + 1);
    return prime;
  }

  function postSample(r: Run): void {
    const prime = primeFor(r);
    const out = r.model.generate({
      prime: r.vocab.encode(prime), length: r.cfg.sampleLength, temperature: r.cfg.temperature,
      seed: (r.cfg.seed + r.step) >>> 0,
    });
    post({ type: 'sample', step: r.step, prime, text: r.vocab.decode(out), temperature: r.cfg.temperature });
  }

  function finish(reason: 'finished' | 'stopped'): void {
    const r = run!;
    const t = now();
    report(r, t); // the steps since the last progress event
    if (state === 'running') r.trainedMs += t - r.runningSince;
    state = 'done';
    post({
      type: 'done', reason, step: r.step, seconds: r.trainedMs / 1000,
      firstLoss: r.firstLoss, finalLoss: r.finalLoss, skipped: r.skipped,
    });
  }

  function disposeRun(): void {
    if (!run) return;
    run.trainer.dispose();
    run.model.dispose();
    run = null;
  }

  function reply(id: number, fn: () => Uint8Array | string): void {
    try {
      const value = fn();
      post({ type: 'reply', id, ok: true, value }, typeof value === 'string' ? [] : [value.buffer as ArrayBuffer]);
    } catch (e) {
      post({ type: 'reply', id, ok: false, error: errorInfo(e) });
    }
  }

  function needRun(): Run {
    if (!run) throw new ConfigError('worker', 'a model: call start() first', state === 'starting' ? 'a model still being built' : 'no model');
    return run;
  }

  port.onMessage((m: ToWorker) => {
    if (m === null || typeof m !== 'object') return;
    switch (m.type) {
      case 'start':
        if (state === 'starting' || state === 'running' || state === 'paused') {
          post({ type: 'error', error: errorInfo(new ConfigError('start', 'no run in progress (stop() the current one first)', `a run that is ${state}`)) });
          return;
        }
        start(m.config).catch((e) => fail(e));
        return;
      case 'pause':
        if (state === 'starting') { pauseRequested = true; return; }
        if (state === 'paused' && run) { post({ type: 'state', state: 'paused', step: run.step }); return; } // already
        if (state !== 'running' || !run) return; // idle or done: the client's waiters resolved on 'done'
        {
          const t = now();
          report(run, t); // nothing more arrives after 'paused'
          run.trainedMs += t - run.runningSince;
          state = 'paused';
          post({ type: 'state', state: 'paused', step: run.step });
        }
        return;
      case 'resume':
        if (state === 'starting') { pauseRequested = false; return; }
        if (state === 'running' && run) { post({ type: 'state', state: 'running', step: run.step }); return; } // already
        if (state !== 'paused' || !run) return;
        state = 'running';
        run.runningSince = now();
        run.lastReportAt = run.runningSince; // the pause does not count against steps/s
        post({ type: 'state', state: 'running', step: run.step });
        schedule();
        return;
      case 'stop':
        if (state === 'starting') { stopRequested = true; return; }
        if (state === 'running' || state === 'paused') finish('stopped');
        else if (run && state === 'done') post({ type: 'done', reason: 'stopped', step: run.step, seconds: run.trainedMs / 1000, firstLoss: run.firstLoss, finalLoss: run.finalLoss, skipped: run.skipped });
        return;
      case 'getWeights':
        reply(m.id, () => {
          const r = needRun();
          return modelToSafetensors(r.model, {
            [VOCAB_METADATA_KEY]: JSON.stringify(r.vocab.toJSON()),
            unrolled_task: 'char',
            unrolled_steps: String(r.step),
          });
        });
        return;
      case 'generate':
        reply(m.id, () => {
          const r = needRun();
          const ids = r.model.generate({ prime: r.vocab.encode(m.prime), length: m.length, temperature: m.temperature, seed: m.seed });
          return r.vocab.decode(ids);
        });
        return;
      default:
        post({ type: 'error', error: { message: `unknown message type ${JSON.stringify((m as { type?: unknown }).type)}` } });
    }
  });
  post({ type: 'ready', protocol: PROTOCOL_VERSION, host: port.host });
}
