// Issue 12, class 7 (memory): an allocation that cannot grow memory is an OUT_OF_MEMORY before any
// state changes, and a core says how much it holds. The engine's refusal is real here: the
// threads build imports its memory, and this core gets one with a maximum of 8 MiB, so
// memory.grow fails inside the core's allocator exactly as it would at a host's limit.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelSync, memoryUsage } from '../../src/create.js';
import { MemoryLimitError, UnrolledError } from '../../src/errors.js';
import type { Model } from '../../src/model/model.js';
import { CORE_FILES, type Core, type CoreExports } from '../../src/runtime/core.js';
import { Trainer } from '../../src/train/trainer.js';
import { spawnBystander } from './bystander.js';
import { printTally, tally } from './tally.js';

const counts = tally('issue 12, class 7 (memory)');
afterAll(() => printTally(counts));

const MAX_PAGES = 128; // 8 MiB
function smallCore(): Core {
  const module = new WebAssembly.Module(readFileSync(new URL(`../../build/${CORE_FILES.threads}`, import.meta.url)));
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('the Wasm core aborted');
      },
    },
  });
  // a core built by hand, single-threaded: the kernels run on the calling thread
  return { exports: instance.exports as unknown as CoreExports, variant: 'threads', threads: 1 } as unknown as Core;
}

const V = 6,
  T = 4,
  B = 2;
const ids = (n: number, s = 0) => Array.from({ length: n }, (_, i) => (i + s) % V);
const small = { cell: 'lstm' as const, input: 'tokens' as const, inputSize: V, hiddenSize: 8, outputSize: V, seed: 2 };

function weights(m: Model): string {
  return Array.from(m.kernels.memory.f.subarray(m.net.params.base, m.net.params.base + m.net.params.P)).join(',');
}

function refused(fn: () => unknown): MemoryLimitError {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MemoryLimitError);
  expect((err as UnrolledError).code).toBe('OUT_OF_MEMORY');
  expect((err as Error).message).not.toMatch(/\n/);
  return err as MemoryLimitError;
}

describe('a core whose memory cannot grow past 8 MiB', () => {
  const core = smallCore();
  const bystander = spawnBystander(core, 11);
  const victim = createModelSync({ ...small, core });
  const trainer = new Trainer(victim, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 } });
  trainer.step({ x: ids(T * B), y: ids(T * B, 1), T, B });

  /** Runs a case that must be refused: bystander, victim, step count and reserved bytes unchanged; the memory never shrinks. */
  function check(name: string, fn: () => unknown, message: RegExp, workArenaFreed = false): void {
    const h = bystander.hash(),
      w = weights(victim),
      steps = trainer.steps;
    const before = memoryUsage(core);
    const err = refused(fn);
    expect(err.message).toMatch(message);
    const after = memoryUsage(core);
    // a refused work arena leaves the model without one (its earlier one is freed first, so
    // that the new one could have used that room); the next call allocates it again
    if (workArenaFreed) expect(after.reservedBytes).toBeLessThanOrEqual(before.reservedBytes);
    else expect(after.reservedBytes).toBe(before.reservedBytes);
    expect(after.memoryBytes).toBeGreaterThanOrEqual(before.memoryBytes);
    expect(after.memoryBytes).toBeLessThanOrEqual(MAX_PAGES * 65536);
    expect(bystander.hash()).toBe(h);
    expect(weights(victim)).toBe(w);
    expect(trainer.steps).toBe(steps);
    // everything keeps working afterwards, and the allocator still serves what fits
    expect(trainer.step({ x: ids(T * B, 2), y: ids(T * B, 3), T, B }).skipped).toBe(false);
    const m = createModelSync({ ...small, seed: 9, core });
    m.dispose();
    counts.add(`class 7: typed error MemoryLimitError (OUT_OF_MEMORY): ${name}`);
  }

  it('a model that needs more memory than the engine grants', () => {
    // about 12 MiB of parameters: below every limit of unrolled's own, so the core's allocator asks the engine
    check(
      'createModel',
      () => createModelSync({ ...small, input: 'dense', inputSize: 256, hiddenSize: 256, core }),
      /the engine refused to grow Wasm memory/,
    );
  });
  it('a Trainer whose optimizer moments do not fit', () => {
    // a parameter arena of about 5.3 MB fits; 2.6 MB more of Adam moments do not
    const big = createModelSync({ ...small, input: 'dense', inputSize: 64, hiddenSize: 256, core });
    try {
      check(
        'new Trainer (Adam moments)',
        () => new Trainer(big, { loss: 'cross-entropy', optimizer: 'adam' }),
        /the engine refused to grow/,
      );
    } finally {
      big.dispose();
    }
  });
  it('a batch whose work arena does not fit; the victim then trains on with its earlier shape', () => {
    check(
      'step with a huge batch',
      () => trainer.step({ x: new Int32Array(4096 * 64), y: new Int32Array(4096 * 64), T: 4096, B: 64 }),
      /the engine refused to grow/,
      true,
    );
    check(
      'predict with a huge batch',
      () => victim.predict({ x: new Int32Array(4096 * 64), T: 4096, B: 64 }),
      /the engine refused to grow/,
      true,
    );
  });
  it('memoryUsage: reserved bytes come back on dispose, the memory itself never shrinks', () => {
    const before = memoryUsage(core);
    const models = Array.from({ length: 20 }, (_, i) => createModelSync({ ...small, seed: i, core }));
    const during = memoryUsage(core);
    expect(during.reservedBytes).toBeGreaterThan(before.reservedBytes);
    for (const m of models) m.dispose();
    const after = memoryUsage(core);
    expect(after.reservedBytes).toBe(before.reservedBytes);
    expect(after.memoryBytes).toBe(during.memoryBytes);
    expect(after.limitBytes).toBe(4 * 1024 ** 3 - 64 * 1024 ** 2);
    expect(memoryUsage(victim).memoryBytes).toBe(after.memoryBytes);
    expect(() => memoryUsage({} as Core)).toThrow(UnrolledError);
    counts.add('class 7: correct behaviour: memoryUsage');
  });
});
