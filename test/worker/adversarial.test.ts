// The training worker as a careless or hostile app drives it: reactive Proxy configurations (as
// Vue and Svelte hand them over), getters, configurations the host cannot clone, errors that must
// come back across the boundary as the same class with the same code and argument, workers that
// never answer (every command fails with TIMEOUT within its bound), and the domains the worker
// shares with the command line. Most cases run the worker's session in this thread on a channel
// that clones every message the way postMessage does; the last ones use a real worker thread.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BackendError,
  BusyError,
  CheckpointError,
  ConfigError,
  DisposedError,
  FileError,
  InvalidArgumentError,
  MemoryLimitError,
  NonFiniteError,
  TimeoutError,
  UnrolledError,
} from '../../src/errors.js';
import '../../src/node/load-node.js';
import { CheckpointFieldError, UnknownKeyError } from '../../src/validate/index.js';
import { TrainingWorker, TrainingWorkerError, errorFromInfo, type WorkerEndpoint } from '../../src/worker/client.js';
import {
  RUN_DOMAINS,
  errorInfo,
  resolveTrainingConfig,
  type FromWorker,
  type ToWorker,
  type WorkerPort,
} from '../../src/worker/protocol.js';
import { serveTrainer } from '../../src/worker/session.js';
import { parse, Flags } from '../../src/cli/args.js';
import { tally } from '../cli/tally.js';

const count = tally('test/worker/adversarial.test.ts');

/** A TrainingWorker whose session runs in this thread; every message is cloned as postMessage would. */
function inProcessWorker(options: { timeoutMs?: number } = {}): { w: TrainingWorker; sent: ToWorker[] } {
  const toWorker: ((m: ToWorker) => void)[] = [];
  const toMain: ((m: FromWorker) => void)[] = [];
  const sent: ToWorker[] = [];
  let closed = false;
  const port: WorkerPort = {
    host: 'node',
    postMessage: (m) => {
      const c = structuredClone(m);
      setImmediate(() => {
        if (!closed) for (const h of toMain) h(c);
      });
    },
    onMessage: (h) => {
      toWorker.push(h);
    },
  };
  const endpoint: WorkerEndpoint = {
    postMessage: (m) => {
      const c = structuredClone(m);
      sent.push(c);
      setImmediate(() => {
        if (!closed) for (const h of toWorker) h(c);
      });
    },
    onMessage: (h) => {
      toMain.push(h);
    },
    onError: () => {},
    terminate: () => {
      closed = true;
    },
  };
  const w = new TrainingWorker(endpoint, options);
  serveTrainer(port);
  return { w, sent };
}

/** An endpoint that takes every message and never answers. */
function silentWorker(timeoutMs: number): TrainingWorker {
  return new TrainingWorker(
    {
      postMessage: (m) => {
        structuredClone(m);
      },
      onMessage: () => {},
      onError: () => {},
      terminate: () => {},
    },
    { timeoutMs },
  );
}

const SMALL = {
  backend: 'js',
  cell: 'gru',
  hidden: 4,
  seq: 4,
  batch: 2,
  steps: 1_000_000,
  sampleEvery: 0,
  gradientEvery: 0,
  progressIntervalMs: 0,
} as const;

/** What Vue 3's reactive() returns: a Proxy with get/set/has/ownKeys/deleteProperty traps over a plain object. */
function reactive<T extends object>(target: T, track: string[] = []): T {
  return new Proxy(target, {
    get(t, k, r) {
      track.push(`get ${String(k)}`);
      const v = Reflect.get(t, k, r);
      return v !== null && typeof v === 'object' ? reactive(v as object, track) : v;
    },
    set(t, k, v, r) {
      return Reflect.set(t, k, v, r);
    },
    has(t, k) {
      return Reflect.has(t, k);
    },
    ownKeys(t) {
      track.push('ownKeys');
      return Reflect.ownKeys(t);
    },
    deleteProperty(t, k) {
      return Reflect.deleteProperty(t, k);
    },
  });
}

