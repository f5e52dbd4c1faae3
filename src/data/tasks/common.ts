// Shared argument handling of the task generators.
import { InvalidArgumentError, MemoryLimitError, describe } from '../../errors.js';
import { checkKeys, checkNumber, DOMAINS, inDomain, optionalNumber, snapshotObject } from '../../validate/index.js';
import { Rng } from '../../model/rng.js';

/** A generator's randomness: an Rng (continued, so successive batches differ) or a seed (a fresh Rng). */
export type RngOrSeed = Rng | number;

export function toRng(rng: RngOrSeed | undefined, name = 'rng'): Rng {
  if (rng === undefined) return new Rng(0);
  if (rng instanceof Rng) return rng;
  if (!inDomain(rng, DOMAINS.seed)) throw new InvalidArgumentError(name, 'an Rng or an integer seed in [0, 2^32)', describe(rng));
  return new Rng(rng);
}

export function intOption(name: string, v: unknown, fallback: number | undefined, min: number, max = 1 << 24): number {
  const domain = { integer: true, min, max };
  if (v === undefined && fallback !== undefined) return fallback;
  return checkNumber(name, v, domain, InvalidArgumentError);
}

export function numberOption(name: string, v: unknown, fallback: number, min: number, max: number): number {
  return optionalNumber(name, v, { min, max }, fallback, InvalidArgumentError);
}

/** The options read once into plain data, with unknown keys refused (naming the nearest). */
export function objectOption<T>(name: string, v: T, keys: readonly string[]): T {
  const o = snapshotObject(name, v, 'an object', { ErrorClass: InvalidArgumentError });
  if (o === undefined) throw new InvalidArgumentError(name, 'an object', describe(v));
  checkKeys(name, o, keys, InvalidArgumentError);
  return o as T;
}

/** Refuses a batch whose arrays (T·B·perStep values) could never be allocated or trained on. */
export function checkBatchSize(T: number, B: number, perStep: number): void {
  if (!inDomain(T * B * perStep, DOMAINS.batchFloats)) {
    throw new MemoryLimitError(
      `a batch of T = ${T}, B = ${B} with ${perStep} values per step holds ${T * B * perStep} values; one batch array holds at most ${DOMAINS.batchFloats.max}`,
    );
  }
}
