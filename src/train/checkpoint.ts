// Training checkpoints: everything a Trainer needs to continue exactly where it stopped, in one
// safetensors file. The format is described in checkpoint/format.ts; writing, checking and
// reading a file each have their file in checkpoint/.
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointExtra,
  type DataPosition,
  type JsonValue,
  type RestoredCheckpoint,
  type RestoreOptions,
  type RngState,
} from './checkpoint/format.js';
export { checkpointToSafetensors } from './checkpoint/write.js';
export { checkpointInfo, restoreCheckpoint } from './checkpoint/read.js';
