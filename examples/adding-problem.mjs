#!/usr/bin/env node
// The adding problem (Hochreiter & Schmidhuber 1997) as Le, Jaitly & Hinton (2015) posed it:
// every step carries a value from U(0, 1) and a marker; exactly two steps are marked, and after
// the last step the network must output the sum of the two marked values. Always answering 1
// scores MSE = 1/6 ≈ 0.167; a network that learns to remember goes to ≈ 0.
//
// Three recurrent networks, each with the settings that worked on this problem at T = 150
// (docs/results/adding.md has the curves and what did not work):
//
//   tanh   Elman RNN, tanh, PyTorch's default init. Stays at the baseline.
//   irnn   Elman RNN, ReLU, identity recurrent weights and zero biases (Le et al.'s IRNN), Adam
//          at lr 1e-4 with the global gradient norm clipped to 1. The loss spikes to 1e6 and
//          beyond in the first few hundred steps, while the recurrent matrix's largest
//          eigenvalue pokes above 1; the clip keeps those steps small and training recovers.
//          Do not stop it there. Much larger rates (Adam 2e-3) make the spikes big enough for
//          the Wasm core's gradient norm to overflow, and then every step is refused.
//   lstm   LSTM with "chrono" gate biases (Tallec & Ollivier 2018): forget bias ~ log U(1, T−1),
//          input bias its negative, Adam at lr 3e-3, clip 1. With a forget bias of 1 (or 5)
//          it stayed on the plateau for 6000 steps at T = 150; chrono leaves it after ~1000.
//
// Usage (after `npm run build`):
//   node examples/adding-problem.mjs                 IRNN at T = 150 (about 1–2 minutes)
//   node examples/adding-problem.mjs lstm --T 100
//   node examples/adding-problem.mjs tanh --steps 2000 --seed 3
// Options: --T, --hidden, --batch, --steps, --eval-every, --test-size, --seed.
//
// The exported trainAdding() is what scripts/reproduce-adding.mjs and
// test/examples/adding.test.ts run.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Settings per network. `steps` is the default length of a run at T = 150. */
export const PRESETS = {
  tanh: {
    label: 'tanh RNN',
    model: { cell: 'rnn', nonlinearity: 'tanh' },
    init: 'default',
    optimizer: { name: 'adam', lr: 1e-3 },
    clipNorm: 1,
    steps: 10000,
  },
  irnn: {
    label: 'IRNN',
    model: { cell: 'rnn', nonlinearity: 'relu' },
    init: 'irnn',
    optimizer: { name: 'adam', lr: 1e-4 },
    clipNorm: 1,
    steps: 10000,
  },
  lstm: {
    label: 'LSTM',
    model: { cell: 'lstm' },
    init: 'default',
    chrono: true,
    optimizer: { name: 'adam', lr: 3e-3 },
    clipNorm: 1,
    steps: 3000,
  },
};

/**
 * Trains one preset on a stream of fresh batches and measures the MSE on a fixed test set.
 * Everything is drawn from `seed`: the weights, the training batches and the test set.
 *
 * @param {object} o
 * @param {'tanh'|'irnn'|'lstm'} o.preset
 * @param {number} [o.T=150] steps per sequence
 * @param {number} [o.hidden=100]
 * @param {number} [o.batch=16]
 * @param {number} [o.steps] updates (default: the preset's)
 * @param {number} [o.evalEvery=250]
 * @param {number} [o.testSize=1000]
 * @param {number} [o.seed=1]
 * @param {(point: object) => void} [o.onEval] called with each point of the curve
 * @param {object} [o.lib] the unrolled module (default: this repository's build, dist/)
 * @param {object} [o.tasks] the unrolled/tasks module (default: this repository's build, dist/)
 * @param {object} [o.core] a loaded core (default: lib.loadCore({ reproducible: true }))
 */
