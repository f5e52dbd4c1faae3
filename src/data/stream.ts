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
import { checkKeys, checkNumber, copyIds, DOMAINS, inDomain, snapshotObject } from '../validate/index.js';

export interface TokenChunk {
  /** Input ids, time-major [T,B]. Reused: overwritten by the next call of next(). */
  readonly x: Int32Array;
  /** Target ids [T,B]: the token following each input. Reused like x. */
  readonly y: Int32Array;
  readonly T: number;
  readonly B: number;
  /** First chunk of an epoch (the rows start again): do not carry states into this chunk. */
  reset: boolean;
  /** Always time-major, also for a model with batchFirst. */
  readonly layout: 'time-major';
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
export interface StreamPosition {
  epoch: number;
  position: number;
}

/**
 * What TokenStream and TextStream share: where the stream stands (chunk `position` of epoch
 * `epoch`), how a checkpoint reads and restores it, and the step from one chunk to the next.
 */
export abstract class ChunkedStream {
  /** Chunks in one pass over the rows. */
  abstract readonly chunksPerEpoch: number;
  private readonly at: StreamPosition = { epoch: 0, position: 0 };

  /** Completed passes over the rows. */
  get epoch(): number {
    return this.at.epoch;
  }

  /** Index of the chunk the next call returns, in [0, chunksPerEpoch). */
  get position(): number {
    return this.at.position;
  }

  /** Both, for a checkpoint. */
  getPosition(): StreamPosition {
    return { epoch: this.at.epoch, position: this.at.position };
  }

  /** Moves to chunk `position` of the epoch (and sets the epoch counter, if given); both are checked first. */
  setPosition(position: number, epoch: number = this.at.epoch): void {
    if (!Number.isInteger(position) || position < 0 || position >= this.chunksPerEpoch) {
      throw new InvalidArgumentError('position', `an integer in [0, ${this.chunksPerEpoch - 1}]`, describe(position));
    }
    checkNumber('epoch', epoch, DOMAINS.epoch, InvalidArgumentError);
    this.at.position = position;
    this.at.epoch = epoch;
  }

  /**
   * After `chunk` is filled from chunk `position`: marks it `reset` when it starts an epoch, then
   * moves to the next chunk; true when that wraps to chunk 0 of the next epoch.
   * @internal
   */
  protected advance(chunk: TokenChunk): boolean {
    chunk.reset = this.at.position === 0;
    if (++this.at.position < this.chunksPerEpoch) return false;
    this.at.position = 0;
    this.at.epoch++;
    return true;
  }
}

export class TokenStream extends ChunkedStream {
  readonly T: number;
  readonly B: number;
  /** Tokens in each row. */
  readonly rowLength: number;
  /** Chunks in one pass over the rows. */
  readonly chunksPerEpoch: number;
  private readonly tokens: Int32Array;
  private readonly chunk: TokenChunk;

  /**
   * `tokens` is copied into an Int32Array the stream owns (each element read once), so later
   * changes to the caller's array do not reach it.
   */
  constructor(tokens: ArrayLike<number>, options: TokenStreamOptions) {
    super();
    const o = snapshotObject('options', options, 'an object { T, B, vocabSize? }', { ErrorClass: InvalidArgumentError });
    if (o === undefined) throw new InvalidArgumentError('options', 'an object { T, B, vocabSize? }', 'undefined');
    checkKeys('options', o, ['T', 'B', 'vocabSize'], InvalidArgumentError);
    const T = checkNumber('options.T', o.T, DOMAINS.T, InvalidArgumentError);
    const B = checkNumber('options.B', o.B, DOMAINS.B, InvalidArgumentError);
    const vocabSize =
      o.vocabSize === undefined ? undefined : checkNumber('options.vocabSize', o.vocabSize, DOMAINS.vocabSize, InvalidArgumentError);
    // ids live in Int32Arrays: without a vocabulary, anything ≥ 2^31 would wrap
    const owned = copyIds('tokens', tokens, undefined, vocabSize ?? 2 ** 31);
    if (!inDomain(T * B, DOMAINS.batchFloats)) {
      throw new InvalidArgumentError('options', `T·B within ${DOMAINS.batchFloats.max} ids per chunk`, `T ${T}, B ${B}`);
    }
    const rowLength = Math.floor((owned.length - 1) / B);
    if (rowLength < T) {
      throw new InvalidArgumentError(
        'tokens',
        `at least B·T + 1 = ${B * T + 1} tokens for B=${B} rows of T=${T} steps`,
        `${owned.length} tokens`,
      );
    }
    this.T = T;
    this.B = B;
    this.rowLength = rowLength;
    this.chunksPerEpoch = Math.floor(rowLength / T);
    this.tokens = owned;
    this.chunk = { x: new Int32Array(T * B), y: new Int32Array(T * B), T, B, reset: true, layout: 'time-major' };
  }

  /**
   * The next chunk. The returned object and its x and y arrays are the same on every call and
   * are overwritten by the next one (no allocation per step): copy them to keep them.
   */
  next(): TokenChunk {
    const { T, B, rowLength: R, tokens } = this;
    const { x, y } = this.chunk;
    const start = this.position * T;
    for (let t = 0; t < T; t++) {
      const o = t * B;
      for (let b = 0; b < B; b++) {
        const at = b * R + start + t;
        x[o + b] = tokens[at];
        y[o + b] = tokens[at + 1];
      }
    }
    this.advance(this.chunk);
    return this.chunk;
  }
}
