// The three float32 backends — Wasm SIMD ('wasm'), Wasm scalar ('wasm-scalar') and the js
// reference ('js') — compute the same loss, predictions, final states, every gradient, ∂E/∂h0,
// ∂E/∂c0 and gradNormsOverTime, on random models whose sizes are not multiples of 4 and span
// several SIMD iterations (I=19, H=37, O=11, T=9, B=5), and on H=64, B=8: every cell, 1 and 2
// layers, unmasked / lengths (+ a lossMask at 'every') / an explicit mask with holes, dense and
// token input, both losses and both heads. Then 20 Trainer steps (Adam, clipNorm 1) on wasm and js from the same seed.
//
// The js backend stores float32 but accumulates dot products in float64 and uses Math.tanh /
// Math.exp; Wasm accumulates in float32 with its own tanh / exp. Differences are rounding-level
// per operation, amplified a little through T steps of recurrence.
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/model/batch.js';
import type { LossSpec } from '../../src/model/loss.js';
import type { GradientResult, Model } from '../../src/model/model.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, makeModel, randInts, randn, relErr, type BackendName } from '../helpers.js';

type Cell = 'rnn' | 'lstm' | 'gru';
interface Case {
  cell: Cell;
  relu: boolean;
  L: number;
  I: number;
  H: number;
  O: number;
  T: number;
  B: number;
  input: 'dense' | 'tokens';
  loss: 'mse' | 'cross-entropy';
  at: 'every' | 'last';
  mask: 'none' | 'lengths' | 'mask';
}

const TOL = 1e-5;
const FLOOR = 1e-6;
const BACKENDS: BackendName[] = ['wasm', 'wasm-scalar', 'js'];

function makeBatch(c: Case, seed: number): Batch {
  const rand = lcg(seed);
  const { T, B, L, H, O } = c;
  const rows = c.at === 'every' ? T * B : B;
  const batch: Batch = {
    x: c.input === 'tokens' ? randInts(T * B, c.I, rand) : randn(T * B * c.I, rand),
    T,
    B,
    y: c.loss === 'cross-entropy' ? randInts(rows, O, rand) : randn(rows * O, rand),
    h0: randn(L * B * H, rand, 0.5),
  };
  if (c.cell === 'lstm') batch.c0 = randn(L * B * H, rand, 0.5);
  if (c.mask === 'lengths') batch.lengths = Array.from({ length: B }, (_, b) => T - ((b * 3) % T));
  // with lengths and a loss at every step, also a lossMask (warm-up rows add nothing to the loss)
  if (c.mask === 'lengths' && c.at === 'every') batch.lossMask = Array.from({ length: T * B }, (_, i) => (i < 2 * B ? 0 : 1));
  if (c.mask === 'mask') {
    const m = new Float32Array(T * B);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) m[t * B + b] = t === 0 || (t * 7 + b * 3) % 5 !== 0 ? 1 : 0;
    batch.mask = m;
  }
  return batch;
}

async function models(c: Case, seed: number): Promise<Model[]> {
  const cfg = {
    cell: c.cell,
    nonlinearity: c.relu ? ('relu' as const) : ('tanh' as const),
    inputSize: c.I,
    hiddenSize: c.H,
    outputSize: c.O,
    numLayers: c.L,
    input: c.input,
    seed,
  };
  const ms = await Promise.all(BACKENDS.map((b) => makeModel(b, cfg)));
  return ms;
}

function compare(c: Case, results: GradientResult[]): Record<string, number> {
  const ref = results[BACKENDS.indexOf('js')];
  const errors: Record<string, number> = {};
  for (const [i, backend] of BACKENDS.entries()) {
    if (backend === 'js') continue;
    const r = results[i];
    const put = (what: string, e: number): void => {
      errors[`${backend} ${what}`] = e;
    };
    put('loss', Math.abs(r.loss - ref.loss) / Math.max(Math.abs(ref.loss), FLOOR));
    put('y', relErr(r.y, ref.y, FLOOR));
    put('hN', relErr(r.hN, ref.hN, FLOOR));
    if (c.cell === 'lstm') put('cN', relErr(r.cN!, ref.cN!, FLOOR));
    for (const name of Object.keys(ref.grads)) put(`grad ${name}`, relErr(r.grads[name], ref.grads[name], FLOOR));
    put('dh0', relErr(r.dh0, ref.dh0, FLOOR));
    if (c.cell === 'lstm') put('dc0', relErr(r.dc0!, ref.dc0!, FLOOR));
    for (let l = 0; l < c.L; l++) put(`gradNormsOverTime[${l}]`, relErr(r.gradNormsOverTime![l], ref.gradNormsOverTime![l], FLOOR));
  }
  return errors;
}

const VARIANTS: Array<{ cell: Cell; relu: boolean }> = [
  { cell: 'rnn', relu: false },
  { cell: 'rnn', relu: true },
  { cell: 'lstm', relu: false },
  { cell: 'gru', relu: false },
];
const SMALL = { I: 19, H: 37, O: 11, T: 9, B: 5 };
const CASES: Case[] = [];
for (const v of VARIANTS)
  for (const L of [1, 2])
    for (const mask of ['none', 'lengths', 'mask'] as const) {
      for (const input of ['dense', 'tokens'] as const)
        for (const loss of ['mse', 'cross-entropy'] as const) {
          for (const at of ['every', 'last'] as const) CASES.push({ ...v, ...SMALL, L, mask, input, loss, at });
        }
    }
