#!/usr/bin/env node
// Fuzzing of model files and training checkpoints (docs/limits.md, "Files").
//
//   node scripts/fuzz-checkpoints.mjs [--cases 200000] [--seed N] [--known-bugs] [--quiet]
//
// runs against dist/ (build first: npm run build). The same engine drives the short run in the
// test suite (test/reliability/fuzz.test.ts), which passes the library's sources instead.
//
// It starts from valid files — modelToSafetensors of small RNN / LSTM / GRU models (F32 and F64)
// and checkpointToSafetensors of small trainers (every optimizer, stateless and stateful TBPTT
// with carried state and history) — and feeds seeded mutations of them to modelFromSafetensors,
// loadSafetensorsInto, restoreCheckpoint and checkpointInfo. Mutation kinds:
//
//   truncate   cut at every kind of boundary: inside the length field, at the header's start and
//              end, at each JSON token of the header, at each tensor's first / last byte, ±1
//   flip       1–8 random bytes (header, length field or data) set to a random value or bit-flipped
//   length     the u64 header length set to 0, n ± 1, beyond the file, 2^32, 2^53, 2^63, 2^64 − 1, …
//   header     JSON edits: dtype, shape, data_offsets (overlaps, gaps, beyond the buffer, floats,
//              negatives), missing / unknown keys, removed / duplicated / renamed tensors, and
//              "__metadata__" edits (format, version, config: hiddenSize 1e9, cell "x", …; the
//              checkpoint's trainer, state and data records)
//   text       textual edits of the header: JSON punctuation, number literals (1e3, -0, 2.0),
//              duplicate keys, invalid UTF-8, BOM / NUL bytes
//   nonfinite  NaN / ±Inf (and F64 values beyond float32) patched into a tensor's bytes
//   splice     a header with another file's data, two files concatenated, trailing bytes, garbage
//
// Every case must end in an UnrolledError (normally a CheckpointError) or a valid model /
// trainer that then runs a step — never another exception, a hang, a leak of Wasm memory or an
// allocation from a declared length. Outcomes are counted by kind.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// ------------------------------------------------------------------------------------------------
// seeded randomness

/** mulberry32: a small seeded generator of uniforms in [0, 1). */
export function makeRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[Math.floor(next() * list.length)];
  next.chance = (p) => next() < p;
  return next;
}

// ------------------------------------------------------------------------------------------------
// the structure of a safetensors file (the mutator's view; never validated here)

const enc = new TextEncoder();
const dec = new TextDecoder();

/** { n, header (text), json (object or null), data (bytes after the header) } of a well-formed file. */
export function parts(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  const header = dec.decode(bytes.subarray(8, 8 + n));
  let json = null;
  try {
    json = JSON.parse(header);
  } catch {
    /* not for a seed */
  }
  return { n, header, json, data: bytes.subarray(8 + n) };
}

