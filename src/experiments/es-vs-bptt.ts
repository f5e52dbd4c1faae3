// Claim: BPTT is much faster than a general-purpose optimiser such as evolution strategies. The
// same model (same initial weights), task, batches and number of steps for both: BPTT with Adam
// (one forward and one backward pass per step) and Salimans et al.'s evolution strategies with
// Adam (2N forward passes per step, no backward pass). The loss of a fixed evaluation batch is
// plotted against training time and against steps; "time to target" is how long each took to
// reach the best loss ES reached.
import { createModel } from '../create.js';
import * as sine from '../data/tasks/sine.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import type { Core } from '../runtime/core.js';
import { EvolutionStrategies } from '../train/es.js';
import { Trainer } from '../train/trainer.js';
import { type Experiment, type ExperimentContext, type ExperimentResult, fixed, secs, settings, table } from './common.js';
import { PALETTE } from './svg.js';

interface Point {
  step: number;
  ms: number;
  loss: number;
}

function evalLoss(model: Model, batch: sine.SineBatch): number {
  const { y } = model.predict({ x: batch.x, T: batch.T, B: batch.B }, { at: 'every' });
  let s = 0;
  for (let i = 0; i < batch.y.length; i++) s += (y[i] - batch.y[i]) ** 2;
  return s / batch.y.length;
}

/** The first point at or below `target` (time and steps), or null. */
function reach(curve: Point[], target: number): Point | null {
  return curve.find((p) => p.loss <= target) ?? null;
}

