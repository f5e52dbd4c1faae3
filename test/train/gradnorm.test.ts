// The global gradient norm is summed in f64 on every backend: a finite float32 gradient whose
// square overflows float32 (|g| > 1.8e19) still has a finite norm, so the step is clipped and
// taken, not refused (a regression test: the SIMD sum once squared in f32).
import { describe, expect, it } from 'vitest';
import { Trainer } from '../../src/train/trainer.js';
import { ALL_BACKENDS, makeModel } from '../helpers.js';

describe('gradient norm of huge but finite gradients', () => {
  for (const backend of ALL_BACKENDS) {
    it(backend, async () => {
      const m = await makeModel(backend, { cell: 'rnn', inputSize: 1, hiddenSize: 1, outputSize: 4, seed: 1 });
      // prediction ≈ 1e19 on output 0: with a sum-reduced MSE, ∂loss/∂head.bias[0] ≈ 2e19
      m.setParameter('head.bias', [1e19, 0, 0, 0]);
      const t = new Trainer(m, { loss: { loss: 'mse', at: 'last', reduction: 'sum' }, optimizer: { name: 'sgd', lr: 1e-3 }, clipNorm: 1 });
      const r = t.step({ x: [0.5], y: [0, 0, 0, 0], T: 1, B: 1 });
      expect(r.skipped).toBe(false);
      expect(r.gradNorm).toBeGreaterThan(1.9e19);
      expect(r.gradNorm).toBeLessThan(1e20);
      expect(r.clipped).toBe(true);
    });
  }
});
