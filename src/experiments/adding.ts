// How long each cell takes to solve the adding problem as T grows, with the settings of the
// issue's PyTorch reference (H 128, B 32, Adam 1e-3, global-norm clip 1, one thread). "Solved"
// is the first evaluation whose test MSE is below SOLVED (6% of the 1/6 baseline of always
// answering 1); a run stops there or at the step budget.
import * as addingTask from '../data/tasks/adding.js';
import { Rng } from '../model/rng.js';
import type { Core } from '../runtime/core.js';
import { Trainer } from '../train/trainer.js';
import {
  CELLS,
  type Experiment,
  type ExperimentContext,
  type ExperimentResult,
  fixed,
  secs,
  settings,
  table,
  testMSE,
  addingTestSet,
  addingModel,
} from './common.js';
import { PALETTE, type Panel } from './figure.js';

/** Test MSE below which the problem counts as solved. */
export const SOLVED = 0.01;

async function run(ctx: ExperimentContext, core: Core): Promise<ExperimentResult> {
  const q = ctx.quick;
  const lengths = q ? [10, 20, 40] : [100, 200, 400];
  const H = q ? 16 : 128,
    B = q ? 16 : 32,
    budget = ctx.steps ?? (q ? 600 : 5000),
    evalEvery = q ? 25 : 100,
    testSize = q ? 200 : 1000;
  const lr = 1e-3,
    clip = 1;
  const panels: Panel[] = [];
  const rows: (string | number)[][] = [];
  const numbers: Record<string, number> = {};
  for (const T of lengths) {
    const test = addingTestSet(T, testSize, ctx.seed + 2);
    const panel: Panel = {
      title: `T = ${T}`,
      xLabel: 'step',
      yLabel: 'test MSE (log scale)',
      logY: true,
      series: [],
      hLines: [
        { y: addingTask.BASELINE_MSE, label: 'always 1: 1/6' },
        { y: SOLVED, label: `solved: ${SOLVED}` },
      ],
    };
    for (const [i, c] of CELLS.entries()) {
      const model = await addingModel(c.config, c.init, H, ctx.seed, core);
      try {
        const trainer = new Trainer(model, { loss: addingTask.lossSpec, optimizer: { name: 'adam', lr }, clipNorm: clip });
        const data = new Rng(ctx.seed + 3);
        const curve: [number, number][] = [[0, testMSE(model, test)]];
        let ms = 0,
          solvedAt: number | null = null,
          solvedMs = 0,
          skipped = 0,
          step = 0,
          best = curve[0][1];
        while (step < budget) {
          const t0 = performance.now();
          if (trainer.step(addingTask.addingBatch({ T, B }, data)).skipped) skipped++;
          ms += performance.now() - t0;
          step++;
          if (step % evalEvery === 0 || step === budget) {
            const mse = testMSE(model, test);
            curve.push([step, mse]);
            best = Math.min(best, mse);
            if (mse < SOLVED) {
              solvedAt = step;
              solvedMs = ms;
              break;
            }
          }
        }
        trainer.dispose();
        const last = curve[curve.length - 1][1];
        panel.series.push({ label: c.label, color: PALETTE[i], points: curve });
        numbers[`steps_${c.key}_${T}`] = solvedAt ?? Infinity;
        numbers[`mse_${c.key}_${T}`] = last;
        rows.push([
          c.label,
          T,
          solvedAt === null ? `not in ${budget}` : solvedAt,
          solvedAt === null ? '—' : secs(solvedMs),
          fixed(last),
          fixed(best),
          skipped,
          secs(ms),
          fixed(ms / step, 2),
        ]);
        ctx.log(
          `  T ${T}, ${c.label}: ${solvedAt === null ? `not solved in ${budget} steps` : `solved at step ${solvedAt} (${secs(solvedMs)} s)`}, test MSE ${fixed(last)}`,
        );
      } finally {
        model.dispose();
      }
    }
    panels.push(panel);
  }
  const report = `## What is measured

The adding problem (Le, Jaitly & Hinton 2015): two marked values among T noise values; the
target is their sum, judged by the MSE at the last step. Always answering 1 scores 1/6 ≈ 0.167.
**Solved** means a test MSE below ${SOLVED} (6% of that baseline) on a fixed test set, checked
every ${evalEvery} steps; a run stops at the first such check or at the budget of ${budget} steps.
The time is training time only (forward, BPTT, clipping and the update; the evaluations are not
counted), on one thread. The issue's reference (PyTorch, T = 100, same settings): tanh RNN not
solved in 13,600 steps, IRNN solved in 3,500 steps and 41 s, LSTM in 4,700 steps and 233 s.

## Settings

${settings({
  'sequence lengths': lengths.join(', '),
  networks: 'tanh RNN (PyTorch default init); IRNN (ReLU, identity W_hh, zero biases); LSTM and GRU (PyTorch default init)',
  'hidden size': H,
  batch: B,
  optimizer: `Adam, lr ${lr}, global-norm clip ${clip}`,
  'step budget': budget,
  'test set': `${testSize} sequences per T`,
  seed: ctx.seed,
})}

## Results

${table(['network', 'T', 'steps to solve', 'seconds to solve', 'test MSE at the end', 'best test MSE', 'refused steps', 'training s', 'ms per step'], rows)}
`;
  return {
    report,
    numbers,
    figure: {
      title: `Adding problem: test MSE during training (H = ${H}, B = ${B}, Adam ${lr}, clip ${clip})`,
      panels,
      columns: 3,
      panelWidth: 400,
    },
  };
}

export const adding: Experiment = {
  name: 'adding',
  summary: 'steps and seconds to solve the adding problem, T = 100, 200, 400',
  steps: 'the step budget of each run (default 5000; quick 600)',
  run,
};
