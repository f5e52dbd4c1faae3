// A user's option object is read exactly once, into plain data that the library owns. Getters
// run once, a Proxy's traps run once per key, and nothing the user does afterwards (mutating the
// object, a getter that answers differently the second time) can reach past the checks, because
// only the copy is ever looked at again.
import { ConfigError, UnrolledError, describe } from '../errors.js';
import type { ArgumentErrorClass } from './domain.js';

export type PlainTypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray;

export type PlainData = undefined | null | boolean | number | string | PlainTypedArray | PlainData[] | { [key: string]: PlainData };

export interface SnapshotOptions {
  /** Deepest nesting of objects and arrays (default 16). */
  maxDepth?: number;
  /** Most elements of one array, typed or not, and most keys of one object (default 2^24). */
  maxElements?: number;
  /** Error class (default ConfigError). */
  ErrorClass?: ArgumentErrorClass;
  /**
   * Keys of the top-level object whose values are taken as they are (read once, not copied):
   * handles such as a loaded core, which are the library's own objects rather than data.
   */
  opaque?: readonly string[];
}

const TYPED: Record<string, new (n: number) => PlainTypedArray> = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
};

// %TypedArray%.prototype[@@toStringTag] reads the internal slot: neither a subclass nor a Proxy
// can make a plain object look like a typed array through it.
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!.get! as (
  this: unknown,
) => string | undefined;
const typedArrayLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), 'length')!.get! as (
  this: unknown,
) => number;
const typedArraySet = Object.getPrototypeOf(Int8Array.prototype).set as (this: PlainTypedArray, src: ArrayLike<number>) => void;

/** The built-in typed-array kind of `v` (read from its internal slot), or undefined. */
export function typedArrayKind(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  return typedArrayTag.call(v);
}

/** A copy of a genuine typed array made without calling anything the user can override. */
export function copyTypedArray(v: PlainTypedArray, kind: string): PlainTypedArray {
  const n = typedArrayLength.call(v);
  const copy = new TYPED[kind](n);
  typedArraySet.call(copy, v);
  return copy;
}

/**
 * Reads `value` once into plain data: own enumerable string keys (each read once), arrays and
 * typed arrays copied. Refuses functions, symbols, BigInts, class instances other than arrays
 * and typed arrays, cycles and nesting deeper than `maxDepth`, with a typed error naming the
 * path. An exception thrown by a getter or a Proxy trap becomes a typed error too.
 */
export function snapshot(argument: string, value: unknown, options: SnapshotOptions = {}): PlainData {
  const maxDepth = options.maxDepth ?? 16;
  const maxElements = options.maxElements ?? 1 << 24;
  const E = options.ErrorClass ?? ConfigError;
  const opaque = options.opaque ?? [];
  const seen = new Set<object>();

  const copy = (path: string, v: unknown, depth: number): PlainData => {
    switch (typeof v) {
      case 'undefined':
      case 'boolean':
      case 'number':
      case 'string':
        return v as PlainData;
      case 'function':
        throw new E(path, 'plain data (numbers, strings, booleans, arrays, objects)', 'a function');
      case 'symbol':
        throw new E(path, 'plain data (numbers, strings, booleans, arrays, objects)', 'a symbol');
      case 'bigint':
        throw new E(path, 'a number (not a BigInt)', `${String(v)}n`);
    }
    if (v === null) return null;
    const obj = v as object;
    const kind = typedArrayKind(obj);
    if (kind !== undefined) {
      if (!(kind in TYPED)) throw new E(path, 'a numeric typed array', kind);
      if (typedArrayLength.call(obj) > maxElements)
        throw new E(path, `at most ${maxElements} elements`, `${kind}(${typedArrayLength.call(obj)})`);
      return copyTypedArray(obj as PlainTypedArray, kind);
    }
    if (depth >= maxDepth) throw new E(path, `plain data nested at most ${maxDepth} levels deep`, 'deeper nesting');
    if (seen.has(obj)) throw new E(path, 'plain data without cycles', 'a reference back to an enclosing object');
    seen.add(obj);
    try {
      if (Array.isArray(obj)) {
        const n = (obj as unknown[]).length;
        if (!(n <= maxElements)) throw new E(path, `an array of at most ${maxElements} elements`, `Array(${n})`);
        const out: PlainData[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = copy(`${path}[${i}]`, (obj as unknown[])[i], depth + 1);
        return out;
      }
      const proto = Object.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        throw new E(path, 'a plain object, an array or a typed array', describeObject(proto));
      }
      const keys = Object.keys(obj);
      if (keys.length > maxElements) throw new E(path, `an object with at most ${maxElements} keys`, `${keys.length} keys`);
      const out: { [key: string]: PlainData } = {};
      for (const key of keys) {
        const v = (obj as Record<string, unknown>)[key];
        // defined, not assigned: a key "__proto__" (JSON.parse makes one) must stay a plain key
        // instead of replacing the copy's prototype
        Object.defineProperty(out, key, {
          value: depth === 0 && opaque.includes(key) ? (v as PlainData) : copy(`${path}.${key}`, v, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };

  try {
    return copy(argument, value, 0);
  } catch (err) {
    if (err instanceof UnrolledError) throw err;
    // a getter or a Proxy trap threw, or the nesting overflowed the stack
    throw new E(
      argument,
      'an object whose properties can be read',
      `an error while reading it: ${err instanceof Error ? err.message : describe(err)}`,
    );
  }
}

function describeObject(proto: object): string {
  try {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name ? `an instance of ${name}` : 'an object with a custom prototype';
  } catch {
    return 'an object with a custom prototype';
  }
}

/** snapshot() of an option object: undefined stays undefined, anything but a plain object is refused. */
export function snapshotObject(
  argument: string,
  value: unknown,
  expected: string,
  options: SnapshotOptions = {},
): Record<string, PlainData> | undefined {
  if (value === undefined) return undefined;
  const E = options.ErrorClass ?? ConfigError;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typedArrayKind(value) !== undefined) {
    throw new E(argument, expected, describe(value));
  }
  return snapshot(argument, value, options) as Record<string, PlainData>;
}
