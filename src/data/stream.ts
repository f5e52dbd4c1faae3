// Stateful truncated-BPTT batching of one long token stream, as in char-rnn.
//
// The stream of N tokens is cut into B contiguous rows of R = floor((N − 1) / B) tokens each
// (row b starts at token b·R). Each call of next() returns the next T steps of every row,
// time-major: x[t·B + b] = row b's token at the chunk's step t and y[t·B + b] = the token after
// it. Chunk k of row b therefore continues exactly where chunk k − 1 of the same row stopped, so
// the final state of row b after one chunk is the right initial state of row b in the next one
// (stateful TBPTT, docs/equations.md#truncated-bptt with k1 = k2 = T).
//
// An epoch is floor(R / T) chunks; the tail of each row that does not fill a whole chunk is
// skipped. After the last chunk the rows wrap to their starts: that chunk's successor has
// `reset: true` (as does the very first chunk), which tells the caller to start from zero
// states instead of carrying them over.
//
//     tokens:  [ row 0 ........ | row 1 ........ | ... | row B−1 ....... | rest ]
//     chunk k: x = steps k·T .. k·T+T−1 of every row, y = the same shifted by one token
import { InvalidArgumentError, describe } from '../errors.js';

export interface TokenChunk {
  /** Input ids, time-major [T,B]. Reused: overwritten by the next call of next(). */
  readonly x: Int32Array;
  /** Target ids [T,B]: the token following each input. Reused like x. */
  readonly y: Int32Array;
  readonly T: number;
  readonly B: number;
  /** First chunk of an epoch (the rows start again): do not carry states into this chunk. */
  reset: boolean;
}

export interface TokenStreamOptions {
  /** Steps per chunk (the truncation length). */
  T: number;
  /** Rows, i.e. the batch size. */
  B: number;
  /** Ids must be < vocabSize (checked once, up front). Optional. */
  vocabSize?: number;
}

/** The position of a stream, for checkpoints: restore with setPosition(position, epoch). */
export interface StreamPosition { epoch: number; position: number }

export class TokenStream {
  readonly T: number;
  readonly B: number;
  /** Tokens in each row. */
  readonly rowLength: number;
  /** Chunks in one pass over the rows. */
  readonly chunksPerEpoch: number;
  private readonly tokens: Int32Array;
  private readonly chunk: TokenChunk;
  private _epoch = 0;
  private _position = 0;

  /**
   * `tokens` is copied into an Int32Array unless it already is one (then it is used in place
   * and must not change while the stream is in use).
   */
  constructor(tokens: ArrayLike<number>, options: TokenStreamOptions) {
    if (!isNumbers(tokens)) throw new InvalidArgumentError('tokens', 'an array or typed array of token ids', describe(tokens));
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object { T, B }', describe(options));
    const { T, B, vocabSize } = options;
    positiveInt('options.T', T);
    positiveInt('options.B', B);
    if (vocabSize !== undefined) positiveInt('options.vocabSize', vocabSize);
    const limit = vocabSize ?? 0x7fffffff;
    for (let i = 0; i < tokens.length; i++) {
      const v = tokens[i];
      if (!Number.isInteger(v) || v < 0 || v >= limit) {
        throw new InvalidArgumentError(`tokens[${i}]`, `an integer id in [0, ${limit - 1}]`, describe(v));
      }
    }
    const rowLength = Math.floor((tokens.length - 1) / B);
    if (rowLength < T) {
      throw new InvalidArgumentError('tokens', `at least B·T + 1 = ${B * T + 1} tokens for B=${B} rows of T=${T} steps`, `${tokens.length} tokens`);
    }
    this.T = T;
    this.B = B;
    this.rowLength = rowLength;
    this.chunksPerEpoch = Math.floor(rowLength / T);
    this.tokens = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    this.chunk = { x: new Int32Array(T * B), y: new Int32Array(T * B), T, B, reset: true };
  }

  /** Completed passes over the rows. */
  get epoch(): number { return this._epoch; }

  /** Index of the chunk the next call returns, in [0, chunksPerEpoch). */
  get position(): number { return this._position; }

  /** Both, for a checkpoint. */
  getPosition(): StreamPosition { return { epoch: this._epoch, position: this._position }; }

  /** Moves to chunk `position` of the epoch (and sets the epoch counter, if given). */
  setPosition(position: number, epoch: number = this._epoch): void {
    if (!Number.isInteger(position) || position < 0 || position >= this.chunksPerEpoch) {
      throw new InvalidArgumentError('position', `an integer in [0, ${this.chunksPerEpoch - 1}]`, describe(position));
    }
    if (!Number.isInteger(epoch) || epoch < 0) throw new InvalidArgumentError('epoch', 'an integer ≥ 0', describe(epoch));
    this._position = position;
    this._epoch = epoch;
  }

  /**
   * The next chunk. The returned object and its x and y arrays are the same on every call and
   * are overwritten by the next one (no allocation per step): copy them to keep them.
   */
  next(): TokenChunk {
    const { T, B, rowLength: R, tokens } = this;
    const { x, y } = this.chunk;
    const start = this._position * T;
    for (let t = 0; t < T; t++) {
      const o = t * B;
      for (let b = 0; b < B; b++) {
        const at = b * R + start + t;
        x[o + b] = tokens[at];
        y[o + b] = tokens[at + 1];
      }
    }
    this.chunk.reset = this._position === 0;
    if (++this._position === this.chunksPerEpoch) {
      this._position = 0;
      this._epoch++;
    }
    return this.chunk;
  }
}

function positiveInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InvalidArgumentError(name, 'an integer ≥ 1', describe(v));
}

function isNumbers(v: unknown): v is ArrayLike<number> {
  return (ArrayBuffer.isView(v) && !(v instanceof DataView)) || Array.isArray(v);
}
