/**
 * `import … from 'unrolled/node'` (also what `'unrolled'` resolves to under Node): the universal
 * API plus files (models, checkpoints, sequence files, text streams) and `worker_threads`.
 * @module unrolled/node
 */
// The package's entry point under Node: the universal API, with the core read from disk.
import './load-node.js';
// relaxed-SIMD FMA by default: V8's flag, set before the first compile
import './relaxed-simd.js';

export * from '../index.js';
export { saveSafetensors, readSafetensorsFile, saveModel, loadModel } from './files.js';
// training checkpoints on disk (atomic saves)
export { saveCheckpoint, loadCheckpoint, removeStaleTempFiles } from './checkpoint-files.js';
export { createNodeTrainingWorker, type NodeTrainingWorkerOptions } from '../worker/node-client.js';
// numeric sequence files (CSV, JSON Lines): in memory, or indexed and streamed for fit
export { readSequenceFile, openSequenceFile, type SequenceFileOptions } from './data-files.js';
// text corpora of any size, streamed from disk
export { openTextFile, fileSource } from './text-stream.js';
