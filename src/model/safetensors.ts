// A pure, browser-safe codec of the safetensors format (https://github.com/huggingface/safetensors):
//
//   [8 bytes] N, a little-endian u64: the header's length in bytes
//   [N bytes] UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": {…} }
//   [rest]    the byte buffer; offsets are relative to its start, data is little-endian row-major
//
// encodeSafetensors writes what the reference implementation writes (compact JSON, "__metadata__"
// first, the header padded with spaces so that the buffer starts 8-byte aligned). decodeSafetensors
// trusts nothing: every rule of the format is checked, with a CheckpointError naming the rule and
// the tensor, before any tensor is copied out; nothing is allocated from a length the file
// declares until that length has been checked against the bytes actually present.
import { CheckpointError, InvalidArgumentError, describe } from '../errors.js';

export type SafetensorsDtype = 'F32' | 'F64' | 'I32' | 'I64' | 'U8';
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface NamedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
  /** Row-major values: the dtype's typed array (F32 / F64 also accept the other float array). */
  data: TensorData;
}

export interface DecodedSafetensors {
  /** In buffer order (by data offset). Each `data` is a fresh, aligned copy. */
  tensors: Map<string, SafetensorsTensor>;
  /** The header's "__metadata__" ({} when absent). */
  metadata: Record<string, string>;
}

export interface SafetensorsLimits {
  /** Largest header accepted, in bytes. Default 100 000 000 (the reference implementation's limit). */
  maxHeaderBytes?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

const DTYPE_SIZE: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 };
/** Valid safetensors dtypes that unrolled does not read (a clearer message than "unknown"). */
const OTHER_FORMAT_DTYPES = new Set([
  'BOOL',
  'I8',
  'I16',
  'U16',
  'U32',
  'U64',
  'F16',
  'BF16',
  'F8_E4M3',
  'F8_E5M2',
  'F8_E8M0',
  'F6_E2M3',
  'F6_E3M2',
  'F4',
  'C64',
]);
const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];
const METADATA_KEY = '__metadata__';

let hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** @internal Tests force the byte-swapping (big-endian host) path with false; returns the previous value. */
export function setHostLittleEndianForTesting(value: boolean): boolean {
  const previous = hostLittleEndian;
  hostLittleEndian = value;
  return previous;
}

function isDtype(v: unknown): v is SafetensorsDtype {
  return typeof v === 'string' && Object.hasOwn(DTYPE_SIZE, v);
}

function fmtShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// encoding

/** Checks one tensor to write; returns its values as the dtype's typed array. */
function checkOutgoing(t: NamedTensor, i: number, seen: Set<string>): TensorData {
  const where = `tensors[${i}]`;
  if (t === null || typeof t !== 'object') throw new InvalidArgumentError(where, 'an object { name, dtype, shape, data }', describe(t));
  if (typeof t.name !== 'string') throw new InvalidArgumentError(`${where}.name`, 'a string', describe(t.name));
  if (t.name === METADATA_KEY) throw new InvalidArgumentError(`${where}.name`, `a name other than "${METADATA_KEY}"`, describe(t.name));
  if (seen.has(t.name))
    throw new InvalidArgumentError(`${where}.name`, 'a name not used by an earlier tensor', `duplicate ${describe(t.name)}`);
  seen.add(t.name);
  const label = `tensor ${JSON.stringify(t.name)}`;
  if (!isDtype(t.dtype)) throw new InvalidArgumentError(`${label} dtype`, 'one of "F32", "F64", "I32", "I64", "U8"', describe(t.dtype));
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidArgumentError(
      `${label} shape`,
      'an array of non-negative integers',
      Array.isArray(t.shape) ? fmtShape(t.shape) : describe(t.shape),
    );
  }
  let count = 1;
  for (const d of t.shape) count *= d;
  const d = t.data;
  let data: TensorData;
  switch (t.dtype) {
    case 'F32':
      data = d instanceof Float32Array ? d : d instanceof Float64Array ? Float32Array.from(d) : bad();
      break;
    case 'F64':
      data = d instanceof Float64Array ? d : d instanceof Float32Array ? Float64Array.from(d) : bad();
      break;
    case 'I32':
      data = d instanceof Int32Array ? d : bad();
      break;
    case 'I64':
      data = d instanceof BigInt64Array ? d : bad();
      break;
    case 'U8':
      data = d instanceof Uint8Array ? d : bad();
      break;
  }
  if (data.length !== count) {
    throw new InvalidArgumentError(`${label} data`, `${count} values (shape ${fmtShape(t.shape)})`, describe(d));
  }
  return data;

  function bad(): never {
    const want = {
      F32: 'a Float32Array (or Float64Array)',
      F64: 'a Float64Array (or Float32Array)',
      I32: 'an Int32Array',
      I64: 'a BigInt64Array',
      U8: 'a Uint8Array',
    }[t.dtype];
    throw new InvalidArgumentError(`${label} data`, want, describe(d));
  }
}

