// Issue 12, class 2 (read user input once): arrays and objects that change between a check and a
// use. Every array argument of the API is handed over as an adversary — a Proxy that turns bad
// after k reads or lies about its length, a field getter that returns another array the second
// time, a typed-array subclass whose `length` lies, an element with valueOf, a getter that
// disposes or re-enters the model — with a bad value drawn per kind (ids of 10⁹, −1, 2³² + 3,
// NaN, 1e39, a mask of 2, a length of 2³² + 3 ...).
//
// Each case must end in an UnrolledError, or succeed without any bad value having been handed
// out (a success after a bad value was read means something was checked on one read and used
// on another). Every index and every length is read at most once. A bystander model on the same
// core keeps its weights and Adam moments, and a failed call leaves the victim's weights and
// step count as they were.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelSync } from '../../src/create.js';
import { UnrolledError } from '../../src/errors.js';
import type { Model } from '../../src/model/model.js';
import { CORE_FILES, instantiateCoreSync, type Core } from '../../src/runtime/core.js';
import { Trainer } from '../../src/train/trainer.js';
import { spawnBystander, type Bystander } from './bystander.js';
import { printTally, tally } from './tally.js';

const module = new WebAssembly.Module(readFileSync(new URL(`../../build/${CORE_FILES.simd}`, import.meta.url)));
const T = 3,
  B = 2;
const V = 6,
  TH = 4; // token GRU
const I = 3,
  DH = 4,
  O = 2,
  L = 2; // dense LSTM, 2 layers
const K1 = 3,
  K2 = 5; // the stateful trainer's TBPTT

type Kind = 'ids' | 'floats' | 'mask' | 'lengths';
const BAD: Record<Kind, unknown[]> = {
  ids: [1e9, -1, 2 ** 32 + 3, 2 ** 31, V, 1.5, NaN, Infinity, '3', null, undefined, 1n],
  floats: [NaN, Infinity, -Infinity, 1e39, '1', null, undefined, 1n],
  mask: [2, 0.5, -1, NaN, '1', null],
  lengths: [2 ** 32 + 3, 0, T + 1, 1.5, -1, NaN, '2'],
};

interface Ctx {
  backend: 'wasm' | 'js';
  core: Core | null;
  tok: Model;
  dense: Model;
  tokTrainer: Trainer;
  denseTrainer: Trainer;
  statefulTrainer: Trainer;
  bystander: Bystander | null;
}

function build(backend: 'wasm' | 'js', core: Core | null): Ctx {
  const where = backend === 'wasm' ? { core: core! } : { backend: 'js' as const };
  const tok = createModelSync({ cell: 'gru', input: 'tokens', inputSize: V, hiddenSize: TH, outputSize: V, seed: 5, ...where });
  const dense = createModelSync({ cell: 'lstm', inputSize: I, hiddenSize: DH, outputSize: O, numLayers: L, seed: 6, ...where });
  const statefulTrainer = new Trainer(tok, { loss: 'cross-entropy', tbptt: { k1: K1, k2: K2 } });
  statefulTrainer.stepStateful({ x: ids(T * B), y: ids(T * B, 1), T, B });
  return {
    backend,
    core,
    tok,
    dense,
    statefulTrainer,
    tokTrainer: new Trainer(tok, { loss: 'cross-entropy' }),
    denseTrainer: new Trainer(dense, { loss: 'mse' }),
    bystander: core ? spawnBystander(core, 21) : null,
  };
}

const ids = (n: number, shift = 0) => Array.from({ length: n }, (_, i) => (i + shift) % V);
const floats = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 0.5);

type Setter = ((obj: Record<string, unknown>, key: string) => void) | null;

interface Target {
  name: string;
  kind: Kind;
  /** the model and trainer the call runs on (a getter may try to dispose them) */
  model: 'tok' | 'dense';
  trainer?: 'tokTrainer' | 'denseTrainer' | 'statefulTrainer';
  /** the array is an argument, not a field: no field getter */
  noField?: true;
  /** any length is valid (generate's prime): a typed array's real length is simply used */
  anyLength?: true;
  /** the valid array */
  good(c: Ctx): number[];
  /** runs the call with `value` in place of the array; `field` wraps it as a batch field getter when given */
  call(c: Ctx, value: unknown, asField: Setter): unknown;
}

const tokBatch = () => ({ x: ids(T * B), y: ids(T * B, 1), T, B }) as Record<string, unknown>;
const denseBatch = () => ({ x: floats(T * B * I), y: floats(T * B * O), T, B }) as Record<string, unknown>;

