// npm run bench:gemm — GFLOP/s of the core's packed product (mul+add and fused builds) and of
// the plain strided products it replaced (f32x4 and a scalar twin) at 64³ … 512³ and
// [32×256]·[256×1024] (one LSTM step's recurrent product at H=256, B=32), against the measured
// ceiling: a tight loop of independent f32x4 multiply-adds. FLOPs = 2·M·N·K per product.
//
// Every figure, the ceiling included, is timed the same way (bench/timing.ts): repetitions
// inside one timed block of ≥ 40 ms, best of 15 blocks. `--probe DIR` (or UNROLLED_GEMM_PROBE)
// names a reference GEMM probe outside the project, a directory whose run.sh prints JSON rows
// {"which", rows: [{shape, kernel, GFLOPs}]}: it is run right after ours and its figures are
// printed beside ours, build for build (same machine, minutes apart: compare the ratios).
// `--shape 32x1024x256` measures one shape.
//
// The strided products and the ceiling are not in the library's modules: they come from the
// bench build (build-bench/unrolled.bench.wasm, `npm run build:wasm`), the simd build plus
// assembly/bench.ts. The fused product is the library's relaxed build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// V8's relaxed-SIMD flag, as the package's Node entry sets it, before anything compiles
import '../dist/node/relaxed-simd.js';
import { relaxedSimdSupported } from '../dist/node/index.js';
import type { CoreExports } from '../dist/runtime/abi.generated.js';
import type { BenchExports } from './abi.generated.js';
import { measureCeilings } from './ceiling.js';
import { bestOf } from './timing.js';

const args = process.argv.slice(2);
const probeDir = args.includes('--probe') ? args[args.indexOf('--probe') + 1] : process.env.UNROLLED_GEMM_PROBE;
const onlyShape = args.includes('--shape') ? args[args.indexOf('--shape') + 1] : undefined;
const PROBE = probeDir ? resolve(probeDir, 'run.sh') : null;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function instantiate<E>(file: URL): E {
  if (!existsSync(file)) throw new Error(`${fileURLToPath(file)} is missing: run \`npm run build:wasm\` first`);
  const abort = (): never => {
    throw new Error('the Wasm module aborted');
  };
  return new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), { env: { abort } }).exports as unknown as E;
}

type Kernel =
  | 'gemm_packed'
  | 'gemm_packed (tn)'
  | 'gemm_packed fma'
  | 'gemm_nn_f32x4'
  | 'gemm_tn_f32x4'
  | 'gemm_nt_f32x4'
  | 'gemm_nn_scalar';
// gemm_packed is what the cells use (B packed once into K×8 panels; the packing is not timed,
// as for weights it happens once per update); "(tn)" reads A transposed, as weight gradients do;
// "fma" is the same product in the relaxed build.
const KERNELS: Kernel[] = [
  'gemm_packed',
  'gemm_packed (tn)',
  'gemm_packed fma',
  'gemm_nn_f32x4',
  'gemm_tn_f32x4',
  'gemm_nt_f32x4',
  'gemm_nn_scalar',
];
const SHAPES: Array<[number, number, number]> = (
  [
    [64, 64, 64],
    [128, 128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [32, 1024, 256],
  ] as Array<[number, number, number]>
).filter(([M, N, K]) => !onlyShape || onlyShape === `${M}x${N}x${K}`);

interface Row {
  kernel: string;
  M: number;
  N: number;
  K: number;
  gflops: number;
  pctCeiling: number;
  probeGflops: number | null;
}

/** A, B (packed) and C of an M×N×K product in a module's memory, filled deterministically. */
function operands(e: CoreExports, M: number, N: number, K: number): { a: number; b: number; bp: number; c: number; free(): void } {
  const a = e.alloc(M * K * 4),
    b = e.alloc(K * N * 4),
    c = e.alloc(M * N * 4),
    bp = e.alloc(e.packed_size(K, N) * 4);
  const f = new Float32Array(e.memory.buffer);
  for (let i = 0; i < M * K; i++) f[a / 4 + i] = Math.sin(i);
  for (let i = 0; i < K * N; i++) f[b / 4 + i] = Math.cos(i);
  e.pack_panels(K, N, b, N, 1, bp);
  return {
    a,
    b,
    bp,
    c,
    free: () => {
      for (const p of [a, b, bp, c]) e.free(p);
    },
  };
}

/** The probe's figures: GFLOP/s by `${which}:${kernel}` and shape "MxK.KxN"; null when absent or failed. */
function runProbe(): { byKey: Map<string, number>; note: string } | null {
  if (!PROBE) return null;
  if (!existsSync(PROBE)) throw new Error(`--probe: no run.sh in ${probeDir}`);
  process.stderr.write(`running the reference probe: sh ${PROBE} ${onlyShape ?? ''}\n`);
  const r = spawnSync('sh', [PROBE, ...(onlyShape ? [onlyShape] : [])], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
  const byKey = new Map<string, number>();
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('{"which"')) continue;
    const { rows } = JSON.parse(line) as { rows: Array<{ shape: string; kernel: string; GFLOPs: number }> };
    for (const row of rows) byKey.set(`${row.kernel} ${row.shape}`, row.GFLOPs);
  }
  if (!byKey.size) return { byKey, note: `the probe printed no results (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').pop()}` };
  return {
    byKey,
    note: `reference probe: sh ${PROBE}${onlyShape ? ` ${onlyShape}` : ''}, run right after ours (its own process; same timing rule)`,
  };
}

