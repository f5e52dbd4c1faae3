// The data flags of `unrolled fit` and `unrolled eval MODEL --csv/--jsonl` (--csv, --jsonl,
// --target, --at, --group-by, --features, --targets, --label), and reading the file they name
// with its mistakes turned into one-line usage errors.
import type { SequenceDataset } from '../data/dataset.js';
import { DataError, FileError } from '../errors.js';
import { readSequenceFile, type SequenceFileOptions } from '../node/data-files.js';
import { type Flags, UsageError } from './args.js';

/** The file and how to read it, from the data flags; null when neither --csv nor --jsonl is given. */
export function dataFlags(f: Flags): { path: string; options: SequenceFileOptions } | null {
  const csv = f.file('csv'),
    jsonl = f.file('jsonl');
  if (csv !== undefined && jsonl !== undefined) f.fail('give --csv or --jsonl, not both', '--jsonl');
  const path = csv ?? jsonl;
  const list = (flag: 'features' | 'targets'): string[] | undefined => {
    const v = f.str(flag);
    if (v === undefined) return undefined;
    const names = v.split(',').map((s) => s.trim());
    if (names.some((n) => n === '')) f.fail(`--${flag}: expected column names separated by commas, got ${JSON.stringify(v)}`, `--${flag}`);
    return names;
  };
  const groupBy = f.str('group-by');
  if (groupBy !== undefined && groupBy.trim() === '') f.fail('--group-by needs a column name', '--group-by');
  for (const flag of ['features', 'targets'] as const)
    if (f.has(flag) && groupBy === undefined) f.fail(`--${flag} needs --group-by (it names the columns of grouped rows)`, `--${flag}`);
  if (path === undefined) {
    for (const flag of ['target', 'at', 'group-by', 'features', 'targets', 'label'] as const)
      if (f.has(flag)) f.fail(`--${flag} describes a --csv or --jsonl file; give one`, `--${flag}`);
    return null;
  }
  const target = f.choice<'values' | 'classes'>('target');
  const options: SequenceFileOptions = {
    format: csv !== undefined ? 'csv' : 'jsonl',
    task: target === 'classes' ? 'classification' : 'regression',
    ...(f.has('at') ? { at: f.choice<'every' | 'last'>('at') } : {}),
    ...(groupBy !== undefined ? { groupBy: groupBy.trim() } : {}),
    ...(list('features') ? { features: list('features') } : {}),
    ...(list('targets') ? { targets: list('targets') } : {}),
    ...(f.has('label') ? { label: f.choice<'first' | 'last'>('label') } : {}),
  };
  return { path, options };
}

/** Its mistakes (a bad row, a missing file, a layout the flags contradict) are usage errors. */
export async function asUsageError<T>(command: string, read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof DataError || e instanceof FileError) throw new UsageError(`${command}: ${e.message}`);
    throw e;
  }
}

/** The data file in memory (eval). */
export const readData = (command: string, path: string, options: SequenceFileOptions): Promise<SequenceDataset> =>
  asUsageError(command, readSequenceFile(path, options));
