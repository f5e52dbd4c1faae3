// Types for smoke-task.js (plain JavaScript so that the browser page can import it unchanged),
// so that `tsc -p tsconfig.json` type-checks chromium.test.ts without allowJs.
import type { createModel, loadCore, simdSupported, Trainer } from '../../src/index.js';

export interface SmokeLib {
  createModel: typeof createModel;
  Trainer: typeof Trainer;
  loadCore: typeof loadCore;
  simdSupported: typeof simdSupported;
}

export interface SmokeResult {
  /** The loss of every step, before its update. */
  losses: number[];
  /** FNV-1a (32-bit, hex) over the bytes of every parameter, in parameterNames() order. */
  hash: string;
  parameterNames: string[];
  /** Total number of f32 weights hashed. */
  parameterCount: number;
  /** simdSupported() in this engine. */
  simd: boolean;
  /** The variant of the default core the model runs on. */
  variant: 'simd' | 'scalar';
  /** Wall time of the training loop. */
  ms: number;
}

export declare const ALPHABET: string;
export declare const TEXT: string;
export declare const SMOKE: Readonly<{
  cell: 'lstm';
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  input: 'tokens';
  seed: number;
  T: number;
  B: number;
  steps: number;
  lr: number;
  dataSeed: number;
}>;

export declare function makeBatches(
  steps?: number,
  T?: number,
  B?: number,
  seed?: number,
): { x: Int32Array; y: Int32Array; T: number; B: number }[];
export declare function fnv1a32(arrays: ArrayBufferView[]): string;
export declare function runSmokeTask(lib: SmokeLib): Promise<SmokeResult>;
