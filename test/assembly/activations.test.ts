// The gate nonlinearities of the Wasm core (assembly/activations.ts): the f32x4 array kernels
// against their scalar twins (same formula, so bit-identical), and both against float64
// Math.tanh and 1/(1 + Math.exp(−x)) over a dense grid of [−20, 20], random points, an ulp-by-ulp
// scan around the |x| = 0.5 branch point of tanh, and special values. The measured maxima are
// printed (quoted in the README); the bounds asserted sit just above them.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CoreExports } from '../../src/runtime/core.js';
import { lcg, scalarCore, simdCore } from '../helpers.js';

type ArrayFn = (n: number, src: number, dst: number) => void;

let e: CoreExports;
let s: CoreExports;

beforeAll(async () => {
  e = (await simdCore()).exports;
  s = (await scalarCore()).exports;
});

const fr = Math.fround;
const SENTINEL = -777.25;

/** Runs fn over xs in the core's memory (optionally in place) and returns dst. Guards after dst are checked. */
function apply(core: CoreExports, fn: ArrayFn, xs: Float32Array, inPlace = false): Float32Array {
  const n = xs.length,
    pad = 8;
  const src = core.alloc((n + pad) * 4);
  const dst = inPlace ? src : core.alloc((n + pad) * 4);
  try {
    let f = new Float32Array(core.memory.buffer); // re-made after the allocs
    f.fill(SENTINEL, src / 4, src / 4 + n + pad);
    f.fill(SENTINEL, dst / 4, dst / 4 + n + pad);
    f.set(xs, src / 4);
    fn(n, src, dst);
    f = new Float32Array(core.memory.buffer);
    for (let i = n; i < n + pad; i++) {
      if (f[dst / 4 + i] !== SENTINEL) throw new Error(`wrote past the end: n=${n}, element ${i}`);
    }
    if (!inPlace) {
      for (let i = 0; i < n; i++) {
        if (!Object.is(f[src / 4 + i], xs[i])) throw new Error(`modified its source at ${i} (n=${n})`);
      }
    }
    return f.slice(dst / 4, dst / 4 + n);
  } finally {
    core.free(src);
    if (!inPlace) core.free(dst);
  }
}

function sameBits(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
    y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let bad = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) bad++;
  return bad;
}

/** f32 values around v, ulp by ulp */
function ulpScan(v: number, count: number): number[] {
  const buf = new Float32Array(1),
    bits = new Int32Array(buf.buffer);
  buf[0] = v;
  const base = bits[0],
    out: number[] = [];
  for (let d = -count; d <= count; d++) {
    bits[0] = base + d;
    out.push(buf[0]);
  }
  return out;
}

const SPECIAL = [0, 1e-45, 1e-40, 1e-38, 1e-30, 1e-8, 1e-4, 0.25, 0.4999, 0.5, 0.5001, 1, 2, 9, 15, 20, 40, 44, 87, 88, 100, 1e30, 3.4e38];

const GRID = 40 * 4096 + 1; // the first GRID inputs: [−20, 20] in steps of 2⁻¹² (exact in f32)

function inputs(): Float32Array {
  const xs: number[] = [];
  for (let i = -20 * 4096; i <= 20 * 4096; i++) xs.push(i / 4096);
  const rand = lcg(2024);
  for (let i = 0; i < 50_000; i++) xs.push(fr(40 * rand() - 20));
  for (let i = 0; i < 20_000; i++) xs.push(fr((2 * rand() - 1) * 2 ** (-40 * rand()))); // small magnitudes
  for (const v of [0.5, -0.5, 0.25, -0.25, 1, -1]) xs.push(...ulpScan(v, 2048));
  for (const v of SPECIAL) xs.push(v, -v);
  // pad to an odd length so the f32x4 loop ends with a scalar tail
  xs.push(0.123);
  if (xs.length % 4 === 0) xs.push(-0.123);
  return Float32Array.from(xs);
}

interface Errors {
  maxAbs: number;
  maxRel: number;
  atAbs: number;
  atRel: number;
}

