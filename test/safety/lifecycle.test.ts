// Issue 12, class 1 (lifecycle): random call orders around dispose(). A victim model and its
// trainers run on a core shared with bystanders (spawned at the start and at random points, so
// that they receive the blocks a disposed model or trainer gave back). Every call on something
// disposed — itself, its model or its core — must throw an UnrolledError with code DISPOSED and
// change nothing: the bystanders' weights and Adam moments are hashed after every call, and once
// the core is disposed the whole of its memory must stay bit-identical.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelSync } from '../../src/create.js';
import { UnrolledError } from '../../src/errors.js';
import type { Model } from '../../src/model/model.js';
import { modelToSafetensors, loadSafetensorsInto } from '../../src/model/serialize.js';
import { CORE_FILES, instantiateCoreSync, type Core } from '../../src/runtime/core.js';
import '../../src/node/load-node.js';
import { loadCore } from '../../src/runtime/load.js';
import { checkpointToSafetensors } from '../../src/train/checkpoint.js';
import { Trainer, type StepResult } from '../../src/train/trainer.js';
import { TrainingWorker, type WorkerEndpoint } from '../../src/worker/client.js';
import { spawnBystander, type Bystander } from './bystander.js';
import { tally, printTally } from './tally.js';

const module = new WebAssembly.Module(readFileSync(new URL(`../../build/${CORE_FILES.simd}`, import.meta.url)));
const V = 6,
  H = 4,
  T = 3,
  B = 2;
const batch = () => ({ x: [0, 1, 2, 3, 4, 5], y: [1, 2, 3, 4, 5, 0], T, B });

const OPS = [
  'predict',
  'lossAndGradients',
  'getParameter',
  'setParameter',
  'stateDict',
  'loadStateDict',
  'toSafetensors',
  'loadSafetensors',
  'generate',
  'step',
  'stepInto',
  'stepStateful',
  'getCarriedState',
  'setCarriedState',
  'resetState',
  'checkpoint',
  'modelDispose',
  'trainerDispose',
  'coreDispose',
  'newTrainer',
  'spawnBystander',
  'newModel',
  'forward',
  'forwardBackward',
  'markWeightsChanged',
] as const;
type Op = (typeof OPS)[number];

/** What the call depends on: a model call fails once the model or the core is gone, etc. */
const ON_MODEL = new Set<Op>([
  'forward',
  'forwardBackward',
  'markWeightsChanged',
  'predict',
  'lossAndGradients',
  'getParameter',
  'setParameter',
  'stateDict',
  'loadStateDict',
  'toSafetensors',
  'loadSafetensors',
  'generate',
  'newTrainer',
]);
const ON_TRAINER = new Set<Op>(['step', 'stepInto', 'stepStateful', 'getCarriedState', 'setCarriedState', 'resetState', 'checkpoint']);
const ON_CORE = new Set<Op>(['spawnBystander', 'newModel']);

function memoryHash(core: Core): number {
  const bytes = new Uint8Array(core.exports.memory.buffer);
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h;
}

interface World {
  core: Core;
  model: Model;
  trainer: Trainer;
  bystanders: Bystander[];
  hashes: number[];
  modelGone: boolean;
  trainerGone: boolean;
  coreGone: boolean;
  frozen: number;
  /** bytes saved while everything was alive, for the load calls */
  weights: Uint8Array;
  carried: ReturnType<Trainer['getCarriedState']>;
}

function newVictim(core: Core): Model {
  return createModelSync({ cell: 'gru', input: 'tokens', inputSize: V, hiddenSize: H, outputSize: V, seed: 3, core });
}

function setUp(): World {
  const core = instantiateCoreSync(module, 'simd');
  const bystanders = [spawnBystander(core, 11)];
  const model = newVictim(core);
  const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: 'adam' });
  trainer.stepStateful(batch());
  const w: World = {
    core,
    model,
    trainer,
    bystanders,
    hashes: [],
    modelGone: false,
    trainerGone: false,
    coreGone: false,
    frozen: 0,
    weights: model.toSafetensors(),
    carried: trainer.getCarriedState(),
  };
  w.hashes = bystanders.map((b) => b.hash());
  return w;
}

const out: StepResult = { loss: 0, gradNorm: 0, clipped: false, skipped: false, step: 0, lr: 0 };

