// Numeric arrays from the user are copied into arrays the library owns before anything checks
// them: each element is read exactly once, so a Proxy or getter cannot hand the check one value
// and the kernel another. The Wasm kernels trust ids and lengths, so this copy is the line that
// keeps a bad id from writing into another model's memory.
import { InvalidArgumentError, NonFiniteError, describe } from '../errors.js';
import { copyTypedArray, typedArrayKind, type PlainTypedArray } from './snapshot.js';

/** The largest finite float32: anything larger becomes Infinity when stored. */
export const F32_MAX = 3.4028234663852886e38;

/** Reads `value.length` once and checks that it is an array-like of the expected length. */
function lengthOf(argument: string, value: unknown, expectedLength: number | undefined, what: string): number {
  const kind = typedArrayKind(value);
  let n: unknown;
  if (kind !== undefined) {
    if (kind === 'BigInt64Array' || kind === 'BigUint64Array') throw new InvalidArgumentError(argument, `an array or typed array of ${what}`, kind);
    n = (value as PlainTypedArray).length;
  } else if (Array.isArray(value)) {
    n = (value as unknown[]).length;
  } else {
    throw new InvalidArgumentError(argument, `an array or typed array of ${what}`, describe(value));
  }
  if (expectedLength !== undefined && n !== expectedLength) {
    throw new InvalidArgumentError(argument, `length ${expectedLength} (${what})`, `length ${describe(n)}`);
  }
  return n as number;
}

/**
 * An owned Float32Array / Float64Array copy of `value` (array or typed array of exactly
 * `expectedLength` numbers; any length when undefined). Every element is read once and must be a
 * finite number (within float32 range for 'float32'), else NonFiniteError naming the index.
 */
export function copyFloats(argument: string, value: unknown, expectedLength: number | undefined, dtype: 'float32' | 'float64', what = 'finite numbers'): Float32Array | Float64Array {
  const n = lengthOf(argument, value, expectedLength, what);
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const limit = dtype === 'float32' ? F32_MAX : Number.MAX_VALUE;
  const kind = typedArrayKind(value);
  if (kind !== undefined) {
    // a genuine typed array: copy through its internal slots, then check the copy
    const src = copyTypedArray(value as PlainTypedArray, kind);
    for (let i = 0; i < n; i++) {
      const a = src[i];
      if (!(Math.abs(a) <= limit)) throw nonFinite(argument, i, a, dtype);
      out[i] = a;
    }
    return out;
  }
  const arr = value as unknown[];
  for (let i = 0; i < n; i++) {
    const a = arr[i];
    if (typeof a !== 'number' || !(Math.abs(a) <= limit)) throw nonFinite(argument, i, a, dtype);
    out[i] = a;
  }
  return out;
}

function nonFinite(argument: string, i: number, a: unknown, dtype: string): NonFiniteError {
  const range = dtype === 'float32' ? 'a finite number within float32 range (|x| ≤ 3.4e38)' : 'a finite number';
  return new NonFiniteError(argument, `element ${i} is ${describe(a)}; every value must be ${range}`);
}

/**
 * An owned Int32Array copy of token or class ids: every element read once and checked to be an
 * integer in [0, vocab), else InvalidArgumentError naming `argument[i]`.
 */
export function copyIds(argument: string, value: unknown, expectedLength: number | undefined, vocab: number): Int32Array {
  const n = lengthOf(argument, value, expectedLength, `integer ids in [0, ${vocab - 1}]`);
  const out = new Int32Array(n);
  const kind = typedArrayKind(value);
  const src: ArrayLike<unknown> = kind !== undefined ? copyTypedArray(value as PlainTypedArray, kind) : value as unknown[];
  for (let i = 0; i < n; i++) {
    const a = src[i];
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a >= vocab) {
      throw new InvalidArgumentError(`${argument}[${i}]`, `an integer id in [0, ${vocab - 1}]`, describe(a));
    }
    out[i] = a;
  }
  return out;
}
