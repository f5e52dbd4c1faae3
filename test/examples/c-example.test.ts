// The C example (examples/c): wasm2c (the npm package, run by Node) translates
// build/unrolled.scalar.wasm to C, `cc` compiles it, and the program trains a small RNN for 5
// steps from a file this test writes. Its losses, gradient norms and final weights must equal the
// js backend's for the same weights and data (1e-5 relative), and the Wasm scalar backend's to
// print precision: the C host makes the same calls as src/model/network.ts and
// src/train/trainer.ts on the same Wasm code. Needs a C compiler named `cc` on PATH: without one
// the test fails, as it does when wasm2c is not installed.
// Before that, without a compiler: include/unrolled.h declares every export of the scalar build
// with its exact signature (both parts), docs/abi.md writes out every export's argument list
// with the export's arity, and the four builds export the same signatures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, loadCore, Trainer, type StepResult, type TrainerOptions } from '../../src/node/index.js';
import { relErr } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_SH = join(ROOT, 'examples/c/build.sh');
const SCALAR_WASM = join(ROOT, 'build/unrolled.scalar.wasm');

const I = 3,
  H = 5,
  O = 2,
  T = 4,
  B = 2,
  STEPS = 5;
const LR = 0.01,
  CLIP = 5;
const OPTIONS: TrainerOptions = { loss: { loss: 'mse', at: 'last' }, optimizer: { name: 'adam', lr: LR }, clipNorm: CLIP };

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Deterministic f32 data in [lo, hi) (a plain LCG, independent of the library's Rng). */
function uniform(n: number, lo: number, hi: number, state: { s: number }): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state.s = (Math.imul(state.s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (state.s / 4294967296);
  }
  return out;
}

/** f32 → text that strtof reads back exactly (9 significant digits). */
const f32 = (v: number): string => Math.fround(v).toPrecision(9);
const record = (key: string, values: ArrayLike<number>): string => `${key} ${values.length} ${Array.from(values, f32).join(' ')}`;

type Signature = { params: string[]; results: string[] };

/**
 * Exported functions of a Wasm binary with their signatures (type, import, function, export
 * sections), and its imports as "module.field func|memory[ shared]".
 */
function wasmModule(bytes: Uint8Array): { exports: Map<string, Signature>; imports: string[] } {
  const VALTYPE: Record<number, string> = { 127: 'i32', 126: 'i64', 125: 'f32', 124: 'f64', 123: 'v128' };
  let p = 8;
  const leb = (): number => {
    let r = 0,
      shift = 0,
      b: number;
    do {
      b = bytes[p++];
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return r;
  };
  const vec = <T>(item: () => T): T[] => {
    const out: T[] = [];
    for (let n = leb(); n > 0; n--) out.push(item());
    return out;
  };
  const name = (): string => {
    const n = leb();
    p += n;
    return new TextDecoder().decode(bytes.subarray(p - n, p));
  };
  const valtype = (): string => VALTYPE[bytes[p++]] ?? '?';
  const types: Signature[] = [],
    funcs: number[] = [],
    out = new Map<string, Signature>(),
    imports: string[] = [];
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
          funcs.push(leb());
          imports.push(`${field} func`);
        } else if (kind === 2) {
          const flags = bytes[p++];
          leb();
          if (flags & 1) leb();
          imports.push(`${field} memory${flags & 2 ? ' shared' : ''}`);
        } else {
          throw new Error(`unexpected import kind ${kind}`);
        }
      });
    } else if (id === 3) {
      funcs.push(...vec(leb));
    } else if (id === 7) {
      vec(() => {
        const n = name(),
          kind = bytes[p++],
          index = leb();
        if (kind === 0) out.set(n, types[funcs[index]]);
      });
    }
    p = end;
  }
  return { exports: out, imports };
}

/** The argument lists of every inline-code call `` `name(a, b, …)` `` in a Markdown text, split at top-level commas. */
function docCalls(docs: string, name: string): string[][] {
  const calls: string[][] = [];
  const open = `\`${name}(`;
  for (let at = docs.indexOf(open); at >= 0; at = docs.indexOf(open, at + 1)) {
    const args: string[] = [];
    let depth = 0,
      arg = '',
      i = at + open.length;
    for (; i < docs.length && docs[i] !== '`'; i++) {
      const ch = docs[i];
      if (ch === '(') depth++;
      if (ch === ')' && depth-- === 0) break;
      if (ch === ',' && depth === 0) {
        args.push(arg.trim());
        arg = '';
      } else arg += ch;
    }
    if (docs[i] !== ')') throw new Error(`docs/abi.md: unclosed \`${name}(\` at offset ${at}`);
    if (arg.trim() !== '' || args.length > 0) args.push(arg.trim());
    calls.push(args);
  }
  return calls;
}

