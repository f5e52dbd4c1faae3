// The recurrent stack as a layer: model.forward / model.backward.
//  * forward + ∂loss/∂y + backward({ dy }) gives lossAndGradients' gradients bit for bit on the js
//    backends (∂loss/∂y written here as the js kernels form it), and to float32 rounding on Wasm;
//  * a functional of everything forward returns (outputs, hN, cN, y), and a loss of our own
//    (MSE of the top layer's last state through a linear readout written here), differentiated by
//    backward and by central finite differences in float64 (js64): every element of x, h0, c0
//    and every parameter, for every cell, 1–3 layers, no mask / lengths / a mask with holes;
//  * a model trained through that loss of our own learns;
//  * backward is refused (NoForwardError) without a forward to differentiate.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NoForwardError } from '../../src/errors.js';
import type { PredictInput } from '../../src/model/model.js';
import { lcg, makeModel, randInts, randn, relErr, type BackendName } from '../helpers.js';
import { CELLS, type Cell, differenceErrors, functional, label, layerConfig, numeric } from './layer-helpers.js';

type MaskKind = 'none' | 'lengths' | 'holes';
const config = layerConfig;

/** x, h0, c0 and the state mask of one batch (the holes variant has padding inside sequences). */
function makeInput(
  rand: () => number,
  cell: Cell,
  T: number,
  B: number,
  I: number,
  H: number,
  L: number,
  mask: MaskKind,
  tokens = false,
): PredictInput {
  const input: PredictInput = {
    x: tokens ? randInts(T * B, I, rand) : randn(T * B * I, rand),
    T,
    B,
    h0: randn(L * B * H, rand, 0.5),
    c0: cell === 'lstm' ? randn(L * B * H, rand, 0.5) : undefined,
  };
  if (mask === 'lengths') input.lengths = Array.from({ length: B }, (_, b) => (b === B - 1 ? T : 1 + ((b * 2) % T)));
  if (mask === 'holes') {
    const m = new Float32Array(T * B).fill(1);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if ((t + 2 * b) % 3 === 1) m[t * B + b] = 0;
    input.mask = m;
  }
  return input;
}

/** ∂loss/∂y with the same float operations, in the same order, as the js kernels (backends/js.ts). */
function lossGradient(
  y: ArrayLike<number>,
  R: number,
  O: number,
  loss: 'mse' | 'cross-entropy',
  targets: ArrayLike<number>,
  weights: ArrayLike<number> | null,
  scale: number,
): Float64Array {
  const dy = new Float64Array(R * O);
  for (let r = 0; r < R; r++) {
    const w = weights ? weights[r] : 1;
    if (loss === 'mse') {
      for (let o = 0; o < O; o++) dy[r * O + o] = 2 * scale * w * (y[r * O + o] - targets[r * O + o]);
      continue;
    }
    if (w === 0) continue;
    let mx = -Infinity;
    for (let o = 0; o < O; o++) mx = Math.max(mx, y[r * O + o]);
    let sum = 0;
    for (let o = 0; o < O; o++) sum += Math.exp(y[r * O + o] - mx);
    for (let o = 0; o < O; o++) dy[r * O + o] = scale * w * (Math.exp(y[r * O + o] - mx) / sum - (o === targets[r] ? 1 : 0));
  }
  return dy;
}

function stateMask(input: PredictInput): number[] {
  const { T, B } = input;
  const m = new Array<number>(T * B).fill(1);
  if (input.mask) for (let i = 0; i < T * B; i++) m[i] = input.mask[i];
  if (input.lengths) for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) m[t * B + b] = t < input.lengths[b] ? 1 : 0;
  return m;
}

describe('forward + ∂loss/∂y + backward = lossAndGradients', () => {
  const backends: BackendName[] = ['js64', 'js', 'wasm', 'wasm-scalar'];
  for (const backend of backends) {
    for (const c of CELLS) {
      for (const [L, loss, at, mask, tokens] of [
        [1, 'mse', 'every', 'none', false],
        [2, 'cross-entropy', 'every', 'lengths', false],
        [3, 'mse', 'last', 'holes', false],
        [3, 'cross-entropy', 'last', 'lengths', false],
        [2, 'cross-entropy', 'every', 'holes', true],
      ] as const) {
        it(`${backend} ${label(c)} L${L} ${loss} at ${at}, mask ${mask}${tokens ? ', tokens' : ''}`, async () => {
          const I = tokens ? 6 : 5,
            H = 7,
            O = 3,
            T = 5,
            B = 3;
          const rand = lcg(17 + L);
          const model = await makeModel(backend, config(c, I, H, O, L, tokens ? 'tokens' : 'dense'));
          const input = makeInput(rand, c.cell, T, B, I, H, L, mask, tokens);
          const R = at === 'every' ? T * B : B;
          const targets = loss === 'mse' ? randn(R * O, rand) : randInts(R, O, rand);
          const spec = { loss, at, reduction: 'mean' } as const;
          const ref = model.lossAndGradients({ ...input, y: targets }, spec);

          const fw = model.forward(input, { at });
          const m = stateMask(input);
          const weights = at === 'every' && (input.mask || input.lengths) ? m : null;
          const realRows = at === 'every' ? m.reduce((a, b) => a + b, 0) : B;
          const dy = lossGradient(fw.y, R, O, loss, targets, weights, 1 / (realRows * (loss === 'mse' ? O : 1)));
          const r = model.backward({ dy });

          const exact = backend === 'js' || backend === 'js64';
          const same = (a: ArrayLike<number> | null, b: ArrayLike<number> | null, what: string) => {
            expect(a === null, what).toBe(b === null);
            if (a === null || b === null) return;
            if (exact) expect(Array.from(a), what).toEqual(Array.from(b));
            else expect(relErr(a, b), what).toBeLessThan(1e-5);
          };
          expect(Array.from(fw.y)).toEqual(Array.from(ref.y));
          expect(Array.from(fw.hN)).toEqual(Array.from(ref.hN));
          for (const name of model.parameterNames()) same(r.grads[name], ref.grads[name], name);
          same(r.dx, ref.dx, 'dx');
          same(r.dh0, ref.dh0, 'dh0');
          same(r.dc0, ref.dc0, 'dc0');
          expect(r.dx === null).toBe(tokens);
          model.dispose();
        });
      }
    }
  }
});

