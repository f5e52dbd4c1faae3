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
import { ConfigError, InvalidArgumentError, NonFiniteError, describe } from '../errors.js';
import type { Batch } from '../model/batch.js';
import { checkBatch } from '../model/batch.js';
import { resolveLoss, type LossKind, type LossSpec, type ResolvedLoss } from '../model/loss.js';
import { newFloats, type Floats, type Model } from '../model/model.js';
import { Optimizer, type OptimizerName, type OptimizerSpec } from './optimizers.js';
import { makeSchedule, type Schedule, type ScheduleSpec } from './schedules.js';

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
  /** What a non-finite loss or gradient norm does: 'skip' the step (default) or 'throw'. */
  onNonFinite?: 'skip' | 'throw';
  /** Truncated BPTT for stepStateful: k1 new steps per update, backpropagated over k2 ≥ k1 steps. */
  tbptt?: { k1: number; k2: number };
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
  readonly onNonFinite: 'skip' | 'throw';
  readonly k1: number;
  readonly k2: number;
  /** Base learning rate; the rate of a step is baseLr × schedule(step). */
  baseLr: number;
  private readonly schedule: Schedule;
  /** The schedule as configured (checkpoints store it). */
  readonly scheduleSpec: ScheduleSpec | undefined;
  private carried: CarriedState | null = null;

  constructor(readonly model: Model, options: TrainerOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object { loss, optimizer?, clipNorm? }', describe(options));
    this.loss = resolveLoss(options.loss, 'options.loss');
    this.clipNorm = positiveOrInf('options.clipNorm', options.clipNorm);
    this.clipValue = positiveOrInf('options.clipValue', options.clipValue);
    const onNonFinite = options.onNonFinite ?? 'skip';
    if (onNonFinite !== 'skip' && onNonFinite !== 'throw') throw new ConfigError('options.onNonFinite', '"skip" or "throw"', describe(onNonFinite));
    this.onNonFinite = onNonFinite;
    this.schedule = makeSchedule(options.schedule);
    this.scheduleSpec = options.schedule;
    const t = options.tbptt;
    if (t !== undefined) {
      if (t === null || typeof t !== 'object') throw new ConfigError('options.tbptt', '{ k1, k2 } with 1 ≤ k1 ≤ k2', describe(t));
      if (!Number.isInteger(t.k1) || t.k1 < 1 || t.k1 > MAX_TBPTT) throw new ConfigError('options.tbptt.k1', `an integer in [1, ${MAX_TBPTT}]`, describe(t.k1));
      if (!Number.isInteger(t.k2) || t.k2 < t.k1 || t.k2 > MAX_TBPTT) {
        throw new ConfigError('options.tbptt.k2', `an integer in [k1 = ${t.k1}, ${MAX_TBPTT}]`, describe(t.k2));
      }
      if (t.k2 > t.k1 && this.loss.at !== 'every') throw new ConfigError('options.tbptt', 'k2 = k1 for a loss at the last step (older steps carry no loss)', `k1 ${t.k1}, k2 ${t.k2}`);
    }
    this.k1 = t?.k1 ?? 0;
    this.k2 = t?.k2 ?? 0;
    this.optimizer = new Optimizer(options.optimizer ?? 'adam', model.kernels, model.net.params.P);
    this.baseLr = this.optimizer.spec.lr;
  }

  /** Updates applied so far. */
  get steps(): number { return this.optimizer.step; }

  /** Learning rate of the next step. */
  get lr(): number { return this.baseLr * this.schedule(this.optimizer.step); }

  /** One update on a batch (full BPTT over its T steps). */
  step(batch: Batch, options: { diagnostics?: boolean } = {}): StepResult {
    return this.stepInto(batch, newResult(), options.diagnostics === true);
  }

  /**
   * step() writing its result into `out` instead of a new object: with it, a warmed-up training
   * step allocates nothing on the JavaScript heap (see bench/alloc.ts).
   */
  stepInto(batch: Batch, out: StepResult, diagnostics = false): StepResult {
    this.model.enter();
    try {
      return this.update(batch, diagnostics, null, out);
    } finally {
      this.model.exit();
    }
  }

  /**
   * One update on the next chunk of a stream, starting from the state the previous chunk left
   * (zeros at first, after resetState(), when chunk.reset is set or when B changes). With
   * tbptt { k1, k2 }, chunk.T must be k1 and the update backpropagates over the last k2 steps.
   */
  stepStateful(chunk: StreamChunk, options: { diagnostics?: boolean } = {}): StepResult {
    const model = this.model, cfg = model.config;
    if (chunk === null || typeof chunk !== 'object') throw new InvalidArgumentError('chunk', 'an object { x, y, T, B }', describe(chunk));
    for (const key of ['h0', 'c0', 'mask', 'lengths'] as const) {
      if ((chunk as Batch)[key] !== undefined) throw new InvalidArgumentError(`chunk.${key}`, 'nothing: stateful training carries its own state and has no padding', describe((chunk as Batch)[key]));
    }
    if (this.k1 && chunk.T !== this.k1) throw new InvalidArgumentError('chunk.T', `${this.k1} (tbptt.k1)`, describe(chunk.T));
    checkBatch(cfg, chunk, this.loss);
    const { T, B } = chunk;
    const H = cfg.hiddenSize, L = cfg.numLayers;
    const perStep = B * (cfg.input === 'tokens' ? 1 : cfg.inputSize);
    const historyMax = Math.max(0, this.k2 - this.k1);
    const f = model.kernels.memory.f;
    if (chunk.reset || !this.carried || this.carried.B !== B) {
      this.carried = {
        B, h: newFloats(f, L * B * H), c: cfg.cell === 'lstm' ? newFloats(f, L * B * H) : null,
        history: newFloats(f, historyMax * perStep), historySteps: 0,
      };
    }
    const carried = this.carried;
    const hist = carried.historySteps;
    let batch: Batch = { ...chunk, h0: carried.h, c0: carried.c ?? undefined };
    if (hist > 0) {
      // the window: replayed history (no loss) followed by the new steps
      const Tw = hist + T;
      const x = newFloats(f, Tw * perStep);
      x.set(carried.history.subarray(0, hist * perStep));
      x.set(chunk.x, hist * perStep);
      const rowsPerStep = this.loss.loss === 'mse' ? B * cfg.outputSize : B;
      const y = newFloats(f, Tw * rowsPerStep);
      y.set(chunk.y as ArrayLike<number>, hist * rowsPerStep);
      const lossMask = new Float32Array(Tw * B);
      if (chunk.lossMask) lossMask.set(chunk.lossMask, hist * B); else lossMask.fill(1, hist * B);
      batch = { x, y, T: Tw, B, lossMask, h0: carried.h, c0: carried.c ?? undefined };
    }
    return model.guard(() => {
      const result = this.update(batch, options.diagnostics === true, (w) => {
        // the next window starts k1 steps later: carry the state there and keep the newest inputs
        const Tw = batch.T;
        const nextHist = Math.min(historyMax, Tw);
        model.net.statesAt(w, Tw - nextHist, carried.h, carried.c);
        if (nextHist > 0) {
          const all = batch.x;
          const from = (Tw - nextHist) * perStep;
          for (let i = 0; i < nextHist * perStep; i++) carried.history[i] = all[from + i];
        }
        carried.historySteps = nextHist;
      }, newResult());
      return result;
    });
  }

  /** Forgets the carried state: the next stepStateful starts from zeros. */
  resetState(): void {
    this.carried = null;
  }

  /** The carried state (copies), for checkpoints; null before the first stateful step. */
  getCarriedState(): CarriedState | null {
    const c = this.carried;
    return c && { B: c.B, h: c.h.slice(), c: c.c?.slice() ?? null, history: c.history.slice(), historySteps: c.historySteps };
  }

  setCarriedState(state: CarriedState | null): void {
    if (state) {
      const cfg = this.model.config;
      const HB = cfg.numLayers * state.B * cfg.hiddenSize;
      const hist = Math.max(0, this.k2 - this.k1) * state.B * (cfg.input === 'tokens' ? 1 : cfg.inputSize);
      if (!Number.isInteger(state.B) || state.B < 1) throw new InvalidArgumentError('state.B', 'an integer ≥ 1', describe(state.B));
      if (state.h?.length !== HB) throw new InvalidArgumentError('state.h', `${HB} values [L, B, H]`, describe(state.h));
      if ((cfg.cell === 'lstm') !== (state.c !== null && state.c !== undefined) || (state.c && state.c.length !== HB)) {
        throw new InvalidArgumentError('state.c', cfg.cell === 'lstm' ? `${HB} values [L, B, H]` : 'null (only an LSTM has a cell state)', describe(state.c));
      }
      if (state.history?.length !== hist) throw new InvalidArgumentError('state.history', `${hist} values ((k2 − k1) steps of input)`, describe(state.history));
      if (!Number.isInteger(state.historySteps) || state.historySteps < 0 || state.historySteps > Math.max(0, this.k2 - this.k1)) {
        throw new InvalidArgumentError('state.historySteps', `an integer in [0, ${Math.max(0, this.k2 - this.k1)}]`, describe(state.historySteps));
      }
    }
    this.carried = state && { ...state, h: state.h.slice(), c: state.c?.slice() ?? null, history: state.history.slice() };
  }

  private update(batch: Batch, diagnostics: boolean, afterForward: ((w: ReturnType<Model['run']>) => void) | null, out: StepResult): StepResult {
    const model = this.model;
    const realRows = checkBatch(model.config, batch, this.loss);
    const net = model.net, k = model.kernels, p = net.params;
    const w = model.run(batch, this.loss, this.loss.at);
    const loss = net.loss(w, this.loss, realRows, true);
    const lr = this.lr;
    if (!Number.isFinite(loss)) return this.refuse(out, loss, NaN, `the loss is ${loss}`);
    net.backward(w, this.loss.at, diagnostics);
    const grads = p.base + p.P;
    const gradNorm = Math.sqrt(k.sumSquares(p.P, grads));
    // The norm is summed in f64, so it is finite for any finite gradients. In float32, gradients
    // whose norm (after clipNorm) exceeds √F32_MAX would still overflow g² in the optimizer's
    // moments and freeze the weights at Infinity: such a step is refused too.
    const limit = k.memory.dtype === 'float32' ? SQRT_F32_MAX : Number.MAX_VALUE;
    if (!Number.isFinite(gradNorm) || !(Math.min(gradNorm, this.clipNorm) <= limit)) {
      return this.refuse(out, loss, gradNorm, `the gradient norm is ${gradNorm}`);
    }
    let clipped = false;
    if (this.clipNorm !== Infinity) {
      const c = this.clipNorm / (gradNorm + 1e-6);
      if (c < 1) { k.scaleInplace(p.P, grads, c); clipped = true; }
    }
    if (this.clipValue !== Infinity) {
      if (k.clampInplace(p.P, grads, this.clipValue) > 0) clipped = true;
    }
    afterForward?.(w);
    this.optimizer.update(p.base, grads, lr);
    net.packedDirty = true;
    out.loss = loss; out.gradNorm = gradNorm; out.clipped = clipped; out.skipped = false;
    out.step = this.optimizer.step; out.lr = lr;
    if (diagnostics) {
      const f = k.memory.f;
      out.gradNormsOverTime = w.layers.map((lw) => f.slice(lw.dhnorm, lw.dhnorm + batch.T));
    } else if (out.gradNormsOverTime) {
      out.gradNormsOverTime = undefined;
    }
    return out;
  }

  private refuse(out: StepResult, loss: number, gradNorm: number, why: string): StepResult {
    if (this.onNonFinite === 'throw') throw new NonFiniteError('step', `${why}; the step was refused and nothing changed`);
    out.loss = loss; out.gradNorm = gradNorm; out.clipped = false; out.skipped = true;
    out.step = this.optimizer.step; out.lr = this.lr; out.gradNormsOverTime = undefined;
    return out;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** The longest window a step can run: a batch's T is at most 2^24 steps. */
const MAX_TBPTT = 1 << 24;
const SQRT_F32_MAX = Math.sqrt(3.4028234663852886e38);

function newResult(): StepResult {
  return { loss: NaN, gradNorm: NaN, clipped: false, skipped: false, step: 0, lr: NaN, gradNormsOverTime: undefined };
}

function positiveOrInf(name: string, v: unknown): number {
  if (v === undefined) return Infinity;
  if (typeof v !== 'number' || !(v > 0)) throw new ConfigError(name, 'a number > 0', describe(v));
  return v;
}
