// What every experiment shares: its settings from the command line, the machine it ran on, the
// Markdown report and the files it writes.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { type CreateModelOptions, createModel } from '../create.js';
import * as adding from '../data/tasks/adding.js';
import { type AddingBatch, addingBatch, constantMSE } from '../data/tasks/adding.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import type { Core } from '../runtime/core.js';
import { loadCore } from '../runtime/load.js';
import type { Charting } from './chart.js';
import { specJson, vegaLiteSpec } from './chart.js';
import type { Figure } from './figure.js';

export interface ExperimentContext {
  /** The short version: seconds, for the test suite and a first look. */
  quick: boolean;
  seed: number;
  /** Directory of report.md, figure.svg and figure.vl.json. */
  out: string;
  /** The step budget per run, when the experiment has one and the user gave it. */
  steps?: number;
  /** The command line as the user would retype it (for the report). */
  command: string;
  /** Progress lines (stdout of the CLI). */
  log(line: string): void;
}

export interface ExperimentResult {
  /** Markdown of the report (without the common header). */
  report: string;
  figure: Figure;
  /** The numbers the test suite checks, by name. */
  numbers: Record<string, number>;
}

export interface Experiment {
  name: string;
  /** One line for the help. */
  summary: string;
  /** Whether --steps means something to it (and what). */
  steps?: string;
  run(ctx: ExperimentContext, core: Core): Promise<ExperimentResult>;
}

/** The core every experiment runs on: one thread, the bit-reproducible SIMD build, so that a seed fixes every number but the timings. */
export async function experimentCore(): Promise<Core> {
  return loadCore({ reproducible: true });
}

const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** What the report says about the machine; taken before the experiment runs. */
export function machine(core: Core): Record<string, string> {
  const cpus = os.cpus();
  return {
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus[0]?.model?.trim() ?? 'unknown'} (${cpus.length} logical cores)`,
    node: process.version,
    core: `wasm-${core.variant}, ${core.threads} thread${core.threads === 1 ? '' : 's'}`,
    // other work on the machine slows the timings (never the other numbers)
    load: `load average ${loadAverage()} (1, 5, 15 min) at the start`,
  };
}

/** A Markdown table; numbers are written by the caller (so each column chooses its precision). */
export function table(head: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number): string => String(v).replace(/\|/g, '\\|');
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** A settings list: `- key: value` lines. */
export function settings(s: Record<string, string | number | boolean>): string {
  return Object.entries(s)
    .map(([k, v]) => `- ${k}: ${v}`)
    .join('\n');
}

export const sci = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toExponential(digits) : String(v));
export const fixed = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
export const secs = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

/**
 * Writes report.md, figure.svg and figure.vl.json (the figure's Vega-Lite spec) into ctx.out,
 * each through a temporary file, so that a stopped run leaves the old files whole.
 */
export async function writeOutputs(
  ctx: Pick<ExperimentContext, 'out' | 'quick' | 'command'>,
  name: string,
  m: Record<string, string>,
  r: Pick<ExperimentResult, 'report' | 'figure'>,
  ms: number,
  charting: Charting,
): Promise<{ report: string; figure: string; spec: string }> {
  await mkdir(ctx.out, { recursive: true });
  const md = [
    `# Experiment: ${name}${ctx.quick ? ' (quick version)' : ''}`,
    '',
    '```sh',
    ctx.command,
    '```',
    '',
    '![figure](figure.svg)',
    '',
    'Drawn by Vega-Lite from [figure.vl.json](figure.vl.json), its spec with the data.',
    '',
    '## Machine',
    '',
    settings(m),
    `- wall time of the whole experiment: ${secs(ms)} s`,
    '',
    r.report.trim(),
    '',
  ].join('\n');
  const vl = vegaLiteSpec(r.figure);
  const svg = await charting.render(vl);
  const files = { report: join(ctx.out, 'report.md'), figure: join(ctx.out, 'figure.svg'), spec: join(ctx.out, 'figure.vl.json') };
  for (const [file, text] of [
    [files.report, md],
    [files.figure, svg],
    [files.spec, `${specJson(vl)}\n`],
  ]) {
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  }
  return files;
}

