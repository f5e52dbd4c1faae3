// The safetensors codec (round trips and every malformed-file rule), models as safetensors bytes,
// and interchange with PyTorch in both directions:
//  * test/fixtures/torch/safetensors/*: state_dicts written by scripts/make_torch_fixtures.py,
//    which unrolled must load and run to PyTorch's outputs;
//  * test/fixtures/unrolled/*: written by this file with UNROLLED_WRITE_FIXTURES=1 (otherwise only
//    verified); `python3 scripts/make_torch_fixtures.py --check-unrolled` loads them into torch.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError } from '../../src/errors.js';
import type { Model } from '../../src/model/model.js';
import {
  DEFAULT_MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  setHostLittleEndianForTesting,
  type NamedTensor,
} from '../../src/model/safetensors.js';
import { configToJson, loadSafetensorsInto, modelToSafetensors } from '../../src/model/serialize.js';
import { modelFromSafetensors } from '../../src/model-file.js';
import { ALL_BACKENDS, fixtureModelOptions, lcg, makeModel, randn, relErr, scalarCore, simdCore, type BackendName } from '../helpers.js';

const TOL = 1e-5;
const te = new TextEncoder();

/** A file from raw parts: an 8-byte length (default: the header's), the header text (no padding), the buffer. */
function craft(header: string | Uint8Array, buffer: Uint8Array | number = 0, declared?: bigint): Uint8Array {
  const h = typeof header === 'string' ? te.encode(header) : header;
  const b = typeof buffer === 'number' ? new Uint8Array(buffer) : buffer;
  const out = new Uint8Array(8 + h.length + b.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(b, 8 + h.length);
  return out;
}

/** A one-tensor header text. */
const one = (entry: string, extra = ''): string => `{${extra}"t":${entry}}`;

function headerOf(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

function expectCheckpointError(bytes: Uint8Array, message: RegExp, limits?: { maxHeaderBytes?: number }): void {
  let caught: unknown;
  try {
    decodeSafetensors(bytes, limits);
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a CheckpointError matching ${message}`).toBeInstanceOf(CheckpointError);
  expect((caught as CheckpointError).code).toBe('BAD_CHECKPOINT');
  expect((caught as Error).message).toMatch(message);
}

const sample = (): NamedTensor[] => [
  { name: 'f32', dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2.5, 3e-39, -0, Infinity, NaN]) },
  { name: 'f64', dtype: 'F64', shape: [3], data: new Float64Array([Math.PI, -1e300, 5e-324]) },
  { name: 'i32', dtype: 'I32', shape: [2, 2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -7]) },
  { name: 'i64', dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
  { name: 'u8', dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 127, 128, 255]) },
  { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([42]) },
  { name: 'empty', dtype: 'F64', shape: [3, 0, 2], data: new Float64Array(0) },
  { name: 'u8odd', dtype: 'U8', shape: [3], data: new Uint8Array([9, 8, 7]) },
  { name: 'afterOdd', dtype: 'F32', shape: [1], data: new Float32Array([0.5]) },
];

function expectSameTensors(decoded: ReturnType<typeof decodeSafetensors>, tensors: NamedTensor[]): void {
  expect([...decoded.tensors.keys()]).toEqual(tensors.map((t) => t.name));
  for (const t of tensors) {
    const d = decoded.tensors.get(t.name)!;
    expect(d.dtype).toBe(t.dtype);
    expect(d.shape).toEqual([...t.shape]);
    expect(d.data.constructor).toBe(t.data.constructor);
    expect(d.data.length).toBe(t.data.length);
    // bit for bit (NaN, -0, subnormals)
    expect(new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength)).toEqual(
      new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    );
    expect(d.data.byteOffset).toBe(0); // own, aligned buffer
  }
}

describe('safetensors codec: round trip', () => {
  it('all dtypes, scalars, empty tensors, odd byte lengths, metadata', () => {
    const tensors = sample();
    const meta = { format: 'test', note: 'ünïcode ✓', empty: '' };
    const bytes = encodeSafetensors(tensors, meta);
    const decoded = decodeSafetensors(bytes);
    expectSameTensors(decoded, tensors);
    expect(decoded.metadata).toEqual(meta);
    // the tensors are copies: changing the file does not change them
    const before = (decoded.tensors.get('f32')!.data as Float32Array)[0];
    bytes.fill(0, bytes.length - 60);
    expect((decoded.tensors.get('f32')!.data as Float32Array)[0]).toBe(before);
  });

  it('pads the header with spaces to a multiple of 8; compact JSON, "__metadata__" first, tensors in order and contiguous', () => {
    for (let extra = 0; extra < 8; extra++) {
      const meta = { k: 'x'.repeat(extra) };
      const bytes = encodeSafetensors([{ name: 'a', dtype: 'U8', shape: [1], data: new Uint8Array([7]) }], meta);
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(n % 8).toBe(0);
      const text = headerOf(bytes);
      const json = `{"__metadata__":{"k":"${'x'.repeat(extra)}"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`;
      expect(text.trimEnd()).toBe(json);
      expect(text.slice(json.length)).toMatch(/^ {0,7}$/);
      expect(bytes.length).toBe(8 + n + 1);
      expect(bytes[8 + n]).toBe(7);
    }
    const bytes = encodeSafetensors([
      { name: 'z', dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      { name: '1', dtype: 'F32', shape: [2], data: new Float32Array([2, 3]) },
      { name: '__proto__', dtype: 'F32', shape: [1], data: new Float32Array([4]) },
    ]);
    // integer-like names stay where they were given (an object would move them first)
    expect(headerOf(bytes).trimEnd()).toBe(
      '{"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
        '"1":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}',
    );
    const d = decodeSafetensors(bytes);
    expect([...d.tensors.keys()]).toEqual(['z', '1', '__proto__']);
    expect(Array.from(d.tensors.get('__proto__')!.data as Float32Array)).toEqual([4]);
  });

  it('no tensors, no metadata', () => {
    const bytes = encodeSafetensors([]);
    expect(Array.from(bytes)).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...te.encode('{}      ')]);
    const d = decodeSafetensors(bytes);
    expect(d.tensors.size).toBe(0);
    expect(d.metadata).toEqual({});
  });

  it('little-endian on any host: the byte-swapping path writes and reads the same bytes', () => {
    const tensors = sample();
    const native = encodeSafetensors(tensors, { a: 'b' });
    const previous = setHostLittleEndianForTesting(false);
    try {
      const swapped = encodeSafetensors(tensors, { a: 'b' });
      expect(swapped).toEqual(native);
      expectSameTensors(decodeSafetensors(native), tensors);
    } finally {
      setHostLittleEndianForTesting(previous);
    }
    // and the bytes are little-endian: 1.0f = 00 00 80 3f
    const b = encodeSafetensors([{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    expect(Array.from(b.subarray(b.length - 4))).toEqual([0, 0, 0x80, 0x3f]);
  });

  it('reads from an unaligned view into a larger buffer (e.g. a Node Buffer slice)', () => {
    const bytes = encodeSafetensors(sample(), { m: '1' });
    const big = Buffer.alloc(bytes.length + 3);
    big.set(bytes, 3);
    expectSameTensors(decodeSafetensors(big.subarray(3)), sample());
    expectSameTensors(decodeSafetensors(bytes.slice().buffer), sample()); // ArrayBuffer
  });

  it('F32 / F64 accept the other float array (converted); byte-identical to the PyTorch-side writer', () => {
    const d = decodeSafetensors(encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [2], data: new Float64Array([0.1, 2]) }]));
    expect(Array.from(d.tensors.get('a')!.data as Float32Array)).toEqual([Math.fround(0.1), 2]);
    // scripts/make_torch_fixtures.py writes as the reference does; re-encoding its files gives the same bytes
    for (const name of ['lstm', 'gru', 'rnn']) {
      const file = new Uint8Array(readFileSync(new URL(`../fixtures/torch/safetensors/${name}.safetensors`, import.meta.url)));
      const { tensors, metadata } = decodeSafetensors(file);
      const again = encodeSafetensors(
        [...tensors].map(([n, t]) => ({ name: n, ...t })),
        metadata,
      );
      expect(again).toEqual(file);
    }
  });

  it('rejects malformed arguments to encode with InvalidArgumentError', () => {
    const f = new Float32Array(2);
    const bad: [NamedTensor[], Record<string, string>?][] = [
      [[{ name: 'a', dtype: 'F16' as never, shape: [2], data: f }]],
      [[{ name: 'a', dtype: 'F32', shape: [3], data: f }]],
      [[{ name: 'a', dtype: 'F32', shape: [-2], data: f }]],
      [[{ name: 'a', dtype: 'F32', shape: [2.5], data: f }]],
      [[{ name: 'a', dtype: 'I32', shape: [2], data: f }]],
      [[{ name: 'a', dtype: 'F32', shape: [2], data: [1, 2] as never }]],
      [
        [
          { name: 'a', dtype: 'F32', shape: [2], data: f },
          { name: 'a', dtype: 'F32', shape: [2], data: f },
        ],
      ],
      [[{ name: '__metadata__', dtype: 'F32', shape: [2], data: f }]],
      [[{ name: 3 as never, dtype: 'F32', shape: [2], data: f }]],
      [[], { a: 1 as never }],
      [[], null as never],
      ['x' as never],
    ];
    for (const [tensors, meta] of bad) expect(() => encodeSafetensors(tensors, meta)).toThrow(InvalidArgumentError);
  });
});

describe('safetensors codec: every malformed file is a CheckpointError', () => {
  const F32_2 = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';

  it('the valid baseline decodes', () => {
    expect(decodeSafetensors(craft(one(F32_2), 8)).tensors.get('t')!.shape).toEqual([2]);
  });

  it('file shorter than 8 bytes', () => {
    expectCheckpointError(new Uint8Array(0), /0 bytes, fewer than the 8/);
    expectCheckpointError(new Uint8Array(7), /7 bytes, fewer than the 8/);
  });

  it('header length not a safe integer', () => {
    expectCheckpointError(craft('{}', 0, 2n ** 53n), /not a safe integer/);
    expectCheckpointError(craft('{}', 0, 2n ** 64n - 1n), /header length \(u64 0xffffffffffffffff\) is not a safe integer/);
  });

  it('header length larger than the file (nothing is allocated from it)', () => {
    expectCheckpointError(craft('{}', 0, 3n), /larger than the 2 bytes after the length field/);
    expectCheckpointError(craft('{}', 0, 2n ** 53n - 1n), /header length 9007199254740991 is larger than/);
  });

  it('header length larger than the limit (default 100 MB)', () => {
    expect(DEFAULT_MAX_HEADER_BYTES).toBe(100_000_000);
    const bytes = craft(one(F32_2), 8);
    expectCheckpointError(bytes, /exceeds the limit of 16 bytes/, { maxHeaderBytes: 16 });
    expect(() => decodeSafetensors(bytes, { maxHeaderBytes: -1 })).toThrow(InvalidArgumentError);
  });

  it('empty header', () => {
    expectCheckpointError(craft(''), /header is empty/);
  });

  it('header not valid UTF-8', () => {
    expectCheckpointError(craft(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), /not valid UTF-8/);
    expectCheckpointError(craft(new Uint8Array([0x7b, 0xed, 0xa0, 0x80, 0x7d])), /not valid UTF-8/); // encoded surrogate
  });

  it('header not valid JSON', () => {
    expectCheckpointError(craft('{"t":'), /not valid JSON/);
    expectCheckpointError(craft('{}\u0000'), /not valid JSON/); // NUL padding instead of spaces
    expectCheckpointError(craft(`${one(F32_2)} x`), /not valid JSON/);
  });

  it('header not an object', () => {
    expectCheckpointError(craft('[]'), /must start with "\{"/);
    expectCheckpointError(craft('"x"'), /must start with "\{"/);
    expectCheckpointError(craft('null'), /must start with "\{"/);
    expectCheckpointError(craft(' {}'), /must start with "\{"/);
    expectCheckpointError(craft('\ufeff{}'), /must start with "\{"/); // a byte-order mark
  });

  it('tensor entry not an object, a missing field, an unknown field', () => {
    expectCheckpointError(craft('{"t":[1]}'), /tensor "t": expected an object/);
    expectCheckpointError(craft('{"t":{"dtype":"F32","shape":[0]}}'), /tensor "t": the field "data_offsets" is missing/);
    expectCheckpointError(craft(one('{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}'), 8), /tensor "t": unknown field "x"/);
  });

  it('unknown dtype', () => {
    expectCheckpointError(craft(one('{"dtype":"F17","shape":[2],"data_offsets":[0,8]}'), 8), /tensor "t": unknown dtype "F17"/);
    expectCheckpointError(craft(one('{"dtype":"f32","shape":[2],"data_offsets":[0,8]}'), 8), /unknown dtype "f32"/);
    expectCheckpointError(craft(one('{"dtype":4,"shape":[2],"data_offsets":[0,8]}'), 8), /unknown dtype the number 4/);
    expectCheckpointError(craft(one('{"dtype":"F16","shape":[4],"data_offsets":[0,8]}'), 8), /dtype F16 is not supported/);
  });

  it('shape not an array of non-negative safe integers', () => {
    const cases: [string, RegExp][] = [
      ['2', /shape must be an array/],
      ['null', /shape must be an array/],
      ['[-2]', /shape\[0\] must be a non-negative safe integer, found the number -2/],
      ['[2.5]', /shape\[0\] must be a non-negative safe integer/],
      ['["2"]', /shape\[0\] must be a non-negative safe integer, found the string "2"/],
      ['[1,9007199254740992]', /shape\[1\] must be a non-negative safe integer/],
      ['[1e400]', /shape\[0\] must be a non-negative safe integer/],
    ];
    for (const [shape, re] of cases) expectCheckpointError(craft(one(`{"dtype":"F32","shape":${shape},"data_offsets":[0,8]}`), 8), re);
  });

  it('data_offsets not two non-negative integers', () => {
    const cases: [string, RegExp][] = [
      ['[8]', /data_offsets must be an array of two integers \[begin, end\], found an array of 1/],
      ['[0,4,8]', /found an array of 3/],
      ['"0,8"', /data_offsets must be an array of two integers/],
      ['[-8,0]', /data_offsets begin must be a non-negative safe integer/],
      ['[0,"8"]', /data_offsets end must be a non-negative safe integer/],
      ['[0,7.5]', /data_offsets end must be a non-negative safe integer/],
      ['[0,18446744073709551615]', /data_offsets end must be a non-negative safe integer/],
    ];
    for (const [off, re] of cases) expectCheckpointError(craft(one(`{"dtype":"F32","shape":[2],"data_offsets":${off}}`), 8), re);
  });

  it('data_offsets begin after end', () => {
    expectCheckpointError(craft(one('{"dtype":"F32","shape":[2],"data_offsets":[8,0]}'), 8), /begin 8 is after end 0/);
  });

  it('data_offsets end beyond the buffer', () => {
    expectCheckpointError(craft(one('{"dtype":"F32","shape":[2],"data_offsets":[4,12]}'), 8), /end 12 is beyond the 8-byte buffer/);
  });

  it('byte length differs from product(shape) · dtype size', () => {
    expectCheckpointError(
      craft(one('{"dtype":"F32","shape":[3],"data_offsets":[0,8]}'), 12),
      /shape \[3\] of F32 needs 12 bytes, but data_offsets \[0, 8\] hold 8/,
    );
    expectCheckpointError(craft(one('{"dtype":"F64","shape":[2],"data_offsets":[0,8]}'), 8), /needs 16 bytes/);
    expectCheckpointError(craft(one('{"dtype":"F32","shape":[],"data_offsets":[0,0]}'), 0), /shape \[\] of F32 needs 4 bytes/);
  });

  it('the product of the shape is guarded against overflow (no allocation from it)', () => {
    const huge = 2 ** 40;
    expectCheckpointError(
      craft(one(`{"dtype":"F64","shape":[${huge},${huge},${huge}],"data_offsets":[0,8]}`), 8),
      /shape \[1099511627776, 1099511627776, 1099511627776\] of F64 overflows: it needs more than 2\^53 bytes/,
    );
    expectCheckpointError(craft(one(`{"dtype":"U8","shape":[${2 ** 53 - 1},${2 ** 53 - 1}],"data_offsets":[0,8]}`), 8), /overflows/);
    expectCheckpointError(
      craft(one(`{"dtype":"U8","shape":[${2 ** 26},${2 ** 26}],"data_offsets":[0,8]}`), 8),
      /needs 4503599627370496 bytes, but data_offsets \[0, 8\] hold 8/,
    );
    // a zero dimension makes any shape empty: valid
    const d = decodeSafetensors(craft(`{"e":{"dtype":"F64","shape":[${2 ** 52},0],"data_offsets":[0,0]}}`));
    expect(d.tensors.get('e')!.data.length).toBe(0);
  });

  it('overlapping tensors', () => {
    const h = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expectCheckpointError(craft(h, 12), /tensor "b" \(bytes \[4, 12\)\) overlaps tensor "a" \(bytes \[0, 8\)\)/);
    const same = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}';
    expectCheckpointError(craft(same, 8), /overlaps/);
    const emptyInside = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}';
    expectCheckpointError(craft(emptyInside, 8), /tensor "e" .* overlaps tensor "a"/);
  });

  it('gaps: before the first tensor, between tensors, trailing bytes', () => {
    expectCheckpointError(craft(one('{"dtype":"F32","shape":[1],"data_offsets":[4,8]}'), 8), /gap: bytes \[0, 4\) before tensor "t"/);
    const h = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    expectCheckpointError(craft(h, 12), /gap: bytes \[4, 8\) before tensor "b"/);
    expectCheckpointError(craft(one(F32_2), 9), /1 trailing bytes \(from 8 to 9\)/);
    expectCheckpointError(craft('{}', 4), /4 trailing bytes/);
    // empty tensors at the boundaries and out of header order are fine
    const ok =
      '{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"e":{"dtype":"I64","shape":[0],"data_offsets":[8,8]},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}';
    expect([...decodeSafetensors(craft(ok, 8)).tensors.keys()]).toEqual(['z', 'a', 'b', 'e']);
  });

  it('__metadata__ not an object of strings', () => {
    expectCheckpointError(craft('{"__metadata__":[]}'), /"__metadata__" must be an object of string → string, found an array/);
    expectCheckpointError(craft('{"__metadata__":null}'), /found null/);
    expectCheckpointError(craft('{"__metadata__":"x"}'), /found the string "x"/);
    expectCheckpointError(craft('{"__metadata__":{"a":1}}'), /"__metadata__" value of "a" must be a string, found the number 1/);
    expectCheckpointError(craft('{"__metadata__":{"a":null}}'), /value of "a" must be a string, found null/);
    expectCheckpointError(craft('{"__metadata__":{"a":{"b":"c"}}}'), /value of "a" must be a string, found a JSON object/);
  });

  it('duplicate names (JSON.parse would keep the last silently) and duplicate keys', () => {
    const h = '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expectCheckpointError(craft(h, 4), /the name "t" appears twice/);
    const escaped = '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0074":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expectCheckpointError(craft(escaped, 4), /the name "t" appears twice/);
    expectCheckpointError(
      craft(one('{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}'), 4),
      /the key "shape" appears twice in one object/,
    );
    expectCheckpointError(craft('{"__metadata__":{"a":"1","a":"1"}}'), /the key "a" appears twice/);
    expectCheckpointError(craft('{"__metadata__":{},"__metadata__":{}}'), /the name "__metadata__" appears twice/);
    // keys inside string values and escaped quotes do not confuse the scan
    const tricky = '{"__metadata__":{"k":"\\"t\\":{\\"t\\"","t":"{\\\\"},"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}';
    expect(decodeSafetensors(craft(tricky, 1)).metadata).toEqual({ k: '"t":{"t"', t: '{\\' });
  });

  it('integers written as floats or with exponents', () => {
    expectCheckpointError(
      craft(one('{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}'), 8),
      /the number 2\.0 is not a plain non-negative integer/,
    );
    expectCheckpointError(craft(one('{"dtype":"F32","shape":[2],"data_offsets":[0,8e0]}'), 8), /the number 8e0/);
    expectCheckpointError(craft(one('{"dtype":"F32","shape":[0],"data_offsets":[-0,0]}'), 0), /the number -0/);
  });

  it('random corruption of a valid file only ever gives a CheckpointError or a valid decode', () => {
    const base = encodeSafetensors(sample(), { a: 'b' });
    const rand = lcg(12345);
    let rejected = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const bytes = base.slice();
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        // mostly the header (where the structure is), sometimes the length field
        const at = rand() < 0.1 ? Math.floor(rand() * 8) : 8 + Math.floor(rand() * (bytes.length - 8));
        bytes[at] = rand() < 0.5 ? Math.floor(rand() * 256) : '{}[]",:0123456789 '.charCodeAt(Math.floor(rand() * 18));
      }
      const cut = rand() < 0.1 ? Math.floor(rand() * bytes.length) : bytes.length;
      try {
        decodeSafetensors(bytes.subarray(0, cut));
      } catch (err) {
        if (!(err instanceof CheckpointError)) throw err;
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});

// ------------------------------------------------------------------------------------------------
// models

type Cell = 'rnn' | 'lstm' | 'gru';
const dims = { inputSize: 5, hiddenSize: 7, outputSize: 3 };

function inputsFor(model: Model, T: number, B: number, seed: number) {
  const rand = lcg(seed);
  const { inputSize: I, hiddenSize: H, cell } = model.config;
  const L = model.config.numLayers * (model.config.bidirectional ? 2 : 1);
  return {
    x: randn(T * B * I, rand),
    T,
    B,
    h0: randn(L * B * H, rand, 0.5),
    c0: cell === 'lstm' ? randn(L * B * H, rand, 0.5) : undefined,
  };
}

describe('models as safetensors', () => {
  for (const backend of ['wasm', 'js'] as BackendName[]) {
    for (const cell of ['rnn', 'lstm', 'gru'] as Cell[]) {
      for (const numLayers of [1, 2]) {
        it(`${backend} ${cell} × ${numLayers}: bytes → model gives identical weights and outputs`, async () => {
          const model = await makeModel(backend, {
            cell,
            numLayers,
            ...dims,
            seed: 17 + numLayers,
            nonlinearity: cell === 'rnn' ? 'relu' : 'tanh',
          });
          const bytes = modelToSafetensors(model, { note: 'hello' });
          const opts = backend === 'wasm' ? { backend: 'wasm' as const, core: await simdCore() } : { backend: 'js' as const };
          const back = await modelFromSafetensors(bytes, opts);
          expect(back.backend).toBe(backend);
          expect(back.config).toEqual(model.config);
          expect(back.stateDict()).toEqual(model.stateDict());
          const input = inputsFor(model, 4, 3, 99);
          const a = model.predict(input),
            b = back.predict(input);
          expect(b.y).toEqual(a.y);
          expect(b.hN).toEqual(a.hN);
          expect(b.cN).toEqual(a.cN);
          // the file's layout: F32 tensors in parameterNames() order, the configuration in the metadata
          const { tensors, metadata } = decodeSafetensors(bytes);
          expect([...tensors.keys()]).toEqual(model.parameterNames());
          for (const [name, t] of tensors) {
            expect(t.dtype).toBe('F32');
            expect(t.shape).toEqual(model.parameterShape(name));
          }
          expect(metadata).toEqual({
            format: 'unrolled',
            unrolled_format_version: '1',
            unrolled_config: configToJson(model.config),
            note: 'hello',
          });
          // saving again gives the same bytes (deterministic)
          expect(modelToSafetensors(back, { note: 'hello' })).toEqual(bytes);
          model.dispose();
          back.dispose();
        });
      }
    }
  }

  it('loads across backends (wasm → js, js float64) with the same weights', async () => {
    const model = await makeModel('wasm', { cell: 'gru', numLayers: 2, ...dims, seed: 3 });
    const bytes = modelToSafetensors(model);
    for (const opts of [{ backend: 'js' as const }, { backend: 'js' as const, dtype: 'float64' as const }]) {
      const back = await modelFromSafetensors(bytes, opts);
      for (const name of model.parameterNames()) expect(Array.from(back.getParameter(name))).toEqual(Array.from(model.getParameter(name)));
      back.dispose();
    }
    model.dispose();
  });

  it('F64 keeps every bit of a float64 model; F32 (the default) rounds', async () => {
    const model = await makeModel('js64', { cell: 'lstm', numLayers: 2, ...dims, seed: 8 });
    const input = inputsFor(model, 4, 2, 7);
    const exact = await modelFromSafetensors(modelToSafetensors(model, {}, { dtype: 'F64' }), { backend: 'js', dtype: 'float64' });
    expect(exact.stateDict()).toEqual(model.stateDict());
    expect(exact.predict(input)).toEqual(model.predict(input));
    const rounded = await modelFromSafetensors(modelToSafetensors(model), { backend: 'js', dtype: 'float64' });
    for (const name of model.parameterNames()) {
      expect(Array.from(rounded.getParameter(name))).toEqual(Array.from(model.getParameter(name), Math.fround));
    }
    expect(() => modelToSafetensors(model, {}, { dtype: 'F16' as never })).toThrow(InvalidArgumentError);
    model.dispose();
    exact.dispose();
    rounded.dispose();
  });

  it('rejects reserved or non-string extra metadata', async () => {
    const model = await makeModel('js', { cell: 'rnn', ...dims });
    expect(() => modelToSafetensors(model, { format: 'x' })).toThrow(InvalidArgumentError);
    expect(() => modelToSafetensors(model, { unrolled_config: '{}' })).toThrow(InvalidArgumentError);
    expect(() => modelToSafetensors(model, { n: 1 as never })).toThrow(InvalidArgumentError);
  });

  describe('invalid model files are CheckpointErrors naming the problem', () => {
    let model: Model;
    const tensorsOf = (m: Model): NamedTensor[] =>
      m.parameterNames().map((name) => ({ name, dtype: 'F32' as const, shape: m.parameterShape(name), data: m.getParameter(name) }));
    const metaOf = (m: Model): Record<string, string> => ({
      format: 'unrolled',
      unrolled_format_version: '1',
      unrolled_config: configToJson(m.config),
    });
    async function rejects(tensors: NamedTensor[], meta: Record<string, string>, re: RegExp): Promise<void> {
      const bytes = encodeSafetensors(tensors, meta);
      await expect(modelFromSafetensors(bytes, { backend: 'js' })).rejects.toThrow(CheckpointError);
      await expect(modelFromSafetensors(bytes, { backend: 'js' })).rejects.toThrow(re);
    }

    it('setup', async () => {
      model = await makeModel('js', { cell: 'lstm', numLayers: 2, ...dims, seed: 5 });
      await expect(modelFromSafetensors(encodeSafetensors(tensorsOf(model), metaOf(model)), { backend: 'js' })).resolves.toBeDefined();
    });

    it('unknown tensor name', async () => {
      await rejects(
        [...tensorsOf(model), { name: 'extra', dtype: 'F32', shape: [1], data: new Float32Array(1) }],
        metaOf(model),
        /unexpected tensor "extra"; the model's tensors are exactly weight_ih_l0/,
      );
    });

    it('missing tensor', async () => {
      await rejects(
        tensorsOf(model).filter((t) => t.name !== 'bias_hh_l1'),
        metaOf(model),
        /tensor "bias_hh_l1" is missing \(shape \[28\]\)/,
      );
    });

    it('wrong shape (even with the right size)', async () => {
      const t = tensorsOf(model).map((x) => (x.name === 'weight_hh_l0' ? { ...x, shape: [7, 28] } : x));
      await rejects(t, metaOf(model), /tensor "weight_hh_l0" has shape \[7, 28\]; expected \[28, 7\]/);
      const u = tensorsOf(model).map((x) => (x.name === 'head.bias' ? { ...x, shape: [1, 3] } : x));
      await rejects(u, metaOf(model), /tensor "head.bias" has shape \[1, 3\]; expected \[3\]/);
    });

    it('wrong dtype', async () => {
      const t = tensorsOf(model).map((x) => (x.name === 'head.bias' ? { ...x, dtype: 'I32' as const, data: new Int32Array(3) } : x));
      await rejects(t, metaOf(model), /tensor "head.bias" has dtype I32; expected F32 or F64/);
    });

    it('non-finite values (and F64 values that overflow f32)', async () => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const t = tensorsOf(model).map((x) =>
          x.name === 'weight_ih_l1' ? { ...x, data: Float32Array.from(x.data as Float32Array, (v, i) => (i === 5 ? bad : v)) } : x,
        );
        await rejects(t, metaOf(model), new RegExp(`tensor "weight_ih_l1" element 5 is ${bad}`));
      }
      const t = tensorsOf(model).map((x) =>
        x.name === 'head.weight'
          ? { ...x, dtype: 'F64' as const, data: Float64Array.from(x.data as Float32Array, (v, i) => (i === 2 ? 1e300 : v)) }
          : x,
      );
      await rejects(t, metaOf(model), /tensor "head.weight" element 2 is 1e\+300, which overflows float32/);
      // …which a float64 model holds
      const m64 = await modelFromSafetensors(encodeSafetensors(t, metaOf(model)), { backend: 'js', dtype: 'float64' });
      m64.dispose();
    });

    it('F64 tensors are accepted', async () => {
      const t = tensorsOf(model).map((x) => ({
        ...x,
        dtype: 'F64' as const,
        data: Float64Array.from(x.data as Float32Array, (v) => v + 1e-9),
      }));
      const back = await modelFromSafetensors(encodeSafetensors(t, metaOf(model)), { backend: 'js' });
      for (const x of t) expect(back.getParameter(x.name)).toEqual(Float32Array.from(x.data as Float64Array));
      back.dispose();
    });

    it('missing or invalid unrolled metadata', async () => {
      const t = tensorsOf(model);
      await rejects(t, {}, /no unrolled metadata .* use loadSafetensorsInto/);
      await rejects(t, { format: 'pt' }, /found format "pt"/);
      await rejects(t, { ...metaOf(model), unrolled_format_version: '2' }, /unrolled_format_version "2" is not supported/);
      await rejects(t, { ...metaOf(model), unrolled_config: '{cell' }, /unrolled_config is not valid JSON/);
      await rejects(t, { ...metaOf(model), unrolled_config: '[1]' }, /unrolled_config must be a JSON object/);
      await rejects(
        t,
        { ...metaOf(model), unrolled_config: JSON.stringify({ ...model.config, hiddenSize: -1 }) },
        /unrolled_config is invalid: config.hiddenSize/,
      );
      await rejects(
        t,
        { ...metaOf(model), unrolled_config: JSON.stringify({ ...model.config, attentionHeads: 3 }) },
        /unknown field "attentionHeads"/,
      );
      await expect(modelFromSafetensors(new Uint8Array(3))).rejects.toThrow(CheckpointError);
      await expect(modelFromSafetensors('x' as never)).rejects.toThrow(InvalidArgumentError);
    });

    it('loadSafetensorsInto: exact names and matching architecture; nothing written on failure', async () => {
      const target = await makeModel('js', { cell: 'lstm', numLayers: 2, ...dims, seed: 6 });
      const before = target.stateDict();
      const extra = encodeSafetensors([...tensorsOf(model), { name: 'rnn.extra', dtype: 'F32', shape: [0], data: new Float32Array(0) }]);
      expect(() => loadSafetensorsInto(target, extra)).toThrow(/unexpected tensor "rnn.extra"/);
      const partial = encodeSafetensors(
        tensorsOf(model).map((x) => (x.name === 'head.bias' ? { ...x, data: new Float32Array([1, NaN, 2]) } : x)),
      );
      expect(() => loadSafetensorsInto(target, partial)).toThrow(/tensor "head.bias" element 1 is NaN/);
      expect(target.stateDict()).toEqual(before);
      const gru = await makeModel('js', { cell: 'gru', numLayers: 2, ...dims });
      expect(() => loadSafetensorsInto(target, modelToSafetensors(gru))).toThrow(/for a model with cell "gru", this model has "lstm"/);
      const wider = await makeModel('js', { cell: 'lstm', numLayers: 2, ...dims, hiddenSize: 8 });
      expect(() => loadSafetensorsInto(target, modelToSafetensors(wider))).toThrow(CheckpointError);
      expect(target.stateDict()).toEqual(before);
      // a file without metadata with the right names loads
      loadSafetensorsInto(target, encodeSafetensors(tensorsOf(model)));
      expect(target.stateDict()).toEqual(model.stateDict());
      target.dispose();
      expect(() => loadSafetensorsInto(target, encodeSafetensors(tensorsOf(model)))).toThrow(/disposed/);
      gru.dispose();
      wider.dispose();
      model.dispose();
    });
  });
});

// ------------------------------------------------------------------------------------------------
// PyTorch → unrolled

interface TorchSafetensorsFixture {
  name: string;
  config: {
    cell: Cell;
    nonlinearity: 'tanh' | 'relu';
    inputSize: number;
    hiddenSize: number;
    outputSize: number;
    numLayers: number;
    T: number;
    B: number;
    bidirectional?: boolean;
    bias?: boolean;
    projSize?: number;
  };
  dtype: 'F32' | 'F64';
  names: string[];
  x: number[];
  h0: number[];
  c0: number[] | null;
  y: number[];
  hN: number[];
  cN: number[] | null;
}

const worst = { torchToUnrolled: 0, unrolledToUnrolled: 0 };
afterAll(() => {
  console.log(
    `max relative error: PyTorch file → unrolled ${worst.torchToUnrolled.toExponential(3)}, ` +
      `unrolled fixtures re-run ${worst.unrolledToUnrolled.toExponential(3)}`,
  );
});

describe('PyTorch-written safetensors (scripts/make_torch_fixtures.py)', () => {
  const dir = new URL('../fixtures/torch/safetensors/', import.meta.url);
  for (const name of [
    'lstm',
    'gru',
    'rnn',
    'lstm_bidirectional',
    'gru_bidirectional_nobias',
    'rnn_relu_nobias',
    'lstm_proj_bidirectional',
  ]) {
    for (const backend of ALL_BACKENDS) {
      it(`${name} on ${backend}: PyTorch's outputs and hN within ${TOL} relative`, async () => {
        const fx = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as TorchSafetensorsFixture;
        const bytes = new Uint8Array(readFileSync(new URL(`${name}.safetensors`, dir)));
        const { tensors, metadata } = decodeSafetensors(bytes);
        expect(metadata).toEqual({ format: 'pt' });
        expect([...tensors.keys()]).toEqual(fx.names);
        for (const t of tensors.values()) expect(t.dtype).toBe(fx.dtype);
        const c = fx.config;
        const model = await makeModel(backend, fixtureModelOptions(c));
        await expect(modelFromSafetensors(bytes, { backend: 'js' })).rejects.toThrow(/no unrolled metadata/);
        // the model's state_dict names are PyTorch's, in its order (…_reverse, no biases with bias: false)
        expect(model.parameterNames()).toEqual(fx.names);
        loadSafetensorsInto(model, bytes);
        // and written back they are PyTorch's tensors again
        const back = decodeSafetensors(model.toSafetensors());
        expect([...back.tensors.keys()]).toEqual(fx.names);
        for (const [n, t] of tensors) {
          const written = back.tensors.get(n)!.data as Float32Array;
          expect(Array.from(written), n).toEqual(Array.from(Float32Array.from(t.data as Float32Array | Float64Array)));
        }
        const r = model.predict({ x: fx.x, T: c.T, B: c.B, h0: fx.h0, c0: fx.c0 ?? undefined });
        const errors = { y: relErr(r.y, fx.y), hN: relErr(r.hN, fx.hN), ...(fx.cN ? { cN: relErr(r.cN!, fx.cN) } : {}) };
        for (const [what, e] of Object.entries(errors)) {
          worst.torchToUnrolled = Math.max(worst.torchToUnrolled, e);
          expect(e, `${name} ${backend} ${what}`).toBeLessThan(TOL);
        }
        model.dispose();
      });
    }
  }
});

