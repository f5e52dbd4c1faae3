// A short soak (the long one: node --expose-gc scripts/soak.mjs). Thousands of training steps of a
// tiny model must not grow Wasm memory after the first steps nor make the JS heap trend upward,
// and creating and disposing a thousand models must return every reserved float and stop growing
// the Wasm memory.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createModelSync } from '../../src/create.js';
import { Trainer } from '../../src/train/trainer.js';
import { TokenStream } from '../../src/data/stream.js';
import { lcg, randInts, simdCore } from '../helpers.js';

// a gc() for the heap samples, without --expose-gc on the command line
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MiB = 2 ** 20;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Least-squares slope of ys over xs. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n,
    my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : 0;
}

const V = 10;
const TEXT = Int32Array.from({ length: 5000 }, (_, i) => (i * 7 + (i >> 4)) % V);

describe('soak (short)', async () => {
  const core = await simdCore();

  it('3000 training steps: Wasm memory constant after the first steps, no upward heap trend', () => {
    const model = createModelSync({ cell: 'lstm', input: 'tokens', inputSize: V, hiddenSize: 8, outputSize: V, seed: 1, core });
    const memory = model.kernels.memory;
    const stateful = new Trainer(model, {
      loss: 'cross-entropy',
      optimizer: { name: 'adam', lr: 0.01 },
      clipNorm: 1,
      tbptt: { k1: 8, k2: 12 },
    });
    const stateless = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 } });
    const stream = new TokenStream(TEXT, { T: 8, B: 4 });
    const rand = lcg(3);
    const other = { x: randInts(5 * 3, V, rand), y: randInts(5 * 3, V, rand), T: 5, B: 3 };
    const STEPS = 3000,
      WARM = 20,
      EVERY = 250;

    stateful.stepStateful(stream.next());
    const bytesAfterFirst = memory.f.buffer.byteLength;
    let reservedAfterWarm = -1;
    const xs: number[] = [],
      heap: number[] = [];
    let losses = 0;
    for (let step = 2; step <= STEPS; step++) {
      // mostly stateful TBPTT; every 10th step a stateless update of another shape, and now and
      // then a prediction, the gradients of a batch and generated text
      const r = step % 10 === 0 ? stateless.step(other) : stateful.stepStateful(stream.next());
      expect(r.skipped).toBe(false);
      losses += r.loss;
      if (step % 100 === 0) {
        model.predict({ x: other.x, T: other.T, B: other.B });
        model.lossAndGradients(other, 'cross-entropy');
        model.generate({ prime: [1, 2], length: 5, seed: step });
      }
      expect(memory.f.buffer.byteLength).toBe(bytesAfterFirst);
      if (step === WARM) reservedAfterWarm = memory.reserved;
      if (step > WARM) expect(memory.reserved).toBe(reservedAfterWarm);
      if (step % EVERY === 0) {
        xs.push(step);
        heap.push(heapUsed());
      }
    }
    // after warm-up (the first 500 steps: JIT, inline caches), the heap must not trend upward
    const after = xs.map((x, i) => [x, heap[i]]).filter(([x]) => x > 500);
    const perStep = slope(
      after.map((p) => p[0]),
      after.map((p) => p[1]),
    );
    const trend = perStep * (STEPS - 500);
    console.log(
      `3000 steps: Wasm memory ${(bytesAfterFirst / MiB).toFixed(2)} MiB throughout, ${reservedAfterWarm} floats reserved after step ${WARM}; ` +
        `heap ${(heap[0] / MiB).toFixed(2)} → ${(heap[heap.length - 1] / MiB).toFixed(2)} MiB, trend after warm-up ${(trend / 1024).toFixed(0)} KiB (${perStep.toFixed(1)} B/step); mean loss ${(losses / (STEPS - 1)).toFixed(3)}`,
    );
    expect(trend).toBeLessThan(2 * MiB);
    expect(heap[heap.length - 1] - heap[1]).toBeLessThan(4 * MiB);
    stateful.dispose();
    stateless.dispose();
    model.dispose();
  });

  it('1000 create / train / dispose cycles: every float returned, Wasm memory stops growing', () => {
    const probe = createModelSync({ cell: 'gru', inputSize: 3, hiddenSize: 4, outputSize: 2, core });
    const memory = probe.kernels.memory;
    probe.dispose();
    const reserved0 = memory.reserved;
    const rand = lcg(5);
    const sizes = [8, 16, 32, 12, 24, 4];
    const cells = ['rnn', 'lstm', 'gru'] as const;
    const bytesAt: Record<number, number> = {};
    const heapAt: Record<number, number> = {};
    for (let c = 1; c <= 1000; c++) {
      const H = sizes[c % sizes.length],
        cell = cells[c % 3];
      const model = createModelSync({ cell, input: 'tokens', inputSize: V, hiddenSize: H, outputSize: V, seed: c, core });
      const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: c % 2 ? 'adam' : { name: 'sgd', lr: 0.1, momentum: 0.5 } });
      const T = 2 + (c % 5),
        B = 1 + (c % 3);
      trainer.step({ x: randInts(T * B, V, rand), y: randInts(T * B, V, rand), T, B });
      trainer.dispose();
      model.dispose();
      expect(memory.reserved, `reserved after cycle ${c}`).toBe(reserved0);
      if (c % 100 === 0) {
        bytesAt[c] = memory.f.buffer.byteLength;
        heapAt[c] = heapUsed();
      }
    }
    console.log(
      `create/dispose: Wasm memory (MiB) ${Object.entries(bytesAt)
        .map(([c, b]) => `${c}: ${(b / MiB).toFixed(2)}`)
        .join(', ')}; ` + `heap ${(heapAt[100] / MiB).toFixed(2)} → ${(heapAt[1000] / MiB).toFixed(2)} MiB`,
    );
    expect(bytesAt[1000]).toBe(bytesAt[100]);
    expect(heapAt[1000] - heapAt[200]).toBeLessThan(2 * MiB);
  });
});
