// A character- or byte-level text corpus of any size, read in chunks from a random-access byte
// source (a file handle in Node: src/node/text-stream.ts; a Blob or File in the browser:
// blobSource below), batched exactly as TokenStream batches the same text held in memory.
//
// TokenStream cuts N tokens into B rows of R = floor((N − 1) / B) tokens, row b starting at token
// b·R, and chunk k holds steps k·T … k·T + T of every row. Here the tokens stay on disk:
//
//   1. one pass over the bytes decodes UTF-8 strictly (a bad byte is a FileError with its byte
//      offset, as for every text file of unrolled), counts the N characters, collects the
//      vocabulary (CharVocab's order: sorted by code point) and remembers the byte offset of every
//      `chunkBytes`-th character or so (a sparse index: N / chunkBytes offsets);
//   2. B row readers are placed at the byte offsets of characters b·R (found from the index by
//      decoding forward from the nearest remembered offset);
//   3. each next() advances the B readers in lockstep by T characters. Every reader keeps its own
//      window of at most `chunkBytes` bytes, so memory is about B·chunkBytes whatever the size of
//      the file, and the source is read about once per epoch (plus one byte of overlap per chunk).
//
// At byte level the tokens are the bytes (ids 0 … 255, no decoding, no vocabulary pass needed
// beyond the size) and the offsets are the token indices themselves.
import { FileError, InvalidArgumentError, describe } from '../errors.js';
import { checkKeys, checkNumber, DOMAINS, inDomain, snapshotObject } from '../validate/index.js';
import { ChunkedStream, type TokenChunk } from './stream.js';
import { CharVocab } from './vocab.js';

/** Random access to the bytes of a file or a Blob. */
export interface ByteSource {
  /** What errors call it (the path, or a Blob's name). */
  readonly name: string;
  readonly size: number;
  /** Up to `length` bytes from `offset` (fewer only at the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export interface TextStreamOptions {
  /** Steps per chunk. */
  T: number;
  /** Rows (the batch size). */
  B: number;
  /** 'char' (default): Unicode characters of UTF-8 text; 'byte': the bytes, ids 0 … 255. */
  level?: 'char' | 'byte';
  /** Bytes read at a time by each reader (default 65536). */
  chunkBytes?: number;
  /** Use this vocabulary instead of collecting one (a character outside it is refused). */
  vocab?: CharVocab;
}

/** A Blob or File as a ByteSource (blob.slice(a, b).arrayBuffer()). */
export function blobSource(blob: Blob, name?: string): ByteSource {
  if (typeof Blob === 'undefined' || !(blob instanceof Blob)) throw new InvalidArgumentError('blob', 'a Blob or File', describe(blob));
  const label = name ?? ((blob as Blob & { name?: unknown }).name as string | undefined) ?? 'blob';
  return {
    name: typeof label === 'string' && label !== '' ? label : 'blob',
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, Math.min(blob.size, offset + length)).arrayBuffer()),
  };
}

/** The strict UTF-8 decoder of src/node/files.ts, one byte at a time so that chunks may cut characters anywhere. */
class Utf8Decoder {
  private cp = 0;
  private need = 0;
  private first = true;
  private lo = 0x80;
  private hi = 0xbf;
  private lead = 0;
  /** Byte offset where the character last completed (or being decoded) started. */
  start = 0;

  constructor(private readonly source: string) {}

  /** The code point completed by byte `b` at `offset`, −1 when more bytes are needed. */
  push(b: number, offset: number): number {
    if (this.need === 0) {
      this.start = offset;
      if (b < 0x80) return b;
      this.lead = b;
      this.lo = 0x80;
      this.hi = 0xbf;
      this.first = true;
      if (b >= 0xc2 && b <= 0xdf) {
        this.need = 1;
        this.cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        this.need = 2;
        this.cp = b & 0x0f;
        if (b === 0xe0) this.lo = 0xa0; // overlong
        if (b === 0xed) this.hi = 0x9f; // UTF-16 surrogates
      } else if (b >= 0xf0 && b <= 0xf4) {
        this.need = 3;
        this.cp = b & 0x07;
        if (b === 0xf0) this.lo = 0x90; // overlong
        if (b === 0xf4) this.hi = 0x8f; // above U+10FFFF
      } else this.fail();
      return -1;
    }
    if (b < (this.first ? this.lo : 0x80) || b > (this.first ? this.hi : 0xbf)) this.fail();
    this.first = false;
    this.cp = (this.cp << 6) | (b & 0x3f);
    return --this.need > 0 ? -1 : this.cp;
  }

  /** At the end of the data: a character cut off is an error too. */
  end(): void {
    if (this.need > 0) this.fail();
  }

  // the offset is the first byte of the character that is not well formed, as firstInvalidUtf8 reports it
  private fail(): never {
    throw new FileError(
      this.source,
      `is not valid UTF-8: the byte 0x${this.lead.toString(16).padStart(2, '0')} at offset ${this.start} does not start a well-formed character (save the file as UTF-8)`,
      'EILSEQ',
    );
  }
}