/** A batch with `key` replaced: a plain property, or (asField) an accessor the adversary controls. */
function withField(base: Record<string, unknown>, key: string, value: unknown, asField: Setter): Record<string, unknown> {
  if (asField) {
    delete base[key];
    asField(base, key);
  } else base[key] = value;
  return base;
}

const TARGETS: Target[] = [
  {
    name: 'predict batch.x (token ids)',
    kind: 'ids',
    model: 'tok',
    good: () => ids(T * B),
    call: (c, v, f) => c.tok.predict(withField(tokBatch(), 'x', v, f) as never),
  },
  {
    name: 'lossAndGradients batch.y (class ids)',
    kind: 'ids',
    model: 'tok',
    good: () => ids(T * B, 1),
    call: (c, v, f) => c.tok.lossAndGradients(withField(tokBatch(), 'y', v, f) as never, 'cross-entropy'),
  },
  {
    name: 'step batch.x (token ids)',
    kind: 'ids',
    model: 'tok',
    trainer: 'tokTrainer',
    good: () => ids(T * B),
    call: (c, v, f) => c.tokTrainer.step(withField(tokBatch(), 'x', v, f) as never),
  },
  {
    name: 'step batch.y (class ids)',
    kind: 'ids',
    model: 'tok',
    trainer: 'tokTrainer',
    good: () => ids(T * B, 1),
    call: (c, v, f) => c.tokTrainer.step(withField(tokBatch(), 'y', v, f) as never),
  },
  {
    name: 'stepStateful chunk.x (token ids, TBPTT)',
    kind: 'ids',
    model: 'tok',
    trainer: 'statefulTrainer',
    good: () => ids(K1 * B),
    call: (c, v, f) => c.statefulTrainer.stepStateful(withField({ x: ids(K1 * B), y: ids(K1 * B, 1), T: K1, B }, 'x', v, f) as never),
  },
  {
    name: 'stepStateful chunk.y (class ids, TBPTT)',
    kind: 'ids',
    model: 'tok',
    trainer: 'statefulTrainer',
    good: () => ids(K1 * B, 1),
    call: (c, v, f) => c.statefulTrainer.stepStateful(withField({ x: ids(K1 * B), y: ids(K1 * B, 1), T: K1, B }, 'y', v, f) as never),
  },
  {
    name: 'generate options.prime',
    kind: 'ids',
    model: 'tok',
    anyLength: true,
    good: () => [1, 2, 3],
    call: (c, v, f) => c.tok.generate(withField({ length: 2, temperature: 0 }, 'prime', v, f) as never),
  },
  {
    name: 'setCarriedState state.history (ids)',
    kind: 'ids',
    model: 'tok',
    trainer: 'statefulTrainer',
    good: () => ids((K2 - K1) * B),
    call: (c, v, f) =>
      c.statefulTrainer.setCarriedState(withField({ B, h: floats(TH * B), c: null, historySteps: K2 - K1 }, 'history', v, f) as never),
  },
  {
    name: 'setCarriedState state.h',
    kind: 'floats',
    model: 'tok',
    trainer: 'statefulTrainer',
    good: () => floats(TH * B),
    call: (c, v, f) =>
      c.statefulTrainer.setCarriedState(withField({ B, c: null, history: ids((K2 - K1) * B), historySteps: K2 - K1 }, 'h', v, f) as never),
  },
  {
    name: 'predict batch.x (floats)',
    kind: 'floats',
    model: 'dense',
    good: () => floats(T * B * I),
    call: (c, v, f) => c.dense.predict(withField(denseBatch(), 'x', v, f) as never),
  },
  {
    name: 'step batch.y (floats)',
    kind: 'floats',
    model: 'dense',
    trainer: 'denseTrainer',
    good: () => floats(T * B * O),
    call: (c, v, f) => c.denseTrainer.step(withField(denseBatch(), 'y', v, f) as never),
  },
  {
    name: 'predict batch.h0',
    kind: 'floats',
    model: 'dense',
    good: () => floats(L * B * DH),
    call: (c, v, f) => c.dense.predict(withField(denseBatch(), 'h0', v, f) as never),
  },
  {
    name: 'step batch.c0',
    kind: 'floats',
    model: 'dense',
    trainer: 'denseTrainer',
    good: () => floats(L * B * DH),
    call: (c, v, f) => c.denseTrainer.step(withField(denseBatch(), 'c0', v, f) as never),
  },
  {
    name: 'predict batch.mask',
    kind: 'mask',
    model: 'dense',
    good: () => [1, 1, 1, 1, 0, 1],
    call: (c, v, f) => c.dense.predict(withField(denseBatch(), 'mask', v, f) as never),
  },
  {
    name: 'step batch.lengths',
    kind: 'lengths',
    model: 'dense',
    trainer: 'denseTrainer',
    good: () => [3, 2],
    call: (c, v, f) => c.denseTrainer.step(withField(denseBatch(), 'lengths', v, f) as never),
  },
  {
    name: 'step batch.lossMask',
    kind: 'mask',
    model: 'dense',
    trainer: 'denseTrainer',
    good: () => [1, 0, 1, 1, 0, 1],
    call: (c, v, f) => c.denseTrainer.step(withField(denseBatch(), 'lossMask', v, f) as never),
  },
  {
    name: 'forward batch.x (token ids)',
    kind: 'ids',
    model: 'tok',
    good: () => ids(T * B),
    call: (c, v, f) => c.tok.forward(withField(tokBatch(), 'x', v, f) as never),
  },
  {
    name: 'forward batch.h0',
    kind: 'floats',
    model: 'dense',
    good: () => floats(L * B * DH),
    call: (c, v, f) => c.dense.forward(withField(denseBatch(), 'h0', v, f) as never),
  },
  {
    name: 'backward gradients.dOutputs',
    kind: 'floats',
    model: 'dense',
    good: () => floats(T * B * DH),
    call: (c, v, f) => {
      c.dense.forward(denseBatch() as never);
      return c.dense.backward(withField({}, 'dOutputs', v, f) as never);
    },
  },
  {
    name: 'backward gradients.dy',
    kind: 'floats',
    model: 'tok',
    good: () => floats(T * B * V),
    call: (c, v, f) => {
      c.tok.forward(tokBatch() as never);
      return c.tok.backward(withField({}, 'dy', v, f) as never);
    },
  },
  {
    name: 'setParameter values',
    kind: 'floats',
    model: 'dense',
    noField: true,
    good: () => floats(O),
    call: (c, v) => c.dense.setParameter('head.bias', v as number[]),
  },
  {
    name: 'loadStateDict values',
    kind: 'floats',
    model: 'dense',
    good: () => floats(O),
    call: (c, v, f) => {
      const d: Record<string, unknown> = {};
      for (const n of c.dense.parameterNames()) d[n] = c.dense.getParameter(n);
      return c.dense.loadStateDict(withField(d, 'head.bias', v, f) as never);
    },
  },
];

