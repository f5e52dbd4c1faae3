// Memory limits of 32-bit Wasm (docs/limits.md): a single arena must stay below 1 GiB − 64 bytes
// (the core's TLSF allocator aborts on larger blocks) and all arenas together below 4 GiB − 64 MiB.
// A model or batch beyond either limit is a MemoryLimitError (code OUT_OF_MEMORY) raised before
// the core is called: no Wasm trap, no growth of memory, nothing reserved, and every other model
// (and the model that asked) keeps working.
//
// Nothing here touches more than a few MiB of real memory except one test that reserves the
// largest accepted block (1 GiB − 80 bytes) on a core instance of its own.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { WasmKernels } from '../../src/backends/wasm.js';
import { createModel } from '../../src/create.js';
import { MemoryLimitError, UnrolledError } from '../../src/errors.js';
import { resolveConfig, type ModelConfig } from '../../src/model/config.js';
import { paramArenaSize, pointWork } from '../../src/model/layout.js';
import type { Model } from '../../src/model/model.js';
import { CORE_FILES, instantiateCoreSync, type Core, type CoreExports } from '../../src/runtime/core.js';
import { MAX_BLOCK_BYTES, MAX_BLOCK_FLOATS, MAX_WASM_FLOATS, WasmMemory } from '../../src/runtime/memory.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, randInts, simdCore } from '../helpers.js';

const GiB = 1024 ** 3;

/** A fresh, private instance of the SIMD core (its memory is not shared with other tests). */
function privateCore(): Core {
  const bytes = readFileSync(new URL(`../../build/${CORE_FILES.simd}`, import.meta.url));
  return instantiateCoreSync(bytes, 'simd');
}

/** A stand-in for the core's allocator: hands out increasing addresses, never touches memory. */
function stubCore(fail?: () => never) {
  let next = 16;
  const exports = {
    memory: { buffer: new ArrayBuffer(1 << 16) },
    alloc: vi.fn((bytes: number) => {
      if (fail) fail();
      const p = next;
      next += bytes + 16;
      return p;
    }),
    free: vi.fn(),
    zero: vi.fn(),
  };
  return exports;
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e;
  }
  return null;
}

function expectMemoryLimit(err: unknown, message: RegExp): void {
  expect(err).toBeInstanceOf(MemoryLimitError);
  expect((err as UnrolledError).code).toBe('OUT_OF_MEMORY');
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toMatch(/\n/);
}

const ONE_BLOCK = /as one block: the Wasm core allocates single blocks of less than 1 GiB − 64 bytes/;
const TOTAL = /32-bit Wasm memory holds at most 3\.94 GiB/;

