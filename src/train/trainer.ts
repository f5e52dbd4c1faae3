// One training step = forward over the whole sequence + loss + full BPTT + clipping + update.
// A step whose loss or gradient norm is not finite never reaches the weights: parameters,
// optimizer moments and the step counter stay as they were, and the result says so (or, with
// onNonFinite: 'throw', a NonFiniteError is thrown).
//
// Stateful training (stepStateful) carries the hidden state from one chunk of a stream to the
// next and implements Williams & Peng's TBPTT(k1, k2): every k1 new steps, backpropagate
// through the last k2 steps (the k2 − k1 older steps are replayed from a history, from the
// state carried at the window's start, and add nothing to the loss). Gradients never cross the
// window's start; state values do.
import { ConfigError, InvalidArgumentError, MemoryLimitError, NonFiniteError, describe } from '../errors.js';
import type { Batch, OwnedBatch } from '../model/batch.js';
import { Lifetime } from '../runtime/lifetime.js';
import { copyFloats, copyIds } from '../validate/arrays.js';
import type { LossKind, LossSpec, ResolvedLoss } from '../model/loss.js';
import type { Floats, Model } from '../model/model.js';
import type { Dtype } from '../runtime/memory.js';
import { Optimizer, type OptimizerName, type OptimizerSpec } from './optimizers.js';
import { resolveTrainerOptions } from './options.js';
import { checkNumber, DOMAINS } from '../validate/index.js';
import type { Schedule, ScheduleSpec } from './schedules.js';

/**
 * Carrying the state from one chunk to the next runs time forwards only: the reverse direction
 * of a bidirectional layer starts at the end of each sequence, which a stream never reaches.
 */
const NOT_STATEFUL =
  'a unidirectional model (truncated BPTT and stateful training carry the state forwards; the reverse direction of a bidirectional layer needs the whole sequence): train on whole sequences with step() or fit()';

export interface TrainerOptions {
  loss: LossSpec | LossKind;
  /** Default: Adam with PyTorch's defaults (lr 1e-3). */
  optimizer?: OptimizerSpec | OptimizerName;
  /** Learning-rate schedule over updates (factor of the optimizer's lr). */
  schedule?: ScheduleSpec;
  /** Clip the global L2 norm of all gradients to this value (torch.nn.utils.clip_grad_norm_). */
  clipNorm?: number;
  /** Clamp every gradient element to [−v, v] (torch.nn.utils.clip_grad_value_), after clipNorm. */
  clipValue?: number;
  /**
   * Per-timestep clipping: in every layer's BPTT loop, the gradient flowing back into h_t of each
   * sequence (from above plus from step t+1) is scaled to L2 norm ≤ this value before step t uses
   * it and passes it on to t − 1 (docs/equations.md#per-timestep-clipping). The step then follows
   * that clipped gradient, no longer the exact one; clipNorm and clipValue still apply after it.
   * PyTorch has no such option. Default: off.
   */
  clipHiddenNorm?: number;
  /** What a non-finite loss or gradient norm does: 'skip' the step (default) or 'throw'. */
  onNonFinite?: 'skip' | 'throw';
  /** Truncated BPTT for stepStateful: k1 new steps per update, backpropagated over k2 ≥ k1 steps. */
  tbptt?: { k1: number; k2: number };
}

export interface StepResult {
  /** The batch's loss before the update. */
  loss: number;
  /** Global L2 norm of the gradients before clipNorm and clipValue (after any clipHiddenNorm). */
  gradNorm: number;
  /** The gradients were scaled down by clipNorm (or clamped by clipValue). */
  clipped: boolean;
  /** The step was refused (non-finite loss or gradient norm, or an update that would overflow); nothing changed. */
  skipped: boolean;
  /** Why a skipped step was refused (undefined for a step that was taken). */
  reason?: string;
  /** Updates applied so far, this one included. */
  step: number;
  /** Learning rate used. */
  lr: number;
  /** With diagnostics: ‖∂E/∂h_t‖ per layer [L][T]. */
  gradNormsOverTime?: Floats[];
}