describe('configurations a reactive store hands over', () => {
  it('a Proxy (Vue reactive) starts training instead of hanging in "starting"; each key is read once', async () => {
    // a Proxy cannot be cloned: that is what hung before the configuration was snapshot
    expect(() => structuredClone(reactive({ ...SMALL }))).toThrow();
    const { w, sent } = inProcessWorker({ timeoutMs: 20_000 });
    const track: string[] = [];
    const info = await w.start(reactive({ ...SMALL, seed: 3 }, track));
    expect(info.config).toMatchObject({ ...SMALL, seed: 3 });
    for (let i = 0; i < 200 && w.state !== 'running'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(w.state).toBe('running');
    const startMsg = sent.find((m) => m.type === 'start')!;
    expect(Object.getPrototypeOf((startMsg as { config: object }).config)).toBe(Object.prototype);
    for (const key of Object.keys(SMALL)) expect(track.filter((t) => t === `get ${key}`)).toHaveLength(1);
    await w.stop();
    await w.terminate();
    count.add('6 worker: Proxy configs', 'correct behaviour');
  });

  it('a nested Proxy, a frozen object, a null-prototype object and an object with getters all start', async () => {
    const nullProto = Object.assign(Object.create(null), SMALL);
    let reads = 0;
    const withGetter = {
      ...SMALL,
      get hidden() {
        reads++;
        return reads === 1 ? 4 : 1e9;
      },
    };
    for (const config of [reactive(reactive({ ...SMALL })), Object.freeze({ ...SMALL }), nullProto, withGetter]) {
      const { w } = inProcessWorker({ timeoutMs: 20_000 });
      const info = await w.start(config);
      // the getter was read once: the model has the size it had when checked
      expect(info.model.hiddenSize).toBe(4);
      await w.stop();
      await w.terminate();
      count.add('6 worker: Proxy configs', 'correct behaviour');
    }
    expect(reads).toBe(1);
  });

  it('a Proxy whose trap throws, a config with a function or a cycle: a ConfigError at once, and the worker can start again', async () => {
    const cyclic: Record<string, unknown> = { ...SMALL };
    cyclic.self = cyclic;
    const bad = [
      new Proxy(
        { ...SMALL },
        {
          get() {
            throw new Error('store is locked');
          },
        },
      ),
      new Proxy(
        { ...SMALL },
        {
          ownKeys() {
            throw new Error('no keys for you');
          },
        },
      ),
      { ...SMALL, onProgress: () => {} },
      cyclic,
      { ...SMALL, hidden: 10n },
      { ...SMALL, clipnorm: 1 },
    ];
    const { w } = inProcessWorker({ timeoutMs: 20_000 });
    for (const config of bad) {
      const e = await w.start(config as never).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).code).toBe('INVALID_CONFIG');
      expect((e as ConfigError).argument).toMatch(/^config/);
      expect(w.state).toBe('idle');
      count.add('6 worker: Proxy configs', 'typed error');
    }
    const e = await w.start({ ...SMALL, hiden: 1 } as never).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(UnknownKeyError);
    expect((e as UnknownKeyError).message).toMatch(/did you mean 'hidden'/);
    await w.start(SMALL);
    await w.stop();
    await w.terminate();
  });

  it('a host that refuses the message (it cannot be cloned) fails the command with a typed error, not a hang', async () => {
    const w = new TrainingWorker(
      {
        postMessage: () => {
          throw new DOMException('could not be cloned', 'DataCloneError');
        },
        onMessage: () => {},
        onError: () => {},
        terminate: () => {},
      },
      { timeoutMs: 5_000 },
    );
    for (const call of [() => w.start(SMALL), () => w.getWeights(), () => w.generate('a')]) {
      const e = await call().then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).message).toMatch(/postMessage refused: could not be cloned/);
      count.add('6 worker: Proxy configs', 'typed error');
    }
    expect(w.state).toBe('idle');
  });
});

