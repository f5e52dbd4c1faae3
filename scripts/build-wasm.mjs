// Builds every Wasm variant of the core from the one AssemblyScript source:
//   build/unrolled.simd.wasm    f32x4 kernels (default where WebAssembly.validate accepts SIMD)
//   build/unrolled.relaxed.wasm f32x4 with fused multiply-add (relaxed SIMD; fastest, not bit-reproducible)
//   build/unrolled.threads.wasm f32x4 + shared memory: large products split over a pool of workers
//   build/unrolled.scalar.wasm  the scalar twins only, no SIMD and no bulk memory (old engines, wasm2c)
//
// `npm test` and `npm start` build first, so a variant whose output is newer than every input
// (assembly/, asconfig.json, this script, the compiler's package.json) is not rebuilt; `--force`
// rebuilds all four.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
const force = process.argv.includes('--force');

const inputs = [
  ...readdirSync(join(root, 'assembly')).map((f) => join(root, 'assembly', f)),
  join(root, 'asconfig.json'),
  fileURLToPath(import.meta.url),
  join(root, 'node_modules/assemblyscript/package.json'),
];
const newestInput = Math.max(...inputs.map((f) => statSync(f).mtimeMs));

mkdirSync(join(root, 'build'), { recursive: true });
for (const target of ['simd', 'relaxed', 'threads', 'scalar']) {
  const out = join(root, `build/unrolled.${target}.wasm`);
  if (!force && existsSync(out) && statSync(out).mtimeMs > newestInput) continue;
  const r = spawnSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log(`built build/unrolled.${target}.wasm`);
}
