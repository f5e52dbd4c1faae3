// Learning-rate schedules: a factor of the base learning rate as a function of the number of
// updates already applied (0 for the first step), like torch.optim.lr_scheduler stepped once
// per update. Linear warm-up multiplies whichever decay is chosen.
import { ConfigError, describe } from '../errors.js';
import { checkKeys, checkNumber, DOMAINS, optionalNumber, type ArgumentErrorClass, type NumberDomain } from '../validate/index.js';

export type ScheduleSpec =
  | { kind: 'constant'; warmup?: number }
  /** × gamma every `stepSize` updates (StepLR) */
  | { kind: 'step'; stepSize: number; gamma?: number; warmup?: number }
  /** × gamma every update (ExponentialLR) */
  | { kind: 'exponential'; gamma: number; warmup?: number }
  /** cosine from 1 to minFactor over `total` updates (CosineAnnealingLR, no restarts) */
  | { kind: 'cosine'; total: number; minFactor?: number; warmup?: number };

export type Schedule = (step: number) => number;

/** The keys each schedule kind takes. */
export const SCHEDULE_KEYS: Readonly<Record<ScheduleSpec['kind'], readonly string[]>> = {
  constant: ['kind', 'warmup'],
  step: ['kind', 'stepSize', 'gamma', 'warmup'],
  exponential: ['kind', 'gamma', 'warmup'],
  cosine: ['kind', 'total', 'minFactor', 'warmup'],
};

/** The value of each optional field a kind takes when the spec leaves it out. */
const SCHEDULE_DEFAULTS: Readonly<Record<ScheduleSpec['kind'], Readonly<Record<string, number>>>> = {
  constant: { warmup: 0 },
  step: { gamma: 0.1, warmup: 0 },
  exponential: { warmup: 0 },
  cosine: { minFactor: 0, warmup: 0 },
};

/**
 * Whether two valid specs describe the same schedule: the same kind and the same value of every
 * field, a left-out field counting as its default (undefined is the constant schedule).
 */
export function sameSchedule(a: ScheduleSpec | undefined, b: ScheduleSpec | undefined): boolean {
  const x = (a ?? { kind: 'constant' }) as Record<string, unknown>,
    y = (b ?? { kind: 'constant' }) as Record<string, unknown>;
  if (x.kind !== y.kind) return false;
  const kind = x.kind as ScheduleSpec['kind'];
  const defaults = SCHEDULE_DEFAULTS[kind];
  return SCHEDULE_KEYS[kind].every((k) => Object.is(x[k] ?? defaults[k], y[k] ?? defaults[k]));
}

/**
 * The schedule of a spec checked against DOMAINS (undefined: constant). `argument` prefixes the
 * error's argument name and `E` is its class (the checkpoint loader uses its own).
 */
export function makeSchedule(spec: ScheduleSpec | undefined, argument = 'schedule', E: ArgumentErrorClass = ConfigError): Schedule {
  if (spec === undefined) return () => 1;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new E(argument, 'an object { kind, ... }', describe(spec));
  const kind = spec.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(SCHEDULE_KEYS, kind)) {
    throw new E(`${argument}.kind`, '"constant", "step", "exponential" or "cosine"', describe(kind));
  }
  checkKeys(argument, spec, SCHEDULE_KEYS[kind], E === ConfigError ? undefined : E);
  const s = spec as Record<string, unknown>;
  const need = (key: string, domain: NumberDomain) => checkNumber(`${argument}.${key}`, s[key], domain, E);
  const opt = (key: string, domain: NumberDomain, fallback: number) => optionalNumber(`${argument}.${key}`, s[key], domain, fallback, E);
  const defaults = SCHEDULE_DEFAULTS[kind];
  const warmup = opt('warmup', DOMAINS.warmup, defaults.warmup);
  let decay: Schedule;
  switch (kind) {
    case 'constant':
      decay = () => 1;
      break;
    case 'step': {
      const size = need('stepSize', DOMAINS.stepSize);
      const gamma = opt('gamma', DOMAINS.gamma, defaults.gamma);
      decay = (s) => gamma ** Math.floor(s / size);
      break;
    }
    case 'exponential': {
      // required: there is no sensible default decay per update
      const gamma = need('gamma', DOMAINS.gamma);
      decay = (s) => gamma ** s;
      break;
    }
    case 'cosine': {
      const total = need('total', DOMAINS.total);
      const min = opt('minFactor', DOMAINS.minFactor, defaults.minFactor);
      decay = (s) => min + (1 - min) * 0.5 * (1 + Math.cos((Math.PI * Math.min(s, total)) / total));
      break;
    }
  }
  // warm-up: the first update runs at 1/warmup of the rate, reaching the full rate after `warmup` updates
  return warmup > 0 ? (s) => decay(s) * Math.min(1, (s + 1) / warmup) : decay;
}
