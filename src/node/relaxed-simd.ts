// Node only: turns on relaxed SIMD in V8 before the first Wasm compile, so that loadCore()'s
// 'auto' picks the fused multiply-add builds. Node 20's V8 has relaxed SIMD behind
// --experimental-wasm-relaxed-simd; Node 22 and later run it unflagged, so the flag is set only
// when the probe does not validate yet (a flag an engine no longer knows is never passed).
// Flags are process-wide: worker_threads (the pool, the training worker) see it too.
// `reproducible: true` still selects the mul+add builds.
import { setFlagsFromString } from 'node:v8';
import { relaxedSimdSupported, simdSupported } from '../runtime/core.js';

if (simdSupported() && !relaxedSimdSupported()) {
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // a runtime without V8 flags (Bun, Deno's Node layer) keeps its own choice
  }
}
