// Dropout between layers (PyTorch's nn.LSTM(dropout=p)): on the outputs of every layer but the
// last, in training passes only, inverted scaling 1/(1 − p), masks from the model's seeded rng.
//  * backward against finite differences with the masks held fixed (the rng restarted before
//    every pass), every cell, unidirectional and bidirectional (js64);
//  * the masks are 0 or 1/(1 − p), about a fraction p of them 0;
//  * evaluation (predict, forward, evaluate) ignores it: bit for bit the model without dropout;
//    p = 0 is no dropout bit for bit, also in training; one layer has nothing to drop;
//  * runs are reproducible from the seed, checkpoints resume them bit for bit, and the Wasm and
//    js backends draw the same masks;
//  * PyTorch float64 fixtures run with the very same masks (the generator reimplemented in
//    scripts/make_torch_fixtures.py): outputs, final states and every gradient agree.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { WorkArena } from '../../src/model/layout.js';
import type { Model } from '../../src/model/model.js';
import { checkpointToSafetensors, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, makeModel, randn, relErr, type BackendName, type TorchFixture } from '../helpers.js';
import { CELLS, checkAgainstDifferences, inputFor, label, layerConfig } from './layer-helpers.js';

/** The work arena of the model's last pass (internal: the masks live there). */
const workOf = (model: Model): WorkArena => (model as unknown as { work: WorkArena }).work;

describe('dropout backward against finite differences with the masks held fixed (js64)', () => {
  for (const c of CELLS) {
    it(`${label(c)} L3 p 0.4, lengths`, async () => {
      const model = await makeModel('js64', { ...layerConfig(c, 3, 5, 2, 3), dropout: 0.4 });
      const input = inputFor(lcg(41), model, 5, 3, true);
      for (const [what, err] of Object.entries(checkAgainstDifferences(model, input, 'every', true))) expect(err, what).toBeLessThan(1e-6);
      model.dispose();
    });
  }
  it('bidirectional LSTM L2 p 0.5, at the last step', async () => {
    const model = await makeModel('js64', { ...layerConfig({ cell: 'lstm' }, 3, 5, 2, 2), dropout: 0.5, bidirectional: true });
    const input = inputFor(lcg(42), model, 4, 3, true);
    for (const [what, err] of Object.entries(checkAgainstDifferences(model, input, 'last', true))) expect(err, what).toBeLessThan(1e-6);
    model.dispose();
  });
  it('the gradients of a training pass are not those of evaluation (the masks take part)', async () => {
    const model = await makeModel('js64', { ...layerConfig({ cell: 'gru' }, 3, 5, 2, 2), dropout: 0.5 });
    const input = inputFor(lcg(43), model, 4, 3, false);
    const dy = randn(4 * 3 * 2, lcg(1));
    model.forward(input);
    const evalGrads = model.backward({ dy }).grads;
    model.forward(input, { training: true });
    const trainGrads = model.backward({ dy }).grads;
    expect(relErr(trainGrads.weight_ih_l1, evalGrads.weight_ih_l1)).toBeGreaterThan(1e-2);
    model.dispose();
  });
});

describe('the masks', () => {
  it('are 0 or 1/(1 − p), with about a fraction p of zeros, on every layer but the last', async () => {
    const p = 0.3;
    const model = await makeModel('js64', { ...layerConfig({ cell: 'rnn' }, 4, 9, 2, 3), dropout: p });
    const T = 20,
      B = 10,
      H = 9;
    model.forward(inputFor(lcg(5), model, T, B, false), { training: true });
    const w = workOf(model),
      f = model.kernels.memory.f;
    expect(w.dropMask[0]).toBe(0); // the input of layer 0 is never dropped
    for (const l of [1, 2]) {
      let zeros = 0;
      for (let i = 0; i < T * B * H; i++) {
        const m = f[w.dropMask[l] + i];
        expect(m === 0 || m === 1 / (1 - p)).toBe(true);
        if (m === 0) zeros++;
      }
      const n = T * B * H,
        sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(zeros - n * p)).toBeLessThan(4 * sd);
    }
    model.dispose();
  });
});

