// The ABI is declared once, in assembly/index.ts (and assembly/bench.ts for the bench build) and
// the layer descriptor's class in assembly/layer_desc.ts: scripts/gen-abi.mjs derives
// src/runtime/abi.generated.ts, src/runtime/layer-desc.generated.ts, bench/abi.generated.ts,
// include/unrolled.h and the two tables of docs/abi.md from them, checking the exports against
// the compiled modules. Each of those files must be exactly what the generator writes now, so an
// edit of an export (a parameter renamed, added or retyped, a comment changed, an export added or
// dropped) that was not followed by `npm run build:wasm` fails here, as does a hand edit of a
// generated file. Scratch copies of the inputs, each changed in one way, show that the check sees
// each kind of drift. (test/examples/c-example.test.ts checks the header against the modules and
// against what wasm2c generates.)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GEN = fileURLToPath(new URL('../../scripts/gen-abi.mjs', import.meta.url));

// What the generator reads and writes, copied so that a test can change it
const INPUTS = [
  'assembly',
  'build/unrolled.scalar.wasm',
  'build-bench/unrolled.bench.wasm',
  'src/runtime/core.ts',
  'src/runtime/abi.generated.ts',
  'src/runtime/layer-desc.generated.ts',
  'bench/abi.generated.ts',
  'include/unrolled.h',
  'docs/abi.md',
];
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the generator's inputs and outputs, changed by `edit`, and what `--check` says about it. */
function checkCopy(edit: (dir: string) => void): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'unrolled-abi-'));
  scratch.push(dir);
  for (const path of INPUTS) cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  edit(dir);
  const r = spawnSync(process.execPath, [GEN, '--check', '--root', dir], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

function replaceIn(dir: string, file: string, from: string, to: string): void {
  const text = readFileSync(join(dir, file), 'utf8');
  expect(text, `${file} contains ${from}`).toContain(from);
  writeFileSync(join(dir, file), text.replace(from, to));
}

describe('the ABI declared once', () => {
  it('every generated file equals what scripts/gen-abi.mjs derives from assembly/ and the built modules', () => {
    const r = spawnSync(process.execPath, [GEN, '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr, 'node scripts/gen-abi.mjs --check').toBe('');
    expect(r.status).toBe(0);
  });

  it('an unchanged copy passes the check (the copy is complete)', () => {
    expect(checkCopy(() => {})).toEqual({ status: 0, stderr: '' });
  });

  it('a parameter renamed in assembly/ makes every file that declares the core stale (not the bench type, which imports it)', () => {
    const r = checkCopy((dir) => replaceIn(dir, 'assembly/lstm.ts', 'lstm_backward(desc: usize)', 'lstm_backward(layer: usize)'));
    expect(r.status).toBe(1);
    for (const file of ['src/runtime/abi.generated.ts', 'include/unrolled.h', 'docs/abi.md']) {
      expect(r.stderr).toContain(`${file}:`);
    }
    expect(r.stderr).not.toContain('bench/abi.generated.ts:');
  });

  it('a comment changed on an export makes the header and the types stale, not the docs table', () => {
    const r = checkCopy((dir) => replaceIn(dir, 'assembly/optim.ts', '// g ← clamp(g, −v, v)', '// g ← clamp(g, −v, +v)'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('include/unrolled.h:');
    expect(r.stderr).toContain('src/runtime/abi.generated.ts:');
    expect(r.stderr).not.toContain('docs/abi.md:');
  });

  it('a hand edit of a generated file fails', () => {
    const r = checkCopy((dir) =>
      replaceIn(dir, 'include/unrolled.h', 'int32_t UNROLLED_FN(simd_enabled)(void);', 'int UNROLLED_FN(simd_enabled)(void);'),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('include/unrolled.h:');
  });

  it('a source that disagrees with the compiled module (type, or an export the module lacks) fails', () => {
    const retyped = checkCopy((dir) =>
      replaceIn(dir, 'assembly/memory.ts', 'zero(ptr: usize, bytes: u32)', 'zero(ptr: usize, bytes: f32)'),
    );
    expect(retyped.status).toBe(1);
    expect(retyped.stderr).toMatch(/zero: .*f32.* in assembly\/memory\.ts/);
    const added = checkCopy((dir) => replaceIn(dir, 'assembly/index.ts', 'sigmoid_array_scalar }', 'sigmoid_array_scalar, relu_inplace }'));
    expect(added.status).toBe(1);
    expect(added.stderr).toContain('relu_inplace (assembly/activations.ts) is not exported by build/unrolled.scalar.wasm');
  });

  const DESC_OUTPUTS = ['src/runtime/layer-desc.generated.ts', 'include/unrolled.h', 'docs/abi.md'];

  it('a layer-descriptor field renamed, added or reordered makes its offset table, the C struct and the docs stale', () => {
    const edits: Array<[string, (dir: string) => void]> = [
      ['renamed', (dir) => replaceIn(dir, 'assembly/layer_desc.ts', '  dhnorm: usize;', '  dhNorm: usize;')],
      ['added', (dir) => replaceIn(dir, 'assembly/layer_desc.ts', '  pack: usize;', '  extra: usize; // [T] a new buffer\n  pack: usize;')],
      [
        'reordered',
        (dir) =>
          replaceIn(
            dir,
            'assembly/layer_desc.ts',
            '  T: i32; // steps\n  B: i32; // batch rows',
            '  B: i32; // batch rows\n  T: i32; // steps',
          ),
      ],
      ['retyped', (dir) => replaceIn(dir, 'assembly/layer_desc.ts', '  flags: i32;', '  flags: usize;')],
    ];
    for (const [what, edit] of edits) {
      const r = checkCopy(edit);
      expect(r.status, what).toBe(1);
      for (const file of DESC_OUTPUTS) expect(r.stderr, `${what}: ${file}`).toContain(`${file}:`);
      expect(r.stderr, what).not.toContain('src/runtime/abi.generated.ts:');
    }
  });

  it('a layer-descriptor field that would need padding (or has no comment) is refused', () => {
    const padded = checkCopy((dir) =>
      replaceIn(dir, 'assembly/layer_desc.ts', '  clipHiddenNorm: f64;', '  first: i32; // a count\n  clipHiddenNorm: f64;'),
    );
    expect(padded.status).toBe(1);
    expect(padded.stderr).toMatch(/LayerDesc\.\w+ .* would need padding/);
    const bare = checkCopy((dir) => replaceIn(dir, 'assembly/layer_desc.ts', '  H: i32; // hidden units', '  H: i32;'));
    expect(bare.status).toBe(1);
    expect(bare.stderr).toContain('is not `name: type; // comment`');
  });

  it('the C struct checks every offset the TypeScript table holds', async () => {
    const { LAYER_DESC, LAYER_DESC_BYTES } = await import('../../src/runtime/layer-desc.generated.js');
    const header = readFileSync(`${ROOT}include/unrolled.h`, 'utf8');
    for (const [name, { offset }] of Object.entries(LAYER_DESC)) {
      expect(header).toContain(`offsetof(unrolled_layer_desc, ${name}) == ${offset},`);
    }
    expect(header).toContain(`#define UNROLLED_LAYER_DESC_BYTES ${LAYER_DESC_BYTES}`);
  });

  it('docs/abi.md keeps one generated table and its own prose around it', () => {
    const docs = readFileSync(`${ROOT}docs/abi.md`, 'utf8');
    expect(docs.match(/<!-- abi:begin/g)).toHaveLength(1);
    expect(docs.match(/<!-- abi:end -->/g)).toHaveLength(1);
    expect(docs.match(/<!-- layer-desc:begin/g)).toHaveLength(1);
    expect(docs.match(/<!-- layer-desc:end -->/g)).toHaveLength(1);
    expect(docs).toMatch(/## One training step/);
  });

  it('the generated TypeScript says where it comes from', () => {
    for (const file of [
      'src/runtime/abi.generated.ts',
      'src/runtime/layer-desc.generated.ts',
      'bench/abi.generated.ts',
      'include/unrolled.h',
    ]) {
      expect(readFileSync(`${ROOT}${file}`, 'utf8'), file).toMatch(/Generated by scripts\/gen-abi\.mjs/);
    }
  });
});
