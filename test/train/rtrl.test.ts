// RTRL carries ∂h_t/∂θ forward; BPTT carries ∂E/∂h_t backward. They share no code (RTRL reads
// the weights through stateDict and computes on its own), so on random models and batches their
// agreement to float64 round-off checks both derivations at once.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import type { Batch } from '../../src/model/batch.js';
import type { CellKind, Nonlinearity } from '../../src/model/config.js';
import type { LossAt, LossKind, Reduction } from '../../src/model/loss.js';
import type { Model } from '../../src/model/model.js';
import { rtrlGradients } from '../../src/train/rtrl.js';
import { lcg, makeModel, randInts, randn } from '../helpers.js';

const SIZES = [1, 2, 3, 5, 6, 7]; // none a multiple of 4: no SIMD-friendly coincidence

/** max |a − b| / max |b| over one tensor (0 when both are all zero). */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff === 0 ? 0 : diff / scale;
}

interface Case {
  cell: CellKind;
  nonlinearity: Nonlinearity;
  loss: LossKind;
  at: LossAt;
  reduction: Reduction;
  layers: number;
  tokens: boolean;
  seed: number;
}

async function randomCase(c: Case): Promise<{ model: Model; batch: Batch }> {
  const rand = lcg(c.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const I = pick(SIZES),
    H = pick(SIZES),
    O = pick(SIZES.filter((s) => c.loss === 'mse' || s > 1));
  const T = 1 + Math.floor(rand() * 12),
    B = 1 + Math.floor(rand() * 3);
  const model = await makeModel('js64', {
    cell: c.cell,
    nonlinearity: c.nonlinearity,
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    numLayers: c.layers,
    input: c.tokens ? 'tokens' : 'dense',
    seed: c.seed,
  });
  // weights larger than the default U(±1/√H), so that gates and tanh leave their linear range
  const scale = 0.5 + 1.5 * rand();
  const sd = model.stateDict();
  for (const name of Object.keys(sd)) sd[name] = sd[name].map((v) => v * scale * Math.sqrt(H));
  model.loadStateDict(sd);
  const rows = c.at === 'every' ? T * B : B;
  const batch: Batch = {
    T,
    B,
    x: c.tokens ? randInts(T * B, I, rand) : randn(T * B * I, rand),
    y: c.loss === 'cross-entropy' ? randInts(rows, O, rand) : randn(rows * O, rand),
  };
  const extra = rand();
  if (extra < 0.25) batch.lengths = Array.from({ length: B }, () => 1 + Math.floor(rand() * T));
  else if (extra < 0.4 && c.at === 'every') batch.lossMask = Array.from({ length: T * B }, (_, i) => (i === 0 || rand() < 0.6 ? 1 : 0));
  if (rand() < 0.4) {
    batch.h0 = randn(c.layers * B * H, rand, 0.5);
    if (c.cell === 'lstm') batch.c0 = randn(c.layers * B * H, rand, 0.5);
  }
  return { model, batch };
}

const CELLS: [CellKind, Nonlinearity][] = [
  ['rnn', 'tanh'],
  ['rnn', 'relu'],
  ['lstm', 'tanh'],
  ['gru', 'tanh'],
];
const LOSSES: [LossKind, LossAt, Reduction][] = [];
for (const loss of ['mse', 'cross-entropy'] as const) {
  for (const at of ['every', 'last'] as const) for (const reduction of ['mean', 'sum'] as const) LOSSES.push([loss, at, reduction]);
}

let worst = 0;

describe('RTRL equals BPTT (js backend, float64) to 1e-9 relative', () => {
  for (const [cell, nonlinearity] of CELLS) {
    for (const [loss, at, reduction] of LOSSES) {
      it(`${cell}${cell === 'rnn' ? `-${nonlinearity}` : ''} ${loss} at ${at}, ${reduction}`, async () => {
        for (let k = 0; k < 4; k++) {
          const seed =
            1000 * CELLS.findIndex(([c, n]) => c === cell && n === nonlinearity) +
            10 * LOSSES.findIndex((l) => l[0] === loss && l[1] === at && l[2] === reduction) +
            k;
          const c: Case = { cell, nonlinearity, loss, at, reduction, layers: k === 3 ? 2 : 1, tokens: k === 2, seed };
          const { model, batch } = await randomCase(c);
          const spec = { loss, at, reduction };
          const bptt = model.lossAndGradients(batch, spec);
          const rtrl = rtrlGradients(model, batch, spec);
          expect(Math.abs(rtrl.loss - bptt.loss) / Math.abs(bptt.loss)).toBeLessThan(1e-12);
          expect(Object.keys(rtrl.grads).sort()).toEqual(model.parameterNames().sort());
          for (const name of model.parameterNames()) {
            const e = rel(rtrl.grads[name], bptt.grads[name]);
            worst = Math.max(worst, e);
            expect(e, `${name} (case ${JSON.stringify(c)})`).toBeLessThan(1e-9);
          }
          model.dispose();
        }
      });
    }
  }

  it('reports the largest relative error seen', () => {
    console.log(`RTRL vs BPTT: largest relative error over all cases and parameters ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-9);
  });
});

describe('RTRL on a Wasm (float32) model', () => {
  it('reads the float32 weights and matches the float32 BPTT to float32 tolerance', async () => {
    const rand = lcg(5);
    const model = await makeModel('wasm', { cell: 'lstm', inputSize: 3, hiddenSize: 5, outputSize: 2, seed: 3 });
    const batch = { T: 6, B: 2, x: randn(36, rand), y: randInts(12, 2, rand) };
    const bptt = model.lossAndGradients(batch, 'cross-entropy');
    const rtrl = rtrlGradients(model, batch, 'cross-entropy');
    for (const name of model.parameterNames()) expect(rel(rtrl.grads[name], bptt.grads[name])).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe('RTRL arguments', () => {
  it('refuses a batch that does not fit the model, and sensitivities too large to hold', async () => {
    const model = await makeModel('js64', { cell: 'rnn', inputSize: 2, hiddenSize: 3, outputSize: 1 });
    expect(() => rtrlGradients(model, { T: 2, B: 1, x: [1, 2, 3], y: [0, 0] }, 'mse')).toThrow(InvalidArgumentError);
    expect(() => rtrlGradients(model, { T: 2, B: 1, x: [1, 2, 3, 4] }, 'mse')).toThrow(InvalidArgumentError);
    model.dispose();
    const big = await makeModel('js', { cell: 'lstm', inputSize: 1, hiddenSize: 256, outputSize: 1 });
    expect(() => rtrlGradients(big, { T: 1, B: 1, x: [0], y: [0] }, 'mse')).toThrow(/sensitivity floats/);
    big.dispose();
  });
});