describe('backward against finite differences (js64: every element of x, h0, c0 and the parameters)', () => {
  const cases: [number, MaskKind, number, number, number, number][] = [
    // L, mask, I, H, T, B: odd sizes throughout
    [1, 'none', 3, 5, 4, 2],
    [2, 'lengths', 3, 5, 5, 3],
    [3, 'holes', 5, 3, 5, 3],
    [3, 'lengths', 7, 9, 3, 1 + 1],
  ];
  for (const c of CELLS) {
    for (const [L, mask, I, H, T, B] of cases) {
      it(`${label(c)} L${L} I${I} H${H} T${T} B${B} mask ${mask}`, async () => {
        const O = 3;
        const model = await makeModel('js64', config(c, I, H, O, L));
        const rand = lcg(101 + L * 7 + I);
        const input = makeInput(rand, c.cell, T, B, I, H, L, mask);
        const w = {
          dOutputs: Float64Array.from(randn(T * B * H, rand)),
          dhN: Float64Array.from(randn(L * B * H, rand)),
          dcN: c.cell === 'lstm' ? Float64Array.from(randn(L * B * H, rand)) : undefined,
          dy: Float64Array.from(randn(T * B * O, rand)),
        };
        model.forward(input);
        const r = model.backward(w);
        const errs = differenceErrors(model, input, r, () => functional(model, input, w));
        for (const [what, err] of Object.entries(errs)) expect(err, what).toBeLessThan(1e-6);
        // padded rows of outputs are 0 and their gradient is ignored
        const m = stateMask(input),
          f = model.forward(input);
        for (let r0 = 0; r0 < T * B; r0++) if (!m[r0]) for (let j = 0; j < H; j++) expect(f.outputs[r0 * H + j]).toBe(0);
        model.dispose();
      });
    }
  }
});

/** Our own head and loss: E = mean over (b, k) of (hN_top·Vᵀ − target)², V [K,H] held here. */
function ownLoss(hN: ArrayLike<number>, L: number, B: number, H: number, V: Float64Array, K: number, target: ArrayLike<number>) {
  const top = (L - 1) * B * H;
  const dhN = new Float64Array(L * B * H),
    dV = new Float64Array(K * H);
  let e = 0;
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      let z = 0;
      for (let j = 0; j < H; j++) z += V[k * H + j] * hN[top + b * H + j];
      const d = z - target[b * K + k];
      e += (d * d) / (B * K);
      const g = (2 * d) / (B * K);
      for (let j = 0; j < H; j++) {
        dhN[top + b * H + j] += g * V[k * H + j];
        dV[k * H + j] += g * hN[top + b * H + j];
      }
    }
  }
  return { e, dhN, dV };
}