describe('evaluation ignores dropout; p = 0 is no dropout', () => {
  it('predict, forward and evaluation passes equal the model without dropout bit for bit; forward({ training }) does not', async () => {
    const cfg = layerConfig({ cell: 'lstm' }, 3, 5, 2, 3);
    const a = await makeModel('wasm', { ...cfg, dropout: 0.5 });
    const b = await makeModel('wasm', cfg);
    expect(a.stateDict()).toEqual(b.stateDict()); // dropout draws nothing at initialisation
    const input = inputFor(lcg(6), a, 5, 3, true);
    expect(Array.from(a.predict(input).y)).toEqual(Array.from(b.predict(input).y));
    expect(Array.from(a.forward(input).outputs)).toEqual(Array.from(b.forward(input).outputs));
    expect(Array.from(a.forward(input, { training: true }).outputs)).not.toEqual(Array.from(b.forward(input).outputs));
    const batch = { ...input, y: randn(5 * 3 * 2, lcg(7)) };
    expect(a.lossAndGradients(batch, 'mse').grads).toEqual(b.lossAndGradients(batch, 'mse').grads);
    a.dispose();
    b.dispose();
  });
  it('p = 0 trains bit for bit as no dropout, and so does p > 0 with one layer (nothing between layers)', async () => {
    for (const [dropout, L] of [
      [0, 3],
      [0.5, 1],
    ]) {
      const cfg = layerConfig({ cell: 'gru' }, 3, 5, 2, L);
      const a = await makeModel('wasm', { ...cfg, dropout });
      const b = await makeModel('wasm', cfg);
      const ta = new Trainer(a, { loss: 'mse' }),
        tb = new Trainer(b, { loss: 'mse' });
      for (let i = 0; i < 3; i++) {
        const batch = { ...inputFor(lcg(i), a, 4, 2, false), y: randn(4 * 2 * 2, lcg(10 + i)) };
        expect(ta.step(batch).loss).toBe(tb.step(batch).loss);
      }
      expect(a.stateDict()).toEqual(b.stateDict());
      for (const m of [a, b]) m.dispose();
    }
  });
});

describe('reproducible', () => {
  const steps = (model: Model, trainer: Trainer, n: number, from = 0) => {
    const losses = [];
    for (let i = from; i < from + n; i++)
      losses.push(trainer.step({ ...inputFor(lcg(i), model, 4, 3, true), y: randn(4 * 3 * 2, lcg(50 + i)) }).loss);
    return losses;
  };
  it('the same seed gives the same run; another state of the model rng another one', async () => {
    const cfg = { ...layerConfig({ cell: 'lstm' }, 3, 5, 2, 2), dropout: 0.3, seed: 11 };
    const [a, b, c] = [await makeModel('js', cfg), await makeModel('js', cfg), await makeModel('js', cfg)];
    c.rng.setState([1, 2, 3, 4]);
    const [la, lb, lc] = [a, b, c].map((m) => steps(m, new Trainer(m, { loss: 'mse' }), 4));
    expect(la).toEqual(lb);
    expect(a.stateDict()).toEqual(b.stateDict());
    expect(lc.slice(1)).not.toEqual(la.slice(1));
    for (const m of [a, b, c]) m.dispose();
  });
  it('a checkpoint resumes the masks where they were: the run continues bit for bit', async () => {
    const cfg = { ...layerConfig({ cell: 'gru' }, 3, 5, 2, 3), dropout: 0.4, seed: 12 };
    const model = await makeModel('js', cfg);
    const trainer = new Trainer(model, { loss: 'mse' });
    steps(model, trainer, 2);
    const restored = await restoreCheckpoint(checkpointToSafetensors(trainer), { backend: 'js' });
    expect(restored.model.config.dropout).toBe(0.4);
    expect(steps(restored.model, restored.trainer, 3, 2)).toEqual(steps(model, trainer, 3, 2));
    expect(restored.model.stateDict()).toEqual(model.stateDict());
    model.dispose();
    restored.model.dispose();
  });
  it('Wasm and js draw the same masks (the generator is the model rng, not the backend)', async () => {
    const cfg = { ...layerConfig({ cell: 'rnn' }, 3, 7, 2, 3), dropout: 0.5, bidirectional: true, seed: 13 };
    const js = await makeModel('js', cfg),
      wasm = await makeModel('wasm', cfg);
    const input = inputFor(lcg(9), js, 6, 3, true);
    const fj = js.forward(input, { training: true }),
      fw = wasm.forward(input, { training: true });
    expect(relErr(fw.outputs, fj.outputs)).toBeLessThan(1e-5);
    const dOutputs = randn(6 * 3 * 14, lcg(2));
    const gj = js.backward({ dOutputs }),
      gw = wasm.backward({ dOutputs });
    for (const name of js.parameterNames()) expect(relErr(gw.grads[name], gj.grads[name]), name).toBeLessThan(1e-5);
    expect(relErr(gw.dx!, gj.dx!)).toBeLessThan(1e-5);
    js.dispose();
    wasm.dispose();
  });
});

