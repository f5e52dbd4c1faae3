// The model a user holds: configuration, parameters by PyTorch name, forward / loss / gradient
// calls and generation. Every public call reads its arguments once into owned copies and checks
// the copies completely before it writes to the arena; a model refuses re-entrant use, and use
// after it, or the core it lives on, was disposed.
//
// The order inside each call is fixed: assert alive and mark busy; read and copy the user's
// input (the only point where user code — getters, Proxy traps — can run, and it may dispose
// anything); assert alive again; only then touch memory.
import type { Kernels } from '../backends/kernels.js';
import { BusyError, InvalidArgumentError, NoForwardError, describe } from '../errors.js';
import { Lifetime } from '../runtime/lifetime.js';
import type { Dtype } from '../runtime/memory.js';
import { copyFloats, copyIds } from '../validate/arrays.js';
import { checkKeys, checkNumber, DOMAINS, optionalNumber } from '../validate/index.js';
import type { Batch, BatchLayout, Numbers, OwnedBatch } from './batch.js';
import { BatchReader, batchToTimeMajor, timeToBatchMajor } from './batch.js';
import { resolveConfig, type ModelConfig, type ResolvedConfig } from './config.js';
import { initialise, type InitOption } from './init.js';
import { parameterTable, type TensorSlot, type WorkArena } from './layout.js';
import { resolveLoss, type LossKind, type LossSpec, type ResolvedLoss } from './loss.js';
import { Network } from './network.js';
import { Rng } from './rng.js';
import { loadSafetensorsInto, modelToSafetensors, type SaveOptions } from './serialize.js';
import { matchStateDictNames, resolveStateDictNames, type StateDictNames } from './state-dict-names.js';

/** Float32Array, except on the js backend with dtype 'float64' where results are Float64Array. */
export type Floats = Float32Array | Float64Array;

/** A batch without targets; the fields are those of Batch. */
export interface PredictInput {
  x: Numbers;
  T: number;
  B: number;
  mask?: Numbers;
  lengths?: Numbers;
  h0?: Numbers;
  c0?: Numbers;
  /** The layout of x and mask (and of the results indexed by step); default the model's (batchFirst). */
  layout?: BatchLayout;
}

/** The arrays a model returns: Float32Array, or Float64Array on the js backend with dtype 'float64'. */
export interface Prediction<F extends Floats = Floats> {
  /** Head outputs [T,B,O] (at 'every'; [B,T,O] for batch-major input) or [B,O] (at 'last'): logits or values. */
  y: F;
  /**
   * Final hidden state [L·D,B,H] ([L·D,B,P] with projSize P; the state at each sequence's last real step; D = 2 when
   * bidirectional, in PyTorch's order: layer 0 forward, layer 0 reverse, layer 1 forward, …, the
   * reverse direction's final state being the one after step 0).
   */
  hN: F;
  /** Final cell state [L·D,B,H], LSTM only. */
  cN: F | null;
}

export interface PredictOptions {
  /**
   * The rows of `y`: every step [T,B,O] or the last [B,O]. Default: the `at` of the loss the
   * model was trained with (`trainedWith`, kept in model files and checkpoints), else 'every'.
   */
  at?: 'every' | 'last';
  /**
   * `y` holds softmax probabilities over the outputs (each row sums to 1) instead of the
   * head's logits: a cross-entropy model's class probabilities. Refused for a model trained
   * with MSE. Default false.
   */
  probabilities?: boolean;
}

export interface GradientResult<F extends Floats = Floats> extends Prediction<F> {
  loss: number;
  /** ∂loss/∂parameter by PyTorch state_dict name, shaped like the parameter. */
  grads: Record<string, F>;
  /** ∂loss/∂h0 [L,B,H] ([L,B,P] with projSize P). */
  dh0: F;
  /** ∂loss/∂c0 [L,B,H], LSTM only. */
  dc0: F | null;
  /** ∂loss/∂x [T,B,I] ([B,T,I] for batch-major input) for dense input; null for token input (ids have no gradient). */
  dx: F | null;
  /** With `diagnostics`: ‖∂E/∂h_t‖ over the batch, per layer [L][T] (after any clipHiddenNorm). */
  gradNormsOverTime?: F[];
}

export interface GradientOptions {
  /** Also return gradNormsOverTime. */
  diagnostics?: boolean;
  /**
   * Per-timestep clipping, as the Trainer's option of that name: every layer's BPTT loop scales
   * each sequence's ∂E/∂h_t to norm ≤ this value before step t uses it. The gradients and dh0
   * are then those of the clipped pass, no longer the exact ones. Default: off.
   */
  clipHiddenNorm?: number;
}

