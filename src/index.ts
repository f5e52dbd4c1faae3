/**
 * `import … from 'unrolled'`: models, training, data, checkpoints and the Wasm core, the same in
 * Node, browsers and bundlers. Under Node this entry also has everything of `unrolled/node`.
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
export { rtrlGradients, RTRL_MAX_SENSITIVITY_FLOATS, type RtrlResult } from './train/rtrl.js';
export { EvolutionStrategies, centeredRanks, type EvolutionStrategiesOptions, type EsEstimate, type EsStepResult } from './train/es.js';
export { loadCore, type LoadOptions, type CoreSource } from './runtime/load.js';
export { threadsSupported } from './runtime/threads.js';
export { simdSupported, relaxedSimdSupported, pickVariant, type Core, type CoreVariant, type CoreExports } from './runtime/core.js';
export * from './errors.js';
// data
export { CharVocab, type CharVocabJSON } from './data/vocab.js';
export { TokenStream, type TokenChunk, type TokenStreamOptions, type StreamPosition } from './data/stream.js';
export {
  padSequences,
  padTokens,
  padTargets,
  lengthsToMask,
  type PadOptions,
  type PaddedSequences,
  type PaddedTokens,
  type PaddedTargets,
} from './data/padding.js';
export { CORPUS } from './data/corpus.js';
export {
  SequenceDataset,
  planBatches,
  paddingFraction,
  type SequenceExample,
  type SequenceDatasetOptions,
  type DatasetBatch,
  type BatchPlanOptions,
  type TargetKind,
} from './data/dataset.js';
export { parseCsv, parseJsonl, type TableOptions } from './data/tables.js';
export { SequenceFile, readSequences, type SequenceSourceOptions, type SourceSequence } from './data/sequence-file.js';
export { TextStream, blobSource, type ByteSource, type TextStreamOptions } from './data/text-stream.js';
export * as tasks from './data/tasks/index.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  DEFAULT_MAX_HEADER_BYTES,
  type SafetensorsDtype,
  type TensorData,
  type NamedTensor,
  type SafetensorsTensor,
  type DecodedSafetensors,
  type SafetensorsLimits,
} from './model/safetensors.js';
export { modelToSafetensors, loadSafetensorsInto, type SaveOptions } from './model/serialize.js';
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
  resolveTrainingConfig,
  TRAINING_DEFAULTS,
  VOCAB_METADATA_KEY,
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