// ------------------------------------------------------------------------------------------------
// unrolled → PyTorch

interface UnrolledFixture {
  name: string;
  T: number;
  B: number;
  x: number[];
  h0: number[];
  c0: number[] | null;
  y: number[];
  hN: number[];
  cN: number[] | null;
}

const UNROLLED_DIR = fileURLToPath(new URL('../fixtures/unrolled/', import.meta.url));
const WRITE = process.env.UNROLLED_WRITE_FIXTURES === '1';
// sizes deliberately not multiples of 4 (the arena pads every tensor to 4 floats)
const UNROLLED_CASES = [
  {
    name: 'lstm',
    cell: 'lstm' as const,
    nonlinearity: 'tanh' as const,
    inputSize: 5,
    hiddenSize: 7,
    outputSize: 3,
    numLayers: 2,
    T: 6,
    B: 3,
    seed: 101,
  },
  {
    name: 'gru',
    cell: 'gru' as const,
    nonlinearity: 'tanh' as const,
    inputSize: 6,
    hiddenSize: 9,
    outputSize: 5,
    numLayers: 2,
    T: 5,
    B: 2,
    seed: 202,
  },
  {
    name: 'rnn_relu',
    cell: 'rnn' as const,
    nonlinearity: 'relu' as const,
    inputSize: 3,
    hiddenSize: 11,
    outputSize: 2,
    numLayers: 2,
    T: 7,
    B: 3,
    seed: 303,
  },
  {
    name: 'lstm_bidirectional',
    cell: 'lstm' as const,
    nonlinearity: 'tanh' as const,
    inputSize: 5,
    hiddenSize: 7,
    outputSize: 3,
    numLayers: 2,
    T: 6,
    B: 3,
    seed: 404,
    bidirectional: true,
  },
  {
    name: 'gru_bidirectional_nobias',
    cell: 'gru' as const,
    nonlinearity: 'tanh' as const,
    inputSize: 5,
    hiddenSize: 7,
    outputSize: 3,
    numLayers: 2,
    T: 5,
    B: 2,
    seed: 505,
    bidirectional: true,
    bias: false,
  },
];

