// Outputs, final states, the loss and every gradient against PyTorch (float64 autograd), for
// every fixture made by scripts/make_torch_fixtures.py, on every backend. The layer API is
// checked too: forward()'s hidden sequence against PyTorch's output sequence, and ∂E/∂x
// (lossAndGradients' dx) against x.grad; test/model/layer-api.test.ts shows that
// forward() + backward({ dy }) gives lossAndGradients' numbers bit for bit.
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_BACKENDS, makeModel, relErr, torchFixture, torchFixtureNames, fixtureModelOptions } from '../helpers.js';

const names = torchFixtureNames();
const TOL = Number(process.env.FIXTURE_TOL ?? 1e-5);
/** The largest error of the layer API's paths per backend and cell, printed at the end. */
const worst = new Map<string, { outputs: number; dx: number; any: number }>();
afterAll(() => {
  for (const [k, v] of [...worst].sort())
    console.log(`${k}: outputs ${v.outputs.toExponential(2)}, dx ${v.dx.toExponential(2)}, any quantity ${v.any.toExponential(2)}`);
});

describe('PyTorch fixtures', () => {
  it('are present (regenerate with scripts/make_torch_fixtures.py)', () => {
    expect(names.length).toBeGreaterThanOrEqual(40);
  });

  // js64 too: float64 throughout, so its errors show how exact the equations are, not float32's rounding
  for (const backend of [...ALL_BACKENDS, 'js64' as const]) {
    describe(backend, () => {
      for (const name of names) {
        it(name, async () => {
          const fx = torchFixture(name);
          const c = fx.config;
          const model = await makeModel(backend, fixtureModelOptions(c));
          model.loadStateDict(fx.params);
          const r = model.lossAndGradients(
            { x: fx.x, y: fx.y, T: c.T, B: c.B, h0: fx.h0, c0: fx.c0 ?? undefined, lengths: fx.lengths ?? undefined },
            { loss: c.loss, at: c.at, reduction: c.reduction, classWeights: c.classWeights },
          );
          const errors: Record<string, number> = {};
          // padded rows of an every-step prediction are not outputs (PyTorch pads them with 0)
          const y = Array.from(r.y);
          if (c.masked && c.at === 'every') {
            for (let t = 0; t < c.T; t++)
              for (let b = 0; b < c.B; b++) {
                if (t >= fx.lengths![b]) for (let o = 0; o < c.outputSize; o++) y[(t * c.B + b) * c.outputSize + o] = 0;
              }
          }
          errors.predictions = relErr(y, fx.predictions);
          errors.loss = Math.abs(r.loss - fx.loss) / Math.max(Math.abs(fx.loss), 1e-3);
          errors.hN = relErr(r.hN, fx.hN);
          if (fx.cN) errors.cN = relErr(r.cN!, fx.cN);
          for (const [pname, g] of Object.entries(fx.grads)) {
            const mine = pname === 'h0' ? r.dh0 : pname === 'c0' ? r.dc0! : pname === 'x' ? r.dx! : r.grads[pname];
            errors[`grad ${pname}`] = relErr(mine, g);
          }
          expect(r.dx === null, `${name}: dx only for dense input`).toBe(c.input === 'tokens');
          // the layer API: forward's hidden sequence, and backward from PyTorch-equal ∂loss/∂y
          const input = { x: fx.x, T: c.T, B: c.B, h0: fx.h0, c0: fx.c0 ?? undefined, lengths: fx.lengths ?? undefined };
          const fw = model.forward(input, { at: c.at });
          errors.outputs = relErr(fw.outputs, fx.outputs);
          errors['forward hN'] = relErr(fw.hN, fx.hN);
          const layers = `${c.bidirectional ? ' bidirectional' : ''}${c.bias === false ? ' no-bias' : ''}${c.projSize ? ' projSize' : ''}${c.classWeights ? ' class-weights' : ''}`;
          const key = `${backend} ${c.cell}${c.cell === 'rnn' ? `-${c.nonlinearity}` : ''}${layers}`;
          const seen = worst.get(key) ?? { outputs: 0, dx: 0, any: 0 };
          seen.any = Math.max(seen.any, ...Object.values(errors));
          seen.outputs = Math.max(seen.outputs, errors.outputs);
          if (fx.grads.x) seen.dx = Math.max(seen.dx, errors['grad x']);
          worst.set(key, seen);
          for (const [what, e] of Object.entries(errors)) expect(e, `${name} ${what}`).toBeLessThan(TOL);
          model.dispose();
        });
      }
    });
  }
});
