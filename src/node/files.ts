// Node only: safetensors files on disk. Saving is atomic: the bytes go to a temporary file next
// to the target, which is flushed (fsync) and then renamed over the target, and the directory is
// flushed so that the rename itself survives a power cut. A crash at any point leaves either the
// previous file or the new one, never a torn mix; stray `<path>.tmp-<pid>-<hex>` files may remain.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { InvalidArgumentError, describe } from '../errors.js';
import type { Model } from '../model/model.js';
import { decodeSafetensors, type DecodedSafetensors, type SafetensorsLimits } from '../model/safetensors.js';
import { modelFromSafetensors, modelToSafetensors, type LoadModelOptions, type SaveOptions } from '../model/serialize.js';

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('path', 'a non-empty file path', describe(path));
}

/** @internal The temporary file a save of `path` writes first. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** @internal Step 1 of a save: the bytes in a new temporary file, flushed to disk. Returns its path. */
export async function writeTempFile(path: string, bytes: Uint8Array): Promise<string> {
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx', 0o644); // exclusive: never reuse someone else's file
  try {
    let at = 0;
    while (at < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, at, bytes.length - at, at);
      at += bytesWritten;
    }
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
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
    throw e;
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch {
    return; // e.g. Windows cannot open a directory; the rename is as durable as the platform makes it
  }
  try {
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'ENOTSUP') throw e;
  } finally {
    await fh.close();
  }
}

/** Writes `bytes` to `path` atomically (temporary file, fsync, rename, directory fsync). */
export async function saveSafetensors(path: string, bytes: Uint8Array): Promise<void> {
  checkPath(path);
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('bytes', 'a Uint8Array', describe(bytes));
  if (basename(path) === '') throw new InvalidArgumentError('path', 'a file path (not a directory)', describe(path));
  const tmp = await writeTempFile(path, bytes);
  await commitTempFile(tmp, path);
}

/** Reads and validates a safetensors file (CheckpointError if malformed). */
export async function readSafetensorsFile(path: string, limits: SafetensorsLimits = {}): Promise<DecodedSafetensors> {
  checkPath(path);
  return decodeSafetensors(await readFile(path), limits);
}

/** Saves a model (weights and configuration) atomically as a safetensors file. */
export async function saveModel(model: Model, path: string, extraMetadata?: Record<string, string>, options?: SaveOptions): Promise<void> {
  checkPath(path);
  await saveSafetensors(path, modelToSafetensors(model, extraMetadata, options));
}

/** Loads a model saved by saveModel (or modelToSafetensors). */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  checkPath(path);
  return modelFromSafetensors(await readFile(path), options);
}
