// npm run bench:peers — unrolled against its peers, one training step (forward over the whole
// sequence + loss + full BPTT + clip 5 + Adam 1e-3, float32) of the benchmark configurations (bench/configs.ts), all in
// ONE process and ONE run: unrolled wasm, unrolled js, TF.js 4.22 (wasm and cpu backends, layers
// model + trainOnBatch: see bench/peers/tfjs.ts) and PyTorch (a /usr/bin/python3 child process:
// bench/peers/torch_bench.py through bench/peers/torch.ts). Prints median / min ms per step,
// GFLOP/s (stepFlops of bench/configs.ts ÷ median) and the time ratio to unrolled wasm; writes
// bench/results/peers.{md,json} (peers-quick.{md,json} with --quick).
//
// First comes the summary table: per configuration, unrolled on 1 thread and on 2 (the default
// core: FMA where the engine has relaxed SIMD), the 2-thread speedup, PyTorch on 1 and on 2
// threads (min / median of single steps), and unrolled's 1-thread GFLOP/s as a share of the
// f32x4 mul+add ceiling measured in the same process. Then every runner's row.
//
//   npm run bench:peers                        B1–B5 and adding, PyTorch on 1 and 2 threads
//   npm run bench:peers -- --configs B1,B3     chosen configurations
//   npm run bench:peers -- --torch-threads 1   PyTorch on 1 thread only (a list: 1,2)
//   npm run bench:peers -- --threads 1         no row for unrolled's threads build (default: 2 threads)
//   npm run bench:peers -- --no-js             skip unrolled's (slow) js reference backend
//   npm run bench:peers -- --no-tfjs           skip TF.js
//   npm run bench:peers -- --quick             tiny sizes (H ≤ 32, T ≤ 8, B ≤ 4), short timing: smoke test
//   also: --no-tfjs-cpu, --no-torch, --tfjs-clip (adds TF.js rows with a hand-written step that
//   clips by global norm 5), --time MS (time budget per runner and configuration, default 3000)
//
// Timing. unrolled wasm on 1 and on n threads: both trainers in this process, measured in
// alternating rounds (1 thread, n threads, 1 thread, …; 5 rounds each), each round a block of
// consecutive steps of at least budget ÷ 10 ms (≥ 2 steps); per-step time = block ÷ steps; the
// best round is reported as min and the median round as median. Everything else (PyTorch: the
// same loop in Python with time.perf_counter): up to `warmup` warm-up steps (fewer when they take
// longer than half the budget), then steps timed one by one with performance.now until at least
// `minIters` samples AND the time budget have passed (or `maxIters`). Slow runners (unrolled js,
// TF.js cpu: seconds per step on B1/B5) get 1 warm-up step and 3 samples.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createModel, loadCore, Trainer, type Core } from '../dist/node/index.js';
import { measureCeilings } from './ceiling.js';
import { CONFIGS, benchBatch, stepFlops, type BenchConfig, modelOptions } from './configs.js';
import { runTorch, torchUnavailable, type TorchRun } from './peers/torch.js';

interface Budget {
  warmup: number;
  minIters: number;
  maxIters: number;
  timeMs: number;
}
interface Row {
  config: string;
  runner: string;
  medianMs: number | null;
  minMs: number | null;
  samples: number;
  gflops: number | null;
  vsWasm: number | null;
  note?: string;
}

