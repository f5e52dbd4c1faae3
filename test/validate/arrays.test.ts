// copyFloats and copyIds: owned copies, each element read exactly once, checked after the copy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NonFiniteError, UnrolledError } from '../../src/errors.js';
import { copyFloats, copyIds } from '../../src/validate/index.js';

/** An array Proxy whose element i answers good[i] on the first read and `bad` afterwards. */
function turncoat(good: number[], bad: unknown) {
  const reads = new Map<string, number>();
  const proxy = new Proxy(good.slice(), {
    get(t, k, r) {
      if (typeof k === 'string') {
        const n = (reads.get(k) ?? 0) + 1;
        reads.set(k, n);
        if (n > 1 && /^\d+$/.test(k)) return bad;
      }
      return Reflect.get(t, k, r);
    },
  });
  return { proxy, reads };
}

describe('copyIds', () => {
  it('copies, reading each id and the length once', () => {
    const { proxy, reads } = turncoat([1, 2, 3], 1e9);
    const ids = copyIds('batch.x', proxy, 3, 5);
    expect(Array.from(ids)).toEqual([1, 2, 3]);
    for (const k of ['0', '1', '2', 'length']) expect(reads.get(k), k).toBe(1);
  });
  it('refuses ids outside [0, vocab), fractions, non-numbers, wrong lengths; never wraps 2^32 + 3 to 3', () => {
    for (const bad of [5, -1, 1.5, NaN, Infinity, '1', null, undefined, 2 ** 32 + 3, 2 ** 31]) {
      expect(() => copyIds('x', [0, bad], 2, 5), String(bad)).toThrow(InvalidArgumentError);
      expect(() => copyIds('x', [0, bad], 2, 5)).toThrow(/x\[1\]: expected an integer id in \[0, 4\]/);
    }
    expect(() => copyIds('x', new Float64Array([0, 2 ** 32 + 3]), 2, 2 ** 31)).toThrow(/x\[1\]/);
    expect(() => copyIds('x', new Uint32Array([2 ** 31]), 1, 2 ** 31)).toThrow(/x\[0\]/);
    expect(() => copyIds('x', [1, 2], 3, 5)).toThrow(/length 3/);
    expect(() => copyIds('x', 'ab', 2, 5)).toThrow(InvalidArgumentError);
    expect(() => copyIds('x', new BigInt64Array(2), 2, 5)).toThrow(InvalidArgumentError);
  });
  it('a typed array whose subclass lies about its length is read by its real length', () => {
    class Liar extends Int32Array {
      override get length(): number {
        return 1;
      }
    }
    expect(copyIds('x', new Liar([1, 2]), 2, 5)).toEqual(new Int32Array([1, 2]));
  });
  it('the copy is owned: later changes of the input do not reach it', () => {
    const src = new Int32Array([1, 2]);
    const c = copyIds('x', src, 2, 5);
    src[0] = 4;
    expect(c[0]).toBe(1);
  });
});

describe('copyFloats', () => {
  it('copies, reading each element once; a turncoat cannot smuggle NaN in', () => {
    const { proxy, reads } = turncoat([0.5, -1, 2], NaN);
    const f = copyFloats('batch.h0', proxy, 3, 'float32');
    expect(Array.from(f)).toEqual([0.5, -1, 2]);
    for (const k of ['0', '1', '2']) expect(reads.get(k), k).toBe(1);
  });
  it('refuses non-finite values and values beyond float32 for float32 with a NonFiniteError naming the index', () => {
    for (const bad of [NaN, Infinity, -Infinity, 1e39, '1', null]) {
      let err: unknown;
      try {
        copyFloats('x', [0, bad], 2, 'float32');
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toBeInstanceOf(NonFiniteError);
      expect((err as Error).message).toMatch(/x: element 1 is/);
    }
    expect(copyFloats('x', [1e39], 1, 'float64')[0]).toBe(1e39);
    expect(() => copyFloats('x', new Float64Array([1e39]), 1, 'float32')).toThrow(NonFiniteError);
  });
  it('property: an array of arbitrary values is copied exactly when every value is a finite float32, else refused with a typed error', () => {
    const value = fc.oneof(fc.float({ noNaN: false }), fc.double(), fc.constantFrom(NaN, 1e39, '1', null, undefined, 2 ** 32 + 3));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 20 }), (arr) => {
        const ok = arr.every((v) => typeof v === 'number' && Math.abs(v) <= 3.4028234663852886e38);
        let out: Float32Array | Float64Array | undefined;
        try {
          out = copyFloats('x', arr, arr.length, 'float32');
        } catch (e) {
          expect(e).toBeInstanceOf(UnrolledError);
        }
        expect(out !== undefined).toBe(ok);
        if (out) for (let i = 0; i < arr.length; i++) expect(out[i]).toBe(Math.fround(arr[i] as number));
      }),
      { numRuns: 2000 },
    );
  });
});