export interface ForwardOptions {
  /**
   * The rows of the built-in head's output `y`: every step [T,B,O] (default) or the last [B,O]
   * (the top layer's final state; bidirectional: both directions' final states side by side).
   */
  at?: 'every' | 'last';
  /**
   * Run as in training: dropout between layers is applied (masks drawn from the model's seeded
   * `rng`), and backward() multiplies by the same masks. Default false (evaluation: no dropout).
   */
  training?: boolean;
}

/** What model.forward returns: the recurrent stack's outputs, its final states and the head's output. */
export interface ForwardResult<F extends Floats = Floats> extends Prediction<F> {
  /**
   * The top layer's hidden states h_1 … h_T [T,B,H], or [T,B,2H] when bidirectional (P for H with projSize P; at each
   * step the forward direction's state beside the reverse direction's); [B,T,…] for batch-major
   * input. Rows that `mask` or `lengths` mark as
   * padding hold 0, as PyTorch's pad_packed_sequence gives them (inside, the state is carried
   * through them unchanged: hN is each sequence's state at its last real step).
   */
  outputs: F;
}

/**
 * ∂E/∂(what forward returned), for model.backward; every field optional, absent = zero. The
 * parts add up: a loss on both `outputs` and `hN` passes both.
 */
export interface BackwardInput {
  /** ∂E/∂outputs [T,B,H] ([T,B,2H] bidirectional; P for H with projSize P; [B,T,…] for batch-major input). Padded rows are ignored: those outputs are the constant 0. */
  dOutputs?: Numbers;
  /** ∂E/∂hN [L·D,B,H] (D = 2 when bidirectional; [L·D,B,P] with projSize P). */
  dhN?: Numbers;
  /** ∂E/∂cN [L·D,B,H], LSTM only. */
  dcN?: Numbers;
  /** ∂E/∂y of the built-in head's output, shaped as forward's `y`; the only source of the head's gradients. */
  dy?: Numbers;
}

export interface BackwardResult<F extends Floats = Floats> {
  /** ∂E/∂parameter by PyTorch state_dict name (head.weight and head.bias are 0 without `dy`). */
  grads: Record<string, F>;
  /** ∂E/∂x [T,B,I] ([B,T,I] for batch-major input) for dense input; null for token input (ids have no gradient). */
  dx: F | null;
  /** ∂E/∂h0 [L·D,B,H] ([L·D,B,P] with projSize P). */
  dh0: F;
  /** ∂E/∂c0 [L·D,B,H], LSTM only. */
  dc0: F | null;
}

/**
 * @internal The parameter and gradient arena, for this package's optimizer, trainer and
 * checkpoints: element offsets into `kernels.memory.f` (parameters at `params`, their gradients
 * at `grads`, P floats each) and the count of weight writes so far.
 */
export interface TrainingArena {
  readonly kernels: Kernels;
  readonly params: number;
  readonly grads: number;
  readonly P: number;
  readonly weightsVersion: number;
}

export interface GenerateOptions {
  /** Ids fed before sampling starts (at least one). */
  prime: Numbers;
  /** Ids to sample after the prime. */
  length: number;
  /** Softmax temperature; 0 picks the most likely id. Default 1. */
  temperature?: number;
  /** Seed of this call's sampler; default: the model's own sampler continues. */
  seed?: number;
}

const GENERATE_KEYS: readonly string[] = ['prime', 'length', 'temperature', 'seed'];
const BACKWARD_KEYS: readonly string[] = ['dOutputs', 'dhN', 'dcN', 'dy'];
const PREDICT_KEYS: readonly string[] = ['at', 'probabilities'];

/**
 * A recurrent stack with a linear head. `F` is the array type of its results: `createModel`
 * returns `Model<Float32Array>`, or `Model<Float64Array>` for `{ backend: 'js', dtype: 'float64' }`.
 */
