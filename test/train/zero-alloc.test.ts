// A warmed-up Trainer.stepInto allocates (almost) nothing on the JavaScript heap. V8's sampling
// heap profiler sees an allocation of 32 bytes on average every 32 bytes allocated, with the
// stack that made it. Over 1,000 steps after 3,000 warm-up steps (V8 optimises the step's code
// over its first thousands of runs), the bytes it charges to the library's own source files
// must stay below BOUND per step. Not a timing test: only where bytes are allocated counts.
// It failed with the batch reader of before (a closure per array, array literals and strings
// built per step: about 450 bytes a step) and with copyFloats' element loop inside the function
// that also checks lengths (about 16 bytes a step in the dense case, when V8 left it
// deoptimised after its first long call).
import { Session } from 'node:inspector/promises';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/create.js';
import { loadCore } from '../../src/runtime/load.js';
import type { Batch } from '../../src/model/batch.js';
import { Trainer, type StepResult } from '../../src/train/trainer.js';
import { lcg, randInts } from '../helpers.js';

const WARMUP = 3000;
const STEPS = 1000;
// bytes per step charged to src/: a boxed double is 16, a closure or a small array 32 or more.
// The RNN/MSE case still boxes about three doubles a step (the MSE scale and result around the
// kernel call, and one in Trainer.update, where V8 does not inline the calls), hence its own bound.
const BOUND = 24;
const BOUND_MSE = 64;

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Bytes by the innermost frame of this package's src/ (builtins are charged to their caller). */
function ownSites(head: ProfileNode): Map<string, number> {
  const sites = new Map<string, number>();
  const walk = (n: ProfileNode, site: string | null) => {
    const { url, functionName, lineNumber } = n.callFrame;
    let here = site;
    if (url)
      here =
        /\/src\//.test(url) && !url.includes('node_modules')
          ? `${functionName} ${url.replace(/^.*\/src\//, 'src/')}:${lineNumber + 1}`
          : null;
    if (n.selfSize > 0 && here) sites.set(here, (sites.get(here) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, here);
  };
  walk(head, null);
  return sites;
}

/**
 * Bytes per step charged to src/ (and by site) in the best of up to three rounds of STEPS steps:
 * on a loaded machine V8 may still be optimising the step after the warm-up, and garbage of its
 * unoptimised code is not the step's. Allocation that the step's code does itself is in every round.
 */
async function bytesPerStep(trainer: Trainer, batch: Batch, bound: number): Promise<[number, string]> {
  const out: StepResult = trainer.step(batch);
  for (let i = 0; i < WARMUP; i++) trainer.stepInto(batch, out);
  let best = Infinity,
    where = '';
  for (let round = 0; round < 3 && best >= bound; round++) {
    const sites = await sampledSteps(trainer, batch, out);
    const perStep = [...sites.values()].reduce((s, b) => s + b, 0) / STEPS;
    if (perStep < best) {
      best = perStep;
      where = JSON.stringify([...sites]);
    }
  }
  return [best, where];
}

async function sampledSteps(trainer: Trainer, batch: Batch, out: StepResult): Promise<Map<string, number>> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 32,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    for (let i = 0; i < STEPS; i++) trainer.stepInto(batch, out);
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
    expect(Number.isFinite(out.loss)).toBe(true);
    return ownSites(profile.head);
  } finally {
    session.disconnect();
  }
}

describe('a warmed-up training step allocates nothing on the JavaScript heap', () => {
  it('LSTM, tokens, cross-entropy at every step, Adam, clipNorm (B4 in small)', async () => {
    const core = await loadCore({ threads: 1 });
    const model = await createModel({ cell: 'lstm', inputSize: 29, input: 'tokens', hiddenSize: 24, outputSize: 29, seed: 3, core });
    const trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: 'adam', clipNorm: 1 });
    const rand = lcg(4);
    const T = 9,
      B = 3;
    const batch = { x: randInts(T * B, 29, rand), y: randInts(T * B, 29, rand), T, B };
    const [perStep, where] = await bytesPerStep(trainer, batch, BOUND);
    expect(perStep, `bytes by site over ${STEPS} steps: ${where}`).toBeLessThan(BOUND);
    trainer.dispose();
    model.dispose();
  });

  it('RNN, dense input (long x), MSE at the last step, Adam, clipNorm (B2 in small)', async () => {
    const core = await loadCore({ threads: 1 });
    const I = 32,
      T = 64,
      B = 16;
    const model = await createModel({ cell: 'rnn', inputSize: I, hiddenSize: 8, outputSize: 1, seed: 3, core });
    const trainer = new Trainer(model, { loss: { loss: 'mse', at: 'last' }, optimizer: 'adam', clipNorm: 1 });
    const x = Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i));
    const y = Float32Array.from({ length: B }, (_, i) => Math.cos(i));
    const [perStep, where] = await bytesPerStep(trainer, { x, y, T, B }, BOUND_MSE);
    expect(perStep, `bytes by site over ${STEPS} steps: ${where}`).toBeLessThan(BOUND_MSE);
    trainer.dispose();
    model.dispose();
  });
});
