// A pool of threads (the threads builds: shared memory, one instance of this module per worker)
// that splits the large products of the unroll. The main instance publishes one job at a time
// in a control block, cut into chunks (runs of 8-column panels, or of 4-row strips when the
// product has too few columns); every thread, the main one included, takes chunks from a shared
// ticket counter until none are left, and the main thread then waits for the chunks still
// running. Each worker sits in pool_worker(), spinning briefly and then sleeping on the job
// counter. Every output element is computed by one thread in the single-threaded order: results
// are bit-identical to the single-threaded build, however the chunks fall.
//
// The thread policy, per product: split when 2·M·N·K ≥ minFlops (2^20 from the library: about
// 25 µs of work on one core, well above the few hundred ns of publishing a job) and the product
// has at least 2 chunks; otherwise run it on the calling thread. Taking chunks instead of fixed
// shares is what keeps a split from ever costing much more than one thread: a worker that is
// asleep (its wake-up takes tens of µs), descheduled by another process, or simply slower, only
// takes the chunks that are still left when it arrives, and the main thread never waits for
// more than the one chunk a worker is running. Chunks hold at least 2^18 flops (so that taking
// one costs nothing next to it) and number at most 8 per thread (so that the last one is short).
//
// Control block (slots 64 bytes apart to keep them on separate cache lines):
//   [0] i32 job generation   [64] i32 chunks finished in this job   [128] i32 stop flag
//   [136] i32 ticket: chunk count of the current job (high 16 bits), next chunk (low 16 bits;
//         it passes the count by at most one per thread, and counts stay ≤ 8 × 256 threads)
//   [192..] the job: M, N, K, a, sai, sak, bp, c, ldc, acc, byRows
// A thread that takes a ticket below the count holds a chunk of the job in progress, which
// cannot finish without it: the job's fields (written before the ticket was reset) are stable
// until it reports the chunk done. A ticket at or past the count means the job has no work left.
import { gemm_packed_part } from "./gemm";

const GEN: usize = 0;
const DONE: usize = 64;
const STOP: usize = 128;
const TICKET: usize = 136;
const JOB: usize = 192;
// Bytes of the control block the host allocates (zeroed) for pool_init.
export const POOL_CONTROL_BYTES: i32 = 256;

// Spin iterations before a worker sleeps on the generation counter.
const SPIN: i32 = 20000;
// Chunk sizing (see the policy above).
const CHUNKS_PER_THREAD: i32 = 8;
const MIN_CHUNK_FLOPS: f64 = 262144;

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

// A worker's loop: takes chunks of every job until pool_stop. `index` (1 … n−1) names the
// worker for its host; chunks go to whoever asks first. The control block starts at generation
// 0 with no chunks, so a worker that starts after the first job takes what is left of it.
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
      run_chunks(control);
    }
  }
}

// Takes chunks of the current job until its tickets run out.
function run_chunks(control: usize): void {
  while (true) {
    const t = atomic.add<i32>(control + TICKET, 1);
    const chunk = t & 0xffff, chunks = t >>> 16;
    if (chunk >= chunks) return;
    run_chunk(control, chunk, chunks);
    atomic.add<i32>(control + DONE, 1);
  }
}

function run_chunk(control: usize, chunk: i32, chunks: i32): void {
  const j = control + JOB;
  const M = load<i32>(j), N = load<i32>(j, 4), K = load<i32>(j, 8);
  const a = <usize>load<u32>(j, 12), sai = load<i32>(j, 16), sak = load<i32>(j, 20);
  const bp = <usize>load<u32>(j, 24), c = <usize>load<u32>(j, 28), ldc = load<i32>(j, 32), acc = load<i32>(j, 36);
  if (load<i32>(j, 40)) {
    // rows in multiples of 4 so that every chunk keeps the 4-row micro-kernel
    const strips = (M + 3) >> 2;
    const m0 = min(M, ((strips * chunk) / chunks) * 4), m1 = min(M, ((strips * (chunk + 1)) / chunks) * 4);
    if (m1 > m0) gemm_packed_part(M, N, K, a, sai, sak, bp, c, ldc, acc, m0, m1, 0, N);
  } else {
    const panels = (N + 7) >> 3;
    const n0 = ((panels * chunk) / chunks) * 8, n1 = min(N, ((panels * (chunk + 1)) / chunks) * 8);
    if (n1 > n0) gemm_packed_part(M, N, K, a, sai, sak, bp, c, ldc, acc, 0, M, n0, n1);
  }
}

// Shape: C[M,N] (+)= a(i,k)·Bp[K,N], a(i,k) at A + (i*sai + k*sak)*4, Bp packed by pack_panels:
// the product every cell, head and weight gradient uses. In the threads build, after
// pool_init(), a product of at least minFlops (2·M·N·K) is split over the pool's threads, with
// results bit-identical to one thread; everywhere else it runs on the calling thread.
export function gemm_packed(M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, bp: usize, c: usize, ldc: i32, acc: i32): void {
  if (ASC_FEATURE_THREADS) {
    const flops = 2.0 * <f64>M * <f64>N * <f64>K;
    if (threads > 1 && flops >= threshold) {
      const panels = (N + 7) >> 3, strips = (M + 3) >> 2;
      const byRows = panels < 2 * threads ? 1 : 0;
      const chunks = min(byRows ? strips : panels, <i32>min(<f64>(CHUNKS_PER_THREAD * threads), flops / MIN_CHUNK_FLOPS));
      if (chunks >= 2) {
        const j = ctrl + JOB;
        store<i32>(j, M); store<i32>(j, N, 4); store<i32>(j, K, 8);
        store<u32>(j, <u32>a, 12); store<i32>(j, sai, 16); store<i32>(j, sak, 20);
        store<u32>(j, <u32>bp, 24); store<u32>(j, <u32>c, 28); store<i32>(j, ldc, 32); store<i32>(j, acc, 36);
        store<i32>(j, byRows, 40);
        atomic.store<i32>(ctrl + DONE, 0);
        atomic.store<i32>(ctrl + TICKET, chunks << 16); // opens the job's chunks (sequentially consistent)
        atomic.add<i32>(ctrl + GEN, 1); // wakes the spinning workers
        atomic.notify(ctrl + GEN, threads - 1); // and the sleeping ones
        run_chunks(ctrl);
        // the chunks still running take at most one chunk's time: spin, but not forever (a
        // worker that died would otherwise hang the caller): ~2^34 polls are many seconds
        let polls: i64 = 0;
        while (atomic.load<i32>(ctrl + DONE) < chunks) {
          if (++polls > (<i64>1 << 34)) abort("a pool worker stopped answering");
        }
        return;
      }
    }
  }
  gemm_packed_part(M, N, K, a, sai, sak, bp, c, ldc, acc, 0, M, 0, N);
}