export class Model<F extends Floats = Floats> {
  readonly config: ResolvedConfig;
  /** @internal the network's offsets and data flow */
  readonly net: Network;
  /** @internal */
  readonly kernels: Kernels;
  /** The model's sampler (generation); seeded from config.seed. */
  readonly rng: Rng;
  /** @internal ends with dispose(), or with the core's; trainers on this model chain to it */
  readonly lifetime: Lifetime;
  private readonly slots: TensorSlot[];
  private readonly slotByName: Map<string, TensorSlot>;
  private readonly reader: BatchReader;
  // the loss of gradients(), as Network.loss returns it
  private readonly lossOut = new Float64Array(1);
  private busy = false;
  /** The work arena of the last forward pass (its activations), null before the first. */
  private work: WorkArena | null = null;
  /** Forward passes run so far: a backward checks that its forward is still the last one. */
  private runs = 0;
  /** The run that forward() left for backward(); 0 = none (never, or already differentiated). */
  private forwardRun = 0;
  private forwardVersion = 0;
  private forwardAt: 'every' | 'last' = 'every';
  /** The last batch was batch-major: results indexed by step go back batch-major, gradients come in so. */
  private batchMajor = false;
  private trainingArena: TrainingArena | null = null;
  private trainedLoss: ResolvedLoss | null = null;

  constructor(config: ModelConfig & { init?: InitOption }, kernels: Kernels) {
    kernels.lifetime?.assertAlive();
    this.config = resolveConfig(config);
    this.kernels = kernels;
    this.slots = parameterTable(this.config).slots;
    this.slotByName = new Map(this.slots.map((s) => [s.name, s]));
    this.reader = new BatchReader(this.config, kernels.memory.dtype);
    // reading the config may have run a getter that disposed the core
    kernels.lifetime?.assertAlive();
    this.net = new Network(this.config, kernels);
    const initRng = new Rng(this.config.seed);
    try {
      initialise(this.config, this.slots, kernels.memory.f, this.net.params.base, config.init, initRng);
    } catch (e) {
      this.net.dispose();
      throw e;
    }
    const net = this.net;
    this.lifetime = new Lifetime('the model', kernels.lifetime, () => net.dispose());
    if (this.lifetime.isDisposed) {
      // the init option's getters ran user code that disposed the core
      net.dispose();
      this.lifetime.assertAlive();
    }
    this.rng = new Rng((this.config.seed ^ 0x5bd1e995) >>> 0);
  }

  get backend(): 'wasm' | 'js' {
    return this.kernels.name;
  }

  /** The float type of parameters, activations and results. */
  get dtype(): Dtype {
    return this.kernels.memory.dtype;
  }

  /** Number of trainable floats. */
  get numParameters(): number {
    return this.slots.reduce((n, s) => n + s.size, 0);
  }

  parameterNames(): string[] {
    return this.slots.map((s) => s.name);
  }

  parameterShape(name: string): number[] {
    return [...this.slot(name).shape];
  }

  /** A copy of one parameter (row-major, PyTorch layout). */
  getParameter(name: string): F {
    this.lifetime.assertAlive();
    const s = this.slot(name);
    const at = this.net.params.base + s.offset;
    return this.kernels.memory.f.slice(at, at + s.size) as F; // F is the arena's array type
  }

  /** Overwrites one parameter; values must be finite and exactly the parameter's size. */
  setParameter(name: string, values: Numbers): void {
    this.enter();
    try {
      const s = this.slot(name);
      const copy = this.copyParameter(`parameter "${name}"`, values, s);
      this.lifetime.assertAlive();
      this.kernels.memory.f.set(copy, this.net.params.base + s.offset);
      this.net.packedDirty = true;
    } finally {
      this.exit();
    }
  }

  /** All parameters by PyTorch state_dict name (copies). */
  stateDict(): Record<string, F> {
    this.lifetime.assertAlive();
    const out: Record<string, Floats> = {};
    for (const s of this.slots) out[s.name] = this.getParameter(s.name);
    return out as Record<string, F>;
  }

  /**
   * Loads every parameter by name; all are read and checked before any is written. The names
   * must be exactly the model's (parameterNames()) once `names` has mapped them: with
   * `{ prefix: 'lstm.', head: 'fc.' }` a PyTorch module's state_dict (`lstm.weight_ih_l0`,
   * `fc.weight`, …) loads as it is. Otherwise one error lists the missing, the unexpected and
   * every expected name.
   */
  loadStateDict(dict: Record<string, Numbers>, names?: StateDictNames): void {
    this.enter();
    try {
      if (dict === null || typeof dict !== 'object')
        throw new InvalidArgumentError('stateDict', 'an object of name → values', describe(dict));
      const mapping = resolveStateDictNames(names, 'names');
      const expected = new Map(this.slots.map((s) => [s.name, s.shape]));
      const source = matchStateDictNames(
        Object.keys(dict),
        expected,
        mapping,
        (m) => new InvalidArgumentError('stateDict', "the model's parameter names", m),
      );
      const copies: Floats[] = [];
      for (const s of this.slots) {
        const from = source.get(s.name)!;
        const what = from === s.name ? `stateDict["${s.name}"]` : `stateDict["${from}"] (as "${s.name}")`;
        copies.push(this.copyParameter(what, dict[from], s));
      }
      this.lifetime.assertAlive();
      const f = this.kernels.memory.f,
        base = this.net.params.base;
      this.slots.forEach((s, i) => {
        f.set(copies[i], base + s.offset);
      });
      this.net.packedDirty = true;
    } finally {
      this.exit();
    }
  }

