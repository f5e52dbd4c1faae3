// A warmed-up training step of an LSTM on token ids (B4 in small) allocates nothing on the
// JavaScript heap (see zero-alloc.ts). It failed with the batch reader of before (a closure per
// array, array literals and strings built per step: about 390 bytes a step).
import '../../src/node/load-node.js';
import { it } from 'vitest';
import { createModel } from '../../src/create.js';
import { loadCore } from '../../src/runtime/load.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, randInts } from '../helpers.js';
import { expectNoAllocation } from './zero-alloc.js';

it('LSTM, tokens, cross-entropy at every step, Adam, clipNorm: no allocation per step', async () => {
  const core = await loadCore({ threads: 1 });
  const model = await createModel({ cell: 'lstm', inputSize: 29, input: 'tokens', hiddenSize: 24, outputSize: 29, seed: 3, core });
  const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: 'adam', clipNorm: 1 });
  const rand = lcg(4);
  const T = 9,
    B = 3;
  await expectNoAllocation(trainer, { x: randInts(T * B, 29, rand), y: randInts(T * B, 29, rand), T, B });
  trainer.dispose();
  model.dispose();
});
