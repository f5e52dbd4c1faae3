// Claim: gradients vanish through tanh steps, and survive through ReLU with identity
// initialisation (IRNN) and through gated cells. Measured as ‖∂E/∂h_t‖ over t (the norm over
// the batch of the gradient reaching each hidden state) for a loss at the last step of the
// adding problem, so that everything at t < T arrives through the recurrence alone; at
// initialisation and again after training each network with the same data.
import * as adding from '../data/tasks/adding.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import type { Core } from '../runtime/core.js';
import { Trainer } from '../train/trainer.js';
import type { Experiment, ExperimentContext, ExperimentResult } from './common.js';
import { CELLS, fixed, gradientFlowBench, sci, secs, settings, table } from './common.js';
import { PALETTE, type Series } from './figure.js';

function profile(model: Model, probe: adding.AddingBatch): Float64Array {
  const r = model.lossAndGradients(probe, adding.lossSpec, { diagnostics: true });
  return Float64Array.from(r.gradNormsOverTime![0]);
}

/** Test MSE below which a network counts as having learnt the adding problem, for the report's summary (the baseline is 1/6). */
const LEARNT = 0.05;

/** The trained networks split by whether they learnt the task, with the gradient that reaches h_1 in each. */
function afterTraining(steps: number, T: number, n: Record<string, number>): string {
  const learnt = CELLS.filter((c) => n[`mse_trained_${c.key}`] < LEARNT);
  const not = CELLS.filter((c) => !(n[`mse_trained_${c.key}`] < LEARNT));
  const list = (cs: readonly (typeof CELLS)[number][]): string =>
    cs.map((c) => `${c.label} ${sci(n[`ratio_trained_${c.key}`])}`).join(', ');
  const head = learnt.length
    ? `the networks that learnt the task (test MSE below ${LEARNT}) carry the error back over all ${T} steps (‖∂E/∂h_1‖/‖∂E/∂h_T‖: ${list(learnt)})`
    : `no network reached a test MSE below ${LEARNT} (‖∂E/∂h_1‖/‖∂E/∂h_T‖: ${list(not)})`;
  const tail = learnt.length && not.length ? `; in those that did not: ${list(not)}` : '';
  return `After ${steps} steps, ${head}${tail}.`;
}

async function run(ctx: ExperimentContext, core: Core): Promise<ExperimentResult> {
  const bench = gradientFlowBench(ctx, core, 300, 2000);
  const { T, H, B, steps } = bench;
  const lr = 1e-3,
    clip = 1;
  const probe = adding.addingBatch({ T, B }, ctx.seed + 1);
  const init: Series[] = [],
    trained: Series[] = [];
  const rows: (string | number)[][] = [];
  const numbers: Record<string, number> = {};
  for (const [i, c] of CELLS.entries()) {
    const model = await bench.model(c.config, c.init);
    try {
      const before = profile(model, probe);
      const mseBefore = bench.testMSE(model);
      const trainer = new Trainer(model, { loss: adding.lossSpec, optimizer: { name: 'adam', lr }, clipNorm: clip });
      const data = new Rng(ctx.seed + 3);
      let skipped = 0;
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) if (trainer.step(adding.addingBatch({ T, B }, data)).skipped) skipped++;
      const ms = performance.now() - t0;
      trainer.dispose();
      const after = profile(model, probe);
      const mseAfter = bench.testMSE(model);
      const ratio = (g: Float64Array): number => g[0] / g[T - 1];
      const color = PALETTE[i];
      init.push({ label: c.label, color, points: Array.from(before, (v, t) => [t + 1, v] as const) });
      trained.push({ label: c.label, color, points: Array.from(after, (v, t) => [t + 1, v] as const) });
      numbers[`ratio_init_${c.key}`] = ratio(before);
      numbers[`ratio_trained_${c.key}`] = ratio(after);
      numbers[`mse_trained_${c.key}`] = mseAfter;
      rows.push([
        c.label,
        sci(ratio(before)),
        fixed(ratio(before) ** (1 / (T - 1)), 3),
        sci(ratio(after)),
        fixed(ratio(after) ** (1 / (T - 1)), 3),
        fixed(mseBefore),
        fixed(mseAfter),
        skipped,
        secs(ms),
      ]);
      ctx.log(
        `  ${c.label}: ‖∂E/∂h_1‖/‖∂E/∂h_T‖ ${sci(ratio(before))} at init, ${sci(ratio(after))} after ${steps} steps (test MSE ${fixed(mseAfter)}, ${secs(ms)} s)`,
      );
    } finally {
      model.dispose();
    }
  }
  const report = `## What is measured

‖∂E/∂h_t‖ for t = 1 … T: the L2 norm over the batch of the gradient of the loss with respect to
the hidden state at step t (\`model.lossAndGradients(batch, loss, { diagnostics: true })\`,
\`gradNormsOverTime\`). The loss is the adding problem's MSE at the last step only, so every
gradient at t < T has come back through the recurrence: its ratio to ‖∂E/∂h_T‖ is how much of
the error signal survives T − 1 steps. The per-step factor is that ratio to the power 1/(T − 1).
Measured on one fixed probe batch, at initialisation and after training each network on the
same stream of batches.

## Settings

${settings({
  task: bench.task,
  'hidden size': H,
  batch: B,
  'probe batch': `${B} sequences (seed ${ctx.seed + 1})`,
  training: `${steps} steps of Adam (lr ${lr}), global-norm clip ${clip}`,
  'test set': bench.testSet,
  networks: 'tanh RNN (PyTorch default init U(±1/√H)); IRNN (ReLU, identity W_hh, zero biases); LSTM and GRU (PyTorch default init)',
  seed: ctx.seed,
})}

## Results

${table(['network', '‖∂E/∂h_1‖/‖∂E/∂h_T‖ at init', 'per step', `after ${steps} steps`, 'per step', 'test MSE at init', 'test MSE after', 'refused steps', 'training s'], rows)}

With PyTorch's default initialisation the gates of the LSTM and the GRU sit near 0.5, so at
initialisation their gradients shrink too, only more slowly per step than the tanh RNN's; the
IRNN's identity keeps the norm of the same order over all T steps.
${afterTraining(steps, T, numbers)}
`;
  return {
    report,
    numbers,
    figure: {
      title: `‖∂E/∂h_t‖ over t: adding problem, T = ${T}, H = ${H}`,
      panels: [
        { title: 'at initialisation', xLabel: 'step t', yLabel: '‖∂E/∂h_t‖ (log scale)', logY: true, series: init },
        { title: `after ${steps} training steps`, xLabel: 'step t', yLabel: '‖∂E/∂h_t‖ (log scale)', logY: true, series: trained },
      ],
    },
  };
}

export const vanishing: Experiment = {
  name: 'vanishing',
  summary: '‖∂E/∂h_t‖ over t: tanh RNN, IRNN, LSTM, GRU, at init and trained',
  steps: 'training steps per network (default 2000; quick 300)',
  run,
};
