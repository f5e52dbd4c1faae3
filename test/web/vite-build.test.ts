// The demo page (web/) bundled by Vite through its programmatic build() API, the way a user's
// app would bundle unrolled: web/main.ts imports 'unrolled', resolved through the package's
// exports map with the browser's conditions (dist/index.js, not the Node entry). The output must
// hold the page's JS bundle, the trainer worker's bundle, and the Wasm cores as assets — emitted
// because dist/ finds them with new URL('…/unrolled.*.wasm', import.meta.url) and the worker
// with new Worker(new URL('./trainer-worker.js', import.meta.url)).
//
// Needs `npm run build` (dist/ and build/*.wasm).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, createLogger } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORES = ['simd', 'relaxed', 'scalar'] as const;

describe('Vite build of the demo page', () => {
  const out = mkdtempSync(join(tmpdir(), 'unrolled-vite-'));
  const warnings: string[] = [];
  let assets: string[] = [];
  let ms = 0;

  beforeAll(async () => {
    const missing = ['dist/index.js', 'dist/worker/trainer-worker.js', ...CORES.map((c) => `build/unrolled.${c}.wasm`)].filter(
      (f) => !existsSync(ROOT + f),
    );
    if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first (the page bundles the built package)`);
    const logger = createLogger('warn', { allowClearScreen: false });
    const customLogger = {
      ...logger,
      warn: (msg: string) => {
        warnings.push(msg);
      },
      warnOnce: (msg: string) => {
        warnings.push(msg);
      },
    };
    const t0 = performance.now();
    await build({
      configFile: join(ROOT, 'web/vite.config.ts'),
      customLogger,
      logLevel: 'warn',
      build: { outDir: out, emptyOutDir: true },
    });
    ms = performance.now() - t0;
    assets = readdirSync(join(out, 'assets'));
  }, 60_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('emits the page, its JS bundle and the worker bundle', () => {
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const entry = /<script type="module"[^>]*src="\.\/assets\/(index-[\w-]+\.js)"/.exec(html);
    expect(entry, `index.html loads a module bundle from ./assets/ (relative URLs):\n${html}`).not.toBeNull();
    expect(assets).toContain(entry![1]);
    const worker = assets.find((a) => /^trainer-worker-[\w-]+\.js$/.test(a));
    expect(worker, `a trainer-worker bundle among ${assets.join(', ')}`).toBeDefined();
    const main = readFileSync(join(out, 'assets', entry![1]), 'utf8');
    expect(main, 'the page starts the bundled worker').toContain(worker!);
    expect(
      assets.some((a) => a.endsWith('.css')),
      'the page and uPlot styles',
    ).toBe(true);
    console.log(`vite build in ${(ms / 1000).toFixed(1)} s: ${assets.join(', ')}`);
  });

  it('emits every Wasm core as an asset, byte for byte, referenced by the worker', () => {
    const workerJs = readFileSync(join(out, 'assets', assets.find((a) => a.startsWith('trainer-worker-'))!), 'utf8');
    for (const c of CORES) {
      const name = assets.find((a) => new RegExp(`^unrolled\\.${c}-[\\w-]+\\.wasm$`).test(a));
      expect(name, `unrolled.${c}.wasm among ${assets.join(', ')}`).toBeDefined();
      const emitted = readFileSync(join(out, 'assets', name!));
      expect(emitted.equals(readFileSync(join(ROOT, `build/unrolled.${c}.wasm`))), `${name} equals build/unrolled.${c}.wasm`).toBe(true);
      expect(workerJs, `the worker bundle finds ${name} (new URL(..., import.meta.url) rewritten)`).toContain(name!);
    }
  });

  it('resolves unrolled through its exports map: no Node entry, no Node built-ins, no local paths', () => {
    const js = assets
      .filter((a) => a.endsWith('.js'))
      .map((a) => readFileSync(join(out, 'assets', a), 'utf8'))
      .join('\n');
    expect(
      warnings.filter((w) => /externalized|node:/.test(w)),
      'Vite warnings about Node modules',
    ).toEqual([]);
    expect(js).not.toMatch(/from\s*["']node:|import\(["']node:/);
    expect(js).not.toContain(ROOT);
    expect(js, 'the built-in corpus came through the package entry').toContain('Recurrent networks, and how to train them');
  });
});
