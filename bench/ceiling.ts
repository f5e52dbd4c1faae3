// The f32x4 ceilings the benchmarks compare against, timed like every kernel (bench/timing.ts):
// mul+add (two roundings, the simd build's arithmetic) from the bench build and fused
// multiply-add (relaxed_madd, the relaxed build's) from its relaxed twin, where the engine
// validates relaxed SIMD. A step on the relaxed core is compared with the fused ceiling, a step
// on the simd core with the mul+add one.
import { existsSync, readFileSync } from 'node:fs';
import type { BenchExports } from './abi.generated.js';
import { bestOf } from './timing.js';

export interface Ceilings {
  /** GFLOP/s of 12 independent f32x4 mul+add chains; null without the bench build */
  mulAdd: number | null;
  /** GFLOP/s of 12 independent relaxed_madd chains; null without relaxed SIMD or its build */
  fused: number | null;
}

function instance(file: URL): BenchExports | null {
  if (!existsSync(file)) return null;
  const bytes = readFileSync(file);
  if (!WebAssembly.validate(bytes)) return null;
  const abort = (): never => {
    throw new Error('the bench build aborted');
  };
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { abort } }).exports as unknown as BenchExports;
}

function gflops(e: BenchExports, kernel: 'peak_mul_add_f32x4' | 'peak_fused_f32x4', quick: boolean): number {
  // m = 0.9999 and d = 0.0001 (×4 lanes) in memory: the chains converge to 1, never overflow
  const consts = e.alloc(32);
  const f = new Float32Array(e.memory.buffer, consts, 8);
  f.fill(0.9999, 0, 4);
  f.fill(0.0001, 4, 8);
  const iters = 200_000;
  const ms = bestOf(() => e[kernel](iters, consts), quick ? { minMs: 5, rounds: 3 } : {}).ms;
  const result = (iters * e.peak_flops_per_round()) / (ms * 1e6);
  e.free(consts);
  return result;
}

/** Measures both ceilings in this process (quick: 3 short rounds, for smoke runs). */
export function measureCeilings(quick = false): Ceilings {
  const plain = instance(new URL('../build-bench/unrolled.bench.wasm', import.meta.url));
  const relaxed = instance(new URL('../build-bench/unrolled.bench-relaxed.wasm', import.meta.url));
  return {
    mulAdd: plain ? gflops(plain, 'peak_mul_add_f32x4', quick) : null,
    fused: relaxed ? gflops(relaxed, 'peak_fused_f32x4', quick) : null,
  };
}
