// Text streamed from disk (or a Blob) in small windows gives the same chunks as TokenStream over
// the same text in memory, at character and byte level, across epochs and after setPosition;
// invalid UTF-8 is refused as readUtf8File refuses it (same message, same byte offset).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileError, InvalidArgumentError } from '../../src/errors.js';
import { TokenStream } from '../../src/data/stream.js';
import { TextStream, blobSource, type ByteSource } from '../../src/data/text-stream.js';
import { CharVocab } from '../../src/data/vocab.js';
import { Rng } from '../../src/model/rng.js';
import { readUtf8File } from '../../src/node/files.js';
import { fileSource, openTextFile } from '../../src/node/text-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'unrolled-text-'));
const ALPHABET = ['a', 'b', 'c', ' ', '\n', 'é', 'ß', '日', '本', '😀', '𝄞', '\ufeff'];

function text(n: number, seed: number): string {
  const rng = new Rng(seed);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[rng.int(ALPHABET.length)];
  return s;
}

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** A source that records the largest read, to show the window stays small. */
function counting(src: ByteSource): ByteSource & { largest: number; bytes: number } {
  const c = {
    name: src.name,
    size: src.size,
    largest: 0,
    bytes: 0,
    read: async (offset: number, length: number) => {
      c.largest = Math.max(c.largest, length);
      const r = await src.read(offset, length);
      c.bytes += r.length;
      return r;
    },
    close: () => src.close?.() ?? Promise.resolve(),
  };
  return c;
}

async function expectSameChunks(stream: TextStream, reference: TokenStream, chunks: number): Promise<void> {
  for (let k = 0; k < chunks; k++) {
    const a = await stream.next(),
      b = reference.next();
    expect(a.reset).toBe(b.reset);
    expect([...a.x]).toEqual([...b.x]);
    expect([...a.y]).toEqual([...b.y]);
    expect(stream.getPosition()).toEqual(reference.getPosition());
  }
}

describe('TextStream', () => {
  it('character level: a file many times the window streams the chunks TokenStream makes from the whole text', async () => {
    const t = text(5000, 1);
    const path = file('chars.txt', t);
    for (const chunkBytes of [4, 7, 64, 1000]) {
      const src = counting(await fileSource(path));
      const s = await TextStream.open(src, { T: 13, B: 5, chunkBytes });
      const vocab = CharVocab.fromText(t);
      expect(s.vocab!.chars).toEqual(vocab.chars);
      const ref = new TokenStream(vocab.encode(t), { T: 13, B: 5 });
      expect([s.tokens, s.rowLength, s.chunksPerEpoch]).toEqual([[...t].length, ref.rowLength, ref.chunksPerEpoch]);
      await expectSameChunks(s, ref, Math.floor(ref.chunksPerEpoch * 2.5));
      expect(src.largest).toBeLessThanOrEqual(chunkBytes);
      await s.close();
    }
  });

  it('byte level: ids are the bytes', async () => {
    const t = text(3000, 2);
    const path = file('bytes.txt', t);
    const s = await openTextFile(path, { T: 9, B: 7, level: 'byte', chunkBytes: 16 });
    expect(s.vocabSize).toBe(256);
    const ref = new TokenStream(new TextEncoder().encode(t), { T: 9, B: 7 });
    await expectSameChunks(s, ref, ref.chunksPerEpoch + 3);
    await s.close();
  });

  it('setPosition places every row where TokenStream would be', async () => {
    const t = text(4000, 3);
    const s = await openTextFile(file('pos.txt', t), { T: 11, B: 4, chunkBytes: 32 });
    const ref = new TokenStream(CharVocab.fromText(t).encode(t), { T: 11, B: 4 });
    s.setPosition(17, 3);
    ref.setPosition(17, 3);
    await expectSameChunks(s, ref, ref.chunksPerEpoch);
    await s.close();
  });

  it('a Blob streams the same chunks (blob.slice().arrayBuffer())', async () => {
    const t = text(2000, 4);
    const s = await TextStream.open(blobSource(new Blob([t]), 'corpus.txt'), { T: 8, B: 3, chunkBytes: 10 });
    const ref = new TokenStream(CharVocab.fromText(t).encode(t), { T: 8, B: 3 });
    await expectSameChunks(s, ref, ref.chunksPerEpoch + 2);
  });

  it('a given vocabulary is used, and a character outside it is refused with its byte offset', async () => {
    const path = file('vocab.txt', 'abcabcabcabcabcxabc');
    const s = await openTextFile(path, { T: 2, B: 2, vocab: new CharVocab(['c', 'b', 'a', 'x']) });
    expect([...(await s.next()).x]).toEqual([2, 2, 1, 1]); // rows start at characters 0 and 9, both "a"
    await s.close();
    await expect(openTextFile(path, { T: 2, B: 2, vocab: new CharVocab(['a', 'b', 'c']) })).rejects.toThrow(/\(byte 15\).*U\+0078/);
  });

  it('invalid UTF-8 is refused like readUtf8File refuses it, wherever the windows cut the bytes', async () => {
    const good = new TextEncoder().encode(text(300, 5));
    const cases: [string, Uint8Array][] = [];
    const at = (k: number, bad: number[]) => {
      const b = new Uint8Array([...good.subarray(0, k), ...bad, ...good.subarray(k)]);
      return b;
    };
    // a stray byte, a continuation byte missing in the middle, an overlong form, a surrogate, a character cut off at the end
    const start = good.indexOf(0x61, 100); // an 'a', so the bad bytes start a character
    cases.push(['stray', at(start, [0xff])]);
    cases.push(['missing', at(start, [0xe6, 0x97, 0x61])]);
    cases.push(['overlong', at(start, [0xc0, 0xaf])]);
    cases.push(['surrogate', at(start, [0xed, 0xa0, 0x80])]);
    cases.push(['cut', new Uint8Array([...good, 0xf0, 0x9f, 0x98])]);
    for (const [name, bytes] of cases) {
      const path = file(`bad-${name}.txt`, bytes);
      const want = await readUtf8File(path).catch((e: unknown) => e as FileError);
      expect(want).toBeInstanceOf(FileError);
      for (const chunkBytes of [4, 5, 64]) {
        const got = await openTextFile(path, { T: 3, B: 2, chunkBytes }).catch((e: unknown) => e);
        expect(got, name).toBeInstanceOf(FileError);
        expect((got as FileError).message, name).toBe((want as FileError).message);
        expect((got as FileError).errno).toBe('EILSEQ');
      }
    }
  });

  it('refuses a text too short for B rows of T steps, bad options and missing files', async () => {
    const path = file('short.txt', 'abcdef');
    await expect(openTextFile(path, { T: 3, B: 2 })).rejects.toThrow(/at least B·T \+ 1 = 7 characters/);
    await expect(openTextFile(path, { T: 3, B: 1, chunkBytes: 2 })).rejects.toThrow(/chunkBytes/);
    await expect(openTextFile(path, { T: 3, B: 1, levle: 'byte' } as never)).rejects.toThrow(/levle.*level/);
    await expect(openTextFile(join(dir, 'nope.txt'), { T: 1, B: 1 })).rejects.toBeInstanceOf(FileError);
    await expect(openTextFile(dir, { T: 1, B: 1 })).rejects.toBeInstanceOf(FileError);
    await expect(TextStream.open({} as never, { T: 1, B: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
