/**
 * `import … from 'unrolled/tasks'`: the built-in synthetic tasks, one namespace each
 * (`adding.addingBatch(...)`, `copy.lossSpec`, `reber`, `sine`), and `CORPUS`, the text the
 * character-model demos train on.
 * @module unrolled/tasks
 */
// Re-exports only.
export * from './data/tasks/index.js';
export { CORPUS } from './data/corpus.js';
