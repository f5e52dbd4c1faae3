// A character vocabulary: every distinct character of a text, sorted by code point, numbered
// from 0. The order depends only on the set of characters, never on where they first appear,
// so the same text (or any text with the same characters) always gives the same ids.
// Characters are Unicode code points: a character outside the BMP (an emoji) is one id.
import { InvalidArgumentError, describe } from '../errors.js';

/** The serialised form of a CharVocab (JSON-safe). */
export interface CharVocabJSON {
  type: 'char';
  /** The characters in id order. */
  chars: string[];
}

export class CharVocab {
  /** The characters in id order (id i is chars[i]). */
  readonly chars: readonly string[];
  private readonly ids: Map<string, number>;

  /** Builds from characters in id order; they must be distinct single code points. */
  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars)) throw new InvalidArgumentError('chars', 'an array of characters', describe(chars));
    const ids = new Map<string, number>();
    chars.forEach((c, i) => {
      if (typeof c !== 'string' || [...c].length !== 1) {
        throw new InvalidArgumentError(`chars[${i}]`, 'a single character', describe(c));
      }
      if (ids.has(c)) throw new InvalidArgumentError(`chars[${i}]`, 'distinct characters', `a second ${JSON.stringify(c)}`);
      ids.set(c, i);
    });
    this.chars = Object.freeze([...chars]);
    this.ids = ids;
  }

  /** Every distinct character of `text`, sorted by code point. */
  static fromText(text: string): CharVocab {
    if (typeof text !== 'string') throw new InvalidArgumentError('text', 'a string', describe(text));
    if (text.length === 0) throw new InvalidArgumentError('text', 'at least one character', 'an empty string');
    const seen = new Set<string>();
    for (const c of text) seen.add(c);
    const chars = [...seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharVocab(chars);
  }

  /** Number of ids (the model's inputSize and outputSize). */
  get size(): number {
    return this.chars.length;
  }

  /** True when `char` has an id. */
  has(char: string): boolean {
    return this.ids.has(char);
  }

  /** The id of one character; throws an InvalidArgumentError for an unknown one. */
  idOf(char: string): number {
    const id = this.ids.get(char);
    if (id === undefined) throw new InvalidArgumentError('char', `one of the ${this.size} characters of the vocabulary`, unknown(char));
    return id;
  }

  /** The ids of every character of `text`; an unknown character throws an InvalidArgumentError naming its position. */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new InvalidArgumentError('text', 'a string', describe(text));
    const out = new Int32Array(text.length); // ≥ the number of code points
    let n = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) {
        throw new InvalidArgumentError(`text (character ${n})`, `one of the ${this.size} characters of the vocabulary`, unknown(c));
      }
      out[n++] = id;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /** The text of a sequence of ids; an id outside [0, size) throws an InvalidArgumentError. */
  decode(ids: ArrayLike<number>): string {
    if (!isNumbers(ids)) throw new InvalidArgumentError('ids', 'an array or typed array of ids', describe(ids));
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.chars.length) {
        throw new InvalidArgumentError(`ids[${i}]`, `an integer id in [0, ${this.chars.length - 1}]`, describe(id));
      }
      s += this.chars[id];
    }
    return s;
  }

  toJSON(): CharVocabJSON {
    return { type: 'char', chars: [...this.chars] };
  }

  static fromJSON(json: CharVocabJSON | string): CharVocab {
    let v: unknown = json;
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        throw new InvalidArgumentError('json', 'a JSON string of a CharVocab', describe(json));
      }
    }
    if (v === null || typeof v !== 'object' || (v as CharVocabJSON).type !== 'char' || !Array.isArray((v as CharVocabJSON).chars)) {
      throw new InvalidArgumentError('json', '{ type: "char", chars: [...] }', describe(v));
    }
    return new CharVocab((v as CharVocabJSON).chars);
  }
}

function unknown(c: string): string {
  const cp = c.codePointAt(0)!;
  return `${JSON.stringify(c)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}), which is not in it`;
}

function isNumbers(v: unknown): v is ArrayLike<number> {
  return (ArrayBuffer.isView(v) && !(v instanceof DataView)) || Array.isArray(v);
}
