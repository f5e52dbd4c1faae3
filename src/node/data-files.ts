// Node only: numeric sequence files (CSV, JSON Lines) read from disk into a SequenceDataset. The
// text must be UTF-8 (the same strict reading as every text file of unrolled); the parsing is
// src/data/tables.ts, with the path as the name that errors give.
import { extname } from 'node:path';
import { InvalidArgumentError, describe } from '../errors.js';
import type { SequenceDataset } from '../data/dataset.js';
import { parseCsv, parseJsonl, type TableOptions } from '../data/tables.js';
import { readUtf8File } from './files.js';

export interface SequenceFileOptions extends Omit<TableOptions, 'source'> {
  /** Default: from the extension (.csv; .jsonl, .ndjson). */
  format?: 'csv' | 'jsonl';
}

/** A CSV or JSON Lines file as a dataset; a bad row is a DataError naming the path and the line. */
export async function readSequenceFile(path: string, options: SequenceFileOptions): Promise<SequenceDataset> {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('path', 'a non-empty file path', describe(path));
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('options', 'an object { task, ... }', describe(options));
  const { format: given, ...rest } = options;
  const ext = extname(path).toLowerCase();
  const format = given ?? (ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined);
  if (format !== 'csv' && format !== 'jsonl') {
    throw new InvalidArgumentError(
      'options.format',
      `"csv" or "jsonl" (the extension ${JSON.stringify(ext)} does not tell)`,
      describe(format),
    );
  }
  const text = await readUtf8File(path);
  return (format === 'csv' ? parseCsv : parseJsonl)(text, { ...rest, source: path });
}