async function run(ctx: ExperimentContext, core: Core): Promise<ExperimentResult> {
  const q = ctx.quick;
  const T = q ? 16 : 32,
    H = q ? 8 : 16,
    B = q ? 16 : 32,
    steps = ctx.steps ?? (q ? 150 : 3000);
  const bpttLr = 1e-2,
    es = { population: q ? 16 : 32, sigma: 0.02, lr: 1e-2 };
  const evalBatch = sine.sineBatch({ T, B: q ? 128 : 512 }, ctx.seed + 2);
  const modelOf = (): Promise<Model> =>
    createModel({ cell: 'lstm', inputSize: sine.inputSize, hiddenSize: H, outputSize: sine.outputSize, seed: ctx.seed, core });
  const runs: { label: string; curve: Point[]; steps: number; ms: number; params: number }[] = [];
  for (const method of ['bptt', 'es'] as const) {
    const model = await modelOf();
    try {
      const trainer = method === 'bptt' ? new Trainer(model, { loss: sine.lossSpec, optimizer: { name: 'adam', lr: bpttLr } }) : null;
      const strategies = method === 'es' ? new EvolutionStrategies(model, { ...es, loss: sine.lossSpec, seed: ctx.seed + 4 }) : null;
      const data = new Rng(ctx.seed + 3);
      const curve: Point[] = [{ step: 0, ms: 0, loss: evalLoss(model, evalBatch) }];
      // evaluations at roughly geometric step counts keep their cost small against the training
      let ms = 0,
        step = 0,
        nextEval = 1;
      while (step < steps) {
        const batch = sine.sineBatch({ T, B }, data);
        const t0 = performance.now();
        if (trainer) trainer.step(batch);
        else strategies!.step(batch);
        ms += performance.now() - t0;
        step++;
        if (step >= nextEval) {
          curve.push({ step, ms, loss: evalLoss(model, evalBatch) });
          nextEval = Math.max(step + 1, Math.ceil(step * 1.1));
        }
      }
      if (curve[curve.length - 1].step !== step) curve.push({ step, ms, loss: evalLoss(model, evalBatch) });
      trainer?.dispose();
      runs.push({
        label: method === 'bptt' ? 'BPTT (Adam)' : `ES (N = ${es.population} pairs, Adam)`,
        curve,
        steps: step,
        ms,
        params: model.numParameters,
      });
      ctx.log(
        `  ${runs[runs.length - 1].label}: ${step} steps in ${secs(ms)} s, evaluation loss ${fixed(curve[0].loss)} → ${fixed(curve[curve.length - 1].loss)}`,
      );
    } finally {
      model.dispose();
    }
  }
  const [bp, ev] = runs;
  const target = Math.min(...ev.curve.map((p) => p.loss));
  const bpReach = reach(bp.curve, target),
    evReach = reach(ev.curve, target);
  const persistence = sine.persistenceMSE(evalBatch);
  const numbers: Record<string, number> = {
    bptt_final: bp.curve[bp.curve.length - 1].loss,
    es_final: ev.curve[ev.curve.length - 1].loss,
    initial: bp.curve[0].loss,
    bptt_steps: bp.steps,
    es_steps: ev.steps,
    target,
    bptt_ms_to_target: bpReach?.ms ?? Infinity,
    es_ms_to_target: evReach?.ms ?? Infinity,
  };
  const rows = runs.map((r) => {
    const hit = reach(r.curve, target);
    return [
      r.label,
      r.steps,
      secs(r.ms),
      fixed(r.ms / r.steps, 3),
      fixed(r.curve[0].loss),
      fixed(r.curve[r.curve.length - 1].loss),
      hit ? hit.step : 'never',
      hit ? secs(hit.ms) : '—',
    ];
  });
  const speedup = bpReach && evReach && bpReach.ms > 0 ? evReach.ms / bpReach.ms : NaN;
  const report = `## What is measured

One model, trained twice from the same initial weights on the same stream of batches for the
same number of steps (${steps} each; the timings count training only, not the evaluations): by BPTT with Adam, and
by evolution strategies (antithetic Gaussian pairs, centred-rank fitness shaping, Adam;
\`EvolutionStrategies\`, Salimans et al. 2017), which needs 2N = ${2 * es.population} forward passes and no
backward pass per step. The loss is the MSE of next-value forecasts over every step of a fixed
evaluation batch of noisy sines. **Target**: the best evaluation loss ES reached (${fixed(target)});
the table gives when each method first reached it.

BPTT reached the target ${Number.isFinite(speedup) ? `**${speedup.toFixed(1)}× sooner** in wall time` : bpReach ? 'at once' : 'never'} ${bpReach && evReach ? `(${bpReach.step} steps against ${evReach.step})` : ''}.

## Settings

${settings({
  task: `noisy sine forecasting, T = ${T}, MSE at every step (predicting the current value again scores ${fixed(persistence)})`,
  network: `LSTM, H = ${H}, ${bp.params} parameters, PyTorch's default init (the same weights for both)`,
  batch: B,
  BPTT: `Adam, lr ${bpttLr}, no clipping`,
  ES: `${es.population} antithetic pairs, σ ${es.sigma}, Adam lr ${es.lr}, centred ranks`,
  steps: `${steps} per method`,
  'evaluation batch': `${evalBatch.B} sequences`,
  seed: ctx.seed,
})}

## Results

${table(['method', 'steps', 'training s', 'ms per step', 'loss at start', 'loss at the end', 'steps to target', 's to target'], rows)}
`;
  const series = (key: 'ms' | 'step') =>
    runs.map((r, i) => ({
      label: r.label,
      color: PALETTE[i],
      points: r.curve.filter((p) => p[key] > 0).map((p) => [key === 'ms' ? p.ms / 1000 : p.step, p.loss] as const),
    }));
  return {
    report,
    numbers,
    figure: {
      title: `BPTT against evolution strategies: LSTM H = ${H}, noisy sine T = ${T}`,
      panels: [
        {
          title: 'against training time',
          xLabel: 'seconds (log scale)',
          yLabel: 'evaluation MSE (log scale)',
          logX: true,
          logY: true,
          series: series('ms'),
          hLines: [{ y: target, label: 'target: best ES loss' }],
        },
        {
          title: 'against steps',
          xLabel: 'steps (log scale)',
          yLabel: 'evaluation MSE (log scale)',
          logX: true,
          logY: true,
          series: series('step'),
          hLines: [{ y: target, label: 'target: best ES loss' }],
        },
      ],
    },
  };
}

export const esVsBptt: Experiment = {
  name: 'es-vs-bptt',
  summary: 'loss against time and steps: BPTT and evolution strategies',
  steps: 'steps per method (default 3000; quick 150)',
  run,
};
