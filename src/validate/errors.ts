// Error classes the validation module builds. They extend the library's classes, so code that
// catches ConfigError or CheckpointError (or tests `code`) sees them as before.
import { CheckpointError, ConfigError } from '../errors.js';

/** An option object carries a key that is not one of its options. */
export class UnknownKeyError extends ConfigError {
  /** The unknown key as given. */
  readonly key: string;
  /** The nearest valid key, when one is close enough to be a plausible misspelling. */
  readonly suggestion: string | undefined;
  constructor(argument: string, key: string, suggestion: string | undefined, allowed: readonly string[]) {
    super(`${argument}.${key}`, '', '');
    this.key = key;
    this.suggestion = suggestion;
    this.message = unknownKeyMessage(argument, key, suggestion, allowed);
  }
}

/** "options: unknown key 'clipnorm' (did you mean 'clipNorm'?)", or the valid keys when none is near. */
export function unknownKeyMessage(argument: string, key: string, suggestion: string | undefined, allowed: readonly string[]): string {
  return (
    `${argument}: unknown key ${quoteKey(key)} ` +
    (suggestion !== undefined ? `(did you mean '${suggestion}'?)` : `(valid keys: ${allowed.map((k) => `'${k}'`).join(', ')})`)
  );
}

/** A field of a checkpoint outside its domain, with the argument/expected/actual shape of ConfigError. */
export class CheckpointFieldError extends CheckpointError {
  readonly argument: string;
  constructor(argument: string, expected: string, actual: string) {
    super(`${argument}: expected ${expected}, got ${actual}`);
    this.argument = argument;
  }
}

/** A key for a message: quoted, shortened, control characters escaped. */
export function quoteKey(key: string): string {
  const s = JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
  return `'${s.slice(1, -1)}'`;
}
