// The domain of a number: which interval, whether its ends are open, whether it must be an
// integer and whether Infinity is allowed. One description serves both the check and the words
// of the error, so the message can never disagree with what is enforced.
import { ConfigError, describe, type UnrolledError } from '../errors.js';

export interface NumberDomain {
  /** Lower end (absent: unbounded below). */
  min?: number;
  /** Upper end (absent: unbounded above). */
  max?: number;
  /** The lower end itself is excluded. */
  minOpen?: boolean;
  /** The upper end itself is excluded. */
  maxOpen?: boolean;
  /** Only integers. */
  integer?: boolean;
  /** Infinity is refused (default true; NaN is always refused). */
  finite?: boolean;
  /** What the number means, for documentation. */
  doc?: string;
}

/** A class of error built from (argument, expected, actual), like ConfigError and InvalidArgumentError. */
export type ArgumentErrorClass = new (argument: string, expected: string, actual: string) => UnrolledError;

/** Bounds written as powers of two where that is how they were chosen, so messages stay readable. */
export function formatBound(x: number): string {
  if (x === Infinity) return '∞';
  if (x === -Infinity) return '−∞';
  if (Number.isInteger(x) && Math.abs(x) >= 65536 * 2) {
    const a = Math.abs(x),
      sign = x < 0 ? '−' : '';
    for (let k = 17; k <= 1023; k++) {
      const p = 2 ** k;
      if (p === a) return `${sign}2^${k}`;
      if (p - 1 === a) return `${sign}2^${k}−1`;
      if (p > a) break;
    }
  }
  // 3.4028234663852886e+38 → 3.4028234663852886e38: the sign of the exponent adds nothing
  return String(x).replace('e+', 'e');
}

/** The domain in words, e.g. "a finite number in (0, 1)" or "an integer in [1, 65536]". */
export function renderDomain(d: NumberDomain): string {
  const finite = d.finite !== false;
  const noun = d.integer ? 'an integer' : finite ? 'a finite number' : 'a number';
  const hasMin = d.min !== undefined,
    hasMax = d.max !== undefined;
  if (hasMin && hasMax) {
    return `${noun} in ${d.minOpen ? '(' : '['}${formatBound(d.min!)}, ${formatBound(d.max!)}${d.maxOpen ? ')' : ']'}`;
  }
  if (hasMin) return `${noun} ${d.minOpen ? '>' : '≥'} ${formatBound(d.min!)}`;
  if (hasMax) return `${noun} ${d.maxOpen ? '<' : '≤'} ${formatBound(d.max!)}`;
  return noun;
}

/** The value lies in the domain (a number, not NaN, within the ends, integer if required). */
export function inDomain(value: unknown, d: NumberDomain): value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (d.finite !== false && !Number.isFinite(value)) return false;
  if (d.integer && !Number.isInteger(value)) return false;
  if (d.min !== undefined && (d.minOpen ? !(value > d.min) : !(value >= d.min))) return false;
  if (d.max !== undefined && (d.maxOpen ? !(value < d.max) : !(value <= d.max))) return false;
  return true;
}

/** A number in full precision when describe() would hide what is wrong (e.g. 2^32 + 3). */
function actual(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) >= 2 ** 31) return `${value}`;
  return describe(value);
}

/**
 * Returns `value` if it lies in `domain`; otherwise throws `ErrorClass(argument, domain in words,
 * value)`. Nothing is coerced: a string "3", a boolean, a BigInt or a Number object are refused.
 */
export function checkNumber(argument: string, value: unknown, domain: NumberDomain, ErrorClass: ArgumentErrorClass = ConfigError): number {
  if (inDomain(value, domain)) return value;
  throw new ErrorClass(argument, renderDomain(domain), actual(value));
}

/** checkNumber for an optional value: `fallback` when undefined. */
export function optionalNumber(
  argument: string,
  value: unknown,
  domain: NumberDomain,
  fallback: number,
  ErrorClass: ArgumentErrorClass = ConfigError,
): number {
  return value === undefined ? fallback : checkNumber(argument, value, domain, ErrorClass);
}
