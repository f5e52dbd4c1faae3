// The command line's two error classes. Both are UnrolledErrors (typed, with a stable code), so
// that anything that ends a command is one of the library's errors.
import { UnrolledError } from '../errors.js';

/** A mistake of the user: one line on stderr, exit code 2. */
export class UsageError extends UnrolledError {
  /** The flag or argument at fault, when there is one (e.g. `--lr`). */
  readonly argument: string | undefined;
  constructor(message: string, argument?: string) {
    super('INVALID_ARGUMENT', message);
    this.argument = argument;
  }
}

/** A failure of the environment (e.g. a disk that is full): one line on stderr, exit code 1. */
export class EnvironmentError extends UnrolledError {
  constructor(message: string) {
    super('FILE', message);
  }
}
