// tsc -p tsconfig.bench.json && node dist-bench/profile.js B1 B5 —
// where the time of one training step goes. Samples V8's CPU profiler (every 100 µs) while the
// configurations train on one thread, and charges each sample to its innermost function: the
// bench build carries the Wasm function names (asconfig.json "debug": names only, the code is the
// simd build's), so the kernels' parts show up by name. Categories:
//   GEMM                 gemm_packed / gemm_packed_part (split below by the kernel that called it)
//   gate nonlinearities  sigmoid, tanh (assembly/activations.ts)
//   elementwise          the cells' per-step updates and backward rows, bias-gradient sums,
//                        the token scatter of dW_ih, hidden-state clipping
//   copies and packing   pack_panels, bias fills, the token gather, memory fill/copy, allocator
//   loss and head        softmax_xent, mse and the head kernels' own work (their GEMMs are GEMM)
//   optimizer            Adam and the others, Σg², scaling, clamping
//   JS glue              every JavaScript frame, the JS↔Wasm wrappers, garbage collection
// Only samples inside Trainer.stepInto count (and garbage collection, wherever it lands).
// Writes bench/results/profile.{md,json}.
//
//   node dist-bench/profile.js                B1 and B5, ≥ 3 s of steps each
//   node dist-bench/profile.js B3 --time 5000
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createModel, loadCore, Trainer } from '../dist/node/index.js';
import { CONFIGS, benchBatch, stepFlops, modelOptions } from './configs.js';

const args = process.argv.slice(2);
const names = args.filter((a) => /^B\d$/.test(a));
const timeMs = args.includes('--time') ? Number(args[args.indexOf('--time') + 1]) : 3000;
const CATEGORIES = ['GEMM', 'gate nonlinearities', 'elementwise', 'copies and packing', 'loss and head', 'optimizer', 'JS glue'] as const;
type Category = (typeof CATEGORIES)[number];

/** The category of a sample from its innermost function's name (Wasm: "assembly/<file>/<function>"). */
function categoryOf(fn: string): Category {
  if (!fn.startsWith('assembly/') && !fn.startsWith('~lib/')) return 'JS glue';
  if (/gemm_packed/.test(fn)) return 'GEMM';
  if (/activations\/(sigmoid|tanh|relu)|~lib\/math\/.*exp/.test(fn)) return 'gate nonlinearities';
  if (/optim\//.test(fn)) return 'optimizer';
  if (/(loss|head)\//.test(fn)) return 'loss and head';
  if (/pack_panels|fill_rows|input_projection|~lib\/memory|~lib\/rt|memory\/(alloc|free|zero)|~lib\/util\/memory/.test(fn))
    return 'copies and packing';
  return 'elementwise';
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

async function profileConfig(name: string, session: Session) {
  const c = CONFIGS.find((k) => k.name === name);
  if (!c) throw new Error(`unknown configuration ${name}`);
  const bytes = readFileSync(new URL('../build-bench/unrolled.bench.wasm', import.meta.url));
  const core = await loadCore({ source: bytes, variant: 'simd' });
  const model = await createModel({
    ...modelOptions(c),
    core,
  });
  const trainer = new Trainer(model, { loss: { loss: c.loss, at: c.at }, optimizer: { name: 'adam', lr: 1e-3 }, clipNorm: 5 });
  const { x, y } = benchBatch(c);
  const batch = { x, y, T: c.T, B: c.B };
  const out = trainer.step(batch);
  for (let i = 0; i < 3; i++) trainer.stepInto(batch, out);
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  let steps = 0;
  const t0 = performance.now();
  while (steps < 3 || performance.now() - t0 < timeMs) {
    trainer.stepInto(batch, out);
    steps++;
  }
  const wall = performance.now() - t0;
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
  trainer.dispose();
  model.dispose();

  // self time per node, then per category; GEMM also by the exported kernel above it
  const parent = new Map<number, Node>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const ch of n.children ?? []) parent.set(ch, n);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const inStep = (n: Node): boolean => {
    for (let p: Node | undefined = n; p; p = parent.get(p.id)) if (p.callFrame.functionName === 'stepInto') return true;
    return false;
  };
  const cat = new Map<Category, number>(CATEGORIES.map((k) => [k, 0]));
  const gemmBy = new Map<string, number>();
  const fnUs = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName || '(anonymous)';
    // the step's samples only (the profiler's own messages and the loop are not the step), and GC
    if (fn !== '(garbage collector)' && !inStep(n)) continue;
    const k = categoryOf(fn);
    cat.set(k, cat.get(k)! + us);
    fnUs.set(fn, (fnUs.get(fn) ?? 0) + us);
    total += us;
    if (k === 'GEMM') {
      // the nearest caller that is not part of the product (the pool's gemm_packed included)
      let p = parent.get(id);
      while (p && /gemm_packed/.test(p.callFrame.functionName)) p = parent.get(p.id);
      const by = p?.callFrame.functionName.replace(/^assembly\//, '') || '?';
      gemmBy.set(by, (gemmBy.get(by) ?? 0) + us);
    }
  }
  const msPerStep = wall / steps;
  return {
    config: name,
    steps,
    msPerStep,
    gflops: stepFlops(c) / (msPerStep * 1e6),
    categories: CATEGORIES.map((k) => ({ category: k, share: cat.get(k)! / total })),
    gemmByCaller: [...gemmBy].sort((a, b) => b[1] - a[1]).map(([caller, us]) => ({ caller, share: us / total })),
    topFunctions: [...fnUs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([fn, us]) => ({ fn, share: us / total, category: categoryOf(fn) })),
  };
}

async function main(): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  const results = [];
  for (const name of names.length ? names : ['B1', 'B5']) {
    process.stderr.write(`${name} ...\n`);
    results.push(await profileConfig(name, session));
  }
  session.disconnect();
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  const lines = [
    `| category | ${results.map((r) => `${r.config} (${r.msPerStep.toFixed(1)} ms/step, ${r.gflops.toFixed(1)} GFLOP/s)`).join(' | ')} |`,
    `|---|${results.map(() => '---:').join('|')}|`,
  ];
  for (const k of CATEGORIES)
    lines.push(`| ${k} | ${results.map((r) => pct(r.categories.find((q) => q.category === k)!.share)).join(' | ')} |`);
  const parts = [lines.join('\n')];
  for (const r of results) {
    parts.push(
      `${r.config}, GEMM by caller: ${r.gemmByCaller.map((g) => `${g.caller} ${pct(g.share)}`).join(', ')}.\n\n` +
        `${r.config}, top functions (self time): ${r.topFunctions.map((f) => `${f.fn.replace(/^assembly\//, '')} ${pct(f.share)}`).join(', ')}.`,
    );
  }
  const command = `node dist-bench/profile.js ${args.join(' ')}`.trim();
  parts.push(
    `Shares of the sampled time (V8 CPU profiler, 100 µs, innermost function; samples inside Trainer.stepInto, plus garbage collection) over ≥ ${timeMs} ms of Trainer.stepInto per configuration, one thread, the bench build (simd, mul+add; Wasm names kept). ` +
      `ms/step is the wall time under the profiler. Command: \`tsc -p tsconfig.bench.json && ${command}\` · Node ${process.version} · ${new Date().toISOString()}`,
  );
  const md = parts.join('\n\n');
  console.log(md);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/profile.md', `${md}\n`);
  writeFileSync(
    'bench/results/profile.json',
    `${JSON.stringify({ date: new Date().toISOString(), command, node: process.version, results }, null, 2)}\n`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
