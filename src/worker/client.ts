// The main thread's handle on a trainer worker: TrainingWorker sends the protocol's commands and
// turns the worker's messages into typed events and promises. It knows nothing of the host: a
// WorkerEndpoint wraps a browser Worker (createTrainingWorker, in browser.ts) or a Node worker_threads
// Worker (createNodeTrainingWorker, in node-client.ts).
//
//   const w = createTrainingWorker();
//   w.on('progress', (p) => console.log(p.step, p.loss));
//   await w.start({ cell: 'gru', hidden: 64, steps: 500 });
//   await w.pause(); await w.resume();
//   const bytes = await w.getWeights();   // a safetensors file
//   await w.stop(); await w.terminate();
//
// Every command (start, pause, resume, stop, getWeights, generate) is answered or failed within
// `timeoutMs` (a TimeoutError, code TIMEOUT), so a worker that hangs or never loads cannot leave a
// promise pending forever. whenDone() is the one wait without a bound: a run may train for hours.
import * as errors from '../errors.js';
import { InvalidArgumentError, TimeoutError, UnrolledError, type ErrorCode } from '../errors.js';
import { CheckpointFieldError, DOMAINS, UnknownKeyError, checkNumber } from '../validate/index.js';
import {
  resolveTrainingConfig,
  type DoneEvent,
  type ErrorInfo,
  type FromWorker,
  type GradientFlowEvent,
  type ProgressEvent,
  type RunInfo,
  type SampleEvent,
  type StateEvent,
  type ToWorker,
  type TrainingConfig,
} from './protocol.js';

/** How a TrainingWorker talks to its worker, whatever the host. */
export interface WorkerEndpoint {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  onMessage(handler: (message: FromWorker) => void): void;
  /** The worker failed to load, crashed or exited. */
  onError(handler: (error: Error) => void): void;
  terminate(): void | Promise<void>;
}

export interface TrainingEvents {
  /** The worker loaded and listens. */
  ready: { protocol: number; host: 'browser' | 'node' };
  /** The model is built; training begins (or waits, when paused before it started). */
  started: RunInfo;
  progress: ProgressEvent;
  /** ‖∂E/∂h_t‖ per step t (per layer), every `gradientEvery` steps. */
  gradients: GradientFlowEvent;
  /** Generated text, every `sampleEvery` steps and at the end. */
  sample: SampleEvent;
  /** Paused or running again. */
  state: StateEvent;
  done: DoneEvent;
  /** Anything that went wrong in the worker (a bad configuration, a crash). */
  error: TrainingWorkerError;
}

export type TrainingWorkerState = 'idle' | 'starting' | 'running' | 'paused' | 'done' | 'failed' | 'terminated';

/** An error reported by the worker; `code` is the UnrolledError code when it was one. */
export class TrainingWorkerError extends Error {
  readonly code: string | undefined;
  /** The argument the error names, when it was an UnrolledError that names one. */
  readonly argument: string | undefined;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = info.name && info.name !== 'Error' ? info.name : 'TrainingWorkerError';
    this.code = info.code;
    this.argument = info.argument;
  }
}

/** How long a command may wait for the worker's answer by default (ms). */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface TrainingWorkerOptions {
  /**
   * The longest wait for the answer to a command (start, pause, resume, stop, getWeights,
   * generate), in ms; then the command fails with a TimeoutError (code TIMEOUT). Default 60 000.
   */
  timeoutMs?: number;
}

type Listener<K extends keyof TrainingEvents> = (event: TrainingEvents[K]) => void;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

export interface GenerateRequest {
  /** Characters to generate, default 200. */
  length?: number;
  /** Default 0.8; 0 takes the most likely character every time. */
  temperature?: number;
  /** Seed of the sampler, default 0. */
  seed?: number;
}

export class TrainingWorker {
  private readonly listeners = new Map<keyof TrainingEvents, Set<Listener<keyof TrainingEvents>>>();
  private readonly replies = new Map<number, Waiter<Uint8Array | string>>();
  private stateWaiters: { want: 'paused' | 'running'; waiter: Waiter<void> }[] = [];
  private doneWaiters: Waiter<DoneEvent>[] = [];
  private startWaiter: Waiter<RunInfo> | null = null;
  private nextId = 1;
  private _state: TrainingWorkerState = 'idle';
  private _info: RunInfo | null = null;
  private _lastDone: DoneEvent | null = null;
  private readonly timeoutMs: number;

