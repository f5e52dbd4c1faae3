// Training checkpoints, the format: everything a Trainer needs to continue exactly where it stopped, in one
// safetensors file (browser-safe: bytes in, bytes out; src/node/checkpoint-files.ts saves them
// atomically). Restoring a checkpoint and continuing gives bit-identical results to never having
// stopped, on the same backend and core variant (the Wasm core that is not relaxed-SIMD, i.e.
// loadCore({ reproducible: true }), or the js backend).
//
// Format (format "unrolled-checkpoint", version "1"). Tensors, in this order:
//
//   <name>                      the parameters under their PyTorch state_dict names and shapes
//                               (weight_ih_l0, …, head.weight, head.bias)
//   optimizer.<moment>.<name>   the optimizer's per-parameter state, shaped like the parameter;
//                               <moment> is PyTorch's: exp_avg and exp_avg_sq (adam, adamw),
//                               momentum_buffer (sgd with momentum > 0; none without momentum),
//                               square_avg (rmsprop), sum (adagrad)
//   state.h, state.c            stateful training only: the carried hidden (and LSTM cell) state
//                               [L, B, H]
//   state.history               stateful TBPTT with k2 > k1 only: the inputs of the last S ≤ k2 − k1
//                               steps, [S, B] token ids (as floats) or [S, B, I] floats
//
// All float tensors are F32, or F64 when the model computes in float64 (js backend); loading
// accepts either (values must be finite, and representable in f32 for an f32 model).
// "__metadata__" (every value a JSON string):
//
//   format                        "unrolled-checkpoint"
//   unrolled_checkpoint_version   "1"
//   unrolled_config               the model's resolved configuration (as in a model file)
//   unrolled_trainer              { loss: {loss, at, reduction, classWeights?}, optimizer: OptimizerSpec (all
//                                 fields explicit), baseLr, schedule: ScheduleSpec | null,
//                                 clipNorm: number | null, clipValue: number | null,
//                                 clipHiddenNorm?: number (only when set), onNonFinite,
//                                 tbptt: {k1, k2} | null }
//   unrolled_state                { step: updates applied, modelRng: [s0, s1, s2, s3, spare | null]
//                                 (the model's sampler, Rng.getState()), carried: null |
//                                 { B, historySteps } }
//   unrolled_data                 (optional) { stream?: {epoch, position} (a TokenStream),
//                                 rng?: [s0, s1, s2, s3, spare | null] (a task generator's Rng) }
//   unrolled_info                 (optional) any JSON value of the application's (the CLI keeps
//                                 its flags and the vocabulary there)
//
// The weights are in PyTorch's names and layouts, so torch.load_file(...) followed by
// load_state_dict(strict=False) (or filtering out "optimizer." and "state." names) reads them.
//
// Writing is src/train/checkpoint/write.ts, checking a file src/train/checkpoint/validate.ts, and
// building a model and trainer from a checked file src/train/checkpoint/read.ts.
import type { Model } from '../../model/model.js';
import type { ResolvedLoss } from '../../model/loss.js';
import type { StreamPosition } from '../../data/stream.js';
import type { LoadModelOptions } from '../../model-file.js';
import { momentNames, type OptimizerSpec, type ResolvedOptimizer } from '../optimizers.js';
import type { ScheduleSpec } from '../schedules.js';
import type { Trainer } from '../trainer.js';

export const CHECKPOINT_FORMAT = 'unrolled-checkpoint';
export const CHECKPOINT_VERSION = '1';

/** A JSON value (what `info` may hold). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The state of an Rng as Rng.getState() gives it (the fifth entry, the spare normal, may be NaN or null). */
export type RngState = readonly (number | null)[];

/** Where the training data stands, so that the data continues exactly too. */
export interface DataPosition {
  /** A TokenStream's getPosition(). */
  stream?: StreamPosition;
  /** A task generator's Rng.getState(). */
  rng?: RngState;
}

export interface CheckpointExtra {
  /** The data's position (stored in unrolled_data). */
  data?: DataPosition;
  /**
   * The ScheduleSpec the trainer was created with. checkpointToSafetensors compares it with the
   * trainer's (Trainer.scheduleSpec) and refuses a mismatch.
   */
  schedule?: ScheduleSpec;
  /** Anything else of the application's, JSON-serialisable (stored in unrolled_info). */
  info?: JsonValue;
}

/** Where the restored model is created, and the limits of the file's header: a model file's options. */
export type RestoreOptions = LoadModelOptions;

export interface RestoredCheckpoint {
  model: Model;
  trainer: Trainer;
  extra: {
    data: DataPosition | null;
    schedule: ScheduleSpec | null;
    info: JsonValue | null;
    /** Updates applied when the checkpoint was written (= trainer.steps). */
    step: number;
  };
}

export interface TrainerRecord {
  loss: ResolvedLoss;
  optimizer: OptimizerSpec;
  baseLr: number;
  schedule: ScheduleSpec | null;
  clipNorm: number | null;
  clipValue: number | null;
  /** absent when off, so checkpoints without per-timestep clipping read as they always did */
  clipHiddenNorm?: number;
  onNonFinite: 'skip' | 'throw';
  tbptt: { k1: number; k2: number } | null;
}

export interface StateRecord {
  step: number;
  modelRng: (number | null)[];
  carried: { B: number; historySteps: number } | null;
}

/** The optimizer's configuration with every field explicit (round-trips through resolveOptimizer). */
export function optimizerSpecOf(s: ResolvedOptimizer): OptimizerSpec {
  switch (s.name) {
    case 'sgd':
      return { name: 'sgd', lr: s.lr, momentum: s.momentum, dampening: s.dampening, nesterov: s.nesterov, weightDecay: s.weightDecay };
    case 'adam':
    case 'adamw':
      return { name: s.name, lr: s.lr, betas: [s.beta1, s.beta2], eps: s.eps, weightDecay: s.weightDecay };
    case 'rmsprop':
      return { name: 'rmsprop', lr: s.lr, alpha: s.alpha, eps: s.eps, weightDecay: s.weightDecay };
    case 'adagrad':
      return { name: 'adagrad', lr: s.lr, eps: s.eps, weightDecay: s.weightDecay };
  }
}

/** Moment arrays the optimizer actually keeps (SGD without momentum keeps none). */
export function keptMoments(s: ResolvedOptimizer): string[] {
  return s.name === 'sgd' && s.momentum === 0 ? [] : momentNames(s.name);
}

/** The tensor holding moment `moment` of parameter `name`. */
export function momentTensorName(moment: string, name: string): string {
  return `optimizer.${moment}.${name}`;
}
