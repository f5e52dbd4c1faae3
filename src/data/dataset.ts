// A dataset of variable-length sequences and the mini-batches fit() and evaluate() draw from it.
//
// Each example is one sequence: dense inputs (steps·inputSize floats, step-major) or token ids
// (steps ids), with targets per step (at 'every') or one per sequence (at 'last'), either class
// ids (cross-entropy) or values (MSE). A batch pads its sequences to the longest one and passes
// `lengths`, so padded steps neither count in the loss nor move the state; padding only costs
// time. Bucketed batching keeps that cost small: within pools of `bucketBatches` batches the
// sequences are sorted by length before they are cut into batches, so neighbours in a batch have
// similar lengths, while the shuffled pools and the shuffled order of the batches keep the
// epochs random (torchtext's BucketIterator does the same).
import { InvalidArgumentError, describe } from '../errors.js';
import type { Batch } from '../model/batch.js';
import type { LossSpec } from '../model/loss.js';
import { Rng } from '../model/rng.js';
import { checkKeys, checkNumber, copyFloats, copyIds, DOMAINS, snapshotObject } from '../validate/index.js';

export type TargetKind = 'classes' | 'values';

/** One sequence. */
export interface SequenceExample {
  /** Dense: steps·inputSize floats, step-major. Tokens: steps ids. */
  x: ArrayLike<number>;
  /**
   * At 'every': class ids [steps] or values [steps·targetSize]. At 'last': one class id (a number)
   * or targetSize values.
   */
  y: ArrayLike<number> | number;
}

export interface SequenceDatasetOptions {
  /** 'dense' (default) or 'tokens'. */
  input?: 'dense' | 'tokens';
  /** Dense: features per step (default 1). Tokens: the vocabulary size (ids are checked against it). */
  inputSize?: number;
  /** 'classes' (cross-entropy) or 'values' (MSE). */
  target: TargetKind;
  /** Values: per step or per sequence (default 1). Classes: the number of classes (ids are checked). */
  targetSize?: number;
  /** Targets at every step (default) or one per sequence, predicted from its last real step. */
  at?: 'every' | 'last';
}

/** A padded batch of a dataset, ready for Trainer.step or Model.predict. */
export interface DatasetBatch extends Batch {
  x: Float32Array | Int32Array;
  y: Float32Array | Int32Array;
  lengths: Int32Array;
  /** Real steps in the batch (Σ lengths). */
  realSteps: number;
  /** Rows the loss averages over: real steps at 'every', B at 'last' (× targetSize for values). */
  lossRows: number;
}

export interface BatchPlanOptions {
  /** Shuffle the order of the examples and of the batches (default true). */
  shuffle?: boolean;
  /** Sort by length within pools of `bucketBatches` batches (default true). */
  bucket?: boolean;
  /** Batches per pool that bucketing sorts (default 100). */
  bucketBatches?: number;
  /** Seed of the shuffle (default 0), or an Rng that continues. */
  seed?: number | Rng;
}

const DATASET_KEYS = ['input', 'inputSize', 'target', 'targetSize', 'at'];
const PLAN_KEYS = ['shuffle', 'bucket', 'bucketBatches', 'seed'];

export class SequenceDataset {
  readonly input: 'dense' | 'tokens';
  readonly inputSize: number;
  readonly target: TargetKind;
  readonly targetSize: number;
  readonly at: 'every' | 'last';
  /** Steps of each sequence. */
  readonly lengths: Int32Array;
  private readonly xs: (Float32Array | Int32Array)[];
  private readonly ys: (Float32Array | Int32Array)[];