/** A chunk of a stream for stepStateful: T = k1 new steps; `reset` starts the rows' streams afresh. */
export interface StreamChunk extends Omit<Batch, 'h0' | 'c0' | 'mask' | 'lengths'> {
  reset?: boolean;
}

/** The state stepStateful carries between chunks (for checkpoints). */
export interface CarriedState {
  B: number;
  h: Floats;
  c: Floats | null;
  /** inputs of the last (k2 − k1) steps, time-major, and how many steps they hold */
  history: Floats;
  historySteps: number;
}

export class Trainer {
  readonly loss: ResolvedLoss;
  readonly optimizer: Optimizer;
  readonly clipNorm: number;
  readonly clipValue: number;
  /** Per-timestep clipping threshold; 0 when off. */
  readonly clipHiddenNorm: number;
  readonly onNonFinite: 'skip' | 'throw';
  readonly k1: number;
  readonly k2: number;
  private base = 0;
  /** Base learning rate; the rate of a step is baseLr × schedule(step). Set it within DOMAINS.lr. */
  get baseLr(): number {
    return this.base;
  }
  set baseLr(lr: number) {
    this.base = checkNumber('trainer.baseLr', lr, DOMAINS.lr);
  }
  private readonly schedule: Schedule;
  /** The schedule as configured (checkpoints store it). */
  readonly scheduleSpec: ScheduleSpec | undefined;
  private carried: CarriedState | null = null;
  // the step's loss, norm and clipping factor as they cross calls: through a typed array, so that
  // no double is boxed (Kernels)
  private readonly scalars = new Float64Array(1);
  // [loss, gradNorm, lr] of the step, for writeResult
  private readonly results = new Float64Array(3);
  /** @internal ends with dispose(), the model's or the core's; releases the optimizer state */
  readonly lifetime: Lifetime;

  constructor(
    readonly model: Model,
    options: TrainerOptions,
  ) {
    model.assertAlive();
    const inputsPerStep = model.config.input === 'tokens' ? 1 : model.config.inputSize;
    const o = resolveTrainerOptions(options, 'options', ConfigError, inputsPerStep, model.config.outputSize);
    if (o.k1 && model.config.bidirectional) throw new ConfigError('options.tbptt', NOT_STATEFUL, 'a bidirectional model');
    this.loss = o.loss;
    this.clipNorm = o.clipNorm;
    this.clipValue = o.clipValue;
    this.clipHiddenNorm = o.clipHiddenNorm;
    this.onNonFinite = o.onNonFinite;
    this.schedule = o.schedule;
    this.scheduleSpec = o.scheduleSpec;
    this.k1 = o.k1;
    this.k2 = o.k2;
    this.optimizer = new Optimizer(o.optimizerSpec, model.arena.kernels, model.arena.P);
    this.baseLr = this.optimizer.spec.lr;
    const optimizer = this.optimizer;
    this.lifetime = new Lifetime('the trainer', model.lifetime, () => optimizer.dispose());
    if (this.lifetime.isDisposed) {
      // reading the options ran a getter that disposed the model or its core
      optimizer.dispose();
      this.lifetime.assertAlive();
    }
    // predict's default `at` and its probabilities follow the loss the model is trained with
    model.recordTraining(o.loss);
  }

  /** Updates applied so far. */
  get steps(): number {
    return this.optimizer.step;
  }

  /** Learning rate of the next step. */
  get lr(): number {
    this.nextLr(this.scalars);
    return this.scalars[0];
  }

  /** The learning rate of the next step, baseLr × schedule(step), into into[0] (not boxed: see `scalars`). */
  private nextLr(into: Float64Array): void {
    into[0] = this.base * this.schedule(this.optimizer.step);
  }

  /** One update on a batch (full BPTT over its T steps). */
  step(batch: Batch, options: { diagnostics?: boolean } = {}): StepResult {
    return this.stepInto(batch, newResult(), diagnosticsOption(options));
  }

