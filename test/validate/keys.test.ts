// Unknown option keys are refused with the nearest valid name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError } from '../../src/errors.js';
import { checkKeys, CheckpointFieldError, editDistance, nearestKey, UnknownKeyError } from '../../src/validate/index.js';

const TRAINER = ['loss', 'optimizer', 'schedule', 'clipNorm', 'clipValue', 'onNonFinite', 'tbptt'];

describe('checkKeys', () => {
  it("names the key and the nearest valid one: 'clipnorm' → 'clipNorm'", () => {
    expect(() => checkKeys('options', { loss: 'mse', clipnorm: 1 }, TRAINER)).toThrow(
      "options: unknown key 'clipnorm' (did you mean 'clipNorm'?)",
    );
    let err: unknown;
    try {
      checkKeys('optimizer', { name: 'adam', weight_decay: 0.1 }, ['name', 'lr', 'betas', 'eps', 'weightDecay']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownKeyError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as UnknownKeyError).code).toBe('INVALID_CONFIG');
    expect((err as UnknownKeyError).key).toBe('weight_decay');
    expect((err as UnknownKeyError).suggestion).toBe('weightDecay');
    expect((err as UnknownKeyError).argument).toBe('optimizer.weight_decay');
    expect(nearestKey('numlayers', ['cell', 'inputSize', 'hiddenSize', 'outputSize', 'numLayers'])).toBe('numLayers');
    expect(nearestKey('hidden_size', ['inputSize', 'hiddenSize', 'outputSize'])).toBe('hiddenSize');
    expect(nearestKey('lR', ['name', 'lr'])).toBe('lr');
  });
  it('lists the valid keys when none is near', () => {
    expect(() => checkKeys('options', { dropout: 0.5 }, ['T', 'B'])).toThrow("options: unknown key 'dropout' (valid keys: 'T', 'B')");
  });
  it('takes another error class (checkpoints)', () => {
    expect(() => checkKeys('unrolled_trainer', { amsgrad: true }, TRAINER, CheckpointFieldError)).toThrow(CheckpointError);
  });
  it('escapes and shortens hostile keys', () => {
    const key = `\n\u0000${'x'.repeat(100000)}`;
    let err: unknown;
    try {
      checkKeys('o', { [key]: 1 }, TRAINER);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).not.toMatch(/\n/);
    expect((err as Error).message.length).toBeLessThan(400);
  });
  it('ignores symbol and non-enumerable keys (they are never read)', () => {
    const o = { loss: 'mse', [Symbol('x')]: 1 };
    Object.defineProperty(o, 'hidden', { value: 1, enumerable: false });
    expect(() => checkKeys('options', o, TRAINER)).not.toThrow();
  });
  it('property: any key outside the list is refused, any subset of the list accepted', () => {
    fc.assert(
      fc.property(fc.subarray(TRAINER), fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }), (good, extra) => {
        const o: Record<string, number> = {};
        for (const k of good) o[k] = 1;
        const unknown = extra.filter((k) => !TRAINER.includes(k));
        for (const k of unknown) o[k] = 1;
        if (unknown.length === 0 || Object.keys(o).every((k) => TRAINER.includes(k)))
          expect(() => checkKeys('o', o, TRAINER)).not.toThrow();
        else expect(() => checkKeys('o', o, TRAINER)).toThrow(UnknownKeyError);
      }),
      { numRuns: 2000 },
    );
  });
  it('editDistance is a case-insensitive Levenshtein distance', () => {
    expect(editDistance('clipnorm', 'clipNorm')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
