// One training step = forward over the whole sequence + loss + full BPTT + clipping + update.
// A step whose loss or gradient norm is not finite never reaches the weights: parameters,
// optimizer moments and the step counter stay as they were, and the result says so (or, with
// onNonFinite: 'throw', a NonFiniteError is thrown).
import { ConfigError, NonFiniteError, describe } from '../errors.js';
import type { Batch } from '../model/batch.js';
import { checkBatch } from '../model/batch.js';
import { resolveLoss, type LossKind, type LossSpec, type ResolvedLoss } from '../model/loss.js';
import type { Model } from '../model/model.js';
import { Optimizer, type OptimizerName, type OptimizerSpec } from './optimizers.js';

export interface TrainerOptions {
  loss: LossSpec | LossKind;
  /** Default: Adam with PyTorch's defaults (lr 1e-3). */
  optimizer?: OptimizerSpec | OptimizerName;
  /** Clip the global L2 norm of all gradients to this value (torch.nn.utils.clip_grad_norm_). */
  clipNorm?: number;
  /** Clamp every gradient element to [−v, v] (torch.nn.utils.clip_grad_value_), after clipNorm. */
  clipValue?: number;
  /** What a non-finite loss or gradient norm does: 'skip' the step (default) or 'throw'. */
  onNonFinite?: 'skip' | 'throw';
}

export interface StepResult {
  /** The batch's loss before the update. */
  loss: number;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  /** The gradients were scaled down by clipNorm (or clamped by clipValue). */
  clipped: boolean;
  /** The step was refused (non-finite loss or gradient norm); nothing changed. */
  skipped: boolean;
  /** Updates applied so far, this one included. */
  step: number;
  /** Learning rate used. */
  lr: number;
  /** With diagnostics: ‖∂E/∂h_t‖ per layer [L][T]. */
  gradNormsOverTime?: Float32Array[];
}

export class Trainer {
  readonly loss: ResolvedLoss;
  readonly optimizer: Optimizer;
  readonly clipNorm: number;
  readonly clipValue: number;
  readonly onNonFinite: 'skip' | 'throw';
  /** Learning rate of the next step; change it freely (schedules do). */
  lr: number;

  constructor(readonly model: Model, options: TrainerOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object { loss, optimizer?, clipNorm? }', describe(options));
    this.loss = resolveLoss(options.loss, 'options.loss');
    this.clipNorm = positiveOrInf('options.clipNorm', options.clipNorm);
    this.clipValue = positiveOrInf('options.clipValue', options.clipValue);
    const onNonFinite = options.onNonFinite ?? 'skip';
    if (onNonFinite !== 'skip' && onNonFinite !== 'throw') throw new ConfigError('options.onNonFinite', '"skip" or "throw"', describe(onNonFinite));
    this.onNonFinite = onNonFinite;
    this.optimizer = new Optimizer(options.optimizer ?? 'adam', model.kernels, model.net.params.P);
    this.lr = this.optimizer.spec.lr;
  }

  get steps(): number { return this.optimizer.step; }

  step(batch: Batch, options: { diagnostics?: boolean } = {}): StepResult {
    const model = this.model;
    return model.guard(() => {
      const realRows = checkBatch(model.config, batch, this.loss);
      const net = model.net, k = model.kernels, p = net.params;
      const w = model.run(batch, this.loss, this.loss.at);
      const loss = net.loss(w, this.loss, realRows, true);
      const lr = this.lr;
      if (!Number.isFinite(loss)) return this.refuse(loss, NaN, `the loss is ${loss}`);
      net.backward(w, this.loss.at, options.diagnostics === true);
      const grads = p.base + p.P;
      const gradNorm = Math.sqrt(k.sumSquares(p.P, grads));
      if (!Number.isFinite(gradNorm)) return this.refuse(loss, gradNorm, `the gradient norm is ${gradNorm}`);
      let clipped = false;
      if (this.clipNorm !== Infinity) {
        const c = this.clipNorm / (gradNorm + 1e-6);
        if (c < 1) { k.scaleInplace(p.P, grads, c); clipped = true; }
      }
      if (this.clipValue !== Infinity) {
        k.clampInplace(p.P, grads, this.clipValue);
        clipped = clipped || gradNorm > 0;
      }
      this.optimizer.update(p.base, grads, lr);
      net.packedDirty = true;
      const result: StepResult = { loss, gradNorm, clipped, skipped: false, step: this.optimizer.step, lr };
      if (options.diagnostics) {
        const f = k.memory.f;
        result.gradNormsOverTime = w.layers.map((lw) => Float32Array.from(f.subarray(lw.dhnorm, lw.dhnorm + batch.T)));
      }
      return result;
    });
  }

  private refuse(loss: number, gradNorm: number, why: string): StepResult {
    if (this.onNonFinite === 'throw') throw new NonFiniteError('step', `${why}; the step was refused and nothing changed`);
    return { loss, gradNorm, clipped: false, skipped: true, step: this.optimizer.step, lr: this.lr };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

function positiveOrInf(name: string, v: unknown): number {
  if (v === undefined) return Infinity;
  if (typeof v !== 'number' || !(v > 0)) throw new ConfigError(name, 'a number > 0', describe(v));
  return v;
}