describe('unrolled-written safetensors (test/fixtures/unrolled, checked by PyTorch)', () => {
  it.runIf(WRITE)('writes the fixtures (UNROLLED_WRITE_FIXTURES=1)', async () => {
    mkdirSync(UNROLLED_DIR, { recursive: true });
    for (const { name, T, B, ...config } of UNROLLED_CASES) {
      const model = await makeModel('wasm', config);
      const input = inputsFor(model, T, B, config.seed + 1);
      const r = model.predict(input);
      const fx: UnrolledFixture = {
        name,
        T,
        B,
        x: Array.from(input.x),
        h0: Array.from(input.h0),
        c0: input.c0 ? Array.from(input.c0) : null,
        y: Array.from(r.y),
        hN: Array.from(r.hN),
        cN: r.cN ? Array.from(r.cN) : null,
      };
      writeFileSync(`${UNROLLED_DIR}${name}.safetensors`, modelToSafetensors(model));
      writeFileSync(`${UNROLLED_DIR}${name}.json`, `${JSON.stringify(fx)}\n`);
      model.dispose();
    }
  });

  it('the committed fixtures are all present', () => {
    const files = readdirSync(UNROLLED_DIR).sort();
    expect(files).toEqual(UNROLLED_CASES.flatMap((c) => [`${c.name}.json`, `${c.name}.safetensors`]).sort());
  });

  for (const { name } of UNROLLED_CASES) {
    for (const backend of ALL_BACKENDS) {
      it(`${name} on ${backend}: still decodes and reproduces the stored outputs`, async () => {
        const bytes = new Uint8Array(readFileSync(`${UNROLLED_DIR}${name}.safetensors`));
        const fx = JSON.parse(readFileSync(`${UNROLLED_DIR}${name}.json`, 'utf8')) as UnrolledFixture;
        const opts =
          backend === 'js'
            ? { backend: 'js' as const }
            : { backend: 'wasm' as const, core: await (backend === 'wasm' ? simdCore() : scalarCore()) };
        const model = await modelFromSafetensors(bytes, opts);
        // the writer is stable: this model saves to the very same bytes
        expect(modelToSafetensors(model)).toEqual(bytes);
        const r = model.predict({ x: fx.x, T: fx.T, B: fx.B, h0: fx.h0, c0: fx.c0 ?? undefined });
        const errors = { y: relErr(r.y, fx.y), hN: relErr(r.hN, fx.hN), ...(fx.cN ? { cN: relErr(r.cN!, fx.cN) } : {}) };
        for (const [what, e] of Object.entries(errors)) {
          worst.unrolledToUnrolled = Math.max(worst.unrolledToUnrolled, e);
          expect(e, `${name} ${backend} ${what}`).toBeLessThan(TOL);
        }
        model.dispose();
      });
    }
  }
});
