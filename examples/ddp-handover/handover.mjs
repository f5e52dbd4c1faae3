#!/usr/bin/env node
// Hand a training run to PyTorch DistributedDataParallel and back, with the Adam state.
//
//   1. unrolled trains an LSTM on the noisy-sine task for N steps with Adam;
//   2. it writes the weights (PyTorch state_dict names) and the optimizer state in the layout of
//      PyTorch's optimizer.state_dict() (exportTorchOptimizerState), and the next M batches;
//   3. `python3 -m torch.distributed.run --standalone --nproc_per_node=2 train_ddp.py` (torchrun,
//      gloo, CPU) loads both into nn.LSTM + nn.Linear and torch.optim.Adam, wraps the module in
//      DDP and continues M steps, each process on its half of every batch;
//   4. unrolled loads PyTorch's weights and optimizer state (importTorchOptimizerState) and
//      continues K more steps.
// The same N + M + K batches also train a second model in unrolled alone, from the same seed: the
// losses of the handed-over run must follow that run's, without a jump at either hand-over.
//
// Usage (after `npm run build`; needs python3 with torch, e.g. Debian's python3-torch):
//   node examples/ddp-handover/handover.mjs            20 + 20 + 20 steps
//   node examples/ddp-handover/handover.mjs --quick    5 + 5 + 5 steps (what the tests run)
// UNROLLED_PYTHON=/path/to/python3 chooses the interpreter. The last line printed is a JSON summary.
//
// The exported ddpHandover() is what test/examples/ddp-handover.test.ts runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * $UNROLLED_PYTHON if set, else the first of `python3` on PATH and /usr/bin/python3 (Debian's,
 * where python3-torch installs) that imports torch with torch.distributed (gloo) and its
 * launcher: `{ python }`, or `{ missing }`, one line saying what is not there.
 */
export function findTorchPython() {
  const candidates = process.env.UNROLLED_PYTHON ? [process.env.UNROLLED_PYTHON] : ['python3', '/usr/bin/python3'];
  const probe =
    'import torch, torch.distributed as d, torch.distributed.run; assert d.is_available() and d.is_gloo_available(), "torch.distributed without gloo"';
  const tried = [];
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ['-c', probe], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python };
    const why = r.error ? 'not found' : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    tried.push(`${python}: ${why}`);
  }
  return { missing: `python3 with torch (torch.distributed, gloo, torchrun) is missing (${tried.join('; ')})` };
}

/** Deterministic batches of the sine task: each [T, B, 1], from one seeded Rng. */
function makeBatches(tasks, Rng, count, T, B, seed) {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => tasks.sine.sineBatch({ T, B }, rng));
}

/**
 * Runs the three phases and the all-unrolled reference; returns the losses of every phase and
 * how far the handed-over run ends from the reference.
 *
 * @param {object} [o]
 * @param {boolean} [o.quick] 5 + 5 + 5 steps instead of 20 + 20 + 20
 * @param {number[]} [o.steps] [N, M, K] steps in unrolled, PyTorch, unrolled
 * @param {string} [o.python] the interpreter (default: findTorchPython())
 * @param {object} [o.lib] the unrolled module (default: this repository's build, dist/)
 * @param {object} [o.tasks] the unrolled/tasks module (default: dist/)
 * @param {object} [o.safetensors] the unrolled/safetensors module (default: dist/)
 * @param {(line: string) => void} [o.log] default console.log
 */