function run(w: World, op: Op): void {
  const m = w.model,
    t = w.trainer;
  switch (op) {
    case 'predict':
      m.predict(batch());
      return;
    case 'lossAndGradients':
      m.lossAndGradients(batch(), 'cross-entropy');
      return;
    case 'getParameter':
      m.getParameter('head.bias');
      return;
    case 'setParameter':
      m.setParameter('head.bias', new Float32Array(V).fill(0.25));
      return;
    case 'stateDict':
      m.stateDict();
      return;
    case 'loadStateDict': {
      const d: Record<string, Float32Array> = {};
      for (const n of m.parameterNames()) d[n] = new Float32Array(m.parameterShape(n).reduce((a, b) => a * b, 1)).fill(0.01);
      m.loadStateDict(d);
      return;
    }
    case 'toSafetensors':
      modelToSafetensors(m);
      return;
    case 'loadSafetensors':
      loadSafetensorsInto(m, w.weights);
      return;
    case 'generate':
      m.generate({ prime: [1, 2], length: 3 });
      return;
    case 'forward':
      m.forward(batch());
      return;
    case 'forwardBackward':
      m.forward(batch());
      m.backward({ dy: new Float32Array(T * B * V).fill(0.1) });
      return;
    case 'markWeightsChanged':
      m.markWeightsChanged();
      return;
    case 'step':
      t.step(batch());
      return;
    case 'stepInto':
      t.stepInto(batch(), out);
      return;
    case 'stepStateful':
      t.stepStateful(batch());
      return;
    case 'getCarriedState':
      t.getCarriedState();
      return;
    case 'setCarriedState':
      t.setCarriedState(w.carried);
      return;
    case 'resetState':
      t.resetState();
      return;
    case 'checkpoint':
      checkpointToSafetensors(t);
      return;
    case 'modelDispose':
      m.dispose();
      w.modelGone = true;
      return;
    case 'trainerDispose':
      t.dispose();
      w.trainerGone = true;
      return;
    case 'coreDispose':
      w.core.dispose();
      if (!w.coreGone) {
        w.coreGone = true;
        w.frozen = memoryHash(w.core);
      }
      return;
    case 'newTrainer':
      w.trainer = new Trainer(m, { loss: 'cross-entropy', optimizer: 'adam' });
      w.trainerGone = false;
      return;
    case 'spawnBystander': {
      const b = spawnBystander(w.core, 100 + w.bystanders.length);
      w.bystanders.push(b);
      w.hashes.push(b.hash());
      return;
    }
    case 'newModel':
      // the next calls go to a fresh victim (and a fresh trainer on it), likely in freed blocks
      w.model = newVictim(w.core);
      w.trainer = new Trainer(w.model, { loss: 'cross-entropy', optimizer: 'adam' });
      w.modelGone = false;
      w.trainerGone = false;
      return;
  }
}

function expectDisposed(w: World, op: Op): boolean {
  if (ON_CORE.has(op)) return w.coreGone;
  if (ON_MODEL.has(op)) return w.coreGone || w.modelGone;
  if (ON_TRAINER.has(op)) return w.coreGone || w.modelGone || w.trainerGone;
  return false; // dispose() itself: idempotent, never throws
}

const counts = tally('class 1 (lifecycle)');
afterAll(() => printTally(counts));

