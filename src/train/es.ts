// Evolution strategies (Salimans, Ho, Chen, Sidor & Sutskever 2017) as the general-purpose,
// gradient-free baseline that BPTT is compared with: the same models, losses and batches, only
// forward passes. Each step draws N Gaussian directions ε_i over all P weights, evaluates the
// loss at θ + σε_i and θ − σε_i (antithetic pairs: the even terms of the loss's Taylor series
// cancel in their difference, which removes most of the estimate's variance), replaces the 2N
// losses by their centred ranks (so the step does not depend on the loss's scale, and one
// outlier cannot dominate), and moves θ against
//
//   g = 1/(2Nσ) · Σ_i (s(L⁺_i) − s(L⁻_i)) · ε_i
//
// with a plain step θ ← θ − lr·g or Adam. Salimans et al. maximise a fitness F; here F = −E,
// and descending E with the shaped losses is the same step. The directions come from the
// library's Rng, so a seed fixes the whole run. Losses are computed from model.predict with the
// same definition as model.lossAndGradients (docs/equations.md#losses), without a backward pass.
import { ConfigError, describe } from '../errors.js';
import type { Batch } from '../model/batch.js';
import { resolveLoss, type LossKind, type LossSpec, type ResolvedLoss } from '../model/loss.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import { checkKeys, checkNumber, DOMAINS } from '../validate/index.js';
import { lossWeights, readHostBatch, rowLoss, type HostBatch } from './host-batch.js';

export interface EvolutionStrategiesOptions {
  /** Antithetic pairs N per step: 2N loss evaluations. */
  population: number;
  /** Standard deviation σ of the perturbations, in weight units. */
  sigma: number;
  /** Learning rate of the update. */
  lr: number;
  /** The loss to minimise, as for model.lossAndGradients. */
  loss: LossSpec | LossKind;
  /** Seed of the perturbations. Default 0. */
  seed?: number;
  /** 'adam' (default; β 0.9, 0.999, ε 1e-8, as in Salimans et al.) or 'sgd': θ ← θ − lr·g. */
  optimizer?: 'adam' | 'sgd';
  /** 'centered-ranks' (default) or 'none' (raw losses: g is then an unbiased estimate of the smoothed loss's gradient). */
  fitnessShaping?: 'centered-ranks' | 'none';
}

export interface EsEstimate {
  /** The gradient estimate g by parameter name, shaped like the parameter. */
  grads: Record<string, Float64Array>;
  /** The 2N losses: [L⁺_0, L⁻_0, L⁺_1, L⁻_1, …]. */
  losses: Float64Array;
}

export interface EsStepResult {
  /** The loss at the weights before the update. */
  loss: number;
  /** The 2N perturbed losses, [L⁺_0, L⁻_0, …]. */
  perturbedLosses: Float64Array;
  /** ‖g‖ of the estimate that was applied. */
  gradNorm: number;
}

const KEYS: readonly string[] = ['population', 'sigma', 'lr', 'loss', 'seed', 'optimizer', 'fitnessShaping'];
const BETA1 = 0.9,
  BETA2 = 0.999,
  ADAM_EPS = 1e-8;

/**
 * Salimans et al.'s centred ranks: each value's rank among all (0 for the smallest) scaled to
 * [−0.5, 0.5] as rank/(n − 1) − 0.5. Tied values share their average rank, so an antithetic
 * pair with equal losses contributes nothing.
 */
export function centeredRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  if (n < 2) return out;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2;
    for (let k = i; k <= j; k++) out[order[k]] = rank / (n - 1) - 0.5;
    i = j + 1;
  }
  return out;
}

function oneOf<T extends string>(argument: string, v: unknown, options: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !options.includes(v as T))
    throw new ConfigError(argument, `one of ${options.map((o) => `"${o}"`).join(', ')}`, describe(v));
  return v as T;
}

export class EvolutionStrategies {
  readonly population: number;
  readonly sigma: number;
  readonly lr: number;
  readonly seed: number;
  readonly optimizer: 'adam' | 'sgd';
  readonly fitnessShaping: 'centered-ranks' | 'none';
  readonly loss: ResolvedLoss;
  /** The perturbations' generator; its state (getState) is all a checkpoint of a run needs besides Adam's moments. */
  readonly rng: Rng;
  private readonly names: string[];
  private readonly offsets: number[];
  private readonly P: number;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private updates = 0;

  constructor(
    readonly model: Model,
    options: EvolutionStrategiesOptions,
  ) {
    if (options === null || typeof options !== 'object')
      throw new ConfigError('options', 'an object { population, sigma, lr, loss, ... }', describe(options));
    checkKeys('options', options, KEYS);
    const { population, sigma, lr, loss, seed, optimizer, fitnessShaping } = options;
    this.population = checkNumber('options.population', population, DOMAINS.population);
    this.sigma = checkNumber('options.sigma', sigma, DOMAINS.sigma);
    this.lr = checkNumber('options.lr', lr, DOMAINS.lr);
    this.seed = seed === undefined ? 0 : checkNumber('options.seed', seed, DOMAINS.seed);
    this.loss = resolveLoss(loss, 'options.loss', model.config.outputSize);
    this.optimizer = oneOf('options.optimizer', optimizer, ['adam', 'sgd'] as const, 'adam');
    this.fitnessShaping = oneOf('options.fitnessShaping', fitnessShaping, ['centered-ranks', 'none'] as const, 'centered-ranks');
    // the batch is read time-major here (readHostBatch), then handed to predict as such
    if (model.config.batchFirst)
      throw new ConfigError('model', 'a time-major model (evolution strategies read batches [T, B, …])', 'batchFirst: true');
    this.rng = new Rng(this.seed);
    this.names = model.parameterNames();
    this.offsets = [];
    let P = 0;
    for (const name of this.names) {
      this.offsets.push(P);
      P += model.parameterShape(name).reduce((a, b) => a * b, 1);
    }
    this.P = P;
    this.m = new Float64Array(P);
    this.v = new Float64Array(P);
  }

