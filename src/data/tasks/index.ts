// The built-in synthetic tasks, one namespace each: tasks.adding.addingBatch(...), tasks.copy.lossSpec, ...
export * as adding from './adding.js';
export * as copy from './copy.js';
export * as reber from './reber.js';
export * as sine from './sine.js';
export type { RngOrSeed } from './common.js';
