// weight_grad_acc (C += Aᵀ·B in 256-row blocks of A transposed into scratch) against the product
// it replaces, gemm_packed on A read at its row stride: bit-identical in every build, over tails
// of the 4×4 transposes, of the 4×8 tiles and of the 256-row blocks; and against a float64 sum.
import { describe, expect, it } from 'vitest';
import type { CoreExports } from '../../src/runtime/core.js';
import { loadCore } from '../../src/runtime/load.js';
import { lcg, scalarCore, simdCore } from '../helpers.js';

const relaxedCore = () => loadCore({ variant: 'relaxed' });

for (const [name, load] of [
  ['simd', simdCore],
  ['relaxed', relaxedCore],
  ['scalar', scalarCore],
] as const) {
  describe(`${name} build`, () => {
    it('weight_grad_acc equals gemm_packed on Aᵀ read in place, bit for bit, and a float64 sum', async () => {
      const e: CoreExports = (await load()).exports;
      const rand = lcg(21);
      let worst = 0;
      let cases = 0;
      for (const M of [1, 3, 4, 5, 13, 36])
        for (const N of [1, 7, 8, 9, 17])
          for (const K of [1, 5, 255, 256, 257, 600])
            for (const pad of [0, 3]) {
              // A [K,M] and B [K,N] with row strides lda = M + pad, ldb = N + pad
              const lda = M + pad,
                ldb = N + pad;
              const A = Float32Array.from({ length: K * lda }, () => rand() * 2 - 1);
              const Bm = Float32Array.from({ length: K * ldb }, () => rand() * 2 - 1);
              const C0 = Float32Array.from({ length: M * N }, () => rand() * 2 - 1);
              const a = e.alloc(A.length * 4),
                b = e.alloc(Bm.length * 4),
                bp = e.alloc(e.packed_size(K, N) * 4),
                scratch = e.alloc(e.weight_grad_scratch_size(K, M, N) * 4),
                c1 = e.alloc(C0.length * 4),
                c2 = e.alloc(C0.length * 4);
              let f = new Float32Array(e.memory.buffer);
              f.set(A, a / 4);
              f.set(Bm, b / 4);
              f.set(C0, c1 / 4);
              f.set(C0, c2 / 4);
              e.weight_grad_acc(M, N, K, a, lda, b, ldb, c1, N, scratch);
              e.pack_panels(K, N, b, ldb, 1, bp);
              e.gemm_packed(M, N, K, a, 1, lda, bp, c2, N, 1);
              f = new Float32Array(e.memory.buffer);
              const got = f.slice(c1 / 4, c1 / 4 + M * N);
              expect(Array.from(got), `M=${M} N=${N} K=${K} pad=${pad}`).toEqual(Array.from(f.slice(c2 / 4, c2 / 4 + M * N)));
              for (let i = 0; i < M; i++)
                for (let j = 0; j < N; j++) {
                  let s = C0[i * N + j],
                    size = Math.abs(s);
                  for (let k = 0; k < K; k++) {
                    s += A[k * lda + i] * Bm[k * ldb + j];
                    size += Math.abs(A[k * lda + i] * Bm[k * ldb + j]);
                  }
                  // float32 sums of K terms: error relative to the sum of the terms' sizes
                  worst = Math.max(worst, Math.abs(got[i * N + j] - s) / size);
                }
              for (const p of [a, b, bp, scratch, c1, c2]) e.free(p);
              cases++;
            }
      expect(cases).toBe(360);
      expect(worst).toBeLessThan(1e-6);
    });
  });
}
