// Class weights of a cross-entropy loss (PyTorch's CrossEntropyLoss(weight=w)): one weight per
// class, each in DOMAINS.classWeight, not all zero (the mean would divide by zero on every batch).
import { ConfigError, describe } from '../errors.js';
import type { ArgumentErrorClass } from './domain.js';
import { inDomain, renderDomain } from './domain.js';
import { DOMAINS } from './domains.js';
import { typedArrayKind } from './snapshot.js';

/**
 * An owned, frozen copy of `value` checked element by element; with `classes`, its length must
 * be that number of classes (the model's outputSize).
 */
export function checkClassWeights(
  argument: string,
  value: unknown,
  classes?: number,
  ErrorClass: ArgumentErrorClass = ConfigError,
): readonly number[] {
  if (!Array.isArray(value) && typedArrayKind(value) === undefined)
    throw new ErrorClass(argument, `an array of ${classes ?? 'one or more'} class weights`, describe(value));
  // each element read once, into the copy that is checked and kept
  const source = value as ArrayLike<unknown>;
  const n = source.length;
  const copy: unknown[] = [];
  for (let i = 0; i < n; i++) copy.push(source[i]);
  if (copy.length === 0) throw new ErrorClass(argument, 'at least one class weight', 'an empty array');
  if (classes !== undefined && copy.length !== classes) {
    throw new ErrorClass(argument, `${classes} class weights (one per class: the model's outputSize)`, `${copy.length}`);
  }
  let any = false;
  for (let i = 0; i < copy.length; i++) {
    const w = copy[i];
    if (!inDomain(w, DOMAINS.classWeight)) throw new ErrorClass(`${argument}[${i}]`, renderDomain(DOMAINS.classWeight), describe(w));
    if (w > 0) any = true;
  }
  if (!any) throw new ErrorClass(argument, 'at least one weight above 0 (the mean divides by the weights of the targets)', 'all 0');
  return Object.freeze(copy as number[]);
}
