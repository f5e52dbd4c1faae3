// Shared by the layer tests: the cells, a model configuration, a linear functional of everything
// forward returns (whose gradient backward gives), and central finite differences.
import type { ForwardOptions, Model, PredictInput } from '../../src/model/model.js';

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
export function numeric(values: Float64Array, write: (v: Float64Array) => void, e: () => number, eps = 1e-6): Float64Array {
  const g = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    values[i] = v + eps;
    write(values);
    const up = e();
    values[i] = v - eps;
    write(values);
    const down = e();
    values[i] = v;
    g[i] = (up - down) / (2 * eps);
  }
  write(values);
  return g;
}
