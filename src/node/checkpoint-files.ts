// Node only: training checkpoints on disk. Saving is atomic (src/node/files.ts: temporary file,
// fsync, rename, directory fsync), so a crash at any moment leaves the previous checkpoint or the
// new one, never a torn file; temporary files that a killed process left behind are removed by
// the next save to the same path.
import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError, describe } from '../errors.js';
import {
  checkpointToSafetensors,
  restoreCheckpoint,
  type CheckpointExtra,
  type RestoredCheckpoint,
  type RestoreOptions,
} from '../train/checkpoint.js';
import type { Trainer } from '../train/trainer.js';
import { readFileBytes, resolveWriteTarget, saveSafetensors } from './files.js';

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('path', 'a non-empty file path', describe(path));
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes `<path>.tmp-<pid>-<hex>` files (the temporary files of interrupted saves) whose process
 * is gone. Returns the names removed. Files of running processes are left alone.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  checkPath(path);
  const dir = dirname(path),
    base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const prefix = `${base}.tmp-`;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-f]{12}$/.exec(name.slice(prefix.length));
    if (!m || isAlive(Number(m[1]))) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch {
      // already gone, or not ours to remove
    }
  }
  return removed;
}

/**
 * Writes a checkpoint of `trainer` (and `extra`) to `path` atomically, under saveSafetensors' rules
 * for existing files and symbolic links. Returns its size in bytes.
 */
export async function saveCheckpoint(path: string, trainer: Trainer, extra: CheckpointExtra = {}): Promise<number> {
  checkPath(path);
  const bytes = checkpointToSafetensors(trainer, extra);
  // the temporary files sit next to the file that is replaced (a symbolic link's target)
  await removeStaleTempFiles((await resolveWriteTarget(path)).target);
  await saveSafetensors(path, bytes);
  return bytes.length;
}

/** Reads, validates and restores a checkpoint file (CheckpointError if it is not a valid one). */
export async function loadCheckpoint(path: string, options: RestoreOptions = {}): Promise<RestoredCheckpoint> {
  checkPath(path);
  return restoreCheckpoint(await readFileBytes(path), options);
}