async function main(): Promise<void> {
  const e = instantiate<BenchExports>(new URL('../build-bench/unrolled.bench.wasm', import.meta.url));
  const fma = relaxedSimdSupported() ? instantiate<CoreExports>(new URL('../build/unrolled.relaxed.wasm', import.meta.url)) : null;

  // the ceilings: 12 independent chains of mul+add, and of fused multiply-add
  const ceilings = measureCeilings();
  const peak = ceilings.mulAdd ?? Number.NaN;
  const fusedPeak = ceilings.fused;
  console.log(`f32x4 ceilings: mul+add ${peak.toFixed(1)}, fused ${fusedPeak?.toFixed(1) ?? '—'} GFLOP/s`);

  const rows: Row[] = [];
  for (const [M, N, K] of SHAPES) {
    const o = operands(e, M, N, K);
    const f = fma ? operands(fma, M, N, K) : null;
    for (const kernel of KERNELS) {
      let call: () => void;
      if (kernel === 'gemm_nn_scalar' && M * N * K > 256 ** 3) continue;
      if (kernel === 'gemm_packed') call = () => e.gemm_packed(M, N, K, o.a, K, 1, o.bp, o.c, N, 0);
      else if (kernel === 'gemm_packed (tn)') call = () => e.gemm_packed(M, N, K, o.a, 1, M, o.bp, o.c, N, 0);
      else if (kernel === 'gemm_packed fma') {
        if (!fma || !f) continue;
        call = () => fma.gemm_packed(M, N, K, f.a, K, 1, f.bp, f.c, N, 0);
      } else {
        // operands shaped for each form: nn A[M,K]·B[K,N]; tn A[K,M]ᵀ·B[K,N]; nt A[M,K]·B[N,K]ᵀ
        const [lda, ldb] = kernel.startsWith('gemm_tn') ? [M, N] : kernel.startsWith('gemm_nt') ? [K, K] : [K, N];
        const k = kernel;
        call = () => e[k](M, N, K, o.a, lda, o.b, ldb, o.c, N, 0);
      }
      const gflops = (2 * M * N * K) / (bestOf(call).ms * 1e6);
      // the fused kernel against the fused ceiling, the others against mul+add
      const ceiling = kernel === 'gemm_packed fma' ? (fusedPeak ?? Number.NaN) : peak;
      rows.push({ kernel, M, N, K, gflops, pctCeiling: (100 * gflops) / ceiling, probeGflops: null });
      process.stderr.write(`${kernel} ${M}x${N}x${K}: ${gflops.toFixed(1)} GFLOP/s\n`);
    }
    o.free();
    f?.free();
  }

  const probe = runProbe();
  let probePeak: { simd?: number; relaxed?: number } = {};
  if (probe) {
    for (const r of rows) {
      const which = r.kernel === 'gemm_packed fma' ? 'relaxed' : r.kernel === 'gemm_packed' ? 'simd' : null;
      if (which) r.probeGflops = probe.byKey.get(`${which}:simd_packedB_4x8 ${r.M}x${r.K}.${r.K}x${r.N}`) ?? null;
    }
    probePeak = { simd: probe.byKey.get('simd:peak_muladd -'), relaxed: probe.byKey.get('relaxed:peak_madd -') };
  }

  const lines = [
    '| kernel | M×N×K | GFLOP/s | % of ceiling (fma: fused; others: mul+add) | probe 4×8 packed, same build | ours ÷ probe |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const p = r.probeGflops;
    lines.push(
      `| ${r.kernel} | ${r.M}×${r.N}×${r.K} | ${r.gflops.toFixed(1)} | ${r.pctCeiling.toFixed(0)} % | ${p === null ? '—' : p.toFixed(1)} | ${p === null ? '—' : (r.gflops / p).toFixed(2)} |`,
    );
  }
  const table = lines.join('\n');
  const foot = [
    `Ceilings (f32x4, 12 independent chains): mul+add ${peak.toFixed(1)}, fused ${fusedPeak?.toFixed(1) ?? '—'} GFLOP/s` +
      (probePeak.simd ? `; the probe's: ${probePeak.simd.toFixed(1)} mul+add, ${probePeak.relaxed?.toFixed(1) ?? '—'} fused.` : '.'),
    'Timing: repetitions inside one timed block of ≥ 40 ms, best of 15 blocks, for every kernel and the ceiling (bench/timing.ts).',
    fma ? 'gemm_packed fma: the relaxed build (f32x4.relaxed_madd).' : 'gemm_packed fma: skipped, this engine has no relaxed SIMD.',
    probe ? probe.note : 'Reference probe: none (--probe DIR to run one beside ours).',
    `Command: npm run bench:gemm${args.length ? ` -- ${args.join(' ')}` : ''} · Node ${process.version} · ${new Date().toISOString()}`,
  ];
  console.log(table);
  console.log('');
  for (const f of foot) console.log(`- ${f}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/gemm.md', `${table}\n\n${foot.map((f) => `- ${f}`).join('\n')}\n`);
  writeFileSync(
    'bench/results/gemm.json',
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, command: 'npm run bench:gemm', ceilingGflops: peak, fusedCeilingGflops: fusedPeak, probeCeiling: probePeak, rows }, null, 2)}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
