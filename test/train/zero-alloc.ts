// What the zero-allocation tests share: a warmed-up Trainer.stepInto allocates nothing on the
// JavaScript heap. V8's sampling heap profiler sees an allocation of 32 bytes on average every 32
// bytes allocated, with the stack that made it. Over 1,000 steps after 3,000 warm-up steps (V8
// optimises the step's code over its first thousands of runs), the bytes it charges to the
// library's own source files must stay below BOUND per step. Not a timing test: only where bytes
// are allocated counts.
//
// One configuration per test file, so each runs in a fresh process: the steps of another model
// make V8's feedback polymorphic and change what it inlines (that is how Optimizer.magnitude's
// returned double came to be boxed on every step, before it wrote into a typed array).
import { Session } from 'node:inspector/promises';
import { expect } from 'vitest';
import type { Batch } from '../../src/model/batch.js';
import type { StepResult, Trainer } from '../../src/train/trainer.js';

const WARMUP = 3000;
const STEPS = 1000;
// bytes per step charged to src/: a boxed double is 16, a closure or a small array 32 or more
const BOUND = 8;

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
    return ownSites(profile.head);
  } finally {
    session.disconnect();
  }
}

/**
 * Expects fewer than BOUND bytes per step charged to src/ in the best of up to three rounds of
 * STEPS steps: on a loaded machine V8 may still be optimising the step after the warm-up, and
 * the garbage of unoptimised code is not the step's. What the step's own code allocates is in
 * every round.
 */
export async function expectNoAllocation(trainer: Trainer, batch: Batch): Promise<void> {
  const out: StepResult = trainer.step(batch);
  for (let i = 0; i < WARMUP; i++) trainer.stepInto(batch, out);
  let best = Infinity,
    where = '';
  for (let round = 0; round < 3 && best >= BOUND; round++) {
    const sites = await sampledSteps(trainer, batch, out);
    const perStep = [...sites.values()].reduce((s, b) => s + b, 0) / STEPS;
    if (perStep < best) {
      best = perStep;
      where = JSON.stringify([...sites]);
    }
  }
  expect(Number.isFinite(out.loss)).toBe(true);
  expect(best, `bytes by site over ${STEPS} steps: ${where}`).toBeLessThan(BOUND);
}