  /** Copies and checks every example (each array read once). */
  constructor(examples: readonly SequenceExample[], options: SequenceDatasetOptions) {
    const o = snapshotObject('options', options, 'an object { target, input?, inputSize?, targetSize?, at? }', {
      ErrorClass: InvalidArgumentError,
    });
    if (o === undefined) throw new InvalidArgumentError('options', 'an object { target, ... }', 'undefined');
    checkKeys('options', o, DATASET_KEYS, InvalidArgumentError);
    const input = o.input ?? 'dense';
    if (input !== 'dense' && input !== 'tokens') throw new InvalidArgumentError('options.input', '"dense" or "tokens"', describe(input));
    const target = o.target;
    if (target !== 'classes' && target !== 'values')
      throw new InvalidArgumentError('options.target', '"classes" or "values"', describe(target));
    const at = o.at ?? 'every';
    if (at !== 'every' && at !== 'last') throw new InvalidArgumentError('options.at', '"every" or "last"', describe(at));
    const inputSize =
      o.inputSize === undefined
        ? input === 'dense'
          ? 1
          : 2 ** 31
        : checkNumber('options.inputSize', o.inputSize, input === 'dense' ? DOMAINS.inputSize : DOMAINS.vocabSize, InvalidArgumentError);
    const targetSize =
      o.targetSize === undefined
        ? target === 'values'
          ? 1
          : 2 ** 31
        : checkNumber('options.targetSize', o.targetSize, DOMAINS.outputSize, InvalidArgumentError);
    this.input = input;
    this.target = target;
    this.at = at;
    this.inputSize = input === 'dense' ? inputSize : o.inputSize === undefined ? 0 : inputSize;
    this.targetSize = target === 'values' ? targetSize : o.targetSize === undefined ? 0 : targetSize;
    if (!Array.isArray(examples)) throw new InvalidArgumentError('examples', 'an array of { x, y }', describe(examples));
    const n = examples.length;
    if (n === 0) throw new InvalidArgumentError('examples', 'at least one sequence', 'an empty array');
    this.lengths = new Int32Array(n);
    this.xs = new Array(n);
    this.ys = new Array(n);
    const perStep = input === 'dense' ? inputSize : 1;
    for (let i = 0; i < n; i++) {
      const e = examples[i] as unknown;
      if (e === null || typeof e !== 'object') throw new InvalidArgumentError(`examples[${i}]`, 'an object { x, y }', describe(e));
      const ex = e as Record<string, unknown>;
      const xv = ex.x,
        yv = ex.y;
      const x =
        input === 'dense'
          ? copyFloats(`examples[${i}].x`, xv, undefined, 'float32', 'finite numbers, steps·inputSize of them')
          : copyIds(`examples[${i}].x`, xv, undefined, inputSize);
      const steps = x.length / perStep;
      if (x.length === 0 || !Number.isInteger(steps)) {
        throw new InvalidArgumentError(`examples[${i}].x`, `a non-empty multiple of inputSize ${perStep} values`, `${x.length} values`);
      }
      checkNumber(`examples[${i}] steps`, steps, DOMAINS.length, InvalidArgumentError);
      const rows = at === 'every' ? steps : 1;
      const y =
        target === 'classes'
          ? copyIds(`examples[${i}].y`, typeof yv === 'number' ? [yv] : yv, rows, targetSize)
          : copyFloats(
              `examples[${i}].y`,
              typeof yv === 'number' ? [yv] : yv,
              rows * targetSize,
              'float32',
              `${at === 'every' ? 'steps·targetSize' : 'targetSize'} finite numbers`,
            );
      this.lengths[i] = steps;
      this.xs[i] = x as Float32Array | Int32Array;
      this.ys[i] = y as Float32Array | Int32Array;
    }
  }

  /** Sequences in the dataset. */
  get size(): number {
    return this.lengths.length;
  }

  /** The loss that fits the targets: cross-entropy for classes, MSE for values, at this.at. */
  lossSpec(): LossSpec {
    return { loss: this.target === 'classes' ? 'cross-entropy' : 'mse', at: this.at };
  }

  /** Real steps over all sequences. */
  get totalSteps(): number {
    let s = 0;
    for (let i = 0; i < this.lengths.length; i++) s += this.lengths[i];
    return s;
  }

  /** The sequences `indices` padded into one time-major batch (T = the longest of them). */
  batch(indices: ArrayLike<number>): DatasetBatch {
    const B = indices.length;
    if (B === 0) throw new InvalidArgumentError('indices', 'at least one index', 'none');
    let T = 0,
      real = 0;
    for (let j = 0; j < B; j++) {
      const i = indices[j];
      if (!Number.isInteger(i) || i < 0 || i >= this.size)
        throw new InvalidArgumentError(`indices[${j}]`, `an integer in [0, ${this.size - 1}]`, describe(i));
      T = Math.max(T, this.lengths[i]);
      real += this.lengths[i];
    }
    const I = this.input === 'dense' ? this.inputSize : 1;
    const O = this.target === 'values' ? this.targetSize : 1;
    const lengths = new Int32Array(B);
    const x = this.input === 'dense' ? new Float32Array(T * B * I) : new Int32Array(T * B);
    const every = this.at === 'every';
    const y = this.target === 'values' ? new Float32Array((every ? T : 1) * B * O) : new Int32Array((every ? T : 1) * B);
    for (let b = 0; b < B; b++) {
      const i = indices[b],
        n = this.lengths[i],
        xi = this.xs[i],
        yi = this.ys[i];
      lengths[b] = n;
      for (let t = 0; t < n; t++) {
        x.set(xi.subarray(t * I, t * I + I), (t * B + b) * I);
        if (every) y.set(yi.subarray(t * O, t * O + O), (t * B + b) * O);
      }
      if (!every) y.set(yi, b * O);
    }
    return { x, y, T, B, lengths, realSteps: real, lossRows: (every ? real : B) * O, layout: 'time-major' };
  }

