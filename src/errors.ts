// The one error family of unrolled. Every error a user can cause is an UnrolledError with a
// stable `code`; messages name the argument, what was expected and what was given.

export type ErrorCode =
  | 'INVALID_ARGUMENT' // wrong type, shape, length or value of an argument
  | 'INVALID_CONFIG' // a model / trainer / optimizer configuration that cannot work
  | 'NON_FINITE' // NaN or Infinity in inputs, targets, or a step's loss / gradient norm
  | 'OUT_OF_MEMORY' // the model or batch does not fit 32-bit Wasm memory
  | 'DISPOSED' // the model was disposed
  | 'BUSY' // a call re-entered a model that is in the middle of another call
  | 'NO_FORWARD' // model.backward with no forward pass to differentiate (none, already used, or stale)
  | 'BAD_CHECKPOINT' // a safetensors / checkpoint file that fails validation
  | 'BACKEND' // the Wasm core could not be loaded
  | 'FILE' // a file cannot be read or written (missing, a directory, a loop, no permission, not UTF-8, an input an output would overwrite)
  | 'TIMEOUT' // a request to a worker got no answer within its bound
  | 'BAD_DATA'; // a row of a data file (CSV, JSON Lines) that cannot be read as a sequence

export class UnrolledError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends UnrolledError {
  /** The argument's name, e.g. `batch.x`. */
  readonly argument: string;
  constructor(argument: string, expected: string, actual: string) {
    super('INVALID_ARGUMENT', `${argument}: expected ${expected}, got ${actual}`);
    this.argument = argument;
  }
}

export class ConfigError extends UnrolledError {
  readonly argument: string;
  constructor(argument: string, expected: string, actual: string) {
    super('INVALID_CONFIG', `${argument}: expected ${expected}, got ${actual}`);
    this.argument = argument;
  }
}

export class NonFiniteError extends UnrolledError {
  readonly argument: string;
  constructor(argument: string, detail: string) {
    super('NON_FINITE', `${argument}: ${detail}`);
    this.argument = argument;
  }
}

export class MemoryLimitError extends UnrolledError {
  constructor(message: string) {
    super('OUT_OF_MEMORY', message);
  }
}

export class DisposedError extends UnrolledError {
  constructor(what: string) {
    super('DISPOSED', `${what} was disposed and cannot be used`);
  }
}

export class BusyError extends UnrolledError {
  constructor(what: string) {
    super('BUSY', `${what} is in the middle of another call (re-entrant use is not allowed)`);
  }
}

export class NoForwardError extends UnrolledError {
  constructor(detail: string) {
    super('NO_FORWARD', `model.backward: ${detail}`);
  }
}

export class CheckpointError extends UnrolledError {
  constructor(message: string) {
    super('BAD_CHECKPOINT', message);
  }
}

export class BackendError extends UnrolledError {
  constructor(message: string) {
    super('BACKEND', message);
  }
}

export class FileError extends UnrolledError {
  /** The path as the caller gave it. */
  readonly path: string;
  /** The system's error code (ENOENT, EISDIR, ELOOP, EACCES, ...) when there was one. */
  readonly errno: string | undefined;
  constructor(path: string, detail: string, errno?: string) {
    super('FILE', `${path}: ${detail}`);
    this.path = path;
    this.errno = errno;
  }
}

export class TimeoutError extends UnrolledError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

export class DataError extends UnrolledError {
  /** The file (or the name the caller gave the data). */
  readonly source: string;
  /** 1-based line of the bad row. */
  readonly line: number;
  /** 1-based column (CSV field) or undefined when the whole row is at fault. */
  readonly column: number | undefined;
  constructor(source: string, line: number, column: number | undefined, detail: string) {
    super('BAD_DATA', `${source}:${line}${column === undefined ? '' : `:${column}`}: ${detail}`);
    this.source = source;
    this.line = line;
    this.column = column;
  }
}

/** @internal A short description of a value for error messages: type, length, a number's value. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  return typeof value;
}
