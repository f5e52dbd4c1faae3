// npm run bench — one training step (forward + loss + full BPTT + clip 5 + Adam) of each
// configuration, unrolled's Wasm backend and js reference backend side by side in one process,
// timed with tinybench. Prints median and min ms/step, the js/wasm ratio and GFLOP/s, and
// writes bench/results/step.{md,json}.
//
//   npm run bench                 B2 (the foundation's RNN benchmark), wasm and js
//   npm run bench -- --all        every configuration B1–B5
//   npm run bench -- B1 B3        chosen configurations
//   npm run bench -- --no-js      skip the (slow) js backend
//   npm run bench -- --threads 2  add a row for the threads build (a pool of 2 worker threads)
//   npm run bench -- --peers …    the full comparison with TF.js and PyTorch (bench/peers.ts)
import { mkdirSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { createModel, loadCore, Trainer } from '../dist/node/index.js';
import { CONFIGS, benchBatch, stepFlops, type BenchConfig, modelOptions } from './configs.js';

interface Row {
  config: string;
  runner: string;
  medianMs: number;
  minMs: number;
  samples: number;
  gflops: number;
}

const args = process.argv.slice(2);
const threads = Number(args[args.indexOf('--threads') + 1] ?? 1) || 1;
const chosen = args.includes('--all') ? CONFIGS.map((c) => c.name) : args.filter((a) => /^B\d$/.test(a));
const names = chosen.length ? chosen : ['B2'];
const withJs = !args.includes('--no-js');

async function runner(c: BenchConfig, backend: 'wasm' | 'js', nthreads = 1): Promise<() => void> {
  const model = await createModel({
    ...modelOptions(c),
    backend,
    core: backend === 'wasm' ? await loadCore({ threads: nthreads }) : undefined,
  });
  const trainer = new Trainer(model, { loss: { loss: c.loss, at: c.at }, optimizer: { name: 'adam', lr: 1e-3 }, clipNorm: 5 });
  const { x, y } = benchBatch(c);
  const batch = { x, y, T: c.T, B: c.B };
  return () => {
    trainer.step(batch);
  };
}

async function main(): Promise<void> {
  if (args.includes('--peers')) {
    // the full table lives in bench/peers.ts, which reads the same argv
    await import('./peers.js');
    return;
  }
  const rows: Row[] = [];
  for (const name of names) {
    const c = CONFIGS.find((k) => k.name === name);
    if (!c) throw new Error(`unknown configuration ${name}`);
    const flops = stepFlops(c);
    const bench = new Bench({ time: 2000, iterations: 5, warmupTime: 300, warmupIterations: 2 });
    bench.add(`${name} wasm`, await runner(c, 'wasm'));
    if (threads > 1) bench.add(`${name} wasm-${threads}t`, await runner(c, 'wasm', threads));
    // the js reference runs at well under a GFLOP/s: give it a few iterations only
    if (withJs) {
      const js = await runner(c, 'js');
      bench.add(`${name} js`, js);
    }
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r?.state !== 'completed') throw new Error(`${task.name}: ${r ? r.state : 'no result'}`);
      const medianMs = r.latency.p50 ?? r.latency.mean;
      const minMs = r.latency.min;
      rows.push({
        config: name,
        runner: task.name.split(' ')[1],
        medianMs,
        minMs,
        samples: r.latency.samplesCount ?? 0,
        gflops: flops / (medianMs * 1e6),
      });
    }
  }
  const lines = ['| config | runner | median ms/step | min ms/step | GFLOP/s | × wasm |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const wasm = rows.find((q) => q.config === r.config && q.runner === 'wasm')!;
    lines.push(
      `| ${r.config} | ${r.runner} | ${r.medianMs.toFixed(2)} | ${r.minMs.toFixed(2)} | ${r.gflops.toFixed(2)} | ${(r.medianMs / wasm.medianMs).toFixed(1)} |`,
    );
  }
  const table = lines.join('\n');
  console.log(table);
  mkdirSync('bench/results', { recursive: true });
  const meta = { date: new Date().toISOString(), node: process.version, command: `npm run bench -- ${args.join(' ')}`.trim() };
  writeFileSync('bench/results/step.md', `${table}\n\n${meta.command} · Node ${meta.node} · ${meta.date}\n`);
  writeFileSync('bench/results/step.json', `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
