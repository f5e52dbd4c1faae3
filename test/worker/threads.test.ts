// The trainer worker's `threads` field: validation of the configuration, and a run under Node
// (worker_threads, where shared memory always exists) on the threads build with a pool of 2,
// whose losses must equal a single-threaded run of the same core's arithmetic ('simd' vs
// 'threads': the same bits). The model is large enough that the recurrent products reach the
// pool (B × H × 4H multiply-adds above POOL_MIN_FLOPS).
//
// The worker thread runs dist/worker/trainer-worker.js: run `npm run build` first.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createNodeTrainingWorker } from '../../src/worker/node-client.js';
import { AUTO_THREADS_MAX, autoThreads, resolveTrainingConfig, TRAINING_DEFAULTS } from '../../src/worker/protocol.js';

describe('config.threads', () => {
  it('defaults to 1 and accepts "auto" and integers in [1, 256]', () => {
    expect(TRAINING_DEFAULTS.threads).toBe(1);
    expect(resolveTrainingConfig({}).threads).toBe(1);
    expect(resolveTrainingConfig({ threads: 'auto' }).threads).toBe('auto');
    expect(resolveTrainingConfig({ threads: 3 }).threads).toBe(3);
  });

  it.each([0, 257, 1.5, Number.NaN, '2', 'all', null])('refuses %s with a ConfigError naming config.threads', (v) => {
    expect(() => resolveTrainingConfig({ threads: v as never })).toThrow(ConfigError);
    expect(() => resolveTrainingConfig({ threads: v as never })).toThrow(/config\.threads.*"auto" or an integer in \[1, 256\]/);
  });

  it('"auto" is the logical processors, capped at AUTO_THREADS_MAX', () => {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    expect(autoThreads()).toBe(n ? Math.min(n, AUTO_THREADS_MAX) : 1);
  });
});

describe('a training worker on threads (Node)', () => {
  const CONFIG = {
    cell: 'lstm',
    hidden: 128,
    seq: 16,
    batch: 32,
    lr: 0.005,
    steps: 12,
    seed: 5,
    progressIntervalMs: 0,
    gradientEvery: 0,
    sampleEvery: 0,
  } as const;

  async function run(config: object): Promise<{ variant: string | null; threads: number; losses: number[] }> {
    const w = createNodeTrainingWorker();
    try {
      const losses: number[] = [];
      w.on('progress', (p) => losses.push(p.loss));
      const info = await w.start({ ...CONFIG, ...config });
      await w.whenDone();
      return { variant: info.variant, threads: info.threads, losses };
    } finally {
      await w.terminate();
    }
  }

  it('trains on the threads build with a pool of 2, with the losses of one thread', async () => {
    const pooled = await run({ variant: 'simd', threads: 2 });
    const single = await run({ variant: 'simd' });
    expect(pooled).toMatchObject({ variant: 'threads', threads: 2 });
    expect(single).toMatchObject({ variant: 'simd', threads: 1 });
    expect(pooled.losses).toHaveLength(CONFIG.steps);
    expect(pooled.losses.at(-1)).toBeLessThan(pooled.losses[0]);
    expect(pooled.losses).toEqual(single.losses);
  }, 60_000);
});
