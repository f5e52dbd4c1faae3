// The demo page end to end in headless Chromium: `node scripts/demo-server.mjs` builds (or
// reuses) web/dist and serves it cross-origin isolated; the test picks a small model, presses
// Train, waits until the displayed loss has fallen clearly below its first value, checks that
// the gradient-flow chart has data and that a sample arrived, downloads the weights, stops, and
// saves a screenshot to test/artifacts/demo.png.
//
// Needs `npm run build`. The browser comes from test/browser/launch.ts (the npm package
// @sparticuz/chromium, or UNROLLED_CHROMIUM=/path); UNROLLED_SKIP_BROWSER=1 skips the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTO_THREADS_MAX } from '../../src/worker/protocol.js';
import { launchChromium, SKIP_BROWSER } from '../browser/launch.js';
import { startStaticServer } from '../browser/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const SCREENSHOT = `${ARTIFACTS}demo.png`;

interface DemoProbe {
  state: string;
  firstLoss: number;
  lastLoss: number;
  progressEvents: number;
  gradientEvents: number;
  samples: number;
  error: string;
  gradMax: number;
  gradPlotted: number[][];
  info: {
    vocabSize: number;
    variant: string | null;
    threads: number;
    host: string;
    parameters: number;
    config: { cell: string; clipMode: string; clip: number; batch: number; seq: number };
    model: { cell: string; numLayers: number };
  } | null;
}
interface UnbundledResult {
  host: string;
  variant: string | null;
  losses: number[];
  gradients: number;
  done: { reason: string; step: number; firstLoss: number; finalLoss: number };
  tensors: string[];
}
declare global {
  interface Window {
    __demo?: DemoProbe;
    __workerResult?: UnbundledResult;
    __workerError?: string;
  }
}

