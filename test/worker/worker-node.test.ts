// The trainer worker under Node (worker_threads), through the same protocol browsers use:
// start → progress with a falling loss and gradient-flow events → pause (silence) → weights
// (safetensors, decoded and loaded into a new model that predicts exactly like the worker's)
// → resume → stop.
//
// The worker thread runs the compiled dist/worker/trainer-worker.js (Node cannot start a worker
// from TypeScript sources): run `npm run build` first.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharVocab, VOCAB_METADATA_KEY } from '../../src/node/data-entry.js';
import { modelFromSafetensors, type GradientFlowEvent, type ProgressEvent, type RunInfo } from '../../src/node/index.js';
import { decodeSafetensors } from '../../src/node/safetensors-entry.js';
import { createNodeTrainingWorker } from '../../src/worker/node-client.js';
import type { TrainingWorker } from '../../src/worker/client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function assertBuilt(): void {
  const src = `${ROOT}src/worker/`;
  const stale: string[] = [];
  for (const f of readdirSync(src).filter((n) => n.endsWith('.ts'))) {
    const js = `${ROOT}dist/worker/${f.replace(/\.ts$/, '.js')}`;
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(src + f).mtimeMs) stale.push(`dist/worker/${f.replace(/\.ts$/, '.js')}`);
  }
  if (stale.length)
    throw new Error(
      `${stale.join(', ')} missing or older than src/worker: run \`npm run build\` first (the worker thread runs the compiled JavaScript)`,
    );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

describe('TrainingWorker on Node worker_threads', () => {
  let w: TrainingWorker;
  let info: RunInfo;
  const progress: ProgressEvent[] = [];
  const gradients: GradientFlowEvent[] = [];
  const errors: Error[] = [];
  const CONFIG = {
    cell: 'lstm',
    hidden: 32,
    layers: 2,
    seq: 24,
    batch: 16,
    lr: 0.01,
    steps: 1_000_000,
    seed: 3,
    variant: 'simd',
    progressIntervalMs: 25,
    gradientEvery: 5,
    sampleEvery: 40,
    sampleLength: 40,
  } as const;

  beforeAll(async () => {
    assertBuilt();
    w = createNodeTrainingWorker();
    w.on('progress', (p) => progress.push(p));
    w.on('gradients', (g) => gradients.push(g));
    w.on('error', (e) => errors.push(e));
    info = await w.start(CONFIG);
  });

  afterAll(async () => {
    await w?.terminate();
  });

  it('reports what it built', () => {
    expect(info.host).toBe('node');
    expect(info.backend).toBe('wasm');
    expect(info.variant).toBe('simd');
    expect(info.model).toMatchObject({
      cell: 'lstm',
      hiddenSize: 32,
      numLayers: 2,
      input: 'tokens',
      inputSize: info.vocabSize,
      outputSize: info.vocabSize,
    });
    expect(info.config.text).toBeNull(); // the built-in corpus
    expect(info.vocab.length).toBe(info.vocabSize);
  });

  it('trains: progress events with a falling loss, and gradient flow over time', async () => {
    await until('60 steps', () => (progress.at(-1)?.step ?? 0) >= 60);
    const first = progress[0];
    expect(first.step).toBe(1);
    expect(first.loss).toBeGreaterThan(Math.log(info.vocabSize) - 0.5); // ≈ uniform at the start
    const last = progress.at(-1)!;
    expect(last.loss, `loss ${first.loss} → ${last.loss}`).toBeLessThan(first.loss - 0.6);
    expect(last.stepsPerSec).toBeGreaterThan(0);
    for (let i = 1; i < progress.length; i++) expect(progress[i].step).toBeGreaterThan(progress[i - 1].step);
    expect(gradients[0].step).toBe(1);
    expect(gradients.length).toBeGreaterThan(3);
    const g = gradients.at(-1)!;
    expect(g.norms).toHaveLength(2); // per layer
    for (const layer of g.norms) {
      expect(layer).toBeInstanceOf(Float32Array);
      expect(layer).toHaveLength(CONFIG.seq);
      expect([...layer].every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    }
    expect(errors).toEqual([]);
  });

  it('pauses (silence), hands out its weights, which load into a model that predicts identically', async () => {
    const t0 = performance.now();
    await w.pause();
    expect(performance.now() - t0, 'ms until the worker acknowledged pause()').toBeLessThan(1000);
    expect(w.state).toBe('paused');
    const count = progress.length;
    const pausedAt = progress.at(-1)!.step;
    await sleep(300);
    expect(progress.length, 'progress events while paused').toBe(count);

    const bytes = await w.getWeights();
    expect(bytes).toBeInstanceOf(Uint8Array);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect([...tensors.keys()]).toContain('weight_hh_l1');
    expect(metadata.unrolled_steps).toBe(String(pausedAt));
    const vocab = CharVocab.fromJSON(metadata[VOCAB_METADATA_KEY]);
    expect(vocab.chars).toEqual(info.vocab);

    const model = await modelFromSafetensors(bytes, { core: { variant: 'simd' } });
    try {
      const prime = 'A recurrent network ';
      for (const [temperature, seed] of [
        [0, 0],
        [1, 7],
      ] as const) {
        const theirs = await w.generate(prime, { length: 60, temperature, seed });
        const ours = vocab.decode(model.generate({ prime: vocab.encode(prime), length: 60, temperature, seed }));
        expect(ours, `temperature ${temperature}`).toBe(theirs);
      }
    } finally {
      model.dispose();
    }
    expect(progress.length).toBe(count); // still paused
  });

  it('resumes where it paused, then stops', async () => {
    const pausedAt = progress.at(-1)!.step;
    await w.resume();
    expect(w.state).toBe('running');
    await until('progress after resume', () => progress.at(-1)!.step > pausedAt + 5);
    const done = await w.stop();
    expect(done).toMatchObject({ reason: 'stopped' });
    expect(done!.step).toBeGreaterThan(pausedAt);
    expect(done!.finalLoss).toBeLessThan(done!.firstLoss);
    expect(w.state).toBe('done');
    expect(progress.at(-1)!.step).toBe(done!.step); // the last steps were reported before 'done'
    const n = progress.length;
    await sleep(100);
    expect(progress.length).toBe(n);
    expect(errors).toEqual([]);
  });

  it('starts again on the same worker (js backend), to the end, with samples', async () => {
    const samples: { step: number; text: string }[] = [];
    const off = w.on('sample', (s) => samples.push(s));
    const again = await w.start({
      backend: 'js',
      cell: 'gru',
      hidden: 16,
      seq: 8,
      batch: 4,
      steps: 20,
      sampleEvery: 10,
      sampleLength: 30,
      progressIntervalMs: 0,
    });
    expect(again).toMatchObject({ backend: 'js', variant: null });
    const done = await w.whenDone();
    off();
    expect(done).toMatchObject({ reason: 'finished', step: 20 });
    expect(samples.map((s) => s.step)).toEqual([10, 20]);
    expect(samples.every((s) => [...s.text].length === 30)).toBe(true);
    expect(await w.stop()).toEqual(done); // nothing left to stop
  });

  it('rejects a bad configuration before and inside the worker', async () => {
    await expect(w.start({ hidden: 0 })).rejects.toThrow(/config\.hidden/);
    await expect(w.start({ text: 'too short', seq: 64, batch: 32 })).rejects.toThrow(/config\.text: expected at least/);
    expect(w.state).toBe('failed');
  });
});
