// Claim: gradients explode, and clipping tames them. A tanh RNN whose recurrent matrix is
// orthogonal times a gain above 1 backpropagates an error that grows step by step; with plain
// SGD the first large gradient throws the weights far away. Four runs from the same weights
// and batches: no clipping, the global norm clipped (clipNorm), every element clamped
// (clipValue), and the gradient flowing into each h_t clipped per sequence and step before it
// continues to t − 1 (the Trainer's clipHiddenNorm, where the build has it).
import * as adding from '../data/tasks/adding.js';
import { ConfigError } from '../errors.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import type { Core } from '../runtime/core.js';
import { Trainer, type TrainerOptions } from '../train/trainer.js';
import type { Experiment, ExperimentContext, ExperimentResult } from './common.js';
import { fixed, gradientFlowBench, mean, sci, secs, settings, table } from './common.js';
import { PALETTE, type Series } from './figure.js';

/**
 * A Trainer with `clipHiddenNorm`, or null when this build's Trainer does not know the option.
 * Asked at run time so that the experiment needs no change on the day the option lands.
 */
export function trainerWithHiddenClip(model: Model, options: TrainerOptions, clipHiddenNorm: number): Trainer | null {
  try {
    return new Trainer(model, { ...options, clipHiddenNorm } as TrainerOptions);
  } catch (e) {
    if (e instanceof ConfigError && /unknown key/.test(e.message) && e.message.includes('clipHiddenNorm')) return null;
    throw e;
  }
}

interface Mode {
  key: string;
  label: string;
  options: Partial<TrainerOptions>;
  hidden?: number;
}

