/**
 * `import … from 'unrolled/node'` (also what `'unrolled'` resolves to under Node): the universal
 * API plus model and checkpoint files and `worker_threads`.
 * @module unrolled/node
 */
// The package's entry point under Node: the universal API, with the core read from disk.
import './load-node.js';
// relaxed-SIMD FMA by default: V8's flag, set before the first compile
import './relaxed-simd.js';

export * from '../index.js';
export { saveModel, loadModel } from './files.js';
// training checkpoints on disk (atomic saves)
export { saveCheckpoint, loadCheckpoint, removeStaleTempFiles } from './checkpoint-files.js';
export { createNodeTrainingWorker, type NodeTrainingWorkerOptions } from '../worker/node-client.js';
