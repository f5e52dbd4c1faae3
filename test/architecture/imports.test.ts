// The few rules that keep the source tree livable, checked on the import graph of src/:
// no import cycles; the browser-safe folders import no Node built-in; the js reference backend
// never reaches the Wasm runtime; src/train reaches no model internals; the public entry re-exports
// and holds no logic.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Module specifiers a file imports or re-exports at run time (`import type` does not count). */
function specifiers(file: string): string[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?([\s\S]*?)\s*from\s*'([^']+)'/gm)) {
    if (m[2]) continue;
    out.push(m[4]);
  }
  for (const m of code.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1]);
  for (const m of code.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1]);
  return out;
}

const files = sourceFiles(SRC);
const rel = (f: string) => relative(SRC, f).replaceAll('\\', '/');
const graph = new Map<string, string[]>();
const external = new Map<string, string[]>();
for (const f of files) {
  const specs = specifiers(f);
  graph.set(
    rel(f),
    specs.filter((s) => s.startsWith('.')).map((s) => rel(resolve(dirname(f), s.replace(/\.js$/, '.ts')))),
  );
  external.set(
    rel(f),
    specs.filter((s) => !s.startsWith('.')),
  );
}

/** Every cycle found by a depth-first search, each as the list of files around it. */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

describe('the import graph of src/', () => {
  it('reads every file and resolves every relative import to a source file', () => {
    expect(files.length).toBeGreaterThan(30);
    for (const [from, tos] of graph) for (const to of tos) expect(graph.has(to), `${from} imports ${to}`).toBe(true);
  });

  it('has no cycles', () => {
    expect(cycles().map((c) => c.join(' → '))).toEqual([]);
  });

  it('keeps Node built-ins out of the folders that run in browsers', () => {
    const browserSafe = /^(model|train|data|backends|runtime|validate)\/|^(index|errors|create|model-file)\.ts$/;
    const offenders = [...external]
      .filter(([f]) => browserSafe.test(f))
      .flatMap(([f, specs]) => specs.filter((s) => s.startsWith('node:') || s === 'fs' || s === 'path').map((s) => `${f}: ${s}`));
    expect(offenders).toEqual([]);
  });

  it('keeps the js reference backend independent of the Wasm runtime', () => {
    const reach = new Set<string>();
    const walk = (n: string) => {
      for (const m of graph.get(n) ?? []) {
        if (reach.has(m)) continue;
        reach.add(m);
        walk(m);
      }
    };
    walk('backends/js.ts');
    // runtime/memory.ts is the arena both backends lay out; the loader, the core and the pool are Wasm's
    const wasmOnly = ['runtime/core.ts', 'runtime/load.ts', 'runtime/threads.ts', 'backends/wasm.ts'];
    expect([...reach].filter((f) => wasmOnly.includes(f))).toEqual([]);
  });

  it('src/train talks to a model through its surface (forward, backward, the @internal arena), never its internals', () => {
    const internals = /\bmodel\s*\.\s*(?:net|kernels|run)\b|\.net\.|\bpackedDirty\b/;
    const offenders = files
      .filter((f) => rel(f).startsWith('train/'))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .split('\n')
          .map((line, i) => [line.replace(/\/\/.*$/, ''), i] as const)
          .filter(([line]) => internals.test(line))
          .map(([line, i]) => `${rel(f)}:${i + 1}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('every entry of package.json "exports" is a source file that only re-exports', () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '../package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const targets = (value: unknown): string[] =>
      typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(targets) : [];
    const entries = [
      ...new Set(
        Object.values(pkg.exports)
          .flatMap(targets)
          .filter((t) => t.startsWith('./dist/') && t.endsWith('.js'))
          .map((t) => t.slice('./dist/'.length).replace(/\.js$/, '.ts')),
      ),
    ].sort();
    // the root and its Node twin, the four subpaths with their Node twins where they touch files, the browser's worker
    expect(entries).toEqual(
      [
        'index.ts',
        'node/index.ts',
        'data-entry.ts',
        'node/data-entry.ts',
        'tasks-entry.ts',
        'safetensors-entry.ts',
        'node/safetensors-entry.ts',
        'gradients-entry.ts',
        'worker/browser.ts',
      ].sort(),
    );
    // worker/browser.ts is the worker factory itself (new Worker(new URL(…)) must sit in the file a bundler sees)
    for (const entry of entries.filter((e) => e !== 'worker/browser.ts')) {
      expect(graph.has(entry), entry).toBe(true);
      const code = readFileSync(join(SRC, entry), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        .replace(/import\s*'[^']+';/g, '')
        .replace(/export\s*(type\s*)?(\*|\*\s+as\s+\w+|\{[\s\S]*?\})\s*from\s*'[^']+';/g, '')
        .trim();
      expect(code, entry).toBe('');
    }
  });
});
