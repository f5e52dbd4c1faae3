// The C example (examples/c): wasm2c translates build/unrolled.scalar.wasm to C, gcc compiles it,
// and the program trains a small RNN for 5 steps from a file this test writes. Its losses,
// gradient norms and final weights must equal the js backend's for the same weights and data
// (1e-5 relative), and the Wasm scalar backend's to print precision: the C host makes the same
// calls as src/model/network.ts and src/train/trainer.ts on the same Wasm code.
// Needs wasm2c (apt-get install wabt) and gcc; UNROLLED_SKIP_C=1 skips it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, loadCore, Trainer, type StepResult, type TrainerOptions } from '../../src/node/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_SH = join(ROOT, 'examples/c/build.sh');
const SCALAR_WASM = join(ROOT, 'build/unrolled.scalar.wasm');

const I = 3, H = 5, O = 2, T = 4, B = 2, STEPS = 5;
const LR = 0.01, CLIP = 5;
const OPTIONS: TrainerOptions = { loss: { loss: 'mse', at: 'last' }, optimizer: { name: 'adam', lr: LR }, clipNorm: CLIP };

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Deterministic f32 data in [lo, hi) (a plain LCG, independent of the library's Rng). */
function uniform(n: number, lo: number, hi: number, state: { s: number }): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state.s = (Math.imul(state.s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (state.s / 4294967296);
  }
  return out;
}

/** f32 → text that strtof reads back exactly (9 significant digits). */
const f32 = (v: number): string => Math.fround(v).toPrecision(9);
const record = (key: string, values: ArrayLike<number>): string =>
  `${key} ${values.length} ${Array.from(values, f32).join(' ')}`;

/** max |a − b| / max(max |b|, 1e-3) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0, scale = 1e-3;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

const skip = process.env.UNROLLED_SKIP_C === '1';

describe.skipIf(skip)('C example (wasm2c + gcc)', () => {
  let dir = '';
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'unrolled-c-')); });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('trains an RNN for 5 steps with the js backend\'s losses, norms and weights', { timeout: 60_000 }, async () => {
    if (!onPath('wasm2c')) {
      throw new Error('wasm2c is not on PATH: install wabt (apt-get install wabt), or set UNROLLED_SKIP_C=1 to skip this test');
    }
    if (!onPath('gcc')) {
      throw new Error('gcc is not on PATH: install it (apt-get install gcc), or set UNROLLED_SKIP_C=1 to skip this test');
    }
    if (!existsSync(SCALAR_WASM)) throw new Error(`${SCALAR_WASM} is missing: run \`npm run build:wasm\``);

    const build = spawnSync('sh', [BUILD_SH, dir], { encoding: 'utf8', timeout: 50_000 });
    if (build.status !== 0) throw new Error(`examples/c/build.sh failed (${build.status ?? build.signal}):\n${build.stderr}${build.stdout}`);
    const exe = join(dir, 'unrolled-rnn');

    // the js backend's run: initial weights, 5 batches, 5 steps
    const model = await createModel({ cell: 'rnn', inputSize: I, hiddenSize: H, outputSize: O, backend: 'js', seed: 1 });
    const initial = model.stateDict();
    const rand = { s: 1 };
    // targets in ±4, well away from the untrained outputs: some steps' norms exceed CLIP, and the
    // loss stays > 2 over the 5 steps, so that its relative difference is not one of cancellation
    const batches = Array.from({ length: STEPS }, () => ({
      x: uniform(T * B * I, -1, 1, rand), y: uniform(B * O, -4, 4, rand), T, B,
    }));
    const trainer = new Trainer(model, OPTIONS);
    const js: StepResult[] = batches.map((b) => trainer.step(b));
    // the same run on the TypeScript host of the same Wasm build
    const wasmModel = await createModel({ cell: 'rnn', inputSize: I, hiddenSize: H, outputSize: O, core: await loadCore({ variant: 'scalar' }) });
    wasmModel.loadStateDict(initial);
    const wasmTrainer = new Trainer(wasmModel, OPTIONS);
    const wasm: StepResult[] = batches.map((b) => wasmTrainer.step(b));
    const opt = trainer.optimizer.spec;

    const lines = [
      '# written by test/examples/c-example.test.ts',
      'format 1 1',
      `dims 5 ${I} ${H} ${O} ${T} ${B}`,
      `adam 4 ${opt.lr} ${opt.beta1} ${opt.beta2} ${opt.eps}`,
      `clip 1 ${CLIP}`,
      ...model.parameterNames().map((name) => record(name, initial[name])),
      ...batches.flatMap((b) => [record('x', b.x), record('y', b.y)]),
    ];
    const input = join(dir, 'example.txt'), paramsOut = join(dir, 'params-out.txt');
    writeFileSync(input, lines.join('\n') + '\n');

    const run = spawnSync(exe, [input, paramsOut], { encoding: 'utf8', timeout: 20_000 });
    if (run.status !== 0) throw new Error(`${exe} failed (${run.status ?? run.signal}):\n${run.stderr}`);

    // stdout: one loss per line, 9 significant digits
    const losses = run.stdout.trim().split('\n');
    expect(losses).toHaveLength(STEPS);
    for (const line of losses) expect(line).toMatch(/^-?\d\.\d{8}(e[+-]\d+)?$|^-?\d+\.\d+$/);
    const cLoss = losses.map(Number);
    for (let i = 0; i < STEPS; i++) {
      expect(Math.abs(cLoss[i] - js[i].loss) / Math.abs(js[i].loss), `loss of step ${i + 1}: C ${cLoss[i]} vs js ${js[i].loss}`).toBeLessThan(1e-5);
      expect(Math.abs(cLoss[i] - wasm[i].loss) / Math.abs(wasm[i].loss), `loss of step ${i + 1}: C ${cLoss[i]} vs wasm scalar ${wasm[i].loss}`).toBeLessThan(1e-8);
    }

    // stderr: "step k loss L grad_norm N [clipped]"
    const steps = run.stderr.trim().split('\n').filter((l) => l.startsWith('step '));
    expect(steps).toHaveLength(STEPS);
    steps.forEach((line, i) => {
      const m = /^step (\d+) loss (\S+) grad_norm (\S+)( clipped)?$/.exec(line);
      expect(m, line).not.toBeNull();
      const norm = Number(m![3]);
      expect(Math.abs(norm - js[i].gradNorm) / js[i].gradNorm, `grad norm of step ${i + 1}`).toBeLessThan(1e-5);
      expect(m![4] !== undefined, `clipped at step ${i + 1}`).toBe(js[i].clipped);
    });
    expect(js.some((r) => r.clipped), 'the data exercise clipping').toBe(true);

    // the weights after 5 updates
    const out = new Map<string, number[]>();
    for (const line of readFileSync(paramsOut, 'utf8').trim().split('\n')) {
      const [name, count, ...values] = line.split(' ');
      expect(values).toHaveLength(Number(count));
      out.set(name, values.map(Number));
    }
    for (const name of model.parameterNames()) {
      expect(relErr(out.get(name)!, model.getParameter(name)), name).toBeLessThan(1e-5);
      expect(relErr(out.get(name)!, wasmModel.getParameter(name)), name).toBeLessThan(1e-8);
    }
    trainer.dispose();
    wasmTrainer.dispose();
    model.dispose();
    wasmModel.dispose();
  });
});
