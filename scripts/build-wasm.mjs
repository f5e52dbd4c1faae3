// Builds every Wasm variant of the core from the one AssemblyScript source:
//   build/unrolled.simd.wasm    f32x4 kernels (default where WebAssembly.validate accepts SIMD)
//   build/unrolled.relaxed.wasm f32x4 with fused multiply-add (relaxed SIMD; fastest, not bit-reproducible)
//   build/unrolled.threads.wasm f32x4 + shared memory: large products split over a pool of workers
//   build/unrolled.threads-relaxed.wasm  the threads build with fused multiply-add (relaxed SIMD)
//   build/unrolled.scalar.wasm  the scalar twins only, no SIMD and no bulk memory (old engines, wasm2c)
// and, outside build/ so that the package never ships it, the bench build:
//   build-bench/unrolled.bench.wasm  the simd build plus the strided GEMMs and the f32x4 ceilings
//                                    (assembly/bench.ts) that bench/gemm.ts and bench/peers.ts measure
//   build-bench/unrolled.bench-relaxed.wasm  the same with relaxed SIMD (the fused ceiling)
// Then scripts/gen-abi.mjs rewrites the ABI's derived files (TypeScript types, include/unrolled.h,
// the export table of docs/abi.md) from the assembly sources, if they changed (with CI set in the
// environment it only checks them, and fails when they differ).
//
// `npm test` and `npm start` build first, so a variant whose output is newer than every input
// (assembly/, asconfig.json, this script, the compiler's package.json) is not rebuilt; `--force`
// rebuilds all six.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

const targets = [
  ...['simd', 'relaxed', 'threads', 'threads-relaxed', 'scalar'].map((target) => ({
    target,
    out: `build/unrolled.${target}.wasm`,
    entry: [],
  })),
  // asconfig.json's entry (assembly/index.ts) plus the bench entry, which re-exports it
  { target: 'bench', out: 'build-bench/unrolled.bench.wasm', entry: ['assembly/bench.ts'] },
  { target: 'bench-relaxed', out: 'build-bench/unrolled.bench-relaxed.wasm', entry: ['assembly/bench.ts'] },
];
for (const { target, out, entry } of targets) {
  const file = join(root, out);
  if (!force && existsSync(file) && statSync(file).mtimeMs > newestInput) continue;
  mkdirSync(dirname(file), { recursive: true });
  const r = spawnSync(process.execPath, [asc, ...entry, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  console.log(`built ${out}`);
}

// Under CI the committed files must already match (a fresh clone would otherwise regenerate them
// and the drift test would compare the generator with itself): check instead of writing.
const genArgs = process.env.CI ? ['--check'] : [];
const gen = spawnSync(process.execPath, [join(root, 'scripts/gen-abi.mjs'), ...genArgs], { cwd: root, stdio: 'inherit' });
if (gen.status !== 0) process.exit(gen.status ?? 1);
