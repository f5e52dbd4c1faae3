// Learning-rate schedules: a factor of the base learning rate as a function of the number of
// updates already applied (0 for the first step), like torch.optim.lr_scheduler stepped once
// per update. Linear warm-up multiplies whichever decay is chosen.
import { ConfigError, describe } from '../errors.js';

export type ScheduleSpec =
  | { kind: 'constant'; warmup?: number }
  /** × gamma every `stepSize` updates (StepLR) */
  | { kind: 'step'; stepSize: number; gamma?: number; warmup?: number }
  /** × gamma every update (ExponentialLR) */
  | { kind: 'exponential'; gamma: number; warmup?: number }
  /** cosine from 1 to minFactor over `total` updates (CosineAnnealingLR, no restarts) */
  | { kind: 'cosine'; total: number; minFactor?: number; warmup?: number };

export type Schedule = (step: number) => number;

function count(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ConfigError(name, `an integer ≥ ${min}`, describe(v));
  return v;
}

function fraction(name: string, v: unknown, fallback: number, lo: number, hi: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new ConfigError(name, `a number in [${lo}, ${hi}]`, describe(v));
  return v;
}

export function makeSchedule(spec: ScheduleSpec | undefined): Schedule {
  if (spec === undefined) return () => 1;
  if (spec === null || typeof spec !== 'object') throw new ConfigError('schedule', 'an object { kind, ... }', describe(spec));
  const warmup = spec.warmup === undefined ? 0 : count('schedule.warmup', spec.warmup, 0);
  let decay: Schedule;
  switch (spec.kind) {
    case 'constant': decay = () => 1; break;
    case 'step': {
      const size = count('schedule.stepSize', spec.stepSize, 1);
      const gamma = fraction('schedule.gamma', spec.gamma, 0.1, 0, 1);
      decay = (s) => gamma ** Math.floor(s / size);
      break;
    }
    case 'exponential': {
      const gamma = fraction('schedule.gamma', spec.gamma, NaN, 0, 1);
      decay = (s) => gamma ** s;
      break;
    }
    case 'cosine': {
      const total = count('schedule.total', spec.total, 1);
      const min = fraction('schedule.minFactor', spec.minFactor, 0, 0, 1);
      decay = (s) => min + (1 - min) * 0.5 * (1 + Math.cos(Math.PI * Math.min(s, total) / total));
      break;
    }
    default:
      throw new ConfigError('schedule.kind', '"constant", "step", "exponential" or "cosine"', describe((spec as { kind: unknown }).kind));
  }
  // warm-up: the first update runs at 1/warmup of the rate, reaching the full rate after `warmup` updates
  return warmup > 0 ? (s) => decay(s) * Math.min(1, (s + 1) / warmup) : decay;
}
