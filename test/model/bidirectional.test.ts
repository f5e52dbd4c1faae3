// Bidirectional stacks and stacks without biases as layers (PyTorch's values are checked in
// torch-fixtures.test.ts and safetensors.test.ts):
//  * model.backward against central finite differences of a functional of everything forward
//    returns (js64): every element of x, h0, c0 and every parameter, every cell, 1–2 layers,
//    lengths or none, the head at every step or at the last;
//  * the Wasm and js backends agree;
//  * the reverse direction of a padded sequence sees only its real steps (padding changes nothing);
//  * what a bidirectional model refuses: masks with padding before real steps, TBPTT and
//    stateful training, gradients of the unidirectional shapes.
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidArgumentError } from '../../src/errors.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, makeModel, randn, relErr, type BackendName } from '../helpers.js';
import { checkAgainstDifferences, inputFor, layerConfig, CELLS, label } from './layer-helpers.js';

describe('bidirectional backward against finite differences (js64)', () => {
  const cases: [number, boolean, 'every' | 'last', number, number, number, number][] = [
    // L, lengths, at, I, H, T, B (odd sizes)
    [1, false, 'every', 3, 5, 4, 2],
    [2, true, 'every', 3, 5, 5, 3],
    [2, true, 'last', 5, 3, 5, 3],
  ];
  for (const c of CELLS) {
    for (const [L, lengths, at, I, H, T, B] of cases) {
      it(`${label(c)} L${L} I${I} H${H} T${T} B${B} ${lengths ? 'lengths' : 'full'} at ${at}`, async () => {
        const model = await makeModel('js64', { ...layerConfig(c, I, H, 3, L), bidirectional: true });
        const input = inputFor(lcg(31 + L), model, T, B, lengths);
        const errs = checkAgainstDifferences(model, input, at);
        expect(Object.keys(errs)).toContain('weight_hh_l0_reverse');
        for (const [what, err] of Object.entries(errs)) expect(err, what).toBeLessThan(1e-6);
        model.dispose();
      });
    }
  }
  it('token input (the one-hot gather reversed), GRU, 2 layers, lengths', async () => {
    const model = await makeModel('js64', { ...layerConfig({ cell: 'gru' }, 6, 5, 3, 2, 'tokens'), bidirectional: true });
    const input = inputFor(lcg(8), model, 5, 3, true);
    for (const [what, err] of Object.entries(checkAgainstDifferences(model, input, 'every'))) expect(err, what).toBeLessThan(1e-6);
    model.dispose();
  });
});

describe('bias: false', () => {
  for (const c of CELLS) {
    it(`${label(c)}: no bias tensors; backward equals finite differences (js64, bidirectional, 2 layers, lengths)`, async () => {
      const model = await makeModel('js64', { ...layerConfig(c, 3, 5, 3, 2), bidirectional: true, bias: false });
      expect(model.parameterNames().filter((n) => n.startsWith('bias_'))).toEqual([]);
      expect(model.parameterNames()).toContain('head.bias'); // the head is a Linear layer of its own
      const input = inputFor(lcg(12), model, 5, 3, true);
      for (const [what, err] of Object.entries(checkAgainstDifferences(model, input, 'every'))) expect(err, what).toBeLessThan(1e-6);
      model.dispose();
    });
  }
  it('is a model whose biases are 0 and stay 0: the same outputs, and training never creates them', async () => {
    const cfg = { ...layerConfig({ cell: 'lstm' }, 3, 5, 2, 2), seed: 4 };
    const without = await makeModel('js64', { ...cfg, bias: false });
    const zeroed = await makeModel('js64', cfg);
    for (const name of without.parameterNames()) zeroed.setParameter(name, without.getParameter(name));
    for (const name of zeroed.parameterNames())
      if (name.startsWith('bias_')) zeroed.setParameter(name, new Float64Array(zeroed.getParameter(name).length));
    const input = inputFor(lcg(3), without, 4, 2, false);
    expect(Array.from(without.predict(input).y)).toEqual(Array.from(zeroed.predict(input).y));
    // numParameters counts no biases; the optimizer's arena holds exactly the parameters
    expect(zeroed.numParameters - without.numParameters).toBe(2 * 2 * 4 * 5); // L · (bias_ih, bias_hh) · 4H
    const trainer = new Trainer(without, { loss: 'mse', optimizer: { name: 'adam', lr: 0.1 } });
    for (let i = 0; i < 3; i++) trainer.step({ ...input, y: randn(4 * 2 * 2, lcg(i)) });
    expect(Array.from(without.predict(input).y)).not.toEqual(Array.from(zeroed.predict(input).y));
    without.dispose();
    zeroed.dispose();
  });
});