  /**
   * step() writing its result into `out` instead of a new object: with it, a warmed-up training
   * step allocates nothing on the JavaScript heap (see bench/alloc.ts).
   */
  stepInto(batch: Batch, out: StepResult, diagnostics = false): StepResult {
    this.lifetime.assertAlive();
    if (out === null || typeof out !== 'object') throw new InvalidArgumentError('out', 'a StepResult object to write into', describe(out));
    const model = this.model;
    model.enter();
    try {
      const owned = model.readBatch(batch, this.loss);
      // reading the batch may have run user code that disposed this trainer, its model or core
      this.lifetime.assertAlive();
      return this.update(owned, diagnostics === true, null, out);
    } finally {
      model.exit();
    }
  }

  /**
   * One update on the next chunk of a stream, starting from the state the previous chunk left
   * (zeros at first, after resetState(), when chunk.reset is set or when B changes). With
   * tbptt { k1, k2 }, chunk.T must be k1 and the update backpropagates over the last k2 steps.
   */
  stepStateful(chunk: StreamChunk, options: { diagnostics?: boolean } = {}): StepResult {
    this.lifetime.assertAlive();
    const model = this.model,
      cfg = model.config;
    model.enter();
    try {
      if (cfg.bidirectional) throw new InvalidArgumentError('stepStateful', NOT_STATEFUL, 'a bidirectional model');
      const diagnostics = diagnosticsOption(options);
      const c = model.readBatch(chunk, this.loss, true);
      if (this.k1 && c.T !== this.k1) throw new InvalidArgumentError('chunk.T', `${this.k1} (tbptt.k1)`, describe(c.T));
      this.lifetime.assertAlive();
      const { T, B } = c;
      const H = cfg.hiddenSize,
        R = cfg.projSize > 0 ? cfg.projSize : H, // h has projSize features with an LSTM projection
        L = cfg.numLayers;
      const perStep = B * (cfg.input === 'tokens' ? 1 : cfg.inputSize);
      const historyMax = Math.max(0, this.k2 - this.k1);
      const dtype = model.dtype;
      if (c.reset || !this.carried || this.carried.B !== B) {
        if (historyMax * perStep > DOMAINS.historyFloats.max!) {
          throw new MemoryLimitError(
            `the TBPTT history of ${historyMax} steps × ${perStep} inputs (B = ${B}) would hold ${historyMax * perStep} floats; one block holds at most ${DOMAINS.historyFloats.max}`,
          );
        }
        this.carried = {
          B,
          h: floats(dtype, L * B * R),
          c: cfg.cell === 'lstm' ? floats(dtype, L * B * H) : null,
          history: floats(dtype, historyMax * perStep),
          historySteps: 0,
        };
      }
      const carried = this.carried;
      const hist = carried.historySteps;
      let batch: OwnedBatch = c;
      c.h0 = carried.h;
      c.c0 = carried.c;
      if (hist > 0) {
        // the window: replayed history (no loss) followed by the new steps, all owned copies
        const Tw = hist + T;
        const x = floats(dtype, Tw * perStep);
        x.set(carried.history.subarray(0, hist * perStep));
        x.set(c.x, hist * perStep);
        const rowsPerStep = this.loss.loss === 'mse' ? B * cfg.outputSize : B;
        const y = floats(dtype, Tw * rowsPerStep);
        y.set(c.y!, hist * rowsPerStep);
        const lossMask = floats(dtype, Tw * B);
        if (c.lossMask) lossMask.set(c.lossMask, hist * B);
        else lossMask.fill(1, hist * B);
        batch = {
          x,
          y,
          T: Tw,
          B,
          mask: null,
          lossMask,
          h0: carried.h,
          c0: carried.c,
          realRows: c.realRows,
          reset: false,
          batchMajor: false,
        };
      }
      return this.update(
        batch,
        diagnostics,
        () => {
          // the next window starts k1 steps later: carry the state there and keep the newest inputs
          const Tw = batch.T;
          const nextHist = Math.min(historyMax, Tw);
          model.statesAt(Tw - nextHist, carried.h, carried.c);
          if (nextHist > 0) {
            const all = batch.x;
            const from = (Tw - nextHist) * perStep;
            for (let i = 0; i < nextHist * perStep; i++) carried.history[i] = all[from + i];
          }
          carried.historySteps = nextHist;
        },
        newResult(),
      );
    } finally {
      model.exit();
    }
  }

  /** Forgets the carried state: the next stepStateful starts from zeros. */
  resetState(): void {
    this.lifetime.assertAlive();
    this.carried = null;
  }

