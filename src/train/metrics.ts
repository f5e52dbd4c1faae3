// Loss and metrics of a model over a whole dataset, from forward passes only (no backward pass,
// no weight or optimizer state touched). The loss is the one the Trainer minimises
// (docs/equations.md#losses) taken as a mean over every real row of the dataset (cross-entropy)
// or every real element (MSE), so it does not depend on how the data is cut into batches; with
// reduction 'sum' it is still reported per row, which keeps epochs of different sizes
// comparable. With class weights the mean is PyTorch's weighted one, Σ w·ℓ / Σ w over the dataset.
import { ConfigError, InvalidArgumentError, describe } from '../errors.js';
import type { SequenceDataset } from '../data/dataset.js';
import { planBatches } from '../data/dataset.js';
import { resolveLoss, type LossKind, type LossSpec, type ResolvedLoss } from '../model/loss.js';
import type { Model } from '../model/model.js';
import { checkKeys, checkNumber, DOMAINS, snapshotObject } from '../validate/index.js';

/** 'loss'; for cross-entropy also 'accuracy' and 'perplexity' (exp of the loss); for MSE 'mae'. */
export type MetricName = 'loss' | 'accuracy' | 'perplexity' | 'mae';

export interface EvaluateOptions {
  /** Default: the dataset's own (cross-entropy for classes, MSE for values, at its `at`). */
  loss?: LossSpec | LossKind;
  /** Metrics besides the loss (default none). */
  metrics?: MetricName[];
  /** Sequences per forward pass (default 64). */
  batchSize?: number;
}

export interface EvaluateResult {
  loss: number;
  accuracy?: number;
  perplexity?: number;
  mae?: number;
  /** Sequences evaluated. */
  sequences: number;
  /** Rows the loss averages over (real steps or sequences, × outputs for MSE). */
  rows: number;
}

export const METRICS: readonly MetricName[] = ['loss', 'accuracy', 'perplexity', 'mae'];

/** Whether a larger value of the metric is better. */
export function higherIsBetter(metric: MetricName): boolean {
  return metric === 'accuracy';
}

/** @internal The metric is defined for this loss. */
export function checkMetric(
  argument: string,
  metric: unknown,
  loss: LossKind,
  E: typeof ConfigError | typeof InvalidArgumentError = ConfigError,
): MetricName {
  if (typeof metric !== 'string' || !(METRICS as readonly string[]).includes(metric)) {
    throw new E(argument, `one of ${METRICS.map((m) => `"${m}"`).join(', ')}`, describe(metric));
  }
  const m = metric as MetricName;
  if (loss === 'mse' && (m === 'accuracy' || m === 'perplexity')) throw new E(argument, `a metric of MSE ("loss" or "mae")`, describe(m));
  if (loss === 'cross-entropy' && m === 'mae')
    throw new E(argument, 'a metric of cross-entropy ("loss", "accuracy" or "perplexity")', describe(m));
  return m;
}

/** @internal The loss fits the dataset's targets. */
export function checkLossFits(
  argument: string,
  loss: ResolvedLoss,
  data: Pick<SequenceDataset, 'target' | 'at'>,
  E: typeof ConfigError | typeof InvalidArgumentError,
): void {
  const want = data.target === 'classes' ? 'cross-entropy' : 'mse';
  if (loss.loss !== want) throw new E(`${argument}.loss`, `"${want}" for a dataset of ${data.target}`, describe(loss.loss));
  if (loss.at !== data.at) throw new E(`${argument}.at`, `"${data.at}", where the dataset has its targets`, describe(loss.at));
}

