// Claim: truncated BPTT cannot learn a dependency longer than its window. The copy task: S
// symbols, a delay, then the S symbols again. Trained as a stream of chunks of k1 steps with
// TBPTT(k1, k2) (the state crosses chunk boundaries, gradients cross at most k2 steps back), and
// with full BPTT over whole sequences. Symbol i is read at step i and recalled at step S + D + i,
// in the last chunk, whose window reaches back to step T − k2: the recall of symbol i can be
// learnt only if i ≥ T − k2, so the accuracy per recall position shows where the window ends.
import { createModel } from '../create.js';
import * as copy from '../data/tasks/copy.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import type { Core } from '../runtime/core.js';
import { Trainer } from '../train/trainer.js';
import { type Experiment, type ExperimentContext, type ExperimentResult, fixed, secs, settings, table } from './common.js';
import { PALETTE, type Series } from './figure.js';

/** Accuracy of the most likely output at each recall position i (0 … S−1) on a test batch, and overall. */
export function recallAccuracy(model: Model, test: copy.CopyBatch, S: number, D: number): { perPosition: number[]; all: number } {
  const { y } = model.predict({ x: test.x, T: test.T, B: test.B }, { at: 'every' });
  const O = model.config.outputSize,
    B = test.B;
  const perPosition: number[] = [];
  for (let i = 0; i < S; i++) {
    const t = S + D + i;
    let good = 0;
    for (let b = 0; b < B; b++) {
      const o = (t * B + b) * O;
      let best = 0;
      for (let k = 1; k < O; k++) if (y[o + k] > y[o + best]) best = k;
      if (best === test.y[t * B + b]) good++;
    }
    perPosition.push(good / B);
  }
  return { perPosition, all: perPosition.reduce((a, b) => a + b, 0) / S };
}

interface Setting {
  key: string;
  label: string;
  k2: number | null;
}

