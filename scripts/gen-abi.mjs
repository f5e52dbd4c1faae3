// Writes every derived declaration of the core's ABI from its one source, assembly/index.ts and
// the layer descriptor it passes to the cells, class LayerDesc of assembly/layer_desc.ts:
//   src/runtime/abi.generated.ts        CoreExports, the TypeScript type of the module's exports
//   src/runtime/layer-desc.generated.ts LAYER_DESC, each descriptor field's byte offset and type
//   include/unrolled.h                  the whole C header (struct unrolled_layer_desc with offset
//                                       checks, plain prototypes and the wasm2c part)
//   docs/abi.md                         the export table between <!-- abi:begin --> and
//                                       <!-- abi:end -->, the descriptor's between
//                                       <!-- layer-desc:begin --> and <!-- layer-desc:end -->
//   bench/abi.generated.ts              BenchExports, the same for the bench build (assembly/bench.ts)
//
// From the AssemblyScript sources it takes the export lists of the entry, the comment above each
// list (a "# title" line, then the group's text), and each exported function's parameter names,
// types and leading comment; from the compiled modules (build/unrolled.scalar.wasm,
// build-bench/unrolled.bench.wasm) the signatures the engine sees. The two must agree, so a
// source this parser misreads fails here instead of producing a wrong header.
//
//   node scripts/gen-abi.mjs           rewrite the files that differ (npm run build:wasm runs it)
//   node scripts/gen-abi.mjs --check   write nothing; exit 1 naming each file that differs
//   --root DIR                         work on a copy of the repository at DIR
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// --root DIR reads and writes a copy of the repository instead (the drift test edits one)
const rootAt = process.argv.indexOf('--root');
const root = rootAt > 0 ? resolve(process.argv[rootAt + 1]) : fileURLToPath(new URL('..', import.meta.url));
const rel = (abs) => relative(root, abs).split('\\').join('/');
const read = (relPath) => readFileSync(join(root, relPath), 'utf8');

// ---------------------------------------------------------------------------------------------
// The compiled module: exported functions and imports with their Wasm signatures

/** @returns {{ exports: Map<string, { params: string[], results: string[] }>, imports: Map<string, { params: string[], results: string[] }> }} */
export function wasmSignatures(bytes) {
  const VALTYPE = { 127: 'i32', 126: 'i64', 125: 'f32', 124: 'f64', 123: 'v128' };
  let p = 8;
  const leb = () => {
    let r = 0,
      shift = 0,
      b;
    do {
      b = bytes[p++];
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return r;
  };
  const vec = (item) => {
    const out = [];
    for (let n = leb(); n > 0; n--) out.push(item());
    return out;
  };
  const name = () => {
    const n = leb();
    p += n;
    return new TextDecoder().decode(bytes.subarray(p - n, p));
  };
  const valtype = () => VALTYPE[bytes[p++]] ?? '?';
  const types = [],
    funcs = [],
    exports = new Map(),
    imports = new Map();
  while (p < bytes.length) {
    const id = bytes[p++],
      size = leb(),
      end = p + size;
    if (id === 1) {
      types.push(
        ...vec(() => {
          p++;
          return { params: vec(valtype), results: vec(valtype) };
        }),
      );
    } else if (id === 2) {
      vec(() => {
        const field = `${name()}.${name()}`;
        const kind = bytes[p++];
        if (kind === 0) {
          const t = leb();
          funcs.push(t);
          imports.set(field, types[t]);
        } else if (kind === 2) {
          const flags = bytes[p++];
          leb();
          if (flags & 1) leb();
        } else throw new Error(`unexpected import kind ${kind}`);
      });
    } else if (id === 3) {
      funcs.push(...vec(leb));
    } else if (id === 7) {
      vec(() => {
        const n = name(),
          kind = bytes[p++],
          index = leb();
        if (kind === 0) exports.set(n, types[funcs[index]]);
      });
    }
    p = end;
  }
  return { exports, imports };
}

// ---------------------------------------------------------------------------------------------
// The AssemblyScript side: groups of exports, each function's parameters and comment

// usize: a byte address; u32: a byte count; i32/bool: a count, flag or 0/1
const WASM_OF = { i32: 'i32', u32: 'i32', usize: 'i32', bool: 'i32', i64: 'i64', u64: 'i64', f32: 'f32', f64: 'f64', void: null };

/** The comment lines directly above line `at` (decorators and `@ts-ignore` skipped), without `// `. */
function leadingComment(lines, at) {
  const out = [];
  for (let i = at - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (l.startsWith('@') || l.startsWith('// @ts-ignore')) continue;
    if (!l.startsWith('//')) break;
    out.unshift(l.replace(/^\/\/ ?/, ''));
  }
  return out;
}

function exportedFunction(file, name) {
  const src = read(file);
  const lines = src.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^export function ${name}\\s*\\(`).test(l));
  if (at < 0) throw new Error(`${file}: no \`export function ${name}(\` at the start of a line`);
  const start = lines.slice(0, at).join('\n').length + (at > 0 ? 1 : 0);
  const open = src.indexOf('(', start);
  let depth = 0,
    close = open;
  for (; close < src.length; close++) {
    if (src[close] === '(') depth++;
    if (src[close] === ')' && --depth === 0) break;
  }
  const ret = /^\s*:\s*(\w+)/.exec(src.slice(close + 1));
  if (!ret) throw new Error(`${file}: ${name} has no written return type`);
  const params = src
    .slice(open + 1, close)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\w+)\s*:\s*(\w+)$/.exec(s);
      if (!m || !(m[2] in WASM_OF) || m[2] === 'void') throw new Error(`${file}: ${name}: parameter \`${s}\` is not \`name: scalar\``);
      return { name: m[1], type: m[2] };
    });
  if (!(ret[1] in WASM_OF)) throw new Error(`${file}: ${name} returns ${ret[1]}, not a scalar`);
  const doc = leadingComment(lines, at);
  if (doc.some((l) => l.includes('*/'))) throw new Error(`${file}: the comment of ${name} contains "*/"`);
  return { name, file, params, result: ret[1], doc };
}