describe('configuration', () => {
  it('dropout outside [0, 1) and a non-boolean training flag are refused, naming them', async () => {
    for (const dropout of [1, -0.1, Number.NaN, '0.5']) {
      await expect(makeModel('js', { ...layerConfig({ cell: 'rnn' }, 2, 3, 1, 2), dropout: dropout as number })).rejects.toThrow(
        ConfigError,
      );
    }
    await expect(makeModel('js', { ...layerConfig({ cell: 'rnn' }, 2, 3, 1, 2), dropout: 1 })).rejects.toThrow(/config\.dropout.*\[0, 1\)/);
    const model = await makeModel('js', { ...layerConfig({ cell: 'rnn' }, 2, 3, 1, 2), dropout: 0.5 });
    expect(() => model.forward({ x: new Float32Array(2), T: 1, B: 1 }, { training: 1 as never })).toThrow(/options\.training/);
    model.dispose();
  });
});

interface DropoutFixture {
  name: string;
  config: Pick<TorchFixture['config'], 'cell' | 'nonlinearity' | 'inputSize' | 'hiddenSize' | 'numLayers' | 'T' | 'B'> & {
    dropout: number;
    bidirectional: boolean;
  };
  rngState: number[];
  params: Record<string, number[]>;
  x: number[];
  h0: number[];
  c0: number[] | null;
  lengths: number[] | null;
  dOutputs: number[];
  dhN: number[];
  dcN: number[] | null;
  outputs: number[];
  hN: number[];
  cN: number[] | null;
  grads: Record<string, number[]>;
}

const DROPOUT_FIXTURES = new URL('../fixtures/torch/dropout/', import.meta.url);
/** The largest error against PyTorch per backend, printed at the end. */
const worstDropout = new Map<string, number>();
afterAll(() => {
  for (const [k, v] of [...worstDropout].sort()) console.log(`dropout vs PyTorch, ${k}: ${v.toExponential(2)}`);
});

describe('dropout against PyTorch with the same masks (scripts/make_torch_fixtures.py draws them with the model generator)', () => {
  const names = readdirSync(DROPOUT_FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5));
  it('are present', () => expect(names.length).toBe(3));
  for (const backend of ['js64', 'js', 'wasm', 'wasm-scalar'] as BackendName[]) {
    for (const name of names) {
      it(`${backend} ${name}`, async () => {
        const fx = JSON.parse(readFileSync(new URL(`${name}.json`, DROPOUT_FIXTURES), 'utf8')) as DropoutFixture;
        const c = fx.config;
        const { T, B, ...config } = c;
        const model = await makeModel(backend, { ...config, outputSize: 1 });
        // the head takes no part: E is a functional of outputs and final states only
        model.loadStateDict({
          ...fx.params,
          'head.weight': model.getParameter('head.weight'),
          'head.bias': model.getParameter('head.bias'),
        });
        model.rng.setState(fx.rngState);
        const input = { x: fx.x, T, B, h0: fx.h0, c0: fx.c0 ?? undefined, lengths: fx.lengths ?? undefined };
        const f = model.forward(input, { training: true });
        const r = model.backward({ dOutputs: fx.dOutputs, dhN: fx.dhN, dcN: fx.dcN ?? undefined });
        const errors: Record<string, number> = { outputs: relErr(f.outputs, fx.outputs), hN: relErr(f.hN, fx.hN) };
        if (fx.cN) errors.cN = relErr(f.cN!, fx.cN);
        for (const [p, g] of Object.entries(fx.grads)) {
          errors[`grad ${p}`] = relErr(p === 'x' ? r.dx! : p === 'h0' ? r.dh0 : p === 'c0' ? r.dc0! : r.grads[p], g);
        }
        const worst = Math.max(...Object.values(errors));
        worstDropout.set(backend, Math.max(worstDropout.get(backend) ?? 0, worst));
        for (const [what, e] of Object.entries(errors)) expect(e, what).toBeLessThan(backend === 'js64' ? 1e-12 : 1e-5);
        model.dispose();
      });
    }
  }
});
