// Node only: a text file of any size as a TextStream (src/data/text-stream.ts), read through one
// file handle with positioned reads, so that nothing but the readers' windows is ever in memory.
import { open } from 'node:fs/promises';
import { InvalidArgumentError, describe } from '../errors.js';
import { TextStream, type ByteSource, type TextStreamOptions } from '../data/text-stream.js';
import { fileError } from './files.js';

/** A file as a ByteSource; close() closes its handle. */
export async function fileSource(path: string): Promise<ByteSource> {
  if (typeof path !== 'string' || path === '' || path.includes('\0'))
    throw new InvalidArgumentError('path', 'a non-empty file path', describe(path));
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw fileError(e, path, 'open it');
  }
  const fh = handle;
  try {
    const s = await fh.stat();
    if (!s.isFile())
      throw fileError(Object.assign(new Error('not a regular file'), { code: s.isDirectory() ? 'EISDIR' : 'EINVAL' }), path, 'read it');
    let closed = false;
    return {
      name: path,
      size: s.size,
      read: async (offset, length) => {
        const buf = new Uint8Array(Math.max(0, Math.min(length, s.size - offset)));
        let got = 0;
        try {
          // a positioned read may return fewer bytes than asked for before the end
          while (got < buf.length) {
            const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
        } catch (e) {
          throw fileError(e, path, 'read it');
        }
        return got === buf.length ? buf : buf.subarray(0, got);
      },
      close: async () => {
        if (!closed) {
          closed = true;
          await fh.close();
        }
      },
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Opens `path` as a TextStream (character or byte level); close() the stream to close the file. */
export async function openTextFile(path: string, options: TextStreamOptions): Promise<TextStream> {
  const source = await fileSource(path);
  try {
    return await TextStream.open(source, options);
  } catch (e) {
    await source.close!();
    throw e;
  }
}