  /** The parameters and configuration as safetensors bytes (PyTorch names and layouts). */
  toSafetensors(extraMetadata?: Record<string, string>, options?: SaveOptions): Uint8Array {
    this.lifetime.assertAlive();
    return modelToSafetensors(this, extraMetadata, options);
  }

  /**
   * Loads parameters from safetensors bytes (e.g. a PyTorch state_dict); all checked first.
   * `names` maps a PyTorch module's names (`{ prefix: 'lstm.', head: 'fc.' }`), as in loadStateDict.
   */
  loadSafetensors(bytes: Uint8Array | ArrayBuffer, names?: StateDictNames): void {
    this.lifetime.assertAlive();
    loadSafetensorsInto(this, bytes, names);
  }

  /** Reads a prediction input and runs the stack on it (no loss), with the head at the rows asked for. */
  private runInput(input: PredictInput, options: unknown, training = false, defaultAt: 'every' | 'last' = 'every') {
    const at = headRows(options, defaultAt);
    const batch = this.reader.read(input, null);
    this.lifetime.assertAlive();
    return { w: this.run(batch, null, at, training), at };
  }

  /**
   * Forward pass: the head's outputs (logits or values; with `probabilities`, softmax
   * probabilities) and the final states. Without `at`, the rows are those of the loss the model
   * was trained with (`trainedWith.at`), else every step.
   */
  predict(input: PredictInput, options: PredictOptions = {}): Prediction<F> {
    this.enter();
    try {
      // each option read once (a getter or Proxy sees one read), then checked
      let read: PredictOptions | unknown = options;
      if (options !== null && typeof options === 'object') {
        checkKeys('options', options, PREDICT_KEYS, InvalidArgumentError);
        const { at, probabilities } = options;
        read = { at, probabilities };
      }
      const probabilities = this.probabilitiesOption(read);
      const { w, at } = this.runInput(input, read, false, this.trainedLoss?.at ?? 'every');
      const p = this.readPrediction(w, at);
      if (probabilities) softmaxRows(p.y, this.config.outputSize);
      return p as Prediction<F>;
    } finally {
      this.exit();
    }
  }

  /**
   * The loss this model was last trained with (set when a Trainer is made for it, kept in model
   * files and checkpoints), or null: predict's default `at`, and whether `probabilities` applies.
   */
  get trainedWith(): Readonly<ResolvedLoss> | null {
    return this.trainedLoss;
  }

  /** @internal Records the loss a trainer minimises (or a model file stored) as trainedWith. */
  recordTraining(loss: ResolvedLoss): void {
    this.trainedLoss = Object.freeze({ ...loss });
  }

  /** options.probabilities, checked against the loss the model was trained with. */
  private probabilitiesOption(options: unknown): boolean {
    if (options === null || typeof options !== 'object') return false;
    const p = (options as PredictOptions).probabilities;
    if (p === undefined || p === false) return false;
    if (p !== true) throw new InvalidArgumentError('options.probabilities', 'true or false', describe(p));
    if (this.trainedLoss?.loss === 'mse')
      throw new InvalidArgumentError(
        'options.probabilities',
        'a model trained with "cross-entropy" (softmax probabilities of its classes)',
        'a model trained with "mse" (its outputs are values, not logits)',
      );
    return true;
  }

