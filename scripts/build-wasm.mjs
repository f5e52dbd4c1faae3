// Builds every Wasm variant of the core from the one AssemblyScript source:
//   build/unrolled.simd.wasm    f32x4 kernels (default where WebAssembly.validate accepts SIMD)
//   build/unrolled.relaxed.wasm f32x4 with fused multiply-add (relaxed SIMD; fastest, not bit-reproducible)
//   build/unrolled.threads.wasm f32x4 + shared memory: large products split over a pool of workers
//   build/unrolled.scalar.wasm  the scalar twins only, no SIMD and no bulk memory (old engines, wasm2c)
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync('build', { recursive: true });
const asc = new URL('../node_modules/assemblyscript/bin/asc.js', import.meta.url).pathname;
for (const target of ['simd', 'relaxed', 'threads', 'scalar']) {
  const r = spawnSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log(`built build/unrolled.${target}.wasm`);
}