  /** A dataset of the examples at `indices` (shares their arrays, which are never written). */
  subset(indices: ArrayLike<number>): SequenceDataset {
    const out = Object.create(SequenceDataset.prototype) as SequenceDataset;
    const idx = Array.from(indices, (i, j) => {
      if (!Number.isInteger(i) || i < 0 || i >= this.size)
        throw new InvalidArgumentError(`indices[${j}]`, `an integer in [0, ${this.size - 1}]`, describe(i));
      return i;
    });
    if (idx.length === 0) throw new InvalidArgumentError('indices', 'at least one index', 'none');
    Object.assign(out, {
      input: this.input,
      inputSize: this.inputSize,
      target: this.target,
      targetSize: this.targetSize,
      at: this.at,
      lengths: Int32Array.from(idx, (i) => this.lengths[i]),
      xs: idx.map((i) => this.xs[i]),
      ys: idx.map((i) => this.ys[i]),
    });
    return out;
  }

  /**
   * Splits off a seeded random `fraction` of the sequences: [rest, held out], e.g. a training
   * and a validation set. Both keep at least one sequence.
   */
  split(fraction: number, seed = 0): [SequenceDataset, SequenceDataset] {
    const [rest, heldOut] = splitOrder(this.size, fraction, seed);
    return [this.subset(rest), this.subset(heldOut)];
  }
}

/**
 * The indices of a seeded split of `size` sequences: [rest, held out], the held-out share
 * `fraction` (at least one sequence each). SequenceDataset.split and SequenceFile.split draw the same.
 */
export function splitOrder(size: number, fraction: number, seed: number): [Int32Array, Int32Array] {
  checkNumber('fraction', fraction, { min: 0, max: 1, minOpen: true, maxOpen: true }, InvalidArgumentError);
  checkNumber('seed', seed, DOMAINS.seed, InvalidArgumentError);
  if (size < 2) throw new InvalidArgumentError('dataset', 'at least two sequences to split', `${size}`);
  const order = permutation(size, new Rng(seed));
  const k = Math.min(size - 1, Math.max(1, Math.round(size * fraction)));
  return [order.subarray(k), order.subarray(0, k)];
}

/** A uniformly random permutation of 0 … n−1 (Fisher–Yates). */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * The batches of one epoch: index lists of at most `batchSize` sequences covering every
 * sequence once. With `bucket`, sequences of similar length share a batch (see the top of the
 * file); without it, batches are consecutive runs of the (shuffled) order.
 */
export function planBatches(lengths: ArrayLike<number>, batchSize: number, options: BatchPlanOptions = {}): Int32Array[] {
  checkNumber('batchSize', batchSize, DOMAINS.B, InvalidArgumentError);
  const o =
    snapshotObject('options', options, 'an object { shuffle?, bucket?, bucketBatches?, seed? }', {
      ErrorClass: InvalidArgumentError,
      opaque: ['seed'],
    }) ?? {};
  checkKeys('options', o, PLAN_KEYS, InvalidArgumentError);
  const shuffle = flag('options.shuffle', o.shuffle, true);
  const bucket = flag('options.bucket', o.bucket, true);
  const pool =
    o.bucketBatches === undefined
      ? 100
      : checkNumber('options.bucketBatches', o.bucketBatches, DOMAINS.bucketBatches, InvalidArgumentError);
  const seed = o.seed as unknown;
  const rng =
    seed instanceof Rng ? seed : new Rng(seed === undefined ? 0 : checkNumber('options.seed', seed, DOMAINS.seed, InvalidArgumentError));
  const n = lengths.length;
  const order = shuffle ? permutation(n, rng) : Int32Array.from({ length: n }, (_, i) => i);
  if (bucket) {
    const rank = new Int32Array(n);
    for (let i = 0; i < n; i++) rank[order[i]] = i;
    const size = Math.min(n, batchSize * pool);
    for (let start = 0; start < n; start += size) {
      // ties keep their shuffled order (an explicit key, not an engine's sort stability), so
      // equal lengths still mix between epochs and a seed gives one order everywhere
      order.subarray(start, Math.min(n, start + size)).sort((a, b) => lengths[a] - lengths[b] || rank[a] - rank[b]);
    }
  }
  const batches: Int32Array[] = [];
  for (let i = 0; i < n; i += batchSize) batches.push(order.slice(i, Math.min(n, i + batchSize)));
  if (shuffle) {
    const p = permutation(batches.length, rng);
    return Array.from(p, (i) => batches[i]);
  }
  return batches;
}

/** Fraction of the padded batch slots (Σ T·B) that are padding. */
export function paddingFraction(lengths: ArrayLike<number>, batches: readonly ArrayLike<number>[]): number {
  let slots = 0,
    real = 0;
  for (const b of batches) {
    let T = 0;
    for (let j = 0; j < b.length; j++) {
      T = Math.max(T, lengths[b[j]]);
      real += lengths[b[j]];
    }
    slots += T * b.length;
  }
  return slots === 0 ? 0 : 1 - real / slots;
}

function flag(argument: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(argument, 'true or false', describe(v));
  return v;
}
