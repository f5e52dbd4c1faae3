// Every error class of the library survives the worker boundary as itself: the client rebuilds
// it from its name, so `instanceof` works as in one thread (DataError and NoForwardError were
// once missing from a hand-kept list and came back as plain UnrolledErrors).
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { CheckpointFieldError, UnknownKeyError } from '../../src/validate/index.js';
import { errorFromInfo } from '../../src/worker/client.js';

const classes = [
  ...Object.values(errors).filter(
    (v): v is typeof errors.UnrolledError =>
      typeof v === 'function' && (v === errors.UnrolledError || v.prototype instanceof errors.UnrolledError),
  ),
  UnknownKeyError,
  CheckpointFieldError,
];

describe('errorFromInfo', () => {
  it('finds every error class of errors.ts (the list below is not empty or short)', () => {
    expect(classes.map((c) => c.name)).toEqual(expect.arrayContaining(['DataError', 'NoForwardError', 'FileError', 'TimeoutError']));
    expect(classes.length).toBeGreaterThanOrEqual(15);
  });

  it.each(classes.map((c) => [c.name, c] as const))('rebuilds %s as itself, message and code kept', (name, C) => {
    const e = errorFromInfo({ message: `a ${name}`, code: 'CONFIG', name });
    expect(e).toBeInstanceOf(C);
    expect(e.message).toBe(`a ${name}`);
    expect((e as errors.UnrolledError).code).toBe('CONFIG');
  });

  it('an unknown name with a code is an UnrolledError named so; no code is a TrainingWorkerError', () => {
    const e = errorFromInfo({ message: 'm', code: 'CONFIG', name: 'SomethingNewError' });
    expect(e).toBeInstanceOf(errors.UnrolledError);
    expect(e.name).toBe('SomethingNewError');
    expect(errorFromInfo({ message: 'crash' }).constructor.name).toBe('TrainingWorkerError');
  });
});
