// Node only: safetensors files on disk. Saving is atomic: the bytes go to a temporary file next
// to the target, which is flushed (fsync) and then renamed over the target, and the directory is
// flushed so that the rename itself survives a power cut. A crash at any point leaves either the
// previous file or the new one, never a torn mix; stray `<path>.tmp-<pid>-<hex>` files may remain.
//
// Rules for the file being replaced:
//   - its permission bits (mode) carry over to the new file; a new file gets 0644 (less the umask);
//   - a symbolic link is followed to the file it names: that file is replaced (atomically, in its
//     own directory) and the link stays a link. A link to nothing, or a loop of links, is refused;
//   - anything but a regular file (a directory, a device, a pipe, a socket) is refused.
// Every failure of the file system is a FileError (code 'FILE') that names the path.
import { randomBytes } from 'node:crypto';
import { lstat, open, readFile, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileError, InvalidArgumentError, describe } from '../errors.js';
import type { Model } from '../model/model.js';
import { decodeSafetensors, type DecodedSafetensors, type SafetensorsLimits } from '../model/safetensors.js';
import { modelToSafetensors, type SaveOptions } from '../model/serialize.js';
import { modelFromSafetensors, type LoadModelOptions } from '../model-file.js';
import { invalidUtf8 } from '../data/utf8.js';

/** @internal (its tests import it from here) */
export { firstInvalidUtf8 } from '../data/utf8.js';

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('path', 'a non-empty file path', describe(path));
  if (path.includes('\0')) throw new InvalidArgumentError('path', 'a file path without NUL characters', describe(path));
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links (a loop of links?)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a component of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'an input/output error of the device',
  EXDEV: 'the temporary file and the target are on different file systems',
  EBUSY: 'the file is busy',
  ETXTBSY: 'the file is busy',
};

/**
 * @internal A system error on `path` as a FileError naming the path (what was being done, why, and
 * the errno); anything that is not a system error is returned unchanged.
 */
export function fileError(e: unknown, path: string, doing: string): unknown {
  if (e instanceof FileError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return e;
  const why =
    REASONS[code] ??
    ((e as Error).message ?? code)
      .split('\n')[0]
      .replace(/^[A-Z0-9]+:\s*/, '')
      .replace(/,\s*\w+\s+'[^']*'.*$/, '');
  return new FileError(path, `cannot ${doing}: ${why} (${code})`, code);
}

/** @internal Reads a whole file; system errors become FileErrors naming `path`. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  checkPath(path);
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw fileError(e, path, 'read');
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * @internal A text file as a string. Its bytes must be well-formed UTF-8: anything else is refused
 * with a FileError that gives the byte offset of the first bad byte (rather than silently
 * replacing it with U+FFFD, which would train on characters that are not in the file). A byte
 * order mark is kept as the character U+FEFF.
 */
export async function readUtf8File(path: string): Promise<string> {
  const bytes = await readFileBytes(path);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw invalidUtf8(path, bytes, 0);
  }
}

/** @internal The identity of an existing file (symbolic links followed), or null when there is none. */
export async function fileIdentity(path: string): Promise<{ real: string; dev: number; ino: number } | null> {
  try {
    const real = await realpath(path);
    const s = await stat(real);
    return { real, dev: s.dev, ino: s.ino };
  } catch {
    return null;
  }
}

/**
 * @internal Where a save of `path` goes (symbolic links followed) and the mode to give the new file
 * (the replaced file's permission bits; null for a new file). FileError when the path cannot be
 * written under the rules above.
 */
