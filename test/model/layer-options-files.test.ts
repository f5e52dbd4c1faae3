// Every layer option at once survives the model file and the training checkpoint: the file
// recreates the same model (configuration, names, predictions bit for bit), and a run resumed from
// a checkpoint continues exactly (dropout masks included, their generator is in the checkpoint).
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src/model/safetensors.js';
import { modelFromSafetensors } from '../../src/model-file.js';
import { checkpointToSafetensors, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, makeModel, randInts } from '../helpers.js';

const CONFIG = {
  cell: 'lstm' as const,
  input: 'tokens' as const,
  inputSize: 9,
  hiddenSize: 5,
  outputSize: 9,
  numLayers: 2,
  embeddingSize: 3,
  bidirectional: true,
  bias: false,
  dropout: 0.25,
  batchFirst: true,
  seed: 8,
};
const T = 6,
  B = 3;
const batch = (i: number) => {
  const rand = lcg(100 + i);
  return { x: randInts(B * T, 9, rand), y: randInts(B * T, 9, rand), T, B, lengths: [6, 3, 5] };
};
const train = (trainer: Trainer, from: number, n: number) => {
  const losses = [];
  for (let i = from; i < from + n; i++) losses.push(trainer.step(batch(i)).loss);
  return losses;
};

describe('all layer options together', () => {
  it('a model file recreates the model: configuration, PyTorch names, predictions bit for bit', async () => {
    const model = await makeModel('js', CONFIG);
    const bytes = model.toSafetensors();
    const names = [...decodeSafetensors(bytes).tensors.keys()];
    expect(names).toEqual(model.parameterNames());
    expect(names.slice(0, 3)).toEqual(['embedding.weight', 'weight_ih_l0', 'weight_hh_l0']);
    expect(names).toContain('weight_hh_l1_reverse');
    expect(names.some((n) => n.startsWith('bias_'))).toBe(false);
    const back = await modelFromSafetensors(bytes, { backend: 'js' });
    expect(back.config).toEqual(model.config);
    expect(Array.from(back.predict(batch(0)).y)).toEqual(Array.from(model.predict(batch(0)).y));
    model.dispose();
    back.dispose();
  });

  it('a checkpoint resumes the run exactly', async () => {
    const model = await makeModel('js', CONFIG);
    const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 } });
    train(trainer, 0, 2);
    const restored = await restoreCheckpoint(checkpointToSafetensors(trainer), { backend: 'js' });
    expect(restored.model.config).toEqual(model.config);
    expect(train(restored.trainer, 2, 3)).toEqual(train(trainer, 2, 3));
    expect(restored.model.stateDict()).toEqual(model.stateDict());
    model.dispose();
    restored.model.dispose();
  });
});