  /** The carried state (copies), for checkpoints; null before the first stateful step. */
  getCarriedState(): CarriedState | null {
    this.lifetime.assertAlive();
    const c = this.carried;
    return c && { B: c.B, h: c.h.slice(), c: c.c?.slice() ?? null, history: c.history.slice(), historySteps: c.historySteps };
  }

  /**
   * Replaces the carried state (from a checkpoint). Every field is read once and copied; the
   * copies are checked (finite states, history ids within the vocabulary) before any is kept.
   */
  setCarriedState(state: CarriedState | null): void {
    this.lifetime.assertAlive();
    if (state === null || state === undefined) {
      this.carried = null;
      return;
    }
    if (typeof state !== 'object')
      throw new InvalidArgumentError('state', 'a CarriedState { B, h, c, history, historySteps } or null', describe(state));
    const { B, h, c, history, historySteps } = state;
    const cfg = this.model.config,
      dtype = this.model.dtype;
    if (typeof B !== 'number' || !Number.isInteger(B) || B < 1 || B > MAX_B)
      throw new InvalidArgumentError('state.B', `an integer in [1, ${MAX_B}]`, describe(B));
    const HB = cfg.numLayers * B * cfg.hiddenSize,
      RB = cfg.numLayers * B * (cfg.projSize > 0 ? cfg.projSize : cfg.hiddenSize); // h with an LSTM projection
    const historyMax = Math.max(0, this.k2 - this.k1);
    const hist = historyMax * B * (cfg.input === 'tokens' ? 1 : cfg.inputSize);
    const hCopy = copyFloats(
      'state.h',
      h,
      RB,
      dtype,
      cfg.projSize > 0 ? 'floats [numLayers, B, projSize]' : 'floats [numLayers, B, hiddenSize]',
    );
    if ((cfg.cell === 'lstm') !== (c !== null && c !== undefined)) {
      throw new InvalidArgumentError(
        'state.c',
        cfg.cell === 'lstm' ? `${HB} values [L, B, H]` : 'null (only an LSTM has a cell state)',
        describe(c),
      );
    }
    const cCopy = c === null || c === undefined ? null : copyFloats('state.c', c, HB, dtype, 'floats [numLayers, B, hiddenSize]');
    let historyCopy: Floats;
    if (cfg.input === 'tokens') {
      // replayed into the input gather: ids outside the vocabulary would index beyond W_ih
      const ids = copyIds('state.history', history, hist, cfg.inputSize);
      historyCopy = dtype === 'float64' ? new Float64Array(hist) : new Float32Array(hist);
      historyCopy.set(ids);
    } else {
      historyCopy = copyFloats('state.history', history, hist, dtype, '(k2 − k1) steps of input');
    }
    if (typeof historySteps !== 'number' || !Number.isInteger(historySteps) || historySteps < 0 || historySteps > historyMax) {
      throw new InvalidArgumentError('state.historySteps', `an integer in [0, ${historyMax}]`, describe(historySteps));
    }
    this.lifetime.assertAlive();
    this.carried = { B, h: hCopy, c: cCopy, history: historyCopy, historySteps };
  }

  /** True once this trainer, its model or the model's core was disposed. */
  get isDisposed(): boolean {
    return this.lifetime.isDisposed;
  }

  /** @internal Throws a DisposedError if this trainer, its model or its core was disposed. */
  assertAlive(): void {
    this.lifetime.assertAlive();
  }