export async function ddpHandover(o = {}) {
  const lib = o.lib ?? (await import('../../dist/node/index.js'));
  const tasks = o.tasks ?? (await import('../../dist/tasks-entry.js'));
  const { encodeSafetensors } = o.safetensors ?? (await import('../../dist/safetensors-entry.js'));
  const { createModel, Trainer, Rng, exportTorchOptimizerState, importTorchOptimizerState } = lib;
  const { torchOptimizerStateToSafetensors, torchOptimizerStateFromSafetensors } = lib;
  const log = o.log ?? console.log;
  const [N, M, K] = o.steps ?? (o.quick ? [5, 5, 5] : [20, 20, 20]);
  const python = o.python ?? findTorchPython().python;
  if (!python) throw new Error(findTorchPython().missing);
  const T = 16,
    B = 8; // even: the two processes take four sequences each
  const config = { cell: 'lstm', inputSize: 1, hiddenSize: 16, outputSize: 1, numLayers: 2, seed: 1 };
  const optimizer = { name: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8 };
  const options = { loss: tasks.sine.lossSpec, optimizer, clipNorm: 1 };
  const batches = makeBatches(tasks, Rng, N + M + K, T, B, 7);

  // the reference: the same batches, unrolled alone
  const refModel = await createModel(config);
  const ref = new Trainer(refModel, options);
  const reference = batches.map((b) => ref.step(b).loss);

  // phase 1: unrolled
  const model = await createModel(config);
  const trainer = new Trainer(model, options);
  const phase1 = batches.slice(0, N).map((b) => trainer.step(b).loss);
  log(`unrolled: steps 1-${N}, loss ${phase1[0].toFixed(6)} → ${phase1[N - 1].toFixed(6)}`);
  // what unrolled computes on PyTorch's first batch, before it leaves
  const lossAtHandover = model.lossAndGradients(batches[N], options.loss).loss;

  const dir = mkdtempSync(join(tmpdir(), 'unrolled-ddp-'));
  try {
    writeFileSync(join(dir, 'weights.safetensors'), model.toSafetensors());
    writeFileSync(join(dir, 'optimizer.safetensors'), torchOptimizerStateToSafetensors(exportTorchOptimizerState(trainer)));
    writeFileSync(join(dir, 'batches.safetensors'), batchFile(encodeSafetensors, batches.slice(N, N + M), T, B));
    const run = { config: { ...config, nonlinearity: 'tanh' }, optimizer, clipNorm: options.clipNorm, startStep: N };
    writeFileSync(join(dir, 'handover.json'), JSON.stringify(run));
    trainer.dispose();
    model.dispose();

    // phase 2: PyTorch DDP on two processes
    // --redirects 1 --tee 1: each worker's stdout is copied to the console with a [defaultN]:
    // prefix, stderr is inherited. They are given explicitly because torch 1.13's launcher reads
    // its default "0" as None under Python 3.11 (whose IntFlag no longer lists the zero member)
    // and stops with "'NoneType' object has no attribute 'get'".
    const args = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '--redirects', '1', '--tee', '1'];
    args.push(join(HERE, 'train_ddp.py'), dir);
    const started = performance.now();
    const r = spawnSync(python, args, { encoding: 'utf8', timeout: 300_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (r.status !== 0) throw new Error(`torchrun failed (exit ${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
    for (const line of r.stdout.split('\n')) if (line.includes('torch rank 0/')) log(line.replace(/^\[default0\]:/, ''));
    const torchSeconds = (performance.now() - started) / 1000;
    const phase2 = JSON.parse(readFileSync(join(dir, 'torch-losses.json'), 'utf8'));
    log(`torch DDP (${phase2.worldSize} processes, torch ${phase2.torch}): steps ${N + 1}-${N + M}, ${torchSeconds.toFixed(1)} s`);

    // phase 3: back in unrolled
    const back = await createModel(config);
    back.loadSafetensors(readFileSync(join(dir, 'weights-torch.safetensors')));
    const trainer3 = new Trainer(back, options);
    importTorchOptimizerState(trainer3, torchOptimizerStateFromSafetensors(readFileSync(join(dir, 'optimizer-torch.safetensors'))));
    const phase3 = batches.slice(N + M).map((b) => trainer3.step(b).loss);
    log(`unrolled: steps ${N + M + 1}-${N + M + K}, loss ${phase3[0].toFixed(6)} → ${phase3[K - 1].toFixed(6)}`);

    // the control: PyTorch's weights without its optimizer state (a fresh Adam) drift away
    const control = await createModel(config);
    control.loadSafetensors(readFileSync(join(dir, 'weights-torch.safetensors')));
    const controlTrainer = new Trainer(control, options);
    for (const b of batches.slice(N + M)) controlTrainer.step(b);

    // how far the handed-over run ends from the reference
    const { maxAbs, relative } = weightDifference(back, refModel);
    const withoutState = weightDifference(control, refModel).relative;
    controlTrainer.dispose();
    control.dispose();
    const losses = [...phase1, ...phase2.losses, ...phase3];
    const maxLossRel = Math.max(...losses.map((l, i) => Math.abs(l - reference[i]) / Math.abs(reference[i])));
    const summary = {
      example: 'ddp-handover',
      steps: [N, M, K],
      lossAtHandover,
      torchFirstLoss: phase2.losses[0],
      unrolledLastLoss: phase1[N - 1],
      torchLastLoss: phase2.losses[M - 1],
      backFirstLoss: phase3[0],
      referenceAtHandback: reference[N + M],
      losses,
      reference,
      maxLossRelativeDifference: maxLossRel,
      maxWeightAbsDifference: maxAbs,
      maxWeightRelativeDifference: relative,
      maxWeightRelativeDifferenceWithoutOptimizerState: withoutState,
      torchSeconds,
    };
    trainer3.dispose();
    back.dispose();
    return summary;
  } finally {
    ref.dispose();
    refModel.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** max |a − b| over all parameters, and that over max |b| */
function weightDifference(a, b) {
  let maxAbs = 0,
    scale = 0;
  for (const name of a.parameterNames()) {
    const u = a.getParameter(name),
      v = b.getParameter(name);
    for (let i = 0; i < u.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(u[i] - v[i]));
      scale = Math.max(scale, Math.abs(v[i]));
    }
  }
  return { maxAbs, relative: maxAbs / scale };
}

/** The torch phase's batches as one safetensors file: x [M, T, B, 1] and y [M, T, B, 1]. */
function batchFile(encodeSafetensors, batches, T, B) {
  const x = new Float32Array(batches.length * T * B),
    y = new Float32Array(batches.length * T * B);
  batches.forEach((b, m) => {
    x.set(b.x, m * T * B);
    y.set(b.y, m * T * B);
  });
  const shape = [batches.length, T, B, 1];
  return encodeSafetensors([
    { name: 'x', dtype: 'F32', shape, data: x },
    { name: 'y', dtype: 'F32', shape, data: y },
  ]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const found = findTorchPython();
  if (!found.python) {
    console.error(found.missing);
    process.exit(1);
  }
  const summary = await ddpHandover({ quick: process.argv.includes('--quick'), python: found.python });
  const { losses: _l, reference: _r, ...short } = summary;
  console.log(JSON.stringify(short));
}
