// Nested arrays (x[t][b][i], or x[b][t][i] for a batch-first model) read as the flat row-major
// arrays everything else takes. The nesting shows the layout the caller meant, so a nested input
// whose shape is not the declared one is refused with both shapes: batch-major data given to a
// time-major model (or the reverse) never trains silently on transposed sequences.
import { InvalidArgumentError } from '../errors.js';
import { typedArrayKind } from './snapshot.js';

const isRow = (v: unknown): boolean => Array.isArray(v) || typedArrayKind(v) !== undefined;

/** The shape a nested array claims by its first elements; null for a flat array. */
function claimedShape(value: unknown): number[] | null {
  if (!Array.isArray(value) || value.length === 0 || !isRow(value[0])) return null;
  const shape: number[] = [];
  let v: unknown = value;
  while (isRow(v)) {
    const n = (v as ArrayLike<unknown>).length;
    shape.push(n);
    if (n === 0) break;
    v = (v as ArrayLike<unknown>)[0];
  }
  return shape;
}

/**
 * `value` itself when it is flat; when nested, its numbers flattened in row-major order after
 * checking that it is exactly `shape`. `dims` names the dimensions ("B, T, I") and `layout` says
 * which layout the model declared, for the error.
 */
export function flattenNested(argument: string, value: unknown, shape: readonly number[], dims: string, layout: string): unknown {
  const claimed = claimedShape(value);
  if (claimed === null) return value;
  const expected = `nested arrays of shape [${dims}] = [${shape.join(', ')}] (${layout})`;
  if (claimed.length !== shape.length || claimed.some((n, i) => n !== shape[i])) {
    throw new InvalidArgumentError(argument, expected, `shape [${claimed.join(', ')}]`);
  }
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      out.push(v);
      return;
    }
    if (!isRow(v) || (v as ArrayLike<unknown>).length !== shape[depth]) {
      throw new InvalidArgumentError(
        `${argument}${path}`,
        `an array of length ${shape[depth]} (${expected})`,
        isRow(v) ? `length ${(v as ArrayLike<unknown>).length}` : typeof v,
      );
    }
    const row = v as ArrayLike<unknown>;
    for (let i = 0; i < shape[depth]; i++) walk(row[i], depth + 1, `${path}[${i}]`);
  };
  walk(value, 0, '');
  return out;
}
