#!/usr/bin/env node
// Soak test: long training of a small model, watching for leaks (docs/limits.md).
//
//   node --expose-gc scripts/soak.mjs [--steps 100000] [--every 5000] [--cycles 1000] [--minutes 10]
//
// runs against dist/ (build first: npm run build). Phase 1 trains a small token LSTM with
// stateful TBPTT on the bundled corpus for --steps steps, and along the way samples text, takes
// gradients of batches of another shape and writes + restores a checkpoint; every --every steps it
// samples process.memoryUsage() (after global.gc() when run with --expose-gc) and the Wasm memory
// (model.kernels.memory.f.buffer.byteLength and WasmMemory.reserved). Phase 2 creates, trains one
// step and disposes --cycles models of varying sizes. It prints both tables and a verdict: "flat"
// when, after warm-up, Wasm memory and reserved floats do not change and the JS heap does not
// trend upward. Stops early (and says so, with the rate) when --minutes is reached. Exit code 0
// for flat, 1 otherwise.

const args = process.argv.slice(2);
const opt = { steps: 100_000, every: 5000, cycles: 1000, minutes: 10, hidden: 32 };
for (let i = 0; i < args.length; i++) {
  const key = args[i].replace(/^--/, '');
  if (!(key in opt) || i + 1 >= args.length || !Number.isFinite(Number(args[i + 1]))) {
    console.error('usage: node --expose-gc scripts/soak.mjs [--steps N] [--every N] [--cycles N] [--minutes N] [--hidden N]');
    process.exit(2);
  }
  opt[key] = Number(args[++i]);
}

const api = await import(new URL('../dist/node/index.js', import.meta.url).href);
const { createModelSync, loadCore, Trainer, checkpointToSafetensors, restoreCheckpoint } = api;
const { TokenStream, CharVocab } = await import(new URL('../dist/node/data-entry.js', import.meta.url).href);
const { CORPUS } = await import(new URL('../dist/tasks-entry.js', import.meta.url).href);

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : null;
const MiB = 2 ** 20;
const deadline = performance.now() + opt.minutes * 60_000;

function measure() {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage();
}

/** Least-squares slope of ys over xs. */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n,
    my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : 0;
}

const fmt = (bytes) => (bytes / MiB).toFixed(2).padStart(9);

// ------------------------------------------------------------------------------------------------
// phase 1: training

const core = await loadCore({ variant: 'simd' });
const vocab = CharVocab.fromText(CORPUS);
const ids = vocab.encode(CORPUS);
const V = vocab.size;
const config = { cell: 'lstm', input: 'tokens', inputSize: V, hiddenSize: opt.hidden, outputSize: V, seed: 1, core };
let model = createModelSync(config);
let trainer = new Trainer(model, { loss: 'cross-entropy', optimizer: { name: 'adam', lr: 3e-3 }, clipNorm: 1, tbptt: { k1: 16, k2: 24 } });
const stream = new TokenStream(ids, { T: 16, B: 8 });
const memory = model.kernels.memory;
const other = { x: ids.slice(0, 8 * 4), y: ids.slice(1, 8 * 4 + 1), T: 8, B: 4 };

console.log(
  `soak: LSTM tokens V=${V} H=${opt.hidden}, TBPTT(16, 24), B=8, adam + clipNorm; ${opt.steps} steps, sample every ${opt.every}; ` +
    `${gc ? 'heap after global.gc()' : 'WITHOUT --expose-gc: heap numbers include garbage'}; budget ${opt.minutes} min`,
);
const samples = [];
const header = `${'step'.padStart(8)} ${'s'.padStart(7)} ${'steps/s'.padStart(8)} ${'loss'.padStart(7)} ${'heapUsed MiB'.padStart(13)} ${'rss MiB'.padStart(9)} ${'arrayBuf MiB'.padStart(13)} ${'wasm MiB'.padStart(9)} ${'reserved'.padStart(9)}`;
console.log(header);
let lossSum = 0,
  lossN = 0,
  skipped = 0;
