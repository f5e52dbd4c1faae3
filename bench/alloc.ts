// npm run bench:alloc — does a warmed-up training step allocate on the JavaScript heap, and does
// Wasm memory grow after the first step? For B4 and B2: the first step (arenas laid out), then
// `warmup` steps (default 3,000: V8 optimises the step's code over the first thousands, and the
// garbage of its unoptimised code is not the step's), then `steps` steps (Trainer.stepInto, one
// reused result object; default 1,000) under V8's sampling heap profiler (every allocation of
// ≥ 32 bytes on average is seen), reporting bytes per step and where they are allocated (the
// innermost JavaScript function of dist/ and its first line, with how many samples: hundreds for
// an object made every step, a few for a one-off), the retained heap before and after (full
// GC), garbage collections during the steps, and the Wasm memory size.
//
//   npm run bench:alloc                  B4 and B2, 1,000 steps after 3,000 warm-up steps
//   npm run bench:alloc -- 2000 500      2,000 steps after 500
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { createModel, loadCore, memoryUsage, Trainer, type StepResult } from '../dist/node/index.js';
import { CONFIGS, benchBatch, modelOptions } from './configs.js';

const STEPS = Number(process.argv[2] ?? 1000);
const WARMUP = Number(process.argv[3] ?? 3000);
const gc = (globalThis as { gc?: () => void }).gc;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

interface Profile {
  head: ProfileNode;
  samples: { size: number; nodeId: number }[];
}

/**
 * Bytes by allocation site: the innermost frame with a script URL (builtins are charged to their
 * caller), with the number of samples and the largest: an object made every step is sampled
 * hundreds of times over 1,000 steps, a one-off (a large object V8 makes while tiering up) a few.
 */
function bySite(profile: Profile): Map<string, { bytes: number; samples: number; largest: number }> {
  const sites = new Map<string, { bytes: number; samples: number; largest: number }>();
  const siteOf = new Map<number, string>();
  const walk = (n: ProfileNode, site: string) => {
    const f = n.callFrame;
    const here = f.url ? `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist\/)/, '$1')}:${f.lineNumber + 1}` : site;
    siteOf.set(n.id, here);
    if (n.selfSize > 0) {
      const s = sites.get(here) ?? { bytes: 0, samples: 0, largest: 0 };
      s.bytes += n.selfSize;
      sites.set(here, s);
    }
    for (const c of n.children) walk(c, here);
  };
  walk(profile.head, '(root)');
  for (const { size, nodeId } of profile.samples) {
    const s = sites.get(siteOf.get(nodeId) ?? '');
    if (!s) continue;
    s.samples++;
    s.largest = Math.max(s.largest, size);
  }
  return sites;
}

async function measure(name: string, session: Session): Promise<void> {
  const c = CONFIGS.find((k) => k.name === name)!;
  const model = await createModel({
    ...modelOptions(c),
    core: await loadCore({ variant: 'simd' }),
  });
  const trainer = new Trainer(model, { loss: { loss: c.loss, at: c.at }, optimizer: 'adam', clipNorm: 5 });
  const { x, y } = benchBatch(c);
  const batch = { x, y, T: c.T, B: c.B };
  const out: StepResult = trainer.step(batch); // first step: arenas are laid out, code warms up
  const wasmAfterFirst = memoryUsage(model).memoryBytes;
  for (let i = 0; i < WARMUP; i++) trainer.stepInto(batch, out);
  gc?.();
  let collections = 0;
  const obs = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  const heap0 = getHeapStatistics();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 32,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) trainer.stepInto(batch, out);
  const ms = performance.now() - t0;
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: Profile };
  gc?.();
  const heap1 = getHeapStatistics();
  await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
  obs.disconnect();
  const wasmEnd = memoryUsage(model).memoryBytes;
  // the profiler's own messages are not the step's
  const sites = [...bySite(profile)].filter(([site]) => !site.includes('node:inspector')).sort((a, b) => b[1].bytes - a[1].bytes);
  const total = sites.reduce((s, [, b]) => s + b.bytes, 0);
  const dHeap = heap1.used_heap_size - heap0.used_heap_size;
  console.log(
    `${name}: ${STEPS} steps after ${WARMUP} warm-up steps, ${(ms / STEPS).toFixed(3)} ms/step under the profiler; ` +
      `allocated ≈ ${(total / STEPS).toFixed(0)} B/step (sampled); retained heap ${dHeap >= 0 ? '+' : ''}${dHeap} B${gc ? '' : ' (no --expose-gc: not after a full GC)'}; ` +
      `garbage collections during the steps: ${collections}; Wasm memory after step 1: ${wasmAfterFirst / 2 ** 20} MiB, at the end: ${wasmEnd / 2 ** 20} MiB${wasmEnd === wasmAfterFirst ? ' (no growth)' : ' (GREW)'}`,
  );
  for (const [site, { bytes, samples, largest }] of sites.slice(0, 8))
    console.log(`  ${(bytes / STEPS).toFixed(0).padStart(6)} B/step  ${site} (${samples} samples, largest ${largest} B)`);
  trainer.dispose();
  model.dispose();
}

if (!gc) console.log('(run with node --expose-gc for a clean starting heap)');
const session = new Session();
session.connect();
for (const name of ['B4', 'B2']) await measure(name, session);
session.disconnect();
