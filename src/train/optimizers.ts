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
  momentum: number;
  dampening: number;
  nesterov: boolean;
  beta1: number;
  beta2: number;
  alpha: number;
  eps: number;
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
export function resolveOptimizer(
  spec: OptimizerSpec | OptimizerName,
  argument = 'optimizer',
  E: ArgumentErrorClass = ConfigError,
): ResolvedOptimizer {
  const s = (typeof spec === 'string' ? { name: spec } : spec) as Record<string, unknown>;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw new E(argument, 'an optimizer name or { name, lr, ... }', describe(spec));
  const name = s.name as OptimizerName;
  if (!NAMES.includes(name)) throw new E(`${argument}.name`, `one of ${NAMES.join(', ')}`, describe(s.name));
  checkKeys(argument, s, OPTIMIZER_KEYS[name], E === ConfigError ? undefined : E);
  const num = (key: string, v: unknown, domain: NumberDomain, fallback: number) =>
    optionalNumber(`${argument}.${key}`, v, domain, fallback, E);
  const defaultLr = name === 'adam' || name === 'adamw' ? 1e-3 : name === 'sgd' ? NaN : 1e-2;
  if (name === 'sgd' && s.lr === undefined) throw new E(`${argument}.lr`, 'a learning rate for SGD (it has no default)', 'undefined');
  const lr = num('lr', s.lr, DOMAINS.lr, defaultLr);
  const betas = s.betas as unknown;
  if (betas !== undefined && (!Array.isArray(betas) || betas.length !== 2))
    throw new E(`${argument}.betas`, '[beta1, beta2]', describe(betas));
  const momentum = num('momentum', s.momentum, DOMAINS.momentum, 0);
  const dampening = num('dampening', s.dampening, DOMAINS.dampening, 0);
  const nesterov = s.nesterov === undefined ? false : s.nesterov;
  if (typeof nesterov !== 'boolean') throw new E(`${argument}.nesterov`, 'true or false', describe(nesterov));
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new E(
      `${argument}.nesterov`,
      'momentum > 0 and dampening 0 (as PyTorch requires)',
      `momentum ${momentum}, dampening ${dampening}`,
    );
  }
  return {
    name,
    lr,
    momentum,
    dampening,
    nesterov,
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
    case 'sgd':
      return ['momentum_buffer'];
    case 'adam':
    case 'adamw':
      return ['exp_avg', 'exp_avg_sq'];
    case 'rmsprop':
      return ['square_avg'];
    case 'adagrad':
      return ['sum'];
  }
}

