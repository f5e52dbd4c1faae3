/**
 * `import … from 'unrolled/safetensors'`: the safetensors format for any named tensors
 * (`encodeSafetensors`, `decodeSafetensors`). Under Node it also reads and writes files:
 * `saveSafetensors` and `readSafetensorsFile` (absent from the browser's `unrolled/safetensors`).
 * Models and checkpoints have their own functions in `unrolled` (`saveModel`, `saveCheckpoint`, …).
 * @module unrolled/safetensors
 */
// The safetensors entry under Node: the universal one plus files. Re-exports only.
export * from '../safetensors-entry.js';
export { saveSafetensors, readSafetensorsFile } from './files.js';