describe('class 1: random call orders around dispose (Wasm core with bystanders)', () => {
  it('every call on something disposed throws DISPOSED and no bystander byte changes', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...OPS), { minLength: 1, maxLength: 24 }), (ops) => {
        const w = setUp();
        for (const op of ops) {
          const disposed = expectDisposed(w, op);
          let error: unknown = null;
          try {
            run(w, op);
          } catch (e) {
            error = e;
          }
          if (error === null) {
            counts.add(disposed ? 'UNEXPECTED: succeeded after dispose' : 'correct behaviour');
            expect(disposed, `${op} succeeded on something disposed (${ops.join(' → ')})`).toBe(false);
          } else {
            const code = error instanceof UnrolledError ? error.code : `untyped ${(error as Error)?.name}`;
            counts.add(code === 'DISPOSED' && disposed ? 'UnrolledError DISPOSED' : `UNEXPECTED: ${code}`);
            expect(code, `${op} threw ${String(error)} (${ops.join(' → ')})`).toBe(disposed ? 'DISPOSED' : 'none');
          }
          if (w.coreGone) {
            expect(memoryHash(w.core), `memory changed after the core was disposed (${ops.join(' → ')})`).toBe(w.frozen);
          } else {
            w.bystanders.forEach((b, i) => {
              expect(b.hash(), `bystander ${i} changed after ${op} (${ops.join(' → ')})`).toBe(w.hashes[i]);
            });
          }
        }
        w.core.dispose();
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it('js backend: the same orders without a core (a model and its trainers)', () => {
    const jsOps = OPS.filter((o) => !ON_CORE.has(o) && o !== 'coreDispose');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...jsOps), { minLength: 1, maxLength: 16 }), (ops) => {
        const model = createModelSync({ cell: 'gru', input: 'tokens', inputSize: V, hiddenSize: H, outputSize: V, seed: 3, backend: 'js' });
        const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: 'adam' });
        trainer.stepStateful(batch());
        const w = {
          core: null as unknown as Core,
          model,
          trainer,
          bystanders: [],
          hashes: [],
          modelGone: false,
          trainerGone: false,
          coreGone: false,
          frozen: 0,
          weights: model.toSafetensors(),
          carried: trainer.getCarriedState(),
        } satisfies World;
        for (const op of ops) {
          const disposed = expectDisposed(w, op);
          let code = 'none';
          try {
            run(w, op);
          } catch (e) {
            code = e instanceof UnrolledError ? e.code : `untyped ${String(e)}`;
          }
          counts.add(
            code === 'none'
              ? disposed
                ? 'UNEXPECTED: succeeded after dispose'
                : 'correct behaviour'
              : code === 'DISPOSED' && disposed
                ? 'UnrolledError DISPOSED'
                : `UNEXPECTED: ${code}`,
          );
          expect(code, `${op} (${ops.join(' → ')})`).toBe(disposed ? 'DISPOSED' : 'none');
        }
      }),
      { numRuns: 150, seed: 13 },
    );
  });

  it('a trainer disposed, then a new model in its freed block: the old trainer never writes there', () => {
    // the example, spelled out
    const core = instantiateCoreSync(module, 'simd');
    const model = newVictim(core);
    const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: 'adam' });
    trainer.step(batch());
    trainer.dispose();
    const b = spawnBystander(core, 7);
    const before = b.hash();
    for (const call of [() => trainer.step(batch()), () => checkpointToSafetensors(trainer), () => trainer.stepStateful(batch())]) {
      let code = 'none';
      try {
        call();
      } catch (e) {
        code = (e as UnrolledError).code;
      }
      counts.add(code === 'DISPOSED' ? 'UnrolledError DISPOSED' : `UNEXPECTED: ${code}`);
      expect(code).toBe('DISPOSED');
    }
    expect(b.hash()).toBe(before);
    trainer.dispose();
    model.dispose();
    model.dispose(); // idempotent
    core.dispose();
    expect(() => b.model.predict(batch())).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    expect(() => newVictim(core)).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });

  it("a disposed default core leaves loadCore's cache: the next loadCore() is a fresh, live core", async () => {
    const first = await loadCore({ variant: 'scalar' });
    const m = newVictim(first);
    first.dispose();
    first.dispose(); // idempotent
    expect(first.isDisposed).toBe(true);
    expect(m.isDisposed).toBe(true);
    const second = await loadCore({ variant: 'scalar' });
    expect(second).not.toBe(first);
    expect(second.isDisposed).toBe(false);
    const m2 = newVictim(second);
    m2.predict(batch());
    m2.dispose();
    let code = 'none';
    try {
      m.predict(batch());
    } catch (e) {
      code = (e as UnrolledError).code;
    }
    counts.add(code === 'DISPOSED' ? 'UnrolledError DISPOSED' : `UNEXPECTED: ${code}`);
    expect(code).toBe('DISPOSED');
  });

  it('the threads build: disposing the core stops its pool and ends its models and trainers', async () => {
    const core = await loadCore({ variant: 'simd', threads: 2 });
    const m = newVictim(core);
    const t = new Trainer(m, { loss: 'cross-entropy' });
    t.step(batch());
    core.dispose();
    for (const call of [
      () => t.step(batch()),
      () => m.predict(batch()),
      () => m.getParameter('head.bias'),
      () => checkpointToSafetensors(t),
    ]) {
      let code = 'none';
      try {
        call();
      } catch (e) {
        code = (e as UnrolledError).code;
      }
      counts.add(code === 'DISPOSED' ? 'UnrolledError DISPOSED' : `UNEXPECTED: ${code}`);
      expect(code).toBe('DISPOSED');
    }
    t.dispose();
    m.dispose();
    core.dispose();
  });

  it('a worker client after terminate(): every command rejects with DISPOSED', async () => {
    const endpoint: WorkerEndpoint = { postMessage() {}, onMessage() {}, onError() {}, terminate() {} };
    const worker = new TrainingWorker(endpoint);
    await worker.terminate();
    await worker.terminate(); // idempotent
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['start', () => worker.start({})],
      ['pause', () => worker.pause()],
      ['resume', () => worker.resume()],
      ['stop', () => worker.stop()],
      ['whenDone', () => worker.whenDone()],
      ['getWeights', () => worker.getWeights()],
      ['generate', () => worker.generate('a', { length: 3 })],
    ];
    for (const [name, call] of calls) {
      let code = 'none';
      try {
        await call();
      } catch (e) {
        code = (e as UnrolledError).code;
      }
      counts.add(code === 'DISPOSED' ? 'UnrolledError DISPOSED' : `UNEXPECTED: ${code}`);
      expect(code, name).toBe('DISPOSED');
    }
  });
});
