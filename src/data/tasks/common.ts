// Shared argument handling of the task generators.
import { InvalidArgumentError, describe } from '../../errors.js';
import { Rng } from '../../model/rng.js';

/** A generator's randomness: an Rng (continued, so successive batches differ) or a seed (a fresh Rng). */
export type RngOrSeed = Rng | number;

export function toRng(rng: RngOrSeed | undefined, name = 'rng'): Rng {
  if (rng === undefined) return new Rng(0);
  if (rng instanceof Rng) return rng;
  if (typeof rng !== 'number' || !Number.isInteger(rng) || rng < 0 || rng > 0xffffffff) {
    throw new InvalidArgumentError(name, 'an Rng or an integer seed in [0, 2^32)', describe(rng));
  }
  return new Rng(rng);
}

export function intOption(name: string, v: unknown, fallback: number | undefined, min: number, max = 1 << 24): number {
  if (v === undefined) {
    if (fallback === undefined) throw new InvalidArgumentError(name, `an integer in [${min}, ${max}]`, 'undefined');
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(name, `an integer in [${min}, ${max}]`, describe(v));
  }
  return v;
}

export function numberOption(name: string, v: unknown, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InvalidArgumentError(name, `a number in [${min}, ${max}]`, describe(v));
  }
  return v;
}

export function objectOption<T>(name: string, v: T): T {
  if (v === null || typeof v !== 'object') throw new InvalidArgumentError(name, 'an object', describe(v));
  return v;
}