  /** The loss and every gradient for one batch, without changing any weight. */
  lossAndGradients(batch: Batch, loss: LossSpec | LossKind, options: GradientOptions = {}): GradientResult<F> {
    this.enter();
    try {
      const spec = resolveLoss(loss, 'loss', this.config.outputSize);
      const o = options !== null && typeof options === 'object' ? options : {};
      const diagnostics = o.diagnostics === true;
      // the threshold shapes every gradient returned: a bad one is refused, never ignored
      const clipHiddenNorm = optionalNumber('options.clipHiddenNorm', o.clipHiddenNorm, DOMAINS.clipHiddenNorm, 0, InvalidArgumentError);
      const owned = this.reader.read(batch, spec);
      this.lifetime.assertAlive();
      // forward + the built-in head and loss (∂loss/∂y into the arena) + backward from ∂loss/∂y:
      // the same two halves as forward() and backward({ dy }), without copies in between
      const w = this.run(owned, spec, spec.at);
      this.net.loss(w, spec, owned.realRows, true, this.lossOut);
      const value = this.lossOut[0];
      this.net.beginBackward(w, spec.at, true);
      this.net.backwardLayers(w, diagnostics, clipHiddenNorm, w.dx);
      const result: GradientResult = { ...this.readPrediction(w, spec.at), loss: value, ...this.readGradients(w) };
      if (diagnostics) result.gradNormsOverTime = this.gradNormsOverTime();
      return result as GradientResult<F>;
    } finally {
      this.exit();
    }
  }

  /**
   * The recurrent stack as a layer, forward: the top layer's hidden sequence, every layer's final
   * states and the built-in head's output, for a user's own head, loss or surrounding model.
   * The activations stay in the model for one backward(); any later call that runs the model
   * (forward, predict, lossAndGradients, generate, a trainer's step) or writes its weights
   * replaces or invalidates them.
   */
  forward(input: PredictInput, options: ForwardOptions = {}): ForwardResult<F> {
    this.enter();
    try {
      const { w, at } = this.runInput(input, options, trainingOption(options));
      this.forwardRun = this.runs;
      this.forwardVersion = this.net.weightsVersion;
      this.forwardAt = at;
      const f = this.kernels.memory.f,
        { T, B } = w,
        H = this.net.R * this.net.D;
      const top = this.net.topOutputs(w);
      const outputs = f.slice(top, top + T * B * H);
      if (this.net.isMasked) {
        for (let r = 0; r < T * B; r++) if (f[w.mask + r] === 0) outputs.fill(0, r * H, (r + 1) * H);
      }
      return { outputs: this.toCaller(outputs, T, B, H), ...this.readPrediction(w, at) } as ForwardResult<F>;
    } finally {
      this.exit();
    }
  }