/** Milliseconds of `fn`, for timing training without the evaluations between its steps. */
export function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
}

/** Mean of the finite values (NaN when none). */
export function mean(v: ArrayLike<number>): number {
  let s = 0,
    n = 0;
  for (let i = 0; i < v.length; i++)
    if (Number.isFinite(v[i])) {
      s += v[i];
      n++;
    }
  return n ? s / n : NaN;
}

/** The four networks of the vanishing-gradient claims, as Le, Jaitly & Hinton (2015) compare them. */
export const CELLS = [
  { key: 'tanh', label: 'tanh RNN', config: { cell: 'rnn', nonlinearity: 'tanh' }, init: 'default' },
  { key: 'irnn', label: 'IRNN', config: { cell: 'rnn', nonlinearity: 'relu' }, init: 'irnn' },
  { key: 'lstm', label: 'LSTM', config: { cell: 'lstm' }, init: 'default' },
  { key: 'gru', label: 'GRU', config: { cell: 'gru' }, init: 'default' },
] as const;
export type CellKey = (typeof CELLS)[number]['key'];

/**
 * The adding-problem bench the gradient-flow experiments (exploding, vanishing) share: their
 * sizes (quick for a smoke run; steps from ctx.steps or the defaults given), one fixed test
 * set, fresh networks with the run's seed, and the report's lines that describe the task and
 * the test set.
 */
export function gradientFlowBench(ctx: ExperimentContext, core: Core, quickSteps: number, fullSteps: number) {
  const q = ctx.quick;
  const T = q ? 30 : 100,
    H = q ? 32 : 128,
    testSize = q ? 200 : 1000;
  const test = addingTestSet(T, testSize, ctx.seed + 2);
  return {
    T,
    H,
    B: q ? 16 : 32,
    steps: ctx.steps ?? (q ? quickSteps : fullSteps),
    model: (config: Pick<CreateModelOptions, 'cell' | 'nonlinearity'>, init: CreateModelOptions['init']): Promise<Model> =>
      addingModel(config, init, H, ctx.seed, core),
    testMSE: (model: Model): number => testMSE(model, test),
    task: `adding problem, T = ${T}, loss MSE at the last step`,
    testSet: `${testSize} sequences (always answering 1 scores ${fixed(testBaseline(test))})`,
  };
}

/** A network for the adding problem: the cell's config and init, H hidden units, the run's seed. */
export function addingModel(
  config: Pick<CreateModelOptions, 'cell' | 'nonlinearity'>,
  init: CreateModelOptions['init'],
  H: number,
  seed: number,
  core: Core,
): Promise<Model> {
  return createModel({
    ...config,
    inputSize: adding.inputSize,
    hiddenSize: H,
    outputSize: adding.outputSize,
    seed,
    init,
    core,
  });
}

/**
 * An adding-problem test set as batches of at most ~10,000 steps × sequences each: a model's
 * work arena grows to the largest batch it has seen, and one batch of 1000 sequences of 400 steps
 * would need more than the 1 GiB a Wasm block may hold.
 */
export function addingTestSet(T: number, size: number, seed: number): AddingBatch[] {
  const rng = new Rng(seed);
  const per = Math.max(1, Math.floor(10_000 / T));
  const out: AddingBatch[] = [];
  for (let done = 0; done < size; done += per) out.push(addingBatch({ T, B: Math.min(per, size - done) }, rng));
  return out;
}

/** MSE of always answering 1 on the test set (its baseline, ≈ 1/6). */
export function testBaseline(test: AddingBatch[]): number {
  let s = 0,
    n = 0;
  for (const b of test) {
    s += constantMSE(b.y) * b.B;
    n += b.B;
  }
  return s / n;
}

/** MSE of the model's answers at the last step over an adding-problem test set. */
export function testMSE(model: Model, test: AddingBatch[]): number {
  let s = 0,
    n = 0;
  for (const batch of test) {
    const { y } = model.predict({ x: batch.x, T: batch.T, B: batch.B }, { at: 'last' });
    for (let b = 0; b < batch.B; b++) s += (y[b] - batch.y[b]) ** 2;
    n += batch.B;
  }
  return s / n;
}