/** A file from header text and data bytes; `pad` spaces the header to a multiple of 8. */
export function assemble(headerText, data, { pad = true, length } = {}) {
  let h = enc.encode(headerText);
  if (pad && h.length % 8) {
    const padded = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
    padded.set(h);
    h = padded;
  }
  const out = new Uint8Array(8 + h.length + data.length);
  const dv = new DataView(out.buffer);
  const n = length ?? h.length;
  setU64(dv, n);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function setU64(dv, v) {
  if (typeof v === 'bigint') {
    dv.setBigUint64(0, BigInt.asUintN(64, v), true);
    return;
  }
  dv.setUint32(0, v % 2 ** 32, true);
  dv.setUint32(4, Math.floor(v / 2 ** 32) % 2 ** 32, true);
}

/** Offsets in the file where a cut changes meaning, with their kind. */
export function boundaries(bytes) {
  const { n, header, json } = parts(bytes);
  const out = [];
  for (let i = 0; i <= 8; i++) out.push(['length-field', i]);
  out.push(['header-end', 8 + n], ['header-end', 8 + n - 1], ['header-end', 8 + n + 1]);
  // every JSON token of the header (byte offsets: the header is ASCII in our seeds, but map anyway)
  const hb = enc.encode(header);
  for (let i = 0; i < hb.length; i++) {
    const c = hb[i];
    if (c === 0x7b || c === 0x7d || c === 0x5b || c === 0x5d || c === 0x2c || c === 0x3a || c === 0x22)
      out.push(['header-token', 8 + i], ['header-token', 8 + i + 1]);
  }
  if (json) {
    for (const [name, info] of Object.entries(json)) {
      if (name === '__metadata__' || !info || !Array.isArray(info.data_offsets)) continue;
      const [b, e] = info.data_offsets;
      for (const at of [b, b + 1, e - 1, e, e + 1]) out.push(['tensor-edge', 8 + n + at]);
    }
  }
  out.push(['one-short', bytes.length - 1], ['empty', 0]);
  return out.filter(([, at]) => at >= 0 && at < bytes.length);
}

// ------------------------------------------------------------------------------------------------
// mutations

const JSON_CHARS = '{}[]",:0123456789-+.eE tfnrul\\';
const DTYPES = ['F32', 'F64', 'I32', 'I64', 'U8', 'F16', 'BF16', 'BOOL', 'U64', 'x', '', 'f32', 1, null, ['F32'], {}];
const BIG = [2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 1e9, 1e15];
const WEIRD_NUMBERS = [
  -1,
  0,
  0.5,
  1.5,
  1e9,
  1e300,
  -0,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 20,
  2 ** 20 + 1,
  2 ** 24,
  2 ** 24 + 1,
  65,
  '8',
  null,
  true,
  [],
  {},
];

function clone(v) {
  return JSON.parse(JSON.stringify(v));
}

function tensorNames(json) {
  return Object.keys(json).filter((k) => k !== '__metadata__');
}

/** Edits of one tensor entry. Each returns a short label. */
const ENTRY_EDITS = [
  (e, r) => {
    e.dtype = r.pick(DTYPES);
    return 'dtype';
  },
  (e, r) => {
    if (Array.isArray(e.shape)) e.shape.push(r.pick([1, 2, 0]));
    return 'shape+dim';
  },
  (e) => {
    if (Array.isArray(e.shape)) e.shape.pop();
    return 'shape-dim';
  },
  (e, r) => {
    if (Array.isArray(e.shape) && e.shape.length) e.shape[r.int(e.shape.length)] *= 2;
    return 'shape×2';
  },
  (e, r) => {
    if (Array.isArray(e.shape) && e.shape.length) e.shape[r.int(e.shape.length)] = r.pick(WEIRD_NUMBERS);
    return 'shape-weird';
  },
  (e) => {
    if (Array.isArray(e.shape) && e.shape.length > 1) e.shape.reverse();
    return 'shape-swap';
  },
  (e, r) => {
    e.shape = r.pick([[2 ** 26, 2 ** 26, 2 ** 26], [2 ** 53 - 1, 2], [0], [], [1e20], 'x', null, [[1]]]);
    return 'shape-huge';
  },
  (e, r) => {
    if (Array.isArray(e.data_offsets)) e.data_offsets[r.int(2)] += r.pick([-8, -4, -1, 1, 4, 8]);
    return 'offsets±';
  },
  (e) => {
    if (Array.isArray(e.data_offsets)) e.data_offsets.reverse();
    return 'offsets-swap';
  },
  (e, r) => {
    if (Array.isArray(e.data_offsets)) e.data_offsets[r.int(2)] = r.pick([...BIG, -1, 1.5, '0', null, 1e20]);
    return 'offsets-weird';
  },
  (e, r) => {
    e.data_offsets = r.pick([[0], [0, 0, 0], [], null, 'x', [0, 2 ** 53 - 1], [2 ** 53 - 1, 2 ** 53 - 1]]);
    return 'offsets-arity';
  },
  (e, r) => {
    delete e[r.pick(['dtype', 'shape', 'data_offsets'])];
    return 'entry-missing-key';
  },
  (e, r) => {
    e[r.pick(['extra', 'offsets', 'Dtype'])] = 1;
    return 'entry-unknown-key';
  },
];

const CONFIG_KEYS = ['cell', 'inputSize', 'hiddenSize', 'outputSize', 'numLayers', 'nonlinearity', 'input', 'seed'];
const CONFIG_VALUES = {
  cell: ['x', 'rnn', 'lstm', 'gru', 'LSTM', null, 1],
  nonlinearity: ['relu', 'tanh', 'gelu', null],
  input: ['tokens', 'dense', 'x', null],
  seed: [-1, 2 ** 32, 1.5, 7, 0, 'x'],
};

/** Edits of the model configuration (unrolled_config): `cfg` is the parsed object. */
function editConfig(cfg, r) {
  const key = r.pick(CONFIG_KEYS);
  const roll = r.int(10);
  if (roll === 0) {
    delete cfg[key];
    return `config-delete-${key}`;
  }
  if (roll === 1) {
    cfg[r.pick(['dropout', 'bias', 'hidden_size'])] = 1;
    return 'config-unknown-field';
  }
  if (CONFIG_VALUES[key]) {
    cfg[key] = r.pick(CONFIG_VALUES[key]);
    return `config-${key}`;
  }
  const v = cfg[key];
  cfg[key] = r.pick([1e9, 0, -1, 2.5, '8', null, v + 1, v * 2, v - 1, ...WEIRD_NUMBERS]);
  return `config-${key}`;
}

/** Edits of a checkpoint record (unrolled_trainer / unrolled_state / unrolled_data). */
const RECORD_EDITS = {
  unrolled_trainer: [
    (o, r) => {
      o.loss = r.pick([{ loss: 'hinge' }, { loss: 'mse', at: 'x' }, { loss: 'mse', at: 'last', reduction: 'mean' }, 'mse', null, 1]);
      return 'trainer-loss';
    },
    (o, r) => {
      o.optimizer = r.pick([
        { name: 'lion' },
        { name: 'sgd' },
        { name: 'adam', lr: 1e7 },
        { name: 'adam', lr: -1 },
        { name: 'adam', betas: [1.5, 0] },
        'adam',
        null,
        { name: 'sgd', lr: 0.1, nesterov: true },
      ]);
      return 'trainer-optimizer';
    },
    (o, r) => {
      o.baseLr = r.pick([-1, 'x', null, 1e308, 0, 1e6]);
      return 'trainer-baseLr';
    },
    (o, r) => {
      o.schedule = r.pick([
        { kind: 'cyclic' },
        { kind: 'step', stepSize: 0 },
        { kind: 'cosine', total: 1e15 },
        { kind: 'exponential', gamma: 2 },
        5,
        'x',
        { kind: 'constant', warmup: -1 },
      ]);
      return 'trainer-schedule';
    },
    (o, r) => {
      o[r.pick(['clipNorm', 'clipValue'])] = r.pick([-1, 0, 'x', 1e308, Infinity]);
      return 'trainer-clip';
    },
    (o, r) => {
      o.onNonFinite = r.pick(['ignore', null, 1]);
      return 'trainer-onNonFinite';
    },
    (o, r) => {
      o.tbptt = r.pick([
        { k1: 0, k2: 1 },
        { k1: 3, k2: 2 },
        { k1: 1.5, k2: 2 },
        { k1: 1 },
        'x',
        null,
        { k1: 2, k2: 4, k3: 1 },
        { k1: 2 ** 40, k2: 2 ** 40 },
      ]);
      return 'trainer-tbptt';
    },
    (o, r) => {
      delete o[r.pick(Object.keys(o))];
      return 'trainer-delete-field';
    },
    (o, r) => {
      o[r.pick(['amsgrad', 'momentum'])] = true;
      return 'trainer-unknown-field';
    },
  ],
  unrolled_state: [
    (o, r) => {
      o.step = r.pick([-1, 1.5, 2 ** 53, 'x', null, 2 ** 53 - 1, 0]);
      return 'state-step';
    },
    (o, r) => {
      o.modelRng = r.pick([
        [0, 0, 0, 0, null],
        [1, 2, 3],
        [2 ** 32, 1, 1, 1, null],
        [1, 1, 1, 1, 'x'],
        [1, 1, 1, 1, 1e308],
        null,
        [1, 1, 1, 1, 0.5],
      ]);
      return 'state-rng';
    },
    (o, r) => {
      o.carried = r.pick([
        null,
        { B: 0, historySteps: 0 },
        { B: 2 ** 40, historySteps: 0 },
        { B: 1, historySteps: 2 ** 40 },
        { B: 2 },
        'x',
        { B: 2, historySteps: 1, extra: 1 },
        { B: 3, historySteps: 1 },
      ]);
      return 'state-carried';
    },
    (o, r) => {
      delete o[r.pick(Object.keys(o))];
      return 'state-delete-field';
    },
  ],
  unrolled_data: [
    (o, r) => {
      o.stream = r.pick([{ epoch: -1, position: 0 }, { epoch: 0 }, null, { epoch: 1.5, position: 2 ** 60 }]);
      return 'data-stream';
    },
    (o, r) => {
      o.rng = r.pick([[0, 0, 0, 0, null], [1], null]);
      return 'data-rng';
    },
    (o, r) => {
      o[r.pick(['cursor', 'x'])] = 1;
      return 'data-unknown-field';
    },
  ],
};

/**
 * Edits that once ended in a non-Unrolled exception (an unbounded tbptt.k2 allocated
 * (k2 − k1)·B·… floats; now refused): fuzzed in every run.
 */
const KNOWN_BUG_EDITS = [
  (o) => {
    o.tbptt = { k1: 2, k2: 2 ** 40 };
    return 'trainer-tbptt-k2-huge';
  },
];

/** One JSON-level edit of the header object (mutated in place); returns a label. */
function editHeader(json, r, { knownBugs }) {
  const names = tensorNames(json);
  const meta =
    json.__metadata__ !== null && typeof json.__metadata__ === 'object' && !Array.isArray(json.__metadata__) ? json.__metadata__ : null;
  const roll = r.int(100);
  if (roll < 35 && names.length) {
    const name = r.pick(names);
    if (json[name] === null || typeof json[name] !== 'object') {
      json[name] = {};
      return 'entry-replaced';
    }
    return r.pick(ENTRY_EDITS)(json[name], r);
  }
  if (roll < 42 && names.length) {
    const name = r.pick(names);
    switch (r.int(6)) {
      case 0:
        delete json[name];
        return 'tensor-removed';
      case 1:
        json[`${name}.copy`] = clone(json[name]);
        return 'tensor-duplicated (overlap)';
      case 2: {
        const e = json[name];
        delete json[name];
        json[r.pick(['x', 'weight_ih_l9', 'optimizer.exp_avg.x', 'state.z', '__proto__', 'constructor', '', name.toUpperCase()])] = e;
        return 'tensor-renamed';
      }
      case 3: {
        const end = Math.max(0, ...names.map((k) => json[k]?.data_offsets?.[1] ?? 0));
        json.extra = { dtype: 'F32', shape: [0], data_offsets: [end, end] };
        return 'tensor-extra-empty';
      }
      case 4: {
        const other = r.pick(names);
        if (json[other] && json[name]) json[name].data_offsets = clone(json[other].data_offsets);
        return 'offsets-copied (overlap)';
      }
      default:
        json[name] = r.pick([null, [], 'x', 1, true]);
        return 'entry-not-object';
    }
  }
  if (roll < 48) {
    switch (r.int(5)) {
      case 0:
        delete json.__metadata__;
        return 'metadata-removed';
      case 1:
        json.__metadata__ = r.pick([null, [], 'x', 1, { a: 1 }, { format: 1 }]);
        return 'metadata-not-strings';
      case 2:
        if (meta) meta[r.pick(Object.keys(meta))] = r.pick([1, null, {}, ['x'], true]);
        return 'metadata-value-not-string';
      case 3:
        if (meta) delete meta[r.pick(Object.keys(meta))];
        return 'metadata-key-removed';
      default:
        if (meta) meta[r.pick(['extra', 'unrolled_extra', '__proto__', 'constructor'])] = 'x';
        return 'metadata-key-added';
    }
  }
  if (!meta) return 'no-metadata';
  if (roll < 56) {
    if (r.chance(0.5)) {
      meta.format = r.pick(['unrolled', 'unrolled-checkpoint', 'x', '', 'pt']);
      return 'metadata-format';
    }
    const key = 'unrolled_checkpoint_version' in meta ? 'unrolled_checkpoint_version' : 'unrolled_format_version';
    meta[key] = r.pick(['0', '2', '1.0', ' 1', '']);
    return 'metadata-version';
  }
  if (roll < 80 && typeof meta.unrolled_config === 'string') {
    if (r.chance(0.1)) {
      meta.unrolled_config = r.pick(['{', 'null', '[]', '1', '"x"', '', '{"cell":"lstm"}']);
      return 'config-not-an-object';
    }
    let cfg;
    try {
      cfg = JSON.parse(meta.unrolled_config);
    } catch {
      return 'config-unparsed';
    }
    if (!cfg || typeof cfg !== 'object') return 'config-unparsed';
    const label = editConfig(cfg, r);
    meta.unrolled_config = JSON.stringify(cfg);
    return label;
  }
  const records = Object.keys(RECORD_EDITS).filter((k) => typeof meta[k] === 'string');
  if (records.length) {
    const key = r.pick(records);
    if (r.chance(0.08)) {
      meta[key] = r.pick(['{', 'null', '[]', '1', '']);
      return `${key}-not-an-object`;
    }
    let o;
    try {
      o = JSON.parse(meta[key]);
    } catch {
      return 'record-unparsed';
    }
    if (!o || typeof o !== 'object') return 'record-unparsed';
    const edits = knownBugs && key === 'unrolled_trainer' ? [...RECORD_EDITS[key], ...KNOWN_BUG_EDITS] : RECORD_EDITS[key];
    const label = r.pick(edits)(o, r);
    meta[key] = JSON.stringify(o);
    return label;
  }
  if (typeof meta.unrolled_info === 'string' || r.chance(0.5)) {
    meta.unrolled_info = r.pick(['{', 'not json', '[1,2', '"\\ud800"', '{"a":1}']);
    return 'info';
  }
  meta.unrolled_config = '{';
  return 'config-not-an-object';
}

function truncate(bytes, r) {
  if (r.chance(0.15)) {
    const at = r.int(bytes.length);
    return { bytes: bytes.slice(0, at), label: 'random' };
  }
  const [kind, at] = r.pick(boundaries(bytes));
  return { bytes: bytes.slice(0, at), label: kind };
}

function flip(bytes, r) {
  const out = bytes.slice();
  const { n } = parts(bytes);
  const edits = 1 + r.int(8);
  let where = '';
  for (let i = 0; i < edits; i++) {
    const zone = r.int(10);
    const at = zone === 0 ? r.int(8) : zone < 7 ? 8 + r.int(n) : out.length > 8 + n ? 8 + n + r.int(out.length - 8 - n) : r.int(out.length);
    where = zone === 0 ? 'length' : zone < 7 ? 'header' : 'data';
    if (r.chance(0.5)) out[at] ^= 1 << r.int(8);
    else out[at] = r.int(256);
  }
  return { bytes: out, label: edits === 1 ? where : 'several' };
}

function setLength(bytes, r) {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  const { n } = parts(bytes);
  const choices = [
    ['zero', 0],
    ['one', 1],
    ['n-1', n - 1],
    ['n+1', n + 1],
    ['n+8', n + 8],
    ['file', out.length],
    ['file-8', out.length - 8],
    ['file-7', out.length - 7],
    ['2^31', 2 ** 31],
    ['2^32-1', 2 ** 32 - 1],
    ['2^32', 2 ** 32],
    ['2^32+n', 2 ** 32 + n],
    ['2^53-1', 2 ** 53 - 1],
    ['2^53', 2 ** 53],
    ['2^63 (negative i64)', 1n << 63n],
    ['2^64-1 (-1 as i64)', -1n],
    ['-n as i64', -BigInt(n)],
    ['100000001 (over the limit)', 100_000_001],
    ['random u64', BigInt.asUintN(64, (BigInt(r.int(2 ** 32)) << 32n) | BigInt(r.int(2 ** 32)))],
  ];
  const [label, v] = r.pick(choices);
  setU64(dv, v);
  return { bytes: out, label };
}

function text(bytes, r) {
  const { header, data } = parts(bytes);
  let h = header.trimEnd();
  let label;
  const at = r.int(h.length + 1);
  switch (r.int(10)) {
    case 0:
      h = h.slice(0, at) + r.pick([...JSON_CHARS]) + h.slice(at);
      label = 'insert-char';
      break;
    case 1:
      h = h.slice(0, at) + h.slice(at + 1);
      label = 'delete-char';
      break;
    case 2:
      h = h.slice(0, at) + r.pick([...JSON_CHARS]) + h.slice(at + 1);
      label = 'replace-char';
      break;
    case 3: {
      const nums = [...h.matchAll(/\d+/g)];
      if (nums.length) {
        const m = r.pick(nums);
        h =
          h.slice(0, m.index) +
          r.pick(['1e3', '-0', '2.0', '01', '9007199254740993', '-1', '1E2', '0.5', '99999999999999999999', String(Number(m[0]) + 1)]) +
          h.slice(m.index + m[0].length);
      }
      label = 'number-literal';
      break;
    }
    case 4: {
      const braces = [...h.matchAll(/\{/g)];
      const m = r.pick(braces);
      h =
        h.slice(0, m.index + 1) +
        r.pick([
          '"dtype":"F32",',
          '"shape":[1],',
          '"data_offsets":[0,4],',
          '"__metadata__":{},',
          '"format":"unrolled",',
          '"__proto__":"x",',
          '"__proto__":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},',
        ]) +
        h.slice(m.index + 1);
      label = 'duplicate-key';
      break;
    }
    case 5:
      h = r.pick(['\ufeff', '\u0000', ' ', '\n']) + h;
      label = 'prefix-bom-nul-space';
      break;
    case 6: {
      // bytes that are not UTF-8, placed inside the header
      const b = enc.encode(h);
      const bad = r.pick([[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
      const i = r.int(b.length);
      const out = new Uint8Array(b.length + bad.length);
      out.set(b.subarray(0, i));
      out.set(bad, i);
      out.set(b.subarray(i), i + bad.length);
      return { bytes: assembleBytes(out, data), label: 'invalid-utf8' };
    }
    case 7:
      h = h.replace(/"__metadata__"/, r.pick(['"__metadata__ "', '"__METADATA__"', '"__metadata__":{},"x"']));
      label = 'metadata-key-text';
      break;
    case 8: {
      // pathological but well-formed JSON: deep nesting, very many entries, a very long name
      switch (r.int(3)) {
        case 0:
          h = h.replace(/"shape":\[[^\]]*\]/, `"shape":${'['.repeat(20000)}1${']'.repeat(20000)}`);
          label = 'deep-nesting';
          break;
        case 1:
          h = `{${Array.from({ length: 2000 }, (_, i) => `"t${i}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`).join(',')},${h.slice(1)}`;
          label = 'many-entries';
          break;
        default:
          h = `{"${'n'.repeat(1 << 16)}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},${h.slice(1)}`;
          label = 'long-name';
          break;
      }
      break;
    }
    default:
      h = r.pick(['[]', '{}', 'null', '"x"', '{"a":{}}', h + h, `${h.slice(0, -1)},}`]);
      label = 'replace-header';
      break;
  }
  return { bytes: assemble(h, data, { pad: r.chance(0.5) }), label };
}

function assembleBytes(headerBytes, data) {
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  setU64(new DataView(out.buffer), headerBytes.length);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

const F32_PATTERNS = [
  [0x00, 0x00, 0xc0, 0x7f, 'NaN'],
  [0x01, 0x00, 0x80, 0x7f, 'sNaN'],
  [0x00, 0x00, 0xc0, 0xff, '-NaN'],
  [0x00, 0x00, 0x80, 0x7f, 'Inf'],
  [0x00, 0x00, 0x80, 0xff, '-Inf'],
  [0xff, 0xff, 0x7f, 0x7f, 'f32-max (valid)'],
  [0x00, 0x00, 0x80, 0xbf, '-1 (invalid in a second moment)'],
];
const F64_VALUES = [
  [NaN, 'NaN'],
  [Infinity, 'Inf'],
  [-Infinity, '-Inf'],
  [1e39, '1e39 (beyond f32)'],
  [-1e300, '-1e300'],
  [3e38, '3e38 (valid)'],
];

function nonfinite(bytes, r) {
  const out = bytes.slice();
  const { n, json } = parts(bytes);
  const floats = tensorNames(json).filter(
    (k) => (json[k].dtype === 'F32' || json[k].dtype === 'F64') && json[k].data_offsets[1] > json[k].data_offsets[0],
  );
  if (!floats.length) return { bytes: out, label: 'none' };
  const name = r.pick(floats);
  const {
    dtype,
    data_offsets: [b, e],
  } = json[name];
  const size = dtype === 'F32' ? 4 : 8;
  const i = r.int((e - b) / size);
  const at = 8 + n + b + i * size;
  let label;
  if (dtype === 'F32') {
    const p = r.pick(F32_PATTERNS);
    out.set(p.slice(0, 4), at);
    label = p[4];
  } else {
    const [v, l] = r.pick(F64_VALUES);
    new DataView(out.buffer).setFloat64(at, v, true);
    label = l;
  }
  const group = name.startsWith('optimizer.') ? 'moment' : name.startsWith('state.') ? 'state' : 'weight';
  return { bytes: out, label: `${label} in a ${group}` };
}

function splice(bytes, r, seeds) {
  const other = r.pick(seeds).bytes;
  const a = parts(bytes),
    b = parts(other);
  switch (r.int(6)) {
    case 0:
      return { bytes: assemble(a.header, b.data, { pad: false }), label: 'header-of-one-data-of-another' };
    case 1: {
      const out = new Uint8Array(bytes.length + other.length);
      out.set(bytes);
      out.set(other, bytes.length);
      return { bytes: out, label: 'two-files-concatenated' };
    }
    case 2: {
      const extra = 1 + r.int(16);
      const out = new Uint8Array(bytes.length + extra);
      out.set(bytes);
      return { bytes: out, label: 'trailing-bytes' };
    }
    case 3: {
      const out = new Uint8Array(r.int(64));
      for (let i = 0; i < out.length; i++) out[i] = r.int(256);
      return { bytes: out, label: 'garbage' };
    }
    case 4: {
      const cut = 8 + a.n + r.int(a.data.length + 1);
      const rest = other.subarray(8 + b.n);
      const out = new Uint8Array(cut + rest.length);
      out.set(bytes.subarray(0, cut));
      out.set(rest, cut);
      return { bytes: out, label: 'data-tail-swapped' };
    }
    default:
      return { bytes: new Uint8Array(r.pick([0, 1, 7, 8, 9, 16])), label: 'zeros' };
  }
}

/** The kinds and their weights in a run. */
export const KINDS = ['truncate', 'flip', 'length', 'header', 'text', 'nonfinite', 'splice'];
const WEIGHTS = { truncate: 15, flip: 20, length: 8, header: 32, text: 12, nonfinite: 8, splice: 5 };

/** One mutated file from a seed: { bytes, kind, label }. */
export function mutate(seed, r, seeds, options = {}) {
  let total = 0;
  for (const k of KINDS) total += WEIGHTS[k];
  let roll = r() * total;
  let kind = KINDS[0];
  for (const k of KINDS) {
    roll -= WEIGHTS[k];
    if (roll < 0) {
      kind = k;
      break;
    }
  }
  let res;
  switch (kind) {
    case 'truncate':
      res = truncate(seed.bytes, r);
      break;
    case 'flip':
      res = flip(seed.bytes, r);
      break;
    case 'length':
      res = setLength(seed.bytes, r);
      break;
    case 'text':
      res = text(seed.bytes, r);
      break;
    case 'nonfinite':
      res = nonfinite(seed.bytes, r);
      break;
    case 'splice':
      res = splice(seed.bytes, r, seeds);
      break;
    default: {
      const { json, data } = parts(seed.bytes);
      const h = clone(json);
      const edits = r.chance(0.2) ? 2 : 1;
      const labels = [];
      for (let i = 0; i < edits; i++) labels.push(editHeader(h, r, options));
      res = { bytes: assemble(JSON.stringify(h), data, { pad: r.chance(0.8) }), label: labels.join(' + ') };
      if (r.chance(0.05)) res = { bytes: truncate(res.bytes, r).bytes, label: `${res.label} + truncated` };
    }
  }
  return { bytes: res.bytes, kind, label: res.label };
}

// ------------------------------------------------------------------------------------------------
// the valid starting files

/**
 * Small models and trainers of every kind, and their files. `api` is the library (src or dist);
 * `core` a loaded core. Returns { seeds, models } (the models stay alive: loadSafetensorsInto
 * targets; dispose them with disposeSeeds).
 */
export async function makeSeeds(api, core) {
  const seeds = [];
  const models = [];
  const modelConfigs = [
    { cell: 'rnn', inputSize: 3, hiddenSize: 4, outputSize: 2, seed: 1 },
    { cell: 'rnn', nonlinearity: 'relu', input: 'tokens', inputSize: 5, hiddenSize: 3, outputSize: 5, numLayers: 2, seed: 2 },
    { cell: 'lstm', inputSize: 2, hiddenSize: 3, outputSize: 2, numLayers: 2, seed: 3 },
    { cell: 'lstm', input: 'tokens', inputSize: 6, hiddenSize: 4, outputSize: 6, seed: 4 },
    { cell: 'gru', inputSize: 3, hiddenSize: 3, outputSize: 1, seed: 5 },
    { cell: 'gru', input: 'tokens', inputSize: 4, hiddenSize: 5, outputSize: 4, numLayers: 2, seed: 6 },
  ];
  for (const [i, cfg] of modelConfigs.entries()) {
    const model = await api.createModel({ ...cfg, core });
    models.push(model);
    seeds.push({
      name: `model ${cfg.cell}${cfg.input === 'tokens' ? ' tokens' : ''} ×${cfg.numLayers ?? 1}`,
      type: 'model',
      model,
      bytes: api.modelToSafetensors(model),
    });
    if (i % 2 === 0)
      seeds.push({
        name: `model ${cfg.cell} F64`,
        type: 'model',
        model,
        bytes: api.modelToSafetensors(model, { note: 'x' }, { dtype: 'F64' }),
      });
  }
  const trainerCases = [
    {
      model: modelConfigs[3],
      trainer: { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 0.01 }, tbptt: { k1: 2, k2: 4 }, clipNorm: 1 },
      stream: true,
      schedule: { kind: 'cosine', total: 50, warmup: 2 },
    },
    {
      model: modelConfigs[4],
      trainer: { loss: 'mse', optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 }, clipValue: 0.5 },
      schedule: { kind: 'step', stepSize: 3, gamma: 0.5 },
    },
    { model: modelConfigs[0], trainer: { loss: { loss: 'mse', at: 'last' }, optimizer: 'rmsprop' } },
    { model: modelConfigs[2], trainer: { loss: 'mse', optimizer: { name: 'sgd', lr: 0.1 } } },
    { model: modelConfigs[1], trainer: { loss: 'cross-entropy', optimizer: 'adagrad', tbptt: { k1: 3, k2: 3 } }, stream: true },
    { model: modelConfigs[5], trainer: { loss: 'cross-entropy', optimizer: 'adamw', tbptt: { k1: 1, k2: 3 } }, stream: true },
  ];
  const r = makeRandom(77);
  for (const c of trainerCases) {
    const model = await api.createModel({ ...c.model, core });
    const trainer = new api.Trainer(model, c.schedule ? { ...c.trainer, schedule: c.schedule } : c.trainer);
    for (let s = 0; s < 3; s++) {
      if (c.stream) trainer.stepStateful(batchFor(model.config, trainer.loss, trainer.k1, 2, r));
      else trainer.step(batchFor(model.config, trainer.loss, 3, 2, r));
    }
    const extra = {
      schedule: c.schedule,
      ...(c.stream
        ? { data: { stream: { epoch: 1, position: 17 }, rng: [1, 2, 3, 4, null] }, info: { flags: { k1: trainer.k1 }, vocab: 'abcdef' } }
        : {}),
    };
    seeds.push({
      name: `checkpoint ${c.model.cell} ${trainer.optimizer.spec.name}${c.stream ? ' stateful' : ''}`,
      type: 'checkpoint',
      bytes: api.checkpointToSafetensors(trainer, extra),
    });
    trainer.dispose();
    model.dispose();
  }
  return { seeds, models };
}

export function disposeSeeds({ models }) {
  for (const m of models) m.dispose();
}

/** A batch (or stream chunk) that fits a model's configuration and a trainer's loss. */
export function batchFor(cfg, loss, T, B, r) {
  const tokens = cfg.input === 'tokens';
  const x = tokens
    ? Int32Array.from({ length: T * B }, () => r.int(cfg.inputSize))
    : Float32Array.from({ length: T * B * cfg.inputSize }, () => r() * 2 - 1);
  if (!loss) return { x, T, B };
  const rows = loss.at === 'last' ? B : T * B;
  const y =
    loss.loss === 'cross-entropy'
      ? Int32Array.from({ length: rows }, () => r.int(cfg.outputSize))
      : Float32Array.from({ length: rows * cfg.outputSize }, () => r() - 0.5);
  return { x, y, T, B };
}

// ------------------------------------------------------------------------------------------------
// running cases

const SMALL = 1 << 16; // largest config size a smoke step is run on

function smallModel(cfg) {
  return cfg.inputSize <= SMALL && cfg.hiddenSize <= 64 && cfg.outputSize <= SMALL && cfg.numLayers <= 4;
}

/** A checksum of a model's parameters (to see that a failed load changed nothing). */
function paramSum(model) {
  let s = 0;
  for (const name of model.parameterNames()) {
    const p = model.getParameter(name);
    for (let i = 0; i < p.length; i++) s = (s * 31 + p[i] * 1e6) % 1e15;
  }
  return s;
}

/**
 * Feeds one file to one loader. Returns the outcome: 'valid' or the UnrolledError's class name;
 * throws (with a description) on anything else: a foreign exception, a leak, a hang.
 */
export async function runCase(api, core, ctx, seed, bytes, r) {
  const memory = ctx.memory;
  const reserved0 = memory.reserved;
  const targets =
    seed.type === 'model'
      ? ['modelFromSafetensors', 'modelFromSafetensors', 'loadSafetensorsInto', 'restoreCheckpoint']
      : ['restoreCheckpoint', 'restoreCheckpoint', 'restoreCheckpoint', 'checkpointInfo', 'modelFromSafetensors'];
  const target = r.pick(targets);
  const t0 = performance.now();
  let outcome;
  try {
    switch (target) {
      case 'modelFromSafetensors': {
        const model = await api.modelFromSafetensors(bytes, { core });
        try {
          if (smallModel(model.config)) {
            const y = model.predict(batchFor(model.config, null, 2, 1, r)).y;
            if (y.length === 0) throw new Error('empty prediction');
          }
        } finally {
          model.dispose();
        }
        break;
      }
      case 'loadSafetensorsInto': {
        const model = seed.model;
        const before = paramSum(model);
        const dict = model.stateDict();
        try {
          api.loadSafetensorsInto(model, bytes);
        } catch (e) {
          if (paramSum(model) !== before) throw new Error(`loadSafetensorsInto changed the model although it failed (${e.message})`);
          throw e;
        } finally {
          model.loadStateDict(dict);
        }
        break;
      }
      case 'checkpointInfo': {
        api.checkpointInfo(bytes);
        break;
      }
      default: {
        const { model, trainer } = await api.restoreCheckpoint(bytes, { core });
        try {
          if (smallModel(model.config) && trainer.k1 <= 16) {
            const res = trainer.k1
              ? trainer.stepStateful(batchFor(model.config, trainer.loss, trainer.k1, trainer.getCarriedState()?.B ?? 2, r))
              : trainer.step(batchFor(model.config, trainer.loss, 2, 2, r));
            if (typeof res.loss !== 'number') throw new Error('a step without a loss');
          }
        } finally {
          trainer.dispose();
          model.dispose();
        }
      }
    }
    outcome = 'valid';
  } catch (e) {
    if (!(e instanceof api.UnrolledError)) {
      const err = new Error(`${target}: ${e?.constructor?.name ?? typeof e}: ${e?.message ?? e}`);
      err.foreign = e;
      throw err;
    }
    outcome = e.constructor.name;
  }
  const ms = performance.now() - t0;
  if (memory.reserved !== reserved0)
    throw new Error(`${target}: Wasm memory leaked: ${memory.reserved - reserved0} floats still reserved (outcome ${outcome})`);
  return { outcome, target, ms };
}

/**
 * Runs `cases` seeded cases. Returns { byKind: {kind: {outcome: n}}, byLabel, failures: [...],
 * slowest: {ms, kind, label}, cases, seconds, memoryBytes: [before, after] }.
 */
export async function fuzz(api, core, { cases = 10000, seed = 1, knownBugs = true, maxFailures = 20, maxCaseMs = 2000, onProgress } = {}) {
  const set = await makeSeeds(api, core);
  const memory = set.models[0].kernels.memory;
  const ctx = { memory };
  const r = makeRandom(seed);
  const byKind = {};
  const byLabel = {};
  const failures = [];
  let slowest = { ms: 0 };
  const bytes0 = core.exports.memory.buffer.byteLength;
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  const t0 = performance.now();
  // every seed loads as it is (a sanity check of the starting point)
  for (const s of set.seeds) {
    const { outcome } = await runCase(api, core, ctx, s, s.bytes, makeRandom(1));
    if (outcome !== 'valid') failures.push({ kind: 'seed', label: s.name, error: `the unmodified seed gave ${outcome}` });
  }
  for (let i = 0; i < cases; i++) {
    const s = set.seeds[r.int(set.seeds.length)];
    const m = mutate(s, r, set.seeds, { knownBugs });
    let res;
    try {
      res = await runCase(api, core, ctx, s, m.bytes, r);
    } catch (e) {
      failures.push({ case: i, kind: m.kind, label: m.label, seed: s.name, error: e.message, bytes: m.bytes });
      byKind[m.kind] ??= {};
      byKind[m.kind].FAILED = (byKind[m.kind].FAILED ?? 0) + 1;
      if (failures.length >= maxFailures) break;
      continue;
    }
    byKind[m.kind] ??= {};
    byKind[m.kind][res.outcome] = (byKind[m.kind][res.outcome] ?? 0) + 1;
    const key = `${m.kind}: ${m.label}`;
    byLabel[key] ??= {};
    byLabel[key][res.outcome] = (byLabel[key][res.outcome] ?? 0) + 1;
    if (res.ms > slowest.ms) slowest = { ms: res.ms, kind: m.kind, label: m.label, target: res.target };
    if (res.ms > maxCaseMs)
      failures.push({ case: i, kind: m.kind, label: m.label, seed: s.name, error: `took ${res.ms.toFixed(0)} ms (a hang?)` });
    if ((i + 1) % 500 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
    if (onProgress && (i + 1) % 10000 === 0) onProgress(i + 1);
  }
  const seconds = (performance.now() - t0) / 1000;
  disposeSeeds(set);
  return {
    byKind,
    byLabel,
    failures,
    slowest,
    cases,
    seconds,
    seeds: set.seeds.map((s) => s.name),
    memoryBytes: [bytes0, core.exports.memory.buffer.byteLength],
    rss: [rss0, rssMax],
  };
}

/** The outcome table as text. */
export function formatReport(res) {
  const outcomes = new Set();
  for (const k of Object.values(res.byKind)) for (const o of Object.keys(k)) outcomes.add(o);
  const cols = ['valid', 'CheckpointError', ...[...outcomes].filter((o) => o !== 'valid' && o !== 'CheckpointError').sort()];
  const lines = [];
  const pad = (s, n) => String(s).padStart(n);
  lines.push(`${'kind'.padEnd(10)}${cols.map((c) => pad(c, Math.max(8, c.length + 2))).join('')}${pad('total', 9)}`);
  const totals = {};
  let all = 0;
  for (const kind of KINDS) {
    const row = res.byKind[kind] ?? {};
    let sum = 0;
    for (const c of cols) {
      sum += row[c] ?? 0;
      totals[c] = (totals[c] ?? 0) + (row[c] ?? 0);
    }
    all += sum;
    lines.push(`${kind.padEnd(10)}${cols.map((c) => pad(row[c] ?? 0, Math.max(8, c.length + 2))).join('')}${pad(sum, 9)}`);
  }
  lines.push(`${'all'.padEnd(10)}${cols.map((c) => pad(totals[c] ?? 0, Math.max(8, c.length + 2))).join('')}${pad(all, 9)}`);
  lines.push(
    `${all} cases in ${res.seconds.toFixed(1)} s (${(all / res.seconds).toFixed(0)}/s); slowest case ${res.slowest.ms?.toFixed(1)} ms (${res.slowest.kind}: ${res.slowest.label}, ${res.slowest.target}); ` +
      `Wasm memory ${(res.memoryBytes[0] / 2 ** 20).toFixed(1)} → ${(res.memoryBytes[1] / 2 ** 20).toFixed(1)} MiB; ` +
      `RSS ${(res.rss[0] / 2 ** 20).toFixed(0)} MiB, at most ${(res.rss[1] / 2 ** 20).toFixed(0)} MiB; ${res.failures.length} failures`,
  );
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------
// the long mode (against dist/)

async function main(argv) {
  const opt = { cases: 200000, seed: 1, knownBugs: true, quiet: false, labels: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cases') opt.cases = Number(argv[++i]);
    else if (a === '--seed') opt.seed = Number(argv[++i]);
    else if (a === '--known-bugs') opt.knownBugs = true;
    else if (a === '--quiet') opt.quiet = true;
    else if (a === '--labels') opt.labels = true;
    else {
      console.error(
        `unknown argument ${a}\nusage: node scripts/fuzz-checkpoints.mjs [--cases N] [--seed N] [--known-bugs] [--labels] [--quiet]`,
      );
      process.exit(2);
    }
  }
  if (!Number.isSafeInteger(opt.cases) || opt.cases < 1 || !Number.isSafeInteger(opt.seed)) {
    console.error('--cases and --seed take integers');
    process.exit(2);
  }
  const api = await import(new URL('../dist/node/index.js', import.meta.url).href);
  const core = await api.loadCore({ variant: 'simd' });
  console.log(`fuzzing ${opt.cases} cases, seed ${opt.seed}${opt.knownBugs ? ', with the known-bug edits' : ''} (dist/)`);
  const res = await fuzz(api, core, {
    cases: opt.cases,
    seed: opt.seed,
    knownBugs: opt.knownBugs,
    maxFailures: 50,
    onProgress: opt.quiet ? undefined : (n) => console.log(`  ${n} cases…`),
  });
  console.log(formatReport(res));
  if (opt.labels) {
    for (const [label, outcomes] of Object.entries(res.byLabel).sort()) console.log(`  ${label}: ${JSON.stringify(outcomes)}`);
  }
  for (const f of res.failures) console.log(`FAILURE case ${f.case} [${f.kind}: ${f.label}] from ${f.seed}: ${f.error}`);
  process.exit(res.failures.length ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
