// Shared by the layer tests: the cells, a model configuration, a linear functional of everything
// forward returns (whose gradient backward gives), and central finite differences.
import type { BackwardResult, ForwardOptions, Model, PredictInput } from '../../src/model/model.js';
import { lcg, randInts, randn, relErr, centralDifferences } from '../helpers.js';

export type Cell = 'rnn' | 'lstm' | 'gru';
export interface CellCase {
  cell: Cell;
  relu?: boolean;
}
export const CELLS: CellCase[] = [{ cell: 'rnn' }, { cell: 'rnn', relu: true }, { cell: 'lstm' }, { cell: 'gru' }];
export const label = (c: CellCase): string => (c.cell === 'rnn' ? (c.relu ? 'rnn-relu' : 'rnn-tanh') : c.cell);

export function layerConfig(c: CellCase, I: number, H: number, O: number, L: number, input: 'dense' | 'tokens' = 'dense') {
  return {
    cell: c.cell,
    nonlinearity: c.relu ? ('relu' as const) : ('tanh' as const),
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    numLayers: L,
    input,
    seed: 3,
  };
}

/** Σ wo·outputs + Σ wh·hN + Σ wc·cN + Σ wy·y: linear, so its gradient is backward(weights). */
export function functional(
  model: Model,
  input: PredictInput,
  w: { dOutputs: Float64Array; dhN: Float64Array; dcN?: Float64Array; dy: Float64Array },
  options: ForwardOptions = {},
): number {
  const f = model.forward(input, options);
  let e = 0;
  for (let i = 0; i < f.outputs.length; i++) e += w.dOutputs[i] * f.outputs[i];
  for (let i = 0; i < f.hN.length; i++) e += w.dhN[i] * f.hN[i];
  if (f.cN && w.dcN) for (let i = 0; i < f.cN.length; i++) e += w.dcN[i] * f.cN[i];
  for (let i = 0; i < f.y.length; i++) e += w.dy[i] * f.y[i];
  return e;
}

/** Central differences of e() over every element of `values`, each written back by `write`. */
export const numeric = (values: Float64Array, write: (v: Float64Array) => void, e: () => number, eps = 1e-6): Float64Array =>
  centralDifferences(values, write, e, eps);

/** A batch for `model`: x (or ids), h0 and c0 of its shapes, and with `lengths` unsorted lengths (one full, one of a single step). */
export function inputFor(rand: () => number, model: Model, T: number, B: number, lengths: boolean): PredictInput {
  const c = model.config;
  const LD = c.numLayers * (c.bidirectional ? 2 : 1);
  const input: PredictInput = {
    x: c.input === 'tokens' ? randInts(T * B, c.inputSize, rand) : randn(T * B * c.inputSize, rand),
    T,
    B,
    h0: randn(LD * B * c.hiddenSize, rand, 0.5),
    c0: c.cell === 'lstm' ? randn(LD * B * c.hiddenSize, rand, 0.5) : undefined,
  };
  // unsorted lengths, one full, one of a single step
  if (lengths) input.lengths = Array.from({ length: B }, (_, b) => (b === B - 1 ? T : b === 0 ? 1 : 1 + ((b * 3) % T)));
  return input;
}

/** backward(w) against central differences of functional(w) over x, h0, c0 and every parameter. */
export function checkAgainstDifferences(model: Model, input: PredictInput, at: 'every' | 'last', training = false): Record<string, number> {
  const c = model.config;
  const { T, B } = input;
  const D = c.bidirectional ? 2 : 1,
    H = c.hiddenSize,
    LD = c.numLayers * D;
  const rand = lcg(909);
  const w = {
    dOutputs: Float64Array.from(randn(T * B * D * H, rand)),
    dhN: Float64Array.from(randn(LD * B * H, rand)),
    dcN: c.cell === 'lstm' ? Float64Array.from(randn(LD * B * H, rand)) : undefined,
    dy: Float64Array.from(randn((at === 'every' ? T * B : B) * c.outputSize, rand)),
  };
  // with dropout every pass restarts the model's generator here: the same masks throughout
  const rngState = model.rng.getState();
  const e = () => {
    model.rng.setState(rngState);
    return functional(model, input, w, { at, training });
  };
  model.rng.setState(rngState);
  model.forward(input, { at, training });
  return differenceErrors(model, input, model.backward(w), e);
}

/**
 * The relative error of backward's result `r` against central differences of `e` (the loss as
 * a function of the model and `input`) over x (dense input), h0, c0 (LSTM) and every parameter.
 */
export function differenceErrors(model: Model, input: PredictInput, r: BackwardResult, e: () => number): Record<string, number> {
  const c = model.config;
  const errs: Record<string, number> = {};
  if (c.input === 'dense') {
    const x = Float64Array.from(input.x);
    errs.dx = relErr(
      r.dx!,
      numeric(
        x,
        (v) => {
          input.x = v;
        },
        e,
      ),
    );
  }
  const h0 = Float64Array.from(input.h0!);
  errs.dh0 = relErr(
    r.dh0,
    numeric(
      h0,
      (v) => {
        input.h0 = v;
      },
      e,
    ),
  );
  if (c.cell === 'lstm') {
    const c0 = Float64Array.from(input.c0!);
    errs.dc0 = relErr(
      r.dc0!,
      numeric(
        c0,
        (v) => {
          input.c0 = v;
        },
        e,
      ),
    );
  }
  for (const name of model.parameterNames()) {
    const p = Float64Array.from(model.getParameter(name));
    errs[name] = relErr(
      r.grads[name],
      numeric(p, (v) => model.setParameter(name, v), e),
    );
  }
  return errs;
}
