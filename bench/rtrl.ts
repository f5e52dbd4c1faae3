// The cost of one gradient by real-time recurrent learning against BPTT, as H grows: the loss
// and every gradient of one batch (no update), timed with tinybench, for
//   rtrl        rtrlGradients, float64 TypeScript (src/train/rtrl.ts)
//   bptt js64   model.lossAndGradients on the js backend, float64 (the same arithmetic type)
//   bptt wasm   model.lossAndGradients on the default Wasm core (float32, SIMD)
// Writes the median ms and the ratios as a Markdown table (and the raw rows as JSON).
//
//   npx tsc -p tsconfig.bench.json && node dist-bench/rtrl.js
//   node dist-bench/rtrl.js --cell lstm --B 4              another cell, 4 sequences
//   node dist-bench/rtrl.js --H 4,8 --time 200 --out /tmp/rtrl-smoke.md   a quick smoke
// Defaults: cell rnn (tanh), H ∈ {4, 8, 16, 32, 64}, T 32, B 1, I 1, O 1, MSE at every step,
// tinybench time 1000 ms with at least 3 iterations per task, output bench/results/rtrl.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { Bench } from 'tinybench';
import { rtrlGradients } from '../dist/gradients-entry.js';
import { createModel, loadCore, type CellKind, type LossSpec, type Model } from '../dist/node/index.js';

const args = process.argv.slice(2);
function arg(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const cell = arg('cell', 'rnn') as CellKind;
const sizes = arg('H', '4,8,16,32,64').split(',').map(Number);
const T = Number(arg('T', '32'));
const B = Number(arg('B', '1'));
const time = Number(arg('time', '1000'));
const out = arg('out', 'bench/results/rtrl.md');
const I = 1,
  O = 1;
const spec: LossSpec = { loss: 'mse', at: 'every' };
if (!['rnn', 'lstm', 'gru'].includes(cell)) throw new Error(`--cell must be rnn, lstm or gru, not ${cell}`);
for (const v of [...sizes, T, B, time])
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`sizes, T, B and time must be positive integers (got ${v})`);

interface Row {
  H: number;
  P: number;
  rtrlMs: number;
  bpttJsMs: number;
  bpttWasmMs: number;
  samples: Record<string, number>;
}

function batch(seed: number) {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const x = Float64Array.from({ length: T * B * I }, () => rand() * 2 - 1);
  const y = Float64Array.from({ length: T * B * O }, () => rand() * 2 - 1);
  return { x, y, T, B };
}

async function main(): Promise<void> {
  const core = await loadCore();
  const rows: Row[] = [];
  for (const H of sizes) {
    const config = { cell, inputSize: I, hiddenSize: H, outputSize: O, seed: 1 };
    const js: Model = await createModel({ ...config, backend: 'js', dtype: 'float64' });
    const wasm: Model = await createModel({ ...config, backend: 'wasm', core });
    wasm.loadStateDict(js.stateDict());
    const data = batch(H);
    const bench = new Bench({ time, iterations: 3, warmupTime: Math.min(time, 200), warmupIterations: 1 });
    bench.add('rtrl', () => {
      rtrlGradients(js, data, spec);
    });
    bench.add('bptt js64', () => {
      js.lossAndGradients(data, spec);
    });
    bench.add('bptt wasm', () => {
      wasm.lossAndGradients(data, spec);
    });
    await bench.run();
    const ms: Record<string, number> = {},
      samples: Record<string, number> = {};
    for (const task of bench.tasks) {
      const r = task.result;
      if (r?.state !== 'completed') throw new Error(`${task.name} at H ${H}: ${r ? r.state : 'no result'}`);
      ms[task.name] = r.latency.p50 ?? r.latency.mean;
      samples[task.name] = r.latency.samplesCount ?? 0;
    }
    const row = { H, P: js.numParameters - (O * H + O), rtrlMs: ms.rtrl, bpttJsMs: ms['bptt js64'], bpttWasmMs: ms['bptt wasm'], samples };
    rows.push(row);
    console.log(
      `H ${H}: rtrl ${row.rtrlMs.toFixed(3)} ms, bptt js64 ${row.bpttJsMs.toFixed(3)} ms, bptt wasm ${row.bpttWasmMs.toFixed(3)} ms`,
    );
    js.dispose();
    wasm.dispose();
  }
  const lines = [
    '| H | recurrent params P | RTRL ms | BPTT js64 ms | BPTT wasm ms | RTRL / BPTT js64 | RTRL / BPTT wasm |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.H} | ${r.P} | ${r.rtrlMs.toFixed(3)} | ${r.bpttJsMs.toFixed(3)} | ${r.bpttWasmMs.toFixed(3)} | ${(r.rtrlMs / r.bpttJsMs).toFixed(1)} | ${(r.rtrlMs / r.bpttWasmMs).toFixed(1)} |`,
    );
  }
  const command = `node dist-bench/rtrl.js ${args.join(' ')}`.trim();
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    command,
    cell,
    T,
    B,
    I,
    O,
    loss: spec,
  };
  const table = lines.join('\n');
  console.log(table);
  const text = [
    `# RTRL against BPTT: the cost of one gradient (${cell}, T ${T}, B ${B}, I ${I}, O ${O}, MSE at every step)`,
    '',
    'Median milliseconds per call of the loss and every gradient of one batch (no update), timed with tinybench.',
    'RTRL is float64 TypeScript; "js64" is the js backend in float64; "wasm" the default Wasm core (float32, SIMD).',
    '',
    table,
    '',
    `${command} · Node ${meta.node} · ${meta.cpu} · ${meta.date}`,
    '',
  ].join('\n');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  writeFileSync(`${out.replace(/\.md$/, '')}.json`, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
