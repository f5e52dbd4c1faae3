// The pool's chunked products at the kernel level, on the threads builds. A product is cut into
// chunks that whichever thread asks first computes, so the main thread never waits for a worker
// that has not arrived: with a pool of n declared threads and no worker started at all, every
// product still completes (on the main thread) and gives the same bits as the unsplit product.
// With real workers the same holds (test/runtime/threads.test.ts trains through them).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_FILES, type CoreExports } from '../../src/runtime/core.js';

function threadsInstance(variant: 'threads' | 'threads-relaxed'): CoreExports {
  const module = new WebAssembly.Module(readFileSync(new URL(`../../build/${CORE_FILES[variant]}`, import.meta.url)));
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 1024, shared: true });
  const abort = (): never => {
    throw new Error('the Wasm core aborted');
  };
  return new WebAssembly.Instance(module, { env: { memory, abort } }).exports as unknown as CoreExports;
}

function singleInstance(variant: 'simd' | 'relaxed'): CoreExports {
  const module = new WebAssembly.Module(readFileSync(new URL(`../../build/${CORE_FILES[variant]}`, import.meta.url)));
  return new WebAssembly.Instance(module, { env: { abort: () => {} } }).exports as unknown as CoreExports;
}

// M×N×K products: column chunks (many panels), row chunks (few panels), tails that are not
// multiples of 4 or 8, transposed A (the weight gradients' form), and acc = 1
const SHAPES: Array<[number, number, number]> = [
  [32, 1024, 256],
  [13, 284, 300],
  [247, 37, 71],
  [301, 9, 129],
  [64, 384, 128],
];

