// Streams a generated CSV of grouped numeric rows, far larger than the pieces it is read in,
// through openSequenceFile (one pass that checks every row and indexes the sequences), reads one
// epoch of fit's batches from it (shuffled, length-bucketed: random access to the file), and runs
// fit on it for a few hundred steps; reports throughput and the process's peak memory, to show
// that memory holds the index and a batch, not the file. Not part of the test suite (it writes
// SIZE_MB of CSV to the temporary directory).
//
//   npx tsc -p tsconfig.build.json && node scripts/stream-large-sequences.mjs [SIZE_MB=300] [B=64] [FIT_STEPS=200]
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSequenceFile, planBatches } from '../dist/node/data-entry.js';
import { Trainer, createModel, fit } from '../dist/node/index.js';

const sizeMB = Number(process.argv[2] ?? 300),
  B = Number(process.argv[3] ?? 64),
  fitSteps = Number(process.argv[4] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'unrolled-big-csv-'));
const path = join(dir, 'big.csv');
let peak = 0,
  overall = 0;
const sample = () => {
  const rss = process.memoryUsage().rss;
  peak = Math.max(peak, rss);
  overall = Math.max(overall, rss);
};
const timer = setInterval(sample, 20);
const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);

try {
  // sequences of 5 to 60 rows: id, three features, one target (the next value of a noisy sine)
  let seed = 1;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const out = createWriteStream(path);
  out.write('id,a,b,c,y\n');
  let written = 0,
    sequences = 0,
    piece = '';
  while (written < sizeMB * 2 ** 20) {
    const len = 5 + Math.floor(rand() * 56),
      phase = rand() * 6.28;
    for (let t = 0; t < len; t++) {
      const v = Math.sin(phase + 0.3 * t);
      piece += `s${sequences},${v.toFixed(5)},${(rand() - 0.5).toFixed(4)},${(t / 60).toFixed(4)},${Math.sin(phase + 0.3 * (t + 1)).toFixed(5)}\n`;
    }
    sequences++;
    if (piece.length > 1 << 20) {
      written += Buffer.byteLength(piece);
      if (!out.write(piece)) await once(out, 'drain');
      piece = '';
    }
  }
  written += Buffer.byteLength(piece);
  out.end(piece);
  await once(out, 'finish');
  sample();
  const base = process.memoryUsage().rss;
  console.log(`wrote ${mib(written)} MiB, ${sequences} sequences; rss before opening ${mib(base)} MiB`);
  peak = 0;
  overall = 0;

  let t0 = performance.now();
  const file = await openSequenceFile(path, { task: 'regression', groupBy: 'id', targets: ['y'] });
  const indexS = (performance.now() - t0) / 1000;
  sample();
  console.log(
    `index pass: ${file.size} sequences checked and indexed in ${indexS.toFixed(1)} s (${(written / 2 ** 20 / indexS).toFixed(1)} MiB/s); peak rss ${mib(peak)} MiB`,
  );

  peak = 0;
  t0 = performance.now();
  const batches = planBatches(file.lengths, B, { seed: 1 });
  let steps = 0;
  for (const idx of batches) steps += (await file.batch(idx)).realSteps;
  const epochS = (performance.now() - t0) / 1000;
  sample();
  console.log(
    `one epoch of fit's batches read from the file: ${batches.length} batches of ${B}, ${steps} rows in ${epochS.toFixed(1)} s (${(written / 2 ** 20 / epochS).toFixed(1)} MiB/s); peak rss ${mib(peak)} MiB`,
  );

  peak = 0;
  const model = await createModel({ cell: 'lstm', inputSize: 3, hiddenSize: 32, outputSize: 1, input: 'dense', seed: 1 });
  const trainer = new Trainer(model, { loss: file.lossSpec(), optimizer: { name: 'adam', lr: 0.01 } });
  const ac = new AbortController();
  const losses = [];
  t0 = performance.now();
  await fit(trainer, file, {
    epochs: 1,
    batchSize: B,
    signal: ac.signal,
    onBatchEnd: (e) => {
      losses.push(e.loss);
      if (e.step >= fitSteps) ac.abort();
    },
  });
  const fitS = (performance.now() - t0) / 1000;
  sample();
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  console.log(
    `fit: ${losses.length} steps in ${fitS.toFixed(1)} s; mean loss of the first 20 ${mean(losses.slice(0, 20)).toFixed(4)}, of the last 20 ${mean(losses.slice(-20)).toFixed(4)}; peak rss ${mib(peak)} MiB`,
  );
  trainer.dispose();
  model.dispose();
  await file.close();
  console.log(`file ${mib(written)} MiB; peak rss from opening it to the end: ${mib(overall)} MiB`);
} finally {
  clearInterval(timer);
  rmSync(dir, { recursive: true, force: true });
}
