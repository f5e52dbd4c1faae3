// Nested arrays (x[t][b][i], or x[b][t][i] for a batch-first model) read as the flat row-major
// arrays everything else takes. The nesting shows the layout the caller meant, so a nested input
// whose shape is not the declared one is refused with both shapes: batch-major data given to a
// time-major model (or the reverse) never trains silently on transposed sequences. Every length
// and element is read exactly once (a getter or Proxy cannot answer two reads differently).
import { InvalidArgumentError } from '../errors.js';
import { typedArrayKind } from './snapshot.js';

const isRow = (v: unknown): boolean => Array.isArray(v) || typedArrayKind(v) !== undefined;

/** A nested row read once into plain arrays, all the way down. */
function readDeep(v: unknown): unknown {
  if (!isRow(v)) return v;
  const row = v as ArrayLike<unknown>;
  const n = row.length;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = readDeep(row[i]);
  return out;
}

/**
 * `value` itself when it is a typed array or not an array; a plain array's elements read once
 * (into `scratch`, reused between calls) when it is flat; when nested, its numbers flattened in
 * row-major order after checking that it is exactly `shape`. `dims` names the dimensions
 * ("B, T, I") and `layout` says which layout the model declared, for the error.
 */
export function flattenNested(
  argument: string,
  value: unknown,
  shape: readonly number[],
  dims: string,
  layout: string,
  scratch: unknown[] = [],
): unknown {
  if (!Array.isArray(value)) return value;
  const n = value.length;
  scratch.length = n;
  for (let i = 0; i < n; i++) scratch[i] = value[i];
  if (n === 0 || !isRow(scratch[0])) return scratch;
  return flattenDeep(argument, scratch, shape, dims, layout);
}

// Apart from flattenNested: the closure below captures its arguments, and V8 allocates the scope
// that holds them on every call of the function that declares it, even when it returns early.
function flattenDeep(argument: string, scratch: unknown[], shape: readonly number[], dims: string, layout: string): unknown[] {
  const nested = scratch.map(readDeep);
  const claimed: number[] = [nested.length];
  for (let v = nested[0]; Array.isArray(v); v = v[0]) {
    claimed.push(v.length);
    if (v.length === 0) break;
  }
  const expected = `nested arrays of shape [${dims}] = [${shape.join(', ')}] (${layout})`;
  if (claimed.length !== shape.length || claimed.some((d, i) => d !== shape[i])) {
    throw new InvalidArgumentError(argument, expected, `shape [${claimed.join(', ')}]`);
  }
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      out.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new InvalidArgumentError(
        `${argument}${path}`,
        `an array of length ${shape[depth]} (${expected})`,
        Array.isArray(v) ? `length ${v.length}` : typeof v,
      );
    }
    for (let i = 0; i < shape[depth]; i++) walk(v[i], depth + 1, `${path}[${i}]`);
  };
  walk(nested, 0, '');
  return out;
}
