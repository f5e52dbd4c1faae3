// A training step keeps memory flat: after the first step (arenas laid out), more steps grow
// neither the core's Wasm memory (not by a byte) nor the JavaScript heap that survives a full
// garbage collection. V8 optimises the step's code over its first thousands of runs, which
// grows the heap once (code, type feedback: up to a few hundred KB, later on a loaded machine);
// after 3,000 warm-up steps, 5,000 more must grow the retained heap by less than 8 bytes a step.
// Something the step kept (a result array, a closure, a cache entry) would take more. Shown to
// fail with one two-field object kept per step. (Short-lived garbage is not counted here:
// bench:alloc reports it.)
import { setFlagsFromString } from 'node:v8';
import { getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/create.js';
import { loadCore } from '../../src/runtime/load.js';
import { Trainer, type StepResult } from '../../src/train/trainer.js';
import { lcg, randInts } from '../helpers.js';

// a full collection on demand: --expose-gc, then a fresh context picks up the global it adds
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function retainedHeap(): number {
  gc();
  gc();
  return getHeapStatistics().used_heap_size;
}

interface Case {
  name: string;
  threads: number;
  make(core: Awaited<ReturnType<typeof loadCore>>): Promise<{ trainer: Trainer; batch: Parameters<Trainer['step']>[0]; dispose(): void }>;
}

const WARMUP = 3000;
const STEPS = 5000;
// 8 bytes a step: anything the step kept (an object, a closure, an array slot) is more
const BOUND = 8 * STEPS;
const T = 9,
  B = 5;
const disposeBoth = (trainer: Trainer, model: { dispose(): void }) => {
  trainer.dispose();
  model.dispose();
};
const CASES: Case[] = [1, 2].map((threads) => ({
  name: `LSTM, tokens, cross-entropy at every step, Adam, clipping (${threads} thread${threads > 1 ? 's' : ''})`,
  threads,
  async make(core) {
    const model = await createModel({ cell: 'lstm', inputSize: 29, input: 'tokens', hiddenSize: 37, outputSize: 29, seed: 3, core });
    const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: 'adam', clipNorm: 1 });
    const rand = lcg(4);
    const batch = { x: randInts(T * B, 29, rand), y: randInts(T * B, 29, rand), T, B };
    return { trainer, batch, dispose: () => disposeBoth(trainer, model) };
  },
}));
CASES.push({
  name: 'RNN, dense input, MSE at the last step, Adam, clipping (1 thread)',
  threads: 1,
  async make(core) {
    const I = 7;
    const model = await createModel({ cell: 'rnn', inputSize: I, hiddenSize: 37, outputSize: 3, seed: 3, core });
    const trainer = new Trainer(model, { loss: { loss: 'mse', at: 'last' }, optimizer: 'adam', clipNorm: 1 });
    const x = Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i));
    const y = Float32Array.from({ length: B * 3 }, (_, i) => Math.cos(i));
    return { trainer, batch: { x, y, T, B }, dispose: () => disposeBoth(trainer, model) };
  },
});

describe('memory stays flat over thousands of training steps', () => {
  for (const c of CASES) {
    it(`${c.name}: JS heap and Wasm memory`, async () => {
      const core = await loadCore({ threads: c.threads });
      try {
        const { trainer, batch, dispose } = await c.make(core);
        const out: StepResult = trainer.step(batch);
        const wasmAfterFirst = core.exports.memory.buffer.byteLength;
        // V8 optimises the step's code over the first thousands of steps (one-time growth)
        for (let i = 0; i < WARMUP; i++) trainer.stepInto(batch, out);
        const before = retainedHeap();
        for (let i = 0; i < STEPS; i++) trainer.stepInto(batch, out);
        const growth = retainedHeap() - before;
        expect(Number.isFinite(out.loss)).toBe(true);
        expect(growth, `retained JS heap growth over ${STEPS} steps: ${growth} bytes`).toBeLessThan(BOUND);
        expect(core.exports.memory.buffer.byteLength).toBe(wasmAfterFirst);
        dispose();
      } finally {
        if (core.threads > 1) core.dispose();
      }
    });
  }
});