describe('errors cross the boundary as the same class, with code and argument', () => {
  const samples: [string, Error][] = [
    ['ConfigError', new ConfigError('config.hidden', 'an integer', '0')],
    ['InvalidArgumentError', new InvalidArgumentError('prime', 'known characters', '"☺"')],
    ['NonFiniteError', new NonFiniteError('loss', 'is NaN')],
    ['MemoryLimitError', new MemoryLimitError('does not fit')],
    ['DisposedError', new DisposedError('the model')],
    ['BusyError', new BusyError('the model')],
    ['CheckpointError', new CheckpointError('checkpoint: bad')],
    ['BackendError', new BackendError('no wasm')],
    ['FileError', new FileError('/x/y', 'cannot read: no such file or directory (ENOENT)', 'ENOENT')],
    ['TimeoutError', new TimeoutError('too slow')],
    ['UnknownKeyError', new UnknownKeyError('config', 'clipnorm', 'clip', ['clip'])],
    ['CheckpointFieldError', new CheckpointFieldError('state.step', 'an integer', '-1')],
  ];

  it.each(samples)('%s', (name, e) => {
    const back = errorFromInfo(structuredClone(errorInfo(e)));
    expect(back.constructor).toBe(e.constructor);
    expect(back).toBeInstanceOf(UnrolledError);
    expect(back.name).toBe(name);
    expect(back.message).toBe(e.message);
    expect((back as UnrolledError).code).toBe((e as UnrolledError).code);
    for (const k of ['argument', 'path', 'errno', 'key', 'suggestion']) expect((back as never)[k]).toBe((e as never)[k]);
    count.add('6 worker: error round trip', 'correct behaviour');
  });

  it('errors without a code (bugs) come back as TrainingWorkerError with their name and message', () => {
    for (const e of [new TypeError('x is not a function'), new RangeError('bad'), 'a string', 42, null]) {
      const back = errorFromInfo(structuredClone(errorInfo(e)));
      expect(back).toBeInstanceOf(TrainingWorkerError);
      if (e instanceof Error) expect(back.name).toBe(e.name);
      count.add('6 worker: error round trip', 'correct behaviour');
    }
  });

  it('property: any class, code, argument and message survive the trip', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.constantFrom(...samples.map(([, e]) => e.constructor)), fc.string(), fc.string(), (C, argument, message) => {
        const e = Reflect.construct(UnrolledError, ['INVALID_ARGUMENT', message], C as never) as UnrolledError;
        Object.defineProperty(e, 'argument', { value: argument, enumerable: true });
        const back = errorFromInfo(structuredClone(errorInfo(e))) as UnrolledError & { argument?: string };
        expect(back).toBeInstanceOf(C as never);
        expect([back.code, back.message, back.argument]).toEqual(['INVALID_ARGUMENT', message, argument]);
        n++;
      }),
      { numRuns: 500, seed: 5 },
    );
    count.add('6 worker: error round trip (random)', 'correct behaviour', n);
  });

  it('a malformed error record from a confused worker still gives an Error', () => {
    for (const info of [
      { message: 'x', code: 'INVALID_CONFIG', name: 'constructor' },
      { message: 'x', code: 'INVALID_CONFIG', name: '__proto__' },
      { message: 'x', code: 7 },
      null,
    ]) {
      const back = errorFromInfo(info as never);
      expect(back).toBeInstanceOf(Error);
      count.add('6 worker: error round trip', 'correct behaviour');
    }
  });

  it('in the session: refusals inside the worker reach the app as ConfigError / InvalidArgumentError with their argument', async () => {
    const { w } = inProcessWorker({ timeoutMs: 20_000 });
    const before = await w.getWeights().catch((x: unknown) => x);
    expect(before).toBeInstanceOf(ConfigError);
    expect((before as ConfigError).argument).toBe('worker');
    const tooShort = await w.start({ ...SMALL, text: 'abc' }).catch((x: unknown) => x);
    expect(tooShort).toBeInstanceOf(ConfigError);
    expect((tooShort as ConfigError).argument).toBe('config.text');
    await w.start({ ...SMALL, text: 'abcabcabcabcabcabcabc abc' });
    const unknownChar = await w.generate('☺').catch((x: unknown) => x);
    expect(unknownChar).toBeInstanceOf(InvalidArgumentError);
    expect((unknownChar as InvalidArgumentError).argument).toMatch(/^text/);
    const badLength = await w.generate('a', { length: -1 }).catch((x: unknown) => x);
    expect(badLength).toBeInstanceOf(InvalidArgumentError);
    expect((badLength as InvalidArgumentError).argument).toBe('options.length');
    await w.stop();
    await w.terminate();
    count.add('6 worker: error round trip', 'typed error', 4);
  });
});