/** Adversaries: each returns the value to pass, or installs a field accessor, and records what it handed out. */
interface Handed {
  bad: boolean;
  indexReads: Map<number, number>;
  lengthReads: number;
  field: boolean;
}

type Adversary =
  | { type: 'plain-bad'; at: number; bad: number }
  | { type: 'proxy-flip'; after: number; bad: number }
  | { type: 'proxy-length'; lie: number }
  | { type: 'field-getter'; at: number; bad: number }
  | { type: 'typed-subclass'; delta: number }
  | { type: 'valueOf'; at: number }
  | { type: 'dispose-in-getter'; at: number; what: 'model' | 'trainer' }
  | { type: 'reenter-in-getter'; at: number };

const adversary: fc.Arbitrary<Adversary> = fc.oneof(
  fc.record({ type: fc.constant('plain-bad' as const), at: fc.nat(40), bad: fc.nat(20) }),
  fc.record({ type: fc.constant('proxy-flip' as const), after: fc.nat(40), bad: fc.nat(20) }),
  fc.record({ type: fc.constant('proxy-length' as const), lie: fc.constantFrom(0, 1, 1000, 2 ** 31, 2 ** 32 + 3) }),
  fc.record({ type: fc.constant('field-getter' as const), at: fc.nat(40), bad: fc.nat(20) }),
  fc.record({ type: fc.constant('typed-subclass' as const), delta: fc.constantFrom(-3, -1, 1, 1000) }),
  fc.record({ type: fc.constant('valueOf' as const), at: fc.nat(40) }),
  fc.record({
    type: fc.constant('dispose-in-getter' as const),
    at: fc.nat(40),
    what: fc.constantFrom('model' as const, 'trainer' as const),
  }),
  fc.record({ type: fc.constant('reenter-in-getter' as const), at: fc.nat(40) }),
);

