// The worker's clipping modes: config.clipMode picks which of the Trainer's three clippings
// config.clip sets (global norm, per element, per timestep inside BPTT) or none. Checked on the
// mapping itself and on runs of the worker's session in this thread, whose events must show the
// chosen clipping at work (and only that one).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { TrainingWorker, type WorkerEndpoint } from '../../src/worker/client.js';
import {
  CLIP_MODES,
  resolveTrainingConfig,
  TRAINING_DEFAULTS,
  type ClipMode,
  type FromWorker,
  type GradientFlowEvent,
  type ProgressEvent,
  type ToWorker,
  type WorkerPort,
} from '../../src/worker/protocol.js';
import { clipOptions, serveTrainer } from '../../src/worker/session.js';

/** A TrainingWorker whose session runs in this thread, every message cloned as postMessage would. */
function inProcessWorker(): TrainingWorker {
  const toWorker: ((m: ToWorker) => void)[] = [];
  const toMain: ((m: FromWorker) => void)[] = [];
  let closed = false;
  const port: WorkerPort = {
    host: 'node',
    postMessage: (m) => {
      const c = structuredClone(m);
      setImmediate(() => {
        if (!closed) for (const h of toMain) h(c);
      });
    },
    onMessage: (h) => {
      toWorker.push(h);
    },
  };
  const endpoint: WorkerEndpoint = {
    postMessage: (m) => {
      const c = structuredClone(m);
      setImmediate(() => {
        if (!closed) for (const h of toWorker) h(c);
      });
    },
    onMessage: (h) => {
      toMain.push(h);
    },
    onError: () => {},
    terminate: () => {
      closed = true;
    },
  };
  const w = new TrainingWorker(endpoint);
  serveTrainer(port);
  return w;
}

const B = 4;
const RUN = {
  backend: 'js',
  cell: 'gru',
  hidden: 8,
  layers: 2,
  seq: 6,
  batch: B,
  lr: 0.01,
  steps: 4,
  seed: 3,
  sampleEvery: 0,
  gradientEvery: 1,
  progressIntervalMs: 0,
} as const;

/** Trains RUN with the given clipping to its end; every progress and gradient-flow event. */
async function train(clipMode: ClipMode, clip: number): Promise<{ progress: ProgressEvent[]; gradients: GradientFlowEvent[] }> {
  const w = inProcessWorker();
  const progress: ProgressEvent[] = [];
  const gradients: GradientFlowEvent[] = [];
  w.on('progress', (p) => progress.push(p));
  w.on('gradients', (g) => gradients.push(g));
  const done = new Promise<void>((resolve, reject) => {
    w.on('done', () => resolve());
    w.on('error', reject);
  });
  try {
    const info = await w.start({ ...RUN, clipMode, clip });
    expect(info.config).toMatchObject({ clipMode, clip });
    await done;
  } finally {
    await w.terminate();
  }
  return { progress, gradients };
}

const maxNorm = (gs: GradientFlowEvent[]): number => Math.max(...gs.flatMap((g) => g.norms.flatMap((a) => [...a])));

describe('config.clipMode', () => {
  it("defaults to 'norm' with clip 5, the clipping the worker always had", () => {
    expect(TRAINING_DEFAULTS).toMatchObject({ clipMode: 'norm', clip: 5 });
    expect(resolveTrainingConfig({})).toMatchObject({ clipMode: 'norm', clip: 5 });
    expect(clipOptions(resolveTrainingConfig({}))).toEqual({ clipNorm: 5 });
  });

  it("maps every mode to the Trainer's option, and a threshold of 0 to no clipping in every mode", () => {
    expect(CLIP_MODES).toEqual(['norm', 'value', 'hidden', 'none']);
    expect(clipOptions({ clipMode: 'norm', clip: 2 })).toEqual({ clipNorm: 2 });
    expect(clipOptions({ clipMode: 'value', clip: 0.5 })).toEqual({ clipValue: 0.5 });
    expect(clipOptions({ clipMode: 'hidden', clip: 0.25 })).toEqual({ clipHiddenNorm: 0.25 });
    expect(clipOptions({ clipMode: 'none', clip: 5 })).toEqual({});
    for (const clipMode of CLIP_MODES) expect(clipOptions({ clipMode, clip: 0 })).toEqual({});
  });

  it('refuses an unknown mode, and a per-timestep threshold beyond float32, naming the field', () => {
    for (const [config, argument] of [
      [{ clipMode: 'global' }, 'config.clipMode'],
      [{ clipMode: 5 }, 'config.clipMode'],
      [{ clipMode: 'hidden', clip: 1e39 }, 'config.clip'],
      [{ clipMode: 'value', clip: -1 }, 'config.clip'],
    ] as const) {
      const e = (() => {
        try {
          resolveTrainingConfig(config as never);
        } catch (x) {
          return x;
        }
      })();
      expect(e, JSON.stringify(config)).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).argument).toBe(argument);
    }
    // the other modes take any finite threshold, as the command line's --clip does
    expect(resolveTrainingConfig({ clipMode: 'norm', clip: 1e39 }).clip).toBe(1e39);
  });
});

describe('a run of the worker with each clipping mode', () => {
  const theta = 1e-4;

  it("'hidden' clips ∂E/∂h_t inside BPTT: every reported norm is at most √B·θ, and without clipping it is not", async () => {
    const clipped = await train('hidden', theta);
    const free = await train('none', 0);
    expect(clipped.gradients).toHaveLength(RUN.steps);
    // docs/equations.md: with per-timestep clipping gradNormsOverTime is the clipped δh_t
    const bound = Math.sqrt(B) * theta * (1 + 1e-5);
    expect(maxNorm(clipped.gradients)).toBeLessThanOrEqual(bound);
    expect(maxNorm(free.gradients)).toBeGreaterThan(bound);
    // the parameter gradients are left to themselves: no norm or element clipping reported
    expect(clipped.progress.some((p) => p.clipped)).toBe(false);
  });

  it("'norm' and 'value' clip the parameter gradients (reported as clipped) and leave ∂E/∂h_t as it is", async () => {
    const free = await train('none', 0);
    expect(free.progress.some((p) => p.clipped)).toBe(false);
    for (const mode of ['norm', 'value'] as const) {
      const r = await train(mode, theta);
      expect(r.progress.length, mode).toBeGreaterThanOrEqual(RUN.steps);
      expect(
        r.progress.every((p) => p.clipped),
        mode,
      ).toBe(true);
      // the first step runs on the same weights and data in every mode
      expect(r.gradients[0].norms, mode).toEqual(free.gradients[0].norms);
    }
  });
});