function measure(xs: Float32Array, got: Float32Array, exact: (x: number) => number, relWhere: (x: number, y: number) => boolean): Errors {
  const r: Errors = { maxAbs: 0, maxRel: 0, atAbs: NaN, atRel: NaN };
  for (let i = 0; i < xs.length; i++) {
    const y = exact(xs[i]);
    const d = Math.abs(got[i] - y);
    if (!(d <= r.maxAbs)) {
      r.maxAbs = d;
      r.atAbs = xs[i];
    }
    if (relWhere(xs[i], y) && !(d / Math.abs(y) <= r.maxRel)) {
      r.maxRel = d / Math.abs(y);
      r.atRel = xs[i];
    }
  }
  return r;
}

const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x));

// Asserted bounds: just above the measured maxima printed by the tests.
// Measured (258 470 points): tanh max abs 7.61e-8, max rel 1.50e-7 (both at x ≈ −0.5614);
// sigmoid max abs 8.91e-8 (x ≈ 8.67), max rel 1.45e-7 (x ≈ −16.8, over x ≥ −88).
const TANH_ABS = 1e-7;
const TANH_REL = 2e-7; // where |tanh x| > 1e-30
const SIG_ABS = 1e-7;
const SIG_REL = 2e-7; // for x ≥ −88

