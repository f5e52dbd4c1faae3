// Which core loadCore() picks. Under Node the entry turns on V8's relaxed SIMD before the first
// compile, so the default is the fused (FMA) build, on one thread and on several; `reproducible`
// keeps the mul+add builds. The test worker runs with the same flag (test/setup/relaxed-simd.ts);
// a child process shows that importing the Node entry alone is enough.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported } from '../../src/runtime/core.js';
import { loadCore } from '../../src/runtime/load.js';
// the core read from disk, pool workers on worker_threads (what the Node entry installs)
import '../../src/node/load-node.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function variantOf(options: Parameters<typeof loadCore>[0]): Promise<{ variant: string; threads: number }> {
  const core = await loadCore(options);
  const got = { variant: core.variant, threads: core.threads };
  if (core.threads > 1) core.dispose();
  return got;
}

describe('loadCore variant choice under Node', () => {
  it('relaxed SIMD validates', () => {
    expect(relaxedSimdSupported()).toBe(true);
  });

  it('default: the relaxed build; reproducible: the simd build', async () => {
    expect(await variantOf({})).toEqual({ variant: 'relaxed', threads: 1 });
    expect(await variantOf({ reproducible: true })).toEqual({ variant: 'simd', threads: 1 });
    expect(await variantOf({ variant: 'simd' })).toEqual({ variant: 'simd', threads: 1 });
  });

  it('threads: the fused threads build by default, the mul+add one when reproducible or simd is asked for', async () => {
    expect(await variantOf({ threads: 2 })).toEqual({ variant: 'threads-relaxed', threads: 2 });
    expect(await variantOf({ threads: 2, variant: 'relaxed' })).toEqual({ variant: 'threads-relaxed', threads: 2 });
    expect(await variantOf({ threads: 2, reproducible: true })).toEqual({ variant: 'threads', threads: 2 });
    expect(await variantOf({ threads: 2, variant: 'simd' })).toEqual({ variant: 'threads', threads: 2 });
    expect(await variantOf({ threads: 2, variant: 'threads' })).toEqual({ variant: 'threads', threads: 2 });
  });

  it('one thread of a threads variant is its single-threaded twin; scalar has no threaded twin', async () => {
    expect(await variantOf({ variant: 'threads-relaxed' })).toEqual({ variant: 'relaxed', threads: 1 });
    expect(await variantOf({ variant: 'threads' })).toEqual({ variant: 'simd', threads: 1 });
    expect(await variantOf({ variant: 'scalar', threads: 2 })).toEqual({ variant: 'scalar', threads: 1 });
  });

  it('contradictions are refused', async () => {
    await expect(loadCore({ variant: 'threads-relaxed', reproducible: true, threads: 2 })).rejects.toThrow(/not bit-reproducible/);
    await expect(loadCore({ variant: 'relaxed', reproducible: true })).rejects.toThrow(/not bit-reproducible/);
  });

  it('a plain Node process that imports the package entry gets the relaxed build by default', () => {
    const entry = `${ROOT}dist/node/index.js`;
    if (!existsSync(entry)) throw new Error('dist/node/index.js is missing: run `npm run build` first');
    const script = `
      const m = await import(${JSON.stringify(entry)});
      const before = m.relaxedSimdSupported();
      const a = await m.loadCore();
      const b = await m.loadCore({ reproducible: true });
      const t = await m.loadCore({ threads: 2 });
      console.log(JSON.stringify([before, a.variant, b.variant, t.variant]));
      t.dispose();`;
    const dir = mkdtempSync(join(tmpdir(), 'unrolled-variant-'));
    try {
      writeFileSync(join(dir, 'probe.mjs'), script);
      const r = spawnSync(process.execPath, [join(dir, 'probe.mjs')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout.trim())).toEqual([true, 'relaxed', 'simd', 'threads-relaxed']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
