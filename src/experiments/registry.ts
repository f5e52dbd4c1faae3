// The experiments by name, and running one: its numbers, its report and its figure written.
import type { Core } from '../runtime/core.js';
import { adding } from './adding.js';
import { bpttVsRtrlVsEs } from './bptt-vs-rtrl-vs-es.js';
import { loadCharting } from './chart.js';
import { type Experiment, type ExperimentContext, experimentCore, machine, writeOutputs } from './common.js';
import { exploding } from './exploding.js';
import { truncation } from './truncation.js';
import { vanishing } from './vanishing.js';

export type { Experiment, ExperimentContext } from './common.js';

export const EXPERIMENTS: Readonly<Record<string, Experiment>> = Object.freeze({
  vanishing,
  exploding,
  truncation,
  adding,
  'bptt-vs-rtrl-vs-es': bpttVsRtrlVsEs,
});

export interface ExperimentRun {
  numbers: Record<string, number>;
  report: string;
  figure: string;
  /** The figure's Vega-Lite spec. */
  spec: string;
  ms: number;
}

/**
 * Runs the experiment `name` and writes its report and figure into ctx.out. The charting
 * packages are loaded first: a missing one stops it before any training
 * (ChartingUnavailableError).
 */
export async function runExperiment(name: string, ctx: ExperimentContext, core?: Core): Promise<ExperimentRun> {
  const e = Object.hasOwn(EXPERIMENTS, name) ? EXPERIMENTS[name] : undefined;
  if (!e) throw new Error(`no experiment named ${JSON.stringify(name)}`);
  const charting = await loadCharting();
  const c = core ?? (await experimentCore());
  const m = machine(c);
  const t0 = performance.now();
  const r = await e.run(ctx, c);
  const ms = performance.now() - t0;
  const files = await writeOutputs(ctx, e.name, m, r, ms, charting);
  return { numbers: r.numbers, ...files, ms };
}