// ---------------------------------------------------------------- arguments
const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].split('=').slice(1).join('=') : args[i + 1];
}
const known = new Set([
  '--peers',
  '--configs',
  '--quick',
  '--torch-threads',
  '--threads',
  '--no-js',
  '--no-tfjs-cpu',
  '--no-tfjs',
  '--no-torch',
  '--tfjs-clip',
  '--time',
]);
for (const a of args) {
  if (a.startsWith('--') && !known.has(a.split('=')[0])) throw new Error(`unknown option ${a}`);
}
const quick = args.includes('--quick');
const names = (option('--configs') ?? CONFIGS.map((c) => c.name).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const torchThreadCounts = (option('--torch-threads') ?? '1,2').split(',').map(Number);
if (!torchThreadCounts.every((n) => Number.isInteger(n) && n >= 1)) throw new Error('--torch-threads takes positive integers (1 or 1,2)');
const withJs = !args.includes('--no-js');
// unrolled's threads build as a second row (1 = none): the pool uses worker_threads
const unrolledThreads = Number(option('--threads') ?? '2');
const withTfjs = !args.includes('--no-tfjs');
const withTfCpu = !args.includes('--no-tfjs-cpu');
const withTorch = !args.includes('--no-torch');
const tfClip = args.includes('--tfjs-clip');
const timeMs = Number(option('--time') ?? (quick ? '150' : '3000'));

/** The tiny sizes of --quick (torch_bench.py's quick() does the same for standalone runs). */
function quickConfig(c: BenchConfig): BenchConfig {
  return { ...c, hiddenSize: Math.min(c.hiddenSize, 32), T: Math.min(c.T, 8), B: Math.min(c.B, 4) };
}
const configs = names.map((n) => {
  const c = CONFIGS.find((k) => k.name === n);
  if (!c) throw new Error(`unknown configuration ${n} (have ${CONFIGS.map((k) => k.name).join(', ')})`);
  return quick ? quickConfig(c) : c;
});

const FAST: Budget = quick ? { warmup: 1, minIters: 2, maxIters: 50, timeMs } : { warmup: 3, minIters: 5, maxIters: 2000, timeMs };
const SLOW: Budget = quick ? FAST : { warmup: 1, minIters: 3, maxIters: 50, timeMs };

// ---------------------------------------------------------------- timing
async function measure(step: () => unknown, b: Budget): Promise<number[]> {
  let t0 = performance.now();
  for (let i = 0; i < b.warmup; i++) {
    await step();
    if (performance.now() - t0 > b.timeMs / 2) break;
  }
  const samples: number[] = [];
  t0 = performance.now();
  while (samples.length < b.maxIters && (samples.length < b.minIters || performance.now() - t0 < b.timeMs)) {
    const s = performance.now();
    await step();
    samples.push(performance.now() - s);
  }
  return samples;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function row(c: BenchConfig, runner: string, samples: number[], note?: string): Row {
  const medianMs = median(samples);
  return {
    config: c.name,
    runner,
    medianMs,
    minMs: Math.min(...samples),
    samples: samples.length,
    gflops: stepFlops(c) / (medianMs * 1e6),
    vsWasm: null,
    note,
  };
}

function failed(c: BenchConfig, runner: string, note: string): Row {
  return { config: c.name, runner, medianMs: null, minMs: null, samples: 0, gflops: null, vsWasm: null, note };
}

function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

// ---------------------------------------------------------------- runners
/** A Trainer.step closure for unrolled on `backend` (and `core`), with its disposal. */
async function unrolledStep(c: BenchConfig, backend: 'wasm' | 'js', core?: Core): Promise<{ step: () => void; dispose(): void }> {
  const model = await createModel({
    ...modelOptions(c),
    backend,
    core,
  });
  const trainer = new Trainer(model, { loss: { loss: c.loss, at: c.at }, optimizer: { name: 'adam', lr: 1e-3 }, clipNorm: 5 });
  const { x, y } = benchBatch(c);
  const batch = { x, y, T: c.T, B: c.B };
  return {
    step: () => {
      trainer.step(batch);
    },
    dispose: () => {
      trainer.dispose();
      model.dispose();
    },
  };
}

const ROUNDS = 5;

/**
 * unrolled wasm on 1 thread and on `threads` (when > 1), in alternating rounds: a block of
 * consecutive steps per runner and round, per-step time = block ÷ steps; min = best round,
 * median = median round.
 */
async function unrolledWasmRows(c: BenchConfig, threads: number): Promise<{ rows: Row[]; variants: string[] }> {
  progress(`${c.name} unrolled-wasm (1${threads > 1 ? ` and ${threads}` : ''} thread${threads > 1 ? 's' : ''}) ...`);
  const cores = [await loadCore({})];
  if (threads > 1) cores.push(await loadCore({ threads }));
  const runners = await Promise.all(cores.map((core) => unrolledStep(c, 'wasm', core)));
  try {
    const blockMs = Math.max(1, timeMs / (2 * ROUNDS));
    const perRound: number[][] = runners.map(() => []);
    const steps: number[] = runners.map(() => 0);
    for (const r of runners) for (let i = 0; i < FAST.warmup; i++) r.step();
    for (let round = 0; round < ROUNDS; round++) {
      runners.forEach((r, k) => {
        let n = 0;
        const t0 = performance.now();
        while (n < 2 || performance.now() - t0 < blockMs) {
          r.step();
          n++;
        }
        perRound[k].push((performance.now() - t0) / n);
        steps[k] += n;
      });
    }
    const rows = runners.map((_, k) => {
      const r = row(c, k === 0 ? 'unrolled-wasm' : `unrolled-wasm-${threads}t`, perRound[k]);
      r.minMs = Math.min(...perRound[k]);
      r.samples = steps[k];
      return r;
    });
    return { rows, variants: cores.map((core) => core.variant) };
  } finally {
    for (const r of runners) r.dispose();
    for (const core of cores) if (core.threads > 1) core.dispose();
  }
}

async function unrolledJsRow(c: BenchConfig): Promise<Row> {
  progress(`${c.name} unrolled-js ...`);
  const r = await unrolledStep(c, 'js');
  try {
    return row(c, 'unrolled-js', await measure(r.step, SLOW));
  } finally {
    r.dispose();
  }
}

type TfModule = typeof import('./peers/tfjs.js');

async function tfRow(tfm: TfModule, c: BenchConfig, backend: 'wasm' | 'cpu', clip: boolean): Promise<Row> {
  const runner = `tfjs-${backend}${clip ? '+clip' : ''}`;
  progress(`${c.name} ${runner} ...`);
  let r: Awaited<ReturnType<TfModule['tfRunner']>> | undefined;
  try {
    r = await tfm.tfRunner(c, backend, clip);
    // the first warm-up step outside the leak check: it creates the optimizer's slot variables
    await r.step();
    const before = r.numTensors();
    const b = backend === 'wasm' ? FAST : SLOW;
    const samples = await measure(r.step, { ...b, warmup: b.warmup - 1 });
    const leaked = r.numTensors() - before;
    return row(c, runner, samples, leaked ? `leaked ${leaked} tensors` : undefined);
  } catch (e) {
    return failed(c, runner, `failed: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    r?.dispose();
  }
}

// ---------------------------------------------------------------- machine
function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
    const flags = (/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '').split(/\s+/);
    const isa = ['avx2', 'fma', 'avx512f'].filter((f) => flags.includes(f)).join(' ');
    return `${model} (${cpus().length} logical cores${isa ? `, ${isa}` : ''})`;
  } catch {
    return `${cpus()[0]?.model ?? 'unknown'} (${cpus().length} logical cores)`;
  }
}

function command(): string {
  const rest = args.map((a) => (/^[\w.,=/:+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  return process.env.npm_lifecycle_event === 'bench:peers'
    ? `npm run bench:peers${rest ? ` -- ${rest}` : ''}`
    : `node dist-bench/peers.js${rest ? ` ${rest}` : ''}`;
}

const fmt = (v: number | null, d = 2): string => (v === null ? '—' : v.toFixed(d));

// ---------------------------------------------------------------- summary
/** The ceiling a 1-thread step is compared with. */
interface Ceiling {
  kind: 'fused' | 'mul+add';
  gflops: number;
}

/**
 * The issue's table: per configuration, unrolled 1 thread and n threads (best round), the
 * speedup, PyTorch min / median per thread count, and unrolled's 1-thread share of the ceiling.
 */
function summaryTable(rows: Row[], ceiling: Ceiling | null): string {
  const get = (config: string, runner: string) => rows.find((r) => r.config === config && r.runner === runner);
  const nt = unrolledThreads;
  const head = ['cfg', 'unrolled 1 thread', ...(nt > 1 ? [`unrolled ${nt} threads`, `${nt}t speedup`] : [])];
  for (const n of torchThreadCounts) head.push(`PyTorch ${n} thread${n > 1 ? 's' : ''} (min / median)`);
  head.push(`% of ${ceiling?.kind ?? 'the'} ceiling (1 thread)`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const c of configs) {
    const one = get(c.name, 'unrolled-wasm');
    const many = get(c.name, `unrolled-wasm-${nt}t`);
    const ms = (r: Row | undefined) => (r?.minMs == null ? '—' : `${r.minMs.toFixed(2)} ms`);
    const cells = [c.name, `${ms(one)}${one?.minMs ? ` (${(stepFlops(c) / (one.minMs * 1e6)).toFixed(1)} GFLOP/s)` : ''}`];
    if (nt > 1) cells.push(ms(many), one?.minMs && many?.minMs ? `${(one.minMs / many.minMs).toFixed(2)}×` : '—');
    for (const n of torchThreadCounts) {
      const t = get(c.name, `pytorch-${n}t`);
      cells.push(t?.minMs == null ? '—' : `${t.minMs.toFixed(2)} / ${fmt(t.medianMs)}`);
    }
    cells.push(ceiling && one?.minMs ? `${((100 * stepFlops(c)) / (one.minMs * 1e6) / ceiling.gflops).toFixed(0)} %` : '—');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const rows: Row[] = [];
  const notes: string[] = [];

  let tfm: TfModule | null = null;
  let tfInfo: Awaited<ReturnType<TfModule['tfInfo']>> | null = null;
  try {
    if (withTfjs) {
      tfm = await import('./peers/tfjs.js');
      tfInfo = await tfm.tfInfo();
    }
  } catch (e) {
    notes.push(
      `TF.js skipped: ${(e as Error).message.split('\n')[0]} (npm install -D @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0)`,
    );
    tfm = null;
  }

  const ceilings = measureCeilings(quick);
  let variants: string[] = [];
  for (const c of configs) {
    const wasm = await unrolledWasmRows(c, unrolledThreads);
    rows.push(...wasm.rows);
    variants = wasm.variants;
    if (withJs) rows.push(await unrolledJsRow(c));
    if (tfm) {
      rows.push(await tfRow(tfm, c, 'wasm', false));
      if (tfClip) rows.push(await tfRow(tfm, c, 'wasm', true));
      if (withTfCpu) {
        rows.push(await tfRow(tfm, c, 'cpu', false));
        if (tfClip) rows.push(await tfRow(tfm, c, 'cpu', true));
      }
    }
  }

  // PyTorch last, one child process per thread count, alone on the machine (nothing of ours runs meanwhile)
  const torchRuns: TorchRun[] = [];
  const torchNames = torchThreadCounts.map((n) => `pytorch-${n}t`);
  if (withTorch) {
    const why = torchUnavailable();
    for (const threads of torchThreadCounts) {
      const torchName = `pytorch-${threads}t`;
      if (why) {
        for (const c of configs) rows.push(failed(c, torchName, 'skipped: no torch'));
        continue;
      }
      progress(`${torchName}: ${configs.map((c) => c.name).join(', ')} ...`);
      try {
        const run = await runTorch(configs, threads, FAST);
        torchRuns.push(run);
        for (const c of configs) {
          const t = run.results.find((r) => r.config === c.name);
          if (!t) {
            rows.push(failed(c, torchName, 'no result'));
            continue;
          }
          rows.push({
            config: c.name,
            runner: torchName,
            medianMs: t.medianMs,
            minMs: t.minMs,
            samples: t.samples,
            gflops: stepFlops(c) / (t.medianMs * 1e6),
            vsWasm: null,
          });
        }
      } catch (e) {
        notes.push(`PyTorch on ${threads} thread(s) failed: ${(e as Error).message}`);
        for (const c of configs) rows.push(failed(c, torchName, 'failed'));
      }
    }
    if (why) notes.push(`PyTorch skipped: ${why}.`);
  }

  // order: per configuration, runners in a fixed order; ratio to unrolled wasm
  const order = [
    'unrolled-wasm',
    `unrolled-wasm-${unrolledThreads}t`,
    'unrolled-js',
    'tfjs-wasm',
    'tfjs-wasm+clip',
    'tfjs-cpu',
    'tfjs-cpu+clip',
    ...torchNames,
  ];
  rows.sort((a, b) => names.indexOf(a.config) - names.indexOf(b.config) || order.indexOf(a.runner) - order.indexOf(b.runner));
  for (const r of rows) {
    const wasm = rows.find((q) => q.config === r.config && q.runner === 'unrolled-wasm');
    if (r.medianMs !== null && wasm?.medianMs) r.vsWasm = r.medianMs / wasm.medianMs;
  }

  const lines = [
    '| config | runner | median ms/step | min ms/step | samples | GFLOP/s | time ÷ unrolled-wasm |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.config} | ${r.runner} | ${fmt(r.medianMs)} | ${fmt(r.minMs)} | ${r.samples || '—'} | ${fmt(r.gflops)} | ${fmt(r.vsWasm)}${r.note ? ` (${r.note})` : ''} |`,
    );
  }
  const table = lines.join('\n');
  // the ceiling of the arithmetic the 1-thread core runs: fused on relaxed, mul+add otherwise
  const fusedCore = variants[0] === 'relaxed';
  const ceilingGflops = fusedCore ? ceilings.fused : ceilings.mulAdd;
  const ceiling: Ceiling | null = ceilingGflops === null ? null : { kind: fusedCore ? 'fused' : 'mul+add', gflops: ceilingGflops };
  if (ceiling === null) notes.push('No ceiling: the bench builds are missing (npm run build:wasm).');
  const summary = summaryTable(rows, ceiling);

  const machine = { cpu: cpuModel(), node: process.version, v8: process.versions.v8, platform: `${process.platform}-${process.arch}` };
  const meta = {
    date: new Date().toISOString(),
    command: command(),
    quick,
    machine,
    timeBudgetMs: timeMs,
    budgets: { fast: FAST, slow: SLOW },
  };
  const foot: string[] = [];
  foot.push(
    'One step = forward over the whole sequence + loss + full BPTT + clip by global norm 5 + Adam (lr 1e-3), float32, from a zero state; ' +
      "the time ÷ unrolled-wasm column is the runner's median over unrolled-wasm's (> 1: slower than unrolled-wasm).",
  );
  foot.push(
    'GFLOP/s = stepFlops ÷ median, stepFlops = 3 × forward, forward = T·2·B·G·H·(I + H) + S·2·B·H·O (matmuls only; G = 4 LSTM, 3 GRU, 1 RNN; ' +
      'S = T with a head at every step, 1 at the last step; one-hot input counted as a dense I-wide product): ' +
      configs.map((c) => `${c.name} ${(stepFlops(c) / 1e9).toFixed(c.name === 'B4' || quick ? 4 : 3)}`).join(', ') +
      ' GFLOP.',
  );
  if (quick)
    foot.push(
      `QUICK run: sizes shrunk to H ≤ 32, T ≤ 8, B ≤ 4 (${configs.map((c) => `${c.name} H${c.hiddenSize} T${c.T} B${c.B}`).join('; ')}); a smoke test, not a measurement.`,
    );
  foot.push(
    `Timing, unrolled wasm: ${FAST.warmup} warm-up steps, then ${ROUNDS} rounds alternating 1 and ${unrolledThreads} thread(s) in this process, each a block of ≥ ${Math.max(1, timeMs / (2 * ROUNDS))} ms (≥ 2 steps); min = best round, median = median round. ` +
      `Everything else: ≤ ${FAST.warmup} warm-up step(s) (unrolled-js, TF.js cpu: ${SLOW.warmup}), then steps timed one by one (performance.now; PyTorch: time.perf_counter) ` +
      `until ≥ ${FAST.minIters} samples (unrolled-js, TF.js cpu: ${SLOW.minIters}) and ≥ ${timeMs} ms per runner and configuration; median and min over the samples.`,
  );
  if (tfInfo) {
    foot.push(
      `TF.js ${tfInfo.version}: layers model (lstm/gru/simpleRNN + dense), timed step = model.trainOnBatch, ` +
        'which does NOT clip gradients (TF.js has no clipnorm on its optimizers or in compile)' +
        (tfClip
          ? '; the "+clip" rows time a hand-written step instead: optimizer.computeGradients + global-norm clip at 5 + applyGradients'
          : '') +
        '. Batch-major [B, T, I] input; one-hot inputs (B1, B4) fed as one-hot float tensors built once outside the step; ' +
        "cross-entropy = tf.losses.softmaxCrossEntropy on logits with one-hot targets; recurrentActivation sigmoid; GRU is TF.js's reset-before variant (same FLOPs). " +
        `wasm backend: SIMD ${tfInfo.wasmSimd ? 'yes' : 'no'}, threads ${tfInfo.wasmThreads ? `yes (${tfInfo.wasmThreadCount})` : 'no (single-threaded: TF.js disables wasm threads under Node)'}, binary ${tfInfo.wasmBinary}; cpu backend: plain JS, single-threaded.`,
    );
  }
  for (const torchRun of torchRuns) {
    const b = torchRun.blas;
    foot.push(
      `PyTorch ${torchRun.torch} (Python ${torchRun.python}, /usr/bin/python3): ${torchRun.threads} intra-op thread(s), ${torchRun.interopThreads} inter-op; ` +
        `BLAS: build BLAS_INFO=${b.build.BLAS_INFO ?? '?'}, libblas.so.3 → ${b.libblas ?? '?'}` +
        `${b.mapped.length ? ` (mapped: ${b.mapped.map((p) => p.split('/').pop()).join(', ')})` : ''}; CPU capability ${b.cpuCapability ?? '?'}. ` +
        'nn.LSTM/GRU/RNN (time-major) + nn.Linear, one-hot via F.one_hot precomputed, F.cross_entropy / F.mse_loss, clip_grad_norm_(5), Adam(1e-3).',
    );
  }
  foot.push(
    `unrolled: Trainer.step (clipNorm 5, Adam 1e-3) on the default core: ${variants.join(' (1 thread) and ')}${variants.length > 1 ? ` (${unrolledThreads} threads)` : ''}; unrolled-js is the reference js backend.`,
  );
  if (ceiling !== null)
    foot.push(
      `% of ceiling: unrolled's 1-thread GFLOP/s (stepFlops ÷ best round) over the f32x4 ${ceiling.kind} ceiling of the 1-thread core's arithmetic, ${ceiling.gflops.toFixed(1)} GFLOP/s (12 independent chains; mul+add ${ceilings.mulAdd?.toFixed(1) ?? '—'}, fused ${ceilings.fused?.toFixed(1) ?? '—'}), measured in this process (bench/timing.ts: best of 15 blocks of ≥ 40 ms).`,
    );
  foot.push(
    `Machine: ${machine.cpu}; Node ${machine.node} (V8 ${machine.v8}), ${machine.platform}. Other processes may share the machine.`,
  );
  foot.push(...notes);
  foot.push(`Command: \`${meta.command}\` · ${meta.date}`);

  console.log(summary);
  console.log('');
  console.log(table);
  console.log('');
  for (const f of foot) console.log(`- ${f}`);

  mkdirSync('bench/results', { recursive: true });
  const base = quick ? 'bench/results/peers-quick' : 'bench/results/peers';
  writeFileSync(`${base}.md`, `${summary}\n\n${table}\n\n${foot.map((f) => `- ${f}`).join('\n')}\n`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ ...meta, ceilingGflops: ceiling, variants, tfjs: tfInfo, torch: torchRuns.map((t) => ({ ...t, results: undefined })), notes, rows }, null, 2)}\n`,
  );
  progress(`wrote ${base}.md and ${base}.json`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