  /** Updates applied so far. */
  get steps(): number {
    return this.updates;
  }

  /** The loss of `batch` at the model's current weights (one forward pass). */
  evaluate(batch: Batch): number {
    return this.lossOf(readHostBatch(this.model.config, batch, this.loss));
  }

  /**
   * The gradient estimate at the current weights from N fresh antithetic pairs. The weights are
   * unchanged afterwards (restored even if an evaluation throws); the generator advances.
   */
  estimate(batch: Batch): EsEstimate {
    const hb = readHostBatch(this.model.config, batch, this.loss);
    const { g, losses } = this.estimateFlat(hb);
    return { grads: this.unflatten(g, true), losses };
  }

  /** One update: N pairs evaluated, the shaped estimate applied with the chosen optimizer. */
  step(batch: Batch): EsStepResult {
    const hb = readHostBatch(this.model.config, batch, this.loss);
    const loss = this.lossOf(hb);
    const { g, losses, theta } = this.estimateFlat(hb);
    let norm2 = 0;
    for (let p = 0; p < this.P; p++) norm2 += g[p] * g[p];
    this.updates++;
    if (this.optimizer === 'sgd') {
      for (let p = 0; p < this.P; p++) theta[p] -= this.lr * g[p];
    } else {
      // PyTorch's Adam: bias corrections folded into the step size and the denominator
      const bc1 = 1 - BETA1 ** this.updates,
        bc2 = 1 - BETA2 ** this.updates;
      const stepSize = this.lr / bc1,
        bc2Sqrt = Math.sqrt(bc2);
      for (let p = 0; p < this.P; p++) {
        this.m[p] = BETA1 * this.m[p] + (1 - BETA1) * g[p];
        this.v[p] = BETA2 * this.v[p] + (1 - BETA2) * g[p] * g[p];
        theta[p] -= (stepSize * this.m[p]) / (Math.sqrt(this.v[p]) / bc2Sqrt + ADAM_EPS);
      }
    }
    this.write(theta);
    return { loss, perturbedLosses: losses, gradNorm: Math.sqrt(norm2) };
  }

  private estimateFlat(hb: HostBatch): { g: Float64Array; losses: Float64Array; theta: Float64Array } {
    const N = this.population,
      P = this.P,
      sigma = this.sigma;
    const theta = this.read();
    const trial = new Float64Array(P),
      eps = new Float64Array(P);
    const losses = new Float64Array(2 * N);
    // the directions are drawn twice from the same generator state (once to evaluate, once to
    // combine after shaping) instead of being stored: N·P floats would not fit for large models
    const start = this.rng.getState();
    try {
      for (let i = 0; i < N; i++) {
        for (let p = 0; p < P; p++) eps[p] = this.rng.normal();
        for (const sign of [1, -1]) {
          for (let p = 0; p < P; p++) trial[p] = theta[p] + sign * sigma * eps[p];
          this.write(trial);
          losses[2 * i + (sign === 1 ? 0 : 1)] = this.lossOf(hb);
        }
      }
    } finally {
      this.write(theta);
    }
    const end = this.rng.getState();
    const shaped = this.fitnessShaping === 'centered-ranks' ? centeredRanks(losses) : losses;
    const g = new Float64Array(P);
    this.rng.setState(start);
    for (let i = 0; i < N; i++) {
      const c = (shaped[2 * i] - shaped[2 * i + 1]) / (2 * N * sigma);
      for (let p = 0; p < P; p++) g[p] += c * this.rng.normal();
    }
    this.rng.setState(end);
    return { g, losses, theta };
  }

  /** E of the model's current weights on a read batch: the head's outputs from predict, reduced as the model does. */
  private lossOf(hb: HostBatch): number {
    const spec = this.loss,
      O = this.model.config.outputSize;
    const { y } = this.model.predict(
      { x: hb.x, T: hb.T, B: hb.B, mask: hb.mask ?? undefined, h0: hb.h0 ?? undefined, c0: hb.c0 ?? undefined },
      { at: spec.at },
    );
    const { w, scale } = lossWeights(hb, spec, O);
    let E = 0;
    for (let r = 0; r < w.length; r++) {
      if (w[r] !== 0) E += rowLoss(spec.loss, y, r * O, O, hb.y as Float64Array | Int32Array, r, scale * w[r], null);
    }
    return E;
  }

  private read(): Float64Array {
    const theta = new Float64Array(this.P);
    for (let i = 0; i < this.names.length; i++) theta.set(this.model.getParameter(this.names[i]), this.offsets[i]);
    return theta;
  }

  private write(theta: Float64Array): void {
    this.model.loadStateDict(this.unflatten(theta));
  }

  /** Views into `flat` by parameter name, or copies with `copy`. */
  private unflatten(flat: Float64Array, copy = false): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    this.names.forEach((name, i) => {
      const from = this.offsets[i],
        to = i + 1 < this.names.length ? this.offsets[i + 1] : this.P;
      out[name] = copy ? flat.slice(from, to) : flat.subarray(from, to);
    });
    return out;
  }
}