  constructor(
    private readonly endpoint: WorkerEndpoint,
    options: TrainingWorkerOptions = {},
  ) {
    const t = options?.timeoutMs;
    this.timeoutMs = t === undefined ? DEFAULT_TIMEOUT_MS : checkNumber('options.timeoutMs', t, TIMEOUT_DOMAIN, InvalidArgumentError);
    endpoint.onMessage((m) => this.receive(m));
    endpoint.onError((e) => this.crashed(e));
  }

  /** Where the run stands, as last reported by the worker. */
  get state(): TrainingWorkerState {
    return this._state;
  }

  /** What the worker built for the current (or last) run. */
  get info(): RunInfo | null {
    return this._info;
  }

  /** Listens to an event; returns a function that stops listening. */
  on<K extends keyof TrainingEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as Listener<keyof TrainingEvents>);
    return () => {
      set!.delete(listener as Listener<keyof TrainingEvents>);
    };
  }

  /**
   * Builds the model in the worker and starts training; resolves with what was built once the
   * model exists. The configuration is checked here first (a ConfigError rejects at once).
   */
  start(config: TrainingConfig = {}): Promise<RunInfo> {
    let resolved: TrainingConfig;
    try {
      this.alive();
      // read once into plain data: a Proxy (a reactive store's object) cannot be cloned by
      // postMessage, and a getter must not answer differently after the check
      resolved = resolveTrainingConfig(config);
      if (this._state === 'starting' || this._state === 'running' || this._state === 'paused') {
        throw new UnrolledError('INVALID_CONFIG', `start: a run is already ${this._state}; stop() it first`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const previous = { state: this._state, info: this._info, done: this._lastDone };
    this._state = 'starting';
    this._info = null;
    this._lastDone = null;
    return new Promise<RunInfo>((resolve, reject) => {
      const waiter: Waiter<RunInfo> = this.timedWaiter(
        'start',
        () => {
          if (this.startWaiter === waiter) this.startWaiter = null;
          if (this._state === 'starting') this._state = 'failed';
        },
        resolve,
        reject,
      );
      this.startWaiter = waiter;
      if (!this.post({ type: 'start', config: resolved }, waiter)) {
        this.startWaiter = null;
        this._state = previous.state;
        this._info = previous.info;
        this._lastDone = previous.done;
      }
    });
  }

  /** Pauses after the current step; resolves once the worker has paused (no progress follows). */
  pause(): Promise<void> {
    return this.command('pause', 'paused');
  }

  /** Resumes a paused run; resolves once the worker runs again. */
  resume(): Promise<void> {
    return this.command('resume', 'running');
  }

  /** Ends the run early (weights stay available); resolves with the 'done' event (null if nothing ran). */
  stop(): Promise<DoneEvent | null> {
    if (this._state === 'terminated') return Promise.reject(new UnrolledError('DISPOSED', 'the training worker was terminated'));
    if (this._state === 'idle' || this._state === 'failed') return Promise.resolve(null);
    if (this._state === 'done') return Promise.resolve(this._lastDone);
    return new Promise<DoneEvent | null>((resolve, reject) => {
      const waiter: Waiter<DoneEvent> = this.timedWaiter(
        'stop',
        () => {
          this.doneWaiters = this.doneWaiters.filter((w) => w !== waiter);
        },
        resolve,
        reject,
      );
      this.doneWaiters.push(waiter);
      if (!this.post({ type: 'stop' }, waiter)) this.doneWaiters = this.doneWaiters.filter((w) => w !== waiter);
    });
  }

  /** Resolves when the current run ends (finished or stopped). */
  whenDone(): Promise<DoneEvent> {
    if (this._state === 'terminated') return Promise.reject(new UnrolledError('DISPOSED', 'the training worker was terminated'));
    if (this._state === 'done' && this._lastDone) return Promise.resolve(this._lastDone);
    if (this._state === 'idle' || this._state === 'failed') {
      return Promise.reject(new UnrolledError('INVALID_CONFIG', `whenDone: no run in progress (the worker is ${this._state})`));
    }
    return new Promise<DoneEvent>((resolve, reject) => this.doneWaiters.push({ resolve, reject }));
  }

  /**
   * The model's weights as a safetensors file (PyTorch names; configuration and vocabulary in
   * the metadata: unrolled_config, unrolled_vocab). Taken between two steps, also while running.
   */
  async getWeights(): Promise<Uint8Array> {
    return (await this.request({ type: 'getWeights', id: 0 })) as Uint8Array;
  }

  /** Text generated by the worker's model after `prime` (characters of the training text). */
  async generate(prime: string, options: GenerateRequest = {}): Promise<string> {
    if (typeof prime !== 'string' || prime.length === 0)
      throw new InvalidArgumentError('prime', 'a non-empty string', typeof prime === 'string' ? 'an empty string' : typeof prime);
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', String(options));
    // read once, checked here: the worker gets plain numbers it can clone
    const { length = 200, temperature = 0.8, seed = 0 } = { ...options };
    checkNumber('options.length', length, DOMAINS.generateSteps, InvalidArgumentError);
    checkNumber('options.temperature', temperature, DOMAINS.temperature, InvalidArgumentError);
    checkNumber('options.seed', seed, DOMAINS.seed, InvalidArgumentError);
    return (await this.request({ type: 'generate', id: 0, prime, length, temperature, seed })) as string;
  }

  /** Ends the worker; pending promises reject. */
  async terminate(): Promise<void> {
    if (this._state === 'terminated') return;
    this._state = 'terminated';
    this.rejectAll(new UnrolledError('DISPOSED', 'the training worker was terminated'));
    await this.endpoint.terminate();
  }

  private alive(): void {
    if (this._state === 'terminated') throw new UnrolledError('DISPOSED', 'the training worker was terminated');
  }

  private command(type: 'pause' | 'resume', want: 'paused' | 'running'): Promise<void> {
    if (this._state === 'terminated') return Promise.reject(new UnrolledError('DISPOSED', 'the training worker was terminated'));
    if (this._state === want || !(this._state === 'starting' || this._state === 'running' || this._state === 'paused')) {
      return Promise.resolve(); // already so, or nothing to pause / resume
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter<void> = this.timedWaiter(
        type,
        () => {
          this.stateWaiters = this.stateWaiters.filter((w) => w.waiter !== waiter);
        },
        resolve,
        reject,
      );
      this.stateWaiters.push({ want, waiter });
      if (!this.post({ type }, waiter)) this.stateWaiters = this.stateWaiters.filter((w) => w.waiter !== waiter);
    });
  }

  private request(message: Extract<ToWorker, { id: number }>): Promise<Uint8Array | string> {
    try {
      this.alive();
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const waiter: Waiter<Uint8Array | string> = this.timedWaiter(
        message.type,
        () => {
          this.replies.delete(id);
        },
        resolve,
        reject,
      );
      this.replies.set(id, waiter);
      if (!this.post({ ...message, id }, waiter)) this.replies.delete(id);
    });
  }

  /** A waiter for a command, bound by timeoutMs (see bound); settling it either way clears its timer. */
  private timedWaiter<T>(what: string, forget: () => void, resolve: (v: T) => void, reject: (e: Error) => void): Waiter<T> {
    const timer = this.bound(what, forget, reject);
    return {
      resolve: (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    };
  }

  /** A timer that fails a command after timeoutMs: `forget` drops its waiter first. */
  private bound(what: string, forget: () => void, reject: (e: Error) => void): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      forget();
      reject(
        new TimeoutError(
          `${what}: no answer from the training worker within ${this.timeoutMs} ms (is it stuck in a long step, or did it fail to load?)`,
        ),
      );
    }, this.timeoutMs);
  }

  /** Posts a message; if the host refuses it (e.g. it cannot be cloned), fails `waiter` with a typed error. */
  private post(message: ToWorker, waiter: { reject(e: Error): void }): boolean {
    try {
      this.endpoint.postMessage(message);
      return true;
    } catch (e) {
      waiter.reject(
        new InvalidArgumentError(
          message.type,
          'a message the worker can receive (plain data)',
          `one postMessage refused: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
      return false;
    }
  }

  private emit<K extends keyof TrainingEvents>(type: K, event: TrainingEvents[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<K>)(event);
      } catch (e) {
        // a listener's bug must not break the protocol; report it where it can be seen
        setTimeout(() => {
          throw e;
        }, 0);
      }
    }
  }

  private receive(m: FromWorker): void {
    if (this._state === 'terminated' || m === null || typeof m !== 'object') return;
    switch (m.type) {
      case 'ready':
        this.emit('ready', { protocol: m.protocol, host: m.host });
        return;
      case 'started':
        this._info = m.info;
        this.startWaiter?.resolve(m.info);
        this.startWaiter = null;
        this.emit('started', m.info);
        return;
      case 'progress': {
        const { type: _, ...event } = m;
        this.emit('progress', event);
        return;
      }
      case 'gradients':
        this.emit('gradients', { step: m.step, norms: m.norms });
        return;
      case 'sample':
        this.emit('sample', { step: m.step, prime: m.prime, text: m.text, temperature: m.temperature });
        return;
      case 'state': {
        this._state = m.state;
        const ready = this.stateWaiters.filter((w) => w.want === m.state);
        this.stateWaiters = this.stateWaiters.filter((w) => w.want !== m.state);
        for (const w of ready) w.waiter.resolve();
        this.emit('state', { state: m.state, step: m.step });
        return;
      }
      case 'done': {
        const { type: _, ...event } = m;
        this._state = 'done';
        this._lastDone = event;
        // pause / resume asked for a run that has ended: nothing left to wait for
        for (const w of this.stateWaiters) w.waiter.resolve();
        this.stateWaiters = [];
        const waiters = this.doneWaiters;
        this.doneWaiters = [];
        for (const w of waiters) w.resolve(event);
        this.emit('done', event);
        return;
      }
      case 'reply': {
        const w = this.replies.get(m.id);
        if (!w) return;
        this.replies.delete(m.id);
        if (m.ok) w.resolve(m.value);
        else w.reject(errorFromInfo(m.error));
        return;
      }
      case 'error': {
        const error = new TrainingWorkerError(m.error);
        const typed = errorFromInfo(m.error);
        if (this.startWaiter) {
          // the run could not start (or a second start was refused while one runs)
          if (this._state === 'starting') this._state = 'failed';
          this.startWaiter.reject(typed);
          this.startWaiter = null;
        } else if (this._state === 'running' || this._state === 'paused') {
          this._state = 'failed';
        }
        if (this._state === 'failed') {
          for (const w of this.stateWaiters) w.waiter.reject(typed);
          this.stateWaiters = [];
          for (const w of this.doneWaiters) w.reject(typed);
          this.doneWaiters = [];
        }
        this.emit('error', error);
        return;
      }
    }
  }

  private crashed(e: Error): void {
    if (this._state === 'terminated') return;
    this._state = 'failed';
    const error = e instanceof TrainingWorkerError ? e : new TrainingWorkerError({ message: e.message || String(e), name: e.name });
    this.rejectAll(error);
    this.emit('error', error);
  }

  private rejectAll(error: Error): void {
    this.startWaiter?.reject(error);
    this.startWaiter = null;
    for (const w of this.stateWaiters) w.waiter.reject(error);
    this.stateWaiters = [];
    for (const w of this.doneWaiters) w.reject(error);
    this.doneWaiters = [];
    for (const w of this.replies.values()) w.reject(error);
    this.replies.clear();
  }
}

const TIMEOUT_DOMAIN = Object.freeze({ min: 0, minOpen: true, max: 2 ** 31 - 1 });

type ErrorClass = abstract new (...args: never[]) => UnrolledError;
const isErrorClass = (v: unknown): v is ErrorClass =>
  typeof v === 'function' && (v === UnrolledError || v.prototype instanceof UnrolledError);

/**
 * The library's error classes by name, to rebuild an error that crossed the worker boundary:
 * every UnrolledError class of errors.ts (so a new one cannot be forgotten here) and the
 * validation module's two.
 */
const ERROR_CLASSES: Record<string, ErrorClass> = {
  ...Object.fromEntries(Object.entries(errors).filter(([, v]) => isErrorClass(v))),
  UnknownKeyError,
  CheckpointFieldError,
};

/**
 * The error the worker reported, rebuilt as the same class (ConfigError, InvalidArgumentError, ...)
 * with its code, argument and message, so that `instanceof` and `code` work as in the same thread;
 * an error with no code (a bug, a crash) is a TrainingWorkerError.
 */
export function errorFromInfo(info: ErrorInfo): Error {
  if (!info || typeof info !== 'object') return new TrainingWorkerError({ message: String(info) });
  if (typeof info.code !== 'string') return new TrainingWorkerError(info);
  const name = typeof info.name === 'string' ? info.name : '';
  const C = Object.hasOwn(ERROR_CLASSES, name) ? ERROR_CLASSES[name] : UnrolledError;
  // constructs through the base class (its constructor only sets code and message) with the
  // prototype of the right subclass: the message stays exactly the worker's
  const e = Reflect.construct(UnrolledError, [info.code as ErrorCode, String(info.message)], C) as UnrolledError;
  if (C === UnrolledError && name) e.name = name;
  for (const k of ['argument', 'path', 'errno', 'key', 'suggestion'] as const) {
    if (typeof info[k] === 'string') Object.defineProperty(e, k, { value: info[k], enumerable: true, writable: false, configurable: true });
  }
  if (C === errors.FileError && info.errno === undefined) Object.defineProperty(e, 'errno', { value: undefined, enumerable: true });
  return e;
}