/** Floats per slice of the exact dry run (a multiple of 4: the kernels' SIMD lanes fall as in the real update). */
const DRY_RUN_CHUNK = 4096;
const F32_MAX = 3.4028234663852886e38;

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

  // Upper bounds of |moment| per moment array, carried from update to update so that the check
  // of a step needs no pass over the moments; NaN when unknown (after the moments were written
  // from outside, e.g. by a checkpoint restore), which makes the next check measure them.
  private readonly bounds: Float64Array;
  private readonly nextBounds: Float64Array;
  /** eps as the kernels see it (rounded to float32 on float32 memory) */
  private readonly eps: number;
  /** largest magnitude a bound may reach: half the dtype's maximum leaves room for rounding */
  private readonly limit: number;
  /** the exact check's slices: weights, then each moment, `chunk` floats apart */
  private readonly scratch: number;
  private readonly chunk: number;
  /** the update number that check() approved and computed nextBounds for (−1: none) */
  private checked = -1;
  // A bound of |θ| after this optimizer's last update and the weights' version it holds for
  // (Network.weightsVersion): when nobody else wrote the weights since, no pass over them is needed.
  // [the bound, the bound after the update being checked], in a typed array so that storing a
  // double never allocates
  private readonly theta = new Float64Array([NaN, NaN]);
  /** [lr, gMax, |θ| bound] of the step being checked (see checkArgs) */
  readonly args = new Float64Array(3);
  /** Σ x² from the kernels (see Kernels.sumSquares), then magnitude()'s bound */
  private readonly sums = new Float64Array(1);
  private thetaVersion = -1;

  constructor(
    spec: OptimizerSpec | OptimizerName,
    private readonly k: Kernels,
    private readonly P: number,
  ) {
    this.spec = resolveOptimizer(spec);
    this.omb1 = 1 - this.spec.beta1;
    this.omb2 = 1 - this.spec.beta2;
    this.l2 = this.spec.name === 'adamw' ? 0 : this.spec.weightDecay;
    this.moments = momentNames(this.spec.name);
    const n = this.spec.name === 'sgd' && this.spec.momentum === 0 ? 0 : this.moments.length;
    this.state = n ? k.memory.alloc(n * P) : 0;
    // the exact check's scratch is reserved with the moments, so that a step never allocates:
    // a lack of memory shows at new Trainer, not in the middle of a step
    this.chunk = Math.min(DRY_RUN_CHUNK, Math.ceil(P / 4) * 4);
    try {
      this.scratch = k.memory.alloc((1 + n) * this.chunk);
    } catch (e) {
      if (this.state) k.memory.free(this.state);
      throw e;
    }
    this.bounds = new Float64Array(n);
    this.nextBounds = new Float64Array(n);
    const f32 = k.memory.dtype === 'float32';
    this.eps = f32 ? Math.fround(this.spec.eps) : this.spec.eps;
    this.limit = (f32 ? F32_MAX : Number.MAX_VALUE) / 2;
  }

  moment(i: number): number {
    return this.state + i * this.P;
  }

  /** The moments were written from outside: the next check measures them instead of trusting its bounds. */
  invalidateBounds(): void {
    this.bounds.fill(NaN);
  }

  /**
   * Whether update(params, grads, lr) would leave every weight and moment finite. `gMax` bounds
   * |g| of every gradient element (the clipped gradient norm will do). Returns null when it would,
   * or why not; nothing is changed either way.
   *
   * The usual case costs one pass over the weights (their L2 norm bounds every |θ|): with bounds
   * of the moments carried from the previous update, a worst-case estimate of the update shows it
   * stays far from overflow. When the estimate cannot show that, the moments are measured and,
   * failing that too, the update is run exactly on copies, slice by slice, and its results are
   * inspected: only an update whose every result is finite is let through.
   */
  check(params: number, grads: number, lr: number, gMax: number, weightsVersion = NaN): string | null {
    this.args[0] = lr;
    this.args[1] = gMax;
    return this.checkArgs(params, grads, weightsVersion);
  }

  /**
   * check() with lr and gMax in `args` [lr, gMax]: doubles passed as arguments are boxed on the
   * heap at every call that is not inlined, and a training step is meant to allocate nothing.
   */
  checkArgs(params: number, grads: number, weightsVersion: number): string | null {
    const a = this.args;
    this.checked = -1;
    let measured = false;
    let theta = this.theta[0];
    if (weightsVersion !== this.thetaVersion || Number.isNaN(theta)) {
      this.magnitude(params, this.P);
      theta = this.sums[0];
      measured = true;
    }
    if (!Number.isFinite(theta)) return 'the weights are not finite';
    let unknown = false;
    for (let i = 0; i < this.bounds.length; i++) if (Number.isNaN(this.bounds[i])) unknown = true;
    if (unknown) {
      this.measureBounds();
      measured = true;
    }
    this.checked = this.step + 1;
    a[2] = theta;
    if (this.estimate()) return null;
    if (!measured) {
      // the carried bounds may have drifted far above the values: measure them
      this.magnitude(params, this.P);
      a[2] = this.sums[0];
      if (!Number.isFinite(a[2])) return 'the weights are not finite';
      this.measureBounds();
      if (this.estimate()) return null;
    }
    if (this.dryRun(params, grads)) {
      // exact, but the estimate could not bound the result: measure next time
      this.nextBounds.fill(NaN);
      this.theta[1] = NaN;
      return null;
    }
    this.checked = -1;
    return `the update (lr ${a[0]}) would make a weight or an optimizer moment non-finite`;
  }

  /** Sets nextBounds and returns true when a worst-case estimate keeps every result finite (args: lr, gMax, |θ| bound). */
  private estimate(): boolean {
    const s = this.spec,
      L = this.limit,
      b = this.bounds,
      nb = this.nextBounds;
    const lr = this.args[0],
      gMax = this.args[1],
      theta = this.args[2];
    const t = this.step + 1;
    // a number from the start: a variable that may still be undefined is kept boxed, and each value
    // stored in it allocates
    let dTheta = 0; // bound of |θ′ − θ·decay|
    let decay = 1;
    switch (s.name) {
      case 'sgd': {
        const D = gMax + s.weightDecay * theta;
        let dir = D;
        if (s.momentum !== 0) {
          const buf = t === 1 ? D : s.momentum * b[0] + (1 - s.dampening) * D;
          nb[0] = buf;
          if (!(buf <= L)) return false;
          dir = s.nesterov ? D + s.momentum * buf : buf;
        }
        if (!(D <= L && dir <= L)) return false;
        dTheta = lr * dir;
        break;
      }
      case 'adam':
      case 'adamw': {
        const D = gMax + this.l2 * theta;
        const m = s.beta1 * b[0] + this.omb1 * D;
        const v = s.beta2 * b[1] + this.omb2 * D * D;
        nb[0] = m;
        nb[1] = v;
        if (!(D * D <= L && m <= L && v <= L)) return false;
        decay = Math.abs(s.name === 'adamw' ? 1 - lr * s.weightDecay : 1);
        // the denominator is at least eps
        dTheta = ((lr / (1 - s.beta1 ** t)) * m) / this.eps;
        break;
      }
      case 'rmsprop': {
        const D = gMax + s.weightDecay * theta;
        const v = s.alpha * b[0] + (1 - s.alpha) * D * D;
        nb[0] = v;
        if (!(D * D <= L && v <= L)) return false;
        // v′ ≥ (1 − α)·d², so |d|/√v′ ≤ 1/√(1 − α) (with room for rounding)
        const ratio = s.alpha < 1 ? Math.min(D / this.eps, 1.01 / Math.sqrt(1 - s.alpha)) : D / this.eps;
        dTheta = lr * ratio;
        break;
      }
      case 'adagrad': {
        const D = gMax + s.weightDecay * theta;
        const sum = b[0] + D * D;
        nb[0] = sum;
        if (!(D * D <= L && sum <= L)) return false;
        dTheta = lr * Math.min(D / this.eps, 1.01); // s′ ≥ d²
        break;
      }
    }
    const next = decay * theta + dTheta;
    this.theta[1] = next;
    return next <= L;
  }

  /** Bounds of the moments (each measured like the weights). */
  private measureBounds(): void {
    for (let i = 0; i < this.bounds.length; i++) {
      this.magnitude(this.moment(i), this.P);
      this.bounds[i] = this.sums[0];
    }
  }

  /**
   * A bound of the largest |x| of n floats into sums[0], NaN if one is not finite: their L2 norm,
   * summed in f64 by the kernel for float32 memory (x² of a float32 cannot overflow f64). float64
   * memory is scanned here instead, as its x² could. (Not returned: a double returned from a call
   * that is not inlined is boxed, and checkArgs' θ would then be boxed on every step.)
   */
  private magnitude(at: number, n: number): void {
    const out = this.sums;
    if (this.k.memory.dtype === 'float32') {
      this.k.sumSquares(n, at, out);
      out[0] = Math.sqrt(out[0]);
      return;
    }
    const f = this.k.memory.f;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(f[at + i]);
      if (!(a <= max)) {
        if (!(a < Infinity)) {
          max = NaN;
          break;
        }
        max = a;
      }
    }
    out[0] = max;
  }

  /** Runs the update on copies, slice by slice, and returns whether every result is finite. */
  private dryRun(params: number, grads: number): boolean {
    const m = this.bounds.length,
      k = this.k,
      P = this.P,
      C = this.chunk,
      scratch = this.scratch;
    const f = k.memory.f;
    for (let i = 0; i < P; i += C) {
      const n = Math.min(C, P - i);
      f.copyWithin(scratch, params + i, params + i + n);
      for (let j = 0; j < m; j++) f.copyWithin(scratch + (1 + j) * C, this.moment(j) + i, this.moment(j) + i + n);
      this.apply(n, scratch, grads + i, scratch + C, C, this.step + 1);
      for (let j = 0; j <= m; j++) {
        this.magnitude(scratch + j * C, n);
        if (!Number.isFinite(this.sums[0])) return false;
      }
    }
    return true;
  }

  /**
   * The kernel call of update number `t` over n elements at the learning rate in args[0]; the
   * moment arrays start at `moments`, `stride` apart.
   */
  private apply(n: number, params: number, grads: number, moments: number, stride: number, t: number): void {
    const s = this.spec,
      k = this.k,
      lr = this.args[0];
    switch (s.name) {
      case 'sgd':
        k.sgdUpdate(n, params, grads, moments, lr, s.momentum, s.dampening, s.nesterov, s.weightDecay, t === 1);
        break;
      case 'adam':
      case 'adamw': {
        const bc1 = 1 - s.beta1 ** t,
          bc2 = 1 - s.beta2 ** t;
        k.adamUpdate(
          n,
          params,
          grads,
          moments,
          moments + stride,
          s.beta1,
          this.omb1,
          s.beta2,
          this.omb2,
          s.eps,
          lr / bc1,
          Math.sqrt(bc2),
          this.l2,
          s.name === 'adamw' ? 1 - lr * s.weightDecay : 1,
        );
        break;
      }
      case 'rmsprop':
        k.rmspropUpdate(n, params, grads, moments, lr, s.alpha, s.eps, s.weightDecay);
        break;
      case 'adagrad':
        k.adagradUpdate(n, params, grads, moments, lr, s.eps, s.weightDecay);
        break;
    }
  }

  /**
   * θ ← update(θ, g) over the whole parameter block, at learning rate lr. The Trainer calls
   * check() first; the bounds it computed become the moments' bounds.
   */
  update(params: number, grads: number, lr: number): void {
    this.args[0] = lr;
    this.updateArgs(params, grads);
  }

  /** update() with lr in args[0], as checkArgs() takes it (a double argument may be boxed). */
  updateArgs(params: number, grads: number): void {
    this.step++;
    this.apply(this.P, params, grads, this.state, this.P, this.step);
    if (this.checked === this.step) {
      this.bounds.set(this.nextBounds);
      this.theta[0] = this.theta[1];
    } else {
      this.bounds.fill(NaN);
      this.theta[0] = NaN;
    }
    this.checked = -1;
  }

  /** The weights' version after this optimizer's update wrote them (see check()). */
  wroteWeights(weightsVersion: number): void {
    this.thetaVersion = weightsVersion;
  }

  dispose(): void {
    if (this.state) this.k.memory.free(this.state);
    this.k.memory.free(this.scratch);
  }
}
