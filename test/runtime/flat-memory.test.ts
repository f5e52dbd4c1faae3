// A training step keeps memory flat: after the first step (arenas laid out), 3,000 more steps
// grow neither the core's Wasm memory (not by a byte) nor the JavaScript heap that survives a
// full garbage collection. The heap is read after each of three windows of 1,000 steps: while V8
// still optimises the step's code, a window may grow by tens of KB (code, type feedback) and the
// next one shrink, but something the step kept (a result array, a closure, a cache entry: ≥ 16
// bytes a step) would grow every window by ≥ 16 KB. So the smallest growth of the three must
// stay below that. (Short-lived garbage is not counted here: bench:alloc reports it.)
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

describe('memory stays flat over 3,000 training steps', () => {
  for (const c of CASES) {
    it(`${c.name}: JS heap and Wasm memory`, async () => {
      const core = await loadCore({ threads: c.threads });
      try {
        const { trainer, batch, dispose } = await c.make(core);
        const out: StepResult = trainer.step(batch);
        const wasmAfterFirst = core.exports.memory.buffer.byteLength;
        const growth: number[] = [];
        let heap = retainedHeap();
        for (let window = 0; window < 3; window++) {
          for (let i = 0; i < 1000; i++) trainer.stepInto(batch, out);
          const now = retainedHeap();
          growth.push(now - heap);
          heap = now;
        }
        expect(Number.isFinite(out.loss)).toBe(true);
        expect(Math.min(...growth), `retained JS heap growth per 1,000 steps: ${growth.join(', ')} bytes`).toBeLessThan(16_384);
        expect(core.exports.memory.buffer.byteLength).toBe(wasmAfterFirst);
        dispose();
      } finally {
        if (core.threads > 1) core.dispose();
      }
    });
  }
});
