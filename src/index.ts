/**
 * `import … from 'unrolled'`: what an app uses: models, training, optimizers and schedules,
 * model and checkpoint I/O, the Wasm core and its capability probes, the training worker and the
 * errors; the same in Node, browsers and bundlers. Under Node this entry also has everything of
 * `unrolled/node`. Data helpers are at `unrolled/data`, the built-in tasks and corpus at
 * `unrolled/tasks`, the safetensors format at `unrolled/safetensors`, and the research
 * gradient estimators (RTRL, evolution strategies) at `unrolled/gradients`.
 * @module unrolled
 */
// The public API of unrolled. Re-exports only.
export { createModel, createModelSync, memoryUsage, type CreateModelOptions, type MemoryUsage } from './create.js';
export {
  Model,
  type Floats,
  type Prediction,
  type GradientResult,
  type GradientOptions,
  type GenerateOptions,
  type PredictInput,
  type ForwardOptions,
  type ForwardResult,
  type BackwardInput,
  type BackwardResult,
} from './model/model.js';
export type { Batch, Numbers } from './model/batch.js';
export type { ModelConfig, ResolvedConfig, CellKind, Nonlinearity, InputKind } from './model/config.js';
export type { LossSpec, LossKind, LossAt, Reduction } from './model/loss.js';
export type { InitOption, InitSpec, WeightScheme } from './model/init.js';
export { Rng } from './model/rng.js';
export { Trainer, type TrainerOptions, type StepResult, type StreamChunk, type CarriedState } from './train/trainer.js';
export { makeSchedule, type ScheduleSpec, type Schedule } from './train/schedules.js';
export {
  fit,
  type FitOptions,
  type History,
  type EpochLog,
  type EarlyStoppingOptions,
  type CheckpointHook,
  type BatchEndEvent,
  type ValidationEvent,
  type EarlyStopEvent,
  type FitPosition,
  type FitProgress,
} from './train/fit.js';
export { evaluate, type EvaluateOptions, type EvaluateResult, type MetricName } from './train/metrics.js';
export { resolveOptimizer, type OptimizerSpec, type OptimizerName } from './train/optimizers.js';
export {
  exportTorchOptimizerState,
  importTorchOptimizerState,
  torchOptimizerStateToSafetensors,
  torchOptimizerStateFromSafetensors,
  TORCH_OPTIMIZER_FORMAT,
  type TorchOptimizerState,
  type TorchParamState,
  type TorchParamGroup,
  type TorchTensor,
  type ImportTorchOptimizerOptions,
} from './train/torch-optimizer.js';
export { loadCore, type LoadOptions, type CoreSource } from './runtime/load.js';
export { threadsSupported } from './runtime/threads.js';
export { simdSupported, relaxedSimdSupported, type Core, type CoreVariant, type CoreExports } from './runtime/core.js';
export {
  UnrolledError,
  InvalidArgumentError,
  ConfigError,
  NonFiniteError,
  MemoryLimitError,
  DisposedError,
  BusyError,
  NoForwardError,
  CheckpointError,
  BackendError,
  FileError,
  TimeoutError,
  DataError,
  type ErrorCode,
} from './errors.js';
export { modelToSafetensors, loadSafetensorsInto, type SaveOptions, type LoadSafetensorsOptions } from './model/serialize.js';
export type { StateDictNames } from './model/state-dict-names.js';
export { modelFromSafetensors, type LoadModelOptions } from './model-file.js';
// worker
// the browser's worker factory is at 'unrolled/worker' (src/worker/browser.ts), so that bundles without it carry no worker chunk
export {
  TrainingWorker,
  TrainingWorkerError,
  type TrainingWorkerOptions,
  type WorkerEndpoint,
  type TrainingEvents,
  type TrainingWorkerState,
  type GenerateRequest,
} from './worker/client.js';
export {
  TRAINING_DEFAULTS,
  type TrainingConfig,
  type ResolvedTrainingConfig,
  type RunInfo,
  type ProgressEvent,
  type GradientFlowEvent,
  type SampleEvent,
  type StateEvent,
  type DoneEvent,
} from './worker/protocol.js';
// training checkpoints (src/train/checkpoint.ts)
export {
  checkpointToSafetensors,
  restoreCheckpoint,
  checkpointInfo,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointExtra,
  type DataPosition,
  type RestoreOptions,
  type RestoredCheckpoint,
  type RngState,
  type JsonValue,
} from './train/checkpoint.js';
