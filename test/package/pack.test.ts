// The package as users get it: `npm pack`, the tarball installed into a scratch app outside the
// repository, then used the five ways a user would use it: ESM import and a training step in
// Node; each subpath export imported in Node; a strict TypeScript consumer compiled against the shipped .d.ts (for Node and for
// bundlers); a Vite build of a tiny page that trains in headless Chromium; `npx unrolled --help`.
// The tarball is packed from the current dist/ and build/ (`npm test` builds them first).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { launchChromium, SKIP_BROWSER } from '../browser/launch.js';
import { type StaticServer, startStaticServer } from '../browser/server.js';
import { runSmokeTask, type SmokeResult } from '../browser/smoke-task.js';
import * as unrolled from '../../src/node/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

/** Runs a command in `cwd`; on failure the error carries its output, which is what one needs to see. */
function run(cmd: string, args: string[], cwd: string, timeout = 120_000): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('the packed package, installed into a scratch app', () => {
  let dir = '';
  let app = '';
  let pack: PackResult;

  beforeAll(() => {
    const missing = ['dist/index.js', 'dist/node/index.d.ts', 'build/unrolled.simd.wasm'].filter((f) => !existsSync(ROOT + f));
    if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first`);
    dir = mkdtempSync(join(tmpdir(), 'unrolled-pack-'));
    // --ignore-scripts: pack what was built (prepack would rebuild the same files)
    const out = execFileSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    pack = (JSON.parse(out) as PackResult[])[0];
    console.log(
      `tarball ${pack.filename}: ${(pack.size / 1024).toFixed(0)} KiB packed, ${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${pack.files.length} files`,
    );
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }, null, 2));
    run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, pack.filename)], app, 180_000);
  }, 240_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships exactly the built package: dist, the Wasm builds, bin, include, docs, LICENSE, README', () => {
    const paths = pack.files.map((f) => f.path);
    for (const needed of [
      'package.json',
      'LICENSE',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/node/index.js',
      'dist/node/index.d.ts',
      ...['data', 'tasks', 'safetensors', 'gradients'].flatMap((e) => [`dist/${e}-entry.js`, `dist/${e}-entry.d.ts`]),
      ...['data', 'safetensors'].flatMap((e) => [`dist/node/${e}-entry.js`, `dist/node/${e}-entry.d.ts`]),
      'dist/cli/main.js',
      'bin/unrolled.js',
      'include/unrolled.h',
      'docs/limits.md',
      ...['simd', 'relaxed', 'threads', 'scalar'].map((v) => `build/unrolled.${v}.wasm`),
    ]) {
      expect(paths, needed).toContain(needed);
    }
    const tops = new Set(paths.map((p) => (p.includes('/') ? `${p.split('/')[0]}/` : p)));
    expect([...tops].sort()).toEqual(['LICENSE', 'README.md', 'bin/', 'build/', 'dist/', 'docs/', 'include/', 'package.json'].sort());
    expect(paths.filter((p) => p.startsWith('build/') && !p.endsWith('.wasm'))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  it('source maps carry their sources (src/ is not shipped)', () => {
    const map = JSON.parse(readFileSync(join(app, 'node_modules/unrolled/dist/model/model.js.map'), 'utf8'));
    expect(map.sourcesContent?.[0]).toContain('export class Model');
  });

  it('imports as ESM in Node and trains a step', () => {
    writeFileSync(
      join(app, 'step.mjs'),
      `import { createModel, Trainer, saveModel } from 'unrolled';
const model = await createModel({ cell: 'gru', inputSize: 3, hiddenSize: 5, outputSize: 2, seed: 1 });
const trainer = new Trainer(model, { loss: 'mse', optimizer: { name: 'adam', lr: 1e-2 } });
const T = 4, B = 2;
const x = new Float32Array(T * B * 3).map((_, i) => Math.sin(i));
const y = new Float32Array(T * B * 2).map((_, i) => Math.cos(i));
const first = trainer.step({ x, y, T, B }).loss;
let last = first;
for (let i = 0; i < 20; i++) last = trainer.step({ x, y, T, B }).loss;
console.log(JSON.stringify({ first, last, save: typeof saveModel }));
`,
    );
    const out = JSON.parse(run(process.execPath, ['step.mjs'], app));
    expect(Number.isFinite(out.first)).toBe(true);
    expect(out.last).toBeLessThan(out.first);
    expect(out.save).toBe('function');
  });

  it('imports one name from each subpath in Node, the Node-only ones included; internals stay private', () => {
    writeFileSync(
      join(app, 'subpaths.mjs'),
      `import * as root from 'unrolled';
import { SequenceDataset, openTextFile } from 'unrolled/data';
import { CORPUS, adding } from 'unrolled/tasks';
import { decodeSafetensors, saveSafetensors } from 'unrolled/safetensors';
import { rtrlGradients } from 'unrolled/gradients';
console.log(JSON.stringify({
  subpaths: [SequenceDataset, openTextFile, adding.addingBatch, decodeSafetensors, saveSafetensors, rtrlGradients].map((f) => typeof f),
  corpus: CORPUS.length > 0,
  internals: ['describe', 'pickVariant', 'resolveTrainingConfig', 'SequenceDataset', 'tasks', 'rtrlGradients'].filter((n) => n in root),
}));
`,
    );
    const out = JSON.parse(run(process.execPath, ['subpaths.mjs'], app));
    expect(out.subpaths).toEqual(Array(6).fill('function'));
    expect(out.corpus).toBe(true);
    expect(out.internals).toEqual([]);
  });

  it('type-checks a strict TypeScript consumer for Node and for bundlers, with no internals in the types', () => {
    // Node resolution: the node condition's types include the Node-only functions
    writeFileSync(
      join(app, 'node-consumer.ts'),
      `import { createModel, Trainer, saveModel, loadCheckpoint, createNodeTrainingWorker, UnrolledError } from 'unrolled';
import { saveModel as saveModel2 } from 'unrolled/node';
import { CharVocab, readSequenceFile } from 'unrolled/data';
import { reber } from 'unrolled/tasks';
import { encodeSafetensors, readSafetensorsFile } from 'unrolled/safetensors';
import { EvolutionStrategies } from 'unrolled/gradients';
export async function main(): Promise<number> {
  const model = await createModel({ cell: 'lstm', inputSize: 4, hiddenSize: 8, outputSize: 4, seed: 1 });
  const trainer = new Trainer(model, { loss: 'mse', optimizer: { name: 'sgd', lr: 0.1 } });
  // @ts-expect-error the network's internals are not part of the public types
  void model.net;
  // @ts-expect-error nor are the kernels
  void model.kernels;
  void [saveModel, saveModel2, loadCheckpoint, createNodeTrainingWorker, trainer];
  void [CharVocab, readSequenceFile, reber, encodeSafetensors, readSafetensorsFile, EvolutionStrategies];
  // results are typed by the model's dtype: no casts for the default float32 models
  const y: Float32Array = model.predict({ x: new Float32Array(8), T: 2, B: 1 }).y;
  const w: Float32Array = model.getParameter('weight_hh_l0');
  const f64 = await createModel({ cell: 'rnn', inputSize: 1, hiddenSize: 2, outputSize: 1, backend: 'js', dtype: 'float64' });
  const g: Float64Array = f64.lossAndGradients({ x: [1], y: [1], T: 1, B: 1 }, 'mse').grads['weight_hh_l0'];
  void [y, w, g];
  const e: unknown = new Error();
  return e instanceof UnrolledError ? 1 : 0;
}
`,
    );
    // bundler resolution: the default condition, without Node-only functions
    writeFileSync(
      join(app, 'web-consumer.ts'),
      `import { createModel } from 'unrolled';
import { createTrainingWorker, type TrainingWorker } from 'unrolled/worker';
// @ts-expect-error the browser's worker factory lives at 'unrolled/worker' only
import { createTrainingWorker as fromMain } from 'unrolled';
// @ts-expect-error Node-only: not in the browser entry's types
import { saveModel } from 'unrolled';
// @ts-expect-error an internal helper of the error module is not exported
import { describe } from 'unrolled';
// @ts-expect-error the CLI's helpers are not public
import { pickVariant } from 'unrolled';
// @ts-expect-error data helpers live at 'unrolled/data', not the root
import { SequenceDataset as fromRoot } from 'unrolled';
import { SequenceDataset, parseCsv } from 'unrolled/data';
// @ts-expect-error Node-only: the browser's 'unrolled/data' reads no files
import { openTextFile } from 'unrolled/data';
import { CORPUS } from 'unrolled/tasks';
import { decodeSafetensors } from 'unrolled/safetensors';
// @ts-expect-error Node-only: the browser's 'unrolled/safetensors' writes no files
import { saveSafetensors } from 'unrolled/safetensors';
import { centeredRanks } from 'unrolled/gradients';
export const used = [createModel, createTrainingWorker, saveModel, describe, fromMain, pickVariant, fromRoot, openTextFile, saveSafetensors];
export const subpaths = [SequenceDataset, parseCsv, CORPUS, decodeSafetensors, centeredRanks];
export type Handle = TrainingWorker;
`,
    );
    const base = {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      lib: ['ES2022', 'DOM'],
      skipLibCheck: false,
      typeRoots: [join(ROOT, 'node_modules/@types')],
      types: ['node'],
    };
    writeFileSync(
      join(app, 'tsconfig.node.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'NodeNext', moduleResolution: 'NodeNext' }, files: ['node-consumer.ts'] }),
    );
    writeFileSync(
      join(app, 'tsconfig.web.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'ESNext', moduleResolution: 'Bundler' }, files: ['web-consumer.ts'] }),
    );
    run(process.execPath, [TSC, '-p', 'tsconfig.node.json'], app);
    run(process.execPath, [TSC, '-p', 'tsconfig.web.json'], app);
  });

  it('npx unrolled --help works from the installed tarball', () => {
    const out = run(NPM, ['exec', '--no', '--', 'unrolled', '--help'], app);
    expect(out).toMatch(/unrolled/);
    expect(out).toMatch(/train/);
  });

  describe.skipIf(SKIP_BROWSER)('a Vite app built from the tarball, in headless Chromium', () => {
    it('trains the smoke task with the same weights as Node', async () => {
      let browser: Browser | undefined;
      let server: StaticServer | undefined;
      onTestFinished(async () => {
        await browser?.close();
        await server?.close();
      });
      const web = join(app, 'web');
      mkdirSync(web);
      copyFileSync(join(ROOT, 'test/browser/smoke-task.js'), join(web, 'smoke-task.js'));
      writeFileSync(
        join(web, 'index.html'),
        '<!doctype html><meta charset="utf-8"><title>scratch</title><script type="module" src="./main.js"></script>\n',
      );
      writeFileSync(
        join(web, 'main.js'),
        `import * as unrolled from 'unrolled';
import { runSmokeTask } from './smoke-task.js';
runSmokeTask(unrolled).then((r) => { window.__result = r; }, (e) => { window.__error = String(e && e.stack || e); });
`,
      );
      const { build } = await import('vite');
      await build({ root: web, logLevel: 'silent', build: { outDir: join(web, 'dist'), emptyOutDir: true } });
      server = await startStaticServer(join(web, 'dist'));
      browser = await launchChromium();
      const page = await browser.newPage();
      const log: string[] = [];
      page.on('pageerror', (e) => log.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(
        () =>
          (window as { __result?: unknown; __error?: unknown }).__result !== undefined ||
          (window as { __error?: unknown }).__error !== undefined,
        null,
        { timeout: 60_000 },
      );
      const error = await page.evaluate(() => (window as { __error?: string }).__error);
      expect(error, log.join('\n')).toBeUndefined();
      const chrome = (await page.evaluate(() => (window as { __result?: SmokeResult }).__result)) as SmokeResult;
      const node = await runSmokeTask(unrolled);
      expect(chrome.losses[chrome.losses.length - 1]).toBeLessThan(chrome.losses[0]);
      expect(chrome.hash).toBe(node.hash);
      // an app that never imports 'unrolled/worker' carries no worker chunk (and no corpus with it)
      const assets = readdirSync(join(web, 'dist/assets'));
      expect(
        assets.filter((a) => a.startsWith('trainer-worker')),
        assets.join(', '),
      ).toEqual([]);
    });
  });
});
