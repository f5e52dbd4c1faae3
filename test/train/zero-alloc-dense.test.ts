// A warmed-up training step of an RNN on dense input (B2 in small: a long x, MSE at the last
// step) allocates nothing on the JavaScript heap (see zero-alloc.ts). It failed with the batch
// reader of before (above 800 bytes a step) and with the loss and the learning rate returned as
// numbers from calls V8 did not inline (about 50 bytes a step: boxed doubles).
import '../../src/node/load-node.js';
import { it } from 'vitest';
import { createModel } from '../../src/create.js';
import { loadCore } from '../../src/runtime/load.js';
import { Trainer } from '../../src/train/trainer.js';
import { expectNoAllocation } from './zero-alloc.js';

it('RNN, dense input, MSE at the last step, Adam, clipNorm: no allocation per step', async () => {
  const core = await loadCore({ threads: 1 });
  const I = 32,
    T = 64,
    B = 16;
  const model = await createModel({ cell: 'rnn', inputSize: I, hiddenSize: 8, outputSize: 1, seed: 3, core });
  const trainer = new Trainer(model, { loss: { loss: 'mse', at: 'last' }, optimizer: 'adam', clipNorm: 1 });
  const x = Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i));
  const y = Float32Array.from({ length: B }, (_, i) => Math.cos(i));
  await expectNoAllocation(trainer, { x, y, T, B });
  trainer.dispose();
  model.dispose();
});
