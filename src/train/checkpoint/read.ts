// Reading a training checkpoint: validate.ts checks the whole file first, then the model and the
// trainer are built and their state restored, so a bad file never leaves half a model behind.
import { createModel } from '../../create.js';
import { ConfigError } from '../../errors.js';
import type { ResolvedConfig } from '../../model/config.js';
import { newFloats, type Floats, type Model } from '../../model/model.js';
import { decodeSafetensors, type SafetensorsLimits } from '../../model/safetensors.js';
import { Trainer, type CarriedState } from '../trainer.js';
import type { JsonValue, RestoredCheckpoint, RestoreOptions } from './format.js';
import { bad, checkFormat, configOf, parseJson, stateOf, validateCheckpoint } from './validate.js';

/**
 * Validates a checkpoint written by checkpointToSafetensors completely (header, metadata, every
 * tensor's name, dtype, shape and values against the stored configuration), then creates the
 * model and trainer and restores their state. Any problem is a CheckpointError, raised before a
 * model is created.
 */
export async function restoreCheckpoint(bytes: Uint8Array | ArrayBuffer, options: RestoreOptions = {}): Promise<RestoredCheckpoint> {
  const {
    config,
    trainer: tr,
    state,
    data,
    info,
    slots,
    weights,
    moments,
    carried: carriedData,
    historyMax,
  } = validateCheckpoint(bytes, options);
  let model: Model | null = null;
  let trainer: Trainer | null = null;
  try {
    model = await createModel({ ...config, backend: options.backend, dtype: options.dtype, core: options.core });
    model.loadStateDict(weights);
    model.rng.setState(state.modelRng);
    trainer = new Trainer(model, tr.options);
    trainer.baseLr = tr.baseLr;
    trainer.optimizer.step = state.step;
    const f = model.arena.kernels.memory.f; // after every allocation
    moments.forEach((perSlot, i) => {
      perSlot.forEach((d, j) => {
        f.set(d, trainer!.optimizer.moment(i) + slots[j].offset);
      });
    });
    trainer.optimizer.invalidateBounds();
    if (state.carried && carriedData) {
      const { B, historySteps } = state.carried;
      const perStep = B * (config.input === 'tokens' ? 1 : config.inputSize);
      const like = f;
      const history = newFloats(like, historyMax * perStep);
      if (carriedData.history) history.set(carriedData.history);
      const carried: CarriedState = {
        B,
        h: toFloats(like, carriedData.h),
        c: carriedData.c ? toFloats(like, carriedData.c) : null,
        history,
        historySteps,
      };
      trainer.setCarriedState(carried);
    }
    return { model, trainer, extra: { data, schedule: tr.schedule, info, step: state.step } };
  } catch (e) {
    trainer?.dispose();
    model?.dispose();
    if (e instanceof ConfigError) bad(`the stored configuration is invalid: ${e.message}`);
    throw e;
  }
}

function toFloats(like: Floats, v: Floats): Floats {
  const out = newFloats(like, v.length);
  out.set(v);
  return out;
}

/** Reads only the application info of a checkpoint (validating the file's header), without building anything. */
export function checkpointInfo(
  bytes: Uint8Array | ArrayBuffer,
  limits: SafetensorsLimits = {},
): { config: ResolvedConfig; step: number; info: JsonValue | null } {
  const { metadata } = decodeSafetensors(bytes, limits);
  checkFormat(metadata, false);
  const config = configOf(metadata);
  const { step } = stateOf(metadata);
  const info = parseJson(metadata, 'unrolled_info', false) as JsonValue | undefined;
  return { config, step, info: info === undefined ? null : info };
}
