// The trainer worker on threads in headless Chromium: the same page (test/browser/threads.html,
// a worker started with threads: 'auto') served twice from the package directory — with the
// COOP/COEP headers, where it must train on the threads build (FMA: 'threads-relaxed') with
// min(navigator.hardwareConcurrency, AUTO_THREADS_MAX) threads, and without them, where it must
// fall back to the single-threaded relaxed core. Both runs must learn, and give the same losses:
// the threads build computes the same bits as one thread of the same core on the same engine.
//
// Needs `npm run build`. The browser comes from ./launch.ts; UNROLLED_SKIP_BROWSER=1 skips the test.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTO_THREADS_MAX } from '../../src/worker/protocol.js';
import { launchChromium, SKIP_BROWSER } from './launch.js';
import { startStaticServer } from './server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = ['dist/index.js', 'dist/worker/trainer-worker.js', 'build/unrolled.relaxed.wasm', 'build/unrolled.threads-relaxed.wasm'];
const STEPS = 40;

interface ThreadsResult {
  isolated: boolean;
  hardwareConcurrency: number;
  relaxed: boolean;
  variant: string | null;
  threads: number;
  losses: number[];
  done: { reason: string; step: number; seconds: number; firstLoss: number; finalLoss: number };
}
declare global {
  interface Window {
    __threadsResult?: ThreadsResult;
    __threadsError?: string;
  }
}

describe.skipIf(SKIP_BROWSER)('training worker on threads (headless Chromium)', () => {
  let browser: Browser | undefined;
  let isolated: ThreadsResult;
  let plain: ThreadsResult;

  /** Loads threads.html from a server with or without the isolation headers; resolves with what it reports. */
  async function run(withHeaders: boolean): Promise<ThreadsResult> {
    const server = await startStaticServer(ROOT, { isolated: withHeaders });
    const page = await browser!.newPage();
    const log: string[] = [];
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
    page.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
    try {
      await page.goto(`${server.url}test/browser/threads.html`);
      await page.waitForFunction(() => window.__threadsResult !== undefined || window.__threadsError !== undefined, null, {
        timeout: 60_000,
      });
      const error = await page.evaluate(() => window.__threadsError);
      if (error !== undefined) throw new Error(`threads.html failed (isolated: ${withHeaders}): ${error}\n${log.join('\n')}`);
      return (await page.evaluate(() => window.__threadsResult))!;
    } finally {
      await page.close();
      await server.close();
    }
  }

  beforeAll(async () => {
    const missing = BUILT.filter((f) => !existsSync(ROOT + f));
    if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first (the page loads dist/ and build/)`);
    browser = await launchChromium();
    // one after the other: the two runs share the machine's cores
    isolated = await run(true);
    plain = await run(false);
    for (const [name, r] of [
      ['isolated', isolated],
      ['not isolated', plain],
    ] as const) {
      console.log(
        `${name}: wasm-${r.variant} · ${r.threads} threads (hardwareConcurrency ${r.hardwareConcurrency}); ` +
          `${STEPS} steps in ${r.done.seconds.toFixed(2)} s = ${(STEPS / r.done.seconds).toFixed(1)} steps/s; ` +
          `loss ${r.done.firstLoss.toFixed(3)} → ${r.done.finalLoss.toFixed(3)}`,
      );
    }
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('trains on the threads build with FMA and several threads when the page is cross-origin isolated', () => {
    expect(isolated.isolated).toBe(true);
    expect(isolated.relaxed, 'this Chromium validates relaxed SIMD').toBe(true);
    expect(isolated.variant).toBe('threads-relaxed');
    expect(isolated.threads).toBe(Math.min(isolated.hardwareConcurrency, AUTO_THREADS_MAX));
    expect(isolated.threads, 'the test machine has 2 or more cores').toBeGreaterThan(1);
    expect(isolated.done).toMatchObject({ reason: 'finished', step: STEPS });
    expect(isolated.losses).toHaveLength(STEPS);
    expect(isolated.done.finalLoss).toBeLessThan(isolated.done.firstLoss - 0.5);
  });

  it('falls back to one thread on the relaxed core when the page is not isolated', () => {
    expect(plain.isolated).toBe(false);
    expect(plain.variant).toBe('relaxed');
    expect(plain.threads).toBe(1);
    expect(plain.done).toMatchObject({ reason: 'finished', step: STEPS });
    expect(plain.done.finalLoss).toBeLessThan(plain.done.firstLoss - 0.5);
  });

  it('computes the same losses on threads as on one thread', () => {
    expect(isolated.losses).toEqual(plain.losses);
  });
});
