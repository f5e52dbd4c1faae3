// The adding-problem example (examples/adding-problem.mjs), short: at T = 30 the IRNN and the
// LSTM presets must end far below the baseline MSE (≈ 0.167), and a run must be a function of
// its seed. The example runs against this repository's sources (its `lib` and `tasks` options), so no build
// of dist/ is needed. The full T = 150 reproduction is scripts/reproduce-adding.mjs.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/node/index.js';
import * as tasks from '../../src/tasks-entry.js';

interface CurvePoint {
  step: number;
  testMSE: number;
  trainMSE: number | null;
  maxTrainLoss: number | null;
  seconds: number;
}
interface AddingResult {
  baselineMSE: number;
  finalTestMSE: number;
  skippedSteps: number;
  clippedSteps: number;
  settings: Record<string, unknown>;
  curve: CurvePoint[];
}
interface AddingExample {
  PRESETS: Record<string, { steps: number }>;
  trainAdding(o: {
    preset: string;
    T?: number;
    hidden?: number;
    batch?: number;
    steps?: number;
    evalEvery?: number;
    testSize?: number;
    seed?: number;
    lib?: unknown;
    tasks?: unknown;
  }): Promise<AddingResult>;
}

// a computed specifier: the example is plain JavaScript without type declarations
const EXAMPLE = fileURLToPath(new URL('../../examples/adding-problem.mjs', import.meta.url));
const example = (await import(EXAMPLE)) as AddingExample;

const run = (preset: string, steps: number, seed = 1, hidden = 64) =>
  example.trainAdding({ preset, T: 30, hidden, batch: 16, steps, evalEvery: 250, testSize: 500, seed, lib, tasks });

/** The curve without wall-clock times. */
const numbers = (r: AddingResult) => r.curve.map(({ seconds: _, ...p }) => p);

describe('adding problem example (T = 30)', () => {
  it('the IRNN (ReLU, identity init, Adam 1e-4, clip 1) learns to add', async () => {
    const r = await run('irnn', 4000);
    expect(r.baselineMSE).toBeGreaterThan(0.12);
    expect(r.baselineMSE).toBeLessThan(0.22);
    expect(r.skippedSteps).toBe(0);
    expect(r.finalTestMSE).toBeLessThan(0.03); // ~0.008 at the time of writing
    expect(r.finalTestMSE).toBeLessThan(r.baselineMSE / 5);
  });

  it('the LSTM (chrono gate biases, Adam 3e-3, clip 1) learns to add', async () => {
    const r = await run('lstm', 2000);
    expect(r.skippedSteps).toBe(0);
    expect(r.finalTestMSE).toBeLessThan(0.01); // ~0.001 at the time of writing
    expect(r.finalTestMSE).toBeLessThan(r.baselineMSE / 10);
  });

  it('a run is a function of its seed', async () => {
    const a = await run('irnn', 300, 7, 32);
    const b = await run('irnn', 300, 7, 32);
    const c = await run('irnn', 300, 8, 32);
    expect(numbers(b)).toEqual(numbers(a));
    expect(b.finalTestMSE).toBe(a.finalTestMSE);
    expect(numbers(c)).not.toEqual(numbers(a));
  });
});
