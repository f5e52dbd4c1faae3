// Making a model on a backend: 'wasm' (default, the core loaded once and shared) or 'js'.
import { JsKernels } from './backends/js.js';
import type { Kernels } from './backends/kernels.js';
import { WasmKernels } from './backends/wasm.js';
import { ConfigError, InvalidArgumentError, describe } from './errors.js';
import { CREATE_OPTION_KEYS, MODEL_CONFIG_KEYS, type ModelConfig } from './model/config.js';
import { resolveInit, type InitOption } from './model/init.js';
import { Model, type Floats } from './model/model.js';
import type { Core } from './runtime/core.js';
import { loadCore, type LoadOptions } from './runtime/load.js';
import { MAX_WASM_FLOATS, WasmMemory, type ArenaMemory, type Dtype } from './runtime/memory.js';
import { checkKeys, snapshotObject } from './validate/index.js';

export interface CreateModelOptions extends ModelConfig {
  /** 'wasm' (default) or 'js' (the pure TypeScript reference). */
  backend?: 'wasm' | 'js';
  /** js backend only: 'float64' for gradient checks. Default 'float32'. */
  dtype?: Dtype;
  /** How to initialise the weights (default: PyTorch's U(±1/√H)). */
  init?: InitOption;
  /** Wasm: which core and where it comes from. */
  core?: Core | LoadOptions;
}

const shared = new WeakMap<Core, WasmKernels>();

function wasmKernels(core: Core): WasmKernels {
  let k = shared.get(core);
  if (!k) {
    k = new WasmKernels(core);
    shared.set(core, k);
  }
  return k;
}

function isCore(c: unknown): c is Core {
  return typeof c === 'object' && c !== null && 'exports' in c && 'variant' in c;
}

/**
 * The options read once into plain data (the core is the library's own handle and passes
 * through), with unknown keys refused.
 */
function readOptions(options: unknown): CreateModelOptions {
  if (options === undefined) throw new ConfigError('options', 'an object', describe(options));
  const plain = snapshotObject('options', options, 'an object { cell, inputSize, hiddenSize, outputSize, ... }', { opaque: ['core'] })!;
  checkKeys('options', plain, [...MODEL_CONFIG_KEYS, ...CREATE_OPTION_KEYS]);
  // before any memory is reserved for the model
  resolveInit(plain.init as InitOption | undefined);
  return plain as unknown as CreateModelOptions;
}

/** The array type of a model's results, from its options: Float64Array only for `dtype: 'float64'`. */
export type FloatsOf<O> = O extends { dtype: infer D }
  ? 'float64' extends D
    ? 'float32' extends D
      ? Floats
      : Float64Array
    : Float32Array
  : Float32Array;

export async function createModel<O extends CreateModelOptions>(options: O): Promise<Model<FloatsOf<O>>>;
export async function createModel(options: CreateModelOptions): Promise<Model> {
  options = readOptions(options);
  const backend = options.backend ?? 'wasm';
  if (backend === 'js') return createModelSync(options);
  if (backend !== 'wasm') throw new ConfigError('options.backend', '"wasm" or "js"', describe(backend));
  const core = isCore(options.core) ? options.core : await loadCore(options.core ?? {});
  return createModelSync({ ...options, core });
}

/** Synchronous creation: the js backend, or the wasm backend with an already loaded core. */
export function createModelSync<O extends CreateModelOptions>(options: O): Model<FloatsOf<O>>;
export function createModelSync(options: CreateModelOptions): Model {
  options = readOptions(options);
  const backend = options.backend ?? 'wasm';
  let kernels: Kernels;
  if (backend === 'js') {
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new ConfigError('options.dtype', '"float32" or "float64"', describe(dtype));
    kernels = new JsKernels(dtype);
  } else if (backend === 'wasm') {
    if (options.dtype !== undefined && options.dtype !== 'float32')
      throw new ConfigError('options.dtype', '"float32" (the Wasm core computes in f32)', describe(options.dtype));
    if (!isCore(options.core))
      throw new ConfigError('options.core', 'a loaded core (await loadCore()) for synchronous creation', describe(options.core));
    kernels = wasmKernels(options.core);
  } else {
    throw new ConfigError('options.backend', '"wasm" or "js"', describe(backend));
  }
  return new Model(options, kernels);
}

/** How much memory a core (or a js-backend model) holds. */
export interface MemoryUsage {
  /** Bytes reserved by the models and trainers that live there (returned when they are disposed). */
  reservedBytes: number;
  /**
   * Bytes of the memory itself. Wasm memory grows when a reservation does not fit and never
   * shrinks: disposing every model returns its blocks to the core's allocator for reuse, but the
   * memory keeps its size until the core is dropped.
   */
  memoryBytes: number;
  /** The most the memory can hold: 4 GiB − 64 MiB for the 32-bit Wasm core, 2^31 floats for the js backend. */
  limitBytes: number;
}

/** The memory held by a loaded core (all models on it) or by a model's memory (its own on the js backend). */
export function memoryUsage(of: Core | Model): MemoryUsage {
  let memory: ArenaMemory;
  if (of instanceof Model) memory = of.kernels.memory;
  else if (isCore(of)) memory = wasmKernels(of).memory;
  else throw new InvalidArgumentError('of', 'a Core (loadCore()) or a Model', describe(of));
  const f = memory.f;
  const wasm = memory instanceof WasmMemory;
  return {
    reservedBytes: memory.reserved * f.BYTES_PER_ELEMENT,
    memoryBytes: f.buffer.byteLength,
    limitBytes: wasm ? MAX_WASM_FLOATS * 4 : 2 ** 31 * f.BYTES_PER_ELEMENT,
  };
}