const C_TYPE: Record<string, string> = {
  int32_t: 'i32',
  uint32_t: 'i32',
  u32: 'i32',
  unrolled_ptr: 'i32',
  float: 'f32',
  f32: 'f32',
  double: 'f64',
  f64: 'f64',
};
const stripComments = (code: string): string => code.replace(/\/\*[\s\S]*?\*\//g, ' ');
/** C parameter list → Wasm types; a parameter's name, if any, is dropped (`uint32_t n` → i32). */
const cParams = (list: string): string[] =>
  list.trim() === 'void'
    ? []
    : list.split(',').map((a) => {
        const words = a.trim().split(/\s+/);
        return C_TYPE[words[0]] ?? a.trim();
      });
const cResults = (ret: string): string[] => (ret === 'void' ? [] : [C_TYPE[ret] ?? ret]);

/** Declarations `ret NAME(args);` of a C header whose NAME matches `prefix(\w+)`, as Wasm signatures. */
function cDeclarations(header: string, prefix: string): Map<string, Signature> {
  const out = new Map<string, Signature>();
  for (const m of stripComments(header).matchAll(new RegExp(`(\\w+)\\s+${prefix}(\\w+)\\)?\\(([^;]*?)\\);`, 'g'))) {
    out.set(m[2], { params: cParams(m[3]), results: cResults(m[1]) });
  }
  return out;
}

/**
 * The function pointers `[extern] ret (*PREFIX<name>Z_<sig>)(args);` that wasm2c 1.0.13 emits
 * for the exports (and the import), keyed by <name>, with the Wasm signature that the C types
 * spell and the mangled one (<sig>) that the name carries.
 */
function w2cDeclarations(header: string, prefix: string): Map<string, Signature & { mangled: string }> {
  const out = new Map<string, Signature & { mangled: string }>();
  for (const m of stripComments(header).matchAll(new RegExp(`(\\w+)\\s+\\(\\*${prefix}(\\w+?)Z_([a-z]+)\\)\\(([^;]*?)\\);`, 'g'))) {
    out.set(m[2], { params: cParams(m[4]), results: cResults(m[1]), mangled: m[3] });
  }
  return out;
}

/** wasm2c 1.0.13's signature suffix: the result's letter, then the parameters'; "v" for none. */
function mangle(sig: Signature): string {
  const LETTER: Record<string, string> = { i32: 'i', i64: 'j', f32: 'f', f64: 'd' };
  const letters = (types: string[]): string => (types.length === 0 ? 'v' : types.map((t) => LETTER[t] ?? '?').join(''));
  return letters(sig.results) + letters(sig.params);
}

describe('include/unrolled.h and docs/abi.md cover the ABI', () => {
  it('declares and documents every export of the scalar build with its signature', () => {
    if (!existsSync(SCALAR_WASM)) throw new Error(`${SCALAR_WASM} is missing: run \`npm run build:wasm\``);
    const { exports } = wasmModule(readFileSync(SCALAR_WASM));
    const header = readFileSync(join(ROOT, 'include/unrolled.h'), 'utf8');
    const docs = readFileSync(join(ROOT, 'docs/abi.md'), 'utf8');
    const plain = cDeclarations(header, 'UNROLLED_FN\\(');
    const w2c = w2cDeclarations(header, 'unrolled_Z_');
    const abortSig: Signature = plain.get('env_abort') ?? { params: [], results: [] };
    plain.delete('env_abort'); // the import
    expect(abortSig, 'unrolled_env_abort').toEqual({ params: ['i32', 'i32', 'i32', 'i32'], results: [] });
    expect([...plain.keys()].sort(), 'unrolled_<name> prototypes').toEqual([...exports.keys()].sort());
    expect([...w2c.keys()].sort(), 'unrolled_Z_<name>Z_<sig> function pointers').toEqual([...exports.keys()].sort());
    // the wasm2c part's import, module initialiser and memory
    const w2cImport = w2cDeclarations(header, 'Z_envZ_');
    expect([...w2cImport.entries()], 'Z_envZ_abortZ_viiii').toEqual([['abort', { ...abortSig, mangled: mangle(abortSig) }]]);
    const code = stripComments(header);
    expect(code, 'unrolled_init()').toMatch(/\bvoid\s+unrolled_init\(void\);/);
    expect(code, 'unrolled_Z_memory').toMatch(/\bextern\s+wasm_rt_memory_t\s*\*\s*unrolled_Z_memory;/);
    for (const [name, sig] of exports) {
      expect(plain.get(name), `unrolled_${name}`).toEqual(sig);
      // both the C types and the signature in the name, which is what the linker sees
      expect(w2c.get(name), `unrolled_Z_${name}Z_…`).toEqual({ ...sig, mangled: mangle(sig) });
      // docs/abi.md spells out every export's argument list, and every `name(…)` in it has the
      // export's arity (so that no stale signature survives a change of the ABI)
      const calls = docCalls(docs, name);
      expect(calls.length, `docs/abi.md documents \`${name}(…)\``).toBeGreaterThan(0);
      for (const args of calls) expect(args, `docs/abi.md: \`${name}(${args.join(', ')})\``).toHaveLength(sig.params.length);
    }
  });

  it('gives every build the same exports; only the threads build imports its (shared) memory', () => {
    const scalar = wasmModule(readFileSync(SCALAR_WASM));
    expect(scalar.imports).toEqual(['env.abort func']);
    for (const variant of ['simd', 'relaxed', 'threads']) {
      const file = join(ROOT, `build/unrolled.${variant}.wasm`);
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build:wasm\``);
      const m = wasmModule(readFileSync(file));
      expect([...m.exports.entries()], `exports of ${variant}`).toEqual([...scalar.exports.entries()]);
      expect(m.imports, `imports of ${variant}`).toEqual(
        variant === 'threads' ? ['env.abort func', 'env.memory memory shared'] : ['env.abort func'],
      );
    }
  });
});