  /**
   * The recurrent stack as a layer, backward: from ∂E/∂(what the last forward() returned) to
   * ∂E/∂(every parameter), ∂E/∂x and ∂E/∂(initial states), by BPTT over the activations that
   * forward() kept (docs/equations.md). One backward per forward: it consumes them (the LSTM's
   * and GRU's gate activations are overwritten with their gradients). Refused with a
   * NoForwardError when there is no forward to differentiate: none yet, already used, replaced
   * by another call that ran the model, or stale because the weights changed since.
   */
  backward(gradients: BackwardInput): BackwardResult<F> {
    this.enter();
    try {
      this.checkForward();
      const w = this.work!,
        at = this.forwardAt;
      if (gradients === null || typeof gradients !== 'object')
        throw new InvalidArgumentError('gradients', 'an object { dOutputs?, dhN?, dcN?, dy? }', describe(gradients));
      checkKeys('gradients', gradients, BACKWARD_KEYS, InvalidArgumentError);
      // every field read once and copied; the copies are checked before anything is written
      const { dOutputs, dhN, dcN, dy } = gradients;
      const { T, B } = w,
        H = this.config.hiddenSize,
        Rs = this.net.R, // the size of h: projSize with an LSTM projection, else H
        D = this.net.D,
        L = this.config.numLayers * D,
        O = this.config.outputSize;
      const dtype = this.kernels.memory.dtype,
        R = at === 'every' ? T * B : B;
      const TB = this.batchMajor ? 'B, T' : 'T, B';
      const r = Rs === H ? 'H' : 'P';
      const outShape = D === 1 ? `[${TB}, ${r}]` : `[${TB}, 2${r}]`,
        hShape = D === 1 ? `[L, B, ${r}]` : `[2L, B, ${r}]`,
        stateShape = D === 1 ? '[L, B, H]' : '[2L, B, H]';
      const dOut =
        dOutputs === undefined
          ? null
          : copyFloats('gradients.dOutputs', dOutputs, T * B * D * Rs, dtype, `${T * B * D * Rs} finite numbers ${outShape}`);
      const dhn = dhN === undefined ? null : copyFloats('gradients.dhN', dhN, L * B * Rs, dtype, `${L * B * Rs} finite numbers ${hShape}`);
      if (dcN !== undefined && this.config.cell !== 'lstm')
        throw new InvalidArgumentError('gradients.dcN', 'undefined (only an LSTM has a cell state)', describe(dcN));
      const dcn =
        dcN === undefined ? null : copyFloats('gradients.dcN', dcN, L * B * H, dtype, `${L * B * H} finite numbers ${stateShape}`);
      const dY =
        dy === undefined
          ? null
          : copyFloats('gradients.dy', dy, R * O, dtype, `${R * O} finite numbers [${at === 'every' ? TB : 'B'}, ${O}] (as forward's y)`);
      this.lifetime.assertAlive();
      this.checkForward();
      this.forwardRun = 0;
      const f = this.kernels.memory.f,
        BH = B * H,
        BR = B * Rs;
      if (dY) f.set(at === 'every' ? this.fromCaller(dY, T, B, O) : dY, w.dy);
      this.net.beginBackward(w, at, dY !== null);
      if (dOut) {
        const top = this.net.topGrad(w),
          masked = this.net.isMasked,
          DH = D * Rs;
        const dO = this.fromCaller(dOut, T, B, DH);
        for (let r = 0; r < T * B; r++) {
          if (masked && f[w.mask + r] === 0) continue;
          for (let j = 0; j < DH; j++) f[top + r * DH + j] += dO[r * DH + j];
        }
      }
      // added: a bidirectional head at 'last' has already seeded the top layer's ∂E/∂h_T
      for (let l = 0; l < L; l++) {
        const lw = w.layers[l];
        if (dhn) for (let i = 0; i < BR; i++) f[lw.dh + i] += dhn[l * BR + i];
        if (dcn) for (let i = 0; i < BH; i++) f[lw.dc + i] += dcn[l * BH + i];
      }
      this.net.backwardLayers(w, false, 0, w.dx);
      return this.readGradients(w) as BackwardResult<F>;
    } finally {
      this.exit();
    }
  }

  /**
   * Tells the model that its weights changed behind its back (today only this package's
   * optimizers write them directly): the packed copies its kernels multiply with are rebuilt
   * before the next forward pass, and a pending backward() is refused as stale.
   */
  markWeightsChanged(): void {
    this.lifetime.assertAlive();
    this.net.packedDirty = true;
  }

  /** Samples ids from a token model whose head predicts the next id (outputSize = inputSize). */
  generate(options: GenerateOptions): Int32Array {
    this.lifetime.assertAlive();
    const cfg = this.config;
    if (cfg.input !== 'tokens' || cfg.outputSize !== cfg.inputSize) {
      throw new InvalidArgumentError(
        'generate',
        'a model with input "tokens" and outputSize = inputSize',
        `input "${cfg.input}", outputSize ${cfg.outputSize}, inputSize ${cfg.inputSize}`,
      );
    }
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('options', 'an object { prime, length, temperature?, seed? }', describe(options));
    // every option read once; the prime ids copied and checked before anything runs
    checkKeys('options', options, GENERATE_KEYS, InvalidArgumentError);
    const { prime: primeIn, length: lengthIn, temperature: t, seed: seedIn } = options;
    const prime = copyIds('options.prime', primeIn, undefined, cfg.inputSize);
    if (prime.length < 1) throw new InvalidArgumentError('options.prime', 'at least one token id', describe(primeIn));
    const length = checkNumber('options.length', lengthIn, DOMAINS.generateSteps, InvalidArgumentError);
    const temperature = optionalNumber('options.temperature', t, DOMAINS.temperature, 1, InvalidArgumentError);
    const seed = seedIn === undefined ? undefined : checkNumber('options.seed', seedIn, DOMAINS.seed, InvalidArgumentError);
    const rng = seed === undefined ? this.rng : new Rng(seed);
    const out = new Int32Array(length);
    let state = this.predict({ x: prime, T: prime.length, B: 1 }, { at: 'last' });
    for (let i = 0; i < length; i++) {
      const id = sample(state.y, temperature, rng);
      out[i] = id;
      if (i + 1 < length) {
        state = this.predict({ x: [id], T: 1, B: 1, h0: state.hN, c0: state.cN ?? undefined }, { at: 'last' });
      }
    }
    return out;
  }

