// Variable-length batches (PyTorch packed-sequence semantics): the gradients of a padded batch
// equal the sum of the gradients of its sequences run one by one, unpadded; each sequence's
// final state is its state at its last real step; the mean divides by the real rows only.
import { describe, expect, it } from 'vitest';
import { lcg, makeModel, randInts, randn, relErr, type BackendName } from '../helpers.js';

const T = 6,
  B = 3,
  I = 5,
  H = 7,
  O = 4;
const lengths = [6, 2, 4];

for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  for (const [backend, tol] of [
    ['js64', 1e-10],
    ['wasm', 2e-5],
  ] as Array<[BackendName, number]>) {
    describe(`${cell} on ${backend}`, () => {
      it('a padded batch = the sum of its sequences run alone; hN at each last real step', async () => {
        const rand = lcg(21);
        const model = await makeModel(backend, { cell, inputSize: I, hiddenSize: H, outputSize: O, numLayers: 2, seed: 4 });
        const x = randn(T * B * I, rand),
          y = randInts(T * B, O, rand),
          h0 = randn(2 * B * H, rand, 0.5);
        const c0 = cell === 'lstm' ? randn(2 * B * H, rand, 0.5) : undefined;
        const whole = model.lossAndGradients({ x, y, T, B, lengths, h0, c0 }, { loss: 'cross-entropy', reduction: 'sum' });
        const sum: Record<string, Float64Array> = {};
        let loss = 0;
        for (let b = 0; b < B; b++) {
          const n = lengths[b];
          const xs = new Float64Array(n * I),
            ys = new Int32Array(n);
          for (let t = 0; t < n; t++) {
            for (let i = 0; i < I; i++) xs[t * I + i] = x[(t * B + b) * I + i];
            ys[t] = y[t * B + b];
          }
          const pick = (s: Float32Array) =>
            Float64Array.from([0, 1].flatMap((l) => Array.from(s.subarray((l * B + b) * H, (l * B + b + 1) * H))));
          const one = model.lossAndGradients(
            { x: xs, y: ys, T: n, B: 1, h0: pick(h0), c0: c0 && pick(c0) },
            { loss: 'cross-entropy', reduction: 'sum' },
          );
          loss += one.loss;
          for (const [name, g] of Object.entries(one.grads)) {
            sum[name] ??= new Float64Array(g.length);
            for (let i = 0; i < g.length; i++) sum[name][i] += g[i];
          }
          // final states and ∂E/∂h0 of this sequence are its rows of the batch's
          for (let l = 0; l < 2; l++) {
            const rows = (a: ArrayLike<number>, bb: number, bn: number) =>
              Array.from(a as Float32Array).slice((l * bn + bb) * H, (l * bn + bb + 1) * H);
            expect(relErr(rows(whole.hN, b, B), rows(one.hN, 0, 1), 1e-6)).toBeLessThan(tol);
            expect(relErr(rows(whole.dh0, b, B), rows(one.dh0, 0, 1), 1e-6)).toBeLessThan(tol);
            if (cell === 'lstm') expect(relErr(rows(whole.cN!, b, B), rows(one.cN!, 0, 1), 1e-6)).toBeLessThan(tol);
          }
        }
        expect(Math.abs(whole.loss - loss) / Math.abs(loss)).toBeLessThan(tol);
        for (const [name, g] of Object.entries(whole.grads)) expect(relErr(g, sum[name], 1e-6), name).toBeLessThan(tol);
        // the mean divides by the real rows (12), not by T·B (18)
        const mean = model.lossAndGradients({ x, y, T, B, lengths, h0, c0 }, 'cross-entropy');
        expect(Math.abs(mean.loss * 12 - whole.loss) / whole.loss).toBeLessThan(tol);
        model.dispose();
      });
    });
  }
}
