// Fuzzing of model files and training checkpoints, the short run (the engine and its long mode:
// scripts/fuzz-checkpoints.mjs). Over ten thousand seeded mutated and truncated files, made from
// valid modelToSafetensors / checkpointToSafetensors output, go to modelFromSafetensors,
// loadSafetensorsInto, restoreCheckpoint and checkpointInfo: each must end in an UnrolledError
// (a CheckpointError for a bad file) or a valid model / trainer that then runs — never another
// exception, a hang, a leak of Wasm memory or an allocation from a length the file declares.
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { CheckpointError } from '../../src/errors.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';
import { checkpointToSafetensors, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { Trainer } from '../../src/train/trainer.js';
import { makeModel, simdCore } from '../helpers.js';

type Outcomes = Record<string, number>;
interface Seed {
  name: string;
  type: 'model' | 'checkpoint';
  bytes: Uint8Array;
}
interface FuzzResult {
  byKind: Record<string, Outcomes>;
  byLabel: Record<string, Outcomes>;
  failures: { case?: number; kind: string; label: string; seed?: string; error: string }[];
  slowest: { ms: number; kind?: string; label?: string };
  seconds: number;
  seeds: string[];
  memoryBytes: [number, number];
  rss: [number, number];
}
interface Engine {
  KINDS: string[];
  fuzz(
    a: typeof api,
    core: unknown,
    options: { cases: number; seed: number; knownBugs?: boolean; maxFailures?: number; maxCaseMs?: number },
  ): Promise<FuzzResult>;
  formatReport(res: FuzzResult): string;
  makeSeeds(a: typeof api, core: unknown): Promise<{ seeds: Seed[]; models: unknown[] }>;
  disposeSeeds(set: { seeds: Seed[]; models: unknown[] }): void;
  boundaries(bytes: Uint8Array): [string, number][];
  runCase(
    a: typeof api,
    core: unknown,
    ctx: { memory: { reserved: number } },
    seed: Seed,
    bytes: Uint8Array,
    r: () => number,
  ): Promise<{ outcome: string; target: string; ms: number }>;
  makeRandom(seed: number): () => number;
}

// the engine is plain JavaScript shared with the long mode (a computed specifier: no types for it)
const ENGINE_URL = new URL('../../scripts/fuzz-checkpoints.mjs', import.meta.url).href;
const engine = (await import(ENGINE_URL)) as Engine;

const CASES = 10_500;

describe('fuzzing model files and checkpoints', async () => {
  const core = await simdCore();

  it(`${CASES} seeded mutations: each is an UnrolledError or a valid model, within a minute`, async () => {
    const res = await engine.fuzz(api, core, { cases: CASES, seed: 20240611, maxFailures: 10, maxCaseMs: 2000 });
    console.log(`seeds: ${res.seeds.join('; ')}\n${engine.formatReport(res)}`);
    expect(res.failures.map((f) => `[${f.kind}: ${f.label}] ${f.seed}: ${f.error}`)).toEqual([]);
    let total = 0,
      valid = 0;
    for (const kind of engine.KINDS) {
      const row = res.byKind[kind] ?? {};
      const n = Object.values(row).reduce((a, b) => a + b, 0);
      total += n;
      valid += row.valid ?? 0;
      expect(n, kind).toBeGreaterThan(200);
      expect(row.CheckpointError ?? 0, kind).toBeGreaterThan(100);
      // any other outcome must still be an UnrolledError's class (runCase throws otherwise)
      for (const outcome of Object.keys(row)) expect(outcome).toMatch(/^(valid|[A-Za-z]+Error)$/);
    }
    expect(total).toBe(CASES);
    // the mutations are not all trivially rejected: valid files (finite values changed, edits of
    // fields that may change: seed, input kind, metadata the reader ignores …) load and train
    expect(valid).toBeGreaterThan(200);
    expect(res.byKind.truncate.valid ?? 0).toBe(0);
    expect(res.byKind.length.valid ?? 0).toBe(0);
    // no allocation from a declared length: Wasm memory did not grow, the heap stayed small
    expect(res.memoryBytes[1]).toBe(res.memoryBytes[0]);
    expect(res.rss[1] - res.rss[0]).toBeLessThan(512 * 2 ** 20);
    expect(res.slowest.ms).toBeLessThan(2000);
  }, 60_000);

  it('every truncation of every seed at a structural boundary is a CheckpointError', async () => {
    const set = await engine.makeSeeds(api, core);
    const memory = (set.models[0] as { kernels: { memory: { reserved: number } } }).kernels.memory;
    const counts: Record<string, number> = {};
    let n = 0;
    for (const seed of set.seeds) {
      const seen = new Set<string>();
      for (const [kind, at] of engine.boundaries(seed.bytes)) {
        if (seen.has(`${kind}@${at}`)) continue;
        seen.add(`${kind}@${at}`);
        const { outcome } = await engine.runCase(api, core, { memory }, seed, seed.bytes.slice(0, at), engine.makeRandom(at));
        expect(outcome, `${seed.name} cut at ${at} (${kind})`).toBe('CheckpointError');
        counts[kind] = (counts[kind] ?? 0) + 1;
        n++;
      }
    }
    console.log(`${n} truncations of ${set.seeds.length} seeds, all CheckpointError: ${JSON.stringify(counts)}`);
    for (const kind of ['length-field', 'header-end', 'header-token', 'tensor-edge', 'one-short', 'empty'])
      expect(counts[kind], kind).toBeGreaterThan(0);
    engine.disposeSeeds(set);
  }, 60_000);

  // Restoring allocates the TBPTT history, (k2 − k1)·B·inputs floats, before the trainer is used:
  // without bounds, k2 = 2^40 was a RangeError and k2 = 1e9 made a 2 KB file allocate about 8 GB.
  it('a checkpoint with tbptt.k2 = 2^40 is a CheckpointError', async () => {
    const model = await makeModel('wasm', { cell: 'lstm', input: 'tokens', inputSize: 5, hiddenSize: 3, outputSize: 5, seed: 1 });
    const trainer = new Trainer(model, { loss: 'cross-entropy', tbptt: { k1: 2, k2: 4 } });
    trainer.stepStateful({ x: [1, 2, 3, 4], y: [2, 3, 4, 0], T: 2, B: 2 });
    const d = decodeSafetensors(checkpointToSafetensors(trainer));
    const meta = { ...d.metadata };
    const tr = JSON.parse(meta.unrolled_trainer);
    tr.tbptt = { k1: 2, k2: 2 ** 40 };
    meta.unrolled_trainer = JSON.stringify(tr);
    const tensors: NamedTensor[] = [...d.tensors].map(([name, t]) => ({ name, ...t }));
    const err = await restoreCheckpoint(encodeSafetensors(tensors, meta), { core }).then(
      () => null,
      (e: unknown) => e,
    );
    trainer.dispose();
    model.dispose();
    expect(err).toBeInstanceOf(CheckpointError);
  });
});