/** Decodes ids from a ByteSource from one offset on, reading `chunkBytes` at a time. */
class RowReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufAt: number; // byte offset of buf[0]
  private i = 0;
  private readonly dec: Utf8Decoder;

  constructor(
    private readonly src: ByteSource,
    pos: number,
    private readonly chunkBytes: number,
    private readonly toId: ((cp: number, offset: number) => number) | null,
  ) {
    this.dec = new Utf8Decoder(src.name);
    this.bufAt = pos;
  }

  /**
   * Writes the next `n` ids to out[at], out[at + stride], ... (or skips them when out is null).
   * The loop only awaits to refill the window, so a chunk costs one promise per refill.
   */
  async read(n: number, out: Int32Array | null, at: number, stride: number): Promise<void> {
    const toId = this.toId,
      dec = this.dec;
    let k = 0;
    while (k < n) {
      if (this.i === this.buf.length) {
        this.bufAt += this.buf.length;
        this.buf = await this.src.read(this.bufAt, this.chunkBytes);
        this.i = 0;
        if (this.buf.length === 0)
          throw new FileError(
            this.src.name,
            `ended at byte ${this.bufAt}, before the characters counted when it was opened (was it changed?)`,
          );
      }
      const buf = this.buf,
        base = this.bufAt;
      let i = this.i;
      while (i < buf.length && k < n) {
        const b = buf[i++];
        let id: number;
        if (!toId) id = b;
        else {
          const cp = dec.push(b, base + i - 1);
          if (cp < 0) continue;
          id = toId(cp, dec.start);
        }
        if (out) out[at + k * stride] = id;
        k++;
      }
      this.i = i;
    }
  }
}

export class TextStream extends ChunkedStream {
  readonly T: number;
  readonly B: number;
  /** The vocabulary (char level), null at byte level. */
  readonly vocab: CharVocab | null;
  /** Ids: vocab.size, or 256 at byte level. */
  readonly vocabSize: number;
  /** Tokens (characters or bytes) in the source. */
  readonly tokens: number;
  readonly rowLength: number;
  readonly chunksPerEpoch: number;
  private readonly chunk: TokenChunk;
  private rows: RowReader[] = [];
  private carry: Int32Array;
  private placed = false;

  private constructor(
    private readonly source: ByteSource,
    o: { T: number; B: number; chunkBytes: number; level: 'char' | 'byte' },
    vocab: CharVocab | null,
    tokens: number,
    private readonly index: { char: number; byte: number }[],
    private readonly toId: ((cp: number, offset: number) => number) | null,
  ) {
    super();
    this.T = o.T;
    this.B = o.B;
    this.vocab = vocab;
    this.vocabSize = vocab ? vocab.size : 256;
    this.tokens = tokens;
    this.rowLength = Math.floor((tokens - 1) / o.B);
    this.chunksPerEpoch = Math.floor(this.rowLength / o.T);
    this.chunk = { x: new Int32Array(o.T * o.B), y: new Int32Array(o.T * o.B), T: o.T, B: o.B, reset: true, layout: 'time-major' };
    this.carry = new Int32Array(o.B);
    this.chunkBytes = o.chunkBytes;
  }

  private readonly chunkBytes: number;