  /**
   * Frees the model's memory and the optimizer state of every trainer on it; any later call of
   * the model or of those trainers throws a DisposedError. Idempotent.
   */
  dispose(): void {
    if (this.lifetime.isDisposed) return;
    if (this.busy) throw new BusyError('the model');
    this.lifetime.end();
  }

  /** True once this model, or the core it lives on, was disposed. */
  get isDisposed(): boolean {
    return this.lifetime.isDisposed;
  }

  /** @internal Throws a DisposedError if this model or its core was disposed. */
  assertAlive(): void {
    this.lifetime.assertAlive();
  }

  /** @internal Reads and checks a batch into the model's reusable owned buffers (user code may run). */
  readBatch(batch: unknown, loss: ResolvedLoss | null, stream = false): OwnedBatch {
    return this.reader.read(batch, loss, stream);
  }

  /**
   * @internal forward() with the built-in head and loss over a read batch (the caller holds
   * enter()): the loss into `into[0]`, with ∂loss/∂y kept for backwardLoss(). Allocates nothing.
   */
  forwardLoss(batch: OwnedBatch, loss: ResolvedLoss, into: Float64Array): void {
    // a training pass: dropout between layers is on
    const w = this.run(batch, loss, loss.at, true);
    this.net.loss(w, loss, batch.realRows, true, into);
  }

  /**
   * @internal backward({ dy: ∂loss/∂y }) after forwardLoss(), into the gradient arena
   * (TrainingArena.grads) instead of copies; ∂E/∂x is not formed. Allocates nothing.
   */
  backwardLoss(at: 'every' | 'last', diagnostics: boolean, clipHiddenNorm: number): void {
    const w = this.work!;
    this.net.beginBackward(w, at, true);
    this.net.backwardLayers(w, diagnostics, clipHiddenNorm, 0);
  }

  /** @internal Copies each layer's state after `j` steps of the last forward pass into h [L,B,H] (and c). */
  statesAt(j: number, h: Floats, c: Floats | null): void {
    if (this.net.D !== 1) throw new InvalidArgumentError('statesAt', 'a unidirectional model', 'a bidirectional one');
    this.net.statesAt(this.work!, j, h, c);
  }

  /** @internal ‖∂E/∂h_t‖ per layer [L][T] of the last backward pass run with diagnostics. */
  gradNormsOverTime(): Floats[] {
    const w = this.work!,
      f = this.kernels.memory.f;
    return w.layers.map((lw) => f.slice(lw.dhnorm, lw.dhnorm + w.T));
  }

  /** @internal The parameter and gradient arena (one object per model) for the optimizer and checkpoints. */
  get arena(): TrainingArena {
    if (!this.trainingArena) {
      const net = this.net,
        p = net.params;
      this.trainingArena = {
        kernels: this.kernels,
        params: p.base,
        grads: p.base + p.P,
        P: p.P,
        get weightsVersion() {
          return net.weightsVersion;
        },
      };
    }
    return this.trainingArena;
  }

  /** Forward over a read batch; leaves the activations in the work arena and returns it. */
  private run(batch: OwnedBatch, loss: ResolvedLoss | null, at: 'every' | 'last', training = false): WorkArena {
    this.work = null;
    this.runs++;
    const w = this.net.prepare(batch.T, batch.B);
    this.batchMajor = batch.batchMajor;
    this.net.load(w, batch, loss !== null);
    this.net.forward(w, at, training ? this.rng : null);
    this.work = w;
    return w;
  }

  private checkForward(): void {
    if (this.forwardRun === 0)
      throw new NoForwardError('no forward() to differentiate: call forward() first (each forward() allows one backward())');
    if (this.forwardRun !== this.runs || this.work === null)
      throw new NoForwardError(
        'the activations of the last forward() were replaced by another call that ran the model; call forward() again',
      );
    if (this.forwardVersion !== this.net.weightsVersion)
      throw new NoForwardError('the weights changed since the last forward(); call forward() again');
  }

