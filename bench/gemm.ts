// npm run bench:gemm — GFLOP/s of the core's packed product and of the plain strided products it
// replaced (f32x4 and a scalar twin) at 64³ … 512³ and [32×256]·[256×1024] (one LSTM step's
// recurrent product at H=256, B=32), against the measured ceiling: a tight loop of independent
// f32x4 multiply-adds. FLOPs = 2·M·N·K per product. The strided products and the ceiling are not
// in the library's modules: they come from the bench build (build-bench/unrolled.bench.wasm,
// `npm run build:wasm`), the simd build plus assembly/bench.ts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import type { BenchExports } from './abi.generated.js';

async function loadBench(): Promise<BenchExports> {
  const file = new URL('../build-bench/unrolled.bench.wasm', import.meta.url);
  if (!existsSync(file)) throw new Error('build-bench/unrolled.bench.wasm is missing: run `npm run build:wasm` first');
  const abort = (): never => {
    throw new Error('the bench build aborted');
  };
  const { instance } = await WebAssembly.instantiate(readFileSync(file), { env: { abort } });
  return instance.exports as unknown as BenchExports;
}

type Kernel = 'gemm_packed' | 'gemm_packed (tn)' | 'gemm_nn_f32x4' | 'gemm_tn_f32x4' | 'gemm_nt_f32x4' | 'gemm_nn_scalar';
// gemm_packed is what the cells use (B packed once into K×8 panels; the packing is not timed,
// as for weights it happens once per update); "(tn)" reads A transposed, as weight gradients do.
const KERNELS: Kernel[] = ['gemm_packed', 'gemm_packed (tn)', 'gemm_nn_f32x4', 'gemm_tn_f32x4', 'gemm_nt_f32x4', 'gemm_nn_scalar'];
const SHAPES: Array<[number, number, number]> = [
  [64, 64, 64],
  [128, 128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [32, 1024, 256],
];

async function main(): Promise<void> {
  const e = await loadBench();
  const rows: Array<{ kernel: string; M: number; N: number; K: number; gflops: number; pctPeak: number }> = [];

  // the ceiling: 10 independent multiply-add chains, 80 flops per iteration. Many short calls, best of
  // them: V8 tiers a Wasm function up to TurboFan between calls, never during one.
  const iters = 200_000;
  for (let i = 0; i < 50; i++) e.peak_mul_add_f32x4(iters, 1);
  let peak = 0;
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    e.peak_mul_add_f32x4(iters, 1);
    peak = Math.max(peak, (iters * 80) / ((performance.now() - t0) * 1e6));
  }
  console.log(`f32x4 mul+add ceiling: ${peak.toFixed(1)} GFLOP/s`);

  for (const [M, N, K] of SHAPES) {
    const a = e.alloc(M * K * 4),
      b = e.alloc(K * N * 4),
      c = e.alloc(M * N * 4);
    const bp = e.alloc(e.packed_size(K, N) * 4);
    const f = new Float32Array(e.memory.buffer);
    for (let i = 0; i < M * K; i++) f[a / 4 + i] = Math.sin(i);
    for (let i = 0; i < K * N; i++) f[b / 4 + i] = Math.cos(i);
    e.pack_panels(K, N, b, N, 1, bp);
    const bench = new Bench({ time: 400, warmupTime: 100 });
    for (const kernel of KERNELS) {
      if (kernel === 'gemm_nn_scalar' && M * N * K > 256 ** 3) continue;
      if (kernel === 'gemm_packed') {
        bench.add(`${kernel} ${M}x${N}x${K}`, () => e.gemm_packed(M, N, K, a, K, 1, bp, c, N, 0));
        continue;
      }
      if (kernel === 'gemm_packed (tn)') {
        bench.add(`gemm_packed(tn) ${M}x${N}x${K}`, () => e.gemm_packed(M, N, K, a, 1, M, bp, c, N, 0));
        continue;
      }
      // operands shaped for each form: nn A[M,K]·B[K,N]; tn A[K,M]ᵀ·B[K,N]; nt A[M,K]·B[N,K]ᵀ
      const [lda, ldb] = kernel.startsWith('gemm_tn') ? [M, N] : kernel.startsWith('gemm_nt') ? [K, K] : [K, N];
      bench.add(`${kernel} ${M}x${N}x${K}`, () => e[kernel](M, N, K, a, lda, b, ldb, c, N, 0));
    }
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result as unknown as { latency: { p50?: number; mean: number } };
      const ms = r.latency.p50 ?? r.latency.mean;
      const gflops = (2 * M * N * K) / (ms * 1e6);
      rows.push({ kernel: task.name.split(' ')[0], M, N, K, gflops, pctPeak: (100 * gflops) / peak });
    }
    e.free(a);
    e.free(b);
    e.free(c);
    e.free(bp);
  }
  const lines = ['| kernel | M×N×K | GFLOP/s | % of ceiling |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.kernel} | ${r.M}×${r.N}×${r.K} | ${r.gflops.toFixed(1)} | ${r.pctPeak.toFixed(0)} % |`);
  const table = lines.join('\n');
  console.log(table);
  mkdirSync('bench/results', { recursive: true });
  const meta = { date: new Date().toISOString(), node: process.version, command: 'npm run bench:gemm', ceilingGflops: peak };
  writeFileSync(
    'bench/results/gemm.md',
    `${table}\n\nceiling (f32x4 mul+add): ${peak.toFixed(1)} GFLOP/s · ${meta.command} · Node ${meta.node} · ${meta.date}\n`,
  );
  writeFileSync('bench/results/gemm.json', `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