async function run(ctx: ExperimentContext, core: Core): Promise<ExperimentResult> {
  const bench = gradientFlowBench(ctx, core, 150, 1000);
  const { T, H, B, steps } = bench;
  const gain = 2,
    lr = 0.05,
    clipNorm = 1,
    clipValue = 0.1,
    // ∂E/∂h_T of one sequence is about 1/B of the batch's (the loss is a mean), some 0.01–0.1 here:
    // a threshold at the low end removes the growth and little else (at 0.1 the loss still blew up)
    clipHidden = 0.01;
  const modes: Mode[] = [
    { key: 'none', label: 'no clipping', options: {} },
    { key: 'norm', label: `global norm ≤ ${clipNorm} (clipNorm)`, options: { clipNorm } },
    { key: 'value', label: `|g| ≤ ${clipValue} per element (clipValue)`, options: { clipValue } },
    { key: 'hidden', label: `‖∂E/∂h_t‖ ≤ ${clipHidden} per step (clipHiddenNorm)`, options: {}, hidden: clipHidden },
  ];
  const lossSeries: Series[] = [],
    normSeries: Series[] = [];
  const rows: (string | number)[][] = [];
  const numbers: Record<string, number> = {};
  let hiddenAvailable = true;
  let recurrent: Float32Array | Float64Array | null = null;
  for (const [i, m] of modes.entries()) {
    const model = await bench.model({ cell: 'rnn', nonlinearity: 'tanh' }, 'orthogonal');
    try {
      if (!recurrent) {
        recurrent = model.getParameter('weight_hh_l0').slice();
        for (let k = 0; k < recurrent.length; k++) recurrent[k] *= gain;
      }
      model.setParameter('weight_hh_l0', recurrent);
      const options: TrainerOptions = { loss: adding.lossSpec, optimizer: { name: 'sgd', lr }, ...m.options };
      const trainer = m.hidden === undefined ? new Trainer(model, options) : trainerWithHiddenClip(model, options, m.hidden);
      if (!trainer) {
        hiddenAvailable = false;
        rows.push([m.label, 'not available in this build', '', '', '', '', '', '']);
        ctx.log(`  ${m.label}: not available in this build (the Trainer has no clipHiddenNorm option)`);
        continue;
      }
      const data = new Rng(ctx.seed + 3);
      const losses: [number, number][] = [],
        norms: [number, number][] = [];
      let skipped = 0,
        clipped = 0,
        maxLoss = 0,
        maxNorm = 0;
      const t0 = performance.now();
      for (let s = 1; s <= steps; s++) {
        const r = trainer.step(adding.addingBatch({ T, B }, data));
        if (r.skipped) skipped++;
        if (r.clipped) clipped++;
        if (Number.isFinite(r.loss)) maxLoss = Math.max(maxLoss, r.loss);
        if (Number.isFinite(r.gradNorm)) maxNorm = Math.max(maxNorm, r.gradNorm);
        losses.push([s, r.loss]);
        norms.push([s, r.gradNorm]);
      }
      const ms = performance.now() - t0;
      trainer.dispose();
      const tail = mean(losses.slice(-Math.max(1, Math.floor(steps / 10))).map((p) => p[1]));
      const mse = bench.testMSE(model);
      const color = PALETTE[i];
      lossSeries.push({ label: m.label, color, points: losses });
      normSeries.push({ label: m.label, color, points: norms });
      Object.assign(numbers, {
        [`tail_${m.key}`]: tail,
        [`test_${m.key}`]: mse,
        [`skipped_${m.key}`]: skipped,
        [`maxnorm_${m.key}`]: maxNorm,
      });
      rows.push([m.label, sci(tail), mse < 1e3 ? fixed(mse) : sci(mse), sci(maxLoss), sci(maxNorm), skipped, clipped, secs(ms)]);
      ctx.log(
        `  ${m.label}: last-10% training loss ${sci(tail)}, test MSE ${mse < 1e3 ? fixed(mse) : sci(mse)}, largest gradient norm ${sci(maxNorm)}, ${skipped} refused steps`,
      );
    } finally {
      model.dispose();
    }
  }
  numbers.hidden_available = hiddenAvailable ? 1 : 0;
  const report = `## What is measured

Training loss and the global gradient norm (before any clipping) at every step of plain SGD on
the adding problem, for a tanh RNN whose recurrent weights start as an orthogonal matrix times
${gain}: backpropagated through T = ${T} steps, the error grows wherever the units are not
saturated, and the first large gradient moves the weights far. The four runs start from the same
weights and see the same batches; only the clipping differs. A step whose loss or gradient
norm is not finite (or whose update would overflow) is refused by the Trainer and changes
nothing: it is counted as refused and leaves a gap in the curves.

Per-timestep clipping (the gradient ∂E/∂h_t of each sequence clipped by norm before it flows to
step t − 1, the Trainer's \`clipHiddenNorm\`) is ${hiddenAvailable ? 'included' : '**not available in this build**: the Trainer refused the option as an unknown key, so its row is empty; rerun the experiment once the option exists'}. Unlike the other two it
changes the gradient that reaches earlier steps, so the result is no longer the exact gradient
of the loss.

## Settings

${settings({
  task: bench.task,
  network: `tanh RNN, H = ${H}, W_hh = ${gain} × orthogonal, other weights PyTorch's default`,
  batch: B,
  optimizer: `SGD, lr ${lr}, no momentum`,
  steps,
  clipping: `clipNorm ${clipNorm}; clipValue ${clipValue}; clipHiddenNorm ${clipHidden}`,
  'test set': bench.testSet,
  seed: ctx.seed,
})}

## Results

${table(['clipping', `mean training loss, last ${Math.max(1, Math.floor(steps / 10))} steps`, 'test MSE at the end', 'largest training loss', 'largest gradient norm', 'refused steps', 'clipped steps', 'training s'], rows)}
`;
  return {
    report,
    numbers,
    figure: {
      title: `Exploding gradients: tanh RNN, W_hh = ${gain} × orthogonal, SGD lr ${lr}, adding T = ${T}`,
      panels: [
        {
          title: 'training loss',
          xLabel: 'step',
          yLabel: 'MSE (log scale)',
          logY: true,
          series: lossSeries,
          hLines: [{ y: adding.BASELINE_MSE, label: 'always 1: 1/6' }],
        },
        { title: 'gradient norm before clipping', xLabel: 'step', yLabel: '‖∇E‖ (log scale)', logY: true, series: normSeries },
      ],
    },
  };
}

export const exploding: Experiment = {
  name: 'exploding',
  summary: 'tanh RNN, W_hh = 2 × orthogonal, SGD: no clip, norm, value, per step',
  steps: 'SGD steps per run (default 1000; quick 150)',
  run,
};
