// A pool of threads (the threads build: shared memory, one instance of this module per worker)
// that splits the large products of the unroll. The main instance publishes one job at a time
// in a control block, works on its own share and spins until the workers report theirs done;
// each worker sits in pool_worker(), spinning briefly and then sleeping on the job counter.
// A product is split by panels of 8 columns (or by rows when it has too few columns), so every
// output element is computed by one thread in the single-threaded order: results are
// bit-identical to the single-threaded build.
//
// Control block (i32 slots, 64 bytes apart to keep them on separate cache lines):
//   [0] job generation   [64] shares done in this generation   [128] stop flag
//   [192..] the job: M, N, K, a, sai, sak, bp, c, ldc, acc, byRows, parts
import { gemm_packed_part } from "./gemm";

const GEN: usize = 0;
const DONE: usize = 64;
const STOP: usize = 128;
const JOB: usize = 192;
// Bytes of the control block the host allocates (zeroed) for pool_init.
export const POOL_CONTROL_BYTES: i32 = 256;

// Spin iterations before a worker sleeps on the generation counter.
const SPIN: i32 = 20000;

// The main instance's view of the pool (globals are per instance).
let ctrl: usize = 0;
let threads: i32 = 1;
// below this many flops (2·M·N·K) a product runs on the calling thread alone
let threshold: f64 = 1048576;

// Registers the control block (POOL_CONTROL_BYTES, zeroed) and the number of threads, the
// calling one included; 1 (or a build without threads) runs every product on the caller.
export function pool_init(control: usize, nthreads: i32, minFlops: f64): void {
  ctrl = control;
  threads = ASC_FEATURE_THREADS ? max(1, nthreads) : 1;
  threshold = minFlops;
}

// Tells every worker to leave pool_worker (they return to their host).
export function pool_stop(control: usize): void {
  threads = 1;
  if (ASC_FEATURE_THREADS) {
    atomic.store<i32>(control + STOP, 1);
    atomic.add<i32>(control + GEN, 1);
    atomic.notify(control + GEN, 0x7fffffff);
  }
}

// A worker's loop: runs share `index` (1 … n−1) of every job until pool_stop. The control
// block starts at generation 0, so a worker that starts after the first job still runs it.
export function pool_worker(control: usize, index: i32): void {
  if (ASC_FEATURE_THREADS) {
    let seen = 0;
    while (true) {
      let g = atomic.load<i32>(control + GEN);
      let spins = 0;
      while (g == seen) {
        if (++spins > SPIN) {
          atomic.wait<i32>(control + GEN, seen, -1);
          spins = 0;
        }
        g = atomic.load<i32>(control + GEN);
      }
      seen = g;
      if (atomic.load<i32>(control + STOP)) return;
      run_share(control, index);
      atomic.add<i32>(control + DONE, 1);
    }
  }
}

function run_share(control: usize, index: i32): void {
  const j = control + JOB;
  const M = load<i32>(j), N = load<i32>(j, 4), K = load<i32>(j, 8);
  const a = <usize>load<u32>(j, 12), sai = load<i32>(j, 16), sak = load<i32>(j, 20);
  const bp = <usize>load<u32>(j, 24), c = <usize>load<u32>(j, 28), ldc = load<i32>(j, 32), acc = load<i32>(j, 36);
  const byRows = load<i32>(j, 40), parts = load<i32>(j, 44);
  if (byRows) {
    // rows in multiples of 4 so that every share keeps the 4-row micro-kernel
    const strips = (M + 3) >> 2;
    const m0 = min(M, ((strips * index) / parts) * 4), m1 = min(M, ((strips * (index + 1)) / parts) * 4);
    if (m1 > m0) gemm_packed_part(M, N, K, a, sai, sak, bp, c, ldc, acc, m0, m1, 0, N);
  } else {
    const panels = (N + 7) >> 3;
    const n0 = ((panels * index) / parts) * 8, n1 = min(N, ((panels * (index + 1)) / parts) * 8);
    if (n1 > n0) gemm_packed_part(M, N, K, a, sai, sak, bp, c, ldc, acc, 0, M, n0, n1);
  }
}

// Shape: C[M,N] (+)= a(i,k)·Bp[K,N], a(i,k) at A + (i*sai + k*sak)*4, Bp packed by pack_panels:
// the product every cell, head and weight gradient uses. In the threads build, after
// pool_init(), a product of at least minFlops (2·M·N·K) is split over the pool's threads, with
// results bit-identical to one thread; everywhere else it runs on the calling thread.
export function gemm_packed(M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, bp: usize, c: usize, ldc: i32, acc: i32): void {
  if (ASC_FEATURE_THREADS) {
    const parts = threads;
    const byRows = ((N + 7) >> 3) < 2 * parts ? 1 : 0;
    if (parts > 1 && 2.0 * <f64>M * <f64>N * <f64>K >= threshold && !(byRows && M < 8 * parts)) {
      const j = ctrl + JOB;
      store<i32>(j, M); store<i32>(j, N, 4); store<i32>(j, K, 8);
      store<u32>(j, <u32>a, 12); store<i32>(j, sai, 16); store<i32>(j, sak, 20);
      store<u32>(j, <u32>bp, 24); store<u32>(j, <u32>c, 28); store<i32>(j, ldc, 32); store<i32>(j, acc, 36);
      store<i32>(j, byRows, 40); store<i32>(j, parts, 44);
      atomic.store<i32>(ctrl + DONE, 0);
      atomic.add<i32>(ctrl + GEN, 1); // publishes the job (sequentially consistent)
      atomic.notify(ctrl + GEN, parts - 1);
      run_share(ctrl, 0);
      // the other shares take about as long as ours: spin, but not forever (a worker that died
      // would otherwise hang the caller): ~2^34 polls are many seconds on any machine
      let polls: i64 = 0;
      while (atomic.load<i32>(ctrl + DONE) < parts - 1) {
        if (++polls > (<i64>1 << 34)) abort("a pool worker stopped answering");
      }
      return;
    }
  }
  gemm_packed_part(M, N, K, a, sai, sak, bp, c, ldc, acc, 0, M, 0, N);
}
