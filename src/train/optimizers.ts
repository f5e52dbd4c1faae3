// Optimizers with PyTorch's semantics. Their moments live in
// the model's memory as arrays parallel to the parameter block, and each update is one kernel
// call over the whole block.
import type { Kernels } from '../backends/kernels.js';
import { ConfigError, describe } from '../errors.js';
import { checkKeys, DOMAINS, optionalNumber, type ArgumentErrorClass, type NumberDomain } from '../validate/index.js';

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

/** The keys each optimizer takes: another optimizer's option (Adam's betas for SGD) is refused too. */
export const OPTIMIZER_KEYS: Readonly<Record<OptimizerName, readonly string[]>> = {
  sgd: ['name', 'lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'],
  adam: ['name', 'lr', 'betas', 'eps', 'weightDecay'],
  adamw: ['name', 'lr', 'betas', 'eps', 'weightDecay'],
  rmsprop: ['name', 'lr', 'alpha', 'eps', 'weightDecay'],
  adagrad: ['name', 'lr', 'eps', 'weightDecay'],
};

/**
 * Checks an optimizer spec against DOMAINS and fills in PyTorch's defaults. `argument` prefixes
 * every error's argument name; `E` is the error class (the checkpoint loader uses its own).
 */
export function resolveOptimizer(spec: OptimizerSpec | OptimizerName, argument = 'optimizer', E: ArgumentErrorClass = ConfigError): ResolvedOptimizer {
  const s = (typeof spec === 'string' ? { name: spec } : spec) as Record<string, unknown>;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw new E(argument, 'an optimizer name or { name, lr, ... }', describe(spec));
  const name = s.name as OptimizerName;
  if (!NAMES.includes(name)) throw new E(`${argument}.name`, `one of ${NAMES.join(', ')}`, describe(s.name));
  checkKeys(argument, s, OPTIMIZER_KEYS[name], E === ConfigError ? undefined : E);
  const num = (key: string, v: unknown, domain: NumberDomain, fallback: number) => optionalNumber(`${argument}.${key}`, v, domain, fallback, E);
  const defaultLr = name === 'adam' || name === 'adamw' ? 1e-3 : name === 'sgd' ? NaN : 1e-2;
  if (name === 'sgd' && s.lr === undefined) throw new E(`${argument}.lr`, 'a learning rate for SGD (it has no default)', 'undefined');
  const lr = num('lr', s.lr, DOMAINS.lr, defaultLr);
  const betas = s.betas as unknown;
  if (betas !== undefined && (!Array.isArray(betas) || betas.length !== 2)) throw new E(`${argument}.betas`, '[beta1, beta2]', describe(betas));
  const momentum = num('momentum', s.momentum, DOMAINS.momentum, 0);
  const dampening = num('dampening', s.dampening, DOMAINS.dampening, 0);
  const nesterov = s.nesterov === undefined ? false : s.nesterov;
  if (typeof nesterov !== 'boolean') throw new E(`${argument}.nesterov`, 'true or false', describe(nesterov));
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new E(`${argument}.nesterov`, 'momentum > 0 and dampening 0 (as PyTorch requires)', `momentum ${momentum}, dampening ${dampening}`);
  }
  return {
    name, lr, momentum, dampening, nesterov,
    beta1: num('betas[0]', (betas as unknown[] | undefined)?.[0], DOMAINS.beta, 0.9),
    beta2: num('betas[1]', (betas as unknown[] | undefined)?.[1], DOMAINS.beta, 0.999),
    alpha: num('alpha', s.alpha, DOMAINS.alpha, 0.99),
    eps: num('eps', s.eps, DOMAINS.eps, name === 'adagrad' ? 1e-10 : 1e-8),
    weightDecay: num('weightDecay', s.weightDecay, DOMAINS.weightDecay, name === 'adamw' ? 1e-2 : 0),
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
