// The model a user holds: configuration, parameters by PyTorch name, forward / loss / gradient
// calls and generation. Every public call checks its arguments completely before it writes to
// the arena, and a model refuses re-entrant use and use after dispose().
import type { Kernels } from '../backends/kernels.js';
import { BusyError, DisposedError, InvalidArgumentError, describe } from '../errors.js';
import type { Batch, Numbers } from './batch.js';
import { checkBatch, F32_MAX } from './batch.js';
import { resolveConfig, type ModelConfig, type ResolvedConfig } from './config.js';
import { initialise, type InitOption } from './init.js';
import { parameterTable, type TensorSlot } from './layout.js';
import { resolveLoss, type LossKind, type LossSpec, type ResolvedLoss } from './loss.js';
import { Network } from './network.js';
import { Rng } from './rng.js';
import { loadSafetensorsInto, modelToSafetensors, type SaveOptions } from './serialize.js';

/** Float32Array, except on the js backend with dtype 'float64' where results are Float64Array. */
export type Floats = Float32Array | Float64Array;

export interface PredictInput {
  x: Numbers; T: number; B: number;
  mask?: Numbers; lengths?: Numbers; h0?: Numbers; c0?: Numbers;
}

export interface Prediction {
  /** Head outputs [T,B,O] (at 'every') or [B,O] (at 'last'): logits or values. */
  y: Floats;
  /** Final hidden state [L,B,H] (the state at each sequence's last real step). */
  hN: Floats;
  /** Final cell state [L,B,H], LSTM only. */
  cN: Floats | null;
}

export interface GradientResult extends Prediction {
  loss: number;
  /** ∂loss/∂parameter by PyTorch state_dict name, shaped like the parameter. */
  grads: Record<string, Floats>;
  /** ∂loss/∂h0 [L,B,H]. */
  dh0: Floats;
  /** ∂loss/∂c0 [L,B,H], LSTM only. */
  dc0: Floats | null;
  /** With `diagnostics`: ‖∂E/∂h_t‖ over the batch, per layer [L][T]. */
  gradNormsOverTime?: Floats[];
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

export class Model {
  readonly config: ResolvedConfig;
  /** @internal the network's offsets and data flow */
  readonly net: Network;
  /** @internal */
  readonly kernels: Kernels;
  /** The model's sampler (generation); seeded from config.seed. */
  readonly rng: Rng;
  private readonly slots: TensorSlot[];
  private readonly slotByName: Map<string, TensorSlot>;
  private busy = false;
  private disposed = false;

  constructor(config: ModelConfig & { init?: InitOption }, kernels: Kernels) {
    this.config = resolveConfig(config);
    this.kernels = kernels;
    this.slots = parameterTable(this.config).slots;
    this.slotByName = new Map(this.slots.map((s) => [s.name, s]));
    this.net = new Network(this.config, kernels);
    const initRng = new Rng(this.config.seed);
    try {
      initialise(this.config, this.slots, kernels.memory.f, this.net.params.base, config.init, initRng);
    } catch (e) {
      this.net.dispose();
      throw e;
    }
    this.rng = new Rng((this.config.seed ^ 0x5bd1e995) >>> 0);
  }

  get backend(): 'wasm' | 'js' { return this.kernels.name; }

  /** Number of trainable floats. */
  get numParameters(): number { return this.slots.reduce((n, s) => n + s.size, 0); }

  parameterNames(): string[] { return this.slots.map((s) => s.name); }

  parameterShape(name: string): number[] { return [...this.slot(name).shape]; }

  /** A copy of one parameter (row-major, PyTorch layout). */
  getParameter(name: string): Floats {
    this.alive();
    const s = this.slot(name);
    const at = this.net.params.base + s.offset;
    return this.kernels.memory.f.slice(at, at + s.size);
  }

  /** Overwrites one parameter; values must be finite and exactly the parameter's size. */
  setParameter(name: string, values: Numbers): void {
    this.guard(() => {
      const s = this.slot(name);
      if (!isNumbers(values) || values.length !== s.size) {
        throw new InvalidArgumentError(`parameter "${name}"`, `${s.size} values (shape [${s.shape.join(', ')}])`, describe(values));
      }
      checkParameterValues(`parameter "${name}"`, values, this.kernels.memory.dtype);
      this.kernels.memory.f.set(values, this.net.params.base + s.offset);
      this.net.packedDirty = true;
    });
  }

