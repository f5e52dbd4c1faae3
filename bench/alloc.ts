// npm run bench:alloc — does a warmed-up training step allocate on the JavaScript heap, and does
// Wasm memory grow after the first step? Runs 1,000 steps (Trainer.stepInto, one reused result
// object) of B2 and B4 and reports heap statistics, garbage collections seen during the steps
// (a scavenge means something was allocated), and the Wasm memory size before and after.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { createModel, loadCore, memoryUsage, Trainer, type StepResult } from '../dist/node/index.js';
import { CONFIGS, benchBatch } from './configs.js';

const STEPS = Number(process.argv[2] ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;

async function measure(name: string): Promise<void> {
  const c = CONFIGS.find((k) => k.name === name)!;
  const model = await createModel({
    cell: c.cell,
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    outputSize: c.outputSize,
    input: c.tokens ? 'tokens' : 'dense',
    seed: 1,
    core: await loadCore({ variant: 'simd' }),
  });
  const trainer = new Trainer(model, { loss: { loss: c.loss, at: c.at }, optimizer: 'adam', clipNorm: 5 });
  const { x, y } = benchBatch(c);
  const batch = { x, y, T: c.T, B: c.B };
  const out: StepResult = trainer.step(batch); // first step: arenas are laid out, code warms up
  const wasmAfterFirst = memoryUsage(model).memoryBytes;
  for (let i = 0; i < 50; i++) trainer.stepInto(batch, out);
  gc?.();
  let collections = 0;
  const obs = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  const heap0 = getHeapStatistics();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) trainer.stepInto(batch, out);
  const ms = performance.now() - t0;
  const heap1 = getHeapStatistics();
  await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
  obs.disconnect();
  const wasmEnd = memoryUsage(model).memoryBytes;
  console.log(
    `${name}: ${STEPS} steps in ${(ms / 1000).toFixed(1)} s; used heap ${(heap0.used_heap_size / 1024).toFixed(0)} KiB → ${(heap1.used_heap_size / 1024).toFixed(0)} KiB (${heap1.used_heap_size - heap0.used_heap_size >= 0 ? '+' : ''}${heap1.used_heap_size - heap0.used_heap_size} B); garbage collections during the steps: ${collections}; Wasm memory after step 1: ${wasmAfterFirst / 2 ** 20} MiB, after ${STEPS + 51}: ${wasmEnd / 2 ** 20} MiB${wasmEnd === wasmAfterFirst ? ' (no growth)' : ' (GREW)'}`,
  );
  trainer.dispose();
  model.dispose();
}

if (!gc) console.log('(run with node --expose-gc for a clean starting heap)');
for (const name of ['B4', 'B2']) await measure(name);
