// A pool of threads (the threads builds: shared memory, one instance of this module per worker)
// that splits the work of a step in one of two ways. The main instance publishes one job at a
// time in a control block, cut into chunks; every thread, the main one included, takes chunks
// from a shared ticket counter until none are left, and the main thread then waits for the
// chunks still running. Each worker sits in pool_worker(), spinning briefly and then sleeping on
// the job counter; while every worker sleeps, only jobs of at least WAKE_FLOPS are published
// (smaller ones run on the calling thread). Every output element is computed by one thread in the single-threaded order:
// results are bit-identical to the single-threaded build, however the chunks fall.
//
// The kinds of job:
// - Rows (run_rows): a cell's forward or its BPTT over blocks of batch rows. The sequences of a
//   batch are independent in both (the recurrence couples time steps, never two rows), so each
//   thread runs the whole time loop for its block, its own per-step products included
//   (gemm_packed_part on its rows), with no barrier per time step: one job per layer and phase.
//   Used when the batch has at least ROWS_PER_THREAD rows per thread; blocks are multiples of 4
//   rows (the micro-kernel's height), one per thread.
// - Product (gemm_packed): one large matrix product, cut into runs of 8-column panels, or of
//   4-row strips when it has too few columns. Used for every product outside a rows job (the
//   weight gradients, the head) and for the per-step products of a batch too small to split by
//   rows. Split when 2·M·N·K ≥ minFlops (2^20 from the library: about 25 µs of work on one
//   core, well above the few hundred ns of publishing a job) and the product has at least 2
//   chunks; otherwise it runs on the calling thread. Taking chunks instead of fixed shares is
//   what keeps a split from ever costing much more than one thread: a worker that is asleep (its
//   wake-up takes tens of µs), descheduled by another process, or simply slower, only takes the
//   chunks that are still left when it arrives, and the main thread never waits for more than
//   the one chunk a worker is running. Chunks hold at least 2^18 flops (so that taking one costs
//   nothing next to it) and number at most 8 per thread (so that the last one is short).
// - Loss (run_loss): softmax_xent or mse, whose rows are summed in fixed blocks (loss.ts), a run
//   of whole blocks per thread.
// - Packing and column sums (pool_pack_panels, pool_col_sums_acc): runs of 8-column panels, or
//   of 4-column groups, each thread copying or summing its columns over every row in row order.
//   Split when the operand has at least minFlops/8 elements (a copied or added element costs
//   about as much as 8 flops of a product). The same rule splits:
// - the token scatter into dW_ih (pool_scatter_tokens): runs of dW_ih's rows, each thread
//   scanning every id in row order and adding to its own rows only;
// - the packing of every block of a weight gradient's B (pool_pack_blocks): runs of the blocks'
//   panels; the weight gradient's product is then one job of runs of C's 4-row strips
//   (pool_weight_grad_rows, split as a product), each thread transposing its own rows of A;
// - Σ g², the clip scale and the optimizers (param_job, run_params; optim.ts): runs of the
//   arena's fixed blocks (Σ g² is a sum of block sums in block order in every build).
//
// Control block (slots 64 bytes apart to keep them on separate cache lines):
//   [0] i32 job generation   [64] i32 chunks finished in this job   [128] i32 stop flag
//   [136] i32 ticket: chunk count of the current job (high 16 bits), next chunk (low 16 bits;
//         it passes the count by at most one per thread, and counts stay ≤ 8 × 256 threads)
//   [140] i32 ids refused by the workers' rows (status.ts counts per instance)
//   [144] i32 progress: a rows job's threads count their time steps here (the caller's
//         watchdog, in run_job, tells a slow block from a dead worker by it)
//   [148] i32 workers asleep (in atomic.wait, or about to be): see WAKE_FLOPS
//   [192..] the job: M, N, K, a, sai, sak, bp, c, ldc, acc, byRows, kind (0 product, 1 rows,
//           2 loss, 3 pack, 4 column sums, 5 token scatter, 6 parameters, 7 block packs, 8
//           weight-gradient rows), then for rows: desc, phase, b0, b1; the other kinds
//           have their own fields from 0: loss (kind of loss, R, O, pred, targets, weights,
//           scale, grad), pack (K, N, src, sk, sn, dst), column sums (M, N, a, out, out2), 5 token
//           scatter (GH, I, TB, x, dA, dwih), 6 parameters (optim.ts writes them), 7 block
//           packs (K, N, b, ldb, bp), 8 weight-gradient rows (M, N, K, a, lda, bp, c, ldc, at)
// A thread that takes a ticket below the count holds a chunk of the job in progress, which
// cannot finish without it: the job's fields (written before the ticket was reset) are stable
// until it reports the chunk done. A ticket at or past the count means the job has no work left.
import { gemm_packed_part, pack_panels_part, col_sums_acc_part, KC } from "./gemm";
import { add_id_errors, take_id_errors } from "./status";
import { run_phase } from "./phases";
import { loss_blocks, LOSS_BLOCKS } from "./loss";
import { scatter_tokens_part } from "./cell_common";
import { pack_blocks_part, weight_grad_rows_part } from "./weight_grad";
import { params_part, PARAM_BLOCKS } from "./optim";

