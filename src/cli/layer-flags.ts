// The layer options of the command line (--proj-size, --bidirectional, --dropout) and the
// class weights of a cross-entropy (--class-weights), read and checked against the rest of the
// configuration, so that a contradiction is a one-line usage error naming the flag before any
// model exists. The same rules as the model's and the loss's own checks, worded for flags.
import { ConfigError } from '../errors.js';
import type { CellKind } from '../model/config.js';
import { checkClassWeights } from '../validate/index.js';
import type { Flags } from './args.js';

/** The model options the layer flags set (those absent keep PyTorch's defaults). */
export interface LayerOptions {
  /** LSTM projection size; 0 = none. */
  projSize: number;
  bidirectional: boolean;
  dropout: number;
}

/**
 * The layer flags for a model of `cell`, `hidden` units and `layers` layers; `stateful` names why
 * the run carries its state between chunks (then --bidirectional is refused), or is null.
 * `stored` fills in what a resumed run does not give again.
 */
export function layerFlags(
  f: Flags,
  shape: { cell: CellKind; hidden: number; layers: number },
  stateful: string | null,
  stored?: Partial<LayerOptions>,
): LayerOptions {
  const projSize = f.has('proj-size') ? f.int('proj-size') : (stored?.projSize ?? 0);
  const dropout = f.has('dropout') ? f.float('dropout') : (stored?.dropout ?? 0);
  const bidirectional = f.has('bidirectional') ? f.bool('bidirectional') : (stored?.bidirectional ?? false);
  if (projSize > 0 && shape.cell !== 'lstm')
    f.fail(`--proj-size is for --cell lstm (only an LSTM projects its hidden state; got --cell ${shape.cell})`, '--proj-size');
  if (projSize >= shape.hidden)
    f.fail(
      `--proj-size ${projSize} must be below --hidden ${shape.hidden} (it projects the hidden state to fewer features)`,
      '--proj-size',
    );
  if (dropout > 0 && shape.layers < 2)
    f.fail(`--dropout ${dropout} acts between layers (on the outputs of every layer but the last): give --layers 2 or more`, '--dropout');
  if (bidirectional && stateful !== null)
    f.fail(`--bidirectional needs whole sequences, and ${stateful}: the reverse direction starts at a sequence's end`, '--bidirectional');
  return { projSize, bidirectional, dropout };
}

/** The layer options as createModel takes them (defaults left out). */
export function layerConfig(o: Partial<LayerOptions> | undefined): { projSize?: number; bidirectional?: boolean; dropout?: number } {
  return {
    ...(o?.projSize ? { projSize: o.projSize } : {}),
    ...(o?.bidirectional ? { bidirectional: true } : {}),
    ...(o?.dropout ? { dropout: o.dropout } : {}),
  };
}

/**
 * --class-weights W,W,…: each weight ≥ 0 and not all 0 (PyTorch's CrossEntropyLoss(weight=...));
 * `stored` (a resumed run's) when not given, else null. Their number is checked against the
 * data's classes by classWeightsFit once the data is read.
 */
export function classWeightsFlag(f: Flags, stored?: readonly number[] | null): number[] | null {
  const v = f.str('class-weights');
  if (v === undefined) return stored ? [...stored] : null;
  const parts = v.split(',').map((s) => s.trim());
  const values = parts.map((s) => (/^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : Number.NaN));
  const bad = values.findIndex((n) => Number.isNaN(n));
  if (bad >= 0)
    f.fail(
      `--class-weights: expected numbers ≥ 0 separated by commas (e.g. 1,2,0.5), got ${JSON.stringify(parts[bad])}`,
      '--class-weights',
    );
  try {
    return [...checkClassWeights('--class-weights', values)];
  } catch (e) {
    if (e instanceof ConfigError) f.fail(e.message, '--class-weights');
    throw e;
  }
}

/** The class weights fit the data: a cross-entropy over exactly that many classes. */
export function classWeightsFit(f: Flags, weights: readonly number[] | null, data: { target: string; targetSize: number }): void {
  if (weights === null) return;
  if (data.target !== 'classes')
    f.fail('--class-weights weights the classes of a cross-entropy: the data needs --target classes', '--class-weights');
  if (weights.length !== data.targetSize)
    f.fail(`--class-weights: expected ${data.targetSize} weights (one per class of the data), got ${weights.length}`, '--class-weights');
}
