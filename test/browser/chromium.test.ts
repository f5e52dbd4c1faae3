// Browser smoke test: the universal entry (dist/index.js) in headless Chromium, loading the SIMD
// core the way a web page does (fetched relative to the module), trains a small LSTM; the same
// run in Node (src/node/index.js, core read from disk) must give bit-identical weights, since the
// default (non-relaxed) core is plain IEEE f32 arithmetic and the JS around it is deterministic.
//
// Needs `npm run build` (dist/ and build/). The browser comes from ./launch.ts (the npm package
// @sparticuz/chromium, or UNROLLED_CHROMIUM=/path); UNROLLED_SKIP_BROWSER=1 skips the test.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as unrolled from '../../src/node/index.js';
import { launchChromium, SKIP_BROWSER } from './launch.js';
import { startStaticServer, type StaticServer } from './server.js';
import { runSmokeTask, type SmokeResult } from './smoke-task.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOT = fileURLToPath(new URL('../artifacts/browser-smoke.png', import.meta.url));
const BUILT = ['dist/index.js', 'dist/runtime/load.js', 'build/unrolled.simd.wasm', 'build/unrolled.scalar.wasm'];

declare global {
  interface Window {
    __result?: SmokeResult;
    __error?: string;
  }
}

describe.skipIf(SKIP_BROWSER)('browser smoke (headless Chromium)', () => {
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  let chromeResult: SmokeResult;
  const pageLog: string[] = [];

  beforeAll(async () => {
    const missing = BUILT.filter((f) => !existsSync(ROOT + f));
    if (missing.length) {
      throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first (the browser test loads dist/ and build/)`);
    }
    [server, browser] = await Promise.all([startStaticServer(ROOT), launchChromium()]);
    const page = await browser.newPage({ viewport: { width: 1000, height: 420 } });
    page.on('console', (m) => pageLog.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`[pageerror] ${e.message}`));
    page.on('requestfailed', (r) => pageLog.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400) pageLog.push(`[http ${r.status()}] ${r.url()}`);
    });
    await page.goto(`${server.url}test/browser/smoke.html`);
    try {
      await page.waitForFunction(() => window.__result !== undefined || window.__error !== undefined, null, { timeout: 60_000 });
    } catch (e) {
      throw new Error(`the page set neither window.__result nor window.__error in 60 s: ${(e as Error).message}\n${pageLog.join('\n')}`);
    }
    mkdirSync(fileURLToPath(new URL('../artifacts/', import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const error = await page.evaluate(() => window.__error);
    if (error !== undefined) throw new Error(`the smoke page failed in Chromium: ${error}\n${pageLog.join('\n')}`);
    chromeResult = (await page.evaluate(() => window.__result))!;
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('trains on the SIMD core in Chromium, and the loss falls', () => {
    const { losses } = chromeResult;
    expect(losses.length).toBe(30);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(chromeResult.simd).toBe(true);
    expect(chromeResult.variant).toBe('simd');
  });

  it('gives bit-identical weights to the same run in Node', async () => {
    const nodeResult = await runSmokeTask(unrolled);
    expect(nodeResult.variant).toBe('simd');
    expect(nodeResult.parameterNames).toEqual(chromeResult.parameterNames);
    // every loss exactly, then the weights; on a mismatch dist/ may be older than src/ (rebuild)
    expect(nodeResult.losses, 'per-step losses, Node vs Chromium (is dist/ stale? run npm run build)').toEqual(chromeResult.losses);
    expect(nodeResult.hash, 'FNV-1a of the final weights, Node vs Chromium').toBe(chromeResult.hash);
    console.log(
      `weights FNV-1a: node ${nodeResult.hash}, chromium ${chromeResult.hash} ` +
        `(${nodeResult.parameterCount} f32; loss ${chromeResult.losses[0].toFixed(4)} → ${chromeResult.losses.at(-1)!.toFixed(4)}; ` +
        `${chromeResult.ms} ms in Chromium, ${nodeResult.ms} ms in Node)`,
    );
  });
});