/** Writes `data` little-endian into `out` at byte `at`. */
function writeLE(out: Uint8Array, at: number, data: TensorData): void {
  if (hostLittleEndian) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at, data.byteLength);
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  else if (data instanceof Float64Array) for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i], true);
  else if (data instanceof Int32Array) for (let i = 0; i < data.length; i++) view.setInt32(i * 4, data[i], true);
  else if (data instanceof BigInt64Array) for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i], true);
  else out.set(data, at);
}

/**
 * Encodes tensors (written contiguously in the given order) and optional string metadata as a
 * safetensors file. Throws InvalidArgumentError for a malformed argument.
 */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  if (!Array.isArray(tensors)) throw new InvalidArgumentError('tensors', 'an array of { name, dtype, shape, data }', describe(tensors));
  // the JSON is assembled by hand so that the key order is exactly: "__metadata__", then the
  // tensors in the given order (an object would move integer-like names such as "0" first)
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new InvalidArgumentError('metadata', 'an object of string → string', describe(metadata));
    }
    const meta: string[] = [];
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new InvalidArgumentError(`metadata[${JSON.stringify(k)}]`, 'a string', describe(v));
      meta.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"${METADATA_KEY}":{${meta.join(',')}}`);
  }
  const seen = new Set<string>();
  const datas: TensorData[] = [];
  let offset = 0;
  tensors.forEach((t, i) => {
    const data = checkOutgoing(t, i, seen);
    datas.push(data);
    const end = offset + data.byteLength;
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, end] })}`);
    offset = end;
  });
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const total = 8 + padded + offset;
  if (!Number.isSafeInteger(total)) throw new InvalidArgumentError('tensors', 'a total size that fits in memory', `${total} bytes`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded % 2 ** 32, true);
  view.setUint32(4, Math.floor(padded / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const data of datas) {
    writeLE(out, at, data);
    at += data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// decoding

function fail(message: string): never {
  throw new CheckpointError(`safetensors: ${message}`);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${describe(v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `a ${typeof v === 'object' ? 'JSON object' : typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Walks the (already JSON.parse-valid) header text: rejects duplicate keys in any object (JSON.parse
 * would keep the last one silently) and numbers that are not plain non-negative integer literals
 * (shapes and offsets are unsigned integers; the reference rejects 8.0 or 1e3 there).
 */
function scanHeader(text: string): void {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) {
          fail(
            stack.length === 1
              ? `header: the name ${JSON.stringify(key)} appears twice (JSON.parse would silently keep the last)`
              : `header: the key ${JSON.stringify(key)} appears twice in one object`,
          );
        }
        keys.add(key);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) stack.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) expectKey = stack[stack.length - 1] instanceof Set;
    else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      const literal = text.slice(i, j);
      if (!/^(0|[1-9][0-9]*)$/.test(literal))
        fail(`header: the number ${literal} is not a plain non-negative integer (shapes and offsets are unsigned integers)`);
      i = j;
      continue;
    }
    i++;
  }
}

/** 0-9 e E . + - : the characters a JSON number literal continues with. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x65 || c === 0x45 || c === 0x2e || c === 0x2b || c === 0x2d;
}

/** The typed array that holds each dtype's values. */
const DTYPE_ARRAY = {
  F32: Float32Array,
  F64: Float64Array,
  I32: Int32Array,
  I64: BigInt64Array,
  U8: Uint8Array,
} as const satisfies Record<SafetensorsDtype, { new (b: ArrayBuffer): TensorData; new (n: number): TensorData }>;

/** How one little-endian value of each dtype is read, whatever the host's byte order. */
const DTYPE_GET: Record<SafetensorsDtype, (v: DataView, at: number) => number | bigint> = {
  F32: (v, at) => v.getFloat32(at, true),
  F64: (v, at) => v.getFloat64(at, true),
  I32: (v, at) => v.getInt32(at, true),
  I64: (v, at) => v.getBigInt64(at, true),
  U8: (v, at) => v.getUint8(at),
};

/** Reads the little-endian values of `dtype` in bytes[begin, end) into a fresh, aligned array. */
function readLE(bytes: Uint8Array, begin: number, end: number, dtype: SafetensorsDtype): TensorData {
  const copy = bytes.slice(begin, end); // a new, 0-aligned buffer
  if (hostLittleEndian) return new DTYPE_ARRAY[dtype](copy.buffer);
  const size = DTYPE_SIZE[dtype];
  const out = new DTYPE_ARRAY[dtype](copy.length / size);
  const values = out as unknown as { [i: number]: number | bigint };
  const view = new DataView(copy.buffer);
  const get = DTYPE_GET[dtype];
  for (let i = 0; i < out.length; i++) values[i] = get(view, i * size);
  return out;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Decodes and fully validates a safetensors file. Every violation of the format throws a
 * CheckpointError whose message names the rule (and the tensor); the input is never modified.
 */
export function decodeSafetensors(bytes: Uint8Array | ArrayBuffer, limits: SafetensorsLimits = {}): DecodedSafetensors {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('bytes', 'a Uint8Array (or ArrayBuffer)', describe(bytes));
  // a plain view: a subclass such as Node's Buffer has a slice() that shares memory instead of copying
  if (bytes.constructor !== Uint8Array) bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (limits === null || typeof limits !== 'object') throw new InvalidArgumentError('limits', 'an object', describe(limits));
  const maxHeader = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeader) || maxHeader < 0)
    throw new InvalidArgumentError('limits.maxHeaderBytes', 'a non-negative integer', describe(maxHeader));

  // 1. the header length
  if (bytes.length < 8) fail(`the file has ${bytes.length} bytes, fewer than the 8 of the header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true),
    hi = dv.getUint32(4, true);
  if (hi >= 2 ** 21)
    fail(`the header length (u64 0x${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}) is not a safe integer`);
  const n = hi * 2 ** 32 + lo;
  if (n > bytes.length - 8) fail(`the header length ${n} is larger than the ${bytes.length - 8} bytes after the length field`);
  if (n > maxHeader) fail(`the header length ${n} exceeds the limit of ${maxHeader} bytes`);
  if (n === 0) fail('the header is empty (length 0); expected a JSON object');

  // 2. the header: UTF-8, JSON, an object
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  if (text.charCodeAt(0) !== 0x7b) fail(`the header must start with "{", found ${JSON.stringify(text.slice(0, 1))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail(`the header must be a JSON object, found ${typeName(header)}`);

  // 3. metadata
  const metadata: Record<string, string> = {};
  if (Object.hasOwn(header, METADATA_KEY)) {
    const meta = header[METADATA_KEY];
    if (!isPlainObject(meta)) fail(`"${METADATA_KEY}" must be an object of string → string, found ${typeName(meta)}`);
    for (const [k, v] of Object.entries(meta)) {
      if (typeof v !== 'string') fail(`"${METADATA_KEY}" value of ${JSON.stringify(k)} must be a string, found ${typeName(v)}`);
      Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }

  // 4. every tensor entry on its own
  const bufferLength = bytes.length - 8 - n;
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    const label = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(info)) fail(`${label}: expected an object { dtype, shape, data_offsets }, found ${typeName(info)}`);
    for (const key of Object.keys(info)) {
      if (!ENTRY_KEYS.includes(key)) fail(`${label}: unknown field ${JSON.stringify(key)} (expected only dtype, shape, data_offsets)`);
    }
    for (const key of ENTRY_KEYS) if (!Object.hasOwn(info, key)) fail(`${label}: the field "${key}" is missing`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (!isDtype(dtype)) {
      if (typeof dtype === 'string' && OTHER_FORMAT_DTYPES.has(dtype))
        fail(`${label}: dtype ${dtype} is not supported (supported: F32, F64, I32, I64, U8)`);
      fail(
        `${label}: unknown dtype ${typeof dtype === 'string' ? JSON.stringify(dtype) : typeName(dtype)} (supported: F32, F64, I32, I64, U8)`,
      );
    }
    if (!Array.isArray(shape)) fail(`${label}: shape must be an array of non-negative integers, found ${typeName(shape)}`);
    shape.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
        fail(`${label}: shape[${i}] must be a non-negative safe integer, found ${typeName(d)}`);
    });
    if (!Array.isArray(offsets) || offsets.length !== 2) {
      fail(
        `${label}: data_offsets must be an array of two integers [begin, end], found ${Array.isArray(offsets) ? `an array of ${offsets.length}` : typeName(offsets)}`,
      );
    }
    const [begin, end] = offsets as unknown[];
    for (const [what, v] of [
      ['begin', begin],
      ['end', end],
    ] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
        fail(`${label}: data_offsets ${what} must be a non-negative safe integer, found ${typeName(v)}`);
    }
    const b = begin as number,
      e = end as number;
    if (b > e) fail(`${label}: data_offsets begin ${b} is after end ${e}`);
    if (e > bufferLength) fail(`${label}: data_offsets end ${e} is beyond the ${bufferLength}-byte buffer`);
    // product(shape)·size must equal the byte length; the product is checked at every factor so
    // that it never leaves the safe-integer range (where it could round onto a plausible value)
    const size = DTYPE_SIZE[dtype];
    let bytesNeeded = (shape as number[]).includes(0) ? 0 : size;
    for (const d of shape as number[]) {
      if (bytesNeeded === 0) break;
      bytesNeeded *= d;
      if (bytesNeeded > Number.MAX_SAFE_INTEGER)
        fail(`${label}: shape ${fmtShape(shape)} of ${dtype} overflows: it needs more than 2^53 bytes`);
    }
    if (bytesNeeded !== e - b)
      fail(`${label}: shape ${fmtShape(shape)} of ${dtype} needs ${bytesNeeded} bytes, but data_offsets [${b}, ${e}] hold ${e - b}`);
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin: b, end: e });
  }

  // 5. the buffer is covered exactly: no overlap, no gap, nothing left over
  const order = entries.map((_, i) => i).sort((x, y) => entries[x].begin - entries[y].begin || entries[x].end - entries[y].end || x - y);
  let covered = 0;
  let previous: Entry | null = null;
  for (const i of order) {
    const t = entries[i];
    if (t.begin < covered)
      fail(
        `tensor ${JSON.stringify(t.name)} (bytes [${t.begin}, ${t.end})) overlaps tensor ${JSON.stringify(previous!.name)} (bytes [${previous!.begin}, ${previous!.end}))`,
      );
    if (t.begin > covered)
      fail(`the buffer has a gap: bytes [${covered}, ${t.begin}) before tensor ${JSON.stringify(t.name)} belong to no tensor`);
    covered = t.end;
    previous = t;
  }
  if (covered !== bufferLength)
    fail(`the buffer has ${bufferLength - covered} trailing bytes (from ${covered} to ${bufferLength}) that belong to no tensor`);

  // 6. the JSON text itself: no duplicate keys, integers written as integers
  scanHeader(text);

  // 7. everything is valid: copy the data out
  const tensors = new Map<string, SafetensorsTensor>();
  const base = 8 + n;
  for (const i of order) {
    const t = entries[i];
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: readLE(bytes, base + t.begin, base + t.end, t.dtype) });
  }
  return { tensors, metadata };
}

/** The byte size of one element of a dtype. */
export function dtypeSize(dtype: SafetensorsDtype): number {
  return DTYPE_SIZE[dtype];
}