describe('WasmMemory.alloc limits (a stand-in allocator)', () => {
  it('the constants: the largest block is 1 GiB − 80 bytes, a multiple of 16 bytes', () => {
    expect(MAX_BLOCK_BYTES).toBe(GiB - 64);
    expect(MAX_BLOCK_FLOATS * 4).toBe(GiB - 80);
    expect(MAX_BLOCK_FLOATS % 4).toBe(0);
    expect(MAX_WASM_FLOATS * 4).toBe(4 * GiB - 64 * 1024 ** 2);
  });

  it('the largest block goes to the core; one float more is refused before the core is called, naming the size', () => {
    const core = stubCore();
    const mem = new WasmMemory(core as unknown as CoreExports);
    mem.alloc(MAX_BLOCK_FLOATS);
    expect(core.alloc).toHaveBeenCalledTimes(1);
    expect(core.alloc).toHaveBeenLastCalledWith(GiB - 80);
    const reserved = mem.reserved;
    for (const n of [MAX_BLOCK_FLOATS + 1, MAX_BLOCK_FLOATS + 4, GiB / 4, (2 * GiB) / 4]) {
      const err = (() => {
        try {
          mem.alloc(n);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expectMemoryLimit(err, ONE_BLOCK);
      expect((err as Error).message).toContain(`cannot reserve ${n} floats (`);
      expect((err as Error).message).toContain(`(at most ${MAX_BLOCK_FLOATS} floats)`);
    }
    expect(core.alloc).toHaveBeenCalledTimes(1);
    expect(mem.reserved).toBe(reserved);
  });

  it('the 4 GiB total is still checked (and first: a request that can never fit says so)', () => {
    const core = stubCore();
    const mem = new WasmMemory(core as unknown as CoreExports);
    expectMemoryLimit(
      (() => {
        try {
          mem.alloc(2 ** 31);
        } catch (e) {
          return e;
        }
        return null;
      })(),
      TOTAL,
    );
    expectMemoryLimit(
      (() => {
        try {
          mem.alloc(NaN);
        } catch (e) {
          return e;
        }
        return null;
      })(),
      TOTAL,
    );
    for (let i = 0; i < 3; i++) mem.alloc(MAX_BLOCK_FLOATS); // 3 × (1 GiB − 80 B), never touched
    const err = (() => {
      try {
        mem.alloc(MAX_BLOCK_FLOATS);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expectMemoryLimit(err, TOTAL);
    expect((err as Error).message).toMatch(/and 3\.00 GiB are in use/);
    expect(core.alloc).toHaveBeenCalledTimes(3);
    expect(mem.reserved).toBe(3 * MAX_BLOCK_FLOATS);
  });

  it('a real grow failure (the engine refuses memory.grow: a trap in the allocator) is a MemoryLimitError too', () => {
    const core = stubCore(() => {
      throw new WebAssembly.RuntimeError('unreachable');
    });
    const mem = new WasmMemory(core as unknown as CoreExports);
    const err = (() => {
      try {
        mem.alloc(1000);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expectMemoryLimit(
      err,
      /the engine refused to grow Wasm memory for 1000 floats \(3\.9 KiB; 0 B already in use, memory is 64\.0 KiB\): unreachable/,
    );
    expect(mem.reserved).toBe(0);
  });
});

describe('the real core at the block limit', () => {
  it('its allocator aborts just below 1 GiB (why the limit exists); WasmMemory refuses before it', () => {
    const core = privateCore();
    // AssemblyScript's TLSF: BLOCK_MAXSIZE = 2^30 − 4; larger requests end in env.abort
    expect(() => core.exports.alloc(GiB - 3)).toThrow(/the Wasm core aborted/);
    const mem = new WasmMemory(core.exports);
    const before = core.exports.memory.buffer.byteLength;
    expectMemoryLimit(
      (() => {
        try {
          mem.alloc(MAX_BLOCK_FLOATS + 1);
        } catch (e) {
          return e;
        }
        return null;
      })(),
      ONE_BLOCK,
    );
    expect(core.exports.memory.buffer.byteLength).toBe(before);
    expect(mem.reserved).toBe(0);
    // the allocator still works after its abort and after the refusal
    const small = mem.alloc(1000);
    mem.free(small);
  });

  it('the largest accepted block (1 GiB − 80 bytes) is really served by the core, and freed', () => {
    const core = privateCore();
    const mem = new WasmMemory(core.exports);
    const at = mem.alloc(MAX_BLOCK_FLOATS);
    expect(at).toBeGreaterThan(0);
    expect(core.exports.memory.buffer.byteLength).toBeGreaterThanOrEqual(GiB);
    mem.f[at + MAX_BLOCK_FLOATS - 1] = 1; // the last float is inside memory
    mem.free(at);
    expect(mem.reserved).toBe(0);
  });
});

// ------------------------------------------------------------------------------------------------
// models and batches

/** Floats of the parameter arena of a configuration on the Wasm backend (as Network computes them). */
function paramFloats(core: Core, config: ModelConfig): number {
  const k = new WasmKernels(core);
  return paramArenaSize(resolveConfig(config), (K, N) => k.packedSize(K, N));
}

function workFloats(core: Core, config: ModelConfig, T: number, B: number): number {
  const k = new WasmKernels(core);
  return pointWork(resolveConfig(config), T, B, 0, (K, M, N) => k.weightGradScratch(K, M, N)).total;
}

/** Every parameter, concatenated (a copy). */
function params(m: Model): Float64Array {
  const parts = m.parameterNames().map((n) => m.getParameter(n));
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The first index where a and b differ (NaN-aware, bit-exact for floats), or −1 (cheap on large arrays). */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('models whose arenas exceed the limits', async () => {
  const core = await simdCore();
  const mem = (): { bytes: number; reserved: number } => ({ bytes: core.exports.memory.buffer.byteLength, reserved: 0 });
  // a model that exists before and must keep working: a small token LSTM and its trainer
  const small = { cell: 'lstm' as const, input: 'tokens' as const, inputSize: 6, hiddenSize: 8, outputSize: 6, seed: 4 };
  const existing = await createModel({ ...small, core });
  const trainer = new Trainer(existing, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 } });
  const rand = lcg(9);
  const batch = { x: randInts(12, 6, rand), y: randInts(12, 6, rand), T: 4, B: 3 };
  const reference = existing.predict(batch).y.slice();
  trainer.step(batch);

  /** The existing model: same outputs as its weights say, trains on, nothing grew or leaked. */
  function expectExistingWorks(before: { bytes: number; reserved: number }): void {
    expect(core.exports.memory.buffer.byteLength).toBe(before.bytes);
    expect(existing.kernels.memory.reserved).toBe(before.reserved);
    const p0 = params(existing);
    const r = trainer.step(batch);
    expect(r.skipped).toBe(false);
    expect(firstDiff(params(existing), p0)).not.toBe(-1);
    expect(Array.from(existing.predict(batch).y).every(Number.isFinite)).toBe(true);
  }

  const paramCases: [string, ModelConfig, RegExp][] = [
    [
      'LSTM I = H = 3000 (parameter arena 1.07 GiB: one block too large)',
      { cell: 'lstm', inputSize: 3000, hiddenSize: 3000, outputSize: 10 },
      ONE_BLOCK,
    ],
    ['GRU I = H = 3500 (1.10 GiB)', { cell: 'gru', inputSize: 3500, hiddenSize: 3500, outputSize: 10 }, ONE_BLOCK],
    ['RNN I = H = 6000 (1.07 GiB)', { cell: 'rnn', inputSize: 6000, hiddenSize: 6000, outputSize: 10 }, ONE_BLOCK],
    [
      '2-layer token LSTM H = 2600 (1.23 GiB)',
      { cell: 'lstm', input: 'tokens', inputSize: 100, hiddenSize: 2600, outputSize: 100, numLayers: 2 },
      ONE_BLOCK,
    ],
    ['LSTM inputSize 2^20, hiddenSize 8000 (beyond 4 GiB)', { cell: 'lstm', inputSize: 2 ** 20, hiddenSize: 8000, outputSize: 10 }, TOTAL],
    ['GRU hiddenSize 8000, 4 layers', { cell: 'gru', inputSize: 8, hiddenSize: 8000, outputSize: 10, numLayers: 4 }, TOTAL],
  ];

  it.each(paramCases)('%s → MemoryLimitError, nothing allocated, the existing model works', async (_name, config, message) => {
    const floats = paramFloats(core, config);
    if (message === ONE_BLOCK) {
      expect(floats).toBeGreaterThan(MAX_BLOCK_FLOATS);
      expect(floats).toBeLessThan(MAX_WASM_FLOATS);
    } else {
      expect(floats).toBeGreaterThan(MAX_WASM_FLOATS);
    }
    const before = { ...mem(), reserved: existing.kernels.memory.reserved };
    const err = await rejection(createModel({ ...config, core }));
    expectMemoryLimit(err, message);
    expect((err as Error).message).toContain(`cannot reserve ${floats} floats`);
    expectExistingWorks(before);
  });

  it('the js backend refuses a model beyond its limit the same way', async () => {
    const err = await rejection(createModel({ cell: 'lstm', inputSize: 2 ** 20, hiddenSize: 8000, outputSize: 10, backend: 'js' }));
    expectMemoryLimit(err, /cannot reserve \d+ floats in the js backend/);
  });

  // a token LSTM whose work arena grows with T·B (about 2 300 floats per row at H = 256)
  const big = { cell: 'lstm' as const, input: 'tokens' as const, inputSize: 16, hiddenSize: 256, outputSize: 16, seed: 2 };
  const workCases: [string, number, number, RegExp][] = [
    ['T·B = 160 000 (work arena 1.4 GiB: one block too large)', 800, 200, ONE_BLOCK],
    ['T·B = 4 000 000 (beyond 4 GiB)', 20000, 200, TOTAL],
  ];

  describe.each(workCases)('a batch with %s', (_name, T, B, message) => {
    it('predict, lossAndGradients, Trainer.step and stepStateful refuse it; model, optimizer, step count unchanged', async () => {
      const floats = workFloats(core, big, T, B);
      if (message === ONE_BLOCK) expect(floats).toBeGreaterThan(MAX_BLOCK_FLOATS);
      else expect(floats).toBeGreaterThan(MAX_WASM_FLOATS);
      const start = existing.kernels.memory.reserved;
      const model = await createModel({ ...big, core });
      const tr = new Trainer(model, { loss: 'cross-entropy', optimizer: 'adam' });
      const ok = { x: randInts(6, 16, rand), y: randInts(6, 16, rand), T: 3, B: 2 };
      tr.step(ok);
      const huge = { x: new Int32Array(T * B), y: new Int32Array(T * B), T, B };
      const p0 = params(model);
      const moments0 = model.kernels.memory.f.slice(tr.optimizer.state, tr.optimizer.state + 2 * model.net.params.P);
      const before = { ...mem(), reserved: existing.kernels.memory.reserved };
      for (const call of [
        () => model.predict(huge),
        () => model.lossAndGradients(huge, 'cross-entropy'),
        () => tr.step(huge),
        () => tr.stepStateful(huge),
      ]) {
        expectMemoryLimit(await rejection(call), message);
        expect(model.kernels.memory.reserved).toBeLessThanOrEqual(before.reserved);
        expect(core.exports.memory.buffer.byteLength).toBe(before.bytes);
      }
      expect(firstDiff(params(model), p0)).toBe(-1);
      expect(firstDiff(model.kernels.memory.f.slice(tr.optimizer.state, tr.optimizer.state + 2 * model.net.params.P), moments0)).toBe(-1);
      expect(tr.steps).toBe(1);
      // a normal batch of a new shape still trains (a fresh work arena), and the other model is untouched
      const r = tr.step({ x: randInts(8, 16, rand), y: randInts(8, 16, rand), T: 4, B: 2 });
      expect(r.skipped).toBe(false);
      expect(tr.steps).toBe(2);
      expect(Array.from(existing.predict(batch).y).every(Number.isFinite)).toBe(true);
      tr.dispose();
      model.dispose();
      expect(existing.kernels.memory.reserved).toBe(start);
    });
  });

  it('the model that was refused and the model that existed give the outputs their weights say', async () => {
    const fresh = await createModel({ ...small, core });
    fresh.loadStateDict(existing.stateDict());
    expect(fresh.predict(batch).y).toEqual(existing.predict(batch).y);
    expect(reference.length).toBe(existing.predict(batch).y.length);
    fresh.dispose();
  });

  // When a new work arena is refused, the old one is already freed: the next call with the earlier
  // T and B must allocate afresh instead of writing into the freed block (here: another model's
  // weights, allocated since).
  it('after a refused work arena, a call with the earlier shape does not write into freed memory', async () => {
    const own = privateCore(); // the corruption stays on a core of its own
    const a = await createModel({ ...big, core: own });
    const ok = { x: randInts(6, 16, rand), T: 3, B: 2 };
    a.predict(ok);
    expectMemoryLimit(await rejection(() => a.predict({ x: new Int32Array(160000), T: 800, B: 200 })), ONE_BLOCK);
    const b = await createModel({ ...big, seed: 7, core: own });
    const b0 = params(b);
    a.predict(ok);
    expect(firstDiff(params(b), b0)).toBe(-1);
  });
});

// The packed form of a weight of 2^31 floats or more would wrap in the core's i32 packed_size
// (once, to −2^31 twice, cancelling the weights and gradients): the arena is sized in JS doubles.
it('a token LSTM with a vocabulary of 2^24 (packed weights of 2^31 floats) is refused, not under-allocated', async () => {
  const own = privateCore(); // the corruption stays on a core of its own
  const config: ModelConfig = { cell: 'lstm', input: 'tokens', inputSize: 2 ** 24, hiddenSize: 32, outputSize: 2 };
  expectMemoryLimit(await rejection(createModel({ ...config, core: own })), TOTAL);
  expect(paramFloats(own, config)).toBeGreaterThan(MAX_WASM_FLOATS);
});

// A window is a batch of k2 steps (batch.T ≤ 2^24) and its history, (k2 − k1)·B·I floats, lives
// in JS memory: without the bound, k2 = 2^40 was a RangeError at the first stateful step.
it('a Trainer refuses a tbptt.k2 beyond the longest batch (2^24 steps)', async () => {
  const model = await createModel({ cell: 'gru', input: 'tokens', inputSize: 4, hiddenSize: 3, outputSize: 4, backend: 'js' });
  let err: unknown = null;
  try {
    const t = new Trainer(model, { loss: 'cross-entropy', tbptt: { k1: 2, k2: 2 ** 40 } });
    t.stepStateful({ x: [1, 2, 3, 0], y: [2, 3, 0, 1], T: 2, B: 2 });
  } catch (e) {
    err = e;
  }
  model.dispose();
  expect(err).toBeInstanceOf(UnrolledError);
  expect((err as UnrolledError).code).toBe('INVALID_CONFIG');
});