/**
 * The groups of an entry file, in order: `// # title` and the comment lines under it, then one or
 * more `export { … } from "./module";` lists. `export * from "./entry"` takes that entry's groups.
 */
export function readEntry(entry) {
  const lines = read(entry).split('\n');
  const groups = [];
  let comment = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.startsWith('//')) {
      comment.push(line.replace(/^\/\/ ?/, ''));
      continue;
    }
    if (line === '') {
      comment = [];
      continue;
    }
    const all = /^export\s*\*\s*from\s*"([^"]+)";?$/.exec(line);
    if (all) {
      groups.push(...readEntry(join(dirname(entry), `${all[1]}.ts`)));
      comment = [];
      continue;
    }
    if (!line.startsWith('export')) throw new Error(`${entry}:${i + 1}: only export lists belong here`);
    let stmt = line;
    while (!/from\s*"[^"]+";?$/.test(stmt)) stmt += ` ${lines[++i].trim()}`;
    const m = /^export\s*\{([^}]*)\}\s*from\s*"([^"]+)";?$/.exec(stmt);
    if (!m) throw new Error(`${entry}:${i + 1}: not \`export { … } from "./module";\``);
    if (comment.length > 0) {
      if (!comment[0].startsWith('# ')) throw new Error(`${entry}:${i + 1}: a group's comment starts with "# title"`);
      groups.push({ title: comment[0].slice(2).trim(), text: comment.slice(1), functions: [] });
    }
    if (groups.length === 0) throw new Error(`${entry}:${i + 1}: an export list before any "# title"`);
    const module = join(dirname(entry), `${m[2]}.ts`);
    for (const name of m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (name.includes(' as ')) throw new Error(`${entry}: renamed export ${name}`);
      groups.at(-1).functions.push(exportedFunction(module, name));
    }
    comment = [];
  }
  return groups;
}

const wasmSig = (fn) => ({ params: fn.params.map((p) => WASM_OF[p.type]), results: WASM_OF[fn.result] ? [WASM_OF[fn.result]] : [] });
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The entry's groups, checked against the module compiled from it: the same functions, the same signatures. */
function checkedEntry(entry, wasmFile) {
  const groups = readEntry(entry);
  if (!existsSync(join(root, wasmFile))) throw new Error(`${wasmFile} is missing: run \`npm run build:wasm\``);
  const wasm = wasmSignatures(readFileSync(join(root, wasmFile)));
  const fns = groups.flatMap((g) => g.functions);
  const problems = [];
  for (const fn of fns) {
    const got = wasm.exports.get(fn.name);
    if (!got) problems.push(`${fn.name} (${fn.file}) is not exported by ${wasmFile}`);
    else if (!same(got, wasmSig(fn)))
      problems.push(`${fn.name}: ${JSON.stringify(wasmSig(fn))} in ${fn.file}, ${JSON.stringify(got)} in ${wasmFile}`);
  }
  for (const name of wasm.exports.keys())
    if (!fns.some((f) => f.name === name)) problems.push(`${wasmFile} exports ${name}, which ${entry} does not list`);
  if (new Set(fns.map((f) => f.name)).size !== fns.length) problems.push(`${entry} lists an export twice`);
  if (problems.length > 0)
    throw new Error(`the sources and the compiled module disagree (rebuild with \`npm run build:wasm\`):\n  ${problems.join('\n  ')}`);
  return { groups, wasm };
}

