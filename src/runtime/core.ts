// The Wasm core: its exports' type, feature detection and instantiation. No Node built-in and
// no DOM here: bytes come from load.ts (URL / fetch) or from the Node entry (file system).
import { BackendError } from '../errors.js';
import type { CoreExports } from './abi.generated.js';
import { Lifetime } from './lifetime.js';
import { startPool } from './threads.js';

// The exports' signatures are generated from assembly/index.ts (scripts/gen-abi.mjs).
export type { CoreExports } from './abi.generated.js';

/**
 * 'simd': f32x4 kernels with separate multiply and add (bit-reproducible across engines);
 * 'relaxed': f32x4 with relaxed-SIMD fused multiply-add (fastest; results may differ in the
 * last bits between engines); 'threads': 'simd' on shared memory with a pool of workers
 * splitting the large products (bit-identical to 'simd'); 'threads-relaxed': 'relaxed' on
 * shared memory with the same pool (bit-identical to 'relaxed' on the same engine);
 * 'scalar': no SIMD (old engines, wasm2c).
 */
export type CoreVariant = 'simd' | 'relaxed' | 'threads' | 'threads-relaxed' | 'scalar';

/** The builds on shared memory with a pool of workers. */
export function isThreadsVariant(variant: CoreVariant): boolean {
  return variant === 'threads' || variant === 'threads-relaxed';
}

export interface Core {
  readonly exports: CoreExports;
  readonly variant: CoreVariant;
  /** Threads computing each large product (1 unless variant 'threads' or 'threads-relaxed'). */
  readonly threads: number;
  /**
   * Ends the core: stops the pool's workers (threads build), frees every model and trainer made
   * on it, and from then on each of their calls throws a DisposedError (code DISPOSED).
   * Idempotent. A disposed default core is dropped from loadCore's cache: the next loadCore()
   * instantiates a fresh one.
   */
  dispose(): void;
  /** True once dispose() was called. */
  readonly isDisposed: boolean;
  /** @internal the root of the lifetimes of the models on this core */
  readonly lifetime?: Lifetime;
}

// The smallest module that uses a v128 instruction: (func (result v128) (v128.const i32x4 0 0 0 0))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 11,
]);

// The same with f32x4.relaxed_madd on three zero vectors.
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 133, 2, 11,
]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** True when this engine runs Wasm fixed-width SIMD. */
export function simdSupported(): boolean {
  return validates(SIMD_PROBE);
}

/** True when this engine runs relaxed SIMD (Chromium; Node only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  return validates(RELAXED_PROBE);
}

/**
 * The variant to load: 'auto' (default) takes the fastest the engine validates — relaxed,
 * then simd, then scalar — except that `reproducible` rules out relaxed. A named variant is
 * taken as named, or refused when the engine lacks it. (loadCore with `threads` > 1 maps the
 * answer onto the shared-memory builds: simd → 'threads', relaxed → 'threads-relaxed'.)
 */
export function pickVariant(requested: CoreVariant | 'auto' = 'auto', reproducible = false): CoreVariant {
  if (requested === 'scalar') return 'scalar';
  const simd = simdSupported();
  const relaxed = simd && relaxedSimdSupported();
  if (!simd && requested !== 'auto') throw new BackendError(`variant "${requested}" was requested but this engine has no Wasm SIMD`);
  if (requested === 'relaxed' || requested === 'threads-relaxed') {
    if (reproducible)
      throw new BackendError(`variant "${requested}" is not bit-reproducible; drop one of variant "${requested}" and reproducible`);
    if (!relaxed) throw new BackendError(`variant "${requested}" was requested but this engine has no relaxed SIMD`);
    return requested;
  }
  if (requested === 'simd' || requested === 'threads') return requested;
  if (relaxed && !reproducible) return 'relaxed';
  return simd ? 'simd' : 'scalar';
}

export const CORE_FILES: Record<CoreVariant, string> = {
  simd: 'unrolled.simd.wasm',
  relaxed: 'unrolled.relaxed.wasm',
  threads: 'unrolled.threads.wasm',
  'threads-relaxed': 'unrolled.threads-relaxed.wasm',
  scalar: 'unrolled.scalar.wasm',
};

const imports = {
  env: {
    abort(_msg: number, _file: number, line: number, col: number): never {
      throw new BackendError(`the Wasm core aborted at ${line}:${col}`);
    },
  },
};

/** Products below this many flops stay on the calling thread (the hand-off costs a few µs). */
export const POOL_MIN_FLOPS = 1 << 20;

export async function instantiateCore(source: BufferSource | WebAssembly.Module, variant: CoreVariant, threads = 1): Promise<Core> {
  const module =
    source instanceof WebAssembly.Module
      ? source
      : await WebAssembly.compile(source).catch((e: unknown) => {
          throw compileError(variant, e);
        });
  if (!isThreadsVariant(variant) || threads <= 1) return singleThreaded(module, variant);
  const core = instantiateModule(module, variant);
  const pool = await startPool(core.exports, module, core.memory!, threads, POOL_MIN_FLOPS);
  return makeCore(core.exports, variant, pool.threads, core.memory, () => pool.stop());
}

/** Synchronous instantiation (single-threaded: a pool needs to wait for its workers). */
export function instantiateCoreSync(source: BufferSource | WebAssembly.Module, variant: CoreVariant): Core {
  let module: WebAssembly.Module;
  try {
    module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  } catch (e) {
    throw compileError(variant, e);
  }
  return singleThreaded(module, variant);
}

function compileError(variant: CoreVariant, e: unknown): BackendError {
  return new BackendError(`could not compile the ${variant} Wasm core: ${(e as Error).message}`);
}

function singleThreaded(module: WebAssembly.Module, variant: CoreVariant): Core {
  const core = instantiateModule(module, variant);
  return makeCore(core.exports, variant, 1, core.memory, null);
}

/** A core whose dispose() ends the lifetime every model on it chains to. */
function makeCore(
  exports: CoreExports,
  variant: CoreVariant,
  threads: number,
  memory: WebAssembly.Memory | undefined,
  stopPool: (() => void) | null,
): Core & { memory?: WebAssembly.Memory } {
  const lifetime = new Lifetime('the core', null, stopPool);
  return {
    exports,
    variant,
    threads,
    memory,
    lifetime,
    get isDisposed() {
      return lifetime.isDisposed;
    },
    dispose() {
      lifetime.end();
    },
  };
}

function instantiateModule(module: WebAssembly.Module, variant: CoreVariant): { exports: CoreExports; memory?: WebAssembly.Memory } {
  const shared = isThreadsVariant(variant);
  // the threads build imports its memory: shared, with the 4 GiB maximum declared up front
  const memory = shared ? new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }) : undefined;
  let exports: CoreExports;
  try {
    const instance = new WebAssembly.Instance(module, shared ? { env: { ...imports.env, memory: memory! } } : imports);
    exports = instance.exports as unknown as CoreExports;
  } catch (e) {
    throw new BackendError(`could not instantiate the ${variant} Wasm core: ${(e as Error).message}`);
  }
  return { exports, memory };
}