const t0 = performance.now();
let tLast = t0,
  stepLast = 0;

function sample(step) {
  const m = measure();
  const now = performance.now();
  const s = {
    step,
    seconds: (now - t0) / 1000,
    rate: (step - stepLast) / ((now - tLast) / 1000 || 1),
    loss: lossN ? lossSum / lossN : NaN,
    heap: m.heapUsed,
    rss: m.rss,
    arrayBuffers: m.arrayBuffers,
    wasm: memory.f.buffer.byteLength,
    reserved: memory.reserved,
  };
  samples.push(s);
  console.log(
    `${String(step).padStart(8)} ${s.seconds.toFixed(1).padStart(7)} ${s.rate.toFixed(0).padStart(8)} ${s.loss.toFixed(3).padStart(7)} ${fmt(s.heap).padStart(13)} ${fmt(s.rss)} ${fmt(s.arrayBuffers).padStart(13)} ${fmt(s.wasm)} ${String(s.reserved).padStart(9)}`,
  );
  lossSum = 0;
  lossN = 0;
  tLast = now;
  stepLast = step;
}

let step = 0;
let stoppedEarly = false;
sample(0);
while (step < opt.steps) {
  if (step > 0 && step % 10_000 === 0) {
    // a checkpoint written and restored; the run continues from the restored trainer (before the
    // step, so that samples always see a trainer that has stepped)
    const bytes = checkpointToSafetensors(trainer, { data: { stream: stream.getPosition() } });
    const restored = await restoreCheckpoint(bytes, { core });
    trainer.dispose();
    model.dispose();
    ({ model, trainer } = restored);
  }
  const r = trainer.stepStateful(stream.next());
  step++;
  if (r.skipped) skipped++;
  else {
    lossSum += r.loss;
    lossN++;
  }
  if (step % 1000 === 0) {
    model.generate({ prime: [ids[0]], length: 20, seed: step });
    model.lossAndGradients(other, 'cross-entropy'); // another shape through the same work arena
  }
  if (step % opt.every === 0 || step === opt.steps) sample(step);
  if (step % 500 === 0 && performance.now() > deadline) {
    stoppedEarly = true;
    if (step % opt.every) sample(step);
    break;
  }
}
const trainSeconds = (performance.now() - t0) / 1000;
trainer.dispose();
model.dispose();

// ------------------------------------------------------------------------------------------------
// phase 2: create / train one step / dispose

const cycleSamples = [];
const reserved0 = memory.reserved;
const sizes = [8, 16, 32, 12, 24];
const c0 = performance.now();
for (let c = 1; c <= opt.cycles; c++) {
  const H = sizes[c % sizes.length];
  const m = createModelSync({ ...config, hiddenSize: H, seed: c });
  const t = new Trainer(m, { loss: 'cross-entropy', optimizer: 'adam' });
  t.step(other);
  t.dispose();
  m.dispose();
  if (memory.reserved !== reserved0) {
    console.log(`cycle ${c}: ${memory.reserved - reserved0} floats still reserved after dispose`);
    break;
  }
  if (c % Math.max(1, Math.floor(opt.cycles / 10)) === 0 || c === opt.cycles) {
    const m2 = measure();
    cycleSamples.push({ cycle: c, heap: m2.heapUsed, wasm: memory.f.buffer.byteLength, reserved: memory.reserved });
  }
}
const cycleSeconds = (performance.now() - c0) / 1000;
console.log(`\ncreate/dispose: ${opt.cycles} cycles of LSTM H ∈ {${sizes.join(', ')}} + Adam + one step, ${cycleSeconds.toFixed(1)} s`);
console.log(`${'cycle'.padStart(8)} ${'heapUsed MiB'.padStart(13)} ${'wasm MiB'.padStart(9)} ${'reserved'.padStart(9)}`);
for (const s of cycleSamples)
  console.log(`${String(s.cycle).padStart(8)} ${fmt(s.heap).padStart(13)} ${fmt(s.wasm)} ${String(s.reserved).padStart(9)}`);