/** `export const NAME: i32 = value; // comment` (or `= 1 << k`) in a source file. */
function constant(file, name) {
  const m = new RegExp(`export const ${name}(?::\\s*\\w+)?\\s*=\\s*([0-9x\\s<]+);(?:\\s*//\\s*(.*))?`).exec(read(file));
  if (!m) throw new Error(`${file}: no \`export const ${name} = …;\``);
  const value = m[1]
    .trim()
    .split('<<')
    .map((s) => Number(s.trim()))
    .reduce((a, b) => a * 2 ** b);
  return { value, comment: m[2]?.trim() ?? '' };
}

// ---------------------------------------------------------------------------------------------
// The layer descriptor: `@unmanaged export class LayerDesc { name: type; // comment … }`

const DESC_FILE = 'assembly/layer_desc.ts';
const FIELD_BYTES = { f64: 8, i32: 4, usize: 4 };

/**
 * The fields of LayerDesc in declaration order with their byte offsets, as AssemblyScript lays
 * out an unmanaged class: each field at the next multiple of its own size. A field that would
 * need padding before it is refused, so the offsets cannot depend on a compiler's packing rules
 * (C's among them); the struct's size is rounded up to its largest field, as C's sizeof is.
 */
export function readLayerDesc() {
  const src = read(DESC_FILE);
  const m = /^@unmanaged\s*\nexport class LayerDesc \{\n([\s\S]*?)\n\}/m.exec(src);
  if (!m) throw new Error(`${DESC_FILE}: no \`@unmanaged\` \`export class LayerDesc {\` … \`}\``);
  const fields = [];
  let offset = 0;
  for (const line of m[1].split('\n')) {
    const f = /^\s*(\w+)\s*:\s*(\w+);\s*\/\/\s*(.+)$/.exec(line);
    if (!f) throw new Error(`${DESC_FILE}: LayerDesc: \`${line.trim()}\` is not \`name: type; // comment\``);
    const [, name, type, doc] = f;
    const bytes = FIELD_BYTES[type];
    if (!bytes) throw new Error(`${DESC_FILE}: LayerDesc.${name}: type ${type} is not one of ${Object.keys(FIELD_BYTES).join(', ')}`);
    if (offset % bytes !== 0)
      throw new Error(`${DESC_FILE}: LayerDesc.${name} (${type}) at byte ${offset} would need padding: reorder the fields`);
    if (doc.includes('*/')) throw new Error(`${DESC_FILE}: the comment of LayerDesc.${name} contains "*/"`);
    fields.push({ name, type, offset, doc: doc.trim() });
    offset += bytes;
  }
  if (new Set(fields.map((f) => f.name)).size !== fields.length) throw new Error(`${DESC_FILE}: LayerDesc declares a field twice`);
  const align = Math.max(...fields.map((f) => FIELD_BYTES[f.type]));
  return { fields, bytes: Math.ceil(offset / align) * align };
}

