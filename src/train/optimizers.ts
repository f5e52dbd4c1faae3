// Optimizers with PyTorch's semantics (SPEC "Clipping and optimizers"). Their moments live in
// the model's memory as arrays parallel to the parameter block, and each update is one kernel
// call over the whole block.
import type { Kernels } from '../backends/kernels.js';
import { ConfigError, describe } from '../errors.js';

export type OptimizerSpec =
  | { name: 'sgd'; lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }
  | { name: 'adam' | 'adamw'; lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number }
  | { name: 'rmsprop'; lr?: number; alpha?: number; eps?: number; weightDecay?: number }
  | { name: 'adagrad'; lr?: number; eps?: number; weightDecay?: number };

export type OptimizerName = OptimizerSpec['name'];

export interface ResolvedOptimizer {
  name: OptimizerName;
  lr: number;
  momentum: number; dampening: number; nesterov: boolean;
  beta1: number; beta2: number; alpha: number; eps: number;
  weightDecay: number;
}

const NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'];

function num(name: string, v: unknown, fallback: number, lo: number, hi: number, loOpen = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) {
    throw new ConfigError(name, `a number in ${loOpen ? '(' : '['}${lo}, ${hi}]`, describe(v));
  }
  return v;
}

export function resolveOptimizer(spec: OptimizerSpec | OptimizerName): ResolvedOptimizer {
  const s = (typeof spec === 'string' ? { name: spec } : spec) as Record<string, unknown>;
  if (!s || typeof s !== 'object') throw new ConfigError('optimizer', 'an optimizer name or { name, lr, ... }', describe(spec));
  const name = s.name as OptimizerName;
  if (!NAMES.includes(name)) throw new ConfigError('optimizer.name', `one of ${NAMES.join(', ')}`, describe(s.name));
  const defaultLr = name === 'adam' || name === 'adamw' ? 1e-3 : name === 'sgd' ? NaN : 1e-2;
  if (name === 'sgd' && s.lr === undefined) throw new ConfigError('optimizer.lr', 'a learning rate for SGD (it has no default)', 'undefined');
  const lr = num('optimizer.lr', s.lr, defaultLr, 0, 1e6);
  const betas = s.betas as unknown;
  if (betas !== undefined && (!Array.isArray(betas) || betas.length !== 2)) throw new ConfigError('optimizer.betas', '[beta1, beta2]', describe(betas));
  const momentum = num('optimizer.momentum', s.momentum, 0, 0, 1);
  const dampening = num('optimizer.dampening', s.dampening, 0, 0, 1);
  const nesterov = s.nesterov === undefined ? false : s.nesterov;
  if (typeof nesterov !== 'boolean') throw new ConfigError('optimizer.nesterov', 'true or false', describe(nesterov));
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new ConfigError('optimizer.nesterov', 'momentum > 0 and dampening 0 (as PyTorch requires)', `momentum ${momentum}, dampening ${dampening}`);
  }
  return {
    name, lr, momentum, dampening, nesterov,
    beta1: num('optimizer.betas[0]', (betas as number[] | undefined)?.[0], 0.9, 0, 1),
    beta2: num('optimizer.betas[1]', (betas as number[] | undefined)?.[1], 0.999, 0, 1),
    alpha: num('optimizer.alpha', s.alpha, 0.99, 0, 1),
    eps: num('optimizer.eps', s.eps, name === 'adagrad' ? 1e-10 : 1e-8, 0, 1),
    weightDecay: num('optimizer.weightDecay', s.weightDecay, name === 'adamw' ? 1e-2 : 0, 0, 1e6),
  };
}

/** Moment arrays each optimizer keeps, in order. */
export function momentNames(name: OptimizerName): string[] {
  switch (name) {
    case 'sgd': return ['momentum_buffer'];
    case 'adam': case 'adamw': return ['exp_avg', 'exp_avg_sq'];
    case 'rmsprop': return ['square_avg'];
    case 'adagrad': return ['sum'];
  }
}

export class Optimizer {
  readonly spec: ResolvedOptimizer;
  /** updates applied so far (PyTorch's `step`) */
  step = 0;
  /** element offset of the first moment array; each is P floats */
  readonly state: number;
  readonly moments: string[];

  // Adam's constant scalars, computed once (1 − β in f64, as PyTorch's Python floats): a number
  // computed anew for every call would be boxed at the JS→Wasm boundary on every step
  private readonly omb1: number;
  private readonly omb2: number;
  private readonly l2: number;

  constructor(spec: OptimizerSpec | OptimizerName, private readonly k: Kernels, private readonly P: number) {
    this.spec = resolveOptimizer(spec);
    this.omb1 = 1 - this.spec.beta1;
    this.omb2 = 1 - this.spec.beta2;
    this.l2 = this.spec.name === 'adamw' ? 0 : this.spec.weightDecay;
    this.moments = momentNames(this.spec.name);
    const n = this.spec.name === 'sgd' && this.spec.momentum === 0 ? 0 : this.moments.length;
    this.state = n ? k.memory.alloc(n * P) : 0;
  }

  moment(i: number): number { return this.state + i * this.P; }

  /** θ ← update(θ, g) over the whole parameter block, at learning rate lr. */
  update(params: number, grads: number, lr: number): void {
    const s = this.spec, k = this.k, P = this.P;
    this.step++;
    switch (s.name) {
      case 'sgd':
        k.sgdUpdate(P, params, grads, this.state, lr, s.momentum, s.dampening, s.nesterov, s.weightDecay, this.step === 1);
        break;
      case 'adam':
      case 'adamw': {
        const bc1 = 1 - s.beta1 ** this.step, bc2 = 1 - s.beta2 ** this.step;
        k.adamUpdate(P, params, grads, this.moment(0), this.moment(1), s.beta1, this.omb1, s.beta2, this.omb2, s.eps,
          lr / bc1, Math.sqrt(bc2), this.l2, s.name === 'adamw' ? 1 - lr * s.weightDecay : 1);
        break;
      }
      case 'rmsprop':
        k.rmspropUpdate(P, params, grads, this.state, lr, s.alpha, s.eps, s.weightDecay);
        break;
      case 'adagrad':
        k.adagradUpdate(P, params, grads, this.state, lr, s.eps, s.weightDecay);
        break;
    }
  }

  dispose(): void {
    if (this.state) this.k.memory.free(this.state);
  }
}
