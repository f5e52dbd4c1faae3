// embeddingSize: a learned table embedding.weight [V,E] (nn.Embedding) feeds layer 0 instead of
// the one-hot ids.
//  * backward against finite differences (js64), the table's gradient included (rows scatter-added
//    per occurrence), unidirectional and bidirectional, with lengths;
//  * it is the one-hot model whose W_ih is W_ih·tableᵀ (the same function, to rounding);
//  * the backends agree; it trains; the configuration is checked.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Trainer } from '../../src/train/trainer.js';
import { lcg, makeModel, randInts, relErr, type BackendName } from '../helpers.js';
import { CELLS, checkAgainstDifferences, inputFor, label, layerConfig } from './layer-helpers.js';

const V = 7,
  E = 3;

describe('embedding backward against finite differences (js64)', () => {
  for (const c of CELLS) {
    for (const bidirectional of [false, true]) {
      it(`${label(c)}${bidirectional ? ' bidirectional' : ''} L2, lengths`, async () => {
        const model = await makeModel('js64', { ...layerConfig(c, V, 5, 3, 2, 'tokens'), embeddingSize: E, bidirectional });
        expect(model.parameterShape('embedding.weight')).toEqual([V, E]);
        expect(model.parameterShape('weight_ih_l0')).toEqual([(c.cell === 'lstm' ? 4 : c.cell === 'gru' ? 3 : 1) * 5, E]);
        const input = inputFor(lcg(21), model, 5, 3, true);
        const errs = checkAgainstDifferences(model, input, 'every');
        expect(Object.keys(errs)).toContain('embedding.weight');
        for (const [what, err] of Object.entries(errs)) expect(err, what).toBeLessThan(1e-6);
        model.dispose();
      });
    }
  }
});

describe('the embedding is a factorised one-hot input', () => {
  it('equals the one-hot model with W_ih = W_ih·tableᵀ (js64)', async () => {
    const cfg = layerConfig({ cell: 'lstm' }, V, 5, 3, 2, 'tokens');
    const emb = await makeModel('js64', { ...cfg, embeddingSize: E });
    const hot = await makeModel('js64', cfg);
    const table = emb.getParameter('embedding.weight'),
      wih = emb.getParameter('weight_ih_l0');
    const G = 4 * 5;
    const product = new Float64Array(G * V);
    for (let g = 0; g < G; g++)
      for (let v = 0; v < V; v++) for (let e = 0; e < E; e++) product[g * V + v] += wih[g * E + e] * table[v * E + e];
    for (const name of hot.parameterNames()) hot.setParameter(name, name === 'weight_ih_l0' ? product : emb.getParameter(name));
    const input = { x: randInts(6 * 2, V, lcg(3)), T: 6, B: 2, lengths: [4, 6] };
    expect(relErr(emb.predict(input).y, hot.predict(input).y)).toBeLessThan(1e-13);
    emb.dispose();
    hot.dispose();
  });
});

describe('backends and training', () => {
  it('Wasm and js agree (GRU, bidirectional, lengths)', async () => {
    const results = [];
    for (const backend of ['js', 'wasm'] as BackendName[]) {
      const model = await makeModel(backend, {
        ...layerConfig({ cell: 'gru' }, V, 9, V, 2, 'tokens'),
        embeddingSize: 5,
        bidirectional: true,
      });
      const batch = { x: randInts(7 * 3, V, lcg(1)), y: randInts(7 * 3, V, lcg(2)), T: 7, B: 3, lengths: [7, 2, 5] };
      results.push(model.lossAndGradients(batch, 'cross-entropy'));
      model.dispose();
    }
    expect(Math.abs(results[1].loss - results[0].loss)).toBeLessThan(1e-5);
    for (const name of Object.keys(results[0].grads))
      expect(relErr(results[1].grads[name], results[0].grads[name]), name).toBeLessThan(1e-5);
  });
  it('learns to predict the next id of a cycle', async () => {
    const model = await makeModel('wasm', { ...layerConfig({ cell: 'lstm' }, V, 16, V, 1, 'tokens'), embeddingSize: 4 });
    const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.05 } });
    const T = 8,
      B = 4;
    const x = Int32Array.from({ length: T * B }, (_, i) => (Math.floor(i / B) + (i % B)) % V);
    const y = x.map((v) => (v + 1) % V);
    const first = trainer.step({ x, y, T, B }).loss;
    let last = first;
    for (let i = 0; i < 60; i++) last = trainer.step({ x, y, T, B }).loss;
    expect(last).toBeLessThan(first / 5);
    model.dispose();
  });
  it('only token input has an embedding, of a size in its domain', async () => {
    await expect(makeModel('js', { ...layerConfig({ cell: 'rnn' }, 3, 4, 2, 1), embeddingSize: 2 })).rejects.toThrow(
      /config\.embeddingSize.*dense input/,
    );
    for (const embeddingSize of [1.5, -1, 2 ** 21]) {
      await expect(makeModel('js', { ...layerConfig({ cell: 'rnn' }, 3, 4, 2, 1, 'tokens'), embeddingSize })).rejects.toThrow(ConfigError);
    }
  });
});
