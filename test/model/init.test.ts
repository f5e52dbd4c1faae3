// Initialisers (docs/equations.md#initialisation): PyTorch's default U(±1/√H), IRNN identity, orthogonal per
// gate block, Glorot/Xavier with the whole tensor's fans (as torch.nn.init.xavier_*_), the LSTM
// forget-gate bias; seeded and reproducible.
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/model/model.js';
import { makeModel, maxAbs } from '../helpers.js';

const H = 12,
  I = 7,
  O = 5;

function block(m: Model, name: string, g: number, rows: number, cols: number): Float64Array {
  return Float64Array.from(m.getParameter(name).subarray(g * rows * cols, (g + 1) * rows * cols));
}

describe('initialisers', () => {
  it('default: every weight and bias in U(±1/√H), seeded', async () => {
    const a = await makeModel('js', { cell: 'lstm', inputSize: I, hiddenSize: H, outputSize: O, seed: 3 });
    const b = await makeModel('wasm', { cell: 'lstm', inputSize: I, hiddenSize: H, outputSize: O, seed: 3 });
    const c = await makeModel('js', { cell: 'lstm', inputSize: I, hiddenSize: H, outputSize: O, seed: 4 });
    for (const name of a.parameterNames()) {
      const v = a.getParameter(name);
      expect(maxAbs(v)).toBeLessThanOrEqual(1 / Math.sqrt(H));
      expect(maxAbs(v)).toBeGreaterThan(0.8 / Math.sqrt(H)); // the range is used, not a constant
      expect(Array.from(b.getParameter(name)), `${name}: same seed, other backend`).toEqual(Array.from(v));
      expect(Array.from(c.getParameter(name))).not.toEqual(Array.from(v));
    }
  });

  it('irnn: W_hh = identityScale·I, zero biases', async () => {
    const m = await makeModel('js', {
      cell: 'rnn',
      nonlinearity: 'relu',
      inputSize: I,
      hiddenSize: H,
      outputSize: O,
      init: { recurrent: 'identity', bias: 0, identityScale: 0.5 },
    });
    const w = m.getParameter('weight_hh_l0');
    for (let r = 0; r < H; r++) for (let c = 0; c < H; c++) expect(w[r * H + c]).toBe(r === c ? 0.5 : 0);
    expect(maxAbs(m.getParameter('bias_ih_l0'))).toBe(0);
    expect(maxAbs(m.getParameter('bias_hh_l0'))).toBe(0);
    const preset = await makeModel('js', { cell: 'rnn', inputSize: I, hiddenSize: H, outputSize: O, init: 'irnn' });
    expect(preset.getParameter('weight_hh_l0')[0]).toBe(1);
    expect(preset.getParameter('weight_hh_l0')[1]).toBe(0);
  });

  it('orthogonal: every gate block of W_hh has orthonormal rows and columns', async () => {
    const m = await makeModel('js64', { cell: 'gru', inputSize: I, hiddenSize: H, outputSize: O, init: 'orthogonal', seed: 9 });
    for (let g = 0; g < 3; g++) {
      const q = block(m, 'weight_hh_l0', g, H, H);
      for (let a = 0; a < H; a++)
        for (let b = 0; b < H; b++) {
          let dot = 0;
          for (let k = 0; k < H; k++) dot += q[k * H + a] * q[k * H + b];
          expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-12);
        }
    }
    // rectangular blocks ([H, I] with I < H): orthonormal columns
    const m2 = await makeModel('js64', { cell: 'rnn', inputSize: I, hiddenSize: H, outputSize: O, init: { input: 'orthogonal' }, seed: 9 });
    const w = block(m2, 'weight_ih_l0', 0, H, I);
    for (let a = 0; a < I; a++)
      for (let b = 0; b < I; b++) {
        let dot = 0;
        for (let k = 0; k < H; k++) dot += w[k * I + a] * w[k * I + b];
        expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-12);
      }
  });

  it("xavier_uniform / xavier_normal use the whole tensor's fans (fan_out = G·H)", async () => {
    const Hb = 64,
      Ib = 48;
    const u = await makeModel('js', { cell: 'lstm', inputSize: Ib, hiddenSize: Hb, outputSize: O, init: 'xavier_uniform', seed: 2 });
    const wu = u.getParameter('weight_ih_l0'); // [4H, I]
    const bound = Math.sqrt(6 / (Ib + 4 * Hb));
    expect(maxAbs(wu)).toBeLessThanOrEqual(bound);
    expect(maxAbs(wu)).toBeGreaterThan(0.99 * bound);
    const n = await makeModel('js', { cell: 'lstm', inputSize: Ib, hiddenSize: Hb, outputSize: O, init: 'xavier_normal', seed: 2 });
    const wn = n.getParameter('weight_hh_l0'); // [4H, H]
    let ss = 0;
    for (const v of wn) ss += v * v;
    const sd = Math.sqrt(ss / wn.length),
      expected = Math.sqrt(2 / (Hb + 4 * Hb));
    expect(Math.abs(sd - expected) / expected).toBeLessThan(0.02);
  });

  it('forgetBias: the f block of bias_ih + bias_hh sums to the value', async () => {
    const m = await makeModel('js', { cell: 'lstm', inputSize: I, hiddenSize: H, outputSize: O, init: { forgetBias: 1 } });
    const bi = m.getParameter('bias_ih_l0'),
      bh = m.getParameter('bias_hh_l0');
    for (let j = 0; j < H; j++) expect(bi[H + j] + bh[H + j]).toBeCloseTo(1, 6);
    expect(maxAbs(bi.subarray(0, H))).toBeLessThanOrEqual(1 / Math.sqrt(H)); // i block untouched
  });

  it('unknown schemes are clear errors', async () => {
    await expect(makeModel('js', { cell: 'rnn', inputSize: I, hiddenSize: H, outputSize: O, init: 'he' as never })).rejects.toThrow(/init/);
    await expect(
      makeModel('js', { cell: 'rnn', inputSize: I, hiddenSize: H, outputSize: O, init: { recurrent: 'nope' as never } }),
    ).rejects.toThrow(/init.recurrent/);
  });
});
