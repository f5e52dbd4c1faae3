// Noisy sine forecasting: from the values so far, predict the next one.
//
// Each sequence is s_t = A·sin(ω·t + φ) + σ·ε_t, t = 0 … T, with a period 2π/ω drawn from
// U(minPeriod, maxPeriod) steps, φ from U(0, 2π), A from U(minAmplitude, 1) and ε_t ~ N(0, 1).
//
//   x [T,B,1]  s_t           (the noisy series)
//   y [T,B,1]  s_{t+1}       (the next noisy value; with cleanTargets, the next clean value)
//   model      inputSize 1, outputSize 1, input 'dense'
//   loss       lossSpec = { loss: 'mse', at: 'every' }
// With noisy targets the best possible MSE is σ² (the noise cannot be forecast); predicting
// the current value again (persistence) is the naive baseline (persistenceMSE).
import type { Batch } from '../../model/batch.js';
import type { LossSpec } from '../../model/loss.js';
import { checkBatchSize, intOption, numberOption, objectOption, toRng, type RngOrSeed } from './common.js';

export const lossSpec: LossSpec = { loss: 'mse', at: 'every' };
export const inputSize = 1;
export const outputSize = 1;
export const input = 'dense';

export interface SineOptions {
  T: number;
  B: number;
  /** Standard deviation σ of the noise. Default 0.1. */
  noise?: number;
  /** Shortest and longest period in steps. Defaults 8 and 32. */
  minPeriod?: number;
  maxPeriod?: number;
  /** Smallest amplitude (the largest is 1). Default 0.5. */
  minAmplitude?: number;
  /** Targets are the next clean value instead of the next noisy one. Default false. */
  cleanTargets?: boolean;
}

export interface SineBatch extends Batch {
  x: Float32Array;
  y: Float32Array;
}

/** One batch of noisy sines; pass an Rng to continue a stream of batches, or a seed. */
export function sineBatch(options: SineOptions, rng?: RngOrSeed): SineBatch {
  options = objectOption('options', options, ['T', 'B', 'noise', 'minPeriod', 'maxPeriod', 'minAmplitude', 'cleanTargets']);
  const T = intOption('options.T', options.T, undefined, 1);
  const B = intOption('options.B', options.B, undefined, 1);
  const noise = numberOption('options.noise', options.noise, 0.1, 0, 1e6);
  const minPeriod = numberOption('options.minPeriod', options.minPeriod, 8, 2, 1e9);
  const maxPeriod = numberOption('options.maxPeriod', options.maxPeriod, Math.max(32, minPeriod), minPeriod, 1e9);
  const minAmplitude = numberOption('options.minAmplitude', options.minAmplitude, 0.5, 0, 1);
  const clean = options.cleanTargets === true;
  checkBatchSize(T, B, 1);
  const r = toRng(rng);
  const x = new Float32Array(T * B);
  const y = new Float32Array(T * B);
  const s = new Float64Array(T + 1);
  const c = new Float64Array(T + 1);
  for (let b = 0; b < B; b++) {
    const omega = (2 * Math.PI) / r.uniform(minPeriod, maxPeriod);
    const phi = r.uniform(0, 2 * Math.PI);
    const A = r.uniform(minAmplitude, 1);
    for (let t = 0; t <= T; t++) {
      c[t] = A * Math.sin(omega * t + phi);
      s[t] = c[t] + noise * r.normal();
    }
    for (let t = 0; t < T; t++) {
      x[t * B + b] = s[t];
      y[t * B + b] = clean ? c[t + 1] : s[t + 1];
    }
  }
  return { x, T, B, y };
}

/** MSE of predicting y_t = x_t (tomorrow = today): the naive baseline on a batch. */
export function persistenceMSE(batch: SineBatch): number {
  let e = 0;
  for (let i = 0; i < batch.y.length; i++) e += (batch.y[i] - batch.x[i]) ** 2;
  return e / batch.y.length;
}