describe('the pool splits a product into chunks any thread may take', () => {
  for (const variant of ['threads', 'threads-relaxed'] as const) {
    it(`${variant}: with workers declared but none running, products complete on the main thread, bit-identical to unsplit`, () => {
      const e = threadsInstance(variant);
      const raw = e.alloc(256 + 64) >>> 0;
      const control = (raw + 63) & ~63;
      let split = 0;
      for (const [M, N, K] of SHAPES) {
        for (const [transposed, acc] of [
          [false, 0],
          [true, 1],
        ] as const) {
          const a = e.alloc(M * K * 4),
            b = e.alloc(K * N * 4),
            bp = e.alloc(e.packed_size(K, N) * 4),
            c1 = e.alloc(M * N * 4),
            c2 = e.alloc(M * N * 4);
          const f = new Float32Array(e.memory.buffer);
          for (let i = 0; i < M * K; i++) f[a / 4 + i] = Math.sin(i * 0.37) * 0.5;
          for (let i = 0; i < K * N; i++) f[b / 4 + i] = Math.cos(i * 0.11) * 0.5;
          for (let i = 0; i < M * N; i++) f[c1 / 4 + i] = f[c2 / 4 + i] = Math.sin(i) * 0.1;
          e.pack_panels(K, N, b, N, 1, bp);
          const [sai, sak] = transposed ? [1, M] : [K, 1];
          // the reference: the whole product on this thread, one call
          e.gemm_packed_part(M, N, K, a, sai, sak, bp, c1, N, acc, 0, M, 0, N);
          // 3 threads declared, threshold 0: every product with 2 chunks or more is published
          e.pool_init(control, 3, 0);
          e.gemm_packed(M, N, K, a, sai, sak, bp, c2, N, acc);
          e.pool_init(control, 1, 0);
          const g = new Float32Array(e.memory.buffer);
          expect(Array.from(g.subarray(c2 / 4, c2 / 4 + M * N)), `${M}×${N}×${K} ${transposed ? 'Aᵀ' : 'A'} acc ${acc}`).toEqual(
            Array.from(g.subarray(c1 / 4, c1 / 4 + M * N)),
          );
          for (const p of [a, b, bp, c1, c2]) e.free(p);
          split++;
        }
      }
      // the job generation moved once per published product: the split path really ran
      expect(new Int32Array(e.memory.buffer)[control / 4]).toBe(split);
    });
  }

  for (const variant of ['threads', 'threads-relaxed'] as const) {
    it(`${variant}: head_backward's packing and products split into chunks the same way, bit-identical to one thread`, () => {
      const e = threadsInstance(variant);
      const control = ((e.alloc(256 + 64) >>> 0) + 63) & ~63;
      // odd sizes: 9 panels of h's 70 columns (the last one short), 4 groups of dy's 13 columns
      const R = 301,
        H = 70,
        O = 13;
      const h = e.alloc(R * H * 4),
        w = e.alloc(O * H * 4),
        wp = e.alloc(e.packed_size(O, H) * 4),
        dy = e.alloc(R * O * 4),
        pack = e.alloc(e.weight_grad_scratch_size(R, O, H) * 4);
      const outs = [0, 1].map(() => ({ dw: e.alloc(O * H * 4), db: e.alloc(O * 4), dh: e.alloc(R * H * 4) }));
      const f = new Float32Array(e.memory.buffer);
      for (let i = 0; i < R * H; i++) f[h / 4 + i] = Math.sin(i * 0.29);
      for (let i = 0; i < O * H; i++) f[w / 4 + i] = Math.cos(i * 0.13) * 0.3;
      for (let i = 0; i < R * O; i++) f[dy / 4 + i] = Math.sin(i * 0.71) * 0.2;
      e.pack_panels(O, H, w, H, 1, wp);
      const gen = () => new Int32Array(e.memory.buffer)[control / 4];
      // one thread, then 3 declared (none running) with threshold 0: every pack, sum and product is published
      e.head_backward(R, H, O, h, wp, dy, outs[0].dw, outs[0].db, outs[0].dh, pack);
      // the packed h of the first call must not serve the second
      new Float32Array(e.memory.buffer).fill(Number.NaN, pack / 4, pack / 4 + e.weight_grad_scratch_size(R, O, H));
      e.pool_init(control, 3, 0);
      const before = gen();
      e.head_backward(R, H, O, h, wp, dy, outs[1].dw, outs[1].db, outs[1].dh, pack);
      e.pool_init(control, 1, 0);
      // the packing of h's two 256-row blocks (one job), the weight product over both blocks
      // (2.1 chunks' worth of flops: one job of runs of dW's rows) and the δh product (2.1
      // chunks' worth); the column sums of dy's 13 columns (a sum over rows is split only into
      // runs of 16 4-column groups or more, one per thread) run on the caller: three jobs
      expect(gen() - before).toBe(3);
      const g = new Float32Array(e.memory.buffer);
      for (const [name, len] of [
        ['dw', O * H],
        ['db', O],
        ['dh', R * H],
      ] as const) {
        const [a, b] = outs.map((o) => Array.from(g.subarray(o[name] / 4, o[name] / 4 + len)));
        expect(b, name).toEqual(a);
      }
    });
  }
  for (const variant of ['threads', 'threads-relaxed'] as const) {
    it(`${variant}: Σg², the clip scale and every optimizer split into runs of fixed blocks, bit-identical to one thread and to the single-threaded build`, () => {
      const e = threadsInstance(variant);
      const single = singleInstance(variant === 'threads' ? 'simd' : 'relaxed');
      const control = ((e.alloc(256 + 64) >>> 0) + 63) & ~63;
      // an odd n: the 64 blocks end at multiples of 4 but the last, which has a scalar tail
      const n = 10007;
      const gen = () => new Int32Array(e.memory.buffer)[control / 4];
      type Run = (k: CoreExports, p: number, g: number, m: number, v: number) => unknown;
      const runs: Array<[string, Run]> = [
        ['sum_squares', (k, _p, g) => k.sum_squares(n, g)],
        ['scale_inplace', (k, _p, g) => k.scale_inplace(n, g, 0.731)],
        ['sgd_update', (k, p, g, m) => k.sgd_update(n, p, g, m, 0.05, 0.9, 0.1, 1, 1e-3, 0)],
        ['adam_update', (k, p, g, m, v) => k.adam_update(n, p, g, m, v, 0.9, 0.1, 0.999, 0.001, 1e-8, 0.01, 0.03, 1e-4, 0.999)],
        ['rmsprop_update', (k, p, g, m) => k.rmsprop_update(n, p, g, m, 0.01, 0.99, 1e-8, 1e-4)],
        ['adagrad_update', (k, p, g, m) => k.adagrad_update(n, p, g, m, 0.01, 1e-10, 1e-4)],
      ];
      for (const [name, call] of runs) {
        // the same arrays in three places: one thread of the threads build, its pool (3 threads
        // declared, none running, threshold 0: every call is published), the single-threaded build
        const results = [e, e, single].map((k, which) => {
          const p = k.alloc(n * 4),
            g = k.alloc(n * 4),
            m = k.alloc(n * 4),
            v = k.alloc(n * 4);
          const f = new Float32Array(k.memory.buffer);
          for (let i = 0; i < n; i++) {
            f[p / 4 + i] = Math.sin(i * 0.37);
            f[g / 4 + i] = Math.cos(i * 0.11) * 10 ** ((i % 7) - 3);
            f[m / 4 + i] = Math.sin(i * 0.05) * 0.01;
            f[v / 4 + i] = Math.cos(i * 0.07) ** 2 * 1e-3;
          }
          const before = gen();
          if (which === 1) e.pool_init(control, 3, 0);
          const value = call(k, p, g, m, v);
          if (which === 1) {
            e.pool_init(control, 1, 0);
            expect(gen() - before, `${name} was published`).toBe(1);
          }
          const h = new Float32Array(k.memory.buffer);
          const arrays = [p, g, m, v].map((a) => Array.from(h.subarray(a / 4, a / 4 + n)));
          for (const a of [p, g, m, v]) k.free(a);
          return { value, arrays };
        });
        expect(results[1], `${name}: split vs one thread`).toEqual(results[0]);
        expect(results[2], `${name}: threads build vs single-threaded build`).toEqual(results[0]);
      }
    });
  }
  for (const variant of ['threads', 'threads-relaxed'] as const) {
    it(`${variant}: weight_grad_acc as two jobs (every block of B packed, then runs of C's rows over every block), bit-identical to one thread`, () => {
      const e = threadsInstance(variant);
      const control = ((e.alloc(256 + 64) >>> 0) + 63) & ~63;
      const gen = () => new Int32Array(e.memory.buffer)[control / 4];
      // several 256-row blocks with a short last one, rows of C that are not a multiple of 4
      for (const [M, N, K] of [
        [70, 33, 600],
        [13, 40, 2600],
        [129, 64, 513],
      ]) {
        const lda = M + 3,
          ldb = N + 1;
        const a = e.alloc(K * lda * 4),
          b = e.alloc(K * ldb * 4),
          scratch = e.alloc(e.weight_grad_scratch_size(K, M, N) * 4),
          c = [e.alloc(M * N * 4), e.alloc(M * N * 4)];
        const f = new Float32Array(e.memory.buffer);
        for (let i = 0; i < K * lda; i++) f[a / 4 + i] = Math.sin(i * 0.37);
        for (let i = 0; i < K * ldb; i++) f[b / 4 + i] = Math.cos(i * 0.23);
        for (let i = 0; i < M * N; i++) f[c[0] / 4 + i] = f[c[1] / 4 + i] = Math.sin(i) * 0.1;
        e.weight_grad_acc(M, N, K, a, lda, b, ldb, c[0], N, scratch);
        new Float32Array(e.memory.buffer).fill(Number.NaN, scratch / 4, scratch / 4 + e.weight_grad_scratch_size(K, M, N));
        e.pool_init(control, 3, 0);
        const before = gen();
        e.weight_grad_acc(M, N, K, a, lda, b, ldb, c[1], N, scratch);
        e.pool_init(control, 1, 0);
        expect(gen() - before, `${M}×${N}×${K}: two jobs`).toBe(2);
        const g = new Float32Array(e.memory.buffer);
        const [one, split] = c.map((p) => Array.from(g.subarray(p / 4, p / 4 + M * N)));
        expect(split, `${M}×${N}×${K}`).toEqual(one);
        for (const p of [a, b, scratch, ...c]) e.free(p);
      }
    });
  }

  it('while every worker sleeps, only jobs worth a wake-up are published (B4, batch 1, keeps its workers asleep)', () => {
    const e = threadsInstance('threads');
    const control = ((e.alloc(256 + 64) >>> 0) + 63) & ~63;
    const ctl = () => new Int32Array(e.memory.buffer, control, 64);
    const product = (M: number, N: number, K: number): number => {
      const a = e.alloc(M * K * 4),
        bp = e.alloc(e.packed_size(K, N) * 4),
        c = e.alloc(M * N * 4);
      const before = ctl()[0];
      e.gemm_packed(M, N, K, a, K, 1, bp, c, N, 0);
      for (const p of [a, bp, c]) e.free(p);
      return ctl()[0] - before;
    };
    e.pool_init(control, 3, 1 << 20);
    // both workers asleep (pool_worker counts itself at control + 148 around its atomic.wait)
    ctl()[37] = 2;
    // B4's dW_hh product (2·512·128·25 = 3.3 Mflop): above minFlops, below a wake-up's worth
    expect(product(512, 128, 25)).toBe(0);
    expect(product(256, 256, 128)).toBe(1);
    // one worker still spinning: any product of minFlops or more is published
    ctl()[37] = 1;
    expect(product(512, 128, 25)).toBe(1);
    expect(product(64, 64, 64)).toBe(0); // below minFlops
    e.pool_init(control, 1, 1 << 20);
  });
});
