// Strict UTF-8, as every text file of unrolled is read: where the first byte that is not
// well-formed UTF-8 is, and the FileError that says so.
import { FileError } from '../errors.js';

/**
 * @internal The byte offset of the first byte that is not part of well-formed UTF-8 (overlong
 * forms, surrogates and code points above U+10FFFF are not), or -1 when all of it is.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number,
      lo = 0x80,
      hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      const min = k === 1 ? lo : 0x80,
        max = k === 1 ? hi : 0xbf;
      if (c === undefined || c < min || c > max) return i; // undefined: cut off at the end of the file
    }
    i += need + 1;
  }
  return -1;
}

/** The FileError of `bytes` (which start at byte `base` of `name`) not being UTF-8, naming the first bad byte. */
export function invalidUtf8(name: string, bytes: Uint8Array, base: number): FileError {
  const at = firstInvalidUtf8(bytes);
  const b = bytes[Math.max(at, 0)] ?? 0;
  return new FileError(
    name,
    `is not valid UTF-8: the byte 0x${b.toString(16).padStart(2, '0')} at offset ${base + at} does not start a well-formed character (save the file as UTF-8)`,
    'EILSEQ',
  );
}