describe('every command is answered or fails within its bound', () => {
  it.each([
    ['start', (w: TrainingWorker) => w.start(SMALL)],
    ['getWeights', (w: TrainingWorker) => w.getWeights()],
    ['generate', (w: TrainingWorker) => w.generate('ab')],
  ] as const)('%s on a worker that never answers: TimeoutError (TIMEOUT)', async (name, call) => {
    const w = silentWorker(150);
    const t0 = performance.now();
    const e = await call(w).then(
      () => null,
      (x: unknown) => x,
    );
    const ms = performance.now() - t0;
    expect(e).toBeInstanceOf(TimeoutError);
    expect((e as TimeoutError).code).toBe('TIMEOUT');
    expect((e as Error).message).toMatch(new RegExp(`^${name}: no answer from the training worker within 150 ms`));
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(2000);
    if (name === 'start') expect(w.state).toBe('failed');
    count.add('6 worker: timeouts', 'typed error');
  });

  it('pause, resume and stop of a run whose worker went silent: TIMEOUT', async () => {
    // a worker that starts, then never answers again
    let handler: ((m: FromWorker) => void) | null = null;
    const w = new TrainingWorker(
      {
        postMessage: (m) => {
          if (m.type === 'start')
            setImmediate(() => {
              handler!({ type: 'started', info: {} as never });
              handler!({ type: 'state', state: 'running', step: 0 });
            });
        },
        onMessage: (h) => {
          handler = h;
        },
        onError: () => {},
        terminate: () => {},
      },
      { timeoutMs: 100 },
    );
    await w.start(SMALL);
    await new Promise((r) => setImmediate(r));
    for (const call of [() => w.pause(), () => w.stop()]) {
      const e = await call().then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(TimeoutError);
      count.add('6 worker: timeouts', 'typed error');
    }
  });

  it('timeoutMs must be a positive number', () => {
    for (const t of [0, -1, NaN, Infinity, '100', 2 ** 31]) {
      expect(() => silentWorker(t as never)).toThrow(InvalidArgumentError);
      count.add('6 worker: timeouts', 'typed error');
    }
  });

  it('terminate() rejects what is pending at once (DISPOSED) and leaves no timer behind', async () => {
    const w = silentWorker(60_000);
    const p = w.getWeights();
    await w.terminate();
    const e = await p.catch((x: unknown) => x);
    expect((e as UnrolledError).code).toBe('DISPOSED');
    count.add('6 worker: timeouts', 'typed error');
  });
});