export async function resolveWriteTarget(path: string): Promise<{ target: string; mode: number | null }> {
  checkPath(path);
  if (basename(path) === '' || path.endsWith('/') || path.endsWith('\\'))
    throw new FileError(path, 'cannot write: expected a file path, got a directory path', 'EISDIR');
  let link: Stats;
  try {
    link = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, path, 'write');
    // a new file: its directory must exist and be a directory
    const dir = dirname(path);
    let d: Stats;
    try {
      d = await stat(dir);
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'ENOENT')
        throw new FileError(path, `cannot write: the directory ${dir} does not exist (ENOENT)`, 'ENOENT');
      throw fileError(e2, path, 'write');
    }
    if (!d.isDirectory()) throw new FileError(path, `cannot write: ${dir} is not a directory`, 'ENOTDIR');
    return { target: path, mode: null };
  }
  let target = path;
  let s = link;
  if (link.isSymbolicLink()) {
    try {
      target = await realpath(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw new FileError(
          path,
          'cannot write: it is a symbolic link to a file that does not exist (refused: write to the target path itself)',
          'ENOENT',
        );
      throw fileError(e, path, 'write');
    }
    try {
      s = await stat(target);
    } catch (e) {
      throw fileError(e, path, 'write');
    }
  }
  if (s.isDirectory()) throw new FileError(path, 'cannot write: is a directory', 'EISDIR');
  if (!s.isFile()) throw new FileError(path, 'cannot write: not a regular file (a device, pipe or socket is never replaced)', 'EINVAL');
  return { target, mode: s.mode & 0o7777 };
}

/** @internal The temporary file a save of `path` writes first. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/**
 * @internal Step 1 of a save: the bytes in a new temporary file next to `path`, with `mode` (when
 * given) and flushed to disk. Returns its path.
 */
export async function writeTempFile(path: string, bytes: Uint8Array, mode: number | null = null): Promise<string> {
  const tmp = tempPathFor(path);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx', 0o644); // exclusive: never reuse someone else's file
  } catch (e) {
    throw fileError(e, path, 'write');
  }
  try {
    let at = 0;
    while (at < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, at, bytes.length - at, at);
      at += bytesWritten;
    }
    // the umask does not apply to chmod: the new file gets exactly the old one's bits
    if (mode !== null) await fh.chmod(mode);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw fileError(e, path, 'write');
  }
  await fh.close();
  return tmp;
}

/** @internal Step 2 of a save: the temporary file renamed over the target, the directory flushed. */
export async function commitTempFile(tmp: string, path: string): Promise<void> {
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw fileError(e, path, 'write');
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(dir, 'r');
  } catch {
    return; // e.g. Windows cannot open a directory; the rename is as durable as the platform makes it
  }
  try {
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'ENOTSUP') throw fileError(e, dir, 'flush the directory');
  } finally {
    await fh.close();
  }
}

/**
 * Writes `bytes` to `path` atomically (temporary file, fsync, rename, directory fsync). An existing
 * file keeps its permission bits; a symbolic link is followed and the file it names is replaced
 * (the link stays); a link to nothing, a loop of links, a directory or a device is refused.
 * Failures are FileErrors (code 'FILE') that name the path.
 */
export async function saveSafetensors(path: string, bytes: Uint8Array): Promise<void> {
  checkPath(path);
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('bytes', 'a Uint8Array', describe(bytes));
  const { target, mode } = await resolveWriteTarget(path);
  try {
    const tmp = await writeTempFile(target, bytes, mode);
    await commitTempFile(tmp, target);
  } catch (e) {
    // name the path the caller gave, not the link's target
    if (e instanceof FileError && e.path !== path) throw new FileError(path, e.message.slice(e.path.length + 2), e.errno);
    throw e;
  }
}

/** Reads and validates a safetensors file (CheckpointError if malformed, FileError if unreadable). */
export async function readSafetensorsFile(path: string, limits: SafetensorsLimits = {}): Promise<DecodedSafetensors> {
  checkPath(path);
  return decodeSafetensors(await readFileBytes(path), limits);
}

/** Saves a model (weights and configuration) atomically as a safetensors file. */
export async function saveModel(model: Model, path: string, extraMetadata?: Record<string, string>, options?: SaveOptions): Promise<void> {
  checkPath(path);
  await saveSafetensors(path, modelToSafetensors(model, extraMetadata, options));
}

/** Loads a model saved by saveModel (or modelToSafetensors). */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  checkPath(path);
  return modelFromSafetensors(await readFileBytes(path), options);
}
