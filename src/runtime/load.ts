// Finding and instantiating the Wasm core, in any host. The default source is the .wasm file
// next to the package, found relative to this module (new URL(..., import.meta.url)), which
// browsers fetch and bundlers rewrite; Node's entry point swaps in a file-system reader.
// Callers may pass the bytes, a compiled module or a URL themselves.
import { BackendError } from '../errors.js';
import { instantiateCore, pickVariant, type Core, type CoreVariant } from './core.js';

export type CoreSource = BufferSource | WebAssembly.Module | URL | string;

export interface LoadOptions {
  /** 'auto' (default): relaxed SIMD, else SIMD, else scalar, as WebAssembly.validate allows. */
  variant?: CoreVariant | 'auto';
  /** Rule out the relaxed-SIMD core, whose fused multiply-add may round differently per engine. */
  reproducible?: boolean;
  /** The module's bytes, a compiled module, or its URL. Default: the file shipped with the package. */
  source?: CoreSource;
}

export function defaultCoreUrl(variant: CoreVariant): URL {
  // literal URLs so that bundlers can see and copy every file
  switch (variant) {
    case 'simd': return new URL('../../build/unrolled.simd.wasm', import.meta.url);
    case 'relaxed': return new URL('../../build/unrolled.relaxed.wasm', import.meta.url);
    case 'scalar': return new URL('../../build/unrolled.scalar.wasm', import.meta.url);
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

/** Loads (once per variant, for the default source) and instantiates the core. */
export function loadCore(options: LoadOptions = {}): Promise<Core> {
  const variant = pickVariant(options.variant, options.reproducible);
  const { source } = options;
  if (source !== undefined) {
    if (source instanceof URL || typeof source === 'string') return fetchBytes(source).then((b) => instantiateCore(b, variant));
    return instantiateCore(source, variant);
  }
  let core = cache.get(variant);
  if (!core) {
    core = defaultReader(variant).then((bytes) => instantiateCore(bytes, variant));
    core.catch(() => cache.delete(variant));
    cache.set(variant, core);
  }
  return core;
}