describe('C example (wasm2c + cc)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'unrolled-c-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("trains an RNN for 5 steps with the js backend's losses, norms and weights", { timeout: 60_000 }, async () => {
    if (!onPath('cc')) throw new Error('no C compiler: `cc` is not on PATH (the C example compiles the wasm2c output with it)');
    try {
      createRequire(join(ROOT, 'package.json')).resolve('wasm2c/package.json');
    } catch {
      throw new Error('the npm package wasm2c is not installed: run `npm install`');
    }
    if (!existsSync(SCALAR_WASM)) throw new Error(`${SCALAR_WASM} is missing: run \`npm run build:wasm\``);

    // CC pinned: the test is about `cc`, whatever CC the shell exports; NODE: this very Node runs
    // wasm2c; no WASM or WASM2C_DIR: it tests the repository's own build and installed package
    const env: NodeJS.ProcessEnv = { ...process.env, CC: 'cc', NODE: process.execPath };
    delete env.WASM2C_DIR;
    delete env.WASM;
    const build = spawnSync('sh', [BUILD_SH, dir], { encoding: 'utf8', timeout: 50_000, env });
    if (build.status !== 0)
      throw new Error(`examples/c/build.sh failed (${build.status ?? build.signal}):\n${build.stderr}${build.stdout}`);
    const exe = join(dir, 'unrolled-rnn');

    // include/unrolled.h declares exactly the function pointers wasm2c generated, names and types
    // (the generated header spells the prefix WASM_RT_ADD_PREFIX(...); build.sh sets unrolled_)
    const generated = readFileSync(join(dir, 'unrolled_w2c.h'), 'utf8').replace(/WASM_RT_ADD_PREFIX\((\w+)\)/g, 'unrolled_$1');
    const header = readFileSync(join(ROOT, 'include/unrolled.h'), 'utf8');
    for (const prefix of ['unrolled_Z_', 'Z_envZ_']) {
      expect(Object.fromEntries(w2cDeclarations(header, prefix)), `${prefix}… in include/unrolled.h vs unrolled_w2c.h`).toEqual(
        Object.fromEntries(w2cDeclarations(generated, prefix)),
      );
    }
    expect(w2cDeclarations(generated, 'unrolled_Z_').size, 'exports in unrolled_w2c.h').toBe(
      wasmModule(readFileSync(SCALAR_WASM)).exports.size,
    );

    // the js backend's run: initial weights, 5 batches, 5 steps
    const model = await createModel({ cell: 'rnn', inputSize: I, hiddenSize: H, outputSize: O, backend: 'js', seed: 1 });
    const initial = model.stateDict();
    const rand = { s: 1 };
    // targets in ±4, well away from the untrained outputs: some steps' norms exceed CLIP, and the
    // loss stays > 2 over the 5 steps, so that its relative difference is not one of cancellation
    const batches = Array.from({ length: STEPS }, () => ({
      x: uniform(T * B * I, -1, 1, rand),
      y: uniform(B * O, -4, 4, rand),
      T,
      B,
    }));
    const trainer = new Trainer(model, OPTIONS);
    const js: StepResult[] = batches.map((b) => trainer.step(b));
    // the same run on the TypeScript host of the same Wasm build
    const wasmModel = await createModel({
      cell: 'rnn',
      inputSize: I,
      hiddenSize: H,
      outputSize: O,
      core: await loadCore({ variant: 'scalar' }),
    });
    wasmModel.loadStateDict(initial);
    const wasmTrainer = new Trainer(wasmModel, OPTIONS);
    const wasm: StepResult[] = batches.map((b) => wasmTrainer.step(b));
    const opt = trainer.optimizer.spec;

    const lines = [
      '# written by test/examples/c-example.test.ts',
      'format 1 1',
      `dims 5 ${I} ${H} ${O} ${T} ${B}`,
      `adam 4 ${opt.lr} ${opt.beta1} ${opt.beta2} ${opt.eps}`,
      `clip 1 ${CLIP}`,
      ...model.parameterNames().map((name) => record(name, initial[name])),
      ...batches.flatMap((b) => [record('x', b.x), record('y', b.y)]),
    ];
    const input = join(dir, 'example.txt'),
      paramsOut = join(dir, 'params-out.txt');
    writeFileSync(input, `${lines.join('\n')}\n`);

    const run = spawnSync(exe, [input, paramsOut], { encoding: 'utf8', timeout: 20_000 });
    if (run.status !== 0) throw new Error(`${exe} failed (${run.status ?? run.signal}):\n${run.stderr}`);

    // stdout: one loss per line, 9 significant digits
    const losses = run.stdout.trim().split('\n');
    expect(losses).toHaveLength(STEPS);
    for (const line of losses) expect(line).toMatch(/^-?\d\.\d{8}(e[+-]\d+)?$|^-?\d+\.\d+$/);
    const cLoss = losses.map(Number);
    for (let i = 0; i < STEPS; i++) {
      expect(
        Math.abs(cLoss[i] - js[i].loss) / Math.abs(js[i].loss),
        `loss of step ${i + 1}: C ${cLoss[i]} vs js ${js[i].loss}`,
      ).toBeLessThan(1e-5);
      expect(
        Math.abs(cLoss[i] - wasm[i].loss) / Math.abs(wasm[i].loss),
        `loss of step ${i + 1}: C ${cLoss[i]} vs wasm scalar ${wasm[i].loss}`,
      ).toBeLessThan(1e-8);
    }

    // stderr: "step k loss L grad_norm N [clipped]"
    const steps = run.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('step '));
    expect(steps).toHaveLength(STEPS);
    steps.forEach((line, i) => {
      const m = /^step (\d+) loss (\S+) grad_norm (\S+)( clipped)?$/.exec(line);
      expect(m, line).not.toBeNull();
      const norm = Number(m![3]);
      expect(Math.abs(norm - js[i].gradNorm) / js[i].gradNorm, `grad norm of step ${i + 1}`).toBeLessThan(1e-5);
      expect(m![4] !== undefined, `clipped at step ${i + 1}`).toBe(js[i].clipped);
    });
    expect(
      js.some((r) => r.clipped),
      'the data exercise clipping',
    ).toBe(true);

    // the weights after 5 updates
    const out = new Map<string, number[]>();
    for (const line of readFileSync(paramsOut, 'utf8').trim().split('\n')) {
      const [name, count, ...values] = line.split(' ');
      expect(values).toHaveLength(Number(count));
      out.set(name, values.map(Number));
    }
    for (const name of model.parameterNames()) {
      expect(relErr(out.get(name)!, model.getParameter(name)), name).toBeLessThan(1e-5);
      expect(relErr(out.get(name)!, wasmModel.getParameter(name)), name).toBeLessThan(1e-8);
    }
    trainer.dispose();
    wasmTrainer.dispose();
    model.dispose();
    wasmModel.dispose();
  });
});