  /** All parameters by PyTorch state_dict name (copies). */
  stateDict(): Record<string, Floats> {
    const out: Record<string, Floats> = {};
    for (const s of this.slots) out[s.name] = this.getParameter(s.name);
    return out;
  }

  /** Loads every parameter by name; all are checked before any is written. */
  loadStateDict(dict: Record<string, Numbers>): void {
    this.alive();
    if (dict === null || typeof dict !== 'object') throw new InvalidArgumentError('stateDict', 'an object of name → values', describe(dict));
    for (const name of Object.keys(dict)) {
      if (!this.slotByName.has(name)) throw new InvalidArgumentError('stateDict', `only the names ${this.parameterNames().join(', ')}`, `unknown name "${name}"`);
    }
    for (const s of this.slots) {
      const v = dict[s.name];
      if (v === undefined) throw new InvalidArgumentError('stateDict', `a value for "${s.name}"`, 'missing');
      if (!isNumbers(v) || v.length !== s.size) throw new InvalidArgumentError(`stateDict["${s.name}"]`, `${s.size} values (shape [${s.shape.join(', ')}])`, describe(v));
      checkParameterValues(`stateDict["${s.name}"]`, v, this.kernels.memory.dtype);
    }
    for (const s of this.slots) this.setParameter(s.name, dict[s.name]);
  }

  /** The parameters and configuration as safetensors bytes (PyTorch names and layouts). */
  toSafetensors(extraMetadata?: Record<string, string>, options?: SaveOptions): Uint8Array {
    return modelToSafetensors(this, extraMetadata, options);
  }

  /** Loads parameters from safetensors bytes (e.g. a PyTorch state_dict); all checked first. */
  loadSafetensors(bytes: Uint8Array | ArrayBuffer): void {
    loadSafetensorsInto(this, bytes);
  }

  /** Forward pass: the head's outputs and the final states. */
  predict(input: PredictInput, options: { at?: 'every' | 'last' } = {}): Prediction {
    const at = options.at ?? 'every';
    if (at !== 'every' && at !== 'last') throw new InvalidArgumentError('options.at', '"every" or "last"', describe(at));
    return this.guard(() => {
      checkBatch(this.config, input, null);
      const w = this.run(input, null, at);
      return this.readPrediction(w, at);
    });
  }

  /** The loss and every gradient for one batch, without changing any weight. */
  lossAndGradients(batch: Batch, loss: LossSpec | LossKind, options: { diagnostics?: boolean } = {}): GradientResult {
    const spec = resolveLoss(loss);
    return this.guard(() => {
      const realRows = checkBatch(this.config, batch, spec);
      const w = this.run(batch, spec, spec.at);
      const value = this.net.loss(w, spec, realRows, true);
      this.net.backward(w, spec.at, options.diagnostics === true);
      const f = this.kernels.memory.f;
      const grads: Record<string, Floats> = {};
      const gBase = this.net.params.base + this.net.params.P;
      for (const s of this.slots) grads[s.name] = f.slice(gBase + s.offset, gBase + s.offset + s.size);
      const { B } = batch, H = this.config.hiddenSize, L = this.config.numLayers;
      const dh0 = newFloats(f, L * B * H);
      const dc0 = this.config.cell === 'lstm' ? newFloats(f, L * B * H) : null;
      for (let l = 0; l < L; l++) {
        dh0.set(f.subarray(w.layers[l].dh, w.layers[l].dh + B * H), l * B * H);
        if (dc0) dc0.set(f.subarray(w.layers[l].dc, w.layers[l].dc + B * H), l * B * H);
      }
      const result: GradientResult = { ...this.readPrediction(w, spec.at), loss: value, grads, dh0, dc0 };
      if (options.diagnostics) {
        result.gradNormsOverTime = w.layers.map((lw) => f.slice(lw.dhnorm, lw.dhnorm + batch.T));
      }
      return result;
    });
  }

