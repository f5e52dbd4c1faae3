// Numeric arrays from the user are copied into arrays the library owns before anything checks
// them: each element is read exactly once, so a Proxy or getter cannot hand the check one value
// and the kernel another. The Wasm kernels trust ids and lengths, so this copy is the line that
// keeps a bad id from writing into another model's memory.
import { InvalidArgumentError, NonFiniteError, describe } from '../errors.js';
import { typedArrayKind, type PlainTypedArray } from './snapshot.js';

// the intrinsics, not the value's own `length` / `set`: a typed-array subclass may override both
const typedArrayLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), 'length')!.get! as (
  this: unknown,
) => number;
const typedArraySet = Object.getPrototypeOf(Int8Array.prototype).set as (this: PlainTypedArray, src: ArrayLike<number>) => void;
const INTEGER_KINDS = new Set(['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array']);

/** The largest finite float32: anything larger becomes Infinity when stored. */
export const F32_MAX = 3.4028234663852886e38;

/** A number is the vocabulary of ids: their description is built only for an error, never per step. */
function whatText(what: string | number): string {
  return typeof what === 'number' ? `integer ids in [0, ${what - 1}]` : what;
}

/** Reads `value.length` once and checks that it is an array-like of the expected length. */
function lengthOf(argument: string, value: unknown, expectedLength: number | undefined, what: string | number): number {
  const kind = typedArrayKind(value);
  let n: unknown;
  if (kind !== undefined) {
    if (kind === 'BigInt64Array' || kind === 'BigUint64Array')
      throw new InvalidArgumentError(argument, `an array or typed array of ${whatText(what)}`, kind);
    n = typedArrayLength.call(value);
  } else if (Array.isArray(value)) {
    n = (value as unknown[]).length;
  } else {
    throw new InvalidArgumentError(argument, `an array or typed array of ${whatText(what)}`, describe(value));
  }
  if (expectedLength !== undefined && n !== expectedLength) {
    throw new InvalidArgumentError(argument, `length ${expectedLength} (${whatText(what)})`, `length ${describe(n)}`);
  }
  return n as number;
}

/**
 * An owned Float32Array / Float64Array copy of `value` (array or typed array of exactly
 * `expectedLength` numbers; any length when undefined). Every element is read once and must be a
 * finite number (within float32 range for 'float32'), else NonFiniteError naming the index.
 */
export function copyFloats(
  argument: string,
  value: unknown,
  expectedLength: number | undefined,
  dtype: 'float32' | 'float64',
  what = 'finite numbers',
  out?: Float32Array | Float64Array,
): Float32Array | Float64Array {
  const n = lengthOf(argument, value, expectedLength, what);
  // `out` is reused when it fits: a training step copies its batch without allocating
  if (!out || out.length !== n || (dtype === 'float32') !== out instanceof Float32Array) {
    out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  }
  // a flag, not the limit: a double passed to a call that is not inlined is boxed on the heap
  const f32 = dtype === 'float32';
  if (typedArrayKind(value) !== undefined) {
    // a genuine typed array: copied through its internal slots (another thread may still be
    // writing a shared buffer), then only the copy is checked
    typedArraySet.call(out, value as PlainTypedArray);
    const bad = firstOutside(out, n, f32);
    if (bad >= 0) throw nonFinite(argument, bad, out[bad], dtype);
    return out;
  }
  const bad = copyFinite(value as ArrayLike<unknown>, out, n, f32);
  if (bad >= 0) {
    const a = refused;
    refused = undefined;
    throw nonFinite(argument, bad, a, dtype);
  }
  return out;
}

// The loops over elements are leaf functions of their own, with no call before the loop. A long
// loop is compiled on-stack during its first run, and a caller optimised then, before its calls
// had feedback, would deoptimise at the next call and could stay in the interpreter up to the
// loop's on-stack entry every time after, boxing a float32 element per call.

/** The index of the first of n floats that is not finite (or beyond float32's range with `f32`), or −1. */
function firstOutside(a: Float32Array | Float64Array, n: number, f32: boolean): number {
  const limit = f32 ? F32_MAX : Number.MAX_VALUE;
  for (let i = 0; i < n; i++) if (!(Math.abs(a[i]) <= limit)) return i;
  return -1;
}

/** The element copyFinite refused (read once: the error shows the value that was checked). */
let refused: unknown;

/** Copies n finite numbers (within float32's range with `f32`) into `out`; the index of the first other element (kept in `refused`), or −1. */
function copyFinite(src: ArrayLike<unknown>, out: Float32Array | Float64Array, n: number, f32: boolean): number {
  const limit = f32 ? F32_MAX : Number.MAX_VALUE;
  for (let i = 0; i < n; i++) {
    const a = src[i];
    if (typeof a !== 'number' || !(Math.abs(a) <= limit)) {
      refused = a;
      return i;
    }
    out[i] = a;
  }
  return -1;
}

function nonFinite(argument: string, i: number, a: unknown, dtype: string): NonFiniteError {
  const range = dtype === 'float32' ? 'a finite number within float32 range (|x| ≤ 3.4e38)' : 'a finite number';
  return new NonFiniteError(argument, `element ${i} is ${describe(a)}; every value must be ${range}`);
}

/**
 * An owned Int32Array copy of token or class ids: every element read once and checked to be an
 * integer in [0, vocab), else InvalidArgumentError naming `argument[i]`.
 */
export function copyIds(argument: string, value: unknown, expectedLength: number | undefined, vocab: number, out?: Int32Array): Int32Array {
  const n = lengthOf(argument, value, expectedLength, vocab);
  if (!out || out.length !== n) out = new Int32Array(n);
  const kind = typedArrayKind(value);
  let bad: number;
  if (kind !== undefined && INTEGER_KINDS.has(kind)) {
    // integers convert exactly (a Uint32 id ≥ 2^31 wraps to a negative one, refused below)
    typedArraySet.call(out, value as PlainTypedArray);
    bad = firstBadId(out, n, vocab);
    refused = bad >= 0 ? out[bad] : undefined;
  } else {
    // floats would truncate (1.5 → 1, 2^32 + 3 → 3) in an Int32Array: each is checked before it is stored
    bad = copyIdsIn(value as ArrayLike<unknown>, out, n, vocab);
  }
  if (bad >= 0) {
    const a = refused;
    refused = undefined;
    throw new InvalidArgumentError(`${argument}[${bad}]`, `an integer id in [0, ${vocab - 1}]`, describe(a));
  }
  return out;
}

/** The index of the first of n ids outside [0, vocab), or −1 (a leaf loop, as firstOutside). */
function firstBadId(ids: Int32Array, n: number, vocab: number): number {
  for (let i = 0; i < n; i++) {
    const a = ids[i];
    if (a < 0 || a >= vocab) return i;
  }
  return -1;
}

/** Copies n integer ids in [0, vocab) into `out`; the index of the first other element (kept in `refused`), or −1. */
function copyIdsIn(src: ArrayLike<unknown>, out: Int32Array, n: number, vocab: number): number {
  for (let i = 0; i < n; i++) {
    const a = src[i];
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a >= vocab) {
      refused = a;
      return i;
    }
    out[i] = a;
  }
  return -1;
}