// wider: H = 64 (16 SIMD lanes, whole 4×8 blocks), B = 8
for (const v of VARIANTS) {
  CASES.push({ ...v, I: 19, H: 64, O: 11, T: 9, B: 8, L: 2, mask: 'lengths', input: 'dense', loss: 'cross-entropy', at: 'every' });
  CASES.push({ ...v, I: 65, H: 64, O: 65, T: 6, B: 8, L: 1, mask: 'none', input: 'tokens', loss: 'mse', at: 'last' });
}

const label = (c: Case): string =>
  `${c.cell}${c.cell === 'rnn' ? (c.relu ? '-relu' : '-tanh') : ''} L${c.L} H${c.H} B${c.B} ${c.input} ${c.loss} at=${c.at} mask=${c.mask}`;

let largest = { err: 0, where: '' };

describe('wasm (SIMD), wasm-scalar and js agree', () => {
  // grouped per cell and layer count to keep the test count readable
  const groups = new Map<string, Case[]>();
  for (const c of CASES) {
    const k = `${c.cell}${c.cell === 'rnn' ? (c.relu ? '-relu' : '-tanh') : ''} L${c.L} H${c.H}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const [group, cases] of groups) {
    it(`${group}: ${cases.length} configurations (mask × input × loss × head)`, async () => {
      const failures: string[] = [];
      for (const [n, c] of cases.entries()) {
        const seed = 17 + n;
        const ms = await models(c, seed);
        // a seed fixes the initial weights exactly on every backend
        const sd = ms[0].stateDict();
        for (const m of ms.slice(1))
          for (const [name, v] of Object.entries(m.stateDict())) {
            if (relErr(v, sd[name], 1e-30) !== 0) failures.push(`${label(c)}: initial ${name} differs on ${m.backend}`);
          }
        const batch = makeBatch(c, 1000 + seed);
        const spec: LossSpec = { loss: c.loss, at: c.at };
        const results = ms.map((m) => m.lossAndGradients(batch, spec, { diagnostics: true }));
        for (const [what, e] of Object.entries(compare(c, results))) {
          if (e > largest.err) largest = { err: e, where: `${label(c)} ${what}` };
          if (!(e < TOL)) failures.push(`${label(c)} ${what}: ${e.toExponential(2)}`);
        }
        // and the gradients are not trivially zero
        if (!(Math.max(...Array.from(results[2].grads['head.weight'], Math.abs)) > 1e-5)) failures.push(`${label(c)}: zero gradient`);
        for (const m of ms) m.dispose();
      }
      expect(failures).toEqual([]);
    });
  }

  it('reports the largest wasm-vs-js relative error', () => {
    console.log(`agree: largest wasm-vs-js relative error ${largest.err.toExponential(3)} (${largest.where})`);
    expect(largest.err).toBeGreaterThan(0);
    expect(largest.err).toBeLessThan(TOL);
  });
});

describe('training: 20 Trainer steps (Adam, clipNorm 1) on wasm and js stay together', () => {
  const TRAIN: Case[] = [
    {
      cell: 'lstm',
      relu: false,
      I: 19,
      H: 37,
      O: 11,
      T: 9,
      B: 5,
      L: 2,
      input: 'dense',
      loss: 'cross-entropy',
      at: 'every',
      mask: 'lengths',
    },
    { cell: 'gru', relu: false, I: 19, H: 37, O: 11, T: 9, B: 5, L: 1, input: 'tokens', loss: 'cross-entropy', at: 'every', mask: 'none' },
    { cell: 'rnn', relu: false, I: 19, H: 37, O: 11, T: 9, B: 5, L: 2, input: 'dense', loss: 'mse', at: 'last', mask: 'none' },
  ];
  for (const c of TRAIN) {
    it(label(c), async () => {
      const cfg = { cell: c.cell, inputSize: c.I, hiddenSize: c.H, outputSize: c.O, numLayers: c.L, input: c.input, seed: 5 };
      const wasm = await makeModel('wasm', cfg),
        js = await makeModel('js', cfg);
      const initial = wasm.stateDict();
      const opts = { loss: { loss: c.loss, at: c.at }, optimizer: { name: 'adam' as const, lr: 1e-2 }, clipNorm: 1 };
      const tw = new Trainer(wasm, opts),
        tj = new Trainer(js, opts);
      let clippedSteps = 0;
      for (let step = 0; step < 20; step++) {
        const batch = makeBatch(c, 500 + step);
        const a = tw.step(batch),
          b = tj.step(batch);
        expect(a.skipped || b.skipped).toBe(false);
        expect(Math.abs(a.loss - b.loss) / b.loss, `step ${step} loss`).toBeLessThan(1e-4);
        expect(Math.abs(a.gradNorm - b.gradNorm) / b.gradNorm, `step ${step} gradNorm`).toBeLessThan(1e-4);
        expect(a.clipped).toBe(b.clipped);
        if (a.clipped) clippedSteps++;
      }
      expect(tw.steps).toBe(20);
      expect(tj.steps).toBe(20);
      const sw = wasm.stateDict(),
        sj = js.stateDict();
      let worst = 0,
        moved = 0;
      for (const name of Object.keys(sw)) {
        const e = relErr(sw[name], sj[name], FLOOR);
        worst = Math.max(worst, e);
        expect(e, name).toBeLessThan(1e-4);
        moved = Math.max(moved, relErr(sw[name], initial[name], FLOOR));
      }
      console.log(
        `training ${label(c)}: worst parameter relative error after 20 steps ${worst.toExponential(3)}, ` +
          `${clippedSteps} of 20 steps clipped`,
      );
      expect(moved).toBeGreaterThan(1e-2); // the weights really moved
      tw.dispose();
      tj.dispose();
      wasm.dispose();
      js.dispose();
    });
  }
});