  /** Reads the source once (vocabulary, length, sparse index) and returns the stream at chunk 0. */
  static async open(source: ByteSource, options: TextStreamOptions): Promise<TextStream> {
    const o = snapshotObject('options', options, 'an object { T, B, level?, chunkBytes?, vocab? }', {
      ErrorClass: InvalidArgumentError,
      opaque: ['vocab'],
    });
    if (o === undefined) throw new InvalidArgumentError('options', 'an object { T, B, ... }', 'undefined');
    checkKeys('options', o, ['T', 'B', 'level', 'chunkBytes', 'vocab'], InvalidArgumentError);
    const T = checkNumber('options.T', o.T, DOMAINS.T, InvalidArgumentError);
    const B = checkNumber('options.B', o.B, DOMAINS.B, InvalidArgumentError);
    const level = o.level ?? 'char';
    if (level !== 'char' && level !== 'byte') throw new InvalidArgumentError('options.level', '"char" or "byte"', describe(level));
    const chunkBytes =
      o.chunkBytes === undefined ? 65536 : checkNumber('options.chunkBytes', o.chunkBytes, DOMAINS.chunkBytes, InvalidArgumentError);
    const given = o.vocab as unknown;
    if (given !== undefined && !(given instanceof CharVocab))
      throw new InvalidArgumentError('options.vocab', 'a CharVocab', describe(given));
    if (given !== undefined && level === 'byte')
      throw new InvalidArgumentError('options.vocab', 'nothing at byte level (ids are the bytes)', 'a CharVocab');
    if (!inDomain(T * B, DOMAINS.batchFloats))
      throw new InvalidArgumentError('options', `T·B within ${DOMAINS.batchFloats.max} ids per chunk`, `T ${T}, B ${B}`);
    if (source === null || typeof source !== 'object' || typeof source.read !== 'function' || !Number.isSafeInteger(source.size)) {
      throw new InvalidArgumentError('source', 'a ByteSource { name, size, read(offset, length) }', describe(source));
    }
    const opts = { T, B, chunkBytes, level } as const;
    const need = B * T + 1;
    if (level === 'byte') {
      if (source.size < need)
        throw new InvalidArgumentError(
          'source',
          `at least B·T + 1 = ${need} bytes for B=${B} rows of T=${T} steps`,
          `${source.size} bytes`,
        );
      return new TextStream(source, opts, null, source.size, [], null);
    }
    // pass 1: strict decoding, the set of characters, their count and a sparse index
    const dec = new Utf8Decoder(source.name);
    const seen = new Set<number>();
    const index: { char: number; byte: number }[] = [{ char: 0, byte: 0 }];
    const every = Math.max(1, chunkBytes >> 2);
    let chars = 0;
    const knownIds = given ? idMap(given) : null;
    for (let at = 0; at < source.size; ) {
      const bytes = await source.read(at, chunkBytes);
      if (bytes.length === 0) break;
      for (let i = 0; i < bytes.length; i++) {
        const cp = dec.push(bytes[i], at + i);
        if (cp < 0) continue;
        if (knownIds) knownIds(cp, dec.start, source.name);
        else seen.add(cp);
        chars++;
        if (chars % every === 0) index.push({ char: chars, byte: at + i + 1 });
      }
      at += bytes.length;
    }
    dec.end();
    if (chars < need)
      throw new InvalidArgumentError(
        'source',
        `at least B·T + 1 = ${need} characters for B=${B} rows of T=${T} steps`,
        `${chars} characters`,
      );
    const vocab = given ?? new CharVocab([...seen].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp)));
    const lookup = idMap(vocab);
    return new TextStream(source, opts, vocab, chars, index, (cp, offset) => lookup(cp, offset, source.name));
  }

  /** Moves to chunk `position` of the epoch (readers are placed on the next call of next()). */
  override setPosition(position: number, epoch: number = this.epoch): void {
    super.setPosition(position, epoch);
    this.placed = false;
  }

  /** A reader at token `k`: from the nearest remembered offset at or before it, decoding forward. */
  private async readerAt(k: number): Promise<RowReader> {
    if (!this.toId) return new RowReader(this.source, k, this.chunkBytes, null);
    let lo = 0,
      hi = this.index.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.index[mid].char <= k) lo = mid;
      else hi = mid - 1;
    }
    const r = new RowReader(this.source, this.index[lo].byte, this.chunkBytes, this.toId);
    await r.read(k - this.index[lo].char, null, 0, 0);
    return r;
  }

  /**
   * The next chunk, equal to TokenStream's on the same text. The object and its arrays are
   * reused by the next call, as TokenStream's are.
   */
  async next(): Promise<TokenChunk> {
    const { T, B, rowLength: R } = this;
    if (!this.placed) {
      const start = this.position * T;
      this.rows = await Promise.all(Array.from({ length: B }, (_, b) => this.readerAt(b * R + start)));
      await Promise.all(this.rows.map((r, b) => r.read(1, this.carry, b, 0)));
      this.placed = true;
    }
    const { x, y } = this.chunk;
    // y holds steps 1 … T of every row; x is the carried token and then y shifted by one step
    await Promise.all(this.rows.map((r, b) => r.read(T, y, b, B)));
    for (let b = 0; b < B; b++) {
      x[b] = this.carry[b];
      this.carry[b] = y[(T - 1) * B + b];
    }
    x.set(y.subarray(0, (T - 1) * B), B);
    if (this.advance(this.chunk)) this.placed = false;
    return this.chunk;
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }
}

/** Code point → id of a vocabulary; a character outside it is refused with its byte offset. */
function idMap(vocab: CharVocab): (cp: number, offset: number, name: string) => number {
  const small = new Int32Array(65536).fill(-1);
  const big = new Map<number, number>();
  vocab.chars.forEach((c, i) => {
    const cp = c.codePointAt(0)!;
    if (cp < 65536) small[cp] = i;
    else big.set(cp, i);
  });
  return (cp, offset, name) => {
    const id = cp < 65536 ? small[cp] : (big.get(cp) ?? -1);
    if (id < 0) {
      throw new InvalidArgumentError(
        `${name} (byte ${offset})`,
        `one of the ${vocab.size} characters of the vocabulary`,
        `U+${cp.toString(16).toUpperCase().padStart(4, '0')}, which is not in it`,
      );
    }
    return id;
  };
}