const GEN: usize = 0;
const DONE: usize = 64;
const STOP: usize = 128;
const TICKET: usize = 136;
const REFUSED: usize = 140;
const PROGRESS: usize = 144;
const ASLEEP: usize = 148;
const JOB: usize = 192;
// Bytes of the control block the host allocates (zeroed) for pool_init.
export const POOL_CONTROL_BYTES: i32 = 256;

// Spin iterations before a worker sleeps on the generation counter: about 0.35 ms (measured from
// an empty job's notify to the worker's sleep: 0.35 ms, against 0.036 ms with 20000), longer
// than the serial stretches between two jobs of a step (bias rows, the host's glue), so that a
// worker stays awake through a step (a sleeping one needs a futex wake, and tens of µs, per job)
// and falls asleep between steps of a model too small to split (see WAKE_FLOPS).
const SPIN: i32 = 262144;
// Work (in flops of a product; a copied or added float counts 8, a parameter update 32, a loss
// element 256: about their cost on one core) that a job must hold to wake
// workers that are all asleep: about 150 µs on one core, several wake-ups (a futex wake and a
// thread scheduled on the other core take tens of µs, more in a VM). Smaller jobs then run on the
// calling thread, with nothing published: a model whose every job is small (B4: LSTM H128, T25,
// B = 1, whose only split job was dW_hh's product of 3.3 Mflop, 2·512·128·25) runs exactly as on
// one thread, with its workers asleep, instead of paying a wake-up and the transfer of its cache
// lines for each job. Workers that are still spinning (a job just ended) take any job of at
// least minFlops.
const WAKE_FLOPS: f64 = 8388608;
// Chunk sizing (see the policy above).
const CHUNKS_PER_THREAD: i32 = 8;
const MIN_CHUNK_FLOPS: f64 = 262144;
// A rows job needs this many batch rows per thread (two 4-row strips each); smaller batches
// split their per-step products instead.
const ROWS_PER_THREAD: i32 = 8;
// A loss job needs this many elements (R·O) per thread: a cross-entropy row costs about 15 ns
// per element on one core (B3's 2048×10 logits: 0.3 ms), so 4096 elements are ~60 µs of work.
const LOSS_ELEMENTS_PER_THREAD: f64 = 4096;

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
    ctrl = control; // this instance's own global: beat() needs it
    let seen = 0;
    while (true) {
      let g = atomic.load<i32>(control + GEN);
      let spins = 0;
      while (g == seen) {
        if (++spins > SPIN) {
          atomic.add<i32>(control + ASLEEP, 1);
          atomic.wait<i32>(control + GEN, seen, -1);
          atomic.sub<i32>(control + ASLEEP, 1);
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

// Ids refused on this instance count on the main one (run_job's caller collects them).
function count_refused(control: usize): void {
  const n = take_id_errors();
  if (n) atomic.add<i32>(control + REFUSED, n);
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
  const kind = load<i32>(j, 44);
  if (kind == 3) {
    const N = load<i32>(j, 4), panels = (N + 7) >> 3;
    const p0 = (panels * chunk) / chunks, p1 = (panels * (chunk + 1)) / chunks;
    pack_panels_part(load<i32>(j), N, <usize>load<u32>(j, 8), load<i32>(j, 12), load<i32>(j, 16), <usize>load<u32>(j, 20), p0, p1);
    return;
  }
  if (kind == 4) {
    const N = load<i32>(j, 4), quads = (N + 3) >> 2;
    const n0 = ((quads * chunk) / chunks) * 4, n1 = min(N, ((quads * (chunk + 1)) / chunks) * 4);
    col_sums_acc_part(load<i32>(j), N, <usize>load<u32>(j, 8), <usize>load<u32>(j, 12), n0, n1, <usize>load<u32>(j, 16));
    return;
  }
  if (kind == 8) {
    // a weight gradient's rows: a run of C's 4-row strips over every block
    const M = load<i32>(j), strips = (M + 3) >> 2;
    const m0 = min(M, ((strips * chunk) / chunks) * 4), m1 = min(M, ((strips * (chunk + 1)) / chunks) * 4);
    if (m1 > m0) {
      weight_grad_rows_part(
        M, load<i32>(j, 4), load<i32>(j, 8), <usize>load<u32>(j, 12), load<i32>(j, 16), <usize>load<u32>(j, 20),
        <usize>load<u32>(j, 24), load<i32>(j, 28), <usize>load<u32>(j, 32), m0, m1,
      );
    }
    return;
  }
  if (kind == 7) {
    // every block of a weight gradient's B packed: a run of the blocks' panels
    const K = load<i32>(j), N = load<i32>(j, 4), units = ((K + KC - 1) / KC) * ((N + 7) >> 3);
    pack_blocks_part(K, N, <usize>load<u32>(j, 8), load<i32>(j, 12), <usize>load<u32>(j, 16), (units * chunk) / chunks, (units * (chunk + 1)) / chunks);
    return;
  }
  if (kind == 6) {
    // a parameter job (optim.ts): a run of the arena's fixed blocks
    params_part(j, (PARAM_BLOCKS * chunk) / chunks, (PARAM_BLOCKS * (chunk + 1)) / chunks);
    return;
  }
  if (kind == 5) {
    // token scatter: a run of dW_ih's rows (multiples of 4)
    const GH = load<i32>(j), quads = (GH + 3) >> 2;
    const g0 = ((quads * chunk) / chunks) * 4, g1 = min(GH, ((quads * (chunk + 1)) / chunks) * 4);
    scatter_tokens_part(GH, load<i32>(j, 4), load<i32>(j, 8), <usize>load<u32>(j, 12), <usize>load<u32>(j, 16), <usize>load<u32>(j, 20), g0, g1);
    count_refused(control);
    return;
  }
  if (kind == 2) {
    // a loss job: blocks [k0, k1) of the loss's fixed blocks
    loss_blocks(
      load<i32>(j), load<i32>(j, 4), load<i32>(j, 8), <usize>load<u32>(j, 12), <usize>load<u32>(j, 16), <usize>load<u32>(j, 20),
      <usize>load<u32>(j, 32), load<f32>(j, 24), <usize>load<u32>(j, 28), (LOSS_BLOCKS * chunk) / chunks, (LOSS_BLOCKS * (chunk + 1)) / chunks,
    );
    count_refused(control);
    return;
  }
  if (kind == 1) {
    // a rows job: block `chunk` of the range's 4-row strips
    const b0 = load<i32>(j, 56), b1 = load<i32>(j, 60), strips = (b1 - b0 + 3) >> 2;
    const r0 = min(b1, b0 + ((strips * chunk) / chunks) * 4), r1 = min(b1, b0 + ((strips * (chunk + 1)) / chunks) * 4);
    if (r1 > r0) run_phase(load<i32>(j, 52), <usize>load<u32>(j, 48), r0, r1, true);
    count_refused(control);
    return;
  }
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
    if (worth(flops)) {
      const panels = (N + 7) >> 3, strips = (M + 3) >> 2;
      // runs of panels when there are enough for every chunk; else runs of strips when there are
      // more of them (each chunk then reads its own rows of A and all of the narrow Bp, instead
      // of all of A: B1's head, 2048×65, has 9 panels, which 2 threads share as 5 and 4)
      const byRows = panels < CHUNKS_PER_THREAD * threads && strips > panels ? 1 : 0;
      const chunks = min(byRows ? strips : panels, <i32>min(<f64>(CHUNKS_PER_THREAD * threads), flops / MIN_CHUNK_FLOPS));
      if (chunks >= 2) {
        const j = ctrl + JOB;
        store<i32>(j, M); store<i32>(j, N, 4); store<i32>(j, K, 8);
        store<u32>(j, <u32>a, 12); store<i32>(j, sai, 16); store<i32>(j, sak, 20);
        store<u32>(j, <u32>bp, 24); store<u32>(j, <u32>c, 28); store<i32>(j, ldc, 32); store<i32>(j, acc, 36);
        store<i32>(j, byRows, 40);
        store<i32>(j, 0, 44);
        run_job(chunks);
        return;
      }
    }
  }
  gemm_packed_part(M, N, K, a, sai, sak, bp, c, ldc, acc, 0, M, 0, N);
}

// Whether a job of `flops` (product flops or equivalent) is worth publishing: at least minFlops,
// and WAKE_FLOPS when every worker is asleep.
function worth(flops: f64): bool {
  return threads > 1 && flops >= threshold && (flops >= WAKE_FLOPS || atomic.load<i32>(ctrl + ASLEEP) < threads - 1);
}

// Publishes the job written at JOB as `chunks` chunks, takes chunks itself, and returns when
// every chunk is done.
function run_job(chunks: i32): void {
  atomic.store<i32>(ctrl + DONE, 0);
  atomic.store<i32>(ctrl + TICKET, chunks << 16); // opens the job's chunks (sequentially consistent)
  atomic.add<i32>(ctrl + GEN, 1); // wakes the spinning workers
  atomic.notify(ctrl + GEN, threads - 1); // and the sleeping ones
  run_chunks(ctrl);
  // the chunks still running take at most one chunk's time: spin, but not forever (a worker
  // that died would otherwise hang the caller). ~2^34 polls are many seconds: a product chunk
  // is far shorter, and a rows block (a whole layer phase, as long as the model makes it)
  // counts its time steps, so only a block with no step done in that time is given up on.
  let polls: i64 = 0;
  let progress = atomic.load<i32>(ctrl + PROGRESS);
  while (atomic.load<i32>(ctrl + DONE) < chunks) {
    if (++polls > (<i64>1 << 34)) {
      const now = atomic.load<i32>(ctrl + PROGRESS);
      if (now == progress) abort("a pool worker stopped answering");
      progress = now;
      polls = 0;
    }
  }
}

// One time step of a rows block done (own: the calling thread runs a block of a rows job):
// the caller's watchdog sees the job move.
// @ts-ignore: decorator
@inline export function beat(own: bool): void {
  if (ASC_FEATURE_THREADS) {
    if (own) atomic.add<i32>(ctrl + PROGRESS, 1);
  }
}

// Runs `phase` (phases.ts) of the layer descriptor at `desc` for batch rows [b0, b1): in the
// threads build with at least ROWS_PER_THREAD rows per thread, as a rows job, one block of
// 4-row strips per thread, each running its block's products itself; otherwise on the calling
// thread, whose per-step products the pool may still split (gemm_rows).
export function run_rows(phase: i32, desc: usize, b0: i32, b1: i32): void {
  if (ASC_FEATURE_THREADS) {
    if (threads > 1 && b1 - b0 >= ROWS_PER_THREAD * threads) {
      const j = ctrl + JOB;
      store<i32>(j, 1, 44);
      store<u32>(j, <u32>desc, 48); store<i32>(j, phase, 52); store<i32>(j, b0, 56); store<i32>(j, b1, 60);
      run_job(threads);
      add_id_errors(atomic.xchg<i32>(ctrl + REFUSED, 0));
      return;
    }
  }
  run_phase(phase, desc, b0, b1, false);
}

// Computes every fixed block of a loss (loss.ts loss_blocks; arguments as softmax_xent or mse):
// in the threads build with at least LOSS_ELEMENTS_PER_THREAD elements per thread, as a loss
// job, a run of whole blocks per thread; otherwise on the calling thread.
export function run_loss(
  kind: i32, R: i32, O: i32, pred: usize, targets: usize, weights: usize, class_weights: usize, scale: f32, grad: usize,
): void {
  if (ASC_FEATURE_THREADS) {
    if (threads > 1 && <f64>R * <f64>O >= LOSS_ELEMENTS_PER_THREAD * <f64>threads && worth(<f64>R * <f64>O * 256)) {
      const j = ctrl + JOB;
      store<i32>(j, kind); store<i32>(j, R, 4); store<i32>(j, O, 8);
      store<u32>(j, <u32>pred, 12); store<u32>(j, <u32>targets, 16); store<u32>(j, <u32>weights, 20);
      store<f32>(j, scale, 24); store<u32>(j, <u32>grad, 28); store<u32>(j, <u32>class_weights, 32);
      store<i32>(j, 2, 44);
      run_job(min(threads, LOSS_BLOCKS));
      add_id_errors(atomic.xchg<i32>(ctrl + REFUSED, 0));
      return;
    }
  }
  loss_blocks(kind, R, O, pred, targets, weights, class_weights, scale, grad, 0, LOSS_BLOCKS);
}

// Shape: rows [m0, m1) of the product C[M,N] (+)= a(i,k)·Bp[K,N] (arguments as gemm_packed).
// own: the calling thread owns these rows in a rows job and computes them alone
// (gemm_packed_part); otherwise they are one product that the pool may split. The same bits
// either way.
export function gemm_rows(
  own: bool, M: i32, N: i32, K: i32, a: usize, sai: i32, sak: i32, bp: usize, c: usize, ldc: i32, acc: i32, m0: i32, m1: i32,
): void {
  if (own) gemm_packed_part(M, N, K, a, sai, sak, bp, c, ldc, acc, m0, m1, 0, N);
  else gemm_packed(m1 - m0, N, K, a + <usize>m0 * <usize>sai * 4, sai, sak, bp, c + <usize>m0 * <usize>ldc * 4, ldc, acc);
}

// The chunks of a pack or column-sums job over `units` column runs of `elements` elements in
// all: 0 (run it on the calling thread) below minFlops/8 elements or 2 chunks. wide: a job that
// walks every row of a wide row-major operand (column sums, the token scatter) gets one chunk
// per thread of at least 16 4-column groups, the widest runs of each row: with 16 runs of 64
// columns, B1's column sums (1024 columns: rows 4 KB apart) took 2.5 times the CPU time of the
// unsplit sum (profile), each thread reading 256 bytes of a row before jumping to the next.
function copy_chunks(units: i32, elements: f64, wide: bool = false): i32 {
  if (!worth(elements * 8)) return 0;
  const chunks = wide ? min(threads, units / 16) : min(units, CHUNKS_PER_THREAD * threads);
  return chunks >= 2 ? chunks : 0;
}

// pack_panels (gemm.ts), its panels split over the pool's threads when the operand is large.
export function pool_pack_panels(K: i32, N: i32, src: usize, sk: i32, sn: i32, dst: usize): void {
  if (ASC_FEATURE_THREADS) {
    const chunks = copy_chunks((N + 7) >> 3, <f64>K * <f64>N);
    if (chunks) {
      const j = ctrl + JOB;
      store<i32>(j, K); store<i32>(j, N, 4); store<u32>(j, <u32>src, 8); store<i32>(j, sk, 12); store<i32>(j, sn, 16);
      store<u32>(j, <u32>dst, 20); store<i32>(j, 3, 44);
      run_job(chunks);
      return;
    }
  }
  pack_panels_part(K, N, src, sk, sn, dst, 0, (N + 7) >> 3);
}

// col_sums_acc (gemm.ts), its columns split over the pool's threads when A is large; out2 (0 =
// none) receives the same sums (col_sums_acc_part).
export function pool_col_sums_acc(M: i32, N: i32, a: usize, out: usize, out2: usize = 0): void {
  if (ASC_FEATURE_THREADS) {
    const chunks = copy_chunks((N + 3) >> 2, <f64>M * <f64>N, true);
    if (chunks) {
      const j = ctrl + JOB;
      store<i32>(j, M); store<i32>(j, N, 4); store<u32>(j, <u32>a, 8); store<u32>(j, <u32>out, 12); store<u32>(j, <u32>out2, 16);
      store<i32>(j, 4, 44);
      run_job(chunks);
      return;
    }
  }
  col_sums_acc_part(M, N, a, out, 0, N, out2);
}

// The token scatter into dW_ih (cell_common.ts scatter_tokens_part), its rows split over the
// pool's threads when δA is large: each thread scans every id and adds to its own rows only.
export function pool_scatter_tokens(GH: i32, I: i32, TB: i32, x: usize, dA: usize, dwih: usize): void {
  if (ASC_FEATURE_THREADS) {
    const chunks = copy_chunks((GH + 3) >> 2, <f64>TB * <f64>GH, true);
    if (chunks) {
      const j = ctrl + JOB;
      store<i32>(j, GH); store<i32>(j, I, 4); store<i32>(j, TB, 8);
      store<u32>(j, <u32>x, 12); store<u32>(j, <u32>dA, 16); store<u32>(j, <u32>dwih, 20); store<i32>(j, 5, 44);
      run_job(chunks);
      add_id_errors(atomic.xchg<i32>(ctrl + REFUSED, 0));
      return;
    }
  }
  scatter_tokens_part(GH, I, TB, x, dA, dwih, 0, GH);
}

// Every KC-row block of a weight gradient's B packed (weight_grad.ts pack_blocks_part), runs of
// the blocks' panels over the pool's threads when B is large.
export function pool_pack_blocks(K: i32, N: i32, b: usize, ldb: i32, bp: usize): void {
  const units = ((K + KC - 1) / KC) * ((N + 7) >> 3);
  if (ASC_FEATURE_THREADS) {
    const chunks = copy_chunks(units, <f64>K * <f64>N);
    if (chunks) {
      const j = ctrl + JOB;
      store<i32>(j, K); store<i32>(j, N, 4); store<u32>(j, <u32>b, 8); store<i32>(j, ldb, 12); store<u32>(j, <u32>bp, 16);
      store<i32>(j, 7, 44);
      run_job(chunks);
      return;
    }
  }
  pack_blocks_part(K, N, b, ldb, bp, 0, units);
}

// The product of a weight gradient once B is packed (weight_grad.ts weight_grad_rows_part): runs
// of C's 4-row strips over the pool's threads when it is large (2·M·N·K flops as a product),
// each thread transposing its own rows of every block of A.
export function pool_weight_grad_rows(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, c: usize, ldc: i32, at: usize): void {
  if (ASC_FEATURE_THREADS) {
    const flops = 2.0 * <f64>M * <f64>N * <f64>K;
    if (worth(flops)) {
      // at least 4 strips per chunk where there are 8 or more: every chunk reads all of the
      // packed B (B1's head: 2 MB for 65 rows of dW, 17 strips), so 16 one-strip chunks would
      // stream it 16 times
      const strips = (M + 3) >> 2, most = max(min(strips, 2), strips >> 2);
      const chunks = min(most, <i32>min(<f64>(CHUNKS_PER_THREAD * threads), flops / MIN_CHUNK_FLOPS));
      if (chunks >= 2) {
        const j = ctrl + JOB;
        store<i32>(j, M); store<i32>(j, N, 4); store<i32>(j, K, 8); store<u32>(j, <u32>a, 12); store<i32>(j, lda, 16);
        store<u32>(j, <u32>bp, 20); store<u32>(j, <u32>c, 24); store<i32>(j, ldc, 28); store<u32>(j, <u32>at, 32);
        store<i32>(j, 8, 44);
        run_job(chunks);
        return;
      }
    }
  }
  weight_grad_rows_part(M, N, K, a, lda, bp, c, ldc, at, 0, M);
}

// The job a parameter kernel (optim.ts) writes its fields into, or 0 when n floats run on the
// calling thread: below minFlops/32 floats (an update costs about 32 flops of a product per
// float), below WAKE_FLOPS/32 with every worker asleep, or without a pool.
export function param_job(n: i32): usize {
  return worth(<f64>n * 32) ? ctrl + JOB : 0;
}

// Runs the parameter job written at param_job() as runs of whole blocks over the pool.
export function run_params(): void {
  store<i32>(ctrl + JOB, 6, 44);
  run_job(min(PARAM_BLOCKS, CHUNKS_PER_THREAD * threads));
}