describe('backends agree (bidirectional, lengths, forward and backward)', () => {
  for (const c of CELLS) {
    it(label(c), async () => {
      const results = [];
      for (const backend of ['js', 'wasm', 'wasm-scalar'] as BackendName[]) {
        const model = await makeModel(backend, { ...layerConfig(c, 5, 7, 3, 2), bidirectional: true, seed: 9 });
        const input = inputFor(lcg(2), model, 9, 5, true);
        const f = model.forward(input, { at: 'last' });
        const rand = lcg(4);
        const r = model.backward({ dOutputs: randn(9 * 5 * 14, rand), dy: randn(5 * 3, rand) });
        results.push({ f, r });
        model.dispose();
      }
      const [js, ...wasm] = results;
      for (const w of wasm) {
        expect(relErr(w.f.outputs, js.f.outputs)).toBeLessThan(1e-5);
        expect(relErr(w.f.hN, js.f.hN)).toBeLessThan(1e-5);
        expect(relErr(w.f.y, js.f.y)).toBeLessThan(1e-5);
        expect(relErr(w.r.dx!, js.r.dx!)).toBeLessThan(1e-5);
        expect(relErr(w.r.dh0, js.r.dh0)).toBeLessThan(1e-5);
        for (const name of Object.keys(js.r.grads)) expect(relErr(w.r.grads[name], js.r.grads[name]), name).toBeLessThan(1e-5);
      }
    });
  }
});

