// The packed-panel path every cell uses: pack_panels (SIMD fast paths for row copies and 4×4
// register transposes) against a plain packing written here, and gemm_packed (the 4×8 f32x4
// micro-kernel, threads dispatcher included) against its scalar twin gemm_packed_scalar.
import { describe, expect, it } from 'vitest';
import type { CoreExports } from '../../src/runtime/core.js';
import { lcg, scalarCore, simdCore } from '../helpers.js';

/** B(k, j) = src[k·sk + j·sn] packed as ⌈N/8⌉ panels of K×8, zero beyond N. */
function packRef(K: number, N: number, src: Float32Array, sk: number, sn: number): Float32Array {
  const NP = Math.ceil(N / 8);
  const out = new Float32Array(NP * K * 8);
  for (let p = 0; p < NP; p++)
    for (let k = 0; k < K; k++)
      for (let j = 0; j < 8; j++) {
        const col = p * 8 + j;
        out[(p * K + k) * 8 + j] = col < N ? src[k * sk + col * sn] : 0;
      }
  return out;
}

const SIZES = [1, 3, 4, 5, 7, 8, 9, 13, 16, 17, 33];

for (const [name, load] of [
  ['simd', simdCore],
  ['scalar', scalarCore],
] as const) {
  describe(`${name} build`, () => {
    it('pack_panels equals a plain packing, for B = W and B = Wᵀ, over tails of every block', async () => {
      const e: CoreExports = (await load()).exports;
      const rand = lcg(11);
      for (const K of SIZES)
        for (const N of SIZES) {
          const W = Float32Array.from({ length: K * N }, () => rand() * 2 - 1);
          for (const transposed of [false, true]) {
            // row-major B[K,N] (sk = N, sn = 1) or Wᵀ of W[N,K] (sk = 1, sn = K)
            const [sk, sn] = transposed ? [1, K] : [N, 1];
            const src = e.alloc(W.length * 4),
              dst = e.alloc(e.packed_size(K, N) * 4);
            new Float32Array(e.memory.buffer).set(W, src / 4);
            e.pack_panels(K, N, src, sk, sn, dst);
            const got = new Float32Array(e.memory.buffer, dst, e.packed_size(K, N));
            expect(Array.from(got), `K=${K} N=${N} transposed=${transposed}`).toEqual(Array.from(packRef(K, N, W, sk, sn)));
            e.free(src);
            e.free(dst);
          }
        }
    });

    it('gemm_packed equals gemm_packed_scalar (nn and tn addressing, acc 0/1)', async () => {
      const e: CoreExports = (await load()).exports;
      const rand = lcg(12);
      let worst = 0;
      for (const M of [1, 3, 4, 5, 9, 17, 70])
        for (const N of [1, 7, 8, 9, 17, 33])
          for (const K of [1, 5, 8, 13, 300]) {
            const A = Float32Array.from({ length: M * K }, () => rand() * 2 - 1);
            const Bm = Float32Array.from({ length: K * N }, () => rand() * 2 - 1);
            const C0 = Float32Array.from({ length: M * N }, () => rand() * 2 - 1);
            for (const tn of [false, true])
              for (const acc of [0, 1]) {
                const a = e.alloc(A.length * 4),
                  b = e.alloc(Bm.length * 4),
                  bp = e.alloc(e.packed_size(K, N) * 4);
                const c1 = e.alloc(C0.length * 4),
                  c2 = e.alloc(C0.length * 4);
                const f = new Float32Array(e.memory.buffer);
                f.set(A, a / 4);
                f.set(Bm, b / 4);
                f.set(C0, c1 / 4);
                f.set(C0, c2 / 4);
                e.pack_panels(K, N, b, N, 1, bp);
                const [sai, sak] = tn ? [1, M] : [K, 1];
                e.gemm_packed(M, N, K, a, sai, sak, bp, c1, N, acc);
                e.gemm_packed_scalar(M, N, K, a, sai, sak, bp, c2, N, acc);
                const g = new Float32Array(e.memory.buffer);
                for (let i = 0; i < M * N; i++) {
                  const x = g[c1 / 4 + i],
                    y = g[c2 / 4 + i];
                  worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y)));
                }
                for (const p of [a, b, bp, c1, c2]) e.free(p);
              }
          }
      // the SIMD kernel sums K in panels of 256 then adds: rounding differs from the scalar loop
      expect(worst).toBeLessThan(1e-5);
      if (name === 'scalar') expect(worst).toBe(0);
    });
  });
}