export async function trainAdding(o) {
  const lib = o.lib ?? (await import('../dist/node/index.js'));
  const { createModel, loadCore, Trainer, Rng } = lib;
  const { adding } = o.tasks ?? (await import('../dist/tasks-entry.js'));
  const preset = PRESETS[o.preset];
  if (!preset) throw new Error(`unknown preset "${o.preset}" (${Object.keys(PRESETS).join(', ')})`);
  const T = o.T ?? 150,
    H = o.hidden ?? 100,
    B = o.batch ?? 16,
    seed = o.seed ?? 1;
  const steps = o.steps ?? preset.steps,
    evalEvery = o.evalEvery ?? 250,
    testSize = o.testSize ?? 1000;
  // the reproducible core (no relaxed-SIMD fused multiply-adds): the same numbers on every engine
  const core = o.core ?? (await loadCore({ reproducible: true }));

  const model = await createModel({
    ...preset.model,
    inputSize: adding.inputSize,
    hiddenSize: H,
    outputSize: adding.outputSize,
    seed,
    init: preset.init,
    core,
  });
  if (preset.chrono) chronoInit(model, T, new Rng(seed + 1000));
  const trainer = new Trainer(model, { loss: adding.lossSpec, optimizer: preset.optimizer, clipNorm: preset.clipNorm });
  const test = adding.addingBatch({ T, B: testSize }, seed + 2000);
  const baselineMSE = adding.constantMSE(test.y);
  const data = new Rng(seed + 3000);

  const curve = [];
  let sum = 0,
    counted = 0,
    skipped = 0,
    clipped = 0,
    maxLoss = 0;
  const t0 = performance.now();
  const record = (step) => {
    const point = {
      step,
      testMSE: testMSE(model, test, adding.outputSize),
      // mean training loss of the updates since the previous point (null at step 0)
      trainMSE: counted ? sum / counted : null,
      maxTrainLoss: counted ? maxLoss : null,
      seconds: (performance.now() - t0) / 1000,
    };
    curve.push(point);
    o.onEval?.(point);
    sum = 0;
    counted = 0;
    maxLoss = 0;
  };
  try {
    record(0);
    for (let s = 1; s <= steps; s++) {
      const r = trainer.step(adding.addingBatch({ T, B }, data));
      if (r.skipped) skipped++;
      else {
        sum += r.loss;
        counted++;
        maxLoss = Math.max(maxLoss, r.loss);
      }
      if (r.clipped) clipped++;
      if (s % evalEvery === 0 || s === steps) record(s);
    }
  } finally {
    trainer.dispose();
    model.dispose();
  }
  return {
    preset: o.preset,
    label: preset.label,
    settings: {
      T,
      hidden: H,
      batch: B,
      steps,
      evalEvery,
      testSize,
      seed,
      model: preset.model,
      init: preset.chrono ? 'chrono (forget ~ log U(1, T−1), input = −forget)' : preset.init,
      optimizer: preset.optimizer,
      clipNorm: preset.clipNorm,
      core: core.variant,
    },
    baselineMSE,
    finalTestMSE: curve[curve.length - 1].testMSE,
    bestTestMSE: Math.min(...curve.map((p) => p.testMSE)),
    skippedSteps: skipped,
    clippedSteps: clipped,
    wallSeconds: (performance.now() - t0) / 1000,
    curve,
  };
}

/**
 * Chrono initialisation (Tallec & Ollivier, "Can recurrent neural networks warp time?", 2018)
 * of an LSTM's gate biases: per unit b_f ~ log U(1, T − 1) and b_i = −b_f, so the cells start out
 * closed to new input and remember over up to T steps. PyTorch's layout has two bias vectors
 * (gate blocks i | f | g | o); each gets half.
 */
export function chronoInit(model, T, rng) {
  const H = model.config.hiddenSize;
  const bf = Array.from({ length: H }, () => Math.log(rng.uniform(1, Math.max(T - 1, 1))));
  for (let l = 0; l < model.config.numLayers; l++) {
    for (const name of [`bias_ih_l${l}`, `bias_hh_l${l}`]) {
      const b = model.getParameter(name);
      for (let j = 0; j < H; j++) {
        b[j] = -bf[j] / 2; // input gate
        b[H + j] = bf[j] / 2; // forget gate
      }
      model.setParameter(name, b);
    }
  }
}

/** MSE of the model's last-step outputs on a test batch, in chunks (bounded memory). */
export function testMSE(model, test, outputSize = 1, chunk = 250) {
  const { T, B, x, y } = test;
  const I = x.length / (T * B);
  let s = 0;
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const n = Math.min(chunk, B - b0);
    // x is time-major [T,B,I]: gather the chunk's rows of every step
    const xs = new Float32Array(T * n * I);
    for (let t = 0; t < T; t++) xs.set(x.subarray((t * B + b0) * I, (t * B + b0 + n) * I), t * n * I);
    const p = model.predict({ x: xs, T, B: n }, { at: 'last' }).y;
    for (let i = 0; i < n * outputSize; i++) s += (p[i] - y[b0 * outputSize + i]) ** 2;
  }
  return s / (B * outputSize);
}

function parseArgs(argv) {
  const out = { preset: 'irnn' };
  const names = {
    '--T': 'T',
    '--hidden': 'hidden',
    '--batch': 'batch',
    '--steps': 'steps',
    '--eval-every': 'evalEvery',
    '--test-size': 'testSize',
    '--seed': 'seed',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a in PRESETS) out.preset = a;
    else if (a in names) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs an integer ≥ 0`);
      out[names[a]] = v;
    } else
      throw new Error(`unknown argument "${a}" (presets: ${Object.keys(PRESETS).join(', ')}; options: ${Object.keys(names).join(', ')})`);
  }
  return out;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  const p = PRESETS[args.preset];
  console.log(
    `${p.label} on the adding problem: T ${args.T ?? 150}, hidden ${args.hidden ?? 100}, batch ${args.batch ?? 16}, ` +
      `${p.optimizer.name} lr ${p.optimizer.lr}, clip ${p.clipNorm}`,
  );
  const fmt = (v) => (v === null ? '—' : v.toExponential(2));
  const r = await trainAdding({
    ...args,
    onEval: (pt) =>
      console.log(
        `step ${String(pt.step).padStart(6)}  test MSE ${fmt(pt.testMSE)}  train MSE ${fmt(pt.trainMSE)}` +
          `  (max ${fmt(pt.maxTrainLoss)})  ${pt.seconds.toFixed(1)} s`,
      ),
  });
  console.log(
    `baseline (always 1) ${r.baselineMSE.toFixed(4)}; final test MSE ${r.finalTestMSE.toExponential(2)} ` +
      `after ${r.settings.steps} steps, ${r.wallSeconds.toFixed(1)} s (${r.clippedSteps} steps clipped, ${r.skippedSteps} skipped)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
