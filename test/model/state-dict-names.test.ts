// Loading the state_dict of a PyTorch module that holds the recurrent stack and the head as
// submodules (`lstm.weight_ih_l0`, `fc.weight`): `{ prefix, head, rename }` map its names to the
// model's, and a mismatch is one error listing the missing, the unexpected and every expected
// name (with the options to pass when the names show them). The evidence from PyTorch itself is
// test/fixtures/torch/safetensors/module_lstm_fc, an nn.Module's state_dict written by
// scripts/make_torch_fixtures.py (--module-only) with PyTorch's outputs for it.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError } from '../../src/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { loadSafetensorsInto } from '../../src/model/serialize.js';
import { ALL_BACKENDS, makeModel, relErr } from '../helpers.js';

const dir = new URL('../fixtures/torch/safetensors/', import.meta.url);
const fx = JSON.parse(readFileSync(new URL('module_lstm_fc.json', dir), 'utf8')) as {
  config: { inputSize: number; hiddenSize: number; outputSize: number; numLayers: number; T: number; B: number };
  names: string[];
  x: number[];
  h0: number[];
  c0: number[];
  y: number[];
  hN: number[];
  cN: number[];
};
const bytes = new Uint8Array(readFileSync(new URL('module_lstm_fc.safetensors', dir)));
const c = fx.config;
const config = {
  cell: 'lstm' as const,
  inputSize: c.inputSize,
  hiddenSize: c.hiddenSize,
  outputSize: c.outputSize,
  numLayers: c.numLayers,
};
let worst = 0;
afterAll(() => console.log(`PyTorch module state_dict (lstm. / fc.) → unrolled: max relative error ${worst.toExponential(2)}`));

describe("a PyTorch module's state_dict", () => {
  it('carries the submodules’ names', () => {
    expect([...decodeSafetensors(bytes).tensors.keys()]).toEqual(fx.names);
    expect(fx.names).toContain('lstm.weight_ih_l0');
    expect(fx.names).toContain('fc.weight');
  });

  it('without options: one error with the missing, the unexpected and the expected names, and the options to pass', async () => {
    const model = await makeModel('js', config);
    let message = '';
    try {
      loadSafetensorsInto(model, bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      message = (e as Error).message;
    }
    expect(message).toContain('unexpected tensor "lstm.weight_ih_l0"');
    expect(message).toContain('unexpected tensor "fc.bias"');
    expect(message).toContain('tensor "weight_ih_l0" is missing (shape [28, 5])');
    expect(message).toContain('tensor "head.weight" is missing (shape [3, 7])');
    expect(message).toContain("the model's tensors are exactly weight_ih_l0, weight_hh_l0");
    expect(message).toContain('pass { prefix: "lstm.", head: "fc." }');
  });

  for (const backend of ALL_BACKENDS) {
    it(`loads with { prefix: "lstm.", head: "fc." } on ${backend} and gives PyTorch's outputs`, async () => {
      const model = await makeModel(backend, config);
      model.loadSafetensors(bytes, { prefix: 'lstm.', head: 'fc.' });
      const r = model.predict({ x: fx.x, T: c.T, B: c.B, h0: fx.h0, c0: fx.c0 });
      for (const [what, e] of Object.entries({ y: relErr(r.y, fx.y), hN: relErr(r.hN, fx.hN), cN: relErr(r.cN!, fx.cN) })) {
        worst = Math.max(worst, e);
        expect(e, what).toBeLessThan(1e-5);
      }
    });
  }

  it('rename as an object or a function (null skips a tensor), and prefix/head for the names it leaves', async () => {
    const model = await makeModel('js', config);
    const tensors = decodeSafetensors(bytes).tensors;
    const dict: Record<string, Float32Array> = {};
    for (const [n, t] of tensors) dict[n] = t.data as Float32Array;
    model.loadStateDict(dict, { prefix: 'lstm.', rename: { 'fc.weight': 'head.weight', 'fc.bias': 'head.bias' } });
    expect(Array.from(model.getParameter('head.bias'))).toEqual(Array.from(dict['fc.bias']));
    const other = await makeModel('js', config);
    other.loadStateDict(
      { ...dict, 'bn.num_batches_tracked': new Float32Array(1) },
      { rename: (n) => (n.startsWith('bn.') ? null : n.replace(/^lstm\./, '').replace(/^fc\./, 'head.')) },
    );
    expect(other.stateDict()).toEqual(model.stateDict());
  });

  it('refuses two names that map to one parameter, bad options, and writes nothing on failure', async () => {
    const model = await makeModel('js', config);
    const before = model.stateDict();
    const dict: Record<string, Float32Array> = {};
    for (const [n, t] of decodeSafetensors(bytes).tensors) dict[n] = t.data as Float32Array;
    expect(() => model.loadStateDict({ ...dict, 'head.weight': dict['fc.weight'] }, { prefix: 'lstm.', head: 'fc.' })).toThrow(
      /"(fc|head)\.weight" and "(head|fc)\.weight" both map to "head\.weight"/,
    );
    expect(() => model.loadStateDict(dict, { prefix: '' })).toThrow(/names\.prefix: expected a non-empty string/);
    expect(() => model.loadStateDict(dict, { prefx: 'lstm.' } as never)).toThrow(/names: expected only the keys prefix, head, rename/);
    expect(() => model.loadStateDict(dict, { prefix: 'lstm.' })).toThrow(InvalidArgumentError);
    expect(() => model.loadStateDict(dict, { prefix: 'lstm.' })).toThrow(
      /unexpected tensor "fc\.weight".*tensor "head\.weight" is missing.*pass \{ head: "fc\." \}/,
    );
    expect(model.stateDict()).toEqual(before);
  });

  it('a file written by our encoder with a module prefix loads too', async () => {
    const src = await makeModel('js', { ...config, seed: 9 });
    const named = src.parameterNames().map((n) => ({
      name: n.startsWith('head.') ? n.replace('head.', 'classifier.') : `encoder.rnn.${n}`,
      dtype: 'F32' as const,
      shape: src.parameterShape(n),
      data: src.getParameter(n),
    }));
    const dst = await makeModel('wasm', config);
    loadSafetensorsInto(dst, encodeSafetensors(named), { prefix: 'encoder.rnn.', head: 'classifier.' });
    expect(dst.stateDict()).toEqual(src.stateDict());
  });
});
