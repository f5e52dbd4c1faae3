import { describe, expect, it } from 'vitest';
import { CharVocab } from '../../src/data/vocab.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('CharVocab', () => {
  it('is the sorted set of distinct characters, independent of their order in the text', () => {
    const v = CharVocab.fromText('hello world');
    expect(v.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(v.size).toBe(8);
    expect(CharVocab.fromText('dlrow olleh').chars).toEqual(v.chars);
  });

  it('encodes and decodes round trip', () => {
    const text = 'the cat sat\non the mat.';
    const v = CharVocab.fromText(text);
    const ids = v.encode(text);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBe(text.length);
    expect(Math.max(...ids)).toBeLessThan(v.size);
    expect(v.decode(ids)).toBe(text);
    expect(v.idOf('t')).toBe(v.chars.indexOf('t'));
  });

  it('treats a character outside the BMP as one id', () => {
    const text = 'a😀b😀';
    const v = CharVocab.fromText(text);
    expect(v.size).toBe(3);
    const ids = v.encode(text);
    expect(ids.length).toBe(4);
    expect(v.decode(ids)).toBe(text);
  });

  it('rejects unknown characters and bad ids with InvalidArgumentError', () => {
    const v = CharVocab.fromText('abc');
    expect(() => v.encode('abx')).toThrow(InvalidArgumentError);
    expect(() => v.encode('abx')).toThrow(/character 2.*"x"/);
    expect(() => v.idOf('z')).toThrow(InvalidArgumentError);
    expect(() => v.decode([0, 3])).toThrow(/ids\[1\]/);
    expect(() => v.decode([0.5])).toThrow(InvalidArgumentError);
    expect(() => CharVocab.fromText('')).toThrow(InvalidArgumentError);
    expect(() => new CharVocab(['a', 'a'])).toThrow(/distinct/);
    expect(() => new CharVocab(['ab'])).toThrow(/single character/);
  });

  it('survives toJSON / fromJSON (object and string)', () => {
    const v = CharVocab.fromText('zyx wvu\t!');
    const json = v.toJSON();
    expect(json.type).toBe('char');
    expect(CharVocab.fromJSON(json).chars).toEqual(v.chars);
    const back = CharVocab.fromJSON(JSON.stringify(v));
    expect(back.encode('x w!')).toEqual(v.encode('x w!'));
    expect(() => CharVocab.fromJSON({ type: 'word', chars: [] } as never)).toThrow(InvalidArgumentError);
    expect(() => CharVocab.fromJSON('{nope')).toThrow(InvalidArgumentError);
  });
});
