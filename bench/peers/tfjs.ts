// TF.js peer (@tensorflow/tfjs 4.22, backends 'wasm' and 'cpu'): a layers model equivalent to a
// bench configuration, trained with model.trainOnBatch (the step the issue asks for) or, with
// clip: true, with a hand-written faithful step (optimizer.computeGradients + global-norm clip
// at 5 + applyGradients), because TF.js has no clipnorm: tf.train.adam takes none and
// LayersModel.compile has no such option, so trainOnBatch cannot clip.
//
// The model, per configuration:
//   tf.layers.lstm / gru / simpleRNN({ units: H, returnSequences: at === 'every' })
//   + tf.layers.dense({ units: O })   (Dense on a rank-3 input applies per time step)
//   loss: softmax cross-entropy from logits (tf.losses.softmaxCrossEntropy, one-hot targets) or
//   MSE; optimizer tf.train.adam(1e-3); float32.
// TF.js layers are BATCH-major: inputs are [B, T, I] and per-step targets [B, T, O], where
// unrolled and PyTorch are time-major [T, B, ·]; the benchBatch data is transposed once.
// One-hot inputs (B1, B4): TF.js's RNN layers take dense float input only (there is no token
// input / embedding-free one-hot path), so a one-hot float tensor [B, T, I] is built once, outside
// the timed step. Cross-entropy: the string losses of tfjs-layers ('sparseCategoricalCrossentropy',
// 'categoricalCrossentropy') expect probabilities (fromLogits cannot be set through compile),
// so the loss is a function calling tf.losses.softmaxCrossEntropy(oneHotTargets, logits) (mean over
// the B·T rows), the one-hot targets built once too.
// Settings that differ from the tfjs-layers defaults, to match unrolled / PyTorch:
// recurrentActivation 'sigmoid' (tfjs-layers defaults to 'hardSigmoid'); initializers glorotUniform
// (the default 'orthogonal' recurrent init is a slow QR at build time; the values do not matter for
// timing). TF.js's GRU is the reset-BEFORE variant (resetAfter is unsupported) where unrolled and
// PyTorch use reset-after; same matmul FLOPs.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { benchBatch, type BenchConfig } from '../configs.js';

export type TfBackend = 'wasm' | 'cpu';

export interface TfInfo {
  version: string;
  wasmSimd: boolean | null;
  wasmThreads: boolean | null;
  wasmThreadCount: number | null;
  wasmBinary: string | null;
}

let initialized = false;

/** Points the wasm backend at node_modules/@tensorflow/tfjs-backend-wasm/dist/ (file paths: in
 * Node the loader reads the .wasm with fs) and quiets TF.js's console warnings. */
function init(): void {
  if (initialized) return;
  initialized = true;
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(`${dist}/`);
  // PROD only silences warnings (e.g. the "install tfjs-node" banner of the cpu backend);
  // DEBUG (per-op checks) is off either way.
  tf.enableProdMode();
}

export async function useBackend(backend: TfBackend): Promise<void> {
  init();
  if (tf.getBackend() === backend) return;
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} failed to initialize`);
  await tf.ready();
}

/** TF.js version and what its wasm backend found here: SIMD, threads (always false in Node:
 * flags_wasm.js returns false when IS_NODE, tfjs issue #3830), thread count, which .wasm it loads. */
export async function tfInfo(): Promise<TfInfo> {
  await useBackend('wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return {
    version: tf.version.tfjs,
    wasmSimd: simd,
    wasmThreads: threads,
    wasmThreadCount: getThreadsCount(),
    wasmBinary: threads && simd ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm',
  };
}

export interface TfRunner {
  /** one training step; resolves to the loss before the update */
  step: () => Promise<number>;
  /** tensors alive now (to check the step does not leak) */
  numTensors: () => number;
  dispose: () => void;
}

function layer(c: BenchConfig): tf.layers.Layer {
  const args = {
    units: c.hiddenSize,
    returnSequences: c.at === 'every',
    inputShape: [c.T, c.inputSize],
    kernelInitializer: 'glorotUniform' as const,
    recurrentInitializer: 'glorotUniform' as const,
  };
  if (c.cell === 'lstm') return tf.layers.lstm({ ...args, recurrentActivation: 'sigmoid' as const });
  if (c.cell === 'gru') return tf.layers.gru({ ...args, recurrentActivation: 'sigmoid' as const });
  return tf.layers.simpleRNN({ ...args, activation: 'tanh' as const });
}

/** Batch-major input [B, T, I] and targets ([B, T, O] or [B, O]; one-hot for cross-entropy),
 * from the same deterministic data as unrolled's runners (time-major there). */
function data(c: BenchConfig): { x: tf.Tensor; y: tf.Tensor } {
  const { x, y } = benchBatch(c);
  return tf.tidy(() => {
    const xt = c.tokens
      ? tf.oneHot(tf.tensor2d(x as Int32Array, [c.T, c.B], 'int32'), c.inputSize)
      : tf.tensor3d(x as Float32Array, [c.T, c.B, c.inputSize]);
    const xb = tf.transpose(xt, [1, 0, 2]);
    const rows = c.at === 'every' ? [c.T, c.B] : [c.B];
    let yt =
      c.loss === 'cross-entropy'
        ? tf.oneHot(tf.tensor(y as Int32Array, rows, 'int32'), c.outputSize).toFloat()
        : tf.tensor(y as Float32Array, [...rows, c.outputSize]);
    if (c.at === 'every') yt = tf.transpose(yt, [1, 0, 2]);
    return { x: tf.keep(xb.toFloat()), y: tf.keep(yt) };
  });
}

/** Builds the model on `backend` and returns its step. clip: false times model.trainOnBatch
 * (no gradient clipping); clip: true a faithful step with global-norm clipping at 5. */
export async function tfRunner(c: BenchConfig, backend: TfBackend, clip: boolean): Promise<TfRunner> {
  await useBackend(backend);
  const model = tf.sequential({ layers: [layer(c), tf.layers.dense({ units: c.outputSize })] });
  const lossFn = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
    c.loss === 'cross-entropy' ? tf.losses.softmaxCrossEntropy(yTrue, yPred) : tf.losses.meanSquaredError(yTrue, yPred);
  const optimizer = tf.train.adam(1e-3);
  const { x, y } = data(c);
  let step: () => Promise<number>;
  if (!clip) {
    model.compile({ optimizer, loss: lossFn });
    step = async () => (await model.trainOnBatch(x, y)) as number;
  } else {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const MAX_NORM = 5;
    step = async () => {
      const loss = tf.tidy(() => {
        const { value, grads } = optimizer.computeGradients(
          () => lossFn(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          vars,
        );
        const names = Object.keys(grads);
        const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
        const scale = tf.minimum(1, tf.div(MAX_NORM, tf.add(norm, 1e-6)));
        optimizer.applyGradients(names.map((n) => ({ name: n, tensor: tf.mul(grads[n], scale) })));
        return value;
      });
      const v = (await loss.data())[0];
      loss.dispose();
      return v;
    };
  }
  return {
    step,
    numTensors: () => tf.memory().numTensors,
    dispose: () => {
      model.dispose();
      optimizer.dispose();
      x.dispose();
      y.dispose();
    },
  };
}