describe('a head and loss of our own', () => {
  it('its gradients through backward({ dhN }) equal finite differences (js64, GRU, 2 layers, lengths)', async () => {
    const L = 2,
      I = 3,
      H = 5,
      K = 2,
      T = 6,
      B = 3;
    const model = await makeModel('js64', config({ cell: 'gru' }, I, H, 1, L));
    const rand = lcg(5);
    const input = makeInput(rand, 'gru', T, B, I, H, L, 'lengths');
    const V = Float64Array.from(randn(K * H, rand, 0.5)),
      target = randn(B * K, rand);
    const E = () => ownLoss(model.forward(input).hN, L, B, H, V, K, target).e;
    const f = model.forward(input);
    const own = ownLoss(f.hN, L, B, H, V, K, target);
    const r = model.backward({ dhN: own.dhN });
    // the built-in head takes no part: its gradients are 0
    expect(Array.from(r.grads['head.weight']).every((v) => v === 0)).toBe(true);
    const x = Float64Array.from(input.x);
    expect(
      relErr(
        r.dx!,
        numeric(
          x,
          (v) => {
            input.x = v;
          },
          E,
        ),
      ),
    ).toBeLessThan(1e-6);
    for (const name of model.parameterNames().filter((n) => !n.startsWith('head'))) {
      const p = Float64Array.from(model.getParameter(name));
      expect(
        relErr(
          r.grads[name],
          numeric(p, (v) => model.setParameter(name, v), E),
        ),
        name,
      ).toBeLessThan(1e-6);
    }
    expect(
      relErr(
        own.dV,
        numeric(V, () => {}, E),
      ),
    ).toBeLessThan(1e-6);
    model.dispose();
  });

  for (const backend of ['wasm', 'js64'] as const) {
    it(`trains: SGD through forward/backward learns to report the mean of its inputs (${backend}, LSTM)`, async () => {
      const L = 1,
        I = 2,
        H = 8,
        K = 1,
        T = 6,
        B = 16;
      const model = await makeModel(backend, config({ cell: 'lstm' }, I, H, 1, L));
      const rand = lcg(9);
      const V = Float64Array.from(randn(K * H, rand, 0.3));
      const batch = () => {
        const x = randn(T * B * I, rand),
          target = new Float64Array(B);
        for (let b = 0; b < B; b++) {
          let s = 0;
          for (let t = 0; t < T; t++) s += x[(t * B + b) * I];
          target[b] = s / T;
        }
        return { input: { x, T, B }, target };
      };
      const names = model.parameterNames().filter((n) => !n.startsWith('head'));
      const lr = 0.3;
      let first = 0,
        last = 0;
      for (let step = 0; step < 300; step++) {
        const { input, target } = batch();
        const own = ownLoss(model.forward(input).hN, L, B, H, V, K, target);
        const r = model.backward({ dhN: own.dhN });
        for (const name of names) {
          const p = model.getParameter(name),
            g = r.grads[name];
          for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
          model.setParameter(name, p);
        }
        for (let i = 0; i < V.length; i++) V[i] -= lr * own.dV[i];
        if (step < 10) first += own.e / 10;
        if (step >= 290) last += own.e / 10;
      }
      expect(last).toBeLessThan(first / 4);
      model.dispose();
    });
  }
});

describe('backward refuses', () => {
  it('without a forward, twice, after another call ran the model, and after the weights changed (NoForwardError)', async () => {
    const model = await makeModel('wasm', config({ cell: 'lstm' }, 3, 4, 2, 2));
    const rand = lcg(1);
    const input = makeInput(rand, 'lstm', 3, 2, 3, 4, 2, 'none');
    const dOutputs = new Float32Array(3 * 2 * 4).fill(1);
    const refused = (what: string) => {
      let err: unknown;
      try {
        model.backward({ dOutputs });
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(NoForwardError);
      expect((err as NoForwardError).code, what).toBe('NO_FORWARD');
    };
    refused('no forward yet');
    model.forward(input);
    model.backward({ dOutputs });
    refused('the forward was used');
    model.forward(input);
    model.predict(input);
    refused('predict ran since');
    model.forward(input);
    model.lossAndGradients({ ...input, y: new Float32Array(3 * 2 * 2) }, 'mse');
    refused('lossAndGradients ran since');
    model.forward(input);
    model.setParameter('bias_hh_l0', new Float32Array(16));
    refused('the weights changed');
    model.forward(input);
    model.markWeightsChanged();
    refused('markWeightsChanged');
    // a refused call leaves the forward usable; a good one then works
    model.forward(input);
    expect(() => model.backward({ dOutputs: new Float32Array(5) })).toThrow(InvalidArgumentError);
    expect(() => model.backward({ dOutputs, dY: [] } as never)).toThrow(InvalidArgumentError);
    expect(model.backward({ dOutputs }).dx).toHaveLength(3 * 2 * 3);
    model.dispose();
  });

  it('a cell state gradient on a model without one, and dy shaped for the other `at`', async () => {
    const model = await makeModel('js', config({ cell: 'gru' }, 3, 4, 2, 1));
    const input = makeInput(lcg(2), 'gru', 3, 2, 3, 4, 1, 'none');
    model.forward(input, { at: 'last' });
    expect(() => model.backward({ dcN: new Float32Array(8) })).toThrow(/only an LSTM/);
    expect(() => model.backward({ dy: new Float32Array(3 * 2 * 2) })).toThrow(InvalidArgumentError);
    const r = model.backward({ dy: new Float32Array(2 * 2).fill(1) });
    expect(r.dc0).toBeNull();
    expect(Array.from(r.grads['head.bias'])).toEqual([2, 2]);
    model.dispose();
  });

  it('token input has no ∂E/∂x', async () => {
    const model = await makeModel('wasm', config({ cell: 'rnn' }, 5, 4, 5, 1, 'tokens'));
    model.forward({ x: [1, 2, 3, 4], T: 2, B: 2 });
    expect(model.backward({ dhN: new Float32Array(8).fill(1) }).dx).toBeNull();
    model.dispose();
  });
});
