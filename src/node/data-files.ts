// Node only: numeric sequence files (CSV, JSON Lines) read from disk line by line through one file
// handle (src/data/lines.ts), in the layouts of src/data/tables.ts, with the path as the name that
// errors give. readSequenceFile holds the parsed sequences in memory (a SequenceDataset, for
// evaluate() and small files); openSequenceFile holds only an index and reads each batch from the
// file when fit() draws it, for files larger than memory (grouped rows must then be contiguous).
import { extname } from 'node:path';
import { InvalidArgumentError, describe } from '../errors.js';
import type { SequenceDataset } from '../data/dataset.js';
import { readLines } from '../data/lines.js';
import { SequenceFile } from '../data/sequence-file.js';
import { TableReader, type Row, type TableOptions } from '../data/tables.js';
import type { ByteSource } from '../data/text-stream.js';
import { fileSource } from './text-stream.js';

export interface SequenceFileOptions extends Omit<TableOptions, 'source'> {
  /** Default: from the extension (.csv; .jsonl, .ndjson). */
  format?: 'csv' | 'jsonl';
  /** Bytes read at a time (default 1 MiB). */
  chunkBytes?: number;
}

/** The format of `path`: given, or from its extension. */
function formatOf(path: string, options: SequenceFileOptions): 'csv' | 'jsonl' {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('path', 'a non-empty file path', describe(path));
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('options', 'an object { task, ... }', describe(options));
  const ext = extname(path).toLowerCase();
  const format = options.format ?? (ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined);
  if (format !== 'csv' && format !== 'jsonl') {
    throw new InvalidArgumentError(
      'options.format',
      `"csv" or "jsonl" (the extension ${JSON.stringify(ext)} does not tell)`,
      describe(format),
    );
  }
  return format;
}

/** A CSV or JSON Lines file as a dataset in memory; a bad row is a DataError naming the path, the line and the column. */
export async function readSequenceFile(path: string, options: SequenceFileOptions): Promise<SequenceDataset> {
  const format = formatOf(path, options);
  const { format: _, chunkBytes, ...table } = options;
  const reader = new TableReader({ ...table, source: path }, format);
  const source = await fileSource(path);
  try {
    const rows: Row[] = [];
    for await (const piece of readLines(source, { chunkBytes }))
      for (const l of piece) {
        const row = reader.row(l.text, l.line);
        if (row) rows.push(row);
      }
    return reader.dataset(rows);
  } finally {
    await source.close!();
  }
}

/**
 * A CSV or JSON Lines file of any size for fit(): one pass checks every row and indexes the
 * sequences, then batches are read from the file on demand. close() it to close the file.
 */
export async function openSequenceFile(path: string, options: SequenceFileOptions): Promise<SequenceFile> {
  const format = formatOf(path, options);
  const source: ByteSource = await fileSource(path);
  try {
    return await SequenceFile.open(source, { ...options, format, source: path });
  } catch (e) {
    await source.close!();
    throw e;
  }
}