  /** Samples ids from a token model whose head predicts the next id (outputSize = inputSize). */
  generate(options: GenerateOptions): Int32Array {
    const cfg = this.config;
    if (cfg.input !== 'tokens' || cfg.outputSize !== cfg.inputSize) {
      throw new InvalidArgumentError('generate', 'a model with input "tokens" and outputSize = inputSize', `input "${cfg.input}", outputSize ${cfg.outputSize}, inputSize ${cfg.inputSize}`);
    }
    const { prime, length } = options;
    const temperature = options.temperature ?? 1;
    if (!isNumbers(prime) || prime.length < 1) throw new InvalidArgumentError('options.prime', 'at least one token id', describe(prime));
    if (!Number.isInteger(length) || length < 0) throw new InvalidArgumentError('options.length', 'an integer ≥ 0', describe(length));
    if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
      throw new InvalidArgumentError('options.temperature', 'a finite number ≥ 0', describe(temperature));
    }
    const rng = options.seed === undefined ? this.rng : new Rng(options.seed);
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

  /** Frees the model's memory; any later call throws a DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    if (this.busy) throw new BusyError('the model');
    this.disposed = true;
    this.net.dispose();
  }

  get isDisposed(): boolean { return this.disposed; }

  /** @internal Forward over a checked batch; returns the work arena holding the activations. */
  run(batch: Batch, loss: ResolvedLoss | null, at: 'every' | 'last') {
    const w = this.net.prepare(batch.T, batch.B);
    this.net.load(w, batch, loss !== null);
    this.net.forward(w, at);
    return w;
  }

  /** @internal Runs fn with the model marked busy; refuses re-entry and disposed models. */
  guard<T>(fn: () => T): T {
    this.enter();
    try {
      return fn();
    } finally {
      this.busy = false;
    }
  }

  /** @internal guard() without a closure, for the training step: enter(), then exit() in a finally. */
  enter(): void {
    this.alive();
    if (this.busy) throw new BusyError('the model');
    this.busy = true;
  }

  /** @internal */
  exit(): void {
    this.busy = false;
  }

  private alive(): void {
    if (this.disposed) throw new DisposedError('the model');
  }

  private slot(name: string): TensorSlot {
    const s = this.slotByName.get(name);
    if (!s) throw new InvalidArgumentError('name', `one of ${this.parameterNames().join(', ')}`, describe(name));
    return s;
  }

  private readPrediction(w: ReturnType<Network['prepare']>, at: 'every' | 'last'): Prediction {
    const R = this.net.headRowCount(w, at);
    const O = this.config.outputSize;
    const y = this.kernels.memory.f.slice(w.y, w.y + R * O);
    return { y, ...this.net.finalStates(w) };
  }
}

/** Parameter values must be finite in the model's precision (float32 unless js float64). */
function checkParameterValues(name: string, v: Numbers, dtype: 'float32' | 'float64'): void {
  const limit = dtype === 'float64' ? Number.MAX_VALUE : F32_MAX;
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'number' || !(Math.abs(v[i]) <= limit)) {
      throw new InvalidArgumentError(`${name}[${i}]`, dtype === 'float64' ? 'a finite number' : 'a finite number within float32 range (|x| ≤ 3.4e38)', describe(v[i]));
    }
  }
}

/** A zeroed array of the memory's float type. */
export function newFloats(like: Floats, n: number): Floats {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

function isNumbers(v: unknown): v is Numbers {
  return (ArrayBuffer.isView(v) && !(v instanceof DataView)) || Array.isArray(v);
}

/** Draws an id from softmax(logits / temperature); temperature 0 is argmax. */
export function sample(logits: ArrayLike<number>, temperature: number, rng: Rng): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (temperature === 0) return best;
  let sum = 0;
  const p = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) { p[i] = Math.exp((logits[i] - logits[best]) / temperature); sum += p[i]; }
  let u = rng.next() * sum;
  for (let i = 0; i < p.length; i++) { u -= p[i]; if (u < 0) return i; }
  return p.length - 1;
}