/** The model's loss and metrics over `data` (forward passes only). */
export function evaluate(model: Model, data: SequenceDataset, options: EvaluateOptions = {}): EvaluateResult {
  const o = snapshotObject('options', options, 'an object { loss?, metrics?, batchSize? }', { ErrorClass: InvalidArgumentError }) ?? {};
  checkKeys('options', o, ['loss', 'metrics', 'batchSize'], InvalidArgumentError);
  const loss = resolveLoss((o.loss ?? data.lossSpec()) as LossSpec | LossKind, 'options.loss', model.config.outputSize);
  checkLossFits('options.loss', loss, data, InvalidArgumentError);
  const names = o.metrics ?? [];
  if (!Array.isArray(names)) throw new InvalidArgumentError('options.metrics', 'an array of metric names', describe(names));
  const metrics = names.map((m, i) => checkMetric(`options.metrics[${i}]`, m, loss.loss, InvalidArgumentError));
  const batchSize = o.batchSize === undefined ? 64 : checkNumber('options.batchSize', o.batchSize, DOMAINS.B, InvalidArgumentError);
  const acc = new MetricAccumulator(loss.loss, model.config.outputSize, loss.classWeights);
  // sorted by length, in order: the least padding, and the same result on every call
  for (const idx of planBatches(data.lengths, batchSize, { shuffle: false, bucket: true })) {
    const batch = data.batch(idx);
    const p = model.predict({ x: batch.x, T: batch.T, B: batch.B, lengths: batch.lengths, layout: batch.layout }, { at: loss.at });
    acc.add(p.y, batch.y, batch.lengths, batch.T, batch.B, loss.at);
  }
  const r = acc.result(metrics);
  r.sequences = data.size;
  return r;
}

/** @internal Sums of the loss and the metrics over batches of predictions. */
export class MetricAccumulator {
  private lossSum = 0;
  private correct = 0;
  private absSum = 0;
  private rows = 0;
  /** Σ of the rows' class weights: the divisor of a class-weighted cross-entropy */
  private weightSum = 0;

  constructor(
    private readonly kind: LossKind,
    private readonly O: number,
    private readonly classWeights?: readonly number[],
  ) {}

  /** Outputs y [T,B,O] (at 'every') or [B,O] and the batch's targets. */
  add(y: ArrayLike<number>, target: ArrayLike<number>, lengths: ArrayLike<number>, T: number, B: number, at: 'every' | 'last'): void {
    const O = this.O;
    const row = (r: number): void => {
      const off = r * O;
      if (this.kind === 'cross-entropy') {
        const id = target[r];
        if (!(id >= 0 && id < O))
          throw new InvalidArgumentError('targets', `class ids in [0, ${O - 1}] (the model's outputSize)`, describe(id));
        let max = -Infinity,
          best = 0;
        for (let k = 0; k < O; k++)
          if (y[off + k] > max) {
            max = y[off + k];
            best = k;
          }
        let sum = 0;
        for (let k = 0; k < O; k++) sum += Math.exp(y[off + k] - max);
        const cw = this.classWeights ? this.classWeights[id] : 1;
        this.lossSum += cw * (Math.log(sum) + max - y[off + id]);
        this.weightSum += cw;
        if (best === id) this.correct++;
        this.rows++;
      } else {
        for (let k = 0; k < O; k++) {
          const d = y[off + k] - target[off + k];
          this.lossSum += d * d;
          this.absSum += Math.abs(d);
        }
        this.rows += O;
      }
    };
    if (this.kind === 'mse' && target.length !== (at === 'every' ? T * B : B) * O) {
      throw new InvalidArgumentError(
        'targets',
        `${at === 'every' ? 'T·B' : 'B'}·outputSize = ${(at === 'every' ? T * B : B) * O} values (the model's outputSize ${O})`,
        `${target.length}`,
      );
    }
    if (at === 'last') {
      for (let b = 0; b < B; b++) row(b);
    } else {
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t < lengths[b]) row(t * B + b);
    }
  }

  result(metrics: readonly MetricName[]): EvaluateResult {
    // class-weighted: PyTorch's weighted mean over the whole dataset, Σ w·ℓ / Σ w
    const loss = this.lossSum / (this.classWeights ? this.weightSum : this.rows);
    const r: EvaluateResult = { loss, sequences: 0, rows: this.rows };
    for (const m of metrics) {
      if (m === 'accuracy') r.accuracy = this.correct / this.rows;
      else if (m === 'perplexity') r.perplexity = Math.exp(loss);
      else if (m === 'mae') r.mae = this.absSum / this.rows;
    }
    return r;
  }
}