  // The model's forward and backward from the built-in loss, in their allocation-free forms
  // (forwardLoss / backwardLoss: forward() and backward({ dy }) writing into the model's arena);
  // clipping and the update work on that arena (model.arena), nothing else of the model.
  private update(batch: OwnedBatch, diagnostics: boolean, afterForward: (() => void) | null, out: StepResult): StepResult {
    const model = this.model,
      a = model.arena,
      k = a.kernels,
      P = a.P;
    const scalars = this.scalars;
    model.forwardLoss(batch, this.loss, scalars);
    const loss = scalars[0];
    const opt = this.optimizer;
    this.nextLr(opt.args);
    const lr = opt.args[0];
    if (!Number.isFinite(loss)) return this.refuse(out, loss, NaN, `the loss is ${loss}`);
    model.backwardLoss(this.loss.at, diagnostics, this.clipHiddenNorm);
    const grads = a.grads;
    k.sumSquares(P, grads, scalars);
    const gradNorm = Math.sqrt(scalars[0]);
    // The norm is summed in f64, so it is finite for any finite gradients. In float32, gradients
    // whose norm (after clipNorm) exceeds √F32_MAX would still overflow g² in the optimizer's
    // moments and freeze the weights at Infinity: such a step is refused too.
    const limit = k.memory.dtype === 'float32' ? SQRT_F32_MAX : Number.MAX_VALUE;
    if (!Number.isFinite(gradNorm) || !(Math.min(gradNorm, this.clipNorm) <= limit)) {
      return this.refuse(out, loss, gradNorm, `the gradient norm is ${gradNorm}`);
    }
    let clipped = false;
    // bounds every |gradient element| after clipping, for the optimizer's overflow check
    let gMax = gradNorm;
    if (this.clipNorm !== Infinity) {
      const c = this.clipNorm / (gradNorm + 1e-6);
      if (c < 1) {
        scalars[0] = c;
        k.scaleInplace(P, grads, scalars);
        clipped = true;
        gMax = gradNorm * c;
      }
    }
    if (this.clipValue !== Infinity) {
      if (k.clampInplace(P, grads, this.clipValue) > 0) clipped = true;
      gMax = Math.min(gMax, this.clipValue);
    }
    // an update that would leave any weight or moment non-finite is refused whole, before the
    // carried state moves on
    opt.args[1] = gMax; // and args[0] = lr
    const why = opt.checkArgs(a.params, grads, a.weightsVersion);
    if (why !== null) return this.refuse(out, loss, gradNorm, why);
    afterForward?.();
    // lr is still in opt.args[0], where checkArgs read it
    opt.updateArgs(a.params, grads);
    model.markWeightsChanged();
    this.optimizer.wroteWeights(a.weightsVersion);
    // memory is read before `out` is written: a setter on it is user code, which may dispose
    const norms = diagnostics ? model.gradNormsOverTime() : undefined;
    const r = this.results;
    r[0] = loss;
    r[1] = gradNorm;
    r[2] = lr;
    this.writeResult(out, clipped, undefined);
    if (diagnostics || out.gradNormsOverTime) out.gradNormsOverTime = norms;
    return out;
  }

  private refuse(out: StepResult, loss: number, gradNorm: number, why: string): StepResult {
    if (this.onNonFinite === 'throw') throw new NonFiniteError('step', `${why}; the step was refused and nothing changed`);
    const r = this.results;
    r[0] = loss;
    r[1] = gradNorm;
    this.nextLr(this.scalars);
    r[2] = this.scalars[0];
    this.writeResult(out, false, why);
    out.gradNormsOverTime = undefined;
    return out;
  }

  /**
   * Writes a step's fields in one fixed order (`out` may carry user setters), loss, gradNorm and lr
   * from `results`; skipped when `reason` is set.
   */
  private writeResult(out: StepResult, clipped: boolean, reason: string | undefined): void {
    const r = this.results;
    out.loss = r[0];
    out.gradNorm = r[1];
    out.clipped = clipped;
    out.skipped = reason !== undefined;
    out.reason = reason;
    out.step = this.optimizer.step;
    out.lr = r[2];
  }

  /** Frees the optimizer state; any later call throws a DisposedError. Idempotent. */
  dispose(): void {
    this.lifetime.end();
  }
}

/** B of a carried state: the largest batch a step accepts. */
const MAX_B = 1 << 24;

function diagnosticsOption(options: unknown): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('options', 'an object { diagnostics? }', describe(options));
  return (options as { diagnostics?: unknown }).diagnostics === true;
}

const SQRT_F32_MAX = Math.sqrt(3.4028234663852886e38);

function floats(dtype: Dtype, n: number): Floats {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

function newResult(): StepResult {
  return { loss: NaN, gradNorm: NaN, clipped: false, skipped: false, reason: undefined, step: 0, lr: NaN, gradNormsOverTime: undefined };
}