/** Starts scripts/demo-server.mjs on a free port; resolves with its URL once it prints it. */
function startDemoServer(): Promise<{ url: string; child: ChildProcess; log: string[] }> {
  const child = spawn(process.execPath, [`${ROOT}scripts/demo-server.mjs`, '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`demo-server printed no URL in 45 s:\n${log.join('')}`));
    }, 45_000);
    const onData = (b: Buffer) => {
      log.push(b.toString());
      const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(log.join(''));
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, log });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo-server exited (code ${code}):\n${log.join('')}`));
    });
  });
}

describe.skipIf(SKIP_BROWSER)('demo page (headless Chromium)', () => {
  let server: { url: string; child: ChildProcess; log: string[] } | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageLog: string[] = [];
  const probe = () => page.evaluate(() => window.__demo!);
  const context = () => `\n--- page log ---\n${pageLog.join('\n')}\n--- server log ---\n${server?.log.join('') ?? ''}`;

  beforeAll(async () => {
    const missing = ['dist/index.js', 'dist/worker/trainer-worker.js', 'build/unrolled.simd.wasm'].filter((f) => !existsSync(ROOT + f));
    if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first (the demo bundles the built package)`);
    [server, browser] = await Promise.all([startDemoServer(), launchChromium()]);
    page = await browser.newPage({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1, acceptDownloads: true });
    page.on('console', (m) => pageLog.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`[pageerror] ${e.message}`));
    page.on('requestfailed', (r) => pageLog.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400) pageLog.push(`[http ${r.status()}] ${r.url()}`);
    });
    // no request may leave the machine: everything is bundled
    await page.route(/^(?!http:\/\/127\.0\.0\.1[:/]|blob:|data:)/, (route) => {
      pageLog.push(`[external request blocked] ${route.request().url()}`);
      return route.abort();
    });
    await page.goto(server.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
  });

  it('is served cross-origin isolated, with nothing fetched from outside', async () => {
    expect(await page.evaluate(() => crossOriginIsolated), 'COOP/COEP headers').toBe(true);
    // the threads core needs both: an isolated page (which --single-process never gives) and shared Wasm memory
    const shared = await page.evaluate(
      () => new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer,
    );
    expect(shared, 'shared WebAssembly.Memory backed by a SharedArrayBuffer').toBe(true);
    expect(await page.title()).toContain('unrolled');
    expect(
      pageLog.filter((l) => /external|pageerror|http [45]/.test(l)),
      context(),
    ).toEqual([]);
    // the browser's own locale reaches the page (no --lang): under LANG=C it is not even a valid tag
    const language = await page.evaluate(() => navigator.language);
    expect(
      await page.evaluate(() => window.__demo !== undefined),
      `the page's script ran (navigator.language ${language})${context()}`,
    ).toBe(true);
    const repaired = pageLog.find((l) => l.includes('navigator.language'));
    console.log(
      `demo: ${await page.evaluate(() => navigator.userAgent)}; navigator.language ${language}${repaired ? ` (${repaired})` : ''}`,
    );
  });

  it('trains in the worker: the displayed loss falls, gradient flow is charted, samples appear', async () => {
    await page.selectOption('#hidden', '64');
    await page.selectOption('#seq', '32');
    await page.selectOption('#batch', '16');
    await page.selectOption('#lr', '0.005');
    await page.click('#train');
    try {
      await page.waitForFunction(
        () => {
          const d = window.__demo;
          if (!d) throw new Error("the page's script never ran (no window.__demo)");
          if (d.error) return true;
          const shown = Number(document.getElementById('stat-loss')!.textContent);
          return d.progressEvents > 1 && shown <= d.firstLoss - 0.75 && d.samples >= 2;
        },
        null,
        { timeout: 45_000, polling: 100 },
      );
    } catch (e) {
      throw new Error(`the loss did not fall in 45 s: ${JSON.stringify(await probe())}: ${(e as Error).message}${context()}`);
    }
    const d = await probe();
    expect(d.error, context()).toBe('');
    expect(d.info!.host).toBe('browser');
    // cross-origin isolated: the threads build with FMA, on min(hardwareConcurrency, AUTO_THREADS_MAX) threads
    expect(d.info!.variant).toBe('threads-relaxed');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(d.info!.threads).toBe(Math.min(cores, AUTO_THREADS_MAX));
    expect(d.info!.threads, 'the test machine has 2 or more cores').toBeGreaterThan(1);
    expect(await page.textContent('#core')).toBe(`wasm-threads-relaxed · ${d.info!.threads} threads`);
    expect(d.state).toBe('running');
    const shown = Number(await page.textContent('#stat-loss'));
    expect(d.firstLoss).toBeGreaterThan(Math.log(d.info!.vocabSize) - 0.5);
    expect(shown).toBeLessThanOrEqual(d.firstLoss - 0.75);
    // the gradient-flow chart: uPlot drew a canvas with T points per layer
    expect(Number(await page.getAttribute('#grad-chart', 'data-points'))).toBe(32);
    expect(await page.locator('#grad-chart canvas').count()).toBeGreaterThan(0);
    expect(Number(await page.getAttribute('#loss-chart', 'data-points'))).toBeGreaterThan(3);
    expect(await page.locator('#samples li:not(.empty)').count()).toBeGreaterThanOrEqual(2);
    console.log(
      `demo: ${d.info!.parameters} parameters on the ${d.info!.variant} core, ${d.info!.threads} threads; loss ${d.firstLoss.toFixed(3)} → ${shown.toFixed(3)} ` +
        `after ${await page.textContent('#stat-step')} steps (${await page.textContent('#stat-speed')})`,
    );
  });

  it('downloads the weights as safetensors, stops, and looks right', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('unrolled-lstm-1x64.safetensors');
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    expect(Object.keys(header)).toEqual(expect.arrayContaining(['weight_ih_l0', 'weight_hh_l0', 'head.weight', '__metadata__']));
    expect(JSON.parse(header.__metadata__.unrolled_vocab).chars).toHaveLength((await probe()).info!.vocabSize);

    await page.waitForFunction(() => Number(document.getElementById('grad-chart')!.dataset.step) >= 100, null, { timeout: 10_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.click('#stop');
    await page.waitForFunction(() => window.__demo!.state === 'done', null, { timeout: 10_000 });
    expect(await page.textContent('#status')).toMatch(/^Stopped: \d+ steps/);
    expect(
      pageLog.filter((l) => /external|pageerror|http [45]|console\.error/.test(l)),
      context(),
    ).toEqual([]);
  });

  it('switches the cell and the clipping mode: a GRU with per-timestep clipping, its gradient flow bounded by √B·θ', async () => {
    const theta = 1e-5;
    // the radio itself is hidden behind its segmented-control label, which takes the click
    await page.click('label:has(input[name="cell"][value="gru"])');
    expect(await page.isChecked('input[name="cell"][value="gru"]')).toBe(true);
    await page.selectOption('#clip-mode', 'hidden');
    await page.fill('#clip', String(theta));
    await page.selectOption('#layers', '2');
    await page.click('#train');
    try {
      await page.waitForFunction(
        () => {
          const d = window.__demo!;
          return (
            d.error !== '' ||
            (d.state === 'running' && d.gradientEvents >= 3 && Number(document.getElementById('grad-chart')!.dataset.step) >= 20)
          );
        },
        null,
        { timeout: 45_000, polling: 100 },
      );
    } catch (e) {
      throw new Error(`no gradient flow in 45 s: ${JSON.stringify(await probe())}: ${(e as Error).message}${context()}`);
    }
    const d = await probe();
    expect(d.error, context()).toBe('');
    expect(d.info!.config).toMatchObject({ cell: 'gru', clipMode: 'hidden', clip: theta });
    expect(d.info!.model).toMatchObject({ cell: 'gru', numLayers: 2 });
    expect(await page.textContent('#status')).toContain('clipping: per timestep');
    expect(await page.textContent('#grad-step')).toContain('per timestep');
    const { batch, seq } = d.info!.config;
    expect(Number(await page.getAttribute('#grad-chart', 'data-points'))).toBe(2 * seq);
    // two layers and the dashed step-1 curve, each with a positive norm at every t
    expect(d.gradPlotted.map((a) => a.length)).toEqual([seq, seq, seq]);
    // docs/equations.md (gradient-flow diagnostics): with per-timestep clipping the worker reports
    // the clipped ∂E/∂h_t, each sequence's row at most θ, so the batch's norm is at most √B·θ
    // (float32 rounding aside); θ this small binds at every step, so the bound is also reached
    const bound = Math.sqrt(batch) * theta * (1 + 1e-5);
    const plottedMax = Math.max(...d.gradPlotted.flat());
    expect(plottedMax).toBeLessThanOrEqual(bound);
    expect(d.gradMax).toBeLessThanOrEqual(bound);
    expect(plottedMax).toBeGreaterThan(0.5 * bound);

    await page.click('#stop');
    await page.waitForFunction(() => window.__demo!.state === 'done', null, { timeout: 10_000 });
    expect(
      pageLog.filter((l) => /external|pageerror|http [45]|console\.error/.test(l)),
      context(),
    ).toEqual([]);
  });

  it('also runs without a bundler: dist/ as-is, the worker as a native module worker', async () => {
    const files = await startStaticServer(ROOT);
    const plain = await browser!.newPage();
    const log: string[] = [];
    plain.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
    plain.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
    try {
      await plain.goto(`${files.url}test/web/unbundled.html`);
      await plain.waitForFunction(() => window.__workerResult !== undefined || window.__workerError !== undefined, null, {
        timeout: 20_000,
      });
      const error = await plain.evaluate(() => window.__workerError);
      expect(error, log.join('\n')).toBeUndefined();
      const r = (await plain.evaluate(() => window.__workerResult))!;
      expect(r.host).toBe('browser');
      expect(r.done).toMatchObject({ reason: 'finished', step: 60 });
      expect(r.losses).toHaveLength(60); // progressIntervalMs 0: every step reports
      expect(r.done.finalLoss).toBeLessThan(r.done.firstLoss);
      expect(r.gradients).toBe(4); // steps 1, 20, 40, 60
      expect(r.tensors).toContain('weight_hh_l0');
    } finally {
      await plain.close();
      await files.close();
    }
  });
});
