// Claim: BPTT is the cheap way to the exact gradient. The same model (same initial weights),
// task, batches and number of steps for three trainers with Adam: BPTT (one forward and one
// backward pass per step), real-time recurrent learning (the same gradient computed forward in
// time, at a cost that grows like H⁴ per step) and Salimans et al.'s evolution strategies (2N
// forward passes, no gradient). The loss of a fixed evaluation batch is plotted against training
// time and steps; "time to target" is how long each took to reach the best loss ES reached. A
// second part times one gradient of each method as H grows.
import { createModel } from '../create.js';
import * as sine from '../data/tasks/sine.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import type { Core } from '../runtime/core.js';
import { EvolutionStrategies } from '../train/es.js';
import { rtrlGradients } from '../train/rtrl.js';
import { Trainer } from '../train/trainer.js';
import { type Experiment, type ExperimentContext, type ExperimentResult, fixed, secs, settings, table } from './common.js';
import { PALETTE } from './figure.js';

interface Point {
  step: number;
  ms: number;
  loss: number;
}

type Method = 'bptt' | 'rtrl' | 'es';

/** Steps over which the training losses of RTRL and BPTT are compared one by one. */
const SAME_STEPS = 10;

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

/** Largest |a − b| / |b| over the first n entries. */
function maxRelDiff(a: number[], b: number[], n: number): number {
  let m = 0;
  for (let i = 0; i < Math.min(n, a.length, b.length); i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return m;
}

/**
 * Adam in float64 with PyTorch's defaults (β 0.9, 0.999, ε 1e-8), the update the Trainer makes.
 * The Trainer's optimizer lives in the model's memory and takes no gradients from outside, so
 * the RTRL run applies its gradients here and writes the weights back through loadStateDict.
 */
class HostAdam {
  private readonly m: Record<string, Float64Array> = {};
  private readonly v: Record<string, Float64Array> = {};
  private t = 0;

  constructor(
    private readonly model: Model,
    private readonly lr: number,
  ) {
    for (const name of model.parameterNames()) {
      const n = model.parameterShape(name).reduce((a, b) => a * b, 1);
      this.m[name] = new Float64Array(n);
      this.v[name] = new Float64Array(n);
    }
  }

  step(grads: Record<string, Float64Array>): void {
    this.t++;
    const stepSize = this.lr / (1 - 0.9 ** this.t),
      bc2Sqrt = Math.sqrt(1 - 0.999 ** this.t);
    const next: Record<string, Float64Array> = {};
    for (const name of this.model.parameterNames()) {
      const theta = Float64Array.from(this.model.getParameter(name));
      const g = grads[name],
        m = this.m[name],
        v = this.v[name];
      for (let p = 0; p < theta.length; p++) {
        m[p] = 0.9 * m[p] + 0.1 * g[p];
        v[p] = 0.999 * v[p] + 0.001 * g[p] * g[p];
        theta[p] -= (stepSize * m[p]) / (Math.sqrt(v[p]) / bc2Sqrt + 1e-8);
      }
      next[name] = theta;
    }
    this.model.loadStateDict(next);
  }
}

/**
 * Median ms of `fn` over calls until `budget` ms have been spent, and at least two: RTRL at the
 * largest H takes seconds a call, and its trend over H is all that is wanted.
 */
function medianMs(fn: () => void, budget: number): number {
  const t: number[] = [];
  let total = 0;
  // a warm-up call: first-call compilation and arena growth are not the steady cost, except
  // against a call that takes longer than the budget, which is then counted
  const t0 = performance.now();
  fn();
  const first = performance.now() - t0;
  if (first >= budget) {
    t.push(first);
    total = first;
  }
  while (t.length < 2 || total < budget) {
    const t0 = performance.now();
    fn();
    const d = performance.now() - t0;
    t.push(d);
    total += d;
  }
  t.sort((a, b) => a - b);
  const h = t.length >> 1;
  return t.length % 2 ? t[h] : (t[h - 1] + t[h]) / 2;
}

const LABEL: Record<Method, string> = { bptt: 'BPTT (Adam)', rtrl: 'RTRL (Adam)', es: 'ES (Adam)' };

async function run(ctx: ExperimentContext, core: Core): Promise<ExperimentResult> {
  const q = ctx.quick;
  // RTRL's step costs G·H²·P ≈ G²·H⁴ per sequence step (about 0.1–0.4 s a batch at H 8 on a
  // loaded 2-core VM): the model and batches are kept small so that the full run takes a few
  // minutes, and H grows only in the timing part
  const T = 16,
    H = q ? 4 : 8,
    B = 8,
    steps = ctx.steps ?? (q ? 100 : 1000);
  const lr = 1e-2,
    es = { population: q ? 16 : 32, sigma: 0.02, lr: 1e-2 };
  const costSizes = q ? [4, 8] : [4, 8, 16, 32],
    costBudget = q ? 30 : 1000;
  const evalBatch = sine.sineBatch({ T, B: q ? 128 : 512 }, ctx.seed + 2);
  const modelOf = (hidden: number, backend: 'wasm' | 'js' = 'wasm'): Promise<Model> =>
    createModel({
      cell: 'lstm',
      inputSize: sine.inputSize,
      hiddenSize: hidden,
      outputSize: sine.outputSize,
      seed: ctx.seed,
      ...(backend === 'js' ? { backend, dtype: 'float64' as const } : { core }),
    });

  const runs: { method: Method; label: string; curve: Point[]; losses: number[]; steps: number; ms: number; params: number }[] = [];
  for (const method of ['bptt', 'rtrl', 'es'] as const) {
    const model = await modelOf(H);
    try {
      const trainer = method === 'bptt' ? new Trainer(model, { loss: sine.lossSpec, optimizer: { name: 'adam', lr } }) : null;
      const adam = method === 'rtrl' ? new HostAdam(model, lr) : null;
      const strategies = method === 'es' ? new EvolutionStrategies(model, { ...es, loss: sine.lossSpec, seed: ctx.seed + 4 }) : null;
      const data = new Rng(ctx.seed + 3);
      const curve: Point[] = [{ step: 0, ms: 0, loss: evalLoss(model, evalBatch) }];
      const losses: number[] = [];
      // evaluations at roughly geometric step counts keep their cost small against the training
      let ms = 0,
        step = 0,
        nextEval = 1;
      while (step < steps) {
        const batch = sine.sineBatch({ T, B }, data);
        const t0 = performance.now();
        let loss: number;
        if (trainer) loss = trainer.step(batch).loss;
        else if (adam) {
          const r = rtrlGradients(model, batch, sine.lossSpec);
          adam.step(r.grads);
          loss = r.loss;
        } else loss = strategies!.step(batch).loss;
        ms += performance.now() - t0;
        if (losses.length < SAME_STEPS) losses.push(loss);
        step++;
        if (step >= nextEval) {
          curve.push({ step, ms, loss: evalLoss(model, evalBatch) });
          nextEval = Math.max(step + 1, Math.ceil(step * 1.1));
        }
      }
      if (curve[curve.length - 1].step !== step) curve.push({ step, ms, loss: evalLoss(model, evalBatch) });
      trainer?.dispose();
      const label = method === 'es' ? `ES (N = ${es.population} pairs, Adam)` : LABEL[method];
      runs.push({ method, label, curve, losses, steps: step, ms, params: model.numParameters });
      ctx.log(
        `  ${label}: ${step} steps in ${secs(ms)} s, evaluation loss ${fixed(curve[0].loss)} → ${fixed(curve[curve.length - 1].loss)}`,
      );
    } finally {
      model.dispose();
    }
  }
  const [bp, rt, ev] = runs;
  const target = Math.min(...ev.curve.map((p) => p.loss));
  const hits = runs.map((r) => reach(r.curve, target));
  const persistence = sine.persistenceMSE(evalBatch);

  // the cost of one gradient (loss and every parameter's gradient of one training batch, no update)
  const costBatch = sine.sineBatch({ T, B }, ctx.seed + 5);
  const cost: { H: number; P: number; bpttWasm: number; bpttJs: number; rtrl: number; es: number }[] = [];
  for (const h of costSizes) {
    const wasm = await modelOf(h),
      js = await modelOf(h, 'js');
    try {
      const strategies = new EvolutionStrategies(wasm, { ...es, loss: sine.lossSpec, seed: ctx.seed + 6 });
      const row = {
        H: h,
        P: wasm.numParameters,
        bpttWasm: medianMs(() => wasm.lossAndGradients(costBatch, sine.lossSpec), costBudget),
        bpttJs: medianMs(() => js.lossAndGradients(costBatch, sine.lossSpec), costBudget),
        rtrl: medianMs(() => rtrlGradients(js, costBatch, sine.lossSpec), costBudget),
        es: medianMs(() => strategies.estimate(costBatch), costBudget),
      };
      cost.push(row);
      ctx.log(
        `  H ${h}: BPTT wasm ${fixed(row.bpttWasm, 3)} ms, BPTT js64 ${fixed(row.bpttJs, 3)} ms, RTRL ${fixed(row.rtrl, 3)} ms, ES ${fixed(row.es, 3)} ms`,
      );
    } finally {
      wasm.dispose();
      js.dispose();
    }
  }

  const numbers: Record<string, number> = {
    initial: bp.curve[0].loss,
    target,
    rtrl_bptt_rel_diff: maxRelDiff(rt.losses, bp.losses, SAME_STEPS),
    es_bptt_rel_diff: maxRelDiff(ev.losses, bp.losses, SAME_STEPS),
    ratio_rtrl_smallest: cost[0].rtrl / cost[0].bpttWasm,
    ratio_rtrl_largest: cost[cost.length - 1].rtrl / cost[cost.length - 1].bpttWasm,
  };
  runs.forEach((r, i) => {
    numbers[`${r.method}_final`] = r.curve[r.curve.length - 1].loss;
    numbers[`${r.method}_steps`] = r.steps;
    numbers[`${r.method}_ms_to_target`] = hits[i]?.ms ?? Infinity;
    numbers[`${r.method}_steps_to_target`] = hits[i]?.step ?? Infinity;
  });
  for (const c of cost) {
    numbers[`cost_bptt_wasm_H${c.H}`] = c.bpttWasm;
    numbers[`cost_bptt_js64_H${c.H}`] = c.bpttJs;
    numbers[`cost_rtrl_H${c.H}`] = c.rtrl;
    numbers[`cost_es_H${c.H}`] = c.es;
  }

  const rows = runs.map((r, i) => {
    const hit = hits[i];
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
  const costRows = cost.map((c) => [
    c.H,
    c.P,
    fixed(c.bpttWasm, 3),
    fixed(c.bpttJs, 3),
    fixed(c.rtrl, 3),
    fixed(c.es, 3),
    fixed(c.rtrl / c.bpttWasm, 1),
    fixed(c.rtrl / c.bpttJs, 1),
    fixed(c.es / c.bpttWasm, 1),
  ]);
  const lossRows = bp.losses.map((l, i) => [
    i + 1,
    l.toPrecision(7),
    rt.losses[i].toPrecision(7),
    sciRel(rt.losses[i], l),
    ev.losses[i].toPrecision(7),
  ]);
  const [bpHit, rtHit, evHit] = hits;
  const sooner = (a: Point | null, b: Point | null, other: string): string =>
    !a
      ? `never (${other}: ${b ? `after ${b.step} steps` : 'never'})`
      : b && a.ms > 0
        ? `**${(b.ms / a.ms).toFixed(1)}× sooner** than ${other} in wall time (${a.step} steps against ${b.step})`
        : `before ${other}`;
  const growth = (k: 'bpttWasm' | 'bpttJs' | 'rtrl' | 'es'): string => {
    const a = cost[0],
      b = cost[cost.length - 1];
    return (Math.log(b[k] / a[k]) / Math.log(b.H / a.H)).toFixed(1);
  };
  const report = `## What is measured

One model, trained three times from the same initial weights on the same stream of batches for
the same number of steps (${steps} each; the timings count training only, not the evaluations),
each time with Adam (lr ${lr}):

- **BPTT**: \`Trainer\` (one forward and one backward pass per step, float32 on the Wasm core, Adam in the core);
- **RTRL**: \`rtrlGradients\` (real-time recurrent learning, Williams & Zipser 1989: the same gradient
  computed forward in time with the sensitivities ∂h_t/∂θ, float64 TypeScript), applied by a small
  float64 Adam in the experiment with the Trainer's settings (β 0.9, 0.999, ε 1e-8): the Trainer's
  optimizer lives in the model's memory and has no public way to take gradients from outside, so
  the weights are read with \`getParameter\` and written back with \`loadStateDict\` each step;
- **ES**: \`EvolutionStrategies\` (Salimans et al. 2017: antithetic Gaussian pairs, centred ranks,
  Adam), 2N = ${2 * es.population} forward passes and no backward pass per step.

The loss is the MSE of next-value forecasts over every step of a fixed evaluation batch of noisy
sines. **Target**: the best evaluation loss ES reached (${fixed(target)}); the table gives when each
method first reached it.

BPTT reached the target ${sooner(bpHit, evHit, 'ES')}, and ${sooner(bpHit, rtHit, 'RTRL')}.

**RTRL equals BPTT.** Both compute the gradient of the same loss, so with the same update their
training losses agree step by step: over the first ${SAME_STEPS} steps the largest relative difference
is ${numbers.rtrl_bptt_rel_diff.toExponential(1)} (float32 BPTT and Adam against float64 RTRL and Adam), against
${numbers.es_bptt_rel_diff.toExponential(1)} for ES.

**Cost per step against H.** One gradient (the loss and every parameter's gradient of one training
batch, T = ${T}, B = ${B}, no update; the median of repeated calls) of an LSTM with H from
${costSizes[0]} to ${costSizes[costSizes.length - 1]}: BPTT on the Wasm core (float32) and on the js backend (float64, RTRL's
arithmetic type), RTRL, and one ES estimate (2N = ${2 * es.population} forward passes). Between the smallest and
the largest H the time grew like H^${growth('rtrl')} for RTRL, H^${growth('bpttJs')} for BPTT js64,
H^${growth('bpttWasm')} for BPTT wasm and H^${growth('es')} for ES (small H are dominated by fixed costs;
RTRL's asymptote is H⁴, BPTT's H²).

## Settings

${settings({
  task: `noisy sine forecasting, T = ${T}, MSE at every step (predicting the current value again scores ${fixed(persistence)})`,
  network: `LSTM, H = ${H}, ${bp.params} parameters, PyTorch's default init (the same weights for all three)`,
  batch: B,
  BPTT: `Trainer, Adam lr ${lr}, no clipping`,
  RTRL: `rtrlGradients, float64 Adam lr ${lr} (PyTorch's update), no clipping`,
  ES: `${es.population} antithetic pairs, σ ${es.sigma}, Adam lr ${es.lr}, centred ranks`,
  steps: `${steps} per method`,
  'evaluation batch': `${evalBatch.B} sequences`,
  'cost per step': `H ∈ {${costSizes.join(', ')}}, T = ${T}, B = ${B}, median over ≈ ${costBudget} ms per method and H (at least two calls, after one warm-up call that counts only when it alone took longer)`,
  seed: ctx.seed,
})}

## Results

${table(['method', 'steps', 'training s', 'ms per step', 'loss at start', 'loss at the end', 'steps to target', 's to target'], rows)}

Training loss of each step's batch before its update, the first ${SAME_STEPS} steps:

${table(['step', 'BPTT', 'RTRL', 'RTRL vs BPTT', 'ES'], lossRows)}

Milliseconds per gradient:

${table(['H', 'parameters', 'BPTT wasm', 'BPTT js64', 'RTRL', 'ES', 'RTRL / BPTT wasm', 'RTRL / BPTT js64', 'ES / BPTT wasm'], costRows)}
`;
  const series = (key: 'ms' | 'step') =>
    runs.map((r, i) => ({
      label: r.label,
      color: PALETTE[i],
      // RTRL's losses are BPTT's: dashed, it lets the BPTT line beneath it show
      dashed: r.method === 'rtrl',
      points: r.curve.filter((p) => p[key] > 0).map((p) => [key === 'ms' ? p.ms / 1000 : p.step, p.loss] as const),
    }));
  const costSeries = (
    [
      ['BPTT wasm', 'bpttWasm', 0],
      ['BPTT js64', 'bpttJs', 0],
      ['RTRL', 'rtrl', 1],
      [`ES (N = ${es.population})`, 'es', 2],
    ] as const
  ).map(([label, k, color], i) => ({ label, color: PALETTE[color], dashed: i === 1, points: cost.map((c) => [c.H, c[k]] as const) }));
  return {
    report,
    numbers,
    figure: {
      title: `BPTT, RTRL and evolution strategies: LSTM H = ${H}, noisy sine T = ${T}`,
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
        {
          title: `one gradient against H (T = ${T}, B = ${B})`,
          xLabel: 'hidden size H (log scale)',
          yLabel: 'ms (log scale)',
          logX: true,
          logY: true,
          series: costSeries,
        },
      ],
    },
  };
}

/** |a − b| / |b| in scientific notation. */
function sciRel(a: number, b: number): string {
  return (Math.abs(a - b) / Math.abs(b)).toExponential(1);
}

export const bpttVsRtrlVsEs: Experiment = {
  name: 'bptt-vs-rtrl-vs-es',
  summary: 'loss against time and steps, and cost per step against H: BPTT, RTRL and evolution strategies',
  steps: 'steps per method (default 1000; quick 100)',
  run,
};
