// A new model from a model file. Reading the file (src/model/serialize.ts) is part of the model
// layer; making a model is creation's (src/create.ts), which depends on the model: so the step
// that does both sits here, above the two, and no import goes back down-and-up again.
import { createModel, type CreateModelOptions } from './create.js';
import { InvalidArgumentError, describe } from './errors.js';
import type { Model } from './model/model.js';
import type { SafetensorsLimits } from './model/safetensors.js';
import { readModelFile } from './model/serialize.js';

export interface LoadModelOptions extends SafetensorsLimits {
  backend?: CreateModelOptions['backend'];
  dtype?: CreateModelOptions['dtype'];
  core?: CreateModelOptions['core'];
}

/**
 * A new model from a file written by modelToSafetensors: its configuration from the metadata, its
 * weights (F32 or F64) from the tensors, and the loss it was trained with (`trainedWith`) when
 * the file records one. Everything is validated before the model is created.
 */
export async function modelFromSafetensors(bytes: Uint8Array | ArrayBuffer, options: LoadModelOptions = {}): Promise<Model> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', describe(options));
  const f32 = !(options.backend === 'js' && options.dtype === 'float64');
  const { config, weights, loss } = readModelFile(bytes, { maxHeaderBytes: options.maxHeaderBytes }, f32);
  const model: Model = await createModel({ ...config, backend: options.backend, dtype: options.dtype, core: options.core });
  try {
    model.loadStateDict(weights);
    if (loss) model.recordTraining(loss);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
