// LSTM with a projection (projSize P, PyTorch's proj_size): h_t = W_hr·(o_t ⊙ tanh(c_t)).
// - central finite differences in float64 (js backend, dtype float64) for every element of every
//   parameter (W_hr included), of x, h0 and c0, with P odd and below H (H = 7, P = 3, I = 5),
//   1–2 layers, lengths, bidirectional;
// - every Wasm build against that float64 reference (exact and with per-timestep clipping,
//   whose ∂E/∂h_t has P values here);
// - the configuration's checks, the shapes of states and outputs, and the model file.
// PyTorch's own numbers: test/model/torch-fixtures.test.ts (the proj_* fixtures) and
// test/model/safetensors.test.ts (a PyTorch state_dict with weight_hr).
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/create.js';
import { ConfigError } from '../../src/errors.js';
import type { Batch } from '../../src/model/batch.js';
import type { Model } from '../../src/model/model.js';
import { loadCore } from '../../src/runtime/load.js';
import { checkpointToSafetensors, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { Trainer } from '../../src/train/trainer.js';
import {
  lcg,
  makeModel,
  randn,
  relErr,
  torchFixture,
  torchFixtureNames,
  centralDifferences,
  maxAbs,
  fixtureModelOptions,
} from '../helpers.js';

const I = 5,
  H = 7,
  P = 3,
  O = 3,
  T = 5,
  B = 3;
const EPS = 1e-5;

interface Case {
  name: string;
  L: number;
  bidirectional: boolean;
  lengths: boolean;
  loss: 'mse' | 'cross-entropy';
  at: 'every' | 'last';
}

const CASES: Case[] = [
  { name: 'L1, no padding, mse at every step', L: 1, bidirectional: false, lengths: false, loss: 'mse', at: 'every' },
  { name: 'L2, lengths, cross-entropy at every step', L: 2, bidirectional: false, lengths: true, loss: 'cross-entropy', at: 'every' },
  { name: 'L2, lengths, mse at the last step', L: 2, bidirectional: false, lengths: true, loss: 'mse', at: 'last' },
  { name: 'bidirectional L2, lengths, mse at every step', L: 2, bidirectional: true, lengths: true, loss: 'mse', at: 'every' },
  {
    name: 'bidirectional L1, cross-entropy at the last step',
    L: 1,
    bidirectional: true,
    lengths: false,
    loss: 'cross-entropy',
    at: 'last',
  },
];

const config = (c: Case) => ({
  cell: 'lstm' as const,
  inputSize: I,
  hiddenSize: H,
  outputSize: O,
  numLayers: c.L,
  bidirectional: c.bidirectional,
  projSize: P,
  seed: 5,
});

function batchOf(c: Case, seed: number): Batch {
  const rand = lcg(seed);
  const D = c.bidirectional ? 2 : 1;
  const rows = c.at === 'every' ? T * B : B;
  const y = c.loss === 'mse' ? Float64Array.from(randn(rows * O, rand)) : Float64Array.from({ length: rows }, () => Math.floor(rand() * O));
  return {
    x: Float64Array.from(randn(T * B * I, rand)),
    y,
    T,
    B,
    lengths: c.lengths ? [T, 2, 4] : undefined,
    h0: Float64Array.from(randn(c.L * D * B * P, rand, 0.5)),
    c0: Float64Array.from(randn(c.L * D * B * H, rand, 0.5)),
  };
}

const fdOf = (values: Float64Array, set: (v: Float64Array) => void, loss: () => number): Float64Array =>
  centralDifferences(Float64Array.from(values), set, loss, EPS);

describe('LSTM projSize: gradient check (js float64, central differences, every element)', () => {
  let largest = 0;
  for (const c of CASES) {
    it(c.name, async () => {
      const model = (await makeModel('js64', config(c))) as Model<Float64Array>;
      const batch = batchOf(c, 17);
      const spec = { loss: c.loss, at: c.at };
      const lossOf = () => model.lossAndGradients(batch, spec).loss;
      const r = model.lossAndGradients(batch, spec);
      const D = c.bidirectional ? 2 : 1;
      expect(r.hN.length).toBe(c.L * D * B * P);
      expect(r.cN!.length).toBe(c.L * D * B * H);
      expect(r.dh0.length).toBe(c.L * D * B * P);
      const names = model.parameterNames();
      for (let l = 0; l < c.L; l++) {
        expect(model.parameterShape(`weight_hr_l${l}`)).toEqual([P, H]);
        expect(model.parameterShape(`weight_hh_l${l}`)).toEqual([4 * H, P]);
        expect(model.parameterShape(`weight_ih_l${l}`)).toEqual([4 * H, l === 0 ? I : D * P]);
        if (c.bidirectional) expect(names).toContain(`weight_hr_l${l}_reverse`);
      }
      expect(model.parameterShape('head.weight')).toEqual([O, D * P]);

      const fd: Record<string, Float64Array> = {};
      const sd = model.stateDict();
      for (const name of names) fd[name] = fdOf(sd[name], (v) => model.setParameter(name, v), lossOf);
      for (const key of ['x', 'h0', 'c0'] as const) {
        fd[key] = fdOf(
          Float64Array.from(batch[key] as Float64Array),
          (v) => {
            batch[key] = v;
          },
          lossOf,
        );
      }
      const floor = Math.max(1e-10, 1e-3 * Math.max(...Object.values(fd).map(maxAbs)));
      for (const [name, want] of Object.entries(fd)) {
        const got = name === 'x' ? r.dx! : name === 'h0' ? r.dh0 : name === 'c0' ? r.dc0! : r.grads[name];
        const err = relErr(got, want, floor);
        largest = Math.max(largest, err);
        expect(err, `${c.name}: ${name}`).toBeLessThan(1e-6);
      }
      // the check can fail: the projection's gradient is not zero
      for (let l = 0; l < c.L; l++) expect(maxAbs(r.grads[`weight_hr_l${l}`])).toBeGreaterThan(1e-3);
      model.dispose();
    });
  }
  it('reports the largest relative error', () => {
    console.log(`projSize gradcheck: largest relative error ${largest.toExponential(3)}`);
    expect(largest).toBeGreaterThan(0);
  });
});

describe('LSTM projSize: every Wasm build agrees with the float64 reference', () => {
  const builds = ['simd', 'relaxed', 'scalar', 'threads'] as const;
  for (const variant of builds) {
    for (const clip of [0, 0.05]) {
      it(`${variant}${clip ? `, clipHiddenNorm ${clip}` : ''}`, async () => {
        const core = await loadCore({ variant, threads: variant === 'threads' ? 2 : 1 });
        let worst = 0;
        for (const c of CASES) {
          const ref = await makeModel('js64', config(c));
          const wasm = await createModel({ ...config(c), backend: 'wasm', core });
          wasm.loadStateDict(ref.stateDict());
          const batch = batchOf(c, 23);
          const spec = { loss: c.loss, at: c.at };
          const options = { diagnostics: true, ...(clip ? { clipHiddenNorm: clip } : {}) };
          const a = wasm.lossAndGradients(batch, spec, options);
          const b = ref.lossAndGradients(batch, spec, options);
          const errors = [relErr(a.y, b.y), relErr(a.hN, b.hN), relErr(a.cN!, b.cN!), relErr(a.dh0, b.dh0), relErr(a.dc0!, b.dc0!)];
          errors.push(relErr(a.dx!, b.dx!));
          for (const name of ref.parameterNames()) errors.push(relErr(a.grads[name], b.grads[name]));
          for (let l = 0; l < a.gradNormsOverTime!.length; l++) errors.push(relErr(a.gradNormsOverTime![l], b.gradNormsOverTime![l]));
          const out = wasm.forward(batch).outputs,
            refOut = ref.forward(batch).outputs;
          expect(out.length).toBe(T * B * (c.bidirectional ? 2 : 1) * P);
          errors.push(relErr(out, refOut));
          const e = Math.max(...errors);
          expect(e, `${variant} ${c.name}`).toBeLessThan(2e-5);
          worst = Math.max(worst, e);
          if (clip) {
            // clipping acted: the clipped gradients differ from the exact ones
            const exact = ref.lossAndGradients(batch, spec);
            expect(relErr(exact.grads.weight_hr_l0, b.grads.weight_hr_l0)).toBeGreaterThan(1e-3);
          }
          wasm.dispose();
          ref.dispose();
        }
        console.log(`projSize ${variant}${clip ? ` clip ${clip}` : ''}: largest relative error vs js float64 ${worst.toExponential(2)}`);
      });
    }
  }
});

describe('LSTM projSize: every build against PyTorch (the proj_* fixtures, float64 autograd)', () => {
  const names = torchFixtureNames().filter((n) => n.startsWith('proj_'));
  it('has its fixtures', () => expect(names.length).toBeGreaterThanOrEqual(6));
  for (const variant of ['simd', 'relaxed', 'scalar', 'threads', 'js', 'js64'] as const) {
    it(variant, async () => {
      let worst = 0;
      for (const name of names) {
        const fx = torchFixture(name),
          c = fx.config;
        const cfg = fixtureModelOptions(c);
        const model =
          variant === 'js' || variant === 'js64'
            ? await makeModel(variant, cfg)
            : await createModel({ ...cfg, core: await loadCore({ variant, threads: variant === 'threads' ? 2 : 1 }) });
        model.loadStateDict(fx.params);
        const input = { x: fx.x, T: c.T, B: c.B, h0: fx.h0, c0: fx.c0 ?? undefined, lengths: fx.lengths ?? undefined };
        const r = model.lossAndGradients({ ...input, y: fx.y }, { loss: c.loss, at: c.at, reduction: c.reduction });
        const errors = [Math.abs(r.loss - fx.loss) / Math.max(Math.abs(fx.loss), 1e-3), relErr(r.hN, fx.hN), relErr(r.cN!, fx.cN!)];
        for (const [p, g] of Object.entries(fx.grads))
          errors.push(relErr(p === 'h0' ? r.dh0 : p === 'c0' ? r.dc0! : p === 'x' ? r.dx! : r.grads[p], g));
        errors.push(relErr(model.forward(input, { at: c.at }).outputs, fx.outputs));
        const e = Math.max(...errors);
        expect(e, `${variant} ${name}`).toBeLessThan(1e-5);
        worst = Math.max(worst, e);
        model.dispose();
      }
      console.log(`projSize vs PyTorch, ${variant}: largest relative error ${worst.toExponential(2)}`);
    });
  }
});

describe('LSTM projSize: configuration and states', () => {
  const base = { inputSize: 3, hiddenSize: 5, outputSize: 2, backend: 'js' as const };
  it('is refused for an RNN or a GRU, naming the option', async () => {
    await expect(createModel({ ...base, cell: 'gru', projSize: 2 })).rejects.toThrow(ConfigError);
    await expect(createModel({ ...base, cell: 'rnn', projSize: 2 })).rejects.toThrow(/config\.projSize.*only an LSTM/);
  });
  it('is refused by rtrlGradients, which implements the plain stack only', async () => {
    const { rtrlGradients } = await import('../../src/train/rtrl.js');
    const m = await createModel({ ...base, cell: 'lstm', projSize: 2, dtype: 'float64' });
    expect(() => rtrlGradients(m, { x: new Float64Array(3), y: new Float64Array(2), T: 1, B: 1 }, 'mse')).toThrow(/projSize 2/);
    m.dispose();
  });
  it('must be an integer in [1, hiddenSize − 1]', async () => {
    for (const bad of [5, 6, -1, 1.5, Number.NaN, '2' as never])
      await expect(createModel({ ...base, cell: 'lstm', projSize: bad }), String(bad)).rejects.toThrow(/config\.projSize/);
    await expect(createModel({ ...base, cell: 'lstm', projSize: 5 })).rejects.toThrow(/\[1, 4\].*got 5/);
    const m = await createModel({ ...base, cell: 'lstm', projSize: 4 });
    expect(m.config.projSize).toBe(4);
    m.dispose();
  });
  it('takes h0 with P features per row and c0 with H, and says so when they are wrong', async () => {
    const m = await createModel({ ...base, cell: 'lstm', projSize: 2 });
    const x = new Float32Array(4 * 2 * 3);
    expect(() => m.predict({ x, T: 4, B: 2, h0: new Float32Array(2 * 5) })).toThrow(/batch\.h0.*projSize/);
    expect(() => m.predict({ x, T: 4, B: 2, c0: new Float32Array(2 * 2) })).toThrow(/batch\.c0/);
    const r = m.predict({ x, T: 4, B: 2, h0: new Float32Array(2 * 2), c0: new Float32Array(2 * 5) });
    expect(r.hN.length).toBe(2 * 2);
    expect(r.cN!.length).toBe(2 * 5);
    m.dispose();
  });
  it('trains with stateful TBPTT, carrying h [L,B,P] and c [L,B,H], also through a checkpoint', async () => {
    const m = await createModel({ ...base, cell: 'lstm', projSize: 2, numLayers: 2 });
    const tr = new Trainer(m, { loss: 'mse', tbptt: { k1: 3, k2: 5 } });
    const rand = lcg(3);
    const chunk = () => ({ x: randn(3 * 2 * 3, rand), y: randn(3 * 2 * 2, rand), T: 3, B: 2 });
    for (let s = 0; s < 3; s++) tr.stepStateful(chunk());
    const state = tr.getCarriedState()!;
    expect(state.h.length).toBe(2 * 2 * 2);
    expect(state.c!.length).toBe(2 * 2 * 5);
    const restored = await restoreCheckpoint(checkpointToSafetensors(tr), { backend: 'js' });
    const next = chunk();
    expect(restored.trainer.stepStateful(next).loss).toBe(tr.stepStateful(next).loss);
    expect(restored.model.stateDict()).toEqual(m.stateDict());
    restored.model.dispose();
    m.dispose();
  });
  it('survives the model file (configuration and weights, predictions bit for bit)', async () => {
    const m = await createModel({ ...base, cell: 'lstm', projSize: 3, bidirectional: true, numLayers: 2 });
    const { modelFromSafetensors } = await import('../../src/model-file.js');
    const again = await modelFromSafetensors(m.toSafetensors(), { backend: 'js' });
    expect(again.config.projSize).toBe(3);
    expect(again.parameterNames()).toEqual(m.parameterNames());
    const x = randn(4 * 2 * 3, lcg(9));
    expect(Array.from(again.predict({ x, T: 4, B: 2 }).y)).toEqual(Array.from(m.predict({ x, T: 4, B: 2 }).y));
    m.dispose();
    again.dispose();
  });
});