// ------------------------------------------------------------------------------------------------
// verdict

// warm-up: the first fifth of the run, and at least up to the first checkpoint restore (which
// holds two models at once, and so grows the Wasm memory once)
const warmStart = step > 10_000 ? Math.max(10_001, step / 5) : step / 5;
const warm = samples.filter((s) => s.step >= warmStart && s.step > 0);
const problems = [];
if (warm.length >= 2) {
  const first = warm[0],
    last = warm[warm.length - 1];
  if (last.wasm !== first.wasm) problems.push(`Wasm memory grew after warm-up: ${fmt(first.wasm).trim()} → ${fmt(last.wasm).trim()} MiB`);
  if (new Set(warm.map((s) => s.reserved)).size !== 1)
    problems.push(`reserved floats changed after warm-up: ${[...new Set(warm.map((s) => s.reserved))].join(', ')}`);
  const perStep = slope(
    warm.map((s) => s.step),
    warm.map((s) => s.heap),
  );
  const trend = perStep * (last.step - first.step);
  const bound = gc ? Math.max(2 * MiB, 0.05 * first.heap) : Math.max(16 * MiB, 0.5 * first.heap);
  console.log(
    `\nafter warm-up (step ${first.step} → ${last.step}): heap trend ${(trend / MiB).toFixed(2)} MiB (${perStep.toFixed(2)} B/step; bound ${(bound / MiB).toFixed(1)} MiB), ` +
      `heap ${fmt(first.heap).trim()} → ${fmt(last.heap).trim()} MiB, Wasm ${fmt(first.wasm).trim()} → ${fmt(last.wasm).trim()} MiB, reserved ${first.reserved} → ${last.reserved}`,
  );
  if (trend > bound) problems.push(`the heap trends upward by ${(trend / MiB).toFixed(2)} MiB over ${last.step - first.step} steps`);
} else {
  problems.push('too few samples after warm-up for a verdict (raise --steps or lower --every)');
}
if (cycleSamples.length >= 2) {
  const half = cycleSamples.slice(Math.floor(cycleSamples.length / 2));
  if (half[half.length - 1].wasm !== half[0].wasm)
    problems.push(
      `Wasm memory still grows over create/dispose cycles: ${fmt(half[0].wasm).trim()} → ${fmt(half[half.length - 1].wasm).trim()} MiB`,
    );
  if (cycleSamples.some((s) => s.reserved !== reserved0)) problems.push('reserved floats did not return to their start after dispose');
  const heapTrend = half[half.length - 1].heap - half[0].heap;
  if (gc && heapTrend > 2 * MiB) problems.push(`the heap grows over create/dispose cycles by ${(heapTrend / MiB).toFixed(2)} MiB`);
}
const first = samples[0],
  last = samples[samples.length - 1];
console.log(
  `\n${step} steps in ${trainSeconds.toFixed(1)} s (${(step / trainSeconds).toFixed(0)} steps/s)${stoppedEarly ? `, stopped at the ${opt.minutes}-minute budget before ${opt.steps}` : ''}; ${skipped} skipped; ` +
    `loss ${samples[1]?.loss.toFixed(3)} → ${last.loss.toFixed(3)}`,
);
console.log(
  `before/after: heapUsed ${fmt(first.heap).trim()} → ${fmt(last.heap).trim()} MiB, rss ${fmt(first.rss).trim()} → ${fmt(last.rss).trim()} MiB, ` +
    `Wasm ${fmt(first.wasm).trim()} → ${fmt(last.wasm).trim()} MiB, reserved ${first.reserved} → ${last.reserved} floats`,
);
console.log(
  problems.length
    ? `verdict: NOT FLAT\n  - ${problems.join('\n  - ')}`
    : 'verdict: flat after warm-up (Wasm memory and reserved floats constant, no upward heap trend; create/dispose returns all memory)',
);
process.exit(problems.length ? 1 : 0);