function layerDescTs(desc) {
  return [
    '// Generated by scripts/gen-abi.mjs from assembly/layer_desc.ts (npm run build:wasm): edit the',
    '// assembly source, not this file. test/abi/abi.test.ts fails when the two differ.',
    '',
    '/**',
    " * The layer descriptor that every cell kernel takes (class LayerDesc): each field's byte offset",
    " * from the descriptor's start and its type ('f64', 'i32' or 'usize', a byte address).",
    ' */',
    'export const LAYER_DESC = {',
    ...desc.fields.flatMap((f) => [`  /** ${f.doc} */`, `  ${f.name}: { offset: ${f.offset}, type: '${f.type}' },`]),
    '} as const;',
    '',
    '/** A field of the layer descriptor. */',
    'export type LayerDescField = keyof typeof LAYER_DESC;',
    '',
    "/** Bytes of one layer descriptor (C's sizeof(unrolled_layer_desc)). */",
    `export const LAYER_DESC_BYTES = ${desc.bytes};`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// TypeScript

const TS_OF = { i32: 'I32', u32: 'U32', usize: 'Ptr', bool: 'I32', i64: 'bigint', u64: 'bigint', f32: 'F32', f64: 'F64', void: 'void' };
const TS_WIDTH = 140; // biome's line width

function tsInterface(name, description, groups) {
  const out = [`/** ${description} */`, `export interface ${name} {`, '  readonly memory: WebAssembly.Memory;'];
  for (const g of groups) {
    out.push('', `  // ${g.title}`);
    for (const fn of g.functions) {
      if (fn.doc.length > 0) out.push('  /**', ...fn.doc.map((l) => (l ? `   * ${l}` : '   *')), '   */');
      const params = fn.params.map((p) => `${p.name}: ${TS_OF[p.type]}`);
      const flat = `  ${fn.name}(${params.join(', ')}): ${TS_OF[fn.result]};`;
      if (flat.length <= TS_WIDTH) out.push(flat);
      else out.push(`  ${fn.name}(`, ...params.map((p) => `    ${p},`), `  ): ${TS_OF[fn.result]};`);
    }
  }
  out.push('}');
  return out;
}

const TS_TYPES = [
  "/** A byte address in the core's linear memory (a Wasm i32); 0 means none where an argument is optional. */",
  'export type Ptr = number;',
  '/** A Wasm i32: a count in elements, a flag set or a boolean 0/1. */',
  'export type I32 = number;',
  '/** A Wasm i32 holding a count of bytes. */',
  'export type U32 = number;',
  '/** A Wasm f32: the number is rounded to float32 on the way in. */',
  'export type F32 = number;',
  '/** A Wasm f64. */',
  'export type F64 = number;',
];

function coreTs(groups) {
  return [
    '// Generated by scripts/gen-abi.mjs from assembly/index.ts (npm run build:wasm): edit the assembly',
    '// sources, not this file. test/abi/abi.test.ts fails when the two differ.',
    '',
    ...TS_TYPES,
    '',
    ...tsInterface(
      'CoreExports',
      'The exports of every build of the core (build/unrolled.*.wasm), in the groups of assembly/index.ts.',
      groups,
    ),
    '',
  ].join('\n');
}

/** The bench build's type: the core's exports (imported, not repeated) plus the bench kernels. */
function benchTs(groups, coreGroups) {
  const inCore = new Set(coreGroups.flatMap((g) => g.functions.map((fn) => fn.name)));
  const extra = groups
    .map((g) => ({ ...g, functions: g.functions.filter((fn) => !inCore.has(fn.name)) }))
    .filter((g) => g.functions.length > 0);
  const used = [...new Set(extra.flatMap((g) => g.functions.flatMap((fn) => [...fn.params.map((p) => TS_OF[p.type]), TS_OF[fn.result]])))]
    .filter((t) => t !== 'void' && t !== 'bigint')
    .sort();
  const lines = tsInterface(
    'BenchExports extends CoreExports',
    "The exports of the bench build (build-bench/unrolled.bench.wasm): the core's and the bench kernels.",
    extra,
  ).filter((l) => l !== '  readonly memory: WebAssembly.Memory;');
  if (lines[2] === '') lines.splice(2, 1); // the blank line that opened the first group
  return [
    '// Generated by scripts/gen-abi.mjs from assembly/bench.ts (npm run build:wasm): edit the assembly',
    '// sources, not this file. test/abi/abi.test.ts fails when the two differ.',
    '',
    `import type { CoreExports, ${used.join(', ')} } from '../dist/runtime/abi.generated.js';`,
    '',
    ...lines,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// C

const C_OF = {
  i32: 'int32_t',
  u32: 'uint32_t',
  usize: 'unrolled_ptr',
  bool: 'int32_t',
  i64: 'int64_t',
  u64: 'uint64_t',
  f32: 'float',
  f64: 'double',
  void: 'void',
};
// wasm2c 1.0.13 spells every i32 u32 and every i64 u64
const W2C_OF = { i32: 'uint32_t', i64: 'uint64_t', f32: 'float', f64: 'double' };
const MANGLE = { i32: 'i', i64: 'j', f32: 'f', f64: 'd' };
const C_WIDTH = 100;

/** wasm2c 1.0.13's signature suffix: the result's letter, then the parameters'; "v" for none. */
export const mangle = (sig) => {
  const letters = (types) => (types.length === 0 ? 'v' : types.map((t) => MANGLE[t]).join(''));
  return letters(sig.results) + letters(sig.params);
};

/** `head(a, b, …)` + tail, wrapped at C_WIDTH: continuation lines aligned after `(`, or all arguments indented by 4 (hang). */
function cCall(head, args, tail, hang = false) {
  const flat = `${head}(${args.join(', ')})${tail}`;
  if (flat.length <= C_WIDTH) return [flat];
  const indent = hang ? '    ' : ' '.repeat(head.length + 1);
  const lines = hang ? [`${head}(`] : [];
  let cur = hang ? indent : `${head}(`;
  let filled = false;
  args.forEach((a, i) => {
    const piece = a + (i < args.length - 1 ? ',' : `)${tail}`);
    if (!filled) cur += piece;
    else if (`${cur} ${piece}`.length > C_WIDTH) {
      lines.push(cur);
      cur = indent + piece;
    } else cur += ` ${piece}`;
    filled = true;
  });
  lines.push(cur);
  return lines;
}

const cComment = (lines, indent = '') => {
  if (lines.length === 0) return [];
  const body = lines.map((l, i) => `${indent}${i === 0 ? '/* ' : ' * '}${l}`.trimEnd());
  body[body.length - 1] += ' */';
  return body;
};
const RULE = '-'.repeat(93);

const C_FIELD = { f64: 'double', i32: 'int32_t', usize: 'unrolled_ptr' };

function cLayerDesc(desc) {
  const members = desc.fields.flatMap((f) => [`  /* ${f.offset}: ${f.doc} */`, `  ${C_FIELD[f.type]} ${f.name};`]);
  const checks = desc.fields.map(
    (f) =>
      `UNROLLED_STATIC_ASSERT(offsetof(unrolled_layer_desc, ${f.name}) == ${f.offset}, "unrolled_layer_desc.${f.name} at ${f.offset}");`,
  );
  return `/* ${RULE}
 * Layer descriptor (${DESC_FILE}, class LayerDesc).
 * The one argument of every cell kernel (rnn/lstm/gru _forward and _backward) is the byte address
 * of one of these in linear memory: the shapes, flags and buffers of one layer. Pointers are byte
 * addresses in the core's memory, 0 = none where optional. Little-endian, no padding between
 * fields; the compiler checks the offsets below. A host keeps one per layer, writes it when it lays
 * out the layer's buffers (alloc(UNROLLED_LAYER_DESC_BYTES) or inside an arena, 8-byte aligned),
 * and rewrites only the fields that change between calls. Each kernel reads the fields its cell
 * uses and ignores the rest. Modes: [in] read, [out] written, [in/out] read then overwritten,
 * [acc] added to, [scratch] contents meaningless before and after.
 * ${RULE} */
typedef struct unrolled_layer_desc {
${members.join('\n')}
} unrolled_layer_desc;

#define UNROLLED_LAYER_DESC_BYTES ${desc.bytes}

#if defined(__cplusplus) && __cplusplus >= 201103L
#define UNROLLED_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define UNROLLED_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#else
#define UNROLLED_STATIC_ASSERT(cond, msg) /* before C11 the offsets go unchecked */
#endif
${checks.join('\n')}
UNROLLED_STATIC_ASSERT(sizeof(unrolled_layer_desc) == UNROLLED_LAYER_DESC_BYTES, "sizeof(unrolled_layer_desc)");`;
}

function header(groups, wasm, desc) {
  const fileOf = (g) => [...new Set(g.functions.map((f) => f.file))].join(', ');
  const flagTokens = constant('assembly/cell_common.ts', 'FLAG_TOKENS');
  const flagRelu = constant('assembly/cell_common.ts', 'FLAG_RELU');
  const panel = constant('assembly/gemm.ts', 'PANEL');
  const control = constant('assembly/pool.ts', 'POOL_CONTROL_BYTES');
  const minFlops = constant('src/runtime/core.ts', 'POOL_MIN_FLOPS');
  const abort = wasm.imports.get('env.abort');
  if (!abort || !same(abort, { params: ['i32', 'i32', 'i32', 'i32'], results: [] }))
    throw new Error('the core no longer imports env.abort(i32, i32, i32, i32)');

  const plain = [];
  for (const g of groups) {
    plain.push('', `/* ${RULE}`, ...[`${g.title} (${fileOf(g)}).`, ...g.text].map((l) => ` * ${l}`.trimEnd()), ` * ${RULE} */`);
    for (const fn of g.functions) {
      plain.push('', ...cComment(fn.doc));
      const args = fn.params.length === 0 ? ['void'] : fn.params.map((p) => `${C_OF[p.type]} ${p.name}`);
      plain.push(...cCall(`${C_OF[fn.result]} UNROLLED_FN(${fn.name})`, args, ';'));
    }
  }
  const w2c = [];
  for (const g of groups) {
    w2c.push('', `/* ${g.title} */`);
    for (const fn of g.functions) {
      const sig = wasmSig(fn);
      const ret = sig.results.length ? W2C_OF[sig.results[0]] : 'void';
      const args = fn.params.length === 0 ? ['void'] : fn.params.map((p) => `${W2C_OF[WASM_OF[p.type]]} ${p.name}`);
      w2c.push(...cCall(`extern ${ret} (*unrolled_Z_${fn.name}Z_${mangle(sig)})`, args, ';', true));
    }
  }
  return `/*
 * unrolled.h: the flat C ABI of the unrolled WebAssembly core. Generated by scripts/gen-abi.mjs
 * from assembly/index.ts and the comments of the functions it exports (npm run build:wasm):
 * edit those, not this file.
 *
 * All four builds come from assembly/index.ts and export the same functions with the same
 * signatures:
 *     build/unrolled.simd.wasm      f32x4 kernels
 *     build/unrolled.relaxed.wasm   f32x4 with relaxed-SIMD fused multiply-add
 *     build/unrolled.threads.wasm   f32x4 on a shared memory it imports (env.memory), with a pool
 *                                   of worker instances splitting the large products
 *     build/unrolled.scalar.wasm    the scalar twins only (Wasm MVP; the build for wasm2c)
 *
 * docs/abi.md has the full text: the memory model, the packed-panel format, every export, the
 * calling sequence of one training step and the threads build's pool protocol. examples/c/ runs
 * that sequence on the wasm2c translation of the scalar build.
 *
 * The header has two parts:
 *
 *   1. Host-agnostic prototypes, unrolled_<export>(...): one for each export, with the export's own
 *      signature (Wasm i32 -> unrolled_ptr for byte addresses, uint32_t for byte counts, int32_t
 *      for counts and flags; f32 -> float; f64 -> double). No runtime implements these names. An
 *      embedder of any runtime (wasmtime, WAMR, wasm3, a JVM or .NET binding, ...) can write them
 *      as thin wrappers that call the export of the same name without the prefix. The prefix is
 *      there because the exports \`alloc\` and \`free\` would otherwise clash with libc. Define
 *      UNROLLED_NO_PLAIN_API to leave them out, or define UNROLLED_FN(name) to choose other names.
 *
 *   2. With UNROLLED_WASM2C defined: the symbols that the npm package wasm2c (wabt's wasm2c
 *      1.0.13, run by Node) generates for
 *          node node_modules/wasm2c/wasm2c.js build/unrolled.scalar.wasm -o unrolled_w2c.c
 *      compiled with -DWASM_RT_MODULE_PREFIX=unrolled_ (details at that part, below).
 *      The declarations match the generated unrolled_w2c.h, so a C file can include both and the
 *      compiler checks that they agree (examples/c/main.c does).
 *
 * Conventions (the same for every export; docs/abi.md explains them in full)
 *   - One linear memory, exported as "memory" (the threads build imports it as env.memory and
 *     exports it again). Every pointer argument is a byte address in it. Blocks from alloc() are
 *     16-byte aligned and zero-filled. A 0 pointer means "none" where an argument is optional.
 *     Everything else is a plain number.
 *   - Tensors are f32, little-endian, row-major and time-major: [T,B,...] means step t, row b at
 *     element (t*B + b)*inner. Class or token ids are stored as f32 values (exact up to 2^24).
 *     Masks are f32 0/1.
 *   - Sizes are element counts, except alloc() and zero(), which take bytes.
 *   - Letters: T steps, B batch rows, I input features (the vocabulary size for token input),
 *     H hidden units, G = gates*H (RNN 1, GRU 3, LSTM 4 gates), O head outputs, R loss rows
 *     (T*B for a head at every step, B for the last step only), n flat element count.
 *   - In the comments: [in] read only; [out] written (old contents ignored); [in/out] read and then
 *     overwritten with something else; [acc] added to (+=), so the caller zeroes it first.
 *   - Parameters use the PyTorch state_dict layout: W_ih [G,I], W_hh [G,H], b_ih [G], b_hh [G]
 *     (gate blocks LSTM i|f|g|o, GRU r|z|n), head W [O,H], head b [O]. The cell and head kernels
 *     read the weights only in the packed-panel form (below), as the right operand of each
 *     product: forward W_ih^T [I,G], W_hh^T [H,G], head W^T [H,O] ("wihTransposedPacked",
 *     "whhTransposedPacked", "wTransposedPacked"); backward W_ih [G,I], W_hh [G,H], head W [O,H]
 *     ("wihPacked", "whhPacked", "wPacked"). The host packs them with pack_panels() after every
 *     change of the weights.
 *   - Packed panels: a right operand B[K,N] is stored as ceil(N/8) panels of K x 8 floats,
 *     panel after panel; row k of panel p holds B(k, 8p .. 8p+7), zeros beyond column N-1.
 *     packed_size(K, N) = K * ceil(N/8) * 8 floats (UNROLLED_PACKED_SIZE below).
 *   - Nothing in the core checks a size or a pointer. An out-of-range address traps (Wasm
 *     semantics); a wrong size silently computes garbage inside the memory.
 */
#ifndef UNROLLED_H
#define UNROLLED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A byte address in the core's linear memory (Wasm i32). 0 = none. */
typedef uint32_t unrolled_ptr;

/* flags of the cell kernels (assembly/cell_common.ts) */
#define UNROLLED_FLAG_TOKENS ${flagTokens.value} /* ${flagTokens.comment} */
#define UNROLLED_FLAG_RELU ${flagRelu.value}   /* ${flagRelu.comment} */

/* Alignment of every tensor in the library's own layouts (src/model/layout.ts): 4 floats. */
#define UNROLLED_ALIGN4(n) ((((uint32_t)(n)) + 3u) & ~3u)

/* Columns per packed panel (assembly/gemm.ts PANEL). */
#define UNROLLED_PANEL ${panel.value}
/* Floats of a packed right operand B[K,N]; the same value as the export packed_size(K, N). */
#define UNROLLED_PACKED_SIZE(K, N) ((uint32_t)(K) * ((((uint32_t)(N)) + ${panel.value - 1}u) & ~${panel.value - 1}u))

/* Bytes of the pool's control block (assembly/pool.ts POOL_CONTROL_BYTES; not exported by the
 * module): the threads build's host allocates it zeroed and passes it to pool_worker,
 * pool_init and pool_stop. */
#define UNROLLED_POOL_CONTROL_BYTES ${control.value}
/* The library's threshold for splitting a product (src/runtime/core.ts POOL_MIN_FLOPS):
 * products of fewer than 2*M*N*K flops stay on the calling thread. */
#define UNROLLED_POOL_MIN_FLOPS ${minFlops.value.toFixed(1)}

${cLayerDesc(desc)}

#ifndef UNROLLED_NO_PLAIN_API
#ifndef UNROLLED_FN
#define UNROLLED_FN(name) unrolled_##name
#endif
${plain.join('\n')}

/* The one imported function every host provides: env.abort(message, file, line, column).
 * message and file are AssemblyScript strings (UTF-16LE; byte length in the u32 just before the
 * address) or 0. It must not return: throw, trap or exit. (The threads build also imports its
 * memory, env.memory.) */
void UNROLLED_FN(env_abort)(unrolled_ptr message, unrolled_ptr file, int32_t line, int32_t column);
#endif /* UNROLLED_NO_PLAIN_API */

/* =============================================================================================
 * wasm2c from the npm package "wasm2c" (an emscripten build of wabt's wasm2c 1.0.13; it runs
 * under Node and ships its runtime: wasm-rt.h, wasm-rt-impl.h, wasm-rt-impl.c), for
 *     node node_modules/wasm2c/wasm2c.js build/unrolled.scalar.wasm -o unrolled_w2c.c
 * with every C file of the program (the generated one, wasm-rt-impl.c and the host's) compiled
 * with -DWASM_RT_MODULE_PREFIX=unrolled_ and the package's directory on the include path.
 * (\`node node_modules/wasm2c/wasm2c.js --version\` prints 1.0.13.) This wasm2c translates the
 * scalar build only: it stops at the data-count section of the others ("invalid section code:
 * 12") and refuses every --enable-* flag ("only default feature flags"). Use
 * unrolled.scalar.wasm, single-threaded: its pool_* exports do nothing.
 *
 * One module per program. The generated C keeps the memory and the globals in static variables:
 * one instance per process, and nothing to free (the memory lives until exit).
 *     per process     unrolled_init();   before the first export; allocates the memory and sets
 *                     the export pointers
 *     export f        unrolled_Z_<f>Z_<sig>(args...), a function pointer; <sig> is the result's
 *                     letter, then one per parameter (i i32, j i64, f f32, d f64; v for none):
 *                     alloc(i32) -> i32 is unrolled_Z_allocZ_ii. Every i32 is u32, f32 float,
 *                     f64 double. Names keep [A-Za-z0-9_] except 'Z'; any other byte would be
 *                     'Z' + two upper-case hex digits (no export of the core has one).
 *     memory          wasm_rt_memory_t *unrolled_Z_memory  ->  ->data, ->size (bytes)
 *     import env.abort  a function pointer the host defines (imports take no prefix):
 *                     void (*Z_envZ_abortZ_viiii)(u32 msg, u32 file, u32 line, u32 col) = handler;
 * The prefix (WASM_RT_MODULE_PREFIX) keeps the generated \`init\` and Z_... globals from clashing
 * with anything else linked in; without it every name below loses its "unrolled_".
 * Traps (out-of-bounds access, unreachable, or wasm_rt_trap() called from the abort handler)
 * longjmp to the most recent wasm_rt_impl_try() (wasm-rt-impl.h), which the host must have
 * called before the first export that can trap.
 *
 * Memory. memory->data + address is the byte at \`address\`. The generated loads and stores
 * memcpy in host byte order, so only little-endian hosts read the core's f32 tensors right.
 * The runtime calloc()s the memory and realloc()s it on growth: ->data moves when alloc() grows
 * it. Take ->data again after every call that may allocate.
 *
 * Later wabt releases changed the generated interface more than once (per-instance structs with
 * Z_<module>_instantiate in 1.0.32, w2c_<module>_<export> from 1.0.33 on); the declarations below
 * are for the npm package's 1.0.13 only. Compare with the generated header: a C file that
 * includes both (examples/c/main.c does) fails to compile where they disagree.
 * ============================================================================================= */
#ifdef UNROLLED_WASM2C
#include "wasm-rt.h"

void unrolled_init(void);
extern wasm_rt_memory_t* unrolled_Z_memory;

/* import 'env' 'abort': defined by the host; must not return (call wasm_rt_trap, exit, ...). */
extern void (*Z_envZ_abortZ_${mangle(abort)})(uint32_t message, uint32_t file, uint32_t line, uint32_t column);

/* exports: the same arguments as unrolled_<name> above */${w2c.join('\n')}
#endif /* UNROLLED_WASM2C */

#ifdef __cplusplus
}
#endif

#endif /* UNROLLED_H */
`;
}

// ---------------------------------------------------------------------------------------------
// docs/abi.md

const BEGIN = '<!-- abi:begin: generated by scripts/gen-abi.mjs from assembly/index.ts; edit there -->';
const END = '<!-- abi:end -->';
const DOC_TYPE = { i32: 'i32', u32: 'u32', usize: 'p', bool: 'i32', i64: 'i64', u64: 'u64', f32: 'f32', f64: 'f64', void: '—' };

function docsTable(groups) {
  const rows = ['| group | export | returns | source |', '|---|---|---|---|'];
  for (const g of groups) {
    for (const fn of g.functions) {
      const args = fn.params.map((p) => (p.type === 'i32' ? p.name : `${p.name}: ${DOC_TYPE[p.type]}`));
      rows.push(
        `| ${g.title} | \`${fn.name}(${args.join(', ')})\` | ${DOC_TYPE[fn.result]} | [${fn.file.replace(/^assembly\//, '')}](../${fn.file}) |`,
      );
    }
  }
  return [BEGIN, '', ...rows, '', END].join('\n');
}

const DESC_BEGIN = '<!-- layer-desc:begin: generated by scripts/gen-abi.mjs from assembly/layer_desc.ts; edit there -->';
const DESC_END = '<!-- layer-desc:end -->';

function descTable(desc) {
  const rows = ['| offset | field | type | shape, mode and use |', '|---|---|---|---|'];
  for (const f of desc.fields)
    rows.push(`| ${f.offset} | \`${f.name}\` | ${f.type === 'usize' ? 'p' : f.type} | ${f.doc.replaceAll('|', '\\|')} |`);
  return [DESC_BEGIN, '', ...rows, '', `${desc.bytes} bytes in all (\`UNROLLED_LAYER_DESC_BYTES\`).`, '', DESC_END].join('\n');
}

/** `text` with the part from the line starting `begin` (its first 20 characters) to `end` replaced by `body`. */
function fill(text, begin, end, body) {
  const a = text.indexOf(begin.slice(0, 20)),
    b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/abi.md: no ${begin.slice(0, 20)} … --> … ${end} section to fill`);
  return text.slice(0, a) + body + text.slice(b + end.length);
}

function docs(groups, desc) {
  return fill(fill(read('docs/abi.md'), BEGIN, END, docsTable(groups)), DESC_BEGIN, DESC_END, descTable(desc));
}

// ---------------------------------------------------------------------------------------------

/** Every generated file's path (from the repository root) and its contents now. */
export function generate() {
  const core = checkedEntry('assembly/index.ts', 'build/unrolled.scalar.wasm');
  const bench = checkedEntry('assembly/bench.ts', 'build-bench/unrolled.bench.wasm');
  const desc = readLayerDesc();
  return new Map([
    ['src/runtime/abi.generated.ts', coreTs(core.groups)],
    ['src/runtime/layer-desc.generated.ts', layerDescTs(desc)],
    ['include/unrolled.h', header(core.groups, core.wasm, desc)],
    ['docs/abi.md', docs(core.groups, desc)],
    ['bench/abi.generated.ts', benchTs(bench.groups, core.groups)],
  ]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let files;
  try {
    files = generate();
  } catch (e) {
    console.error(`gen-abi: ${e.message}`);
    process.exit(1);
  }
  const stale = [];
  for (const [path, text] of files) {
    const abs = join(root, path);
    const old = existsSync(abs) ? readFileSync(abs, 'utf8') : null;
    if (old === text) continue;
    if (check) {
      const a = (old ?? '').split('\n'),
        b = text.split('\n');
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      stale.push(`${path}:${i + 1}\n    on disk:   ${a[i] ?? '(end of file)'}\n    generated: ${b[i] ?? '(end of file)'}`);
    } else {
      writeFileSync(abs, text);
      console.log(`gen-abi: wrote ${rel(abs)}`);
    }
  }
  if (stale.length > 0) {
    console.error(`gen-abi: generated files differ from what assembly/ declares (run \`npm run build:wasm\`):\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
}
