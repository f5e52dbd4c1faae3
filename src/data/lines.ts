// The lines of a text read piece by piece from a ByteSource (a file handle in Node, a Blob or File
// in the browser), so that a file of any size is read in memory of about one piece. A newline
// byte never occurs inside a multi-byte UTF-8 character, so the complete lines of a piece decode
// on their own; the unfinished last line is carried into the next piece. The text must be UTF-8
// (the strict reading of every text file of unrolled: a bad byte is a FileError with its offset).
import { FileError } from '../errors.js';
import { invalidUtf8 } from './utf8.js';
import type { ByteSource } from './text-stream.js';

/** One line: its text (without "\n" or "\r\n"), its 1-based number and its bytes [offset, end). */
export interface SourceLine {
  text: string;
  line: number;
  offset: number;
  end: number;
}

export interface LineRange {
  /** Bytes read at a time (default 1 MiB); a longer line is read whole. */
  chunkBytes?: number;
  /** Where to start (default 0; a line must start there) and stop (default the end). */
  from?: number;
  to?: number;
  /** The number of the line at `from` (default 1). */
  firstLine?: number;
}

const strict = new TextDecoder('utf-8', { fatal: true });
const NEWLINE = 0x0a;

/**
 * The lines of `source` in order (blank ones included), the complete lines of each piece read
 * together (one await per piece, not per line); a byte order mark at offset 0 is dropped.
 */
export async function* readLines(source: ByteSource, range: LineRange = {}): AsyncGenerator<SourceLine[]> {
  const chunkBytes = range.chunkBytes ?? 1 << 20;
  const to = Math.min(range.to ?? source.size, source.size);
  let at = range.from ?? 0; // offset of the next byte to read
  let line = range.firstLine ?? 1;
  let carry: Uint8Array = new Uint8Array(0); // the unfinished line's bytes so far
  let carryAt = at; // its offset
  while (at < to || carry.length > 0) {
    const piece = at < to ? await source.read(at, Math.min(chunkBytes, to - at)) : new Uint8Array(0);
    if (at < to && piece.length === 0)
      throw new FileError(source.name, `ended at byte ${at}, before its size ${source.size} (was it changed?)`);
    at += piece.length;
    const bytes = carry.length === 0 ? piece : concat(carry, piece);
    const base = carryAt;
    const last = at >= to ? bytes.length : bytes.lastIndexOf(NEWLINE) + 1; // bytes of complete lines
    if (last === 0) {
      carry = bytes; // no line ends in this piece yet
      continue;
    }
    const text = decode(source.name, bytes, last, base);
    const lines: SourceLine[] = [];
    let start = 0,
      byte = 0;
    while (start <= text.length && byte < last) {
      let stop = text.indexOf('\n', start);
      if (stop < 0) stop = text.length;
      let endByte = bytes.indexOf(NEWLINE, byte);
      if (endByte < 0 || endByte >= last) endByte = last;
      let s = text.slice(start, stop);
      if (s.endsWith('\r')) s = s.slice(0, -1);
      if (base + byte === 0 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      lines.push({ text: s, line: line++, offset: base + byte, end: base + Math.min(endByte + 1, last) });
      start = stop + 1;
      byte = endByte + 1;
    }
    yield lines;
    carry = bytes.subarray(last);
    carryAt = base + last;
    if (at >= to) break;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** bytes[0, n) as text; a FileError names the first byte that is not UTF-8 by its offset in the source. */
function decode(name: string, bytes: Uint8Array, n: number, base: number): string {
  try {
    return strict.decode(bytes.subarray(0, n));
  } catch {
    throw invalidUtf8(name, bytes.subarray(0, n), base);
  }
}