describe('one set of domains for the worker and the command line', () => {
  const shared = ['hidden', 'layers', 'seq', 'batch', 'lr', 'clip', 'steps', 'seed', 'temperature'] as const;
  const accepts = {
    worker: (field: string, v: number): boolean => {
      try {
        resolveTrainingConfig({ [field]: v });
        return true;
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return false;
      }
    },
    cli: (field: string, v: number): boolean => {
      try {
        const f = new Flags('train', parse('train', [`--${field}=${String(v)}`]));
        if (field === 'lr' || field === 'clip' || field === 'temperature') f.float(field);
        else f.int(field as 'hidden');
        return true;
      } catch (e) {
        expect((e as UnrolledError).code).toBe('INVALID_ARGUMENT');
        return false;
      }
    },
  };

  it('the edges of every shared domain are accepted or refused by both alike', () => {
    for (const field of shared) {
      const d = RUN_DOMAINS[field];
      const edges = [d.min ?? 0, (d.min ?? 0) - 1, d.max ?? 1e300, (d.max ?? 1e300) + 1, (d.min ?? 0) + 0.5, 1e300];
      for (const v of edges) {
        expect(accepts.cli(field, v), `--${field} ${v}`).toBe(accepts.worker(field, v));
        count.add('4 CLI/worker: shared domains', accepts.worker(field, v) ? 'correct behaviour' : 'typed error');
      }
    }
  });

  it('property: random numbers get the same verdict from both', () => {
    let n = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...shared),
        fc.oneof(fc.integer({ min: -10, max: 2 ** 33 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e7, max: 1e7 })),
        (field, v) => {
          const ok = accepts.worker(field, v);
          expect(accepts.cli(field, v)).toBe(ok);
          count.add('4 CLI/worker: shared domains (random)', ok ? 'correct behaviour' : 'typed error');
          n++;
        },
      ),
      { numRuns: 1000, seed: 9 },
    );
    expect(n).toBe(1000);
  });
});

describe("the worker's weights on the command line", () => {
  it('getWeights() bytes saved to a file: unrolled sample and eval read them (vocabulary from the metadata), same text as the worker', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { main } = await import('../../src/cli/main.js');
    const dir = mkdtempSync(join(tmpdir(), 'unrolled-worker-weights-'));
    const { w } = inProcessWorker({ timeoutMs: 20_000 });
    try {
      await w.start({ ...SMALL, steps: 3 });
      await w.whenDone();
      const file = join(dir, 'weights.safetensors');
      writeFileSync(file, await w.getWeights());
      const theirs = await w.generate('The ', { length: 30, temperature: 1, seed: 4 });
      const out: string[] = [],
        err: string[] = [];
      const io = {
        out: (l: string) => {
          out.push(l);
        },
        err: (l: string) => {
          err.push(l);
        },
      };
      expect(
        await main(
          ['sample', file, '--prime', 'The ', '--length', '30', '--temperature', '1', '--seed', '4', '--backend', 'js', '--json'],
          io,
        ),
        err.join('\n'),
      ).toBe(0);
      expect(JSON.parse(out[0])).toMatchObject({ task: 'char', step: 3, text: theirs });
      expect(await main(['eval', file, '--backend', 'js', '--json'], io)).toBe(0);
      expect(JSON.parse(out[1])).toMatchObject({ type: 'eval', task: 'char', step: 3 });
      count.add('11 CLI: model files', 'correct behaviour', 2);
    } finally {
      await w.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a real worker thread (dist/worker/trainer-worker.js)', () => {
  it('a reactive Proxy config starts; refusals come back as ConfigError / InvalidArgumentError with their argument', async () => {
    const { createNodeTrainingWorker } = await import('../../src/worker/node-client.js');
    const w = createNodeTrainingWorker({ timeoutMs: 30_000 });
    try {
      const none = await w.getWeights().catch((x: unknown) => x);
      expect(none).toBeInstanceOf(ConfigError);
      expect((none as ConfigError).argument).toBe('worker');
      const short = await w.start(reactive({ ...SMALL, text: 'short' })).catch((x: unknown) => x);
      expect(short).toBeInstanceOf(ConfigError);
      expect((short as ConfigError).argument).toBe('config.text');
      const info = await w.start(reactive({ ...SMALL, seed: 2 }));
      expect(info.config.seed).toBe(2);
      const bad = await w.generate('\u263a').catch((x: unknown) => x);
      expect(bad).toBeInstanceOf(InvalidArgumentError);
      expect((bad as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
      await w.stop();
      count.add('6 worker: Proxy configs', 'correct behaviour');
      count.add('6 worker: error round trip', 'typed error', 3);
    } finally {
      await w.terminate();
    }
  });
});
