// What the loss is computed on and how it is reduced (docs/equations.md#losses).
import { ConfigError, describe } from '../errors.js';

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
}

export interface ResolvedLoss {
  loss: LossKind;
  at: LossAt;
  reduction: Reduction;
}

export function resolveLoss(spec: LossSpec | LossKind | undefined, argument = 'loss'): ResolvedLoss {
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
  return { loss, at, reduction };
}