  /** The gradients of the last backward pass, copied out. */
  private readGradients(w: WorkArena): BackwardResult {
    const f = this.kernels.memory.f;
    const grads: Record<string, Floats> = {};
    const gBase = this.net.params.base + this.net.params.P;
    for (const s of this.slots) grads[s.name] = f.slice(gBase + s.offset, gBase + s.offset + s.size);
    const { T, B } = w,
      H = this.config.hiddenSize,
      R = this.net.R,
      L = this.config.numLayers * this.net.D;
    const dh0 = newFloats(f, L * B * R);
    const dc0 = this.config.cell === 'lstm' ? newFloats(f, L * B * H) : null;
    for (let l = 0; l < L; l++) {
      dh0.set(f.subarray(w.layers[l].dh, w.layers[l].dh + B * R), l * B * R);
      if (dc0) dc0.set(f.subarray(w.layers[l].dc, w.layers[l].dc + B * H), l * B * H);
    }
    const I = this.config.inputSize;
    const dx = w.dx ? this.toCaller(f.slice(w.dx, w.dx + T * B * I), T, B, I) : null;
    return { grads, dx, dh0, dc0 };
  }

  /** @internal Marks the model busy (refusing re-entry and disposed models); exit() in a finally. */
  enter(): void {
    this.lifetime.assertAlive();
    if (this.busy) throw new BusyError('the model');
    this.busy = true;
  }

  /** @internal */
  exit(): void {
    this.busy = false;
  }

  /** An owned, checked copy of a parameter's new values. */
  private copyParameter(argument: string, values: unknown, s: TensorSlot): Floats {
    return copyFloats(argument, values, s.size, this.kernels.memory.dtype, `${s.size} values (shape [${s.shape.join(', ')}])`);
  }

  private slot(name: string): TensorSlot {
    const s = this.slotByName.get(name);
    if (!s) throw new InvalidArgumentError('name', `one of ${this.parameterNames().join(', ')}`, describe(name));
    return s;
  }

  private readPrediction(w: WorkArena, at: 'every' | 'last'): Prediction {
    const R = this.net.headRowCount(w, at);
    const O = this.config.outputSize;
    const y = this.kernels.memory.f.slice(w.y, w.y + R * O);
    return { y: at === 'every' ? this.toCaller(y, w.T, w.B, O) : y, ...this.net.finalStates(w) };
  }

  /** A result [T,B,F] in the layout of the last batch: reordered [B,T,F] when it was batch-major. */
  private toCaller(a: Floats, T: number, B: number, F: number): Floats {
    if (!this.batchMajor) return a;
    const out = newFloats(a, a.length);
    timeToBatchMajor(a, T, B, F, out);
    return out;
  }

  /** A gradient in the layout of the last batch, time-major [T,B,F] for the arena. */
  private fromCaller(a: Floats, T: number, B: number, F: number): Floats {
    if (!this.batchMajor) return a;
    const out = newFloats(a, a.length);
    batchToTimeMajor(a, T, B, F, out);
    return out;
  }
}

/** options.training of forward: a training pass (dropout on). */
function trainingOption(options: unknown): boolean {
  if (options === null || typeof options !== 'object') return false;
  const t = (options as ForwardOptions).training;
  if (t !== undefined && typeof t !== 'boolean') throw new InvalidArgumentError('options.training', 'true or false', describe(t));
  return t === true;
}

/** options.at of predict and forward: which rows the head's output holds (`fallback` when not given). */
function headRows(options: unknown, fallback: 'every' | 'last'): 'every' | 'last' {
  const at = options === null || typeof options !== 'object' ? options : ((options as ForwardOptions).at ?? fallback);
  if (at !== 'every' && at !== 'last') throw new InvalidArgumentError('options.at', '"every" or "last"', describe(at));
  return at;
}

/** Each row of `y` (rows of O) replaced by its softmax, computed in f64 (max subtracted first). */
function softmaxRows(y: Floats, O: number): void {
  for (let r = 0; r < y.length; r += O) {
    let mx = -Infinity;
    for (let o = 0; o < O; o++) mx = Math.max(mx, y[r + o]);
    let sum = 0;
    for (let o = 0; o < O; o++) sum += Math.exp(y[r + o] - mx);
    for (let o = 0; o < O; o++) y[r + o] = Math.exp(y[r + o] - mx) / sum;
  }
}

/** A zeroed array of the memory's float type. */
export function newFloats(like: Floats, n: number): Floats {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** Draws an id from softmax(logits / temperature); temperature 0 is argmax. */
export function sample(logits: ArrayLike<number>, temperature: number, rng: Rng): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (temperature === 0) return best;
  let sum = 0;
  const p = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    p[i] = Math.exp((logits[i] - logits[best]) / temperature);
    sum += p[i];
  }
  let u = rng.next() * sum;
  for (let i = 0; i < p.length; i++) {
    u -= p[i];
    if (u < 0) return i;
  }
  return p.length - 1;
}