async function run(ctx: ExperimentContext, core: Core): Promise<ExperimentResult> {
  const q = ctx.quick;
  const S = q ? 3 : 5,
    D = q ? 6 : 10,
    K = q ? 4 : 8,
    H = q ? 32 : 64,
    B = q ? 16 : 32;
  const T = 2 * S + D,
    k1 = S;
  const batches = ctx.steps ?? (q ? 1000 : 5000),
    evalEvery = q ? 100 : 100,
    testSize = q ? 200 : 1000,
    lr = 1e-2,
    clip = 1;
  const windows = q ? [3, 6, 9, 12] : [5, 10, 15, 18, 20];
  const list: Setting[] = [
    ...windows.map((k2) => ({ key: `k2_${k2}`, label: `TBPTT(${k1}, ${k2})`, k2 })),
    { key: 'full', label: `full BPTT (T = ${T})`, k2: null },
  ];
  const sizes = copy.copySizes({ length: S, delay: D, symbols: K });
  const test = copy.copyBatch({ B: testSize, length: S, delay: D, symbols: K }, ctx.seed + 2);
  const curves: Series[] = [],
    positions: Series[] = [];
  const rows: (string | number)[][] = [];
  const numbers: Record<string, number> = {};
  for (const [n, s] of list.entries()) {
    const model = await createModel({
      cell: 'lstm',
      input: 'tokens',
      inputSize: sizes.inputSize,
      hiddenSize: H,
      outputSize: sizes.outputSize,
      seed: ctx.seed,
      core,
    });
    try {
      const trainer = new Trainer(model, {
        loss: copy.lossSpec,
        optimizer: { name: 'adam', lr },
        clipNorm: clip,
        ...(s.k2 === null ? {} : { tbptt: { k1, k2: s.k2 } }),
      });
      const data = new Rng(ctx.seed + 3);
      const curve: [number, number][] = [[0, recallAccuracy(model, test, S, D).all]];
      let updates = 0,
        ms = 0;
      for (let i = 1; i <= batches; i++) {
        // every step of every sequence counts in the loss (blanks included, as in Arjovsky et al.), so that each chunk has a loss
        const { x, y } = copy.copyBatch({ B, length: S, delay: D, symbols: K }, data);
        const t0 = performance.now();
        if (s.k2 === null) {
          trainer.step({ x, y, T, B });
          updates++;
        } else {
          for (let c = 0; c < T; c += k1) {
            trainer.stepStateful({ x: x.subarray(c * B, (c + k1) * B), y: y.subarray(c * B, (c + k1) * B), T: k1, B, reset: c === 0 });
            updates++;
          }
        }
        ms += performance.now() - t0;
        if (i % evalEvery === 0 || i === batches) curve.push([i, recallAccuracy(model, test, S, D).all]);
      }
      trainer.dispose();
      const acc = recallAccuracy(model, test, S, D);
      const learnable = s.k2 === null ? S : Math.max(0, Math.min(S, s.k2 - (T - S)));
      const color = PALETTE[n];
      curves.push({ label: s.label, color, points: curve });
      positions.push({ label: s.label, color, points: acc.perPosition.map((a, i) => [i + 1, a] as const) });
      numbers[`acc_${s.key}`] = acc.all;
      acc.perPosition.forEach((a, i) => {
        numbers[`acc_${s.key}_pos${i + 1}`] = a;
      });
      rows.push([
        s.label,
        s.k2 === null ? T : s.k2,
        `${learnable} of ${S}`,
        fixed(acc.all, 3),
        acc.perPosition.map((a) => fixed(a, 2)).join(' / '),
        updates,
        secs(ms),
      ]);
      ctx.log(
        `  ${s.label}: recall accuracy ${fixed(acc.all, 3)} (per position ${acc.perPosition.map((a) => fixed(a, 2)).join(' ')}), ${secs(ms)} s`,
      );
    } finally {
      model.dispose();
    }
  }
  numbers.chance = 1 / K;
  numbers.T = T;
  numbers.dependency = S + D;
  const report = `## What is measured

The copy task: ${S} random symbols out of ${K}, a delay of ${D} steps (blanks, then a GO marker),
then the network must output the ${S} symbols in order (T = ${T}). Symbol i is read at step i and
recalled at step ${S + D} + i: a dependency of ${S + D} steps, so the recall needs a window of
${S + D + 1} steps or more.

TBPTT(k1, k2) trains on the sequences as a stream of chunks of k1 = ${k1} steps, the state
carried from chunk to chunk (reset at the start of each sequence); each update backpropagates
through the last k2 steps, so no gradient reaches further back than k2 − 1 steps. The recall
happens in the last chunk, whose window starts at step T − k2 = ${T} − k2: the recall of symbol i
can be learnt only when i ≥ T − k2 ("learnable" below). Full BPTT takes one update per batch over
all T steps. Each setting sees the same ${batches} batches (TBPTT makes ${T / k1} updates of each);
the accuracy is that of the most likely output at the recall steps of a fixed test set (chance:
1/${K} = ${fixed(1 / K, 3)}), per recall position 1 … ${S}.

## Settings

${settings({
  task: `copy, ${S} symbols of ${K}, delay ${D}, T = ${T}; cross-entropy at every step`,
  network: `LSTM, H = ${H}, PyTorch's default init`,
  batch: B,
  optimizer: `Adam, lr ${lr}, global-norm clip ${clip}`,
  batches,
  'test set': `${testSize} sequences`,
  seed: ctx.seed,
})}

## Results

${table(['training', 'k2 (window)', 'learnable recalls', 'recall accuracy', 'accuracy per recall position', 'updates', 'training s'], rows)}
`;
  return {
    report,
    numbers,
    figure: {
      title: `Truncated BPTT on the copy task: dependency ${S + D} steps, T = ${T}, k1 = ${k1}`,
      panels: [
        {
          title: 'recall accuracy during training',
          xLabel: 'batches of sequences',
          yLabel: 'accuracy',
          series: curves,
          hLines: [{ y: 1 / K, label: `chance 1/${K}` }],
        },
        {
          title: 'accuracy per recall position at the end',
          xLabel: 'recall position i',
          yLabel: 'accuracy',
          series: positions,
          hLines: [{ y: 1 / K, label: `chance 1/${K}` }],
        },
      ],
    },
  };
}

export const truncation: Experiment = {
  name: 'truncation',
  summary: 'copy task: TBPTT windows shorter/longer than the dependency, full BPTT',
  steps: 'batches of sequences per setting (default 5000; quick 1000)',
  run,
};
