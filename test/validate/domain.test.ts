// The domain of a number: the check and the words of the error come from one description.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidArgumentError, UnrolledError } from '../../src/errors.js';
import { checkNumber, DOMAINS, formatBound, inDomain, optionalNumber, renderDomain, type NumberDomain } from '../../src/validate/index.js';

describe('renderDomain', () => {
  it('writes intervals, half-lines and integers in words', () => {
    expect(renderDomain({ min: 0, max: 1, minOpen: true, maxOpen: true })).toBe('a finite number in (0, 1)');
    expect(renderDomain({ integer: true, min: 1, max: 65536 })).toBe('an integer in [1, 65536]');
    expect(renderDomain({ min: 0, minOpen: true, finite: false })).toBe('a number > 0');
    expect(renderDomain({ max: 3 })).toBe('a finite number ≤ 3');
    expect(renderDomain({ integer: true, min: 1, max: 2 ** 24 })).toBe('an integer in [1, 2^24]');
    expect(renderDomain(DOMAINS.step)).toBe('an integer in [0, 2^53−1]');
    expect(renderDomain(DOMAINS.beta)).toBe('a finite number in [0, 1)');
  });
  it('formats powers of two past 2^16 as powers', () => {
    expect(formatBound(2 ** 31 - 1)).toBe('2^31−1');
    expect(formatBound(65536)).toBe('65536');
    expect(formatBound(1e6)).toBe('1000000');
    expect(formatBound(-(2 ** 40))).toBe('−2^40');
  });
});

describe('checkNumber', () => {
  it('names the argument, the domain and the value (in full, even 2^32 + 3)', () => {
    expect(() => checkNumber('options.length', 2 ** 32 + 3, DOMAINS.padLength)).toThrow(
      'options.length: expected an integer in [1, 2^24], got 4294967299',
    );
    expect(() => checkNumber('optimizer.eps', 0, DOMAINS.eps)).toThrow(/optimizer\.eps: expected .* got 0$/);
    const err = (() => {
      try {
        checkNumber('x', NaN, DOMAINS.lr, InvalidArgumentError);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).argument).toBe('x');
    expect((err as Error).message).toContain('got NaN');
  });
  it('coerces nothing', () => {
    for (const v of ['1', true, null, undefined, 1n, [1], { valueOf: () => 1 }, new Number(1)]) {
      expect(() => checkNumber('v', v, { min: 0, max: 2 })).toThrow(ConfigError);
    }
  });
  it('optionalNumber falls back only for undefined', () => {
    expect(optionalNumber('v', undefined, DOMAINS.lr, 0.5)).toBe(0.5);
    expect(() => optionalNumber('v', null, DOMAINS.lr, 0.5)).toThrow(ConfigError);
  });

  // any domain and any value: accepted exactly when the value lies in the domain as written
  const domainArb = fc.record(
    {
      min: fc.option(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { nil: undefined }),
      max: fc.option(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { nil: undefined }),
      minOpen: fc.boolean(),
      maxOpen: fc.boolean(),
      integer: fc.boolean(),
      finite: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: [] },
  );
  const valueArb = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1, 2 ** 32 + 3, 1e39),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
  );
  it('property: accepted iff in the domain as rendered; refused with a typed error naming both', () => {
    fc.assert(
      fc.property(domainArb, valueArb, (d: NumberDomain, v) => {
        const ok =
          typeof v === 'number' &&
          !Number.isNaN(v) &&
          (d.finite === false || Number.isFinite(v)) &&
          (!d.integer || Number.isInteger(v)) &&
          (d.min === undefined || (d.minOpen ? v > d.min : v >= d.min)) &&
          (d.max === undefined || (d.maxOpen ? v < d.max : v <= d.max));
        expect(inDomain(v, d)).toBe(ok);
        if (ok) {
          expect(checkNumber('arg', v, d)).toBe(v);
        } else {
          let err: unknown;
          try {
            checkNumber('arg', v, d);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(UnrolledError);
          expect((err as UnrolledError).code).toBe('INVALID_CONFIG');
          expect((err as Error).message).toContain(`arg: expected ${renderDomain(d)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('DOMAINS', () => {
  it('every upper bound is real: finite except clipping (Infinity = no clipping)', () => {
    for (const [name, d] of Object.entries(DOMAINS)) {
      if (name === 'clipNorm' || name === 'clipValue') {
        expect(d.finite).toBe(false);
        continue;
      }
      expect(d.max, name).toBeDefined();
      expect(Number.isFinite(d.max!), name).toBe(true);
      expect(d.min, name).toBeDefined();
      expect(d.doc, name).toBeTruthy();
    }
  });
  it('sizes fit 32-bit Wasm memory and no index wraps an i32', () => {
    for (const name of [
      'inputSize',
      'vocabSize',
      'hiddenSize',
      'outputSize',
      'T',
      'B',
      'length',
      'padLength',
      'k1',
      'k2',
      'historyFloats',
      'batchFloats',
    ] as const) {
      expect(DOMAINS[name].integer, name).toBe(true);
      expect(DOMAINS[name].max!, name).toBeLessThanOrEqual(2 ** 31 - 1);
    }
    // one weight W_hh (G·H² floats, G ≥ 1) with its gradient and packed copies below one block
    expect(4 * DOMAINS.hiddenSize.max! ** 2).toBeGreaterThanOrEqual(2 ** 28 - 20);
  });
  it('betas exclude 1, eps excludes 0, gamma excludes 0', () => {
    expect(inDomain(1, DOMAINS.beta)).toBe(false);
    expect(inDomain(0.999999, DOMAINS.beta)).toBe(true);
    expect(inDomain(0, DOMAINS.eps)).toBe(false);
    expect(Math.fround(DOMAINS.eps.min!)).toBeGreaterThan(0);
    expect(inDomain(0, DOMAINS.gamma)).toBe(false);
    expect(inDomain(1, DOMAINS.gamma)).toBe(true);
  });
  it('is frozen', () => {
    expect(Object.isFrozen(DOMAINS)).toBe(true);
    expect(Object.isFrozen(DOMAINS.lr)).toBe(true);
  });
});