describe('packed sequences: the reverse direction runs over the real steps only', () => {
  it('a sequence padded with anything gives the outputs, final states and gradients of the same sequence alone', async () => {
    const model = await makeModel('js64', { ...layerConfig({ cell: 'lstm' }, 3, 5, 2, 2), bidirectional: true });
    const rand = lcg(77);
    const T = 6,
      n = 4,
      I = 3,
      H = 5,
      LD = 4;
    const real = randn(n * I, rand);
    const padded = new Float64Array(T * I);
    padded.set(real);
    padded.fill(123, n * I); // garbage after the real steps
    const h0 = randn(LD * H, rand, 0.5),
      c0 = randn(LD * H, rand, 0.5);
    const alone = model.forward({ x: real, T: n, B: 1, h0, c0 });
    const dOut = randn(n * 2 * H, rand);
    const gAlone = model.backward({ dOutputs: dOut });
    const pad = model.forward({ x: padded, T, B: 1, h0, c0, lengths: [n] });
    expect(Array.from(pad.outputs.subarray(0, n * 2 * H))).toEqual(Array.from(alone.outputs));
    expect(Array.from(pad.outputs.subarray(n * 2 * H)).every((v) => v === 0)).toBe(true);
    expect(Array.from(pad.hN)).toEqual(Array.from(alone.hN));
    expect(Array.from(pad.cN!)).toEqual(Array.from(alone.cN!));
    const dPad = new Float64Array(T * 2 * H);
    dPad.set(dOut);
    dPad.fill(5, n * 2 * H); // ignored: those outputs are the constant 0
    const gPad = model.backward({ dOutputs: dPad });
    for (const name of model.parameterNames()) expect(Array.from(gPad.grads[name]), name).toEqual(Array.from(gAlone.grads[name]));
    expect(Array.from(gPad.dx!.subarray(0, n * I))).toEqual(Array.from(gAlone.dx!));
    expect(Array.from(gPad.dx!.subarray(n * I)).every((v) => v === 0)).toBe(true);
    model.dispose();
  });

  it('at step t the reverse half of the output is the reverse direction after reading x_{n−1} … x_t', async () => {
    // layer 0 alone: a unidirectional model with the reverse weights run over the reversed sequence
    const c = layerConfig({ cell: 'gru' }, 3, 5, 2, 1);
    const bi = await makeModel('js64', { ...c, bidirectional: true });
    const uni = await makeModel('js64', c);
    for (const name of uni.parameterNames()) {
      const from = name.startsWith('head') ? null : `${name}_reverse`;
      if (from) uni.setParameter(name, bi.getParameter(from));
    }
    const rand = lcg(5);
    const T = 5,
      I = 3,
      H = 5;
    const x = randn(T * I, rand);
    const out = bi.forward({ x, T, B: 1 }).outputs;
    const reversed = new Float64Array(T * I);
    for (let t = 0; t < T; t++) reversed.set(x.subarray((T - 1 - t) * I, (T - t) * I), t * I);
    const back = uni.forward({ x: reversed, T, B: 1 }).outputs;
    for (let t = 0; t < T; t++) {
      expect(Array.from(out.subarray(t * 2 * H + H, (t + 1) * 2 * H))).toEqual(Array.from(back.subarray((T - 1 - t) * H, (T - t) * H)));
    }
    bi.dispose();
    uni.dispose();
  });
});

describe('what a bidirectional model refuses', () => {
  it('a mask with padding before a real step (not a packed sequence)', async () => {
    const model = await makeModel('js', { ...layerConfig({ cell: 'rnn' }, 2, 3, 1, 1), bidirectional: true });
    expect(() => model.predict({ x: new Float32Array(3 * 2 * 2), T: 3, B: 2, mask: [1, 1, 0, 1, 1, 1] })).toThrow(
      /batch\.mask.*real steps first.*a real step 2 after padding in sequence 0/,
    );
    model.dispose();
  });
  it('truncated BPTT and stateful training, naming why', async () => {
    const model = await makeModel('js', { ...layerConfig({ cell: 'lstm' }, 2, 3, 1, 1), bidirectional: true });
    expect(() => new Trainer(model, { loss: 'mse', tbptt: { k1: 2, k2: 2 } })).toThrow(ConfigError);
    expect(() => new Trainer(model, { loss: 'mse', tbptt: { k1: 2, k2: 2 } })).toThrow(/options\.tbptt.*reverse direction/);
    const trainer = new Trainer(model, { loss: 'mse' });
    expect(() => trainer.stepStateful({ x: new Float32Array(2 * 2), y: new Float32Array(2), T: 2, B: 1 })).toThrow(InvalidArgumentError);
    model.dispose();
  });
  it('gradients and states of the unidirectional shapes, naming the bidirectional ones', async () => {
    const model = await makeModel('js', { ...layerConfig({ cell: 'gru' }, 2, 3, 1, 2), bidirectional: true });
    expect(() => model.predict({ x: new Float32Array(4), T: 2, B: 1, h0: new Float32Array(2 * 3) })).toThrow(/batch\.h0.*2·numLayers/);
    model.forward({ x: new Float32Array(4), T: 2, B: 1 });
    expect(() => model.backward({ dOutputs: new Float32Array(2 * 3) })).toThrow(/gradients\.dOutputs.*12 finite numbers \[T, B, 2H\]/);
    expect(() => model.backward({ dhN: new Float32Array(2 * 3) })).toThrow(/gradients\.dhN.*12 finite numbers \[2L, B, H\]/);
    model.dispose();
  });
});
