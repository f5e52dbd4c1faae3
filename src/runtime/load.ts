// Finding and instantiating the Wasm core, in any host. The default source is the .wasm file
// next to the package, found relative to this module (new URL(..., import.meta.url)), which
// browsers fetch and bundlers rewrite; Node's entry point swaps in a file-system reader.
// Callers may pass the bytes, a compiled module or a URL themselves.
import { BackendError, ConfigError, describe } from '../errors.js';
import { threadsSupported } from './threads.js';
import { instantiateCore, isThreadsVariant, pickVariant, type Core, type CoreVariant } from './core.js';

export type CoreSource = BufferSource | WebAssembly.Module | URL | string;

export interface LoadOptions {
  /**
   * 'auto' (default): relaxed SIMD, else SIMD, else scalar, as WebAssembly.validate allows (the
   * Node entry turns relaxed SIMD on in V8 where it is behind a flag). With `threads` > 1 the
   * shared-memory twin of the choice: 'threads-relaxed' or 'threads'.
   */
  variant?: CoreVariant | 'auto';
  /** Rule out the relaxed-SIMD cores, whose fused multiply-add may round differently per engine. */
  reproducible?: boolean;
  /**
   * Threads for the large products (the calling one included). More than 1 loads the threads
   * build (with FMA where `variant` allows it) with a pool of workers where the host allows
   * shared memory (Node; cross-origin isolated pages), and falls back to the single-threaded
   * core elsewhere. Default 1.
   */
  threads?: number;
  /** The module's bytes, a compiled module, or its URL. Default: the file shipped with the package. */
  source?: CoreSource;
}

export function defaultCoreUrl(variant: CoreVariant): URL {
  // literal URLs so that bundlers can see and copy every file
  switch (variant) {
    case 'simd':
      return new URL('../../build/unrolled.simd.wasm', import.meta.url);
    case 'relaxed':
      return new URL('../../build/unrolled.relaxed.wasm', import.meta.url);
    case 'threads':
      return new URL('../../build/unrolled.threads.wasm', import.meta.url);
    case 'threads-relaxed':
      return new URL('../../build/unrolled.threads-relaxed.wasm', import.meta.url);
    case 'scalar':
      return new URL('../../build/unrolled.scalar.wasm', import.meta.url);
  }
}

type Reader = (variant: CoreVariant) => Promise<BufferSource>;

let defaultReader: Reader = async (variant) => fetchBytes(defaultCoreUrl(variant));

/** Replaces how the default core file is read (the Node entry reads it from disk). */
export function setDefaultCoreReader(reader: Reader): void {
  defaultReader = reader;
}

async function fetchBytes(url: URL | string): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new BackendError(`could not fetch the Wasm core from ${String(url)}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new BackendError(`could not fetch the Wasm core from ${String(url)}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

const cache = new Map<CoreVariant, Promise<Core>>();

/**
 * The requested variant names the arithmetic (mul+add or fused), `threads` the build: with a
 * pool, simd → 'threads' and relaxed → 'threads-relaxed'; without one, the reverse. 'auto'
 * takes FMA wherever the engine validates relaxed SIMD and `reproducible` is not set, on one
 * thread and on several. The scalar build has no threaded twin.
 */
function chooseVariant(requested: CoreVariant | 'auto' | undefined, reproducible: boolean | undefined, pool: boolean): CoreVariant {
  const single = requested === 'threads' ? 'simd' : requested === 'threads-relaxed' ? 'relaxed' : requested;
  const picked = pickVariant(single, reproducible);
  if (!pool) return picked;
  if (picked === 'relaxed') return 'threads-relaxed';
  return picked === 'simd' ? 'threads' : picked;
}

/**
 * Loads and instantiates the core — once per variant for the default source and one thread;
 * a threaded core is a new instance with its own pool every call (dispose() stops it). A cached
 * core that was disposed is replaced by a new one.
 */
export function loadCore(options: LoadOptions = {}): Promise<Core> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    return Promise.reject(new ConfigError('options.threads', 'an integer in [1, 256]', describe(threads)));
  }
  let variant: CoreVariant;
  try {
    variant = chooseVariant(options.variant, options.reproducible, threads > 1 && threadsSupported());
  } catch (e) {
    return Promise.reject(e);
  }
  const { source } = options;
  if (source !== undefined) {
    if (source instanceof URL || typeof source === 'string') return fetchBytes(source).then((b) => instantiateCore(b, variant, threads));
    return instantiateCore(source, variant, threads);
  }
  if (isThreadsVariant(variant)) return defaultReader(variant).then((bytes) => instantiateCore(bytes, variant, threads));
  const cached = cache.get(variant);
  if (cached) {
    // a disposed core stays disposed: whoever asks next gets a fresh instance
    return cached.then((c) => {
      if (!c.isDisposed) return c;
      if (cache.get(variant) === cached) cache.delete(variant);
      return loadCore(options);
    });
  }
  const core = defaultReader(variant).then((bytes) => instantiateCore(bytes, variant));
  core.catch(() => cache.delete(variant));
  cache.set(variant, core);
  return core;
}
