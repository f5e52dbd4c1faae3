// What the loss is computed on and how it is reduced (docs/equations.md#losses).
import { ConfigError, describe } from '../errors.js';
import { checkClassWeights } from '../validate/index.js';

export type LossKind = 'mse' | 'cross-entropy';
export type LossAt = 'every' | 'last';
export type Reduction = 'mean' | 'sum';

export interface LossSpec {
  /** 'cross-entropy' over class ids, or 'mse' against float targets. */
  loss: LossKind;
  /** A prediction at every step [T,B,O] (default), or from the last step only [B,O]. */
  at?: LossAt;
  /** 'mean' (default) over real rows (cross-entropy) or real elements (mse), or 'sum'. */
  reduction?: Reduction;
  /**
   * Cross-entropy only: a weight per class (outputSize of them, each ≥ 0, not all 0), as PyTorch's
   * `CrossEntropyLoss(weight=...)`: each row's loss is multiplied by the weight of its target
   * class, and the mean divides by the sum of those weights over the counted rows instead of
   * their number. Default: every class weighs 1.
   */
  classWeights?: ArrayLike<number>;
}

export interface ResolvedLoss {
  loss: LossKind;
  at: LossAt;
  reduction: Reduction;
  /** Present only when given (so a loss without them is stored as before). */
  classWeights?: readonly number[];
}

/**
 * The loss checked and with its defaults. `classes` (the model's outputSize), when known, is the
 * length classWeights must have.
 */
export function resolveLoss(spec: LossSpec | LossKind | undefined, argument = 'loss', classes?: number): ResolvedLoss {
  const s: LossSpec | undefined = typeof spec === 'string' ? { loss: spec } : spec;
  if (!s || typeof s !== 'object') throw new ConfigError(argument, '{ loss: "mse" | "cross-entropy", at?, reduction? }', describe(spec));
  // each field read once: a getter must not pass the check with one value and be used with another
  const loss = s.loss;
  if (loss !== 'mse' && loss !== 'cross-entropy') {
    throw new ConfigError(`${argument}.loss`, '"mse" or "cross-entropy"', describe(loss));
  }
  const at = s.at ?? 'every';
  if (at !== 'every' && at !== 'last') throw new ConfigError(`${argument}.at`, '"every" or "last"', describe(at));
  const reduction = s.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new ConfigError(`${argument}.reduction`, '"mean" or "sum"', describe(reduction));
  const weights = s.classWeights;
  if (weights === undefined) return { loss, at, reduction };
  if (loss !== 'cross-entropy')
    throw new ConfigError(
      `${argument}.classWeights`,
      'no class weights for "mse" (they weight the classes of a cross-entropy)',
      describe(weights),
    );
  return { loss, at, reduction, classWeights: checkClassWeights(`${argument}.classWeights`, weights, classes) };
}