describe('activations', () => {
  const xs = inputs();

  it('tanh_array_f32x4 is bit-identical to tanh_array_scalar (SIMD and scalar builds), and within bounds of Math.tanh', () => {
    const v = apply(e, e.tanh_array_f32x4, xs);
    const sc = apply(e, e.tanh_array_scalar, xs);
    expect(sameBits(v, sc)).toBe(0);
    expect(sameBits(apply(s, s.tanh_array_f32x4, xs), sc)).toBe(0);
    expect(sameBits(apply(s, s.tanh_array_scalar, xs), sc)).toBe(0);
    const err = measure(xs, v, Math.tanh, (_x, y) => Math.abs(y) > 1e-30);
    console.log(
      `tanh  (${xs.length} points): max abs err ${err.maxAbs.toExponential(3)} at x=${err.atAbs}, ` +
        `max rel err ${err.maxRel.toExponential(3)} at x=${err.atRel}`,
    );
    expect(err.maxAbs).toBeLessThan(TANH_ABS);
    expect(err.maxRel).toBeLessThan(TANH_REL);
    // odd (exactly) and monotone on the symmetric grid (the first GRID points), bounded by 1
    let notOdd = 0,
      notMonotone = 0,
      outOfRange = 0;
    for (let i = 0; i < GRID; i++) if (xs[i] !== 0 && v[i] !== -v[GRID - 1 - i]) notOdd++;
    for (let i = 1; i < GRID; i++) if (!(v[i] >= v[i - 1])) notMonotone++;
    for (let i = 0; i < xs.length; i++) if (!(Math.abs(v[i]) <= 1)) outOfRange++;
    expect({ notOdd, notMonotone, outOfRange }).toEqual({ notOdd: 0, notMonotone: 0, outOfRange: 0 });
  });

  it('sigmoid_array_f32x4 is bit-identical to sigmoid_array_scalar, and within bounds of 1/(1+exp(−x))', () => {
    const v = apply(e, e.sigmoid_array_f32x4, xs);
    const sc = apply(e, e.sigmoid_array_scalar, xs);
    expect(sameBits(v, sc)).toBe(0);
    expect(sameBits(apply(s, s.sigmoid_array_f32x4, xs), sc)).toBe(0);
    expect(sameBits(apply(s, s.sigmoid_array_scalar, xs), sc)).toBe(0);
    // exp's argument is clamped to [−87, 88], so for x < −88 sigmoid stays at sigmoid(−88) ≈ 6.05e-39:
    // tiny absolute error, but no relative accuracy there.
    const err = measure(xs, v, sigmoid64, (x) => x >= -88);
    console.log(
      `sigmoid (${xs.length} points): max abs err ${err.maxAbs.toExponential(3)} at x=${err.atAbs}, ` +
        `max rel err (x ≥ −88) ${err.maxRel.toExponential(3)} at x=${err.atRel}`,
    );
    expect(err.maxAbs).toBeLessThan(SIG_ABS);
    expect(err.maxRel).toBeLessThan(SIG_REL);
    // in [0, 1], monotone on the grid, and σ(x) + σ(−x) = 1 within an ulp of 1
    let notMonotone = 0,
      outOfRange = 0,
      notSymmetric = 0;
    for (let i = 1; i < GRID; i++) if (!(v[i] >= v[i - 1])) notMonotone++;
    for (let i = 0; i < xs.length; i++) if (!(v[i] >= 0 && v[i] <= 1)) outOfRange++;
    for (let i = 0; i < GRID; i++) if (!(Math.abs(v[i] + v[GRID - 1 - i] - 1) <= 1.2e-7)) notSymmetric++;
    expect({ notMonotone, outOfRange, notSymmetric }).toEqual({ notMonotone: 0, outOfRange: 0, notSymmetric: 0 });
  });

  it('special values: ±0, ±tiny, ±0.4999/0.5/0.5001, ±9, ±88, ±100, ±1e30, ±Infinity, NaN', () => {
    const pts = Float32Array.from([
      0,
      1e-45,
      -1e-45,
      1e-30,
      -1e-30,
      0.4999,
      -0.4999,
      0.5,
      -0.5,
      0.5001,
      -0.5001,
      9,
      -9,
      88,
      -88,
      100,
      -100,
      1e30,
      -1e30,
      Infinity,
      -Infinity,
      NaN,
    ]);
    for (const core of [e, s]) {
      const t = apply(core, core.tanh_array_f32x4, pts),
        g = apply(core, core.sigmoid_array_f32x4, pts);
      expect(sameBits(t, apply(core, core.tanh_array_scalar, pts))).toBe(0);
      expect(sameBits(g, apply(core, core.sigmoid_array_scalar, pts))).toBe(0);
      for (let i = 0; i < pts.length; i++) {
        const x = pts[i];
        if (Number.isNaN(x)) {
          expect(t[i]).toBeNaN();
          expect(g[i]).toBeNaN();
          continue;
        }
        // tanh of a tiny x is x itself (x³/3 underflows)
        if (x !== 0 && Math.abs(x) <= 1e-30) expect(t[i]).toBe(x);
        expect(Math.abs(t[i] - Math.tanh(x)), `tanh(${x})`).toBeLessThan(TANH_ABS);
        if (Math.abs(x) >= 88) expect(t[i]).toBe(Math.sign(x));
        expect(Math.abs(g[i] - sigmoid64(x)), `sigmoid(${x})`).toBeLessThan(SIG_ABS);
        if (x >= 88) expect(g[i]).toBe(1);
        if (x <= -88) expect(g[i]).toBeLessThan(1e-38);
        if (Math.abs(x) <= 1e-30) expect(g[i]).toBe(0.5);
      }
    }
  });

  it('lengths that are not a multiple of 4 (and in place): the f32x4 loop plus its scalar tail', () => {
    const rand = lcg(77);
    for (const core of [e, s]) {
      for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 16, 17, 37, 63]) {
        const x = new Float32Array(n);
        for (let i = 0; i < n; i++) x[i] = fr(12 * rand() - 6);
        for (const [vec, sca] of [
          [core.tanh_array_f32x4, core.tanh_array_scalar],
          [core.sigmoid_array_f32x4, core.sigmoid_array_scalar],
        ]) {
          const want = apply(core, sca, x);
          expect(sameBits(apply(core, vec, x), want), `n=${n}`).toBe(0);
          expect(sameBits(apply(core, vec, x, true), want), `n=${n} in place`).toBe(0);
          // and the values are the functions, not garbage
          const exact = vec === core.tanh_array_f32x4 ? Math.tanh : sigmoid64;
          for (let i = 0; i < n; i++) expect(Math.abs(want[i] - exact(x[i]))).toBeLessThan(2e-7);
        }
      }
    }
  });
});