function isBadValue(kind: Kind, v: unknown): boolean {
  if (typeof v !== 'number') return true;
  switch (kind) {
    case 'ids':
      return !Number.isInteger(v) || v < 0 || v >= V;
    case 'floats':
      return !(Math.abs(v) <= 3.4e38);
    case 'mask':
      return v !== 0 && v !== 1;
    case 'lengths':
      return !Number.isInteger(v) || v < 1 || v > T;
  }
}

/** A Proxy over `arr` that counts reads and may misbehave; `onRead(i)` may return a replacement. */
function spy(arr: unknown[], h: Handed, onRead: (i: number, v: unknown) => unknown, length: () => unknown = () => arr.length): unknown[] {
  return new Proxy(arr, {
    get(target, key, receiver) {
      if (key === 'length') {
        h.lengthReads++;
        return length();
      }
      if (typeof key === 'string' && /^\d+$/.test(key)) {
        const i = Number(key);
        h.indexReads.set(i, (h.indexReads.get(i) ?? 0) + 1);
        return onRead(i, target[i]);
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

function arm(
  c: Ctx,
  t: Target,
  a: Adversary,
  h: Handed,
  reenterCodes: string[],
): { value: unknown; field: ((obj: Record<string, unknown>, key: string) => void) | null } {
  const good = t.good(c);
  const n = good.length;
  const bads = BAD[t.kind];
  const note = (v: unknown, i: number) => {
    if (isBadValue(t.kind, v) || i >= n) h.bad = true;
    return v;
  };
  if (a.type === 'field-getter' && t.noField) a = { type: 'plain-bad', at: a.at, bad: a.bad };
  switch (a.type) {
    case 'plain-bad': {
      const arr: unknown[] = good.slice();
      arr[a.at % n] = bads[a.bad % bads.length];
      return { value: spy(arr, h, (i, v) => note(v, i)), field: null };
    }
    case 'proxy-flip': {
      let reads = 0;
      const bad = bads[a.bad % bads.length];
      return { value: spy(good.slice(), h, (i, v) => note(reads++ < a.after ? v : bad, i)), field: null };
    }
    case 'proxy-length': {
      let first = true;
      return {
        value: spy(
          good.slice(),
          h,
          (i, v) => note(v, i),
          () => {
            if (first) {
              first = false;
              return n;
            }
            h.bad = true; // a second read of the length gets the lie
            return a.lie;
          },
        ),
        field: null,
      };
    }
    case 'field-getter': {
      // the field answers a valid array first, then one with a bad value
      let reads = 0;
      const badArr: unknown[] = good.slice();
      badArr[a.at % n] = bads[a.bad % bads.length];
      return {
        value: null,
        field: (obj, key) =>
          Object.defineProperty(obj, key, {
            enumerable: true,
            configurable: true,
            get() {
              h.field = true;
              if (reads++ === 0) return good.slice();
              h.bad = true;
              return badArr;
            },
          }),
      };
    }
    case 'typed-subclass': {
      const Base = (t.kind === 'ids' ? Int32Array : Float64Array) as Float64ArrayConstructor;
      class Liar extends Base {
        get length(): number {
          return n;
        }
      }
      const actual = Math.max(0, n + a.delta);
      const arr = new Liar(actual) as Float64Array;
      for (let i = 0; i < Math.min(n, actual); i++) arr[i] = good[i];
      // its real length is not n: a call that needs n values must refuse it
      if (!t.anyLength || actual === 0) h.bad = true;
      return { value: arr, field: null };
    }
    case 'valueOf': {
      const arr: unknown[] = good.slice();
      const v = good[a.at % n];
      arr[a.at % n] = { valueOf: () => v, toString: () => String(v) };
      h.bad = true;
      return { value: arr, field: null };
    }
    case 'dispose-in-getter':
      return {
        value: spy(good.slice(), h, (i, v) => {
          if (i === a.at % n) {
            try {
              if (a.what === 'model' || !t.trainer) c[t.model].dispose();
              else c[t.trainer].dispose();
            } catch (e) {
              reenterCodes.push((e as UnrolledError).code ?? 'untyped');
            }
          }
          return note(v, i);
        }),
        field: null,
      };
    case 'reenter-in-getter':
      return {
        value: spy(good.slice(), h, (i, v) => {
          if (i === a.at % n) {
            try {
              c.tok.predict({ x: ids(T * B), T, B });
              reenterCodes.push('none');
            } catch (e) {
              reenterCodes.push((e as UnrolledError).code ?? 'untyped');
            }
          }
          return note(v, i);
        }),
        field: null,
      };
  }
}

function weightsHash(m: Model): string {
  if (m.isDisposed) return 'disposed';
  return m
    .parameterNames()
    .map((n) => Array.from(m.getParameter(n)).join(','))
    .join(';');
}

const counts = tally('class 2 (read user input once)');
afterAll(() => printTally(counts));

for (const backend of ['wasm', 'js'] as const) {
  describe(`class 2 on the ${backend} backend`, () => {
    it('every adversarial input ends in an UnrolledError or in a success that used only values it checked', () => {
      const core = backend === 'wasm' ? instantiateCoreSync(module, 'simd') : null;
      let c = build(backend, core);
      const bystanderHash = c.bystander?.hash();
      fc.assert(
        fc.property(fc.nat(TARGETS.length - 1), adversary, (ti, a) => {
          const t = TARGETS[ti];
          if (
            c.tok.isDisposed ||
            c.dense.isDisposed ||
            c.tokTrainer.isDisposed ||
            c.denseTrainer.isDisposed ||
            c.statefulTrainer.isDisposed
          ) {
            const keep = c.bystander;
            c = { ...build(backend, core), bystander: keep };
          }
          const before = {
            tok: weightsHash(c.tok),
            dense: weightsHash(c.dense),
            steps: [c.tokTrainer.steps, c.denseTrainer.steps, c.statefulTrainer.steps],
          };
          const h: Handed = { bad: false, indexReads: new Map(), lengthReads: 0, field: false };
          const inner: string[] = [];
          const { value, field } = arm(c, t, a, h, inner);
          let outcome: string;
          let error: unknown = null;
          try {
            t.call(c, value, field);
            outcome = 'correct behaviour (success, every value read was valid)';
          } catch (e) {
            error = e;
            outcome =
              e instanceof UnrolledError ? `UnrolledError ${e.code}` : `UNEXPECTED untyped ${(e as Error)?.name}: ${(e as Error)?.message}`;
          }
          counts.add(outcome);
          const where = `${t.name} with ${JSON.stringify(a)}`;
          expect(error === null || error instanceof UnrolledError, `${where}: ${String(error)}`).toBe(true);
          if (error === null) expect(h.bad, `${where}: succeeded although a bad value was handed out`).toBe(false);
          for (const [i, k] of h.indexReads) expect(k, `${where}: index ${i} read ${k} times`).toBeLessThanOrEqual(1);
          expect(h.lengthReads, `${where}: length read ${h.lengthReads} times`).toBeLessThanOrEqual(1);
          // a re-entrant call from inside a getter is refused (BUSY); a dispose from inside either is refused or ends the call with DISPOSED
          for (const code of inner) expect(['BUSY', 'none'], `${where}: inner call gave ${code}`).toContain(code);
          if (error !== null && !(error instanceof UnrolledError && error.code === 'DISPOSED')) {
            expect(weightsHash(c.tok), `${where}: the token model changed although the call failed`).toBe(before.tok);
            expect(weightsHash(c.dense), `${where}: the dense model changed although the call failed`).toBe(before.dense);
            expect([c.tokTrainer.steps, c.denseTrainer.steps, c.statefulTrainer.steps]).toEqual(before.steps);
          }
          if (c.bystander) expect(c.bystander.hash(), `${where}: the bystander changed`).toBe(bystanderHash);
        }),
        { numRuns: backend === 'wasm' ? 3000 : 1000, seed: 1212 },
      );
      core?.dispose();
    });
  });
}

describe('class 2: option objects and call arguments read once', () => {
  it('a loss spec whose getter answers "mse" to the check and something else later', () => {
    const core = instantiateCoreSync(module, 'simd');
    const c = build('wasm', core);
    const by = c.bystander!.hash();
    let reads = 0;
    const spec = {
      get loss() {
        return reads++ === 0 ? 'mse' : 'hinge';
      },
    };
    let code = 'none';
    try {
      c.dense.lossAndGradients(denseBatch() as never, spec as never);
    } catch (e) {
      code = (e as UnrolledError).code ?? 'untyped';
    }
    counts.add(code === 'none' ? 'correct behaviour (success, every value read was valid)' : `UnrolledError ${code}`);
    expect(reads).toBe(1);
    expect(code).toBe('none');
    expect(c.bystander!.hash()).toBe(by);
    core.dispose();
  });

  it('T and B read once: a getter that grows T after the check cannot make the copy overrun', () => {
    const core = instantiateCoreSync(module, 'simd');
    const c = build('wasm', core);
    const by = c.bystander!.hash();
    for (const key of ['T', 'B'] as const) {
      let reads = 0;
      const b = tokBatch();
      const honest = b[key] as number;
      Object.defineProperty(b, key, { get: () => (reads++ === 0 ? honest : 1 << 20) });
      let code = 'none';
      try {
        c.tokTrainer.step(b as never);
      } catch (e) {
        code = (e as UnrolledError).code ?? 'untyped';
      }
      counts.add(code === 'none' ? 'correct behaviour (success, every value read was valid)' : `UnrolledError ${code}`);
      expect(reads, key).toBe(1);
      expect(code, key).toBe('none');
    }
    expect(c.bystander!.hash()).toBe(by);
    core.dispose();
  });

  it('a getter that disposes the core while a batch is read: DISPOSED, and no byte of memory changes after', () => {
    for (const target of TARGETS) {
      const core = instantiateCoreSync(module, 'simd');
      const c = build('wasm', core);
      const good = target.good(c);
      let frozen = '';
      const value = new Proxy(good.slice(), {
        get(arr, key, r) {
          if (key === '0') {
            core.dispose();
            frozen = hashMemory(core);
          }
          return Reflect.get(arr, key, r);
        },
      });
      let code = 'none';
      try {
        target.call(c, value, null);
      } catch (e) {
        code = e instanceof UnrolledError ? e.code : `untyped ${String(e)}`;
      }
      counts.add(code === 'DISPOSED' ? 'UnrolledError DISPOSED' : `UNEXPECTED ${code}`);
      expect(code, target.name).toBe('DISPOSED');
      expect(hashMemory(core), target.name).toBe(frozen);
    }
  });
});

describe('class 2: ids in shared memory that another thread keeps changing', () => {
  it('a SharedArrayBuffer batch flipped between valid ids and 10⁹ by a worker thread: each step succeeds or refuses, the bystander never changes', async () => {
    const core = instantiateCoreSync(module, 'simd');
    const c = build('wasm', core);
    const by = c.bystander!.hash();
    const shared = new Int32Array(new SharedArrayBuffer(4 * (T * B + 2)));
    shared.set(ids(T * B));
    // the worker flips every id between its valid value and 10⁹ until told to stop (slot n);
    // slot n + 1 says it has started
    const flipper = new Worker(
      `
      const { workerData } = require('node:worker_threads');
      const a = new Int32Array(workerData);
      const n = a.length - 2;
      Atomics.store(a, n + 1, 1);
      for (let k = 0; Atomics.load(a, n) === 0; k++) {
        for (let i = 0; i < n; i++) Atomics.store(a, i, (k & 1) ? 1e9 : i % ${V});
      }
    `,
      { eval: true, workerData: shared.buffer },
    );
    const x = shared.subarray(0, T * B);
    const outcomes = new Map<string, number>();
    while (Atomics.load(shared, T * B + 1) === 0) await new Promise((r) => setTimeout(r, 1));
    try {
      // at least 3000 steps, and on until the flips were seen (a loaded machine may schedule the worker late)
      for (let i = 0; i < 30000 && (i < 3000 || !outcomes.has('UnrolledError INVALID_ARGUMENT')); i++) {
        let outcome = 'correct behaviour (success, every value read was valid)';
        try {
          c.tokTrainer.step({ x, y: ids(T * B, 1), T, B });
        } catch (e) {
          outcome = e instanceof UnrolledError ? `UnrolledError ${e.code}` : `UNEXPECTED ${String(e)}`;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        counts.add(outcome);
      }
    } finally {
      Atomics.store(shared, T * B, 1);
      await flipper.terminate();
    }
    for (const k of outcomes.keys()) expect(k).not.toMatch(/UNEXPECTED/);
    // both must have happened: steps that saw a torn batch and refused it, and clean ones
    expect(outcomes.get('UnrolledError INVALID_ARGUMENT') ?? 0).toBeGreaterThan(0);
    expect(c.bystander!.hash()).toBe(by);
    core.dispose();
  });
});

function hashMemory(core: Core): string {
  const bytes = new Uint8Array(core.exports.memory.buffer);
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return `${bytes.length}:${h}`;
}
